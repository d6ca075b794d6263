// ai-gateway-core + models for real: `npm run e2e -- --chart ai-gateway-core` on the air-gapped kind
// cluster, from the real ai-helm charts (a chart mirror: $GATEWAY_SMOKE_CHART_MIRROR, e.g.
// ../shared/charts), on Envoy Gateway, AI Gateway, Envoy and the rate-limit service built here.
// Three runs on one kept cluster (CI's shared one, or its own): the first installs the stack and
// fails on the chart as shipped (its corrections, each a failing chart.as-shipped check) while every
// behaviour passes; the second, with a waiver on each of those ids, exits 0, and must reuse the stack
// (and the images on the nodes) and be faster; the
// third, with --no-corrections, must fail with a message that names the BackendTLSPolicy from Envoy's
// own evidence.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../scripts/report/model.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { expectVerdicts, type VerdictTable } from './verdict-table.ts';
import { getProfile } from '../../scripts/profiles/index.ts';
const aiGatewayCore = getProfile('ai-gateway-core');

const CLUSTER = TEST_CLUSTER;
const MIRROR = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
if (!MIRROR || !existsSync(join(MIRROR, 'ai-gateway-core')) || !existsSync(join(MIRROR, 'models'))) {
  throw new Error('GATEWAY_SMOKE_CHART_MIRROR must name a folder holding the real ai-gateway-core/ and models/ charts (e.g. ../shared/charts)');
}

interface Run {
  code: number;
  out: string;
  report: RunReport;
  dir: string;
  seconds: number;
}

async function e2e(args: string[]): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-aigw-e2e-'));
  const t0 = Date.now();
  const r = await execa(process.execPath, ['scripts/cli.ts', '--chart', 'ai-gateway-core', '--chart-mirror', MIRROR!, '--cluster-name', CLUSTER, '--report-dir', dir, ...args], {
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0' },
    timeout: 40 * 60_000,
  });
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
  await dropRunNamespace(r.all ?? '');
  return { code: r.exitCode ?? -1, out: r.all ?? '', report, dir, seconds: Math.round((Date.now() - t0) / 1000) };
}

const verdicts = (r: RunReport) => Object.fromEntries(r.suites.map((s) => [s.suite, s.verdict]));

/** ai-gateway-core + models on kind, corrected: every behaviour holds, the chart as shipped fails three checks. */
const AI_GATEWAY_ON_KIND: VerdictTable = {
  'health.probes': 'not-applicable',
  'health.gateway-programmed': 'pass',
  'health.envoy-available': 'pass',
  'health.completion': 'pass',
  keys: 'not-applicable',
  'ratelimit.burst-answered': 'pass',
  'ratelimit.burst-exact': 'pass',
  'ratelimit.429-shape': 'pass',
  'ratelimit.remaining-headers': 'pass',
  'ratelimit.other-user-unaffected': 'pass',
  'ratelimit.no-header-unlimited': 'pass',
  'ratelimit.shared-across-replicas': 'pass',
  'metrics.series-exist': 'pass',
  'metrics.requests-counted': 'pass',
  'metrics.failures-counted': 'not-applicable',
  'metrics.documented-names': 'not-applicable',
  'metrics.token-usage': 'pass',
  'metrics.monotonic': 'pass',
  netpol: 'not-applicable',
  'chart.as-shipped.https-listener-without-tls': 'fail',
  'chart.as-shipped.envoy-ratelimit-header': 'fail',
  'chart.as-shipped.models-backend-tls-policy': 'fail',
};

afterAll(() => releaseTestCluster());

