// The gateway pods' lives across an upgrade: created, first Ready, terminating, restarts, and the IP
// each had (an old pod's IP is gone from the API once it is deleted, but the mock's journal still
// names it). Polled rather than watched: a one-second grain is finer than any rollout step.
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import type { PodTimes } from './analysis.ts';

/** What one look at a pod says; `seenAt` stands in for the termination of a pod that vanished. */
export function podTimesOf(p: V1Pod): PodTimes & { uid: string } {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime;
  const statuses = p.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const reason = statuses.find((c) => c.restartCount > 0)?.lastState?.terminated?.reason;
  return {
    uid: p.metadata?.uid ?? p.metadata?.name ?? '?',
    name: p.metadata?.name ?? '?',
    ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
    created: new Date(p.metadata?.creationTimestamp ?? 0).getTime(),
    ...(ready ? { ready: new Date(ready).getTime() } : {}),
    // deletionTimestamp is the end of the grace period, not its start: the pod was told to stop that much earlier
    ...(p.metadata?.deletionTimestamp ? { terminated: new Date(p.metadata.deletionTimestamp).getTime() - (p.metadata.deletionGracePeriodSeconds ?? 0) * 1000 } : {}),
    restarts,
    ...(reason ? { restartReason: reason } : {}),
  };
}

/**
 * Folds successive looks into one record per pod: the first Ready and IP seen are kept, restarts
 * only grow, and a pod that is gone without a deletionTimestamp seen ends when it was last seen.
 */
export class PodLog {
  private readonly pods = new Map<string, PodTimes & { uid: string; lastSeen: number }>();
  private present = new Set<string>();

  observe(items: readonly V1Pod[], at: number): void {
    const present = new Set<string>();
    for (const item of items) {
      const now = podTimesOf(item);
      present.add(now.uid);
      const had = this.pods.get(now.uid);
      this.pods.set(now.uid, {
        ...now,
        ...(had?.ip && !now.ip ? { ip: had.ip } : {}),
        ...(had?.ready !== undefined ? { ready: had.ready } : {}),
        ...(had?.terminated !== undefined ? { terminated: had.terminated } : {}),
        restarts: Math.max(now.restarts, had?.restarts ?? 0),
        lastSeen: at,
      });
    }
    for (const [uid, p] of this.pods) if (!present.has(uid) && p.terminated === undefined) p.terminated = p.lastSeen;
    this.present = present;
  }

  /** Pods the last look still listed (a terminating pod is listed until it is gone). */
  listed(): PodTimes[] {
    return [...this.pods.values()].filter((p) => this.present.has(p.uid)).map(({ uid: _u, lastSeen: _l, ...p }) => p);
  }

  times(): PodTimes[] {
    return [...this.pods.values()].map(({ uid: _u, lastSeen: _l, ...p }) => p).sort((a, b) => a.created - b.created);
  }

  /** Every IP a pod held, to its name: what the mock's journal is read with. */
  byIp(): Map<string, string> {
    return new Map([...this.pods.values()].filter((p) => p.ip).map((p) => [p.ip!, p.name]));
  }
}

/** Polls the release's pods every second into a PodLog until stopped. */
export function watchPods(k: Kube, namespace: string, labelSelector: string, onError: (line: string) => void): { log: PodLog; stop(): Promise<void> } {
  const log = new PodLog();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const list = await k.core.listNamespacedPod({ namespace, labelSelector });
        log.observe(list.items, Date.now());
      } catch (err) {
        onError(`listing the gateway pods failed: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    log,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
