// The cluster-wide half of the Envoy AI Gateway stack, installed once per cluster in the order
// that works: CRDs (server-side: the EnvoyProxy CRD is 1.35 MB, too big for a client-side apply's
// annotation) → Redis → Envoy Gateway (images built here, Redis for the global rate limit, the
// Backend API, the extension manager pointing at the AI Gateway controller) → AI Gateway (before
// any Gateway exists: its webhook injects the extproc sidecar into Envoy pods and fails closed).
// Each step waits for what it installed, naming it. A later run that finds the same versions
// installed and ready reuses them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { KubernetesObjectApi, type KubernetesObject, loadAllYaml, PatchStrategy } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { apiStatus, type Kube } from '../kube/client.ts';
import { DEPENDENCY_CHARTS } from '../images/index.ts';
import { type HelmEnv, helmInstall, type InstallOptions } from '../kube/helm.ts';
import { watchForTerminalStates } from '../kube/terminal.ts';
import { waitForWorkloads, workloadStates } from '../kube/wait.ts';
import { fatal, notYet, retry } from '../retry.ts';
import { envoyGatewayBaseValues, type StackSources } from './ai-gateway-sources.ts';

/** Where the stack lives. Envoy Gateway also runs every Gateway's Envoy Deployment in its namespace. */
export const STACK = {
  egNamespace: 'envoy-gateway-system',
  egRelease: 'eg',
  aigNamespace: 'envoy-ai-gateway-system',
  aigRelease: 'aieg',
  /** AI Gateway's chart names its Service so, whatever the release. */
  aigControllerService: 'ai-gateway-controller',
  extensionPort: 1063,
  redisNamespace: 'gateway-smoke-redis',
  redisRelease: 'redis',
  /** ConfigMap in egNamespace recording what this harness installed. */
  marker: 'gateway-smoke-ai-gateway-stack',
  fieldManager: 'gateway-smoke',
} as const;

/** The images the stack runs (scripts/images names), for the build-and-load step. */
export const STACK_IMAGE_NAMES = ['envoy', 'envoy-gateway', 'ai-gateway-controller', 'ai-gateway-extproc', 'ratelimit', 'redis'] as const;

/** The stack's image refs out of the run's built images; names what is missing. */
export function stackImages(refs: Partial<Record<(typeof STACK_IMAGE_NAMES)[number], string>>): StackImages {
  const missing = STACK_IMAGE_NAMES.filter((n) => !refs[n]);
  if (missing.length) throw new Error(`the AI Gateway stack's images were not built: ${missing.join(', ')}`);
  return {
    envoy: refs.envoy!,
    envoyGateway: refs['envoy-gateway']!,
    aiGatewayController: refs['ai-gateway-controller']!,
    aiGatewayExtproc: refs['ai-gateway-extproc']!,
    ratelimit: refs.ratelimit!,
    redis: refs.redis!,
  };
}

export interface StackImages {
  envoy: string;
  envoyGateway: string;
  aiGatewayController: string;
  aiGatewayExtproc: string;
  ratelimit: string;
  redis: string;
}

export interface StackContext {
  k: Kube;
  helmEnv: HelmEnv;
  log: (line: string) => void;
  /** Runs a named, timed phase (RunContext.phase); defaults to running it. */
  phase?: <T>(name: string, fn: () => Promise<T>) => Promise<T>;
  signal?: AbortSignal;
}

export interface StackInstall {
  reused: boolean;
  /** When the reused stack was installed. */
  installedAt: string;
  redisUrl: string;
  /** For the report's fingerprint. */
  fingerprint: Record<string, string>;
}

/**
 * How long Envoy waits for the rate-limit service's answer. Unset, Envoy's filter waits 20 ms and
 * then lets the request through (Envoy Gateway fails open by default): on a busy CI node the
 * service's Redis round trip takes longer, and a burst over two Envoy pods passed limit × 2 with
 * `ratelimit.failure_mode_allowed` counting the unanswered calls. The fail-open mode stays as
 * Envoy Gateway ships it; a run that still fails open is named from Envoy's stats (envoy-evidence).
 */
