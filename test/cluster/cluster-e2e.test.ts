// The main job for real: `npm run e2e` on a kind cluster (air-gapped build here), the real llm-proxy
// chart (from the chart mirror, GATEWAY_SMOKE_CHART_MIRROR) deploying llm-proxy built here. Run by
// `npm run test:cluster` (CI runs it after the unit tests); the first run creates the cluster,
// which takes minutes with a warm build cache.
import { cp, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { checkManifest } from '../../scripts/cluster/manifest.ts';
import { probeRegistry } from '../../scripts/cluster/registry.ts';
import { type CheckResult, headline, type RunReport } from '../../scripts/report/model.ts';
import { cacheDir } from '../../scripts/tools.ts';
import { failuresBesidesCutOffs, suitesWithCutOffs } from '../cut-off.ts';
import { expectVerdicts, LLM_PROXY_ON_KIND } from './verdict-table.ts';
import { requireInCI } from '../prerequisite.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';

const CLUSTER = TEST_CLUSTER;
// The real charts come from a chart mirror on a machine that cannot reach their git hosts.
requireInCI('a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)', Boolean(process.env['GATEWAY_SMOKE_CHART_MIRROR']), 'point it at a folder holding the charts at their pinned commits (.ci/run uses ../shared/charts)');
const dockerHub = await probeRegistry('docker.io', 3000);
const SECRET_PATTERN = /sk-(admin|provider)-[0-9a-f]{36}/;

async function e2e(args: string[]): Promise<{ code: number; out: string; report: RunReport; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-cluster-e2e-'));
  const r = await execa(process.execPath, ['scripts/cli.ts', '--cluster-name', CLUSTER, '--report-dir', dir, ...args], {
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0' },
    timeout: 40 * 60_000,
  });
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
  await dropRunNamespace(r.all ?? '');
  return { code: r.exitCode ?? -1, out: r.all ?? '', report, dir };
}

const check = (report: RunReport, id: string): CheckResult => {
  const checks = report.suites.flatMap((s) => s.checks);
  const c = checks.find((x) => x.id === id);
  if (!c) throw new Error(`no check ${id}: ${checks.map((x) => x.id).join(' | ')}`);
  return c;
};
const failing = (report: RunReport) =>
  report.suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail').map((c) => `${s.suite}: ${c.id}`));

afterAll(() => releaseTestCluster());

describe('kind target, llm-proxy (real chart, llm-proxy built here)', () => {
  test('every suite runs on the cluster; only the known revocation defect fails', async () => {
    const { code, out, report } = await e2e(['--chart', 'llm-proxy', '--keep', 'always']);
    expect(report.error, out.slice(-3000)).toBeUndefined();
    // Every check pinned: llm-proxy's revocation cache is its known defect; its other one, a streamed
    // answer cut off now and then, may fail the two checks that stream, only on the journal's evidence.
    expectVerdicts(report, LLM_PROXY_ON_KIND, { mayBeCutOff: ['ratelimit.burst-answered', 'keys.sdk-stream'], out });
    expect(failuresBesidesCutOffs(report.suites), out.slice(-3000)).toEqual(['keys: keys.revoked-refused']);
    expect(check(report, 'keys.revoked-refused').causes?.map((c) => c.kind)).toEqual(['status']);
    expect(code).toBe(1);
    expect(report).toMatchObject({ outcome: 'FAILED', exitCode: 1 });
    // The run fingerprint names what was tested; phases carry durations.
    expect(Object.keys(report.fingerprint)).toEqual(expect.arrayContaining(['kubernetes', 'helm', 'kind', 'chart source', 'app image']));
    expect(report.fingerprint['chart source']).toMatch(/^(mirror copy of|upstream) github\.com\/sofatutor\/llm-proxy\/deploy\/helm\/llm-proxy@66ec3dc/);
    // The real chart's disabled Bitnami dependency cannot be fetched here: dropped on a copy, and said.
    if (report.fingerprint['chart source']!.startsWith('mirror')) expect(report.fingerprint['chart change 1']).toMatch(/^dependency postgresql 15\.5\.38 .* dropped on a temporary copy of the chart/);
    // --images auto: the chart's own image (llm-proxy:latest on Docker Hub) cannot be pulled here.
    if (!dockerHub.reachable) {
      expect(report.fingerprint['app image']).toMatch(/^local stand-in \(registry unreachable for llm-proxy:latest \(HEAD https:\/\/registry-1\.docker\.io\/v2\/library\/llm-proxy\/manifests\/latest failed: /);
      const verified = suitesWithCutOffs(report.suites).includes('ratelimit') ? '2 of 5 behaviours verified, 2 failed' : '3 of 5 behaviours verified, 1 failed';
      expect(headline(report)).toMatch(new RegExp(`^FAILED — ${verified}, 1 not applicable; chart: .*llm-proxy@66ec3dc.*; images: local stand-ins$`));
      expect(out).toContain(headline(report));
    }
    expect(report.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining(['build and load images', 'install Postgres', 'helm install llm-proxy', 'open tunnel to the gateway']),
    );
    // On the Postgres the run installed, llm-proxy runs two replicas: the quota check spans both.
    // (a request cut off before the limit may have used a slot: the check allows for it, so no set-aside)
    const acrossReplicas = check(report, 'ratelimit.shared-across-replicas');
    expect(acrossReplicas.verdict, acrossReplicas.message).toBe('pass');
    expect(check(report, 'ratelimit.burst-exact').verdict, out.slice(-3000)).toBe('pass');
  });

  test('a wrong management token in the chart values fails keys with an auth message and a diagnostics bundle', async () => {
    const values = join(await mkdtemp(join(tmpdir(), 'gs-values-')), 'wrong-token.yaml');
    await writeFile(values, 'secrets:\n  data:\n    managementToken: sk-this-is-not-the-harness-token-0000\n');
    const { code, report, dir } = await e2e(['--chart', 'llm-proxy', '--keep', 'always', '--suites', 'keys', '--values', values]);
    expect(code).toBe(1);
    const keys = report.suites.find((s) => s.suite === 'keys')!;
    expect(keys.checks.find((c) => c.name === 'the admin credential creates a key')?.message).toMatch(
      /Admin auth is broken: the management token was refused/,
    );
    expect(report.diagnostics).toBe('diagnostics/');
    const bundle = await readdir(join(dir, 'diagnostics'));
    expect(bundle).toEqual(expect.arrayContaining(['events.txt', 'pods.yaml', 'logs', 'INDEX.txt']));
    const logs = await readdir(join(dir, 'diagnostics', 'logs'));
    expect(logs.some((f) => f.includes('llm-proxy'))).toBe(true);
    // The nodes' own logs: one kubelet log per node, even though `kind export logs` cannot run crictl here.
    const nodes = (await readdir(join(dir, 'diagnostics', 'kind-logs'), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(nodes.length).toBe(3);
    for (const n of nodes) expect((await readFile(join(dir, 'diagnostics', 'kind-logs', n, 'kubelet.log'), 'utf8')).length, n).toBeGreaterThan(0);
    // The bundle and the reports never carry the generated admin or provider keys.
    for (const f of ['junit.xml', 'summary.md', 'report.html', 'report.json', 'diagnostics/pods.yaml', 'diagnostics/workloads.yaml']) {
      expect(await readFile(join(dir, f), 'utf8'), f).not.toMatch(SECRET_PATTERN);
    }
  });
});

describe('the main job: npm run e2e on its default chart (routeiq)', () => {
  test('the real routeiq chart on the LiteLLM stand-in: NetworkPolicy and metrics run (with Prisma\'s engines keys and per-key 429s across two replicas too), every failure is a named check, the headline says what was proven', async () => {
    const { code, report, out } = await e2e(['--keep', 'always']);
    expect(report.chart).toBe('routeiq');
    expect(report.error, out.slice(-3000)).toBeUndefined();
    const v = Object.fromEntries(report.suites.map((s) => [s.suite, s.verdict]));
    expect(v['netpol'], out.slice(-3000)).toBe('pass');
    // RouteIQ's own /_health/* exist only in its own image, which cannot be had here.
    expect(report.suites.find((s) => s.suite === 'health')!.reason).toMatch(/^routeiq app image unavailable/);
    expect(report.fingerprint['chart source']).toMatch(/routeiq-gateway@a96d48f/);
    // With Prisma's engines (CI passes them) keys and ratelimit run for real: what fails is a named
    // check with its evidence (LiteLLM's own defects, see the profile's knownDefects), never a setup error.
    for (const s of report.suites) for (const c of s.checks.filter((x) => x.verdict === 'fail')) expect(c.message, `${s.suite} > ${c.name}`).toBeTruthy();
    if (process.env['GATEWAY_SMOKE_PRISMA_ENGINES']) {
      // keys and the per-key limit for real, on two replicas sharing Redis, on chart 1.81.3's LiteLLM
      expect(report.fingerprint['litellm (stand-in)']).toMatch(/^1\.81\.3: /);
      for (const id of ['keys.create', 'keys.sdk-completion', 'keys.sdk-stream', 'keys.wrong-key-refused', 'keys.provider-key-upstream']) {
        expect(check(report, id), id).toMatchObject({ verdict: 'pass' });
      }
      for (const id of ['ratelimit.burst-answered', 'ratelimit.burst-exact', 'ratelimit.shared-across-replicas']) expect(check(report, id).verdict, `${id}: ${out.slice(-3000)}`).toBe('pass');
      // Revocation across replicas: a pod that validated the key before the delete keeps serving it
      // from LiteLLM's in-memory key cache (the profile's knownDefects).
      for (const id of ['keys.revoked-refused', 'keys.revoked-limited-refused']) {
        const c = check(report, id);
        expect(c.verdict, c.message).toBe('fail');
        expect(c.message).toMatch(/still accepted 15 s after deletion: .*routeiq-routeiq-gateway-\S+: [1-9]\d* of \d+ accepted, last at \d+\.\d s/);
      }
    }
    // the chart as shipped: its two corrections, each a failing check naming the chart's default
    const chart = report.suites.find((s) => s.suite === 'chart')!;
    expect(Object.fromEntries(chart.checks.map((c) => [c.id, c.verdict]))).toEqual({
      'chart.as-shipped.master-key-reference': 'fail',
      'chart.as-shipped.prometheus-callback': 'fail',
    });
    expect(chart.checks[0]!.message).toMatch(/chart default "env\/LITELLM_MASTER_KEY", corrected to "os\.environ\/LITELLM_MASTER_KEY"/);
    // a chart that fails as shipped never reads as a pass: FAILED, exit 1, and the headline says why
    expect(failing(report)).toEqual(expect.arrayContaining(['chart: chart.as-shipped.master-key-reference', 'chart: chart.as-shipped.prometheus-callback']));
    expect(headline(report)).toMatch(
      /^FAILED — \d of 5 behaviours verified, .*the chart as shipped fails 2 checks \(corrected to test the rest\); chart: (mirror copy of|upstream) github\.com\/baladithyab\/litellm-llm-router\/deploy\/charts\/routeiq-gateway@a96d48f.*; images: local stand-ins$/,
    );
    expect(out).toContain(headline(report));
    expect(code).toBe(1);
    expect(report).toMatchObject({ outcome: 'FAILED', exitCode: 1 });
  });
});

describe('kind target, waits that cannot succeed fail fast and name the cause', () => {
  test("--images chart with an image no registry serves: stops before installing when the registry says so, else fails at pull in seconds", async () => {
    // llm-proxy:latest is on no registry. Where Docker Hub answers it says so (unauthorized: Docker Hub's
    // word for a repository that does not exist) and the run stops at once; where it cannot be asked
    // (this machine, CI) a node might still have a mirror, so the run goes on and the pull fails fast.
    const asked = await checkManifest('llm-proxy:latest');
    if (asked.kind !== 'registry unreachable') {
      const dir = await mkdtemp(join(tmpdir(), 'gs-cluster-e2e-'));
      const r = await execa(process.execPath, ['scripts/cli.ts', '--cluster-name', CLUSTER, '--report-dir', dir, '--chart', 'llm-proxy', '--images', 'chart', '--suites', 'health'], {
        reject: false,
        all: true,
        env: { FORCE_COLOR: '0' },
      });
      expect(r.exitCode).toBe(2);
      expect(r.all).toMatch(new RegExp(`gateway-smoke: --images chart: the chart's image llm-proxy:latest cannot be pulled: ${asked.kind} for llm-proxy:latest`));
      return;
    }
    const { code, report, out } = await e2e(['--chart', 'llm-proxy', '--images', 'chart', '--suites', 'health', '--keep', 'always']);
    expect(code).toBe(1);
    const wait = report.phases.find((p) => p.name === 'wait for llm-proxy to be ready')!;
    expect(wait.status).toBe('failed');
    expect(wait.durationMs).toBeLessThan(30_000);
    expect(report.error).toMatch(/^Pod\/llm-proxy-\S+ \(container llm-proxy\) cannot get its image llm-proxy:latest: (ErrImagePull|ImagePullBackOff)/);
    const unreachable = /registry unreachable for llm-proxy:latest \(HEAD https:\/\/registry-1\.docker\.io\/v2\/library\/llm-proxy\/manifests\/latest failed: \S+\)/;
    expect(report.error).toMatch(/Asked from this machine, its registry says registry unreachable \(HEAD https:\/\/registry-1\.docker\.io\/v2\/library\/llm-proxy\/manifests\/latest failed: \S+\)/);
    expect(report.fingerprint['app image']).toMatch(new RegExp(`^the chart's own llm-proxy:latest \\(--images chart; going on although ${unreachable.source}\\)$`));
    // Each cause is printed once while running (outer phases point back at it), then in the verdict.
    expect(out.split('cannot get its image llm-proxy:latest').length - 1).toBe(2);
  });

  test('a pre-install hook Job whose Secret is missing is named with its pod state, never "timed out waiting for the condition"', async () => {
    const chart = join(await mkdtemp(join(tmpdir(), 'gs-hook-chart-')), 'llm-proxy');
    await cp(join(process.env['GATEWAY_SMOKE_CHART_MIRROR']!, 'llm-proxy'), chart, { recursive: true });
    // A migration-style hook, as litellm-proxy's chart has: it reads a Secret nobody created.
    await writeFile(
      join(chart, 'templates', 'gs-test-migration-hook.yaml'),
      `apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .Release.Name }}-migrate
  annotations:
    helm.sh/hook: pre-install
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ .Values.image.repository }}:{{ .Values.image.tag | default "latest" }}
          imagePullPolicy: IfNotPresent
          command: ["true"]
          envFrom:
            - secretRef:
                name: gs-missing-postgresql-app
`,
    );
    const started = Date.now();
    const { code, report } = await e2e(['--chart', 'llm-proxy', '--chart-dir', chart, '--suites', 'health', '--keep', 'always']);
    expect(code).toBe(1);
    expect(report.error).toMatch(/^the Helm pre-install hook Job\/llm-proxy-migrate, pod llm-proxy-migrate-\S+ \(container migrate\) cannot start: CreateContainerConfigError — Secret "gs-missing-postgresql-app" is missing in namespace gs-llm-proxy-/);
    expect(report.error).not.toMatch(/timed out waiting for the condition/);
    const install = report.phases.find((p) => p.name === 'helm install llm-proxy')!;
    expect(install.durationMs, `${Date.now() - started} ms in all`).toBeLessThan(45_000);
  });
});

/** Starts a run in the background and resolves once its suites are running, with its namespace. */
async function startRunUntilSuites(args: string[]) {
  const dir = await mkdtemp(join(tmpdir(), 'gs-cluster-e2e-'));
  const cli = execa(process.execPath, ['scripts/cli.ts', '--cluster-name', CLUSTER, '--keep', 'always', '--report-dir', dir, ...args], {
    reject: false,
    all: true,
    env: { FORCE_COLOR: '0' },
  });
  const bin = join(cacheDir(), 'airgap', 'bin');
  const kubeconfig = join(dir, 'kubeconfig');
  let seen = '';
  let fetched: Promise<void> | undefined;
  // The kubeconfig is fetched while the run installs, so a test can act the moment suites start.
  const namespace = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`never reached the suites:\n${seen.slice(-2000)}`)), 20 * 60_000);
    cli.all!.on('data', (b: Buffer) => {
      seen += b.toString();
      const ns = /run namespace: (\S+)/.exec(seen)?.[1];
      if (ns && !fetched) {
        fetched = execa(join(bin, 'kind'), ['get', 'kubeconfig', '--name', CLUSTER]).then(({ stdout }) => writeFile(kubeconfig, stdout, { mode: 0o600 }));
      }
      if (ns && seen.includes('▶ run suites')) {
        clearTimeout(timer);
        fetched!.then(() => resolve(ns), reject);
      }
    });
  });
  return { cli, dir, namespace, kubeconfig, kubectl: join(bin, 'kubectl') };
}

