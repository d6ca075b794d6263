// The run-namespace half of a Gateway-API chart on the Envoy AI Gateway stack: the provider-key
// Secret the backends read, the waits that mean "this Gateway serves" (Programmed, then the Envoy
// pods re-rolled with the AI Gateway extproc sidecar), and the Gateway's Envoy Service to tunnel to.
import { randomUUID } from 'node:crypto';
import { KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { request } from 'undici';
import { apiStatus, type Kube } from '../kube/client.ts';
import { podProblem } from '../kube/wait.ts';
import { fatal, notYet, retry } from '../retry.ts';
import { registerSecret } from '../secrets.ts';
import { STACK } from './ai-gateway-stack.ts';

/** The sidecar the AI Gateway controller injects into a Gateway's Envoy pods once a route exists. */
export const EXTPROC_CONTAINER = 'ai-gateway-extproc';

/** Labels Envoy Gateway puts on a Gateway's Envoy Deployment, pods and Service. */
export function envoySelector(namespace: string, gateway: string): string {
  return `gateway.envoyproxy.io/owning-gateway-name=${gateway},gateway.envoyproxy.io/owning-gateway-namespace=${namespace}`;
}

/** The Secret a chart's BackendSecurityPolicy reads the upstream key from (registered for masking). */
export async function createProviderKeySecret(k: Kube, namespace: string, spec: { name: string; key: string }, value: string): Promise<void> {
  registerSecret(value);
  await k.core.createNamespacedSecret({
    namespace,
    body: { metadata: { name: spec.name, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke' } }, stringData: { [spec.key]: value } },
  });
}

// ------------------------------------------------------------------------------ waits

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Polls `check` (undefined = done, else what is unmet) every second; an error from `check` ends it at once. */
function poll(what: string, timeoutMs: number, signal: AbortSignal | undefined, check: () => Promise<string | undefined>): Promise<void> {
  return retry(
    what,
    { timeoutMs, intervalMs: 1000, ...(signal ? { signal } : {}), onTimeout: (last) => new Error(`${what} not reached after ${Math.round(timeoutMs / 1000)}s: ${(last as Error).message}`) },
    async () => {
      const unmet = await check().catch((err: Error) => {
        throw fatal(err);
      });
      if (unmet !== undefined) throw notYet(unmet);
    },
  );
}

/** The Gateway's conditions (or why they cannot be read). */
export async function gatewayConditions(k: Kube, namespace: string, name: string): Promise<Condition[]> {
  const api = KubernetesObjectApi.makeApiClient(k.kc);
  const gw = (await api.read({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace } })) as KubernetesObject & {
    status?: { conditions?: Condition[] };
  };
  return gw.status?.conditions ?? [];
}

const describeConditions = (cs: Condition[]) =>
  cs.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason}${c.message ? `: ${c.message}` : ''})` : ''}`).join(', ') || 'no conditions yet';

export async function waitGatewayProgrammed(k: Kube, namespace: string, name: string, o: { timeoutMs: number; signal?: AbortSignal }): Promise<void> {
  await poll(`Gateway ${namespace}/${name} Programmed`, o.timeoutMs, o.signal, async () => {
    let cs: Condition[];
    try {
      cs = await gatewayConditions(k, namespace, name);
    } catch (err) {
      return apiStatus(err) === 404 ? 'the Gateway does not exist' : (err as Error).message;
    }
    if (cs.some((c) => c.type === 'Programmed' && c.status === 'True')) return undefined;
    return `${describeConditions(cs)}${await envoyPodProblems(k, namespace, name)}`;
  });
}

async function envoyPods(k: Kube, namespace: string, gateway: string): Promise<V1Pod[]> {
  return (await k.core.listNamespacedPod({ namespace: STACK.egNamespace, labelSelector: envoySelector(namespace, gateway) })).items;
}

async function envoyPodProblems(k: Kube, namespace: string, gateway: string): Promise<string> {
  const problems = (await envoyPods(k, namespace, gateway)).map((p) => [p.metadata?.name, podProblem(p)]).filter(([, w]) => w);
  return problems.length ? `; Envoy ${problems.map(([n, w]) => `Pod/${n}: ${w}`).join('; ')}` : '';
}

