// The kind and existing targets. One ClusterProvisioner per run owns everything the run created
// (cluster, namespace, releases, tunnels) and answers, after the suites, what changed under the run
// and what the diagnostics bundle holds. The steps themselves live in scripts/cluster/, one concern
// per file; this file only orders them.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { execa } from 'execa';
import { ApisApi, VersionApi } from '@kubernetes/client-node';
import { chartImageRef, decideAppImage, type AppImageChoice } from '../cluster/app-image.ts';
import { prepareDependencies, resolveChart, type ResolvedChart } from '../cluster/chart-source.ts';
import { podChanges, type PodSnapshot, snapshotPods, tunnelChanges } from '../cluster/changes.ts';
import { type AiGatewayRun, provisionAiGateway } from '../cluster/ai-gateway-run.ts';
import { STACK_IMAGE_NAMES, stackImages } from '../cluster/ai-gateway-stack.ts';
import { deploymentControl, type FixtureTarget, imageValues, installFixture, installPostgres, installRedis, type PostgresInstall } from '../cluster/dependencies.ts';
import { buildImages, type ImageRefs, loadImages, onEveryNode } from '../cluster/images.ts';
import { ensureKindCluster, type KindCluster, requireTool } from '../cluster/kind.ts';
import { prepareClusterKit } from '../cluster/kit-setup.ts';
import { keep } from '../cluster/keep.ts';
import { createRunNamespace, pruneKeptNamespaces } from '../cluster/namespace.ts';
import { capacityOf } from '../cluster/run-namespaces.ts';
import { checkManifest, type ManifestOutcome } from '../cluster/manifest.ts';
import { openTunnels } from '../cluster/tunnels.ts';
import { chartDefaults, effectiveValues, type Values } from '../cluster/values.ts';
import { correctionsFor, describeCorrections, installWithCorrections, releaseValues } from '../corrections.ts';
import { type ImageName, listImages } from '../images/index.ts';
import { type Kube, kube, kubeconfigPath } from '../kube/client.ts';
import { collectDiagnostics } from '../kube/diagnostics.ts';
import { type HelmEnv, helmInstall, helmVersion, type InstallOptions } from '../kube/helm.ts';
import { watchForTerminalStates } from '../kube/terminal.ts';
import { Tunnel } from '../kube/tunnel.ts';
import { waitForWorkloads } from '../kube/wait.ts';
import type { RunPlan } from '../plan.ts';
import type { ChartProfile, MockWiring } from '../profiles/types.ts';
import { isNotApplicable } from '../profiles/types.ts';
import type { CheckResult } from '../report/model.ts';
import type { RunContext } from '../run-context.ts';
import { EnvironmentError } from '../errors.ts';
import { newSecret } from '../secrets.ts';
import { documentedMetrics } from '../chart-docs.ts';
import { profileFindings } from '../profiles/chart-fit.ts';
import { checkPrismaEngines, type EnginesResult } from '../prisma-engines.ts';
import { startControlServer } from './control-server.ts';
import { environmentFor } from './environment.ts';
import type { Diagnosis, Provisioner } from './index.ts';
import { UpgradeRun } from '../upgrade/run.ts';
import type { Provenance, ProvisionedTarget, Target } from './types.ts';

const MOCK_PORT = 8089;
const READY_TIMEOUT_MS = 300_000;

/** Wiring with placeholder addresses: enough to read what the values select (image, conditions). */
const PLACEHOLDER_WIRING: MockWiring = { mockUrl: 'http://mock:8089', providerKey: 'x', adminKey: 'x', model: 'mock', databaseUrl: 'postgresql://x' };

export class ClusterProvisioner implements Provisioner {
  readonly tools;
  private readonly plan: RunPlan;
  private readonly ctx: RunContext;
  private k: Kube | undefined;
  private helmEnv: HelmEnv | undefined;
  private namespace: string | undefined;
  private kind: KindCluster | undefined;
  private release: string | undefined;
  private readonly releases: string[] = [];
  private gatewayPods: PodSnapshot[] = [];
  private tunnels: Tunnel[] = [];
  private aigw: AiGatewayRun | undefined;
  /** The main chart's values.yaml: the corrections' evidence and embedded documents start from it. */
  private defaults: Values = {};
  /** One per correction applied to the main chart (the AI Gateway run keeps its own). */
  private readonly checks: CheckResult[] = [];
  readonly fingerprint: Record<string, string> = {};
  provenance: Provenance | undefined;
  private resolvedChart: ResolvedChart | undefined;
  /** Prisma's engines as given to this run (checked once): which LiteLLM image variant to build. */
  private engines: EnginesResult | undefined;

