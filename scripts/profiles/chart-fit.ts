// Whether a profile fits the chart that runs: the chart versions/commits it was written for, and
// the value paths it sets (values, `when:` overlays, corrections, stand-in and NetworkPolicy values)
// that the chart's values.yaml (or values.schema.json) does not know. A renamed value in a new chart
// version would otherwise silently do nothing; here it becomes a finding in the report.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { originOf } from './loader.ts';
import type { ChartProfile } from './types.ts';

type Values = Record<string, unknown>;

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "profile written for X, chart is Y" when the chart that runs is not one the profile names. */
export function versionMismatch(profile: ChartProfile, chart: { version: string; commit?: string | undefined }): string | undefined {
  const written = originOf(profile)?.writtenFor;
  if (!written) return undefined;
  const versions = written.versions ?? [];
  const commits = written.commits ?? [];
  const versionOk = versions.length === 0 || versions.includes(chart.version);
  const commitOk = chart.commit === undefined || commits.length === 0 || commits.some((c) => chart.commit!.startsWith(c) || c.startsWith(chart.commit!));
  if (versionOk && commitOk) return undefined;
  const wrote = [versions.length ? versions.join(', ') : '', commits.length ? `commit ${commits.map((c) => c.slice(0, 7)).join(', ')}` : ''].filter(Boolean).join(' / ');
  const is = `${chart.version}${chart.commit ? ` (commit ${chart.commit.slice(0, 7)})` : ''}`;
  return `profile ${profile.name} written for ${profile.source.chartName} ${wrote}, chart is ${is}`;
}

/** The leaf paths a values tree sets (a list, a scalar, an empty map or a templated key ends a path). */
export function leafPaths(tree: Values, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (k.includes('${')) return prefix ? [prefix] : [];
    return isMap(v) && Object.keys(v).length ? leafPaths(v, path) : [path];
  });
}

/** Every value path the profile sets on its main chart, with where in the profile it is set. */
export function profileValuePaths(profile: ChartProfile): { path: string; from: string }[] {
  const doc = originOf(profile)?.document;
  if (!doc) return [];
  const out: { path: string; from: string }[] = [];
  const add = (tree: unknown, from: string) => {
    if (isMap(tree)) for (const path of leafPaths(tree)) out.push({ path, from });
  };
  add(doc.values, 'values');
  doc.when?.forEach((o, i) => add(o.values, `when[${i}] (has: ${o.has})`));
  for (const c of profile.corrections) {
    if (c.chart === undefined) for (const path of c.values?.paths ?? []) out.push({ path, from: `correction ${c.id}` });
  }
  add(doc.app?.standIn?.values, 'app.standIn.values');
  const netpol = profile.capabilities.netpol;
  if ('enableValues' in netpol) add(netpol.enableValues, 'capabilities.netpol.enableValues');
  return out;
}

/**
 * Whether the chart knows a value path: each step exists in its defaults, except that a map the
 * chart leaves empty (or null), or the last step inside an existing map (env maps, secret data),
 * is the user's to fill. Below an embedded-YAML path (routeiq's `config.gateway`) is the app's own
 * configuration, passed through whole: the chart knows the path that holds it, not what is in it.
 */
export function defaultsKnow(defaults: Values, path: string, embeddedYaml: readonly string[] = []): boolean {
  const parts = path.split('.');
  let cur: unknown = defaults;
  for (const [i, part] of parts.entries()) {
    if (i > 0 && embeddedYaml.includes(parts.slice(0, i).join('.'))) return true;
    if (cur === null || cur === undefined) return i > 0;
    if (!isMap(cur)) return false;
    if (Object.keys(cur).length === 0) return true;
    if (!(part in cur)) return i > 0 && i === parts.length - 1;
    cur = cur[part];
  }
  return true;
}

/** Whether values.schema.json declares the path (its `properties`, or a map open to any key). */
export function schemaKnows(schema: Values, path: string): boolean {
  let cur: unknown = schema;
  for (const part of path.split('.')) {
    if (!isMap(cur)) return false;
    const props = cur['properties'];
    if (isMap(props) && part in props) cur = props[part];
    else if (isMap(cur['additionalProperties']) || (cur['additionalProperties'] === undefined && cur['type'] === 'object' && !isMap(props))) return true;
    else return false;
  }
  return true;
}

async function readYamlOrJson(file: string): Promise<Values | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed: unknown = file.endsWith('.json') ? JSON.parse(text) : parse(text);
  return isMap(parsed) ? parsed : {};
}

/** One finding per value path the profile sets that this chart's values.yaml and values.schema.json do not know. */
export async function unknownValuePaths(profile: ChartProfile, chartDir: string): Promise<string[]> {
  const defaults = (await readYamlOrJson(join(chartDir, 'values.yaml'))) ?? {};
  const schema = await readYamlOrJson(join(chartDir, 'values.schema.json'));
  const seen = new Set<string>();
  const findings: string[] = [];
  for (const { path, from } of profileValuePaths(profile)) {
    if (seen.has(path)) continue;
    seen.add(path);
    if (defaultsKnow(defaults, path, profile.embeddedYaml) || (schema && schemaKnows(schema, path))) continue;
    findings.push(`value \`${path}\` is not in this chart version (the profile sets it in ${from}; the chart's values.yaml${schema ? ' and values.schema.json' : ''} do not have it), so setting it may do nothing`);
  }
  return findings;
}

/** Everything the report says about how the profile fits the chart that ran. */
export async function profileFindings(profile: ChartProfile, chart: { path: string; version: string; commit?: string | undefined }): Promise<string[]> {
  const version = versionMismatch(profile, chart);
  return [...(version ? [version] : []), ...(await unknownValuePaths(profile, chart.path))];
}