export const RATE_LIMIT_TIMEOUT = '2s';

const redisUrl = () => `${STACK.redisRelease}.${STACK.redisNamespace}.svc.cluster.local:6379`;

/** Our overrides on Envoy Gateway's chart, after its filled-in template and AI Gateway's documented values. */
export function envoyGatewayValues(images: StackImages): Record<string, unknown> {
  return {
    global: {
      images: {
        envoyGateway: { image: images.envoyGateway, pullPolicy: 'IfNotPresent' },
        ratelimit: { image: images.ratelimit, pullPolicy: 'IfNotPresent' },
        // EG's default EnvoyProxy; a chart's own EnvoyProxy replaces it (ai-gateway-core's does)
        envoyProxy: { image: images.envoy, pullPolicy: 'IfNotPresent' },
      },
    },
    // applied server-side before, from the same module zip
    crds: { enabled: false },
    config: {
      envoyGateway: {
        rateLimit: { backend: { type: 'Redis', redis: { url: redisUrl() } }, timeout: RATE_LIMIT_TIMEOUT },
        extensionApis: { enableEnvoyPatchPolicy: true, enableBackend: true },
        extensionManager: {
          service: { fqdn: { hostname: `${STACK.aigControllerService}.${STACK.aigNamespace}.svc.cluster.local`, port: STACK.extensionPort } },
        },
      },
    },
  };
}

export function aiGatewayValues(images: StackImages): Record<string, unknown> {
  const split = (ref: string) => ({ repository: ref.slice(0, ref.lastIndexOf(':')), tag: ref.slice(ref.lastIndexOf(':') + 1) });
  return {
    controller: { image: split(images.aiGatewayController), imagePullPolicy: 'IfNotPresent' },
    extProc: { image: split(images.aiGatewayExtproc), imagePullPolicy: 'IfNotPresent' },
  };
}

/** What identifies an install: versions, images and every value we pass. */
function stackKey(src: StackSources, images: StackImages): { key: string; summary: string } {
  const v = src.versions;
  const summary = `Envoy Gateway ${v.envoyGateway}, AI Gateway ${v.aiGateway}, Envoy ${v.envoy}, ratelimit ${v.ratelimit} (rate-limit timeout ${RATE_LIMIT_TIMEOUT}, fail-open)`;
  const key = createHash('sha256')
    .update(JSON.stringify({ v, images, eg: envoyGatewayValues(images), aig: aiGatewayValues(images), redis: redisValues(images) }))
    .digest('hex')
    .slice(0, 16);
  return { key, summary };
}

function redisValues(images: StackImages): Record<string, unknown> {
  const i = images.redis.lastIndexOf(':');
  return { fullnameOverride: STACK.redisRelease, image: { repository: images.redis.slice(0, i), tag: images.redis.slice(i + 1) } };
}

