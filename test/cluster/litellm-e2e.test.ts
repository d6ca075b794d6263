// The two LiteLLM charts on a real kind cluster with Prisma's engines (GATEWAY_SMOKE_PRISMA_ENGINES):
// keys and per-key 429s for real, Postgres and Redis installed as each chart expects them, the
// database taken away under readiness, and the same runs without engines ending as `environment`.
// Run by `npm run test:cluster`; every failure a test expects is a LiteLLM or chart defect that the
// profile's knownDefects names, asserted by its message so a new failure cannot hide behind it.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { NOT_GIVEN, PRISMA_ENGINES_ENV } from '../../scripts/prisma-engines.ts';
import type { CheckResult, RunReport } from '../../scripts/report/model.ts';
import { requireInCI } from '../prerequisite.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { getProfile } from '../../scripts/profiles/index.ts';
const litellmProxy = getProfile('litellm-proxy');

const ENGINES = process.env[PRISMA_ENGINES_ENV] ?? '';
const MIRROR = process.env['GATEWAY_SMOKE_CHART_MIRROR'] ?? '';
const haveEngines = requireInCI("Prisma's engines", ENGINES !== '', `set ${PRISMA_ENGINES_ENV} (e.g. ../shared/prisma-engines)`);
const haveMirror = requireInCI('the chart mirror', MIRROR !== '', 'set GATEWAY_SMOKE_CHART_MIRROR (e.g. ../shared/charts)');
const LITELLM_PROXY_CHART = join(import.meta.dirname, '..', '..', 'fixtures', 'charts', 'litellm-proxy');

async function e2e(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; report: RunReport | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-litellm-e2e-'));
  const r = await execa(process.execPath, ['scripts/cli.ts', '--cluster-name', TEST_CLUSTER, '--keep', 'always', '--images', 'local', '--report-dir', dir, ...args], {
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0', ...env },
    timeout: 40 * 60_000,
  });
  const report = await readFile(join(dir, 'report.json'), 'utf8').then((t) => JSON.parse(t) as RunReport, () => undefined);
  await dropRunNamespace(r.all ?? '');
  return { code: r.exitCode ?? -1, out: r.all ?? '', report };
}

