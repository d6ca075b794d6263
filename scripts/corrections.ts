// Corrections: chart defaults a profile changes to work around a defect (scripts/profiles/types.ts
// Correction). This module says which values layers and post-renderers a release gets, and turns
// every applied correction into a check of the chart as shipped, `chart.as-shipped.<id>`, with its
// evidence: the chart's default beside the corrected value, or the objects a post-renderer removed.
// The check fails (a waiver on its id accepts it); a correction that finds nothing to correct passes
// and says it can go.
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import { type DropKindsRenderer, dropKindsRenderer, removedBy } from './cluster/post-renderer.ts';
import { mergeValues, type Values } from './cluster/values.ts';
import type { ChartProfile, Correction } from './profiles/types.ts';
import type { Cause } from './report/check-ids.ts';
import { type CheckResult, type SuiteResult, suiteVerdict } from './report/model.ts';

export const checkIdOf = (c: Correction): string => `chart.as-shipped.${c.id}`;

/** The corrections a profile declares for one release (the main chart is the profile's name). */
export function correctionsFor(profile: ChartProfile, release: string): Correction[] {
  return profile.corrections.filter((c) => (c.chart ?? profile.name) === release);
}

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `a.b.c` in a values tree; a string met on the way with parts left is read as the YAML document
 * it holds (a chart's embedded config), so `config.gateway.general_settings.master_key` reaches
 * into routeiq's config.
 */
export function valueAtPath(values: unknown, path: string): unknown {
  let cur: unknown = values;
  for (const part of path.split('.')) {
    if (typeof cur === 'string') cur = parse(cur) as unknown;
    if (!isMap(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function withoutPath(values: Values, parts: string[]): Values {
  const [head, ...rest] = parts;
  if (head === undefined || !(head in values)) return values;
  const out = { ...values };
  if (rest.length === 0) delete out[head];
  else if (isMap(out[head])) out[head] = withoutPath(out[head], rest);
  return out;
}

function atPath(parts: string[], value: unknown): Values {
  return parts.reduceRight<unknown>((v, p) => ({ [p]: v }), value) as Values;
}

/**
 * Layers that give a map at a path the chart takes as a YAML string: helm would replace the string,
 * so the map is merged here into the chart's own document (then into each later layer's), and one
 * last layer carries the document rendered back into a string. Untouched when no layer gives a map.
 */
export function foldEmbeddedYaml(defaults: Values, layers: Values[], paths: readonly string[]): Values[] {
  let out = layers;
  for (const path of paths) {
    if (!out.some((l) => isMap(valueAtPath(l, path)))) continue;
    const parts = path.split('.');
    const initial = valueAtPath(defaults, path);
    let doc: Values = typeof initial === 'string' && isMap(parse(initial)) ? (parse(initial) as Values) : {};
    for (const layer of out) {
      const v = valueAtPath(layer, path);
      if (isMap(v)) doc = mergeValues(doc, v);
      else if (typeof v === 'string') doc = isMap(parse(v)) ? (parse(v) as Values) : {};
    }
    out = [...out.map((l) => withoutPath(l, parts)), atPath(parts, stringify(doc))];
  }
  return out;
}

/** The report's fingerprint line: which corrections the run applies, or that it runs the chart as shipped. */
export function describeCorrections(profile: ChartProfile, apply: boolean): string {
  const ids = profile.corrections.map((c) => (c.chart ? `${c.id} (${c.chart})` : c.id));
  if (ids.length === 0) return 'none declared: the chart runs as shipped';
  if (!apply) return `none applied (--no-corrections): the chart runs as shipped; declared: ${ids.join(', ')}`;
  return `${ids.join(', ')}: each applied and reported as a failing chart.as-shipped check`;
}

export interface ReleaseValues {
  layers: Values[];
  /** The corrections whose values or post-renderer this release gets. */
  applied: Correction[];
}

/**
 * A release's values layers: its wiring first, then (unless the run is `--no-corrections`) each
 * correction's values, with the profile's embedded YAML documents folded.
 */
export function releaseValues(o: { profile: ChartProfile; release: string; wiring: Values[]; defaults: Values; corrections: boolean }): ReleaseValues {
  const applied = o.corrections ? correctionsFor(o.profile, o.release) : [];
  const layers = [...o.wiring, ...applied.flatMap((c) => (c.values ? [c.values.set] : []))];
  return { layers: foldEmbeddedYaml(o.defaults, layers, o.profile.embeddedYaml ?? []), applied };
}

export interface RemovedObject {
  kind: string;
  name: string;
  namespace?: string;
}

const show = (v: unknown): string => {
  if (v === undefined) return 'not set';
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
};

/**
 * The check of one applied correction. `defaults` is the release's chart values.yaml; `removed` is
 * what its post-renderer removed (for a correction with dropKinds), `namespace` where the release went.
 */
export function correctionCheck(c: Correction, o: { release: string; defaults: Values; removed?: RemovedObject[]; namespace?: string }): CheckResult {
  const evidence: Record<string, unknown> = { release: o.release };
  /** What the chart as shipped gets wrong (any makes the check fail), and what it already has right. */
  const defects: string[] = [];
  const fine: string[] = [];
  if (c.values) {
    const set = c.values.set;
    const paths = c.values.paths.map((path) => {
      const chartDefault = valueAtPath(o.defaults, path);
      return { path, ...(chartDefault === undefined ? {} : { chartDefault }), corrected: valueAtPath(set, path) };
    });
    evidence['values'] = paths;
    for (const p of paths) {
      if (isDeepStrictEqual(p.chartDefault, p.corrected)) fine.push(`${p.path} is already ${show(p.corrected)} in the chart's defaults`);
      else defects.push(`${p.path}: chart default ${show(p.chartDefault)}, corrected to ${show(p.corrected)}`);
    }
  }
  if (c.dropKinds) {
    const removed = o.removed ?? [];
    evidence['removed'] = removed;
    const where = (r: RemovedObject) => `${r.kind} ${r.namespace || o.namespace ? `${r.namespace || o.namespace}/` : ''}${r.name}`;
    if (removed.length) defects.push(`removed ${removed.map(where).join(', ')} from release ${o.release}`);
    else fine.push(`no ${c.dropKinds.join('/')} was rendered in release ${o.release}`);
  }
  const base = { id: checkIdOf(c), name: `chart as shipped: ${c.defect}`, durationMs: 0 };
  if (defects.length === 0) {
    return { ...base, verdict: 'pass', message: `nothing to correct (${fine.join('; ')}): the chart may have fixed it, so the correction can go` };
  }
  const cause: Cause = { kind: 'chart-defect', detail: c.defect, evidence };
  return { ...base, verdict: 'fail', message: `corrected to test the rest: ${defects.join('; ')}`, causes: [cause] };
}

/**
 * Installs a release with the post-renderer of its drop-kinds corrections (if any), then returns
 * the check of every correction applied to it.
 */
export async function installWithCorrections(o: {
  release: string;
  applied: Correction[];
  defaults: Values;
  namespace: string;
  install(postRenderer: DropKindsRenderer['postRenderer'] | undefined): Promise<void>;
}): Promise<CheckResult[]> {
  const renderer = await dropKindsRenderer(o.applied);
  try {
    await o.install(renderer?.postRenderer);
    const removed = renderer ? await renderer.removed() : [];
    return o.applied.map((c) =>
      correctionCheck(c, { release: o.release, defaults: o.defaults, namespace: o.namespace, ...(c.dropKinds ? { removed: removedBy(c, removed) } : {}) }),
    );
  } finally {
    await renderer?.dispose();
  }
}

/** The report's `chart` group: the chart as shipped, one check per applied correction. */
export function chartSuite(checks: CheckResult[]): SuiteResult | undefined {
  if (checks.length === 0) return undefined;
  return { suite: 'chart', verdict: suiteVerdict(checks), durationMs: 0, checks };
}
