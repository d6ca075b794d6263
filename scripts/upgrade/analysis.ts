// Judges an upgrade from what was recorded (pure: no I/O): the traffic's records and the pods'
// timestamps. A pod that existed before `helm upgrade` started is old, one created after is new;
// a rollout happened only when a new pod came and an old one went. Failures are named one by one
// (time, pod, what the client saw) and counted before / during / after the rollout.
import { CHECK_IDS, type Cause } from '../report/check-ids.ts';
import type { CheckResult } from '../report/model.ts';
import type { TrafficRecord } from './traffic.ts';

export interface PodTimes {
  name: string;
  ip?: string;
  /** Epoch ms. */
  created: number;
  /** When it first reported Ready (its Ready condition's transition), if it did. */
  ready?: number;
  /** When its deletion began (deletionTimestamp minus the grace period), or when it was last seen before it vanished. */
  terminated?: number;
  restarts: number;
  /** Why its last container restart happened (lastState.terminated.reason), when it restarted. */
  restartReason?: string;
}

export interface UpgradeWindow {
  /** `helm upgrade` started. */
  upgradeStart: number;
  /** The rollout was over: the new pods Ready, the old ones gone (or the wait gave up). */
  rolloutEnd: number;
}

export type Period = 'before' | 'during' | 'after';
export interface PeriodCounts {
  requests: number;
  failed: number;
  cut: number;
}
export type UpgradeCounts = Record<Period, PeriodCounts>;

export interface UpgradeAnalysis {
  checks: CheckResult[];
  counts: UpgradeCounts;
  oldPods: string[];
  newPods: string[];
  /** Old pods that were terminated during the run. */
  replaced: string[];
}

/** How many failures a check names one by one; the rest are counted. */
const NAMED = 20;

/** A stream that was answered (2xx) and then ended without [DONE] and usage: cut off. */
export function isCutStream(r: TrafficRecord): boolean {
  return r.stream && !r.complete && r.status !== null && r.status >= 200 && r.status < 300;
}

export function isFailed(r: TrafficRecord): boolean {
  return !r.complete && !isCutStream(r);
}