describe('kind target, failures under the run', () => {
  test('deleting the gateway pod mid-run fails the verdict and the report says the pod was deleted', async () => {
    const { cli, dir, namespace, kubeconfig, kubectl } = await startRunUntilSuites(['--chart', 'llm-proxy', '--suites', 'keys,metrics']);
    await execa(kubectl, ['--kubeconfig', kubeconfig, '-n', namespace, 'delete', 'pod', '-l', 'app.kubernetes.io/instance=llm-proxy', '--wait=false']);
    const r = await cli;
    await dropRunNamespace(r.all ?? '');
    expect(r.exitCode, r.all?.slice(-3000)).toBe(1);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report.findings?.join('\n'), r.all?.slice(-3000)).toMatch(/gateway pod \S+ was deleted during the run/);
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toMatch(/What changed under the run/);
    expect(await readFile(join(dir, 'diagnostics', 'events.txt'), 'utf8')).toMatch(/Killing|Deleted|SuccessfulCreate/);
  });

  // The tunnels are port-forwards over the harness's connections to the API server. Aborting those
  // TCP connections from outside (ss -K, as a network blip or an API server restart would) kills
  // the tunnels under the suites; the run must not pass as if nothing happened.
  test('killing the tunnels mid-run fails the verdict and the report names the broken tunnel', async () => {
    const { cli, dir, kubeconfig } = await startRunUntilSuites(['--chart', 'llm-proxy', '--suites', 'ratelimit,metrics']);
    const apiPort = /server: https:\/\/127\.0\.0\.1:(\d+)/.exec(await readFile(kubeconfig, 'utf8'))?.[1];
    expect(apiPort).toBeDefined();
    let finished = false;
    void cli.then(() => (finished = true));
    let killed = 0;
    for (let round = 0; !finished && round < 10; round++) {
      const ss = await execa('ss', ['-K', 'dst', '127.0.0.1', 'dport', '=', `:${apiPort}`], { reject: false });
      expect(ss.stderr, 'ss -K needs root and a kernel with INET_DIAG_DESTROY').not.toMatch(/Operation not permitted/);
      killed += ss.stdout.split('\n').filter((l) => l.includes('ESTAB')).length;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const r = await cli;
    await dropRunNamespace(r.all ?? '');
    expect(killed, 'no connection to the API server was open to abort').toBeGreaterThan(0);
    expect(r.exitCode, r.all?.slice(-3000)).toBe(1);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
    expect(report.findings?.join('\n'), r.all?.slice(-3000)).toMatch(/the tunnel \S+ .*broke during the run \([1-9]\d* forwarded connection/);
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toMatch(/What changed under the run[\s\S]*tunnel/);
    expect(report.diagnostics).toBe('diagnostics/');
    expect(await readdir(join(dir, 'diagnostics'))).toEqual(expect.arrayContaining(['events.txt', 'pods.yaml', 'logs']));
  });
});

describe('kind target, a CNI that enforces no NetworkPolicy', () => {
  // kube-router is what enforces NetworkPolicy on this cluster. With its pods gone, policies created
  // afterwards are never programmed: exactly a CNI that enforces nothing.
  test('the canary says so (environment), the matrix is not probed, and no cell is shown as a pass', async () => {
    const kubeconfig = join(await mkdtemp(join(tmpdir(), 'gs-kc-')), 'kubeconfig');
    const bin = join(cacheDir(), 'airgap', 'bin');
    await writeFile(kubeconfig, (await execa(join(bin, 'kind'), ['get', 'kubeconfig', '--name', CLUSTER])).stdout, { mode: 0o600 });
    const kubectl = (args: string[]) => execa(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, '-n', 'kube-system', ...args]);
    await kubectl(['patch', 'daemonset', 'kube-router', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"gateway-smoke/no-such-node":"true"}}}}}']);
    try {
      await kubectl(['wait', '--for=delete', 'pod', '-l', 'k8s-app=kube-router', '--timeout=120s']);
      const { code, report, dir, out } = await e2e(['--chart', 'routeiq', '--suites', 'netpol', '--keep', 'always']);
      const netpol = report.suites.find((s) => s.suite === 'netpol')!;
      expect(netpol.checks.map((c) => [c.name.split(':')[0], c.verdict]), out.slice(-3000)).toEqual([
        ['canary', 'environment'],
        ["the chart's policy matrix holds", 'environment'],
      ]);
      expect(netpol.checks[0]!.message).toBe('the CNI does not enforce NetworkPolicy: a deny-all NetworkPolicy did not block client → server within 15 s');
      expect(netpol.verdict).toBe('environment');
      const cells = netpol.evidence?.netpolMatrix ?? [];
      expect(cells.length).toBe(5);
      expect(cells.every((c) => c.observed === 'not-probed')).toBe(true);
      expect(await readFile(join(dir, 'report.html'), 'utf8')).not.toMatch(/class="np-cell np-ok"/);
      // what fails is the chart as shipped (its corrections), never the unenforced policy
      expect(failing(report).every((f) => f.startsWith('chart: chart.as-shipped.')), failing(report).join('; ')).toBe(true);
      expect(code).toBe(1);
    } finally {
      await kubectl(['patch', 'daemonset', 'kube-router', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]']);
      await kubectl(['rollout', 'status', 'daemonset/kube-router', '--timeout=180s']);
    }
  });
});

