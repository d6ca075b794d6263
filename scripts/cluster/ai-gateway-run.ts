// One run of a chart that needs the Envoy AI Gateway stack (profile.needs 'envoy-ai-gateway'),
// from a cluster and a run namespace with the mock already in it: the stack (once per cluster),
// the provider-key Secret, the main chart until its Gateway is Programmed, the companion charts
// (with the profile's declared workarounds as a post-renderer) until Envoy has re-rolled with the
// extproc sidecar, and tunnels to the Gateway's listener and to the extproc metrics. The returned
// handle owns what it made: findings, what changed under the run, Envoy's evidence for diagnostics.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Kube } from '../kube/client.ts';
import { type HelmEnv, helm, helmInstall } from '../kube/helm.ts';
import { watchForTerminalStates } from '../kube/terminal.ts';
import { capacityOf } from './run-namespaces.ts';
import { resolveService, Tunnel } from '../kube/tunnel.ts';
import { type ChartProfile, isNotApplicable, type MockWiring } from '../profiles/types.ts';
import type { RunContext } from '../run-context.ts';
import { EnvironmentError } from '../errors.ts';
import { readChartMeta } from './values.ts';
import { mask } from '../secrets.ts';
import type { GatewayFacts, Replica } from '../targets/types.ts';
import {
  createProviderKeySecret,
  envoyService,
  envoySelector,
  trafficPolicyStatus,
  waitEnvoyWithExtproc,
  waitRateLimitEnforced,
  waitGatewayProgrammed,
  workaroundFinding,
  workaroundFor,
} from './ai-gateway-release.ts';
import { locateStackSources } from './ai-gateway-sources.ts';
import { ensureAiGatewayStack, RATE_LIMIT_TIMEOUT, STACK, type StackImages } from './ai-gateway-stack.ts';
import { backendTlsFinding, envoyEvidence, rateLimitFailOpenFinding, tlsEvidence } from './envoy-evidence.ts';

/** extproc's Prometheus endpoint on every Envoy pod of an AI Gateway. */
export const EXTPROC_METRICS_PORT = 1064;
const READY_MS = 240_000;

export interface AiGatewayRunInput {
  k: Kube;
  helmEnv: HelmEnv;
  ctx: RunContext;
  namespace: string;
  profile: ChartProfile;
  /** The main chart's directory; companions are found beside it, as in the chart's repository. */
  chartPath: string;
  /** How the chart came: from a mirror the companions must be the pinned versions too. */
  chartOrigin: 'chart-dir' | 'upstream' | 'mirror';
  wiring: MockWiring;
  /** The main chart's values layers (the profile's first). */
  values: Record<string, unknown>[];
  images: StackImages;
  /** --values: applied after the profile's, to the main chart. */
  valuesFile?: string;
  /** The run's release list (helm status and values of each go into the diagnostics). */
  releases: string[];
  /** The profile's declared workarounds are applied unless this is false (to show the defect). */
  workarounds: boolean;
  /** Whether the run's releases should be uninstalled at cleanup (false: kept for inspection). */
  cleanUp: () => boolean;
}

export interface AiGatewayRun {
  baseUrl: string;
  /** extproc metrics of the Envoy pod baseUrl reaches. */
  metricsUrl: string;
  /** One pinned tunnel per Envoy pod, when there are several. */
  replicas: Replica[];
  gateway: GatewayFacts;
  releases: string[];
  fingerprint: Record<string, string>;
  /** Chart findings known after the install (workarounds applied). */
  findings: string[];
  /** After the suites: Envoy pods replaced or tunnels broken under the run. */
  changes(): Promise<string[]>;
  /** After a failure: what Envoy's own evidence (stats, access log) says went wrong upstream. */
  explain(): Promise<string[]>;
  /** Writes Envoy's stats, access log and sidecar logs into dir; returns the files written. */
  diagnose(dir: string): Promise<string[]>;
}

export function companionPath(profile: ChartProfile, chartPath: string, companion: { path: string }): string {
  const src = profile.source;
  const rel = src.kind === 'git' ? relative(src.path, companion.path) : join('..', companion.path.split('/').pop()!);
  return resolve(chartPath, rel);
}

