// The kind and existing targets: a cluster, the chart's dependencies and the mock provider in a
// fresh namespace, the chart installed with helm, readiness watched, the gateway reached through
// tunnels that prove themselves. Every step pushes its undo onto the run's cleanup stack.
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../errors.ts';
import { apiStatus, type Kube, kube } from '../kube/client.ts';
import { collectDiagnostics } from '../kube/diagnostics.ts';
import { type HelmEnv, helmInstall, helmVersion } from '../kube/helm.ts';
import { type FixtureTarget, imageValues, installFixture, installPostgres } from './dependencies.ts';
import { Tunnel, resolveService } from '../kube/tunnel.ts';
import { waitForWorkloads } from '../kube/wait.ts';
import type { RunPlan } from '../plan.ts';
import type { ChartProfile } from '../profiles/types.ts';
import type { RunContext } from '../run-context.ts';
import { newSecret } from '../secrets.ts';
import { PROJECT_ROOT } from '../suite-runner.ts';
import { locate } from '../tools.ts';
import type { Diagnosis } from './index.ts';
import type { ProvisionedTarget } from './types.ts';
import { type ImageName, listImages } from '../images/index.ts';
import { prismaBlocker } from '../local/paths.ts';

const MOCK_PORT = 8089;
const READY_TIMEOUT_MS = 300_000;

interface PodSnapshot {
  name: string;
  uid: string;
  restarts: number;
}

interface ClusterState {
  /** The run created the cluster and will delete it unless kept: its namespaces go with it. */
  deletesCluster?: (failed: boolean) => boolean;
  gatewayPods: PodSnapshot[];
  tunnels: Tunnel[];
  release?: string;
  k?: Kube;
  kubeconfig?: string;
  namespace?: string;
  helmEnv?: HelmEnv;
  releases: string[];
  kindBin?: string;
}

/** Per-run state the diagnostics step needs after provisioning (or after it failed half-way). */
const state: ClusterState = { releases: [], gatewayPods: [], tunnels: [] };


async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function tool(name: string): Promise<string> {
  const found = await locate(name);
  if (!found) throw new EnvironmentError(`${name} is needed for the cluster target; run \`npm run cluster:up\` to build it.`);
  return found;
}

