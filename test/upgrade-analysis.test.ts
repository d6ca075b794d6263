// The upgrade's verdicts from constructed records and pod timestamps: a clean rollout passes, a
// cut stream and a refused request are named with time, pod and what the client saw, an upgrade
// that replaced nothing is "no rollout happened" (never a pass), and restarts fail.
import { describe, expect, test } from 'vitest';
import { isKnownCheckId } from '../scripts/report/check-ids.ts';
import { renderJUnit } from '../scripts/report/junit.ts';
import { renderMarkdown } from '../scripts/report/markdown.ts';
import { type CheckResult, type RunReport, suiteVerdict } from '../scripts/report/model.ts';
import { analyseUpgrade, periodOf, type PodTimes, upgradeEvidence } from '../scripts/upgrade/analysis.ts';
import type { TrafficRecord } from '../scripts/upgrade/traffic.ts';

const T = Date.parse('2026-12-07T12:00:00Z');
const s = (sec: number) => T + sec * 1000;
const window = { upgradeStart: s(10), rolloutEnd: s(40) };

let n = 0;
function rec(startSec: number, endSec: number, over: Partial<TrafficRecord> = {}): TrafficRecord {
  return { tag: `t-${++n}`, stream: false, start: s(startSec), end: s(endSec), status: 200, complete: true, pod: 'gw-old-a', ...over };
}
const rolled: PodTimes[] = [
  { name: 'gw-old-a', created: s(-100), ready: s(-90), terminated: s(20), restarts: 0 },
  { name: 'gw-old-b', created: s(-100), ready: s(-90), terminated: s(30), restarts: 0 },
  { name: 'gw-new-a', created: s(12), ready: s(18), restarts: 0 },
  { name: 'gw-new-b', created: s(21), ready: s(28), restarts: 0 },
];
const byId = (checks: CheckResult[], id: string): CheckResult => checks.find((c) => c.id === id)!;

