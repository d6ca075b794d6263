// The cut-off bench's figures: per proxy, counts and the rate with its 95% interval, as a Markdown
// table (it goes into fixtures/local/FINDINGS.md as printed).

export type Row = {
  proxy: string;
  streams: number;
  complete: number;
  cutOff: number;
  /** Refusals, timeouts, failed plain requests: not cut-offs, but they make the run suspect. */
  errors: number;
  /** Streams of this proxy the mock journaled as `aborted` (the proxy closed while it was sending). */
  mockAborted: number;
  /** Streams of this proxy the mock saw at all. */
  mockStreams: number;
  /** `ReverseProxy read error during body copy` lines in the proxy's log. */
  logBodyCopyErrors: number;
};

/** Wilson score interval (95%) for k of n: honest near 0, where k/n ± … is not. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const d = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / d;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;

/** "1 in 200" style, as the profile words it; "0 in 600" when none. */
export function oneIn(k: number, n: number): string {
  return k === 0 ? `0 in ${n}` : `1 in ${Math.round(n / k)}`;
}

export function renderTable(rows: Row[]): string {
  const head = ['proxy', 'streams', 'complete', 'cut off', 'rate', '95% interval', 'other errors', 'mock: aborted by proxy', 'log: body-copy errors'];
  const lines = rows.map((r) => {
    const [lo, hi] = wilson(r.cutOff, r.streams);
    return [
      r.proxy,
      String(r.streams),
      String(r.complete),
      String(r.cutOff),
      `${pct(r.streams ? r.cutOff / r.streams : 0)} (${oneIn(r.cutOff, r.streams)})`,
      `${pct(lo)} – ${pct(hi)}`,
      String(r.errors),
      `${r.mockAborted} of ${r.mockStreams}`,
      String(r.logBodyCopyErrors),
    ];
  });
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(width[i]!)).join(' | ')} |`;
  return [row(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...lines.map(row)].join('\n');
}