export async function ensureAiGatewayStack(c: StackContext, src: StackSources, images: StackImages): Promise<StackInstall> {
  const phase = c.phase ?? (<T>(_: string, fn: () => Promise<T>) => fn());
  const { key, summary } = stackKey(src, images);
  const fingerprint = {
    'ai gateway stack': summary,
    'ai gateway stack key': key,
  };
  const found = await readMarker(c.k);
  if (found?.key === key) {
    // the stack's own workloads only: Envoy Gateway's namespace also holds every Gateway's Envoy
    const own = [
      [STACK.redisNamespace, `app.kubernetes.io/instance=${STACK.redisRelease}`],
      [STACK.egNamespace, `app.kubernetes.io/instance=${STACK.egRelease}`],
      [STACK.egNamespace, 'app.kubernetes.io/name=envoy-ratelimit'],
      [STACK.aigNamespace, `app.kubernetes.io/instance=${STACK.aigRelease}`],
    ] as const;
    const states = await Promise.all(own.map(([ns, sel]) => workloadStates(c.k, ns, sel)));
    const pending = [...states.flat().filter((s) => !s.ready), ...own.filter((_, i) => states[i]!.length === 0).map(([ns, sel]) => ({ ref: `${ns}/${sel}`, unmet: 'missing' }))];
    if (pending.length === 0) {
      c.log(`reusing the AI Gateway stack installed at ${found.installedAt} (${summary}; key ${key})`);
      return { reused: true, installedAt: found.installedAt, redisUrl: redisUrl(), fingerprint: { ...fingerprint, 'ai gateway stack install': `reused (installed ${found.installedAt})` } };
    }
    c.log(`the AI Gateway stack (${summary}) is installed but not ready (${pending.map((p) => `${p.ref}: ${p.unmet}`).join('; ')}): installing it again`);
  } else if (found) {
    c.log(`the AI Gateway stack on this cluster is another build (key ${found.key}, want ${key}): upgrading it`);
  }

  await phase('apply Gateway API, Envoy Gateway and AI Gateway CRDs (server-side)', () => applyCrds(c, src.crdFiles));
  await phase('install Redis for the global rate limit', async () => {
    await helmInstall(c.helmEnv, {
      release: STACK.redisRelease,
      chart: DEPENDENCY_CHARTS.redis,
      namespace: STACK.redisNamespace,
      values: [redisValues(images)],
      timeoutMs: 120_000,
      ...(c.signal ? { signal: c.signal } : {}),
    });
    await waitReady(c, STACK.redisNamespace, `app.kubernetes.io/instance=${STACK.redisRelease}`, `Redis (Deployment ${STACK.redisRelease} in ${STACK.redisNamespace})`, 120_000);
  });
  await phase(`install Envoy Gateway ${src.versions.envoyGateway}`, async () => {
    await helmWatched(c, STACK.egNamespace, 'Envoy Gateway', {
      release: STACK.egRelease,
      chart: src.envoyGatewayChart,
      namespace: STACK.egNamespace,
      values: [
        await envoyGatewayBaseValues(src, images.envoyGateway),
        // AI Gateway's documented values for the Envoy Gateway it extends, then ours
        parse(await readFile(src.aiGatewayEgValuesFile, 'utf8')) as Record<string, unknown>,
        envoyGatewayValues(images),
      ],
      skipCrds: true,
      timeoutMs: 240_000,
    });
    await waitReady(c, STACK.egNamespace, `app.kubernetes.io/instance=${STACK.egRelease}`, `Envoy Gateway (Deployment envoy-gateway in ${STACK.egNamespace})`, 180_000);
    // EG creates the rate-limit Deployment itself once its config names a backend
    await waitReady(c, STACK.egNamespace, 'app.kubernetes.io/name=envoy-ratelimit', `Envoy Gateway's rate-limit service (Deployment envoy-ratelimit, Redis at ${redisUrl()})`, 180_000);
  });
  await phase(`install AI Gateway ${src.versions.aiGateway}`, async () => {
    await helmWatched(c, STACK.aigNamespace, 'AI Gateway', {
      release: STACK.aigRelease,
      chart: src.aiGatewayChart,
      namespace: STACK.aigNamespace,
      values: [aiGatewayValues(images)],
      timeoutMs: 180_000,
    });
    await waitReady(c, STACK.aigNamespace, `app.kubernetes.io/instance=${STACK.aigRelease}`, `AI Gateway controller (Deployment ${STACK.aigControllerService} in ${STACK.aigNamespace})`, 180_000);
  });
  const installedAt = new Date().toISOString();
  await writeMarker(c.k, { key, summary, installedAt });
  return { reused: false, installedAt, redisUrl: redisUrl(), fingerprint: { ...fingerprint, 'ai gateway stack install': `installed ${installedAt}` } };
}

// ------------------------------------------------------------------------------ CRDs