  constructor(plan: RunPlan, ctx: RunContext) {
    this.plan = plan;
    this.ctx = ctx;
    // kind, helm and kubectl are built by scripts/airgap/cluster-up.sh when missing.
    this.tools = plan.target === 'existing' ? (['helm', 'kubectl'] as const) : ([] as const);
  }

  async provision(): Promise<ProvisionedTarget> {
    const { plan, ctx } = this;
    const profile = plan.profile;
    const fingerprint = this.fingerprint;
    // The chart first: a chart that cannot be had fails in seconds, before a cluster is made.
    let chart = await ctx.phase('resolve chart source', () => resolveChart({ profile, chartDir: plan.chartDir, mirror: plan.chartMirror, ctx }));
    this.resolvedChart = chart;
    this.defaults = await chartDefaults(chart.path);
    fingerprint['corrections'] = describeCorrections(profile, plan.corrections);

    let kubeconfig: string;
    let context: string | undefined;
    if (plan.target === 'kind') {
      const kit = await ctx.phase('choose the cluster kit', () => prepareClusterKit({ name: plan.clusterName, wanted: plan.kubernetesVersion, ctx }));
      this.kind = await ensureKindCluster({ name: plan.clusterName, keep: plan.keep, kit, ctx });
      kubeconfig = this.kind.kubeconfig;
      context = this.kind.context;
      fingerprint['kind'] = (await execa(this.kind.kindBin, ['version'])).stdout.trim();
      if (this.kind.created) {
        fingerprint['cluster kit'] = `${kit.kit}: ${kit.why}`;
        fingerprint['node image'] = kit.nodeImage;
        if (kit.tools) fingerprint['cluster tools'] = (['kind', 'kubectl', 'helm'] as const).map((t) => `${t} ${kit.tools![t].version} (${kit.tools![t].why})`).join('; ');
      }
    } else {
      kubeconfig = kubeconfigPath(); // the file the preflight checked the context in
      context = plan.kubeContext;
    }
    const helmBin = this.kind?.helmBin ?? (await requireTool('helm'));
    const k = kube(kubeconfig, context);
    this.k = k;
    fingerprint['kubernetes'] = (await k.kc.makeApiClient(VersionApi).getCode()).gitVersion;
    const helmEnv: HelmEnv = { helm: helmBin, kubeconfig, ...(k.context ? { context: k.context } : {}) };
    this.helmEnv = helmEnv;
    // older kept runs of this chart go while the images build; awaited before anything is installed
    const pruning = pruneKeptNamespaces({ k, ctx, chart: profile.name, keep: plan.keep });
    fingerprint['helm'] = await helmVersion(helmBin);

    const layers = this.valueLayers(PLACEHOLDER_WIRING);
    const preview = await effectiveValues(chart.path, layers, plan.valuesFile ? [plan.valuesFile] : []);
    chart = await ctx.phase('prepare chart dependencies', () => prepareDependencies({ chart, values: preview, helm: helmBin, ctx }));
    fingerprint['chart source'] = chart.label;
    for (const [i, n] of chart.notes.entries()) fingerprint[`chart change ${i + 1}`] = n;

    const app = await this.chooseAppImage(chart, preview);
    if (app) fingerprint['app image'] = `${app.use === 'local' ? 'local stand-in' : `the chart's own ${app.chartImage}`} (${app.why})`;
    const standIn = app?.use === 'local';
    this.provenance = {
      chart: chart.label,
      chartOrigin: chart.origin,
      images: app ? (standIn ? `local stand-ins${plan.images === 'local' ? ' (--images local)' : ''}` : "the chart's own") : 'none of its own',
      // A stand-in the user asked for is stated; one auto chose means the shipped image went unproven.
      ...(standIn && plan.images === 'auto' ? { unproven: [`the chart's own image ${app.chartImage} did not run (--images auto chose the local stand-in: ${app.why})`] } : {}),
    };
    const images = await this.images(app);

    const namespace = `gs-${profile.name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.slice(0, 60);
    this.namespace = namespace;
    ctx.log.info(`run namespace: ${namespace} (kube context ${k.context})`);
    await pruning;
    await createRunNamespace({ k, ctx, name: namespace, chart: profile.name, keep: plan.keep, labels: { 'gateway-smoke/role': 'gateway' }, clusterGoes: (end) => this.kind?.deletedAfter(end) ?? false });

    const fixtures: FixtureTarget = { k, helmEnv, namespace, ctx, releases: this.releases };
    await ctx.phase('install mock provider', () =>
      installFixture(fixtures, { release: 'mock', chart: 'mock-provider', values: { fullnameOverride: 'mock', image: imageValues(images.mock, 'gateway-smoke/mock'), service: { port: MOCK_PORT } }, what: 'mock provider', timeoutMs: 120_000 }),
    );
    const mockService = (await k.core.listNamespacedService({ namespace, labelSelector: 'app.kubernetes.io/instance=mock' })).items[0]?.metadata?.name;
    if (!mockService) throw new Error(`the mock provider release created no Service in ${namespace}`);

    const prisma = await this.prismaGap(standIn, images);
    if (standIn && profile.app?.standIn?.image === 'litellm' && images.litellm) {
      fingerprint['prisma engines'] = prisma ? `none (${prisma})` : `${this.engines?.ok ? this.engines.engines.dir : '?'} in ${images.litellm}`;
      if (profile.litellmVersion) fingerprint['litellm (stand-in)'] = `${profile.litellmVersion.version}: ${profile.litellmVersion.why}`;
    }
    if (prisma && profile.requiresDatabase) {
      throw new EnvironmentError(
        `The ${profile.name} chart always connects LiteLLM to its database, and LiteLLM cannot use one here: ${prisma}. ` +
          'Pass --prisma-engines <dir> (or GATEWAY_SMOKE_PRISMA_ENGINES) with a folder like ../shared/prisma-engines.',
      );
    }
    const db = await this.installDatabase(fixtures, images, prisma);
    const cache = await this.installCache(fixtures, images);
    const adminKey = newSecret('sk-admin');
    const providerKey = newSecret('sk-provider');
    const wiring: MockWiring = {
      mockUrl: `http://${mockService}.${namespace}.svc.cluster.local:${MOCK_PORT}`,
      providerKey,
      adminKey,
      model: plan.model,
      namespace,
      ...(db ? { databaseUrl: db.url, database: { host: db.host, port: db.port, name: db.database, user: db.user } } : {}),
      ...(cache ? { cache } : {}),
      saltKey: newSecret('sk-salt'),
      gatewayApi: await servesGatewayApi(k),
    };
    const values = this.valueLayers(wiring);
    if (profile.needs.includes('envoy-ai-gateway')) {
      return this.provisionOnAiGateway({ k, helmEnv, namespace, kubeconfig, chart, wiring, values, images, mockService, standIn, prisma });
    }
    if (standIn && profile.app?.standIn) {
      const ref = images[profile.app.standIn.image];
      if (!ref) throw new Error(`the stand-in image ${profile.app.standIn.image} was not built`);
      values.push(profile.app.standIn.values(ref));
    }