/** Creates (or reuses) the kind cluster through the project's air-gap aware script. */
async function ensureKindCluster(plan: RunPlan, ctx: RunContext): Promise<{ kubeconfig: string; context: string; created: boolean }> {
  // On a fresh machine kind itself is missing: cluster-up.sh builds it with everything else.
  const found = await locate('kind');
  const present = found ? (await execa(found, ['get', 'clusters'], { reject: false })).stdout.split('\n').includes(plan.clusterName) : false;
  if (!present) {
    state.deletesCluster = (failed) => plan.keep === 'never' || (plan.keep === 'on-failure' && !failed);
    // Registered before creation: a Ctrl-C half-way through must not leave a cluster behind.
    ctx.defer(`delete kind cluster ${plan.clusterName} (--keep ${plan.keep})`, async () => {
      if (plan.keep === 'always' || (plan.keep === 'on-failure' && ctx.failed)) {
        ctx.log.info(`keeping kind cluster ${plan.clusterName} (--keep ${plan.keep}); delete it with: npm run cluster:down -- ${plan.clusterName}`);
        return;
      }
      await execa('bash', [join(PROJECT_ROOT, 'scripts/airgap/cluster-down.sh'), plan.clusterName], { reject: false });
    });
    await ctx.phase(`create kind cluster ${plan.clusterName} (builds what is missing)`, async () => {
      // Its own process group, so an interrupt stops kind itself, not just the shell around it.
      const up = execa('bash', [join(PROJECT_ROOT, 'scripts/airgap/cluster-up.sh'), plan.clusterName], { reject: false, all: true, detached: true });
      const stop = () => {
        if (up.pid) {
          try {
            process.kill(-up.pid, 'SIGTERM');
          } catch {
            // already gone
          }
        }
      };
      ctx.signal.addEventListener('abort', stop, { once: true });
      void up.finally(() => ctx.signal.removeEventListener('abort', stop));
      // Long phase: stream the script's progress lines so nobody stares at a silent terminal.
      up.all?.on('data', (b: Buffer) => {
        for (const line of b.toString().split('\n')) if (line.trim()) ctx.log.info(`  ${line}`);
      });
      const r = await up;
      if (r.exitCode !== 0) throw new Error(`scripts/airgap/cluster-up.sh exited ${r.exitCode}: ${String(r.all ?? '').split('\n').slice(-5).join(' ')}`);
    });
  } else {
    ctx.log.info(`reusing kind cluster ${plan.clusterName}`);
  }
  const kind = await tool('kind');
  state.kindBin = kind;
  const dir = await mkdtemp(join(tmpdir(), 'gs-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const kc = await execa(kind, ['get', 'kubeconfig', '--name', plan.clusterName]);
  await writeFile(kubeconfig, kc.stdout, { mode: 0o600 });
  ctx.defer('remove temporary kubeconfig', () => rm(dir, { recursive: true, force: true }));
  return { kubeconfig, context: `kind-${plan.clusterName}`, created: !present };
}

/** Builds the local images and loads them into every node, then checks each node really has them. */
/** The images this chart's run needs: loading a 600 MB LiteLLM image into three nodes for a Go gateway wastes minutes. */
function imagesFor(profile: ChartProfile, suites: string[]): ImageName[] {
  const names: ImageName[] = ['mock'];
  if (profile.local === 'llm-proxy') names.push('llm-proxy');
  if (profile.local === 'litellm') names.push('litellm');
  if (profile.installs?.includes('postgres')) names.push('postgres');
  if (suites.includes('netpol') && !('notApplicable' in profile.capabilities.netpol)) names.push('probe');
  return names;
}

async function loadImages(plan: RunPlan, ctx: RunContext, kind: string): Promise<Record<string, string>> {
  const build = join(PROJECT_ROOT, 'scripts/images/build-images.sh');
  const wanted = imagesFor(plan.profile, plan.suites);
  const r = execa('bash', [build, '--only', wanted.join(',')], { all: true, reject: false, cancelSignal: ctx.signal });
  r.all?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) ctx.log.info(`  ${line}`);
  });
  const built = await r;
  if (built.exitCode !== 0) throw new Error(`building images failed (exit ${built.exitCode}): ${String(built.all ?? '').split('\n').slice(-4).join(' ')}`);
  imageRefs = await listImages({ only: wanted });
  // A database the gateway cannot use is not installed, so its image need not be loaded either.
  if (imageRefs.postgres && (await databaseUnusable(plan))) delete imageRefs.postgres;
  const refs = Object.values(imageRefs);
  const nodes = (await execa(kind, ['get', 'nodes', '--name', plan.clusterName])).stdout.split('\n').filter(Boolean);
  // containerd's own view (namespace k8s.io) is what kubelet uses; docker's is irrelevant here.
  const onNode = async (node: string) => (await execa('docker', ['exec', node, 'ctr', '-n', 'k8s.io', 'images', 'ls'])).stdout.split('\n');
  const has = (lines: string[], ref: string) => lines.find((l) => [ref, `docker.io/${ref}`].includes(l.split(/\s+/)[0] ?? ''));
  // Only what some node lacks is loaded: a rerun against a kept cluster skips minutes of copying.
  const missing = new Set<string>();
  for (const node of nodes) {
    const lines = await onNode(node);
    for (const ref of refs) if (!has(lines, ref)) missing.add(ref);
  }
  if (missing.size) {
    ctx.log.info(`loading ${[...missing].join(', ')} into ${nodes.length} nodes`);
    await execa(kind, ['load', 'docker-image', '--name', plan.clusterName, ...missing], { cancelSignal: ctx.signal });
  }
  // `kind load` has been known to report success for images a node does not have: check each node.
  const digests: Record<string, string> = {};
  for (const node of nodes) {
    const lines = await onNode(node);
    for (const ref of refs) {
      const line = has(lines, ref);
      if (!line) {
        throw new Error(`node ${node} does not have image ${ref} after \`kind load\`; re-run, or load it with \`kind load docker-image ${ref} --name ${plan.clusterName}\``);
      }
      digests[`image ${ref}`] = line.split(/\s+/).find((f) => f.startsWith('sha256:'))?.slice(0, 19) ?? 'present';
    }
  }
  return digests;
}