const check = (report: RunReport, id: string): CheckResult => {
  const checks = report.suites.flatMap((s) => s.checks);
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}: ${checks.map((x) => x.id).join(' | ')}`);
  return c;
};
const failing = (report: RunReport) => report.suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail').map((c) => c.id)).sort();

afterAll(() => releaseTestCluster());

describe.skipIf(!haveEngines)('litellm-proxy (our chart of its values contract) with Prisma engines, Postgres and Redis', () => {
  // The chart's default allow_requests_on_db_unavailable: true hides a database outage from readiness
  // (the profile's knownDefects); with it off, readiness must report Postgres scaled to 0 and recover.
  test('keys, per-key 429s across two replicas, metrics and readiness on a database outage run for real; what fails is a named LiteLLM or chart defect', async () => {
    const values = join(await mkdtemp(join(tmpdir(), 'gs-values-')), 'db-strict.yaml');
    await writeFile(values, 'litellm:\n  generalSettings:\n    allow_requests_on_db_unavailable: false\n');
    const { out, report } = await e2e(['--chart', 'litellm-proxy', '--chart-dir', LITELLM_PROXY_CHART, '--prisma-engines', ENGINES, '--values', values]);
    expect(report?.error, out.slice(-3000)).toBeUndefined();
    const r = report!;
    expect(r.fingerprint['prisma engines'], out.slice(-2000)).toMatch(/prisma-engines in gateway-smoke\/litellm:1\.80\.15-prisma-[0-9a-f]{12}$/);
    expect(check(r, 'health.ready-reports-postgres'), out.slice(-3000)).toMatchObject({ verdict: 'pass' });
    expect(out).toMatch(/control: stop postgres done/);
    expect(out).toMatch(/control: start postgres done/);
    // keys for real: generated, used (plain and streamed), refused when wrong, provider key upstream
    for (const id of ['keys.create', 'keys.sdk-completion', 'keys.sdk-stream', 'keys.wrong-key-refused', 'keys.provider-key-upstream']) {
      expect(check(r, id), id).toMatchObject({ verdict: 'pass' });
    }
    // the per-key limit, shared through Redis by two replicas x four workers: exactly `limit` pass
    for (const id of ['ratelimit.burst-answered', 'ratelimit.burst-exact', 'ratelimit.429-shape', 'ratelimit.shared-across-replicas']) expect(check(r, id).verdict, id).toBe('pass');
    expect(failing(r)).toEqual([
      // the chart as shipped: the profile's corrections, each a failing check with its evidence
      ...litellmProxy.corrections.map((c) => `chart.as-shipped.${c.id}`).sort(),
      'keys.revoked-limited-refused',
      'keys.revoked-refused',
      'metrics.documented-names',
      'metrics.failures-counted',
      'metrics.requests-counted',
      'ratelimit.remaining-headers',
    ]);
    // Every replica had used each key before its deletion; a pod that did not handle the delete keeps serving it from memory.
    for (const id of ['keys.revoked-refused', 'keys.revoked-limited-refused']) {
      expect(check(r, id).message).toMatch(/^a deleted \S+ key was still accepted 15 s after deletion: .*litellm-proxy-\S+: [1-9]\d* of \d+ accepted, last at \d+\.\d s/);
      expect(check(r, id).causes?.map((c) => c.kind)).toEqual(['status']);
    }
    expect(check(r, 'metrics.requests-counted').message).toMatch(/moved by 8 for 4 request\(s\) sent .*: every request was counted twice/);
    expect(check(r, 'metrics.requests-counted').causes?.[0]).toMatchObject({ kind: 'count', evidence: { expected: 4, moved: 8 } });
    expect(check(r, 'metrics.documented-names').message).toMatch(/chart finding: .*templates\/NOTES\.txt tells users to watch litellm_total_requests, .* which \/metrics does not export/);
    expect(check(r, 'ratelimit.remaining-headers').message).toMatch(/^request #1 \(streamed\): headers .*x-litellm-key-rpm-limit/);
    expect(check(r, 'ratelimit.remaining-headers').causes?.map((c) => c.kind)).toEqual(['header-missing']);
    expect(r.knownDefects.join('\n')).toMatch(/counts every proxied request twice/);
  });

  test('without engines the chart cannot start, and the run stops as environment in the provisioning, saying what to pass', async () => {
    const { code, out } = await e2e(['--chart', 'litellm-proxy', '--chart-dir', LITELLM_PROXY_CHART, '--suites', 'keys'], { [PRISMA_ENGINES_ENV]: '' });
    expect(code, out.slice(-2000)).toBe(3);
    expect(out).toMatch(/always connects LiteLLM to its database, and LiteLLM cannot use one here: Prisma engines not given/);
  });
});

describe.skipIf(!haveEngines || !haveMirror)('routeiq (the real chart from the mirror) on the LiteLLM stand-in with Prisma engines', () => {
  test('two replicas without Redis: the ratelimit suite fails, saying successes = limit × replicas', async () => {
    const { code, out, report } = await e2e(['--chart', 'routeiq', '--prisma-engines', ENGINES, '--suites', 'ratelimit'], { GATEWAY_SMOKE_SKIP_INSTALLS: 'redis' });
    expect(code, out.slice(-3000)).toBe(1);
    expect(out).toMatch(/not installing Redis/);
    const c = check(report!, 'ratelimit.shared-across-replicas');
    expect(c.verdict).toBe('fail');
    expect(c.message).toMatch(/successes = limit × replicas \(3 × 2\): each replica counts on its own/);
  });

  test('without engines: keys and ratelimit end as environment with the reason, no database is installed, and the run is INCOMPLETE (exit 4)', async () => {
    // --no-corrections: the chart as shipped, so no chart.as-shipped check fails the run; only the
    // environment stands between it and a verdict
    const { code, out, report } = await e2e(['--chart', 'routeiq', '--suites', 'keys,ratelimit', '--no-corrections'], { [PRISMA_ENGINES_ENV]: '' });
    expect(code, out.slice(-3000)).toBe(4);
    expect(out).toMatch(/^INCOMPLETE — 0 of 2 behaviours verified, 2 blocked by the environment; not proven: blocked by the environment: keys, ratelimit;/m);
    expect(report!.suites.map((s) => [s.suite, s.verdict, s.reason])).toEqual([
      ['keys', 'environment', NOT_GIVEN],
      ['ratelimit', 'environment', NOT_GIVEN],
    ]);
    expect(out).toMatch(/not installing Postgres: the gateway could not use it/);
  });
});