describe('kind target, ai-gateway-core + models (real charts, stack built here)', () => {
  let first: Run | undefined;

  test('health, ratelimit and metrics pass; keys and netpol are not applicable; the chart as shipped fails: FAILED, exit 1', async () => {
    first = await e2e(['--keep', 'always']);
    const { code, out, report } = first;
    expect(report.error, out.slice(-4000)).toBeUndefined();
    expect(verdicts(report), out.slice(-4000)).toEqual({ health: 'pass', keys: 'not-applicable', ratelimit: 'pass', metrics: 'pass', netpol: 'not-applicable', chart: 'fail' });
    expect(code, out.slice(-2000)).toBe(1);
    expect(out).toMatch(/^FAILED — .*, the chart as shipped fails 3 checks \(corrected to test the rest\)/m);
    const chart = report.suites.find((s) => s.suite === 'chart')!;
    expect(Object.fromEntries(chart.checks.map((c) => [c.id, c.verdict]))).toEqual({
      'chart.as-shipped.https-listener-without-tls': 'fail',
      'chart.as-shipped.envoy-ratelimit-header': 'fail',
      'chart.as-shipped.models-backend-tls-policy': 'fail',
    });
    // every check pinned; two Envoy pods: the burst spans both, and the journal proves each served
    expectVerdicts(report, AI_GATEWAY_ON_KIND, { out });
    expect(chart.checks.find((c) => c.id === 'chart.as-shipped.models-backend-tls-policy')!.message).toMatch(
      /removed BackendTLSPolicy \S+\/mock-backend-01-tls, BackendTLSPolicy \S+\/mock-backend-02-tls from release models/,
    );
    expect(report.fingerprint['ai gateway stack install']).toMatch(/^(installed|reused)/);
    console.log(`first run: ${first.seconds}s (${report.fingerprint['ai gateway stack install']})`);
  });

  test('a second run on the kept cluster reuses the stack and the images on the nodes, and is faster', async () => {
    expect(first, 'the first run did not finish').toBeDefined();
    // with a waiver on each chart.as-shipped id, the chart as shipped is accepted: exit 0
    const waivers = join(await mkdtemp(join(tmpdir(), 'gs-waivers-')), 'waivers.yaml');
    await writeFile(waivers, aiGatewayCore.corrections.map((c) => `- {id: chart.as-shipped.${c.id}, reason: "accepted for the test", until: 2999-12-31}\n`).join(''));
    const second = await e2e(['--keep', 'always', '--waivers', waivers]);
    expect(verdicts(second.report), second.out.slice(-3000)).toMatchObject({ health: 'pass', ratelimit: 'pass', metrics: 'pass', chart: 'waived' });
    expect(second.code, second.out.slice(-3000)).toBe(0);
    expect(second.report.fingerprint['ai gateway stack install']).toMatch(/^reused \(installed /);
    expect(second.out).toMatch(/reusing the AI Gateway stack installed at/);
    expect(second.out).not.toMatch(/loading .* into \d+ nodes/);
    const phases = second.report.phases.map((p) => p.name);
    expect(phases.some((p) => p.startsWith('install Envoy Gateway'))).toBe(false);
    console.log(`second run: ${second.seconds}s vs first ${first!.seconds}s`);
    expect(second.seconds).toBeLessThan(first!.seconds);
  });

  test('with --no-corrections (the chart as shipped) the run fails, naming the BackendTLSPolicy from Envoy’s evidence', async () => {
    // on-failure: the cluster may be the one CI shares between files (the namespace goes in e2e())
    const r = await e2e(['--keep', 'on-failure', '--no-corrections', '--suites', 'health']);
    expect(r.code, r.out.slice(-3000)).toBe(1);
    expect(r.report.suites.map((s) => s.suite)).toEqual(['health']);
    expect(r.report.fingerprint['corrections']).toMatch(/^none applied \(--no-corrections\)/);
    const completion = r.report.suites[0]!.checks.find((c) => c.id === 'health.completion');
    expect(completion?.verdict).toBe('fail');
    expect(completion?.causes?.map((c) => c.kind)).toEqual(['status']);
    const said = (r.report.chartFindings ?? []).join('\n');
    expect(said, r.out.slice(-3000)).toMatch(/BackendTLSPolicy \S+\/mock-backend-0[12]-tls .*make.? Envoy speak TLS to a backend that serves plain HTTP/);
    expect(said).toMatch(/ssl\.connection_error = [1-9]/);
    expect(r.out).toMatch(/BackendTLSPolicy/);
    // Envoy's own witnesses, one set per Envoy pod
    const bundle = await readdir(join(r.dir, 'diagnostics', 'envoy'));
    expect(bundle.filter((f) => f.endsWith('.stats.txt')).length, bundle.join(', ')).toBe(2);
    expect(bundle.filter((f) => f.endsWith('.envoy.log')).length, bundle.join(', ')).toBe(2);
    const stats = await readFile(join(r.dir, 'diagnostics', 'envoy', bundle.find((f) => f.endsWith('.stats.txt'))!), 'utf8');
    expect(stats).toMatch(/\.ssl\.connection_error: [1-9]/);
  });
});
