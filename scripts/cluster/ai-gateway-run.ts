// One run of a chart that needs the Envoy AI Gateway stack (profile.needs 'envoy-ai-gateway'),
// from a cluster and a run namespace with the mock already in it: the stack (once per cluster),
// the provider-key Secret, the main chart until its Gateway is Programmed, the companion charts
// (with the profile's corrections: values, and a post-renderer for drop-kinds) until Envoy has
// re-rolled with the extproc sidecar, and tunnels to the Gateway's listener and to the extproc
// metrics. The returned handle owns what it made: the corrections' checks, what changed under the
// run, Envoy's evidence for diagnostics.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { type HelmEnv, helm, helmInstall, type InstallOptions } from '../kube/helm.ts';
import { watchForTerminalStates } from '../kube/terminal.ts';
import { capacityOf } from './run-namespaces.ts';
import { resolveService, Tunnel } from '../kube/tunnel.ts';
import { type ChartProfile, isNotApplicable, type MockWiring } from '../profiles/types.ts';
import type { RunContext } from '../run-context.ts';
import { EnvironmentError } from '../errors.ts';
import { chartDefaults, readChartMeta, type Values } from './values.ts';
import { correctionsFor, installWithCorrections, releaseValues } from '../corrections.ts';
import type { CheckResult } from '../report/model.ts';
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
  /** The main chart's values layers (wiring, then its value corrections unless the run is --no-corrections). */
  values: Values[];
  /** The main chart's values.yaml (the corrections' evidence). */
  defaults: Values;
  images: StackImages;
  /** --values: applied after the profile's, to the main chart. */
  valuesFile?: string;
  /** The run's release list (helm status and values of each go into the diagnostics). */
  releases: string[];
  /** The profile's corrections are applied unless this is false (--no-corrections: the charts as shipped). */
  corrections: boolean;
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
  /** One per correction applied to the main chart or a companion. */
  chartChecks: CheckResult[];
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
  const chartChecks: CheckResult[] = [];
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

  const install = (release: string, chart: string, values: Values[], extra: Partial<InstallOptions>) =>
    ctx.phase(`helm install ${release}${extra.postRenderer ? ' (with the post-renderer of its corrections)' : ''}`, async () => {
      releases.push(release);
      await watched((signal) => helmInstall(helmEnv, { release, chart, namespace, values, timeoutMs: READY_MS, signal, ...extra }));
    });
  chartChecks.push(
    ...(await installWithCorrections({
      release: profile.name,
      applied: o.corrections ? correctionsFor(profile, profile.name) : [],
      defaults: o.defaults,
      namespace,
      install: (postRenderer) =>
        install(profile.name, o.chartPath, o.values, { ...(o.valuesFile ? { valuesFiles: [o.valuesFile] } : {}), ...(postRenderer ? { postRenderer } : {}) }),
    })),
  );
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
    const defaults = await chartDefaults(path);
    if (!o.corrections && correctionsFor(profile, companion.name).length) {
      ctx.log.warn(`not applying the profile's corrections for ${companion.name} (--no-corrections): its defects will show`);
    }
    const { layers, applied } = releaseValues({ profile, release: companion.name, wiring: [companion.values(o.wiring, defaults)], defaults, corrections: o.corrections });
    const checks = await installWithCorrections({
      release: companion.name,
      applied,
      defaults,
      namespace,
      install: (postRenderer) => install(companion.name, path, layers, postRenderer ? { postRenderer } : {}),
    });
    for (const c of checks) if (c.verdict === 'fail') ctx.log.warn(`${c.name}: ${c.message}`);
    chartChecks.push(...checks);
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

  if (gatewayRef.awaitRateLimit) {
    const rl = profile.capabilities.ratelimit;
    if (isNotApplicable(rl) || !('userHeader' in rl)) throw new Error(`profile ${profile.name}: gateway.awaitRateLimit needs a rate-limit capability with a userHeader`);
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
    chartChecks,
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
