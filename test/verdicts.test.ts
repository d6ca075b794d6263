// Verdicts that cannot mislead: partial suite labels, the three outcomes and their exit codes, the
// headline, waivers by id (before and after their date, narrowed by chart and cause), and the one
// place that decides environment verdicts.
import { describe, expect, test } from 'vitest';
import { getProfile } from '../scripts/profiles/index.ts';
import { ExitCode } from '../scripts/errors.ts';
import type { Cause } from '../scripts/report/check-ids.ts';
import { type CheckResult, exitCodeOf, headline, incompleteReasons, outcome, type RunReport, runFailed, suiteLabel, suiteVerdict } from '../scripts/report/model.ts';
import { environmentFor } from '../scripts/targets/environment.ts';
import { applyWaivers, parseWaivers } from '../scripts/waivers.ts';

const check = (id: string, name: string, verdict: CheckResult['verdict'], message?: string, causes?: Cause[]): CheckResult => ({
  id,
  name,
  verdict,
  durationMs: 1,
  ...(message ? { message } : {}),
  ...(causes ? { causes } : {}),
});

function report(): RunReport {
  const keys = [
    check('keys.create', 'the admin credential creates a key', 'pass'),
    check('keys.revoked-refused', 'a deleted unlimited key is refused', 'fail', 'HTTP 200 after delete', [{ kind: 'status', detail: 'still accepted' }]),
  ];
  const health = [
    check('health.live', 'liveness answers without credentials', 'pass'),
    check('health.ready', 'readiness answers without credentials', 'pass'),
    check('health.ready-reports-postgres', 'readiness reports postgres going away', 'environment', 'cannot stop it'),
  ];
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
      { suite: 'metrics', verdict: 'pass', durationMs: 1, checks: [check('metrics.series-exist', 'the promised series exist', 'pass')] },
      { suite: 'netpol', verdict: 'not-applicable', reason: 'no NetworkPolicy', durationMs: 0, checks: [] },
    ],
    fingerprint: {},
    knownDefects: [],
    provenance: { chart: 'mirror copy of github.com/sofatutor/llm-proxy/deploy/helm/llm-proxy@66ec3dc', images: 'local stand-ins (--images local)' },
  };
}

/** Every behaviour proven: the report a VERIFIED run gives. */
function proven(): RunReport {
  const r = report();
  const pass = (id: string) => check(id, id, 'pass');
  r.suites = [
    { suite: 'health', verdict: 'pass', durationMs: 1, checks: [pass('health.live'), pass('health.ready')] },
    { suite: 'keys', verdict: 'pass', durationMs: 1, checks: [pass('keys.create'), pass('keys.revoked-refused')] },
  ];
  r.provenance = { chart: 'the chart', images: "the chart's own" };
  return r;
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
    r.suites[1] = { ...r.suites[1]!, verdict: 'pass', checks: [check('keys.create', 'the admin credential creates a key', 'pass')] };
    expect(headline(r)).toBe(
      'INCOMPLETE — 2 of 5 behaviours verified, 1 only partly, 1 blocked by the environment, 1 not applicable; ' +
        'not proven: blocked by the environment: health, ratelimit; ' +
        'chart: mirror copy of github.com/sofatutor/llm-proxy/deploy/helm/llm-proxy@66ec3dc; images: local stand-ins (--images local)',
    );
  });

  test('a failing run says FAILED and how many failed', () => {
    expect(headline(report())).toMatch(/^FAILED — 1 of 5 behaviours verified, 1 only partly, 1 failed, 1 blocked by the environment, 1 not applicable;/);
  });
});

