// What only Envoy can tell: its admin stats and its access log. No Kubernetes status shows a TLS
// handshake to a plain-HTTP backend failing (every condition is True), so the harness reads
// Envoy's own counters (`cluster.<name>.ssl.connection_error`) and access log
// (`upstream_transport_failure_reason ... TLS_error`) and names the BackendTLSPolicy behind them.
import { KubernetesObjectApi, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { request } from 'undici';
import type { Kube } from '../kube/client.ts';
import { Tunnel } from '../kube/tunnel.ts';

/** Envoy Gateway binds Envoy's admin listener to the pod's loopback; a port-forward reaches it. */
export const ENVOY_ADMIN_PORT = 19000;
const ENVOY_CONTAINER = 'envoy';

export interface EnvoyEvidence {
  pod: string;
  /** `name: value` lines of /stats. */
  stats: Map<string, number>;
  statsText: string;
  /** The envoy container's log (access log lines are JSON). */
  log: string;
}

export async function envoyEvidence(k: Kube, namespace: string, pod: V1Pod): Promise<EnvoyEvidence> {
  const name = pod.metadata!.name!;
  const admin = new Tunnel(k, { namespace, pod: { pod: name, port: ENVOY_ADMIN_PORT }, probePath: '/ready' });
  let statsText = '';
  try {
    const url = await admin.open(15_000);
    const res = await request(`${url}/stats`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
    statsText = await res.body.text();
  } finally {
    await admin.close();
  }
  const stats = parseStats(statsText);
  const log = await k.core.readNamespacedPodLog({ name, namespace, container: ENVOY_CONTAINER, tailLines: 2000 }).catch((err: Error) => `(no log: ${err.message})`);
  return { pod: name, stats, statsText, log };
}

/** The counters and gauges of Envoy's /stats text (`name: value`; histograms are skipped). */
export function parseStats(text: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\S+): (\d+)$/.exec(line);
    if (m) stats.set(m[1]!, Number(m[2]));
  }
  return stats;
}

interface AccessLogLine {
  response_code?: number | string;
  response_code_details?: string;
  response_flags?: string;
  upstream_transport_failure_reason?: string;
  upstream_cluster?: string;
  upstream_host?: string;
}

function tlsFailures(log: string): AccessLogLine[] {
  const out: AccessLogLine[] = [];
  for (const line of log.split('\n')) {
    const start = line.indexOf('{');
    if (start < 0 || !line.includes('TLS_error')) continue;
    try {
      out.push(JSON.parse(line.slice(start)) as AccessLogLine);
    } catch {
      // not an access log line
    }
  }
  return out;
}

interface BackendTlsPolicy extends KubernetesObject {
  spec?: { targetRefs?: { kind?: string; name?: string }[]; validation?: { hostname?: string } };
}
interface Backend extends KubernetesObject {
  spec?: { endpoints?: { fqdn?: { hostname?: string; port?: number } }[] };
}

/** Per-cluster `ssl.connection_error` counts (summed over pods) and the access log's TLS failures. */
export function tlsEvidence(evs: EnvoyEvidence[]): { sslErrors: Map<string, number>; failed: AccessLogLine[] } {
  const sslErrors = new Map<string, number>();
  for (const ev of evs) {
    for (const [n, v] of ev.stats) if (n.startsWith('cluster.') && n.endsWith('.ssl.connection_error') && v > 0) sslErrors.set(n, (sslErrors.get(n) ?? 0) + v);
  }
  return { sslErrors, failed: evs.flatMap((ev) => tlsFailures(ev.log)) };
}

/**
 * When Envoy shows TLS failing towards upstreams and the namespace has BackendTLSPolicies, the one
 * finding that names them (with Envoy's numbers over every pod); undefined when Envoy shows none.
 */
