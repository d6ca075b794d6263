// Verdicts that cannot mislead: partial suite labels, the headline, waivers before and after their
// date, and the one place that decides environment verdicts.
import { describe, expect, test } from 'vitest';
import { getProfile } from '../scripts/profiles/index.ts';
import { type CheckResult, headline, type RunReport, runFailed, suiteLabel, suiteVerdict } from '../scripts/report/model.ts';
import { environmentFor } from '../scripts/targets/environment.ts';
import { applyWaivers, parseWaivers } from '../scripts/waivers.ts';

const check = (name: string, verdict: CheckResult['verdict'], message?: string): CheckResult => ({ name, verdict, durationMs: 1, ...(message ? { message } : {}) });

function report(): RunReport {
  const keys = [check('the admin credential creates a key', 'pass'), check('a deleted unlimited key is refused', 'fail', 'HTTP 200 after delete')];
  const health = [check('liveness answers without credentials', 'pass'), check('readiness answers without credentials', 'pass'), check('readiness reports postgres going away', 'environment', 'cannot stop it')];
  return {
    chart: 'llm-proxy',
    chartTitle: 'llm-proxy',
    target: 'kind',
    startedAt: '2026-12-01T00:00:00Z',
    durationMs: 1,
    phases: [],
    suites: [
      { suite: 'health', verdict: suiteVerdict(health), durationMs: 1, checks: health },
      { suite: 'keys', verdict: suiteVerdict(keys), durationMs: 1, checks: keys },
      { suite: 'ratelimit', verdict: 'environment', reason: 'Prisma engines unavailable', durationMs: 0, checks: [] },
      { suite: 'metrics', verdict: 'pass', durationMs: 1, checks: [check('the promised series exist', 'pass')] },
      { suite: 'netpol', verdict: 'not-applicable', reason: 'no NetworkPolicy', durationMs: 0, checks: [] },
    ],
    fingerprint: {},
    knownDefects: [],
    provenance: { chart: 'mirror copy of github.com/sofatutor/llm-proxy/deploy/helm/llm-proxy@66ec3dc', images: 'local stand-ins' },
  };
}

describe('suite labels and the headline', () => {
  test('a suite with an environment check is pass with its partial count, never plain pass', () => {
    const r = report();
    expect(suiteLabel(r.suites[0]!)).toBe('pass (2 of 3; 1 environment)');
    expect(suiteLabel(r.suites[3]!)).toBe('pass (1 of 1)');
    expect(suiteLabel(r.suites[1]!)).toBe('FAIL (1 of 2; 1 FAIL)');
  });

  test('the headline counts only fully proven behaviours as verified and names chart and images', () => {
    const r = report();
    r.suites[1] = { ...r.suites[1]!, verdict: 'pass', checks: [check('the admin credential creates a key', 'pass')] };
    expect(headline(r)).toBe(
      'PASSED — 2 of 5 behaviours verified, 1 only partly, 1 blocked by the environment, 1 not applicable; ' +
        'chart: mirror copy of github.com/sofatutor/llm-proxy/deploy/helm/llm-proxy@66ec3dc; images: local stand-ins',
    );
  });

  test('a failing run says FAILED and how many failed', () => {
    expect(headline(report())).toMatch(/^FAILED — 1 of 5 behaviours verified, 1 only partly, 1 failed, 1 blocked by the environment, 1 not applicable;/);
  });
});

