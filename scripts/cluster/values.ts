// The values a chart will be rendered with, computed the way Helm coalesces them (chart defaults,
// then each layer in order; maps merge, everything else is replaced; null deletes a key), so the
// harness can read what the release will use (its image, a dependency's condition) before installing.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';

export type Values = Record<string, unknown>;

function isMap(v: unknown): v is Values {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = mergeValues(out[k] as Values, v);
    else out[k] = v;
  }
  return out;
}

/** `a.b.c` in a values tree. */
export function valueAt(values: Values, path: string): unknown {
  let cur: unknown = values;
  for (const part of path.split('.')) {
    if (!isMap(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

async function readYamlMap(file: string): Promise<Values> {
  const parsed: unknown = parse(await readFile(file, 'utf8'));
  return isMap(parsed) ? parsed : {};
}

/** The chart's own values.yaml (empty when it has none). */
export async function chartDefaults(chartDir: string): Promise<Values> {
  return readYamlMap(join(chartDir, 'values.yaml')).catch(() => ({}) as Values);
}

export async function effectiveValues(chartDir: string, layers: Values[], files: string[] = []): Promise<Values> {
  let v = await chartDefaults(chartDir);
  for (const layer of layers) v = mergeValues(v, layer);
  for (const f of files) v = mergeValues(v, await readYamlMap(f));
  return v;
}

export interface ChartMeta {
  name: string;
  version: string;
  appVersion?: string;
  dependencies: { name: string; version?: string; repository?: string; condition?: string; alias?: string }[];
}

export async function readChartMeta(chartDir: string): Promise<ChartMeta> {
  const raw = (await readYamlMap(join(chartDir, 'Chart.yaml'))) as Partial<ChartMeta> & { appVersion?: unknown; version?: unknown };
  return {
    name: String(raw.name ?? ''),
    version: String(raw.version ?? ''),
    ...(raw.appVersion !== undefined ? { appVersion: String(raw.appVersion) } : {}),
    dependencies: Array.isArray(raw.dependencies) ? raw.dependencies : [],
  };
}