/** Where the chart comes from: --chart-dir, the pinned upstream (when reachable), else our fixture. */
async function resolveChart(plan: RunPlan, ctx: RunContext): Promise<{ path: string; label: string }> {
  if (plan.chartDir) return { path: plan.chartDir, label: `local checkout ${plan.chartDir}` };
  const src = plan.profile.source;
  if (src.kind === 'git') {
    const dir = await mkdtemp(join(tmpdir(), 'gs-chart-'));
    ctx.defer('remove chart checkout', () => rm(dir, { recursive: true, force: true }));
    const git = (args: string[]) => execa('git', args, { cwd: dir, reject: false, timeout: 60_000 });
    await git(['init', '-q']);
    const fetched = await git(['fetch', '-q', '--depth', '1', src.repo, src.commit]);
    if (fetched.exitCode === 0 && (await git(['checkout', '-q', 'FETCH_HEAD'])).exitCode === 0) {
      return { path: join(dir, src.path), label: `${src.repo}/${src.path}@${src.commit.slice(0, 12)}` };
    }
    const fixture = join(PROJECT_ROOT, 'fixtures/charts', src.path.split('/').pop()!);
    if (await exists(fixture)) {
      const why = (fetched.stderr || 'fetch failed').split('\n').filter(Boolean).pop() ?? '';
      ctx.log.warn(`upstream chart ${src.repo} is unreachable (${why.slice(0, 160)}); using the fixture chart ${fixture}`);
      return { path: fixture, label: `fixture stand-in fixtures/charts/${src.path.split('/').pop()} (upstream unreachable: ${why.slice(0, 120)})` };
    }
    throw new EnvironmentError(`The chart ${src.repo}/${src.path} could not be fetched at ${src.commit} and no fixture chart exists; pass --chart-dir with a local checkout.`);
  }
  return { path: `${src.ref}`, label: `${src.ref}:${src.version}` };
}