export async function provisionAiGateway(o: AiGatewayRunInput): Promise<AiGatewayRun> {
  const { k, helmEnv, ctx, namespace, profile } = o;
  const gatewayRef = profile.gateway;
  if (!gatewayRef) throw new Error(`profile ${profile.name} needs envoy-ai-gateway but names no gateway`);
  const fingerprint: Record<string, string> = {};
  const findings: string[] = [];
  const releases = o.releases;

  const sources = await ctx.phase('locate Envoy Gateway and AI Gateway manifests (Go module cache)', () => locateStackSources());
  const stack = await ensureAiGatewayStack({ k, helmEnv, log: (l) => ctx.log.info(l), phase: (n, fn) => ctx.phase(n, fn), signal: ctx.signal }, sources, o.images);
  Object.assign(fingerprint, stack.fingerprint);

  if (profile.providerKeySecret) await createProviderKeySecret(k, namespace, profile.providerKeySecret, o.wiring.providerKey);

  // uninstalled in reverse at cleanup: the GatewayClass is cluster-scoped and would outlive the namespace
  ctx.defer(`uninstall ${profile.name} and its companions from ${namespace}`, async () => {
    if (!o.cleanUp()) return;
    for (const r of [...releases].reverse()) await helm(helmEnv, ['uninstall', r, '--namespace', namespace, '--wait', '--timeout', '120s']).catch(() => undefined);
  });

  // every install and wait also ends at once when a pod of the run or of Envoy Gateway cannot start
  const watched = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, ctx.signal]);
    try {
      const notes = { capacity: () => capacityOf(k, namespace) };
      return await Promise.race([fn(signal), watchForTerminalStates(k, namespace, stop.signal, notes), watchForTerminalStates(k, STACK.egNamespace, stop.signal, notes)]);
    } finally {
      stop.abort();
    }
  };

  await ctx.phase(`helm install ${profile.name}`, async () => {
    releases.push(profile.name);
    await watched((signal) =>
      helmInstall(helmEnv, {
        release: profile.name,
        chart: o.chartPath,
        namespace,
        values: o.values,
        ...(o.valuesFile ? { valuesFiles: [o.valuesFile] } : {}),
        timeoutMs: READY_MS,
        signal,
      }),
    );
  });
  await ctx.phase(`wait for Gateway ${namespace}/${gatewayRef.name} Programmed`, () =>
    watched((signal) => waitGatewayProgrammed(k, namespace, gatewayRef.name, { timeoutMs: READY_MS, signal })),
  );

  for (const companion of profile.companions ?? []) {
    const path = companionPath(profile, o.chartPath, companion);
    const meta = await readChartMeta(path).catch(() => undefined);
    if (!meta) throw new EnvironmentError(`${profile.name} installs ${companion.chartName} from beside it, but ${path} holds no chart; put ${companion.chartName} (${companion.path} at the same commit) there.`);
    if (o.chartOrigin === 'mirror' && (meta.name !== companion.chartName || meta.version !== companion.version)) {
      throw new EnvironmentError(`The chart mirror's ${path} holds ${meta.name} ${meta.version}, but the profile pins ${companion.chartName} ${companion.version}: update the mirror, or pass --chart-dir to test another copy on purpose.`);
    }
    const defaults = parse(await readFile(join(path, 'values.yaml'), 'utf8').catch(() => '{}')) as Record<string, unknown>;
    const applied = o.workarounds ? await workaroundFor(companion.name, profile.workarounds ?? []) : undefined;
    if (!o.workarounds && profile.workarounds?.some((w) => w.chart === companion.name)) {
      ctx.log.warn(`not applying the profile's workaround for ${companion.name} (--no-workarounds): its defect will show`);
    }
    try {
      await ctx.phase(`helm install ${companion.name}${applied ? ` (workaround: without ${applied.workaround.dropKinds.join(', ')})` : ''}`, async () => {
        releases.push(companion.name);
        await watched((signal) =>
          helmInstall(helmEnv, {
            release: companion.name,
            chart: path,
            namespace,
            values: [companion.values(o.wiring, defaults)],
            timeoutMs: READY_MS,
            signal,
            ...(applied ? { postRenderer: applied.postRenderer } : {}),
          }),
        );
      });
      if (applied) {
        const line = workaroundFinding(namespace, applied, await applied.removed());
        findings.push(line);
        ctx.log.warn(line);
      }
    } finally {
      await applied?.dispose();
    }
    fingerprint[`chart ${companion.name}`] = `${meta.name} ${meta.version} (${path})`;
  }

  const pods = await ctx.phase(`wait for the Envoy of ${namespace}/${gatewayRef.name} with the AI Gateway extproc`, () =>
    watched((signal) => waitEnvoyWithExtproc(k, namespace, gatewayRef.name, { timeoutMs: READY_MS, signal, log: (l) => ctx.log.info(l) })),
  );
  const gateway: GatewayFacts = { namespace, name: gatewayRef.name, envoyNamespace: STACK.egNamespace, envoySelector: envoySelector(namespace, gatewayRef.name) };
  const svc = await envoyService(k, namespace, gatewayRef.name);
  const tunnels: Tunnel[] = [];
  const open = async (t: Tunnel, what: string) => {
    const url = await t.open();
    tunnels.push(t);
    ctx.defer(`close tunnel to ${what}`, () => t.close());
    return url;
  };
  // any HTTP answer proves the listener tunnel (Envoy answers 404 on a path no route matches)
  const listener = new Tunnel(k, { namespace: STACK.egNamespace, service: { name: svc, port: gatewayRef.listenerPort }, probePath: '/', log: (l) => ctx.log.warn(l) });
  const baseUrl = await ctx.phase('open tunnel to the Gateway listener', () => open(listener, `svc/${svc}`));
  // extproc's metrics are per pod: read them from the pod the listener tunnel sends the suites' requests to
  const served = listener.pod ?? pods[0]!.metadata!.name!;
  const metricsBase = await open(new Tunnel(k, { namespace: STACK.egNamespace, pod: { pod: served, port: EXTPROC_METRICS_PORT }, probePath: '/metrics' }), `pod/${served}:${EXTPROC_METRICS_PORT}`);
  const before = pods.map((p) => ({ name: p.metadata!.name!, uid: p.metadata!.uid! }));
  // one pinned tunnel per Envoy pod, with its IP (the mock's journal names the caller): the global limit is checked across them
  const replicas: Replica[] = [];
  const targets = await resolveService(k, STACK.egNamespace, svc, gatewayRef.listenerPort);
  if (targets.length > 1) {
    for (const t of targets) {
      const ip = pods.find((p) => p.metadata?.name === t.pod)?.status?.podIP ?? '';
      replicas.push({ url: await open(new Tunnel(k, { namespace: STACK.egNamespace, pod: t, probePath: '/' }), `pod/${t.pod}:${t.port}`), pod: t.pod, ip });
    }
  }

  const envoyNow = async (): Promise<V1Pod[]> =>
    (await k.core.listNamespacedPod({ namespace: STACK.egNamespace, labelSelector: gateway.envoySelector })).items;

  const rl = profile.capabilities.ratelimit;
  if (!isNotApplicable(rl) && rl.flavour === 'envoy-global') {
    await ctx.phase('wait for Envoy to enforce the global rate limit', () =>
      waitRateLimitEnforced(replicas.length ? replicas.map((r) => r.url) : [baseUrl], {
        userHeader: rl.userHeader,
        model: o.wiring.model,
        timeoutMs: 90_000,
        signal: ctx.signal,
        describePolicy: () => trafficPolicyStatus(k, namespace),
      }),
    );
  }

  return {
    baseUrl,
    metricsUrl: `${metricsBase}/metrics`,
    replicas,
    gateway,
    releases,
    fingerprint,
    findings,
    async changes() {
      const out: string[] = [];
      const now = await envoyNow();
      for (const b of before) {
        if (!now.some((p) => p.metadata?.uid === b.uid)) out.push(`Envoy pod ${b.name} of Gateway ${namespace}/${gatewayRef.name} was replaced during the run (now: ${now.map((p) => p.metadata?.name).join(', ') || 'none'})`);
      }
      for (const t of tunnels) {
        if (t.breaks > 0 || t.closedUnexpectedly) out.push(`the tunnel ${t.describe} broke during the run (${t.breaks} connection(s) cut)`);
      }
      return out;
    },
    async explain() {
      const pods = await envoyNow();
      const read = () => Promise.all(pods.map((p) => envoyEvidence(k, STACK.egNamespace, p)));
      try {
        let evs = await read();
        // Envoy flushes its access log about once a second: give the lines of the last failures a moment
        const { sslErrors, failed } = tlsEvidence(evs);
        if (sslErrors.size > 0 && failed.length === 0) {
          await new Promise((r) => setTimeout(r, 2500));
          evs = await read();
        }
        const said = [await backendTlsFinding(k, namespace, evs), rateLimitFailOpenFinding(evs, RATE_LIMIT_TIMEOUT)];
        return said.filter((l): l is string => l !== undefined);
      } catch (err) {
        return [`could not read Envoy's evidence (stats, access log) for Gateway ${namespace}/${gatewayRef.name}: ${(err as Error).message}`];
      }
    },
    async diagnose(dir) {
      await mkdir(dir, { recursive: true });
      const written: string[] = [];
      for (const p of await envoyNow()) {
        const name = p.metadata!.name!;
        try {
          const ev = await envoyEvidence(k, STACK.egNamespace, p);
          await writeFile(join(dir, `${name}.stats.txt`), mask(ev.statsText));
          await writeFile(join(dir, `${name}.envoy.log`), mask(ev.log));
          written.push(`${name}.stats.txt`, `${name}.envoy.log`);
          const found = [await backendTlsFinding(k, namespace, [ev]), rateLimitFailOpenFinding([ev], RATE_LIMIT_TIMEOUT)].filter(Boolean);
          if (found.length) {
            await writeFile(join(dir, `${name}.finding.txt`), `${found.map((l) => mask(l!)).join('\n')}\n`);
            written.push(`${name}.finding.txt`);
          }
        } catch (err) {
          await writeFile(join(dir, `${name}.error.txt`), mask((err as Error).message));
          written.push(`${name}.error.txt`);
        }
        const sidecar = await k.core.readNamespacedPodLog({ name, namespace: STACK.egNamespace, container: 'ai-gateway-extproc', tailLines: 2000 }).catch((e: Error) => `(no log: ${e.message})`);
        await writeFile(join(dir, `${name}.ai-gateway-extproc.log`), mask(sidecar));
        written.push(`${name}.ai-gateway-extproc.log`);
      }
      return written;
    },
  };
}
