// How a YAML profile's values become helm values for one run: the `when:` overlays whose wiring is
// present are merged over the base values, then `${wiring.…}` / `${image.…}` placeholders are
// replaced. A placeholder that is the whole string keeps the value's type (a port stays a number);
// inside a longer string, or in a map key, it is interpolated as text.
import type { MockWiring } from './types.ts';

export type Values = Record<string, unknown>;

/** Wiring a `when:` overlay can ask for; present means set and not false. */
export const CONDITIONS = ['databaseUrl', 'database', 'cache', 'namespace', 'saltKey', 'gatewayApi'] as const;
export type Condition = (typeof CONDITIONS)[number];

export interface Overlay {
  has: Condition;
  values: Values;
}

/** Placeholders every run has (the derived `mock.*` fields spare a profile parsing the URL). */
const ALWAYS = ['wiring.mockUrl', 'wiring.providerKey', 'wiring.adminKey', 'wiring.model', 'wiring.mock.host', 'wiring.mock.port'];
/** Placeholders that exist only when a condition holds: usable in that condition's overlay. */
const WHEN: Record<Condition, string[]> = {
  databaseUrl: ['wiring.databaseUrl'],
  database: ['wiring.database.host', 'wiring.database.port', 'wiring.database.name', 'wiring.database.user'],
  cache: ['wiring.cache.host', 'wiring.cache.port', 'wiring.cache.portString', 'wiring.cache.password'],
  namespace: ['wiring.namespace'],
  saltKey: ['wiring.saltKey'],
  gatewayApi: ['wiring.gatewayApi'],
};
export const IMAGE_PLACEHOLDERS = ['image.repository', 'image.tag'];

/** The placeholders a value may use: always-present wiring, plus what its overlay's condition brings. */
export function placeholdersFor(has?: Condition): string[] {
  return has ? [...ALWAYS, ...WHEN[has]] : ALWAYS;
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Maps merge, everything else (lists included) is replaced, and null is kept: in helm values a null
 * deletes the chart's default, so it must reach helm (unlike scripts/cluster/values.ts's mergeValues,
 * which computes what helm ends up with).
 */
export function deepMerge(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isMap(v) && isMap(out[k]) ? deepMerge(out[k] as Values, v) : v;
  return out;
}

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const WHOLE = /^\$\{([^}]*)\}$/;

/** Every placeholder name used in a tree, with the dotted path where it appears. */
export function placeholdersIn(tree: unknown, path = ''): { path: string; name: string }[] {
  const found: { path: string; name: string }[] = [];
  const scan = (s: string, at: string) => {
    for (const m of s.matchAll(PLACEHOLDER)) found.push({ path: at, name: m[1]!.trim() });
  };
  if (typeof tree === 'string') scan(tree, path);
  else if (Array.isArray(tree)) tree.forEach((v, i) => found.push(...placeholdersIn(v, `${path}[${i}]`)));
  else if (isMap(tree)) {
    for (const [k, v] of Object.entries(tree)) {
      const at = path ? `${path}.${k}` : k;
      scan(k, at);
      found.push(...placeholdersIn(v, at));
    }
  }
  return found;
}

/** The tree with its placeholders replaced from `context` (dotted names: `wiring.cache.host`). */
export function substitute(tree: unknown, context: Values): unknown {
  const lookup = (name: string): unknown => {
    let cur: unknown = context;
    for (const part of name.trim().split('.')) cur = isMap(cur) ? cur[part] : undefined;
    if (cur === undefined) throw new Error(`placeholder \${${name}} has no value in this run (is it used outside the \`when:\` overlay that brings it?)`);
    return cur;
  };
  const text = (s: string) => s.replace(PLACEHOLDER, (_, name: string) => String(lookup(name)));
  if (typeof tree === 'string') {
    const whole = WHOLE.exec(tree);
    return whole ? lookup(whole[1]!) : text(tree);
  }
  if (Array.isArray(tree)) return tree.map((v) => substitute(v, context));
  if (isMap(tree)) return Object.fromEntries(Object.entries(tree).map(([k, v]) => [text(k), substitute(v, context)]));
  return tree;
}

function present(w: MockWiring, c: Condition): boolean {
  const v = w[c];
  return v !== undefined && v !== null && v !== false;
}

/** The wiring as placeholders see it, with the derived fields. */
export function wiringContext(w: MockWiring): Values {
  const mock = new URL(w.mockUrl);
  const defaultPort = mock.protocol === 'https:' ? 443 : 80;
  return {
    wiring: {
      ...w,
      mock: { host: mock.hostname, port: mock.port ? Number(mock.port) : defaultPort },
      ...(w.cache ? { cache: { ...w.cache, portString: String(w.cache.port) } } : {}),
    },
  };
}

/** A profile's base values with the overlays this wiring selects, placeholders replaced. */
export function renderValues(base: Values, overlays: readonly Overlay[], w: MockWiring, start: Values = {}): Values {
  let merged = deepMerge(start, base);
  for (const o of overlays) if (present(w, o.has)) merged = deepMerge(merged, o.values);
  return substitute(merged, wiringContext(w)) as Values;
}

/** Every key of each named map in the chart's defaults set to null: helm merges maps, so a chart's entries go only this way. */
export function replacedDefaults(keys: readonly string[], defaults: Values): Values {
  return Object.fromEntries(keys.map((k) => [k, Object.fromEntries(Object.keys(isMap(defaults[k]) ? defaults[k] : {}).map((d) => [d, null]))]));
}

/** An image reference split the way a chart's `{repository, tag}` takes it. */
export function imageContext(ref: string): Values {
  const colon = ref.lastIndexOf(':');
  const tagged = colon > ref.lastIndexOf('/');
  return { image: { repository: tagged ? ref.slice(0, colon) : ref, tag: tagged ? ref.slice(colon + 1) : 'latest' } };
}
