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
import { litellmProxy } from '../../scripts/profiles/litellm-proxy.ts';
import type { CheckResult, RunReport } from '../../scripts/report/model.ts';
import { requireInCI } from '../prerequisite.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';

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

const checksOf = (report: RunReport, suite: string): CheckResult[] => report.suites.find((s) => s.suite === suite)?.checks ?? [];
const check = (report: RunReport, suite: string, name: RegExp): CheckResult => {
  const c = checksOf(report, suite).find((x) => name.test(x.name));
  if (!c) throw new Error(`no ${suite} check matching ${name}: ${checksOf(report, suite).map((x) => x.name).join(' | ')}`);
  return c;
};
const byId = (id: string): string => litellmProxy.corrections.find((c) => c.id === id)!.defect;
const failing = (report: RunReport) => report.suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail').map((c) => `${s.suite}: ${c.name}`)).sort();

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
    expect(check(r, 'health', /postgres going away/), out.slice(-3000)).toMatchObject({ verdict: 'pass' });
    expect(out).toMatch(/control: stop postgres done/);
    expect(out).toMatch(/control: start postgres done/);
    // keys for real: generated, used (plain and streamed), refused when wrong, provider key upstream
    for (const name of [/admin credential creates a key/, /completes a chat request/, /streams a chat completion/, /wrong key is refused/, /upstream saw the provider key/]) {
      expect(check(r, 'keys', name), name.source).toMatchObject({ verdict: 'pass' });
    }
    // the per-key limit, shared through Redis by two replicas x four workers: exactly `limit` pass
    expect(check(r, 'ratelimit', /exact burst/).verdict).toBe('pass');
    expect(check(r, 'ratelimit', /429 has the promised shape/).verdict).toBe('pass');
    expect(check(r, 'ratelimit', /holds across every replica/).verdict).toBe('pass');
    expect(failing(r)).toEqual([
      // the chart as shipped: the profile's corrections, each a failing check with its evidence
      `chart: chart as shipped: ${byId('router-redis-at-sentinel')}`,
      `chart: chart as shipped: ${byId('separate-health-app')}`,
      'keys: a deleted rate-limited key is refused',
      'keys: a deleted unlimited key is refused',
      'metrics: litellm_proxy_failed_requests_metric_total moved by exactly 1 for the 429',
      'metrics: litellm_proxy_total_requests_metric_total moved by exactly the requests sent',
      'metrics: the metric names the chart documents are exported',
      'ratelimit: successes carry the remaining-requests headers',
    ]);
    // Every replica had used each key before its deletion; a pod that did not handle the delete keeps serving it from memory.
    for (const kind of ['unlimited', 'rate-limited']) {
      expect(check(r, 'keys', new RegExp(`deleted ${kind}`)).message).toMatch(/^a deleted \S+ key was still accepted 15 s after deletion: .*litellm-proxy-\S+: [1-9]\d* of \d+ accepted, last at \d+\.\d s/);
    }
    expect(check(r, 'metrics', /total_requests/).message).toMatch(/moved by 8 for 4 request\(s\) sent .*: every request was counted twice/);
    expect(check(r, 'metrics', /documents/).message).toMatch(/chart finding: .*templates\/NOTES\.txt tells users to watch litellm_total_requests, .* which \/metrics does not export/);
    expect(check(r, 'ratelimit', /remaining-requests/).message).toMatch(/^request #1 \(streamed\): headers .*x-litellm-key-rpm-limit/);
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
    const c = check(report!, 'ratelimit', /holds across every replica/);
    expect(c.verdict).toBe('fail');
    expect(c.message).toMatch(/successes = limit × replicas \(3 × 2\): each replica counts on its own/);
  });

  test('without engines: keys and ratelimit end as environment with the reason, and no database is installed', async () => {
    const { code, out, report } = await e2e(['--chart', 'routeiq', '--suites', 'keys,ratelimit'], { [PRISMA_ENGINES_ENV]: '' });
    // the chart as shipped fails (its corrections); the behaviours are blocked by the environment
    expect(code, out.slice(-3000)).toBe(1);
    expect(report!.suites.map((s) => [s.suite, s.verdict, s.reason])).toEqual([
      ['keys', 'environment', NOT_GIVEN],
      ['ratelimit', 'environment', NOT_GIVEN],
      ['chart', 'fail', undefined],
    ]);
    expect(out).toMatch(/not installing Postgres: the gateway could not use it/);
  });
});
