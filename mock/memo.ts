// The hot path's memo: gateways repeat the same few paths, keys, bodies and header values, so a
// pure function of a string is computed once per distinct input. Bounded by clearing wholesale
// when full: a stream of distinct inputs cannot grow it, and a hit costs no eviction bookkeeping.
export function memoise<V>(max: number, compute: (key: string) => V): (key: string) => V {
  const memo = new Map<string, V>();
  return (key) => {
    let v = memo.get(key);
    if (v === undefined) {
      v = compute(key);
      if (memo.size >= max) memo.clear();
      memo.set(key, v);
    }
    return v;
  };
}
