// What happened to the gateway under the run: pods replaced or restarted, tunnels that broke.
// Results gathered while that happened prove nothing, so each finding fails the run.
import type { Kube } from '../kube/client.ts';
import type { Tunnel } from '../kube/tunnel.ts';

export interface PodSnapshot {
  name: string;
  uid: string;
  restarts: number;
}

export async function snapshotPods(k: Kube, namespace: string, release: string): Promise<PodSnapshot[]> {
  const pods = await k.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` });
  return pods.items.map((p) => ({
    name: p.metadata!.name!,
    uid: p.metadata!.uid!,
    restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
  }));
}

export function podChanges(before: PodSnapshot[], now: PodSnapshot[]): string[] {
  const findings: string[] = [];
  for (const b of before) {
    const same = now.find((p) => p.uid === b.uid);
    if (!same) {
      findings.push(
        `gateway pod ${b.name} was deleted during the run (pods now: ${now.map((p) => p.name).join(', ') || 'none'}); requests in flight then failed — see diagnostics/events.txt`,
      );
    } else if (same.restarts > b.restarts) {
      findings.push(`gateway pod ${b.name} restarted ${same.restarts - b.restarts} time(s) during the run — see its previous log in diagnostics/logs/`);
    }
  }
  return findings;
}

export function tunnelChanges(tunnels: Tunnel[]): string[] {
  return tunnels
    .filter((t) => t.breaks > 0 || t.closedUnexpectedly)
    .map(
      (t) =>
        `the tunnel ${t.describe} broke during the run (${t.breaks} forwarded connection(s) cut, ${t.restarts} re-resolve(s)${t.closedUnexpectedly ? ', listener closed' : ''}); requests through it failed — the API server link or the node's streaming connection dropped`,
    );
}