export async function backendTlsFinding(k: Kube, namespace: string, evs: EnvoyEvidence[]): Promise<string | undefined> {
  const { sslErrors, failed } = tlsEvidence(evs);
  if (sslErrors.size === 0 && failed.length === 0) return undefined;
  const api = KubernetesObjectApi.makeApiClient(k.kc);
  const policies = (await api.list<BackendTlsPolicy>('gateway.networking.k8s.io/v1', 'BackendTLSPolicy', namespace)).items;
  const backends = (await api.list<Backend>('gateway.envoyproxy.io/v1alpha1', 'Backend', namespace).catch(() => ({ items: [] as Backend[] }))).items;
  const endpoint = (name: string | undefined) => {
    const fqdn = backends.find((b) => b.metadata?.name === name)?.spec?.endpoints?.[0]?.fqdn;
    return fqdn ? ` at ${fqdn.hostname}:${fqdn.port}` : '';
  };
  const named = policies.map((p) => {
    const t = p.spec?.targetRefs?.[0];
    return `BackendTLSPolicy ${namespace}/${p.metadata?.name} (→ ${t?.kind ?? '?'} ${t?.name ?? '?'}${endpoint(t?.name)})`;
  });
  const statsSaid = [...sslErrors].map(([n, v]) => `${n} = ${v}`).join(', ');
  const first = failed[0];
  const logSaid = first
    ? `access log: ${first.response_code} ${first.response_flags ?? ''} ${first.upstream_transport_failure_reason ?? first.response_code_details ?? ''}`.replace(/\s+/g, ' ').trim() +
      (failed.length > 1 ? ` (${failed.length} such lines)` : '')
    : '';
  const pods = `${evs.length} Envoy pod${evs.length === 1 ? '' : 's'}: ${evs.map((e) => e.pod).join(', ')}`;
  const evidence = [statsSaid && `Envoy stats ${statsSaid}`, logSaid && `Envoy ${logSaid}`].filter(Boolean).join('; ');
  if (named.length === 0) return `Envoy's TLS handshakes to upstreams fail (${evidence}; ${pods}) but no BackendTLSPolicy in ${namespace} explains it`;
  return (
    `${named.join(', ')} make${named.length === 1 ? 's' : ''} Envoy speak TLS to a backend that serves plain HTTP, so completions fail ` +
    `while every Kubernetes status is True — ${evidence} (${pods})`
  );
}

/** Per-pod counters of Envoy's global rate-limit filter that show it letting requests through unchecked. */
export interface FailOpenCount {
  pod: string;
  /** `cluster.<route>.ratelimit.failure_mode_allowed`, summed over routes. */
  allowed: number;
  /** `cluster.<route>.ratelimit.error`, summed over routes. */
  errors: number;
  /** `cluster.ratelimit_cluster.upstream_rq_timeout`: calls to the rate-limit service that timed out. */
  timeouts: number;
}

const RATE_LIMIT_CLUSTER = 'cluster.ratelimit_cluster.';

export function failOpenCounts(evs: EnvoyEvidence[]): FailOpenCount[] {
  return evs.map((ev) => {
    let allowed = 0;
    let errors = 0;
    for (const [n, v] of ev.stats) {
      if (!n.startsWith('cluster.') || n.startsWith(RATE_LIMIT_CLUSTER)) continue;
      if (n.endsWith('.ratelimit.failure_mode_allowed')) allowed += v;
      else if (n.endsWith('.ratelimit.error')) errors += v;
    }
    return { pod: ev.pod, allowed, errors, timeouts: ev.stats.get(`${RATE_LIMIT_CLUSTER}upstream_rq_timeout`) ?? 0 };
  });
}

/**
 * When some Envoy let requests through without the rate-limit service's answer, the one finding that
 * says so with Envoy's numbers per pod: a burst then passes more than the limit although the count
 * in Redis is shared, which looks like a per-replica limit and is not. Undefined when none did.
 */
export function rateLimitFailOpenFinding(evs: EnvoyEvidence[], timeout: string): string | undefined {
  const counts = failOpenCounts(evs);
  const allowed = counts.reduce((n, c) => n + c.allowed, 0);
  if (allowed === 0) return undefined;
  const per = counts.map((c) => `${c.pod}: ratelimit.error = ${c.errors}, ratelimit.failure_mode_allowed = ${c.allowed}, ratelimit_cluster.upstream_rq_timeout = ${c.timeouts}`).join('; ');
  const timeouts = counts.reduce((n, c) => n + c.timeouts, 0);
  const timedOut = `its calls to the rate-limit service failed${timeouts ? ` (${timeouts} timed out after ${timeout})` : ''} `;
  return (
    `Envoy let ${allowed} request${allowed === 1 ? '' : 's'} through without a rate-limit decision: ${timedOut}and Envoy Gateway's ` +
    `rate-limit filter fails open, so a burst passes more than the limit while the count itself is shared — the stack failing open, ` +
    `not a per-replica limit (${per})`
  );
}