async function createNamespace(k: Kube, ctx: RunContext, plan: RunPlan, namespace: string, labels: Record<string, string> = {}): Promise<void> {
  await k.core.createNamespace({ body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke', ...labels } } } });
  ctx.defer(`delete namespace ${namespace}`, async () => {
    if (ctx.failed && plan.keep !== 'never') {
      ctx.log.info(`keeping namespace ${namespace} for inspection (--keep ${plan.keep})`);
      return;
    }
    if (state.deletesCluster?.(ctx.failed)) return; // deleting the cluster removes it anyway
    await deleteNamespace(k, namespace, ctx);
  });
}

/** delete → wait → strip finalizers, so a namespace stuck Terminating never outlives the run. */
export async function deleteNamespace(k: Kube, namespace: string, ctx: RunContext): Promise<void> {
  try {
    await k.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' });
  } catch (err) {
    if (apiStatus(err) === 404) return;
    throw err;
  }
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      await k.core.readNamespace({ name: namespace });
    } catch (err) {
      if (apiStatus(err) === 404) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.log.warn(`namespace ${namespace} stuck terminating after 90s; removing its finalizers`);
  const ns = await k.core.readNamespace({ name: namespace });
  ns.spec = { finalizers: [] };
  await k.core.replaceNamespaceFinalize({ name: namespace, body: ns });
}

/** Image refs of this checkout (content-hash tags), set once the images are loaded. */
let imageRefs: Partial<Record<ImageName, string>> = {};

function mockValues(): Record<string, unknown> {
  return { fullnameOverride: 'mock', image: imageValues(imageRefs.mock, 'gateway-smoke/mock'), service: { port: MOCK_PORT } };
}

export async function provisionCluster(plan: RunPlan, ctx: RunContext): Promise<ProvisionedTarget> {
  const profile: ChartProfile = plan.profile;
  let kubeconfig: string;
  let context: string | undefined;
  const fingerprint: Record<string, string> = {};

  if (plan.target === 'kind') {
    const c = await ensureKindCluster(plan, ctx);
    kubeconfig = c.kubeconfig;
    context = c.context;
    const kind = state.kindBin!;
    fingerprint['kind'] = (await execa(kind, ['version'])).stdout.trim();
    if (plan.keep === 'never' && !c.created) {
      state.deletesCluster = () => true;
      // A cluster this run reused is deleted only when asked to keep nothing.
      ctx.defer(`delete kind cluster ${plan.clusterName} (--keep never)`, async () => {
        await execa('bash', [join(PROJECT_ROOT, 'scripts/airgap/cluster-down.sh'), plan.clusterName], { reject: false });
      });
    }
    Object.assign(fingerprint, await ctx.phase('build and load images', () => loadImages(plan, ctx, kind)));
  } else {
    imageRefs = await listImages();
    kubeconfig = process.env['KUBECONFIG']?.split(':')[0] ?? join(process.env['HOME'] ?? '', '.kube/config');
    context = plan.kubeContext;
  }
  const helmBin = await tool('helm');
  const k = kube(kubeconfig, context);
  state.k = k;
  state.kubeconfig = kubeconfig;
  const version = await k.kc.makeApiClient((await import('@kubernetes/client-node')).VersionApi).getCode();
  fingerprint['kubernetes'] = version.gitVersion;
  const helmEnv: HelmEnv = { helm: helmBin, kubeconfig, ...(k.context ? { context: k.context } : {}) };
  state.helmEnv = helmEnv;
  fingerprint['helm'] = await helmVersion(helmBin);

  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const namespace = `gs-${profile.name}-${runId}`.slice(0, 60);
  state.namespace = namespace;
  ctx.log.info(`run namespace: ${namespace} (kube context ${k.context})`);
  await createNamespace(k, ctx, plan, namespace, { 'gateway-smoke/role': 'gateway' });

  const adminKey = newSecret('sk-admin');
  const providerKey = newSecret('sk-provider');

  const fixtures: FixtureTarget = { k, helmEnv, namespace, ctx, releases: state.releases };
  const mockRelease = 'mock';
  await ctx.phase('install mock provider', () =>
    installFixture(fixtures, { release: mockRelease, chart: 'mock-provider', values: mockValues(), what: 'mock provider', timeoutMs: 120_000 }),
  );
  const mockService = (await k.core.listNamespacedService({ namespace, labelSelector: `app.kubernetes.io/instance=${mockRelease}` })).items[0]?.metadata?.name;
  if (!mockService) throw new Error(`the mock provider release created no Service in ${namespace}`);
  const mockUrlInCluster = `http://${mockService}.${namespace}.svc.cluster.local:${MOCK_PORT}`;

  const databaseUrl = await installDependencies(plan, ctx, fixtures);

  const chart = await ctx.phase('resolve chart source', () => resolveChart(plan, ctx));
  fingerprint['chart source'] = chart.label;
  const release = profile.name;
  const values: Record<string, unknown>[] = [
    profile.values({ mockUrl: mockUrlInCluster, providerKey, adminKey, model: plan.model, ...(databaseUrl ? { databaseUrl } : {}) }),
  ];
  if (!('notApplicable' in profile.capabilities.netpol) && plan.suites.includes('netpol')) {
    values.push(profile.capabilities.netpol.enableValues);
  }
  await ctx.phase(`helm install ${release}`, async () => {
    state.releases.push(release);
    await helmInstall(helmEnv, {
      release,
      chart: chart.path,
      namespace,
      values,
      ...(plan.valuesFile ? { valuesFiles: [plan.valuesFile] } : {}),
      timeoutMs: READY_TIMEOUT_MS,
      signal: ctx.signal,
    });
  });
  await ctx.phase(`wait for ${release} to be ready`, () =>
    waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/instance=${release}`, timeoutMs: READY_TIMEOUT_MS, what: `release ${release}`, signal: ctx.signal, onProgress: (l) => ctx.log.info(l) }),
  );

  const serviceName = `${release}-${profile.service.nameSuffix}`.replace(`${profile.name}-${profile.name}`, profile.name);
  const svc = await findService(k, namespace, release, profile, serviceName);
  const probePath = 'notApplicable' in profile.capabilities.health ? '/' : profile.capabilities.health.live.path;
  const gateway = new Tunnel(k, { namespace, service: { name: svc, port: profile.service.port }, probePath, log: (l) => ctx.log.warn(l) });
  const baseUrl = await ctx.phase('open tunnel to the gateway', () => gateway.open());
  state.tunnels.push(gateway);
  state.release = release;
  state.gatewayPods = await snapshotPods(k, namespace, release);
  ctx.defer('close gateway tunnel', () => gateway.close());
  const mockTunnel = new Tunnel(k, { namespace, service: { name: mockService, port: MOCK_PORT }, probePath: '/__mock/health', log: (l) => ctx.log.warn(l) });
  const mockUrl = await mockTunnel.open();
  state.tunnels.push(mockTunnel);
  ctx.defer('close mock tunnel', () => mockTunnel.close());

  // One pinned tunnel per ready pod, so suites can spread requests over every replica.
  const pods = await resolveService(k, namespace, svc, profile.service.port);
  const replicaUrls: string[] = [];
  if (pods.length > 1) {
    for (const pod of pods) {
      const t = new Tunnel(k, { namespace, pod, probePath });
      replicaUrls.push(await t.open());
      state.tunnels.push(t);
      ctx.defer(`close tunnel to pod ${pod.pod}`, () => t.close());
    }
  }
  const environment: ProvisionedTarget['target']['environment'] = {};
  const prisma = plan.target === 'kind' && profile.local === 'litellm' ? await prismaInImage(imageRefs.litellm) : undefined;
  if (prisma) {
    environment.keys = prisma;
    environment.ratelimit = prisma;
    environment['health.postgres'] = prisma;
  }
  return {
    target: {
      kind: plan.target,
      chart: profile.name,
      baseUrl,
      adminKey,
      model: plan.model,
      ...(replicaUrls.length > 1 ? { replicaUrls } : {}),
      mock: { url: mockUrl, providerKey },
      standIn: chart.label.startsWith('fixture') && profile.standInLimits !== undefined,
      environment,
      cluster: {
        kubeconfig,
        ...(k.context ? { context: k.context } : {}),
        namespace,
        release,
        serviceName: svc,
        servicePort: profile.service.port,
        mockServiceName: mockService,
        mockServicePort: MOCK_PORT,
      },
    },
    fingerprint,
  };
}

/** The profile's `installs` that its gateway can use here; returns the DATABASE_URL when Postgres is up. */
async function installDependencies(plan: RunPlan, ctx: RunContext, fixtures: FixtureTarget): Promise<string | undefined> {
  if (!plan.profile.installs?.includes('postgres')) return undefined;
  const unusable = await databaseUnusable(plan);
  if (unusable) {
    ctx.log.info(`not installing Postgres: the gateway could not use it (${unusable})`);
    return undefined;
  }
  return ctx.phase('install Postgres', () => installPostgres(fixtures, imageRefs.postgres));
}

/**
 * Why the gateway could not use a database here, if so. LiteLLM with DATABASE_URL but without
 * Prisma's engines does not start at all; without the URL it runs and the key suites say why they
 * cannot (environment).
 */
async function databaseUnusable(plan: RunPlan): Promise<string | undefined> {
  return plan.target === 'kind' && plan.profile.local === 'litellm' ? prismaInImage(imageRefs.litellm) : undefined;
}

/** Why the locally built LiteLLM image cannot generate keys (its build recorded the Prisma failure). */
async function prismaInImage(ref: string | undefined): Promise<string | undefined> {
  if (!ref) return undefined;
  const r = await execa('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "io.gateway-smoke.prisma-engines"}}', ref], { reject: false });
  if (r.stdout.trim() !== 'absent') return undefined;
  const detail = await prismaBlocker();
  return `${detail ?? 'Prisma engines unavailable'} (image ${ref} was built without them)`;
}

async function findService(k: Kube, namespace: string, release: string, profile: ChartProfile, guess: string): Promise<string> {
  const list = await k.core.listNamespacedService({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` });
  const names = list.items.map((s) => s.metadata!.name!);
  if (names.includes(guess)) return guess;
  const byPort = list.items.find((s) => s.spec?.ports?.some((p) => p.port === profile.service.port));
  if (byPort) return byPort.metadata!.name!;
  throw new Error(`release ${release} created no Service on port ${profile.service.port} (Services: ${names.join(', ') || 'none'})`);
}

async function snapshotPods(k: Kube, namespace: string, release: string): Promise<PodSnapshot[]> {
  const pods = await k.core.listNamespacedPod({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` });
  return pods.items.map((p) => ({
    name: p.metadata!.name!,
    uid: p.metadata!.uid!,
    restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
  }));
}

/** What happened to the gateway under the run: pods replaced or restarted, tunnels that broke. */
export async function changesUnderTheRun(): Promise<string[]> {
  const findings: string[] = [];
  if (state.k && state.namespace && state.release && state.gatewayPods.length) {
    const now = await snapshotPods(state.k, state.namespace, state.release);
    for (const before of state.gatewayPods) {
      const same = now.find((p) => p.uid === before.uid);
      if (!same) {
        findings.push(
          `gateway pod ${before.name} was deleted during the run (pods now: ${now.map((p) => p.name).join(', ') || 'none'}); requests in flight then failed — see diagnostics/events.txt`,
        );
      } else if (same.restarts > before.restarts) {
        findings.push(`gateway pod ${before.name} restarted ${same.restarts - before.restarts} time(s) during the run — see its previous log in diagnostics/logs/`);
      }
    }
  }
  for (const t of state.tunnels) {
    if (t.breaks > 0 || t.closedUnexpectedly) {
      findings.push(
        `the tunnel ${t.describe} broke during the run (${t.breaks} forwarded connection(s) cut, ${t.restarts} re-resolve(s)${t.closedUnexpectedly ? ', listener closed' : ''}); requests through it failed — the API server link or the node's streaming connection dropped`,
      );
    }
  }
  return findings;
}

export async function diagnoseCluster(plan: RunPlan, _ctx: RunContext, dir: string): Promise<Diagnosis | undefined> {
  if (!state.k || !state.namespace) return undefined;
  await collectDiagnostics({
    k: state.k,
    namespace: state.namespace,
    dir,
    ...(state.helmEnv ? { helmEnv: state.helmEnv } : {}),
    releases: state.releases,
    ...(plan.target === 'kind' && state.kindBin ? { kindCluster: { kind: state.kindBin, name: plan.clusterName } } : {}),
  });
  return { path: 'diagnostics/' };
}

