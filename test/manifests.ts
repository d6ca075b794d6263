// Loose accessors for rendered manifests, shared by the chart tests.
import type { K8sObject } from '../scripts/images/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any = any;

export function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const hit = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind}${name ? `/${name}` : ''} rendered (have: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return hit;
}
export const podSpec = (o: K8sObject): Any => (o as Any).spec.template.spec;
export const container = (o: K8sObject): Any => podSpec(o).containers[0];
export const envMap = (c: Any): Record<string, Any> => Object.fromEntries((c.env ?? []).map((e: Any) => [e.name, e.value ?? e.valueFrom]));
export const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Every key path the profile sets must exist in the chart's values.yaml (helm would silently
 * ignore a typo), except below the maps that are open by design (env, secrets.values, ...). */
export function missingKeys(set: Record<string, unknown>, defaults: Record<string, unknown>, open: string[], prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(set)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in defaults)) {
      out.push(path);
      continue;
    }
    const d = defaults[k];
    if (open.includes(path)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && d && typeof d === 'object' && !Array.isArray(d)) {
      out.push(...missingKeys(v as Record<string, unknown>, d as Record<string, unknown>, open, path));
    }
  }
  return out;
}