async function applyCrds(c: StackContext, files: string[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(c.k.kc);
  const names: string[] = [];
  for (const file of files) {
    // client-node's own loader: it maps the JSON names (x-kubernetes-int-or-string, ...) onto its
    // typed models, which its serializer needs to send them back (plain objects lose those fields)
    for (const obj of loadAllYaml(await readFile(file, 'utf8')) as (KubernetesObject | null)[]) {
      if (!obj?.kind) continue;
      c.signal?.throwIfAborted();
      // server-side apply, forced: this harness owns these fields on its clusters
      await api.patch(obj, undefined, undefined, STACK.fieldManager, true, PatchStrategy.ServerSideApply);
      if (obj.kind === 'CustomResourceDefinition') names.push(obj.metadata!.name!);
    }
  }
  c.log(`applied ${names.length} CRDs server-side (field manager ${STACK.fieldManager}); waiting for them to be Established`);
  await pollUntil(c, `${names.length} CRDs Established`, 60_000, async () => {
    const pending: string[] = [];
    for (const name of names) {
      const crd = (await api.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } })) as KubernetesObject & {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (!crd.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) pending.push(name);
    }
    return pending.length ? `not Established yet: ${pending.join(', ')}` : undefined;
  });
}

// ------------------------------------------------------------------------------ waits

/** Polls `check` (undefined = done, else what is unmet) every second until the deadline. */
function pollUntil(c: StackContext, what: string, timeoutMs: number, check: () => Promise<string | undefined>): Promise<void> {
  return retry(
    what,
    { timeoutMs, intervalMs: 1000, ...(c.signal ? { signal: c.signal } : {}), onTimeout: (last) => new Error(`waited ${Math.round(timeoutMs / 1000)}s for ${what}: ${(last as Error).message}`) },
    async () => {
      const unmet = await check().catch((err: Error) => {
        throw fatal(err);
      });
      if (unmet !== undefined) throw notYet(unmet);
    },
  );
}

/** Rejects as soon as a pod of the namespace is in a state no wait can fix, naming what it was for. */
async function terminal(c: StackContext, namespace: string, what: string, stop: AbortSignal): Promise<never> {
  try {
    return await watchForTerminalStates(c.k, namespace, stop);
  } catch (err) {
    throw new Error(`${what} cannot become ready: ${(err as Error).message}`);
  }
}

async function waitReady(c: StackContext, namespace: string, labelSelector: string, what: string, timeoutMs: number): Promise<void> {
  c.log(`waiting for ${what}`);
  const stop = new AbortController();
  try {
    await Promise.race([
      waitForWorkloads(c.k, namespace, { labelSelector, timeoutMs, what, onProgress: c.log, ...(c.signal ? { signal: c.signal } : {}) }),
      terminal(c, namespace, what, stop.signal),
    ]);
  } finally {
    stop.abort();
  }
}

/**
 * helm upgrade --install while watching the namespace's pods: a hook Job (Envoy Gateway's certgen)
 * whose pod cannot start stops the install at once, named, instead of helm's "timed out waiting".
 */
async function helmWatched(c: StackContext, namespace: string, what: string, o: InstallOptions): Promise<void> {
  const stop = new AbortController();
  const signal = c.signal ? AbortSignal.any([c.signal, stop.signal]) : stop.signal;
  try {
    await Promise.race([
      helmInstall(c.helmEnv, { ...o, signal }),
      terminal(c, namespace, what, stop.signal),
    ]);
  } finally {
    stop.abort();
  }
}

// ------------------------------------------------------------------------------ marker

interface Marker {
  key: string;
  summary: string;
  installedAt: string;
}

async function readMarker(k: Kube): Promise<Marker | undefined> {
  try {
    const cm = await k.core.readNamespacedConfigMap({ name: STACK.marker, namespace: STACK.egNamespace });
    const d = cm.data ?? {};
    return d['key'] ? { key: d['key'], summary: d['summary'] ?? '', installedAt: d['installedAt'] ?? '?' } : undefined;
  } catch (err) {
    if (apiStatus(err) === 404) return undefined;
    throw err;
  }
}

async function writeMarker(k: Kube, m: Marker): Promise<void> {
  const body = {
    metadata: { name: STACK.marker, namespace: STACK.egNamespace, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke' } },
    data: { key: m.key, summary: m.summary, installedAt: m.installedAt },
  };
  try {
    await k.core.replaceNamespacedConfigMap({ name: STACK.marker, namespace: STACK.egNamespace, body });
  } catch (err) {
    if (apiStatus(err) !== 404) throw err;
    await k.core.createNamespacedConfigMap({ namespace: STACK.egNamespace, body });
  }
}
