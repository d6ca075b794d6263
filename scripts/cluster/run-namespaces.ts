// What earlier runs left on a cluster. Every run namespace carries the harness's labels: who made
// it, for which chart, and once its run ended whether (and why) it was kept. A reused cluster keeps
// at most the newest failed run's namespace per chart: a run removes the older ones before it
// installs anything, so kept runs never pile up until nothing can be scheduled. A pod that still
// does not fit is explained with what the namespaces of other runs hold.
import type { V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';

export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'gateway-smoke' } as const;
export const CHART_LABEL = 'gateway-smoke/chart';
/** Set when the run ended and its namespace stayed: `failed` (--keep on-failure) or `always` (--keep always). */
export const KEPT_LABEL = 'gateway-smoke/kept';
export type KeptWhy = 'failed' | 'always';

export interface RunNamespace {
  name: string;
  chart: string | undefined;
  kept: KeptWhy | undefined;
  createdAt: number;
  terminating: boolean;
}

export function runNamespaceOf(ns: V1Namespace): RunNamespace {
  const labels = ns.metadata?.labels ?? {};
  const kept = labels[KEPT_LABEL];
  return {
    name: ns.metadata?.name ?? '?',
    chart: labels[CHART_LABEL],
    kept: kept === 'failed' || kept === 'always' ? kept : undefined,
    createdAt: new Date(ns.metadata?.creationTimestamp ?? 0).getTime(),
    terminating: ns.status?.phase === 'Terminating' || ns.metadata?.deletionTimestamp !== undefined,
  };
}

/**
 * What a new run of `chart` does with the namespaces kept after failed runs of the same chart: the
 * newest stays, the older ones go. Namespaces kept by --keep always were kept on purpose and stay;
 * one without the kept label belongs to a run still going (or killed outright) and is never touched.
 */
export function superseded(all: readonly RunNamespace[], chart: string): { newest?: RunNamespace; older: RunNamespace[] } {
  const [newest, ...older] = all.filter((n) => n.chart === chart && n.kept === 'failed' && !n.terminating).sort((a, b) => b.createdAt - a.createdAt);
  return { ...(newest ? { newest } : {}), older };
}

export async function listRunNamespaces(k: Kube): Promise<RunNamespace[]> {
  const list = await k.core.listNamespace({ labelSelector: Object.entries(MANAGED_BY).map(([key, v]) => `${key}=${v}`).join(',') });
  return list.items.map(runNamespaceOf);
}

export interface Holder {
  ns: RunNamespace;
  /** Pods that hold a node's resources (not finished). */
  pods: number;
}

/** Pods the scheduler counts against a node: every one not Succeeded or Failed. */
export function holdingPods(pods: readonly V1Pod[]): number {
  return pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
}

/**
 * The sentence that follows "cannot be scheduled": which namespaces of other runs hold pods on the
 * cluster, and the exact command that removes them.
 */
export function capacityNote(holders: readonly Holder[], kubeContext: string | undefined): string {
  const held = holders.filter((h) => h.pods > 0 && !h.ns.terminating);
  if (!held.length) return 'No namespace of another gateway-smoke run holds pods on this cluster: lower what the pod requests (--values) or give the cluster more capacity.';
  const what = (h: Holder) =>
    `${h.ns.name} (${h.ns.chart ?? 'chart unknown'}, ${h.ns.kept === 'failed' ? 'kept after a failed run' : h.ns.kept === 'always' ? 'kept by --keep always' : 'not marked kept: a run still going, or one that was killed'}, ${h.pods} pod${h.pods === 1 ? '' : 's'})`;
  const names = held.map((h) => h.ns.name).join(' ');
  return (
    `Namespaces of other gateway-smoke runs hold pods on this cluster: ${held.map(what).join(', ')}. ` +
    `Remove them with: kubectl${kubeContext ? ` --context ${kubeContext}` : ''} delete namespace ${names}`
  );
}

/** capacityNote for the live cluster, leaving out the run's own namespace. */
export async function capacityOf(k: Kube, ownNamespace: string): Promise<string> {
  const others = (await listRunNamespaces(k)).filter((n) => n.name !== ownNamespace);
  const holders = await Promise.all(
    others.map(async (ns) => ({ ns, pods: holdingPods((await k.core.listNamespacedPod({ namespace: ns.name })).items) })),
  );
  return capacityNote(holders, k.context);
}