describe('upgrade analysis', () => {
  test('a clean rollout passes every check, and its ids are in the catalogue', () => {
    const records = [rec(0, 1), rec(15, 19, { stream: true, sawDone: true, sawUsage: true, chunks: 20 }), rec(45, 46, { pod: 'gw-new-a' })];
    const a = analyseUpgrade({ records, pods: rolled, window });
    expect(a.checks.map((c) => [c.id, c.verdict])).toEqual([
      ['upgrade.rollout', 'pass'],
      ['upgrade.no-failed-requests', 'pass'],
      ['upgrade.no-cut-streams', 'pass'],
      ['upgrade.no-restarts', 'pass'],
    ]);
    for (const c of a.checks) expect(isKnownCheckId(c.id)).toBe(true);
    expect(a.counts).toEqual({ before: { requests: 1, failed: 0, cut: 0 }, during: { requests: 1, failed: 0, cut: 0 }, after: { requests: 1, failed: 0, cut: 0 } });
    expect(a.replaced).toEqual(['gw-old-a', 'gw-old-b']);
    expect(a.newPods).toEqual(['gw-new-a', 'gw-new-b']);
  });

  test('a stream cut when its pod terminated and a refused request are each named, counted by period', () => {
    const cut = rec(18, 20, { stream: true, complete: false, sawDone: false, sawUsage: false, chunks: 7, error: 'the stream ended after 7 chunks without [DONE] and usage' });
    const refused = rec(21, 21, { status: null, complete: false, error: 'Connection error. (ECONNRESET)', clientAddress: undefined, pod: undefined });
    const a = analyseUpgrade({ records: [rec(0, 1), cut, refused, rec(50, 51)], pods: rolled, window });
    const cuts = byId(a.checks, 'upgrade.no-cut-streams');
    expect(cuts.verdict).toBe('fail');
    expect(cuts.message).toMatch(/^1 of 1 streams were cut off; before: 1 requests, 0 failed, 0 streams cut; during: 2 requests, 1 failed, 1 streams cut; after: 1 requests/);
    expect(cuts.causes).toHaveLength(1);
    expect(cuts.causes![0]).toMatchObject({ kind: 'no-answer', evidence: { pod: 'gw-old-a', period: 'during', chunks: 7 } });
    expect(cuts.causes![0]!.detail).toMatch(/2026-12-07T12:00:18.000Z .* during the rollout, stream \(7 chunks\) served by gw-old-a: HTTP 200, the stream ended after 7 chunks without \[DONE\]/);
    const failed = byId(a.checks, 'upgrade.no-failed-requests');
    expect(failed.verdict).toBe('fail');
    expect(failed.causes![0]!.detail).toMatch(/served by pod unknown \(the provider never saw the request\): no HTTP answer, Connection error/);
    expect(suiteVerdict(a.checks)).toBe('fail');
  });

  test('an HTTP error is a failed request with kind status; many failures are named up to a limit and counted', () => {
    const many = Array.from({ length: 25 }, (_, i) => rec(20 + i / 10, 20.5 + i / 10, { status: 502, complete: false, error: '502 Bad Gateway' }));
    const failed = byId(analyseUpgrade({ records: many, pods: rolled, window }).checks, 'upgrade.no-failed-requests');
    expect(failed.causes).toHaveLength(21);
    expect(failed.causes![0]!.kind).toBe('status');
    expect(failed.causes![20]).toMatchObject({ kind: 'count', detail: '5 more requests failed (not named here)' });
  });

  test('no pod replaced: "no rollout happened", a failure, never a pass', () => {
    const same: PodTimes[] = [
      { name: 'gw-a', created: s(-100), ready: s(-90), restarts: 0 },
      { name: 'gw-b', created: s(-100), ready: s(-90), restarts: 0 },
    ];
    const a = analyseUpgrade({ records: [rec(0, 1), rec(20, 21)], pods: same, window });
    const rollout = byId(a.checks, 'upgrade.rollout');
    expect(rollout.verdict).toBe('fail');
    expect(rollout.message).toMatch(/^no rollout happened: no new pod was created and no old pod was terminated \(gw-a, gw-b still running\)/);
    expect(rollout.causes![0]!.kind).toBe('no-rollout');
    expect(a.replaced).toEqual([]);
  });

  test('a new pod that never became Ready fails the rollout; restarts of old or new pods fail their check', () => {
    const pods: PodTimes[] = [
      { ...rolled[0]!, restarts: 1, restartReason: 'OOMKilled' },
      { name: 'gw-new-a', created: s(12), restarts: 3, restartReason: 'Error' },
    ];
    const a = analyseUpgrade({ records: [rec(0, 1)], pods, window });
    expect(byId(a.checks, 'upgrade.rollout')).toMatchObject({ verdict: 'fail', message: expect.stringMatching(/1 new pod\(s\) never became Ready/) });
    expect(byId(a.checks, 'upgrade.no-restarts')).toMatchObject({ verdict: 'fail', message: '2 pod(s) restarted: gw-old-a (old) 1×, last OOMKilled, gw-new-a (new) 3×, last Error' });
  });

  test('no traffic recorded proves nothing: the traffic checks fail', () => {
    const a = analyseUpgrade({ records: [], pods: rolled, window });
    expect(byId(a.checks, 'upgrade.no-failed-requests')).toMatchObject({ verdict: 'fail', message: expect.stringMatching(/no traffic was recorded/) });
  });

  test('periods: wholly before, overlapping, wholly after', () => {
    expect(periodOf({ start: s(1), end: s(9) }, window)).toBe('before');
    expect(periodOf({ start: s(9), end: s(11) }, window)).toBe('during');
    expect(periodOf({ start: s(39), end: s(41) }, window)).toBe('during');
    expect(periodOf({ start: s(41), end: s(42) }, window)).toBe('after');
  });
});

test('summary.md and JUnit carry the counts before / during / after the rollout', () => {
  const cut = rec(18, 20, { stream: true, complete: false, sawDone: false, sawUsage: false, chunks: 3, error: 'cut' });
  const records = [rec(0, 1), cut, rec(50, 51)];
  const a = analyseUpgrade({ records, pods: rolled, window });
  const evidence = upgradeEvidence({ records, pods: rolled, window, counts: a.counts });
  expect(evidence.perSecond.reduce((n, b) => n + b.ok + b.cut + b.failed, 0)).toBe(3);
  expect(evidence.perSecond[20]).toEqual({ ok: 0, failed: 0, cut: 1 });
  const report: RunReport = {
    chart: 'llm-proxy', chartTitle: 'llm-proxy', target: 'kind', startedAt: new Date(T).toISOString(), durationMs: 1, phases: [], fingerprint: {}, knownDefects: [],
    suites: [{ suite: 'upgrade', verdict: suiteVerdict(a.checks), durationMs: 1, checks: a.checks, evidence: { upgrade: evidence } }],
  };
  const md = renderMarkdown(report);
  expect(md).toContain('| during the rollout | 1 | 0 | 1 |');
  expect(md).toMatch(/- old pod gw-old-a: created .*, terminating 2026-12-07T12:00:20.000Z/);
  const xml = renderJUnit(report);
  expect(xml).toContain('<property name="upgrade.during.cut" value="1"/>');
  expect(xml).toContain('<property name="upgrade.before.requests" value="1"/>');
});