    const release = profile.name;
    this.release = release;
    // --upgrade-from: the previous release first (and traffic); the install below is then the upgrade
    const upgrade = plan.upgradeFrom
      ? new UpgradeRun({
          plan, ctx, k, namespace, release, wiring, values, mockService, mockPort: MOCK_PORT, mockImage: images.mock!,
          candidateChart: chart.path,
          ...(app ? { candidateImage: standIn && profile.app?.standIn ? images[profile.app.standIn.image]! : app.chartImage } : {}),
          install: (chartPath, layers, valuesFiles) => {
            if (!this.releases.includes(release)) this.releases.push(release);
            return this.watched(k, namespace, (signal) => helmInstall(helmEnv, { release, chart: chartPath, namespace, values: layers, valuesFiles, timeoutMs: READY_TIMEOUT_MS, signal }));
          },
          ...(this.kind ? { loadImage: async (ref: string) => void (await loadImages({ kind: this.kind!.kindBin, cluster: plan.clusterName, refs: [ref], ctx })) } : {}),
          findService: () => findService(k, namespace, release, profile),
          helm: helmBin,
        })
      : undefined;
    await upgrade?.before();
    const applied = plan.corrections ? correctionsFor(profile, release) : [];
    const checks = await installWithCorrections({
      release,
      applied,
      defaults: this.defaults,
      namespace,
      install: (postRenderer) =>
        ctx.phase(`helm install ${release}${postRenderer ? ' (with the post-renderer of its corrections)' : ''}`, () =>
          this.helmInstallWatched(helmEnv, k, namespace, { release, chart: chart.path, values, ...(postRenderer ? { postRenderer } : {}) }),
        ),
    });
    this.checks.push(...checks);
    await ctx.phase(`wait for ${release} to be ready`, () =>
      this.watched(k, namespace, (signal) =>
        waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/instance=${release}`, timeoutMs: READY_TIMEOUT_MS, what: `release ${release}`, signal, onProgress: (l) => ctx.log.info(l) }),
      ),
    );

    const upgraded = await upgrade?.finish();
    const svc = await findService(k, namespace, release, profile);
    const probePath = 'live' in profile.capabilities.health ? profile.capabilities.health.live.path : '/';
    const tunnels = await openTunnels({ k, ctx, namespace, gateway: { service: svc, port: profile.service.port, probePath }, mock: { service: mockService, port: MOCK_PORT } });
    this.tunnels = tunnels.all;
    this.gatewayPods = await snapshotPods(k, namespace, release);

    // The health suite takes the database away through this endpoint and watches readiness.
    let control: Target['control'];
    if (db) {
      const server = await startControlServer({ postgres: deploymentControl(fixtures, db.deployment, 'Postgres') }, (l) => ctx.log.info(l));
      ctx.defer('close control endpoint', () => server.close());
      control = server.control;
    }
    const metricsDoc = isNotApplicable(profile.capabilities.metrics) ? undefined : profile.capabilities.metrics.documentedIn;
    const documented = metricsDoc ? await documentedMetrics(chart.path, metricsDoc, chart.label) : undefined;

    return {
      target: {
        kind: plan.target,
        chart: profile.name,
        baseUrl: tunnels.gatewayUrl,
        adminKey,
        model: plan.model,
        ...(tunnels.replicas.length > 1 ? { replicas: tunnels.replicas } : {}),
        mock: { url: tunnels.mockUrl, providerKey },
        standIn,
        environment: environmentFor(profile, { kind: plan.target, standIn, prisma, adminKey: true, mock: true, controllable: control?.dependencies ?? [] }),
        ...(control ? { control } : {}),
        ...(documented ? { documentedMetrics: documented } : {}),
        ...(upgraded ? { upgrade: upgraded } : {}),
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
    };
  }

  /**
   * A chart whose objects the Envoy AI Gateway stack serves (no app, no Service of its own): the
   * stack once per cluster, the chart and its companions, the Gateway's Envoy reached by tunnel.
   */
  private async provisionOnAiGateway(o: {
    k: Kube;
    helmEnv: HelmEnv;
    namespace: string;
    kubeconfig: string;
    chart: ResolvedChart;
    wiring: MockWiring;
    values: Values[];
    images: ImageRefs;
    mockService: string;
    standIn: boolean;
    prisma: string | undefined;
  }): Promise<ProvisionedTarget> {
    const { plan, ctx } = this;
    const { k, namespace } = o;
    const aigw = await provisionAiGateway({
      k,
      helmEnv: o.helmEnv,
      ctx,
      namespace,
      profile: plan.profile,
      chartPath: o.chart.path,
      chartOrigin: o.chart.origin,
      wiring: o.wiring,
      values: o.values,
      images: stackImages(o.images),
      ...(plan.valuesFile ? { valuesFile: plan.valuesFile } : {}),
      corrections: plan.corrections,
      defaults: this.defaults,
      releases: this.releases,
      // kept with the namespace for inspection, gone with the cluster anyway
      cleanUp: () => !keep(plan.keep, ctx.end) && !(this.kind?.deletedAfter(ctx.end) ?? false),
    });
    this.aigw = aigw;
    Object.assign(this.fingerprint, aigw.fingerprint);
    this.release = plan.profile.name;
    const mock = new Tunnel(k, { namespace, service: { name: o.mockService, port: MOCK_PORT }, probePath: '/__mock/health', log: (l) => ctx.log.warn(l) });
    const mockUrl = await mock.open();
    ctx.defer('close mock tunnel', () => mock.close());
    this.tunnels = [mock];
    return {
      target: {
        kind: plan.target,
        chart: plan.profile.name,
        baseUrl: aigw.baseUrl,
        metricsUrl: aigw.metricsUrl,
        ...(aigw.replicas.length > 1 ? { replicas: aigw.replicas } : {}),
        model: plan.model,
        mock: { url: mockUrl, providerKey: o.wiring.providerKey },
        standIn: o.standIn,
        environment: environmentFor(plan.profile, { kind: plan.target, standIn: o.standIn, prisma: o.prisma, adminKey: false, mock: true, controllable: [] }),
        cluster: {
          kubeconfig: o.kubeconfig,
          ...(k.context ? { context: k.context } : {}),
          namespace,
          release: plan.profile.name,
          serviceName: aigw.gateway.name,
          servicePort: plan.profile.gateway!.listenerPort,
          mockServiceName: o.mockService,
          mockServicePort: MOCK_PORT,
        },
        gateway: aigw.gateway,
      },
    };
  }

  /**
   * The profile's wiring for this wiring, NetworkPolicy values when the netpol suite runs, then the
   * profile's corrections unless the run is --no-corrections.
   */
  private valueLayers(wiring: MockWiring): Values[] {
    const { profile, suites } = this.plan;
    const layers: Values[] = [profile.values(wiring)];
    if (!isNotApplicable(profile.capabilities.netpol) && suites.includes('netpol')) layers.push(profile.capabilities.netpol.enableValues);
    return releaseValues({ profile, release: profile.name, wiring: layers, defaults: this.defaults, corrections: this.plan.corrections }).layers;
  }

  private async chooseAppImage(chart: ResolvedChart, values: Values): Promise<AppImageChoice | undefined> {
    const { plan } = this;
    const app = plan.profile.app;
    if (!app) return undefined;
    const chartImage = chartImageRef(values, app.valuesPath, chart.meta.appVersion);
    const onNodes = plan.images !== 'local' && this.kind ? await onEveryNode(this.kind.kindBin, plan.clusterName, chartImage) : false;
    const choice = decideAppImage(plan.images, {
      chart: plan.profile.name,
      chartImage,
      hasStandIn: app.standIn !== undefined,
      onEveryNode: onNodes,
      manifest: plan.images === 'local' || onNodes ? undefined : await checkManifest(chartImage),
    });
    this.ctx.log.info(`app image: ${choice.use === 'local' ? 'local stand-in' : chartImage} — ${choice.why}`);
    return choice;
  }

  /** The images this run needs, built and (on kind) loaded into every node. */
  private async images(app: AppImageChoice | undefined): Promise<ImageRefs> {
    const { profile, suites } = this.plan;
    const names: ImageName[] = ['mock'];
    if (app?.use === 'local' && profile.app?.standIn) names.push(profile.app.standIn.image);
    if (profile.installs?.includes('postgres')) names.push('postgres');
    if (this.installsRedis()) names.push('redis');
    if (suites.includes('netpol') && !isNotApplicable(profile.capabilities.netpol)) names.push('probe');
    if (profile.needs.includes('envoy-ai-gateway')) names.push(...STACK_IMAGE_NAMES);
    const env = await this.imageVariant(app?.use === 'local' && profile.app?.standIn?.image === 'litellm');
    if (!this.kind) return listImages({ only: names, env: { ...process.env, ...env } });
    const kind = this.kind;
    return this.ctx.phase('build and load images', async () => {
      const refs = await buildImages(names, this.ctx, env);
      // A database the gateway cannot use is not installed, so its image need not be loaded either.
      if (refs.postgres && (await this.prismaGap(app?.use === 'local', refs))) delete refs.postgres;
      await loadImages({ kind: kind.kindBin, cluster: this.plan.clusterName, refs: Object.values(refs), ctx: this.ctx });
      return refs;
    });
  }

  /**
   * The LiteLLM stand-in's build variant: the profile's LiteLLM version, and Prisma's engines when
   * they were given and check out (a bad folder is not passed on: the image is built without, and
   * the reason becomes the key suites' `environment` verdict).
   */
  private async imageVariant(litellm: boolean): Promise<Record<string, string>> {
    if (!litellm) return {};
    this.engines ??= await checkPrismaEngines(this.plan.prismaEngines);
    return {
      ...(this.plan.profile.litellmVersion ? { LITELLM_VERSION: this.plan.profile.litellmVersion.version } : {}),
      GATEWAY_SMOKE_PRISMA_ENGINES: this.engines.ok ? this.engines.engines.dir : '',
    };
  }

  /**
   * Why LiteLLM cannot use a database on this run, if so: no usable engines were given, or the
   * stand-in image does not carry these engines. Without a DATABASE_URL LiteLLM still runs, and
   * the key suites say why they cannot.
   */
  private async prismaGap(standIn: boolean, images: ImageRefs): Promise<string | undefined> {
    if (!standIn || this.plan.profile.app?.standIn?.image !== 'litellm') return undefined;
    const ref = images.litellm;
    if (!ref) return undefined;
    this.engines ??= await checkPrismaEngines(this.plan.prismaEngines);
    if (!this.engines.ok) return this.engines.reason;
    const r = await execa('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "io.gateway-smoke.prisma-engines-hash"}}', ref], { reject: false });
    const hash = r.stdout.trim();
    if (hash === this.engines.engines.hash) return undefined;
    return `Prisma engines unavailable: image ${ref} carries ${hash && hash !== 'none' && hash !== '<no value>' ? `engines ${hash}` : 'no engines'}, not the given ones (${this.engines.engines.hash})`;
  }

  private async installDatabase(fixtures: FixtureTarget, images: ImageRefs, prisma: string | undefined): Promise<PostgresInstall | undefined> {
    if (!this.plan.profile.installs?.includes('postgres')) return undefined;
    if (prisma) {
      this.ctx.log.info(`not installing Postgres: the gateway could not use it (${prisma})`);
      return undefined;
    }
    const want = this.plan.profile.dependencySecrets?.postgres;
    return this.ctx.phase('install Postgres', () =>
      installPostgres(fixtures, images.postgres, want ? { database: want.database, user: want.user, secret: { name: want.secret, key: want.key } } : {}),
    );
  }

  /**
   * Whether this run installs the profile's Redis. GATEWAY_SMOKE_SKIP_INSTALLS=redis leaves it out
   * on purpose, to see what it guards against (replicas that each count a key's limit alone).
   */
  private installsRedis(): boolean {
    const skipped = (process.env['GATEWAY_SMOKE_SKIP_INSTALLS'] ?? '').split(',').map((s) => s.trim());
    return this.plan.profile.installs?.includes('redis') === true && !skipped.includes('redis');
  }

  private async installCache(fixtures: FixtureTarget, images: ImageRefs): Promise<{ host: string; port: number; password: string } | undefined> {
    if (!this.installsRedis()) {
      if (this.plan.profile.installs?.includes('redis')) this.ctx.log.warn('not installing Redis (GATEWAY_SMOKE_SKIP_INSTALLS=redis): replicas share no rate-limit state');
      return undefined;
    }
    const want = this.plan.profile.dependencySecrets?.redis;
    return this.ctx.phase('install Redis', () => installRedis(fixtures, images.redis, want ? { secret: { name: want.secret, key: want.key } } : {}));
  }

  /** Runs a wait while watching every pod of the namespace for states that waiting cannot fix. */
  private async watched<T>(k: Kube, namespace: string, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.ctx.signal]);
    try {
      return await Promise.race([wait(signal), watchForTerminalStates(k, namespace, stop.signal, { registry: registryNote, capacity: () => capacityOf(k, namespace) })]);
    } finally {
      stop.abort();
    }
  }

  /** helm install, with hooks (a pre-install Job) watched like workloads: a stuck hook is named, never "timed out". */
  private async helmInstallWatched(
    env: HelmEnv,
    k: Kube,
    namespace: string,
    o: { release: string; chart: string; values: Values[]; postRenderer?: InstallOptions['postRenderer'] },
  ): Promise<void> {
    if (!this.releases.includes(o.release)) this.releases.push(o.release);
    const { plan } = this;
    await this.watched(k, namespace, (signal) =>
      helmInstall(env, { ...o, namespace, ...(plan.valuesFile ? { valuesFiles: [plan.valuesFile] } : {}), timeoutMs: READY_TIMEOUT_MS, signal }),
    );
  }

  /** The profile against the chart that was resolved (chart-fit.ts): the upstream is the profile's pinned commit. */
  async profileFindings(): Promise<string[]> {
    const chart = this.resolvedChart;
    if (!chart) return [];
    const { source } = this.plan.profile;
    const commit = chart.origin === 'upstream' && source.kind === 'git' ? source.commit : undefined;
    return profileFindings(this.plan.profile, { path: chart.path, version: chart.meta.version, commit });
  }

  async chartFindings(o: { failed: boolean }): Promise<string[]> {
    return this.aigw && o.failed ? this.aigw.explain() : [];
  }

  chartChecks(): CheckResult[] {
    return [...this.checks, ...(this.aigw?.chartChecks ?? [])];
  }

  async changes(): Promise<string[]> {
    const findings: string[] = [...((await this.aigw?.changes()) ?? [])];
    if (this.k && this.namespace && this.release && this.gatewayPods.length) {
      findings.push(...podChanges(this.gatewayPods, await snapshotPods(this.k, this.namespace, this.release)));
    }
    return [...findings, ...tunnelChanges(this.tunnels)];
  }

  async diagnose(dir: string): Promise<Diagnosis | undefined> {
    if (!this.k || !this.namespace) return undefined;
    await collectDiagnostics({
      k: this.k,
      namespace: this.namespace,
      dir,
      ...(this.helmEnv ? { helmEnv: this.helmEnv } : {}),
      releases: this.releases,
      ...(this.kind ? { kindCluster: { kind: this.kind.kindBin, name: this.plan.clusterName } } : {}),
    });
    // Envoy runs in Envoy Gateway's namespace: its stats and access log are the only witnesses of upstream TLS
    if (this.aigw) await this.aigw.diagnose(join(dir, 'envoy')).catch(() => undefined);
    return { path: 'diagnostics/' };
  }
}

/** What the image's registry says about it from this machine, for an image-pull failure message. */
async function registryNote(image: string): Promise<string> {
  let m: ManifestOutcome;
  try {
    m = await checkManifest(image, { timeoutMs: 3000 });
  } catch (err) {
    return `Its registry was not asked: ${(err as Error).message}`; // a malformed GATEWAY_SMOKE_REGISTRY_MIRRORS
  }
  return m.kind === 'present'
    ? `Asked from this machine, its manifest is present (${m.detail}), so the node cannot reach that registry or needs credentials`
    : `Asked from this machine, its registry says ${m.kind} (${m.detail})`;
}

/** Whether the cluster serves the Gateway API's HTTPRoute (charts that render one need it). */
async function servesGatewayApi(k: Kube): Promise<boolean> {
  const groups = await k.kc.makeApiClient(ApisApi).getAPIVersions();
  return groups.groups.some((g) => g.name === 'gateway.networking.k8s.io');
}

async function findService(k: Kube, namespace: string, release: string, profile: ChartProfile): Promise<string> {
  const guess = `${release}-${profile.service.nameSuffix}`.replace(`${profile.name}-${profile.name}`, profile.name);
  const list = await k.core.listNamespacedService({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` });
  const names = list.items.map((s) => s.metadata!.name!);
  if (names.includes(guess)) return guess;
  const byPort = list.items.find((s) => s.spec?.ports?.some((p) => p.port === profile.service.port));
  if (byPort) return byPort.metadata!.name!;
  throw new Error(`release ${release} created no Service on port ${profile.service.port} (Services: ${names.join(', ') || 'none'})`);
}