describe('waivers', () => {
  const file = `- check: "keys > a deleted unlimited key is refused"
  reason: "llm-proxy revocation cache, accepted until the fix ships"
  until: 2026-12-31
- check: "metrics > a check that does not exist"
  reason: "stale"
  until: 2027-01-01
`;
  const waivers = parseWaivers(file, 'waivers.yaml');

  test('before its date a waived failure is `waived` (not pass), carries the reason, and does not fail the run', () => {
    const r = report();
    applyWaivers(r, waivers, '2026-12-01');
    const keys = r.suites[1]!;
    expect(keys.checks[1]).toMatchObject({ verdict: 'waived' });
    expect(keys.checks[1]!.message).toMatch(/^waived until 2026-12-31: llm-proxy revocation cache.*HTTP 200 after delete/);
    expect(keys.verdict).toBe('waived');
    expect(runFailed(r)).toBe(false);
    expect(headline(r)).toMatch(/1 failing under a waiver/);
    expect(r.unusedWaivers).toEqual(['metrics > a check that does not exist (until 2027-01-01): matched no failing check']);
  });

  test('after its date the failure fails the run again, saying the waiver expired', () => {
    const r = report();
    applyWaivers(r, waivers, '2027-01-01');
    expect(r.suites[1]!.checks[1]).toMatchObject({ verdict: 'fail' });
    expect(r.suites[1]!.checks[1]!.message).toMatch(/^waiver expired on 2026-12-31/);
    expect(runFailed(r)).toBe(true);
  });

  test('a waiver with `failure` waives only a failure whose message contains it; any other failure of the check blocks', () => {
    const scoped = parseWaivers(
      '- {check: "keys > a deleted unlimited key is refused", reason: "the revocation cache", until: 2026-12-31, failure: "HTTP 200 after delete"}\n' +
        '- {check: "keys > a deleted unlimited key is refused", reason: "a different failure", until: 2026-12-31, failure: "HTTP 500"}\n',
      'waivers.yaml',
    );
    const r = report();
    applyWaivers(r, scoped, '2026-12-01');
    expect(r.suites[1]!.checks[1]).toMatchObject({ verdict: 'waived' });
    expect(r.suites[1]!.checks[1]!.message).toMatch(/^waived until 2026-12-31: the revocation cache — the failure: .*HTTP 200 after delete/);
    expect(r.unusedWaivers).toEqual(['keys > a deleted unlimited key is refused (until 2026-12-31, failing with "HTTP 500"): matched no failing check']);

    const other = report();
    applyWaivers(other, [scoped[1]!], '2026-12-01');
    expect(other.suites[1]!.checks[1]).toMatchObject({ verdict: 'fail' });
    expect(runFailed(other)).toBe(true);
  });

  test.each([
    ['not a list', 'check: x', /not a list/],
    ['no suite prefix', '- {check: "just a name", reason: r, until: 2027-01-01}', /<suite> > <check name>/],
    ['no reason', '- {check: "keys > x", until: 2027-01-01}', /has no "reason"/],
    ['a bad date', '- {check: "keys > x", reason: r, until: soon}', /"until" \(line 1\) is "soon", not a calendar date/],
  ])('a waivers file with %s is refused with one paragraph naming the file', (_what, text, why) => {
    expect(() => parseWaivers(text, '/tmp/w.yaml')).toThrow(why);
    expect(() => parseWaivers(text, '/tmp/w.yaml')).toThrow(/\/tmp\/w\.yaml/);
  });
});

describe('environmentFor decides every environment verdict', () => {
  test('url target without a mock: the upstream 429 check is environment, not a failure', () => {
    const env = environmentFor(getProfile('llm-proxy'), { kind: 'url', standIn: false, adminKey: true, mock: false, controllable: [] });
    expect(env['metrics.upstream-429']).toMatch(/no harness mock provider/);
    expect(env.keys).toBeUndefined();
  });

  test('a stand-in brings the profile limits; missing Prisma blocks keys, ratelimit and the postgres readiness check', () => {
    const env = environmentFor(getProfile('routeiq'), { kind: 'kind', standIn: true, prisma: 'Prisma engines unavailable', adminKey: true, mock: true, controllable: [] });
    expect(env.health).toMatch(/routeiq app image unavailable/);
    expect(env.keys).toBe('Prisma engines unavailable');
    expect(env.ratelimit).toBe('Prisma engines unavailable');
    expect(env['health.postgres']).toBe('Prisma engines unavailable');
  });

  test('a dependency the target cannot stop is named; one it can stop is not blocked', () => {
    const litellm = getProfile('litellm-proxy');
    expect(environmentFor(litellm, { kind: 'kind', standIn: false, adminKey: true, mock: true, controllable: [] })['health.postgres']).toMatch(/cannot stop postgres/);
    expect(environmentFor(litellm, { kind: 'kind', standIn: false, adminKey: true, mock: true, controllable: ['postgres'] })['health.postgres']).toBeUndefined();
  });
});
