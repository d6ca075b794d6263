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
const failing = (report: RunReport) => report.suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail').map((c) => `${s.suite}: ${c.name}`)).sort();

afterAll(() => releaseTestCluster());

describe.skipIf(!haveEngines)('litellm-proxy (our chart of its values contract) with Prisma engines, Postgres and Redis', () => {
  test('keys, per-key 429s across two replicas and metrics run for real; what fails is a named LiteLLM or chart defect', async () => {
    const { out, report } = await e2e(['--chart', 'litellm-proxy', '--chart-dir', LITELLM_PROXY_CHART, '--prisma-engines', ENGINES]);
    expect(report?.error, out.slice(-3000)).toBeUndefined();
    const r = report!;
    expect(r.fingerprint['prisma engines'], out.slice(-2000)).toMatch(/prisma-engines in gateway-smoke\/litellm:1\.80\.15-prisma-[0-9a-f]{12}$/);
    // keys for real: generated, used (plain and streamed), refused when wrong, provider key upstream
    for (const name of [/admin credential creates a key/, /completes a chat request/, /streams a chat completion/, /wrong key is refused/, /upstream saw the provider key/]) {
      expect(check(r, 'keys', name), name.source).toMatchObject({ verdict: 'pass' });
    }
    // the per-key limit, shared through Redis by two replicas x four workers: exactly `limit` pass
    expect(check(r, 'ratelimit', /exact burst/).verdict).toBe('pass');
    expect(check(r, 'ratelimit', /429 has the promised shape/).verdict).toBe('pass');
    expect(check(r, 'ratelimit', /holds across every replica/).verdict).toBe('pass');
    expect(failing(r)).toEqual([
      'health: readiness reports postgres going away',
      'keys: a deleted rate-limited key is refused',
      'keys: a deleted unlimited key is refused',
      'metrics: litellm_proxy_failed_requests_metric_total moved by exactly 1 for the 429',
      'metrics: litellm_proxy_total_requests_metric_total moved by exactly the requests sent',
      'metrics: the metric names the chart documents are exported',
      'ratelimit: successes carry the remaining-requests headers',
    ]);
    expect(check(r, 'health', /postgres going away/).message).toMatch(/never reported postgres going away within 150s.*last: HTTP 200 db="connected"/);
    // Every replica had used each key before its deletion; a pod that did not handle the delete keeps serving it from memory.
    for (const kind of ['unlimited', 'rate-limited']) {
      expect(check(r, 'keys', new RegExp(`deleted ${kind}`)).message).toMatch(/^a deleted \S+ key was still accepted 15 s after deletion: .*litellm-proxy-\S+: [1-9]\d* of \d+ accepted, last at 1[5-9]\.\d s/);
    }
    expect(check(r, 'metrics', /total_requests/).message).toMatch(/moved by 8 for 4 request\(s\) sent .*: every request was counted twice/);
    expect(check(r, 'metrics', /documents/).message).toMatch(/chart finding: .*templates\/NOTES\.txt tells users to watch litellm_total_requests, .* which \/metrics does not export/);
    expect(check(r, 'ratelimit', /remaining-requests/).message).toMatch(/^request #1 \(streamed\): headers .*x-litellm-key-rpm-limit/);
    expect(r.knownDefects.join('\n')).toMatch(/counts every proxied request twice/);
  });

  test('with allow_requests_on_db_unavailable off, readiness reports Postgres going away (scaled to 0) and recovers', async () => {
    const values = join(await mkdtemp(join(tmpdir(), 'gs-values-')), 'db-strict.yaml');
    await writeFile(values, 'litellm:\n  generalSettings:\n    allow_requests_on_db_unavailable: false\n');
    const { out, report } = await e2e(['--chart', 'litellm-proxy', '--chart-dir', LITELLM_PROXY_CHART, '--prisma-engines', ENGINES, '--suites', 'health', '--values', values]);
    expect(report?.error, out.slice(-3000)).toBeUndefined();
    expect(check(report!, 'health', /postgres going away/), out.slice(-3000)).toMatchObject({ verdict: 'pass' });
    expect(out).toMatch(/control: stop postgres done/);
    expect(out).toMatch(/control: start postgres done/);
  });

  test('without engines the chart cannot start, and the run stops as environment in the provisioning, saying what to pass', async () => {
    const { code, out } = await e2e(['--chart', 'litellm-proxy', '--chart-dir', LITELLM_PROXY_CHART, '--suites', 'keys'], { [PRISMA_ENGINES_ENV]: '' });
    expect(code, out.slice(-2000)).toBe(3);
    expect(out).toMatch(/always connects LiteLLM to its database, and LiteLLM cannot use one here: Prisma engines not given/);
  });
});

describe.skipIf(!haveEngines || !haveMirror)('routeiq (the real chart from the mirror) on the LiteLLM stand-in with Prisma engines', () => {
  test('keys and per-key 429s run for real on two replicas sharing Redis', async () => {
    const { out, report } = await e2e(['--chart', 'routeiq', '--prisma-engines', ENGINES, '--suites', 'keys,ratelimit']);
    expect(report?.error, out.slice(-3000)).toBeUndefined();
    const r = report!;
    expect(r.fingerprint['litellm (stand-in)']).toMatch(/^1\.81\.3: /);
    for (const name of [/admin credential creates a key/, /completes a chat request/, /streams a chat completion/, /wrong key is refused/]) {
      expect(check(r, 'keys', name), name.source).toMatchObject({ verdict: 'pass' });
    }
    expect(check(r, 'ratelimit', /exact burst/).verdict, out.slice(-3000)).toBe('pass');
    expect(check(r, 'ratelimit', /holds across every replica/).verdict, out.slice(-3000)).toBe('pass');
    // Revocation across replicas: a pod that validated the key before the delete keeps serving it
    // from LiteLLM's in-memory key cache (the profile's knownDefects).
    for (const kind of ['unlimited', 'rate-limited']) {
      const c = check(r, 'keys', new RegExp(`deleted ${kind}`));
      expect(c.verdict, c.message).toBe('fail');
      expect(c.message).toMatch(/still accepted 15 s after deletion: .*routeiq-routeiq-gateway-\S+: [1-9]\d* of \d+ accepted, last at 1[5-9]\.\d s/);
    }
  });

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
    expect(code, out.slice(-3000)).toBe(0);
    expect(report!.suites.map((s) => [s.suite, s.verdict, s.reason])).toEqual([
      ['keys', 'environment', NOT_GIVEN],
      ['ratelimit', 'environment', NOT_GIVEN],
    ]);
    expect(out).toMatch(/not installing Postgres: the gateway could not use it/);
  });
});
