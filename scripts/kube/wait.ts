// Readiness of everything a release created, watched through the API. A timeout names the
// object, the unmet condition and its last events, never just "timed out".
import type { CoreV1Event as V1Event, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { fatal, notYet, retry } from '../retry.ts';
import type { Kube } from './client.ts';

export interface WorkloadState {
  ref: string;
  ready: boolean;
  /** Why it is not ready, in words a person can act on. */
  unmet: string;
}

function deploymentState(d: V1Deployment): WorkloadState {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const available = s.conditions?.find((c) => c.type === 'Available');
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const ready =
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.readyReplicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want &&
    !s.unavailableReplicas;
  const unmet = ready
    ? ''
    : `readyReplicas ${s.readyReplicas ?? 0}/${want}, unavailableReplicas ${s.unavailableReplicas ?? 0}` +
      (available ? `, Available=${available.status}${available.message ? ` (${available.message})` : ''}` : '') +
      (progressing?.reason === 'ProgressDeadlineExceeded' ? ', progress deadline exceeded' : '');
  return { ref: `Deployment/${d.metadata?.name}`, ready, unmet };
}

function statefulSetState(s: V1StatefulSet): WorkloadState {
  const want = s.spec?.replicas ?? 1;
  const ready = (s.status?.readyReplicas ?? 0) === want && (s.status?.currentRevision ?? '') === (s.status?.updateRevision ?? '');
  return { ref: `StatefulSet/${s.metadata?.name}`, ready, unmet: ready ? '' : `readyReplicas ${s.status?.readyReplicas ?? 0}/${want}` };
}

/** What is wrong with a pod, from its container states (the part people look for in describe). */
export function podProblem(p: V1Pod): string {
  const statuses = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];
  for (const c of statuses) {
    const w = c.state?.waiting;
    if (w?.reason && w.reason !== 'PodInitializing' && w.reason !== 'ContainerCreating') {
      return `container ${c.name} waiting: ${w.reason}${w.message ? ` — ${w.message}` : ''}`;
    }
    const t = c.lastState?.terminated ?? c.state?.terminated;
    if (t && t.exitCode !== 0) return `container ${c.name} exited ${t.exitCode} (${t.reason ?? 'error'}), restarts ${c.restartCount}`;
  }
  const sched = p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (sched) return `unschedulable: ${sched.message ?? sched.reason ?? ''}`;
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return `Ready=${ready?.status ?? 'Unknown'}${ready?.reason ? ` (${ready.reason})` : ''}; phase ${p.status?.phase}`;
  return '';
}

export async function recentEvents(k: Kube, namespace: string, name?: string, limit = 5): Promise<string[]> {
  const list = await k.core.listNamespacedEvent({ namespace, ...(name ? { fieldSelector: `involvedObject.name=${name}` } : {}) });
  const time = (e: V1Event) => new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? 0).getTime();
  return list.items
    .sort((a, b) => time(a) - time(b))
    .slice(-limit)
    .map((e) => `${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message ?? ''}`.trim());
}

export async function workloadStates(k: Kube, namespace: string, labelSelector?: string): Promise<WorkloadState[]> {
  const [deps, sts] = await Promise.all([
    k.apps.listNamespacedDeployment({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
    k.apps.listNamespacedStatefulSet({ namespace, ...(labelSelector ? { labelSelector } : {}) }),
  ]);
  return [...deps.items.map(deploymentState), ...sts.items.map(statefulSetState)];
}

export class ReadinessTimeout extends Error {}

/**
 * Waits until every Deployment/StatefulSet in the namespace (matching the selector) is ready.
 * Polls the API every second; on timeout explains the first unready workload and its pods.
 */
export async function waitForWorkloads(
  k: Kube,
  namespace: string,
  opts: { labelSelector?: string; timeoutMs: number; what: string; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<void> {
  let lastReport = 0;
  let pending: WorkloadState[] = [];
  await retry(
    opts.what,
    { timeoutMs: opts.timeoutMs, intervalMs: 1000, ...(opts.signal ? { signal: opts.signal } : {}), onTimeout: async () => new ReadinessTimeout(await explain(k, namespace, pending, opts)) },
    async () => {
      // an API error is not a pending workload: it ends the wait as it comes
      const states = await workloadStates(k, namespace, opts.labelSelector).catch((err: Error) => {
        throw fatal(err);
      });
      pending = states.filter((s) => !s.ready);
      if (states.length > 0 && pending.length === 0) return;
      const unmet = pending.map((p) => `${p.ref} (${p.unmet})`).join('; ') || 'no workload yet';
      if (opts.onProgress && Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        opts.onProgress(`waiting for ${opts.what}: ${unmet}`);
      }
      throw notYet(unmet);
    },
  );
}

async function explain(
  k: Kube,
  namespace: string,
  pending: WorkloadState[],
  opts: { labelSelector?: string; timeoutMs: number; what: string },
): Promise<string> {
  const secs = Math.round(opts.timeoutMs / 1000);
  if (pending.length === 0) return `${opts.what}: no Deployment or StatefulSet appeared in namespace ${namespace} within ${secs}s`;
  const pods = await k.core.listNamespacedPod({ namespace, ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) });
  const problems = pods.items
    .map((p) => [p.metadata?.name ?? '?', podProblem(p)] as const)
    .filter(([, why]) => why)
    .map(([name, why]) => `Pod/${name}: ${why}`);
  const first = pending[0]!;
  const podName = pods.items.find((p) => podProblem(p))?.metadata?.name;
  const events = await recentEvents(k, namespace, podName ?? first.ref.split('/')[1]);
  return (
    `${opts.what} not ready after ${secs}s in namespace ${namespace}: ${pending.map((p) => `${p.ref} ${p.unmet}`).join('; ')}.` +
    (problems.length ? ` ${problems.slice(0, 3).join('; ')}.` : '') +
    (events.length ? ` Last events: ${events.join(' | ')}` : '')
  );
}
