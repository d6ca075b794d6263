// What a chart tells its users in its own files (e.g. the metric names its NOTES.txt lists), read
// from the chart that ran, so suites can hold the chart to it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MetricsCapability } from './profiles/types.ts';

/** Names of list items (`- name ...`, `* name ...`) that start with `prefix`, in file order, once each. */
export function listedNames(text: string, prefix: string): string[] {
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\s*[-*]\\s+(${esc}[A-Za-z0-9_:]*)(?=\\s|$)`, 'gm');
  return [...new Set([...text.matchAll(re)].map((m) => m[1]!))];
}

/** The documented metric names of the chart at `chartDir`, or undefined when the file is not there. */
export async function documentedMetrics(chartDir: string, doc: NonNullable<MetricsCapability['documentedIn']>, label: string): Promise<{ source: string; names: string[] } | undefined> {
  const text = await readFile(join(chartDir, doc.file), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  return { source: `${label} ${doc.file}`, names: listedNames(text, doc.prefix) };
}