/** Overlapping the rollout is `during`; wholly before it or wholly after it is `before` / `after`. */
export function periodOf(r: Pick<TrafficRecord, 'start' | 'end'>, w: UpgradeWindow): Period {
  if (r.end < w.upgradeStart) return 'before';
  if (r.start > w.rolloutEnd) return 'after';
  return 'during';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function where(r: TrafficRecord): string {
  return r.pod ?? (r.clientAddress ? `pod unknown (upstream request from ${r.clientAddress})` : 'pod unknown (the provider never saw the request)');
}

function describe(r: TrafficRecord, w: UpgradeWindow): string {
  const saw = r.status === null ? 'no HTTP answer' : `HTTP ${r.status}`;
  const stream = r.stream ? `stream (${r.chunks ?? 0} chunks${r.sawDone ? ', [DONE]' : ''}${r.sawUsage ? ', usage' : ''})` : 'completion';
  return `${iso(r.start)} → ${iso(r.end)} ${periodOf(r, w)} the rollout, ${stream} served by ${where(r)}: ${saw}${r.error ? `, ${r.error}` : ''}`;
}

function countsOf(records: readonly TrafficRecord[], w: UpgradeWindow): UpgradeCounts {
  const counts: UpgradeCounts = {
    before: { requests: 0, failed: 0, cut: 0 },
    during: { requests: 0, failed: 0, cut: 0 },
    after: { requests: 0, failed: 0, cut: 0 },
  };
  for (const r of records) {
    const c = counts[periodOf(r, w)];
    c.requests++;
    if (isCutStream(r)) c.cut++;
    else if (isFailed(r)) c.failed++;
  }
  return counts;
}

export function formatCounts(c: UpgradeCounts): string {
  return (['before', 'during', 'after'] as const).map((p) => `${p}: ${c[p].requests} requests, ${c[p].failed} failed, ${c[p].cut} streams cut`).join('; ');
}

function check(id: keyof (typeof CHECK_IDS)['upgrade'], verdict: CheckResult['verdict'], message?: string, causes?: Cause[]): CheckResult {
  return { id, name: CHECK_IDS.upgrade[id], verdict, durationMs: 0, ...(message ? { message } : {}), ...(causes?.length ? { causes } : {}) };
}

function requestCheck(
  id: 'upgrade.no-failed-requests' | 'upgrade.no-cut-streams',
  bad: TrafficRecord[],
  records: readonly TrafficRecord[],
  counts: UpgradeCounts,
  w: UpgradeWindow,
): CheckResult {
  if (records.length === 0) return check(id, 'fail', 'no traffic was recorded across the upgrade: nothing was proven', [{ kind: 'count', detail: 'no request was recorded' }]);
  const what = id === 'upgrade.no-cut-streams' ? 'streams were cut off' : 'requests failed';
  const total = id === 'upgrade.no-cut-streams' ? records.filter((r) => r.stream).length : records.length;
  if (bad.length === 0) return check(id, 'pass', `none of ${total}; ${formatCounts(counts)}`);
  const causes: Cause[] = bad.slice(0, NAMED).map((r) => ({
    kind: r.status !== null && !isCutStream(r) ? 'status' : 'no-answer',
    detail: describe(r, w),
    evidence: { tag: r.tag, start: iso(r.start), end: iso(r.end), period: periodOf(r, w), pod: r.pod ?? null, status: r.status, error: r.error ?? null, stream: r.stream, chunks: r.chunks ?? null },
  }));
  if (bad.length > NAMED) causes.push({ kind: 'count', detail: `${bad.length - NAMED} more ${what} (not named here)`, evidence: { more: bad.length - NAMED } });
  return check(id, 'fail', `${bad.length} of ${total} ${what}; ${formatCounts(counts)}`, causes);
}

export function analyseUpgrade(input: { records: readonly TrafficRecord[]; pods: readonly PodTimes[]; window: UpgradeWindow }): UpgradeAnalysis {
  const { records, pods, window: w } = input;
  const counts = countsOf(records, w);
  const old = pods.filter((p) => p.created < w.upgradeStart);
  const fresh = pods.filter((p) => p.created >= w.upgradeStart);
  const replaced = old.filter((p) => p.terminated !== undefined);

  const checks: CheckResult[] = [];
  if (fresh.length > 0 && replaced.length > 0) {
    const notReady = fresh.filter((p) => p.ready === undefined);
    const msg = `${replaced.length} old pod(s) replaced (${replaced.map((p) => `${p.name} terminating ${iso(p.terminated!)}`).join(', ')}) by ${fresh.length} new (${fresh
      .map((p) => `${p.name} ${p.ready ? `ready ${iso(p.ready)}` : 'never ready'}`)
      .join(', ')})`;
    checks.push(
      notReady.length
        ? check('upgrade.rollout', 'fail', `${msg}; ${notReady.length} new pod(s) never became Ready`, notReady.map((p) => ({ kind: 'count', detail: `${p.name} never reported Ready` })))
        : check('upgrade.rollout', 'pass', msg),
    );
  } else {
    const detail =
      `no rollout happened: ${fresh.length === 0 ? 'no new pod was created' : `new pods ${fresh.map((p) => p.name).join(', ')} came`} and ` +
      `${replaced.length === 0 ? `no old pod was terminated (${old.map((p) => p.name).join(', ') || 'none seen'} still running)` : 'old pods went'}; ` +
      'the traffic checks below say nothing about a rollout';
    checks.push(check('upgrade.rollout', 'fail', detail, [{ kind: 'no-rollout', detail, evidence: { oldPods: old.map((p) => p.name), newPods: fresh.map((p) => p.name) } }]));
  }

  checks.push(requestCheck('upgrade.no-failed-requests', records.filter(isFailed), records, counts, w));
  checks.push(requestCheck('upgrade.no-cut-streams', records.filter(isCutStream), records, counts, w));

  const restarted = pods.filter((p) => p.restarts > 0);
  checks.push(
    restarted.length
      ? check(
          'upgrade.no-restarts',
          'fail',
          `${restarted.length} pod(s) restarted: ${restarted.map((p) => `${p.name} (${fresh.includes(p) ? 'new' : 'old'}) ${p.restarts}×${p.restartReason ? `, last ${p.restartReason}` : ''}`).join(', ')}`,
          restarted.map((p) => ({ kind: 'restart', detail: `${p.name} restarted ${p.restarts} time(s)${p.restartReason ? ` (${p.restartReason})` : ''}`, evidence: { pod: p.name, restarts: p.restarts } })),
        )
      : check('upgrade.no-restarts', 'pass', `none of ${pods.length} pods (${old.length} old, ${fresh.length} new) restarted`),
  );
  return { checks, counts, oldPods: old.map((p) => p.name), newPods: fresh.map((p) => p.name), replaced: replaced.map((p) => p.name) };
}

/** What the report draws and counts (suite evidence): requests per second by outcome, the pods' marks. */
export interface UpgradeEvidence {
  /** Epoch ms of second 0. */
  start: number;
  window: UpgradeWindow;
  counts: UpgradeCounts;
  /** One bucket per second since `start`, by when the request ended. */
  perSecond: { ok: number; failed: number; cut: number }[];
  pods: { name: string; created: number; ready?: number; terminated?: number; restarts: number; old: boolean }[];
}

export function upgradeEvidence(o: { records: readonly TrafficRecord[]; pods: readonly PodTimes[]; window: UpgradeWindow; counts: UpgradeCounts }): UpgradeEvidence {
  const start = Math.min(o.window.upgradeStart, ...o.records.map((r) => r.start));
  const end = Math.max(o.window.rolloutEnd, ...o.records.map((r) => r.end));
  const perSecond = Array.from({ length: Math.floor((end - start) / 1000) + 1 }, () => ({ ok: 0, failed: 0, cut: 0 }));
  for (const r of o.records) {
    const b = perSecond[Math.floor((r.end - start) / 1000)]!;
    if (isCutStream(r)) b.cut++;
    else if (isFailed(r)) b.failed++;
    else b.ok++;
  }
  return {
    start,
    window: o.window,
    counts: o.counts,
    perSecond,
    pods: o.pods.map((p) => ({
      name: p.name,
      created: p.created,
      ...(p.ready !== undefined ? { ready: p.ready } : {}),
      ...(p.terminated !== undefined ? { terminated: p.terminated } : {}),
      restarts: p.restarts,
      old: p.created < o.window.upgradeStart,
    })),
  };
}
