// What a run leaves behind, decided in one place from --keep and how the run ended. A failed run's
// namespace is kept for inspection (unless --keep never); a cluster the run created is kept with
// --keep always, or with on-failure after a failure. An interrupted run was stopped by its user, who
// is not waiting to inspect it: it removes everything it made unless --keep always.
import type { KeepPolicy } from '../plan.ts';

export interface RunEnd {
  /** The verdict is a failure, setup failed, or the run was interrupted. */
  failed: boolean;
  /** The run was stopped by SIGINT/SIGTERM. */
  interrupted: boolean;
}

/** Whether the run's namespace (its releases, pods and claims) stays after it for inspection. */
export function keep(policy: KeepPolicy, end: RunEnd): boolean {
  if (policy === 'never' || !(end.failed || end.interrupted)) return false;
  return policy === 'always' || !end.interrupted;
}

/**
 * Whether the run deletes the kind cluster. One it created goes unless --keep always, or
 * on-failure after a failed (not interrupted) run; one it reused was there before the run and goes
 * only with --keep never.
 */
export function deletesCluster(policy: KeepPolicy, o: RunEnd & { created: boolean }): boolean {
  if (!o.created) return policy === 'never';
  return !(policy === 'always' || keep(policy, o));
}