const hasExtproc = (p: V1Pod) => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].some((c) => c.name === EXTPROC_CONTAINER);
const isReady = (p: V1Pod) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/**
 * After the first route: the AI Gateway controller re-rolls the Envoy Deployment to inject its
 * extproc sidecar, and the old pod drains for ~30 s, where a tunnel could still land. Done when
 * every Envoy pod of the Gateway has the sidecar and is ready, and no other is left.
 */
export async function waitEnvoyWithExtproc(
  k: Kube,
  namespace: string,
  gateway: string,
  o: { timeoutMs: number; signal?: AbortSignal; log?: (l: string) => void },
): Promise<V1Pod[]> {
  let pods: V1Pod[] = [];
  let said = '';
  await poll(`the Envoy pods of Gateway ${namespace}/${gateway} re-rolled with the ${EXTPROC_CONTAINER} sidecar`, o.timeoutMs, o.signal, async () => {
    pods = await envoyPods(k, namespace, gateway);
    const injected = pods.filter(hasExtproc);
    const old = pods.filter((p) => !hasExtproc(p));
    const unready = injected.filter((p) => !isReady(p));
    const state =
      `${injected.length} pod(s) with the sidecar (${injected.length - unready.length} ready), ${old.length} without` +
      (unready.length ? `; ${unready.map((p) => `Pod/${p.metadata?.name}: ${podProblem(p) || 'not ready'}`).join('; ')}` : '');
    if (state !== said) o.log?.(`Envoy of ${namespace}/${gateway}: ${state}`);
    said = state;
    return injected.length > 0 && unready.length === 0 && old.length === 0 ? undefined : state;
  });
  return pods;
}

/**
 * Envoy Gateway hands the global rate limit to Envoy and to the rate-limit service some seconds
 * after every object says Accepted; a burst sent before that is not limited at all. Done when every
 * Envoy (one URL each) answers a completion with Envoy's x-ratelimit-limit header, for a probe user
 * id of its own (so no suite's window is touched).
 */
export async function waitRateLimitEnforced(
  urls: string[],
  o: { userHeader: string; model: string; timeoutMs: number; signal?: AbortSignal; describePolicy: () => Promise<string> },
): Promise<void> {
  const pending = new Set(urls);
  let last = '';
  await poll(`the global rate limit enforced by ${urls.length} Envoy pod(s)`, o.timeoutMs, o.signal, async () => {
    for (const url of [...pending]) {
      try {
        const res = await request(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [o.userHeader]: `gs-readiness-${randomUUID().slice(0, 8)}` },
          body: JSON.stringify({ model: o.model, messages: [{ role: 'user', content: 'is the rate limit on?' }], max_tokens: 1 }),
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        if (res.headers['x-ratelimit-limit']) pending.delete(url);
        else last = `HTTP ${res.statusCode} without x-ratelimit-limit`;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    return pending.size ? `${pending.size} of ${urls.length} still unlimited (${last}); ${await o.describePolicy()}` : undefined;
  });
}

/** The BackendTrafficPolicies of the namespace and their conditions, for a wait's message. */
export async function trafficPolicyStatus(k: Kube, namespace: string): Promise<string> {
  const api = KubernetesObjectApi.makeApiClient(k.kc);
  const list = await api
    .list<KubernetesObject & { status?: { ancestors?: { conditions?: Condition[] }[] } }>('gateway.envoyproxy.io/v1alpha1', 'BackendTrafficPolicy', namespace)
    .catch(() => ({ items: [] }));
  if (!list.items.length) return `no BackendTrafficPolicy in ${namespace}`;
  return list.items.map((p) => `BackendTrafficPolicy ${p.metadata?.name}: ${describeConditions(p.status?.ancestors?.flatMap((a) => a.conditions ?? []) ?? [])}`).join('; ');
}

/** The Service Envoy Gateway made for the Gateway (in its own namespace). */
export async function envoyService(k: Kube, namespace: string, gateway: string): Promise<string> {
  const list = await k.core.listNamespacedService({ namespace: STACK.egNamespace, labelSelector: envoySelector(namespace, gateway) });
  const name = list.items[0]?.metadata?.name;
  if (!name) throw new Error(`Envoy Gateway made no Service for Gateway ${namespace}/${gateway} in ${STACK.egNamespace}`);
  return name;
}