describe('kind target, Ctrl-C', () => {
  // Three moments: kind half-way through creating the nodes, images loading, suites running over
  // open tunnels. Each time the run must exit 130 and, with --keep never, leave nothing behind.
  test.each([
    ['while kind creates the nodes', 'Preparing nodes'],
    ['while images are built and loaded', '▶ build and load images'],
    ['while the suites run over open tunnels', '▶ run suites'],
  ])('Ctrl-C %s, with --keep never, leaves no cluster, container or process behind', async (_when, trigger) => {
    const name = `${CLUSTER}-int`;
    const kind = join(cacheDir(), 'airgap', 'bin', 'kind');
    const cli = execa(process.execPath, ['scripts/cli.ts', '--chart', 'llm-proxy', '--cluster-name', name, '--keep', 'never', '--report-dir', await mkdtemp(join(tmpdir(), 'gs-int-'))], {
      reject: false,
      all: true,
      env: { FORCE_COLOR: '0' },
    });
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the run never got to "${trigger}":\n${seen.slice(-2000)}`)), 20 * 60_000);
      cli.all!.on('data', (b: Buffer) => {
        seen += b.toString();
        if (seen.includes(trigger)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    cli.kill('SIGINT');
    const r = await cli;
    expect(r.exitCode, r.all?.slice(-2000)).toBe(130);
    expect((await execa(kind, ['get', 'clusters'], { reject: false })).stdout.split('\n')).not.toContain(name);
    const containers = (await execa('docker', ['ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n');
    expect(containers.filter((c) => c.startsWith(`${name}-`))).toEqual([]);
    // Nothing the run started outlives it: no kind, helm, cluster-up.sh or image build for this cluster.
    const left = (await execa('pgrep', ['-af', name], { reject: false })).stdout.split('\n').filter((l) => l && !l.includes('vitest'));
    expect(left).toEqual([]);
  });
});