describe('outcomes and exit codes', () => {
  test('every behaviour proven on what the chart ships: VERIFIED, exit 0', () => {
    const r = proven();
    expect(outcome(r)).toBe('VERIFIED');
    expect(exitCodeOf(outcome(r), false)).toBe(ExitCode.ok);
    expect(headline(r)).toMatch(/^VERIFIED — 2 of 2 behaviours verified; chart: the chart; images: the chart's own$/);
  });

  test('all behaviours blocked by the environment: INCOMPLETE, exit 4; exit 0 with --accept-incomplete, the headline still INCOMPLETE', () => {
    const r = proven();
    r.suites = r.suites.map((s) => ({ ...s, verdict: 'environment', reason: 'Prisma engines unavailable', checks: [] }));
    expect(outcome(r)).toBe('INCOMPLETE');
    expect(exitCodeOf('INCOMPLETE', false)).toBe(4);
    expect(exitCodeOf('INCOMPLETE', true)).toBe(0);
    expect(headline(r)).toMatch(/^INCOMPLETE — 0 of 2 behaviours verified, 2 blocked by the environment; not proven: blocked by the environment: health, keys;/);
  });

  test('a stand-in chosen by --images auto is INCOMPLETE even when every check passed', () => {
    const r = proven();
    r.provenance = { chart: 'the chart', images: 'local stand-ins', unproven: ["the chart's own image was not used (--images auto: manifest unknown)"] };
    expect(outcome(r)).toBe('INCOMPLETE');
    expect(incompleteReasons(r)).toEqual(["the chart's own image was not used (--images auto: manifest unknown)"]);
    expect(headline(r)).toContain("not proven: the chart's own image was not used");
  });

  test('nothing applicable is not a pass', () => {
    const r = proven();
    r.suites = r.suites.map((s) => ({ ...s, verdict: 'not-applicable', reason: 'no such feature', checks: [] }));
    expect(outcome(r)).toBe('INCOMPLETE');
  });

  test('a failed check or a setup error: FAILED, exit 1, whatever else was blocked', () => {
    expect(outcome(report())).toBe('FAILED');
    expect(exitCodeOf('FAILED', true)).toBe(1);
    const r = proven();
    r.error = 'helm install failed';
    r.suites = [];
    expect(headline(r)).toMatch(/^FAILED — setup failed before any behaviour ran/);
  });

  test('a chart correction is a failing check of the chart as shipped: FAILED, and the headline says so', () => {
    const r = proven();
    const defect = check('chart.as-shipped.models-backend-tls-policy', 'chart as shipped: BackendTLSPolicy', 'fail', 'removed', [{ kind: 'chart-defect', detail: 'removed' }]);
    r.suites.push({ suite: 'chart', verdict: 'fail', durationMs: 0, checks: [defect] });
    expect(outcome(r)).toBe('FAILED');
    expect(headline(r)).toMatch(/^FAILED — 2 of 2 behaviours verified, the chart as shipped fails 1 check \(corrected to test the rest\)/);
    applyWaivers(r, parseWaivers('- {id: chart.as-shipped.models-backend-tls-policy, reason: "upstream fix pending", until: 2027-01-31}', 'w.yaml'), '2026-12-07');
    expect(outcome(r)).toBe('VERIFIED');
    expect(headline(r)).toMatch(/1 chart correction accepted by a waiver/);
  });
});

describe('waivers', () => {
  const file = `- id: keys.revoked-refused
  reason: "llm-proxy revocation cache, accepted until the fix ships"
  until: 2026-12-31
  link: https://github.com/sofatutor/llm-proxy/issues/1
- id: metrics.requests-counted
  reason: "stale"
  until: 2027-01-01
`;
  const waivers = parseWaivers(file, 'waivers.yaml');

  test('before its date a waived failure is `waived` (not pass), carries the reason, and does not fail the run', () => {
    const r = report();
    applyWaivers(r, waivers, '2026-12-01');
    const keys = r.suites[1]!;
    expect(keys.checks[1]).toMatchObject({ verdict: 'waived' });
    expect(keys.checks[1]!.message).toMatch(/^waived until 2026-12-31: llm-proxy revocation cache.*\(https:\/\/github.com\/sofatutor\/llm-proxy\/issues\/1\).*HTTP 200 after delete/);
    expect(keys.verdict).toBe('waived');
    expect(runFailed(r)).toBe(false);
    expect(headline(r)).toMatch(/1 failing under a waiver/);
    expect(r.unusedWaivers).toEqual(['metrics.requests-counted (until 2027-01-01): matched no failing check']);
  });

  test('after its date the failure fails the run again, saying the waiver expired', () => {
    const r = report();
    applyWaivers(r, waivers, '2027-01-01');
    expect(r.suites[1]!.checks[1]).toMatchObject({ verdict: 'fail' });
    expect(r.suites[1]!.checks[1]!.message).toMatch(/^waiver expired on 2026-12-31/);
    expect(runFailed(r)).toBe(true);
  });

  test('a waiver with `cause` holds only when every cause is of that kind; a waiver with `chart` only for that chart', () => {
    const scoped = parseWaivers(
      '- {id: keys.revoked-refused, cause: status, chart: llm-proxy, reason: "the revocation cache", until: 2026-12-31}\n' +
        '- {id: keys.revoked-refused, cause: no-answer, reason: "a different failure", until: 2026-12-31}\n',
      'waivers.yaml',
    );
    const r = report();
    applyWaivers(r, scoped, '2026-12-01');
    expect(r.suites[1]!.checks[1]).toMatchObject({ verdict: 'waived' });
    expect(r.unusedWaivers).toEqual(['keys.revoked-refused (until 2026-12-31, cause no-answer): matched no failing check']);

    const mixed = report();
    mixed.suites[1]!.checks[1]!.causes = [{ kind: 'status', detail: 'accepted' }, { kind: 'no-answer', detail: 'cut off' }];
    applyWaivers(mixed, scoped, '2026-12-01');
    expect(mixed.suites[1]!.checks[1]).toMatchObject({ verdict: 'fail' });

    const otherChart = report();
    otherChart.chart = 'routeiq';
    applyWaivers(otherChart, [scoped[0]!], '2026-12-01');
    expect(otherChart.suites[1]!.checks[1]).toMatchObject({ verdict: 'fail' });
    expect(runFailed(otherChart)).toBe(true);
  });

  test.each([
    ['not a list', 'check: x', /not a list/],
    ['the first format (check:)', '- {check: "keys > a wrong key is refused", reason: r, until: 2027-01-01}', /field "check" \(line 1\) is from the first waivers format: waivers name a check by its stable "id"/],
    ['the first format (failure:)', '- {id: keys.wrong-key-refused, failure: "HTTP 500", reason: r, until: 2027-01-01}', /field "failure" \(line 1\) is from the first waivers format: a waiver narrows by "cause"/],
    ['an unknown id of a suite', '- {id: keys.a-wrong-key, reason: r, until: 2027-01-01}', /not a check id of the keys suite \(its ids: keys.create, .*keys.revoked-refused/],
    ['an unknown cause', '- {id: keys.create, cause: flaky, reason: r, until: 2027-01-01}', /"cause" \(line 1\) is "flaky", not a cause kind \(one of no-answer, count/],
    ['an unknown chart', '- {id: keys.create, chart: nope, reason: r, until: 2027-01-01}', /not a chart profile \(one of /],
    ['no reason', '- {id: keys.create, until: 2027-01-01}', /has no "reason"/],
    ['a bad date', '- {id: keys.create, reason: r, until: soon}', /"until" \(line 1\) is "soon", not a calendar date/],
  ])('a waivers file with %s is refused with one paragraph naming the file', (_what, text, why) => {
    expect(() => parseWaivers(text, '/tmp/w.yaml')).toThrow(why);
    expect(() => parseWaivers(text, '/tmp/w.yaml')).toThrow(/\/tmp\/w\.yaml/);
  });

  test("a waiver may name the run's own --profile chart, and only that one besides the built-ins", () => {
    const text = '- {id: keys.create, chart: team-proxy, reason: r, until: 2027-01-01}';
    expect(parseWaivers(text, '/tmp/w.yaml', 'team-proxy')[0]).toMatchObject({ chart: 'team-proxy' });
    expect(() => parseWaivers(text, '/tmp/w.yaml', 'other')).toThrow(/not a chart profile \(one of routeiq, llm-proxy, litellm-proxy, ai-gateway-core, other\)/);
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
