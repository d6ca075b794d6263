// Whether a registry serves an image's manifest, asked over the OCI distribution API without pulling
// anything: HEAD /v2/<name>/manifests/<tag|digest>. Registries that want a token for anonymous pulls
// (Docker Hub, ghcr.io) answer 401 with a Bearer challenge; the anonymous token flow is done once.
// Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY; GATEWAY_SMOKE_REGISTRY_MIRRORS redirects a host.
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { apiHostOf, isLoopbackRegistry, parseImageRef, type ImageRef } from './image-ref.ts';
import { registryMirrorsFrom } from './registry-mirrors.ts';

export type ManifestOutcome =
  | { kind: 'present'; digest: string | undefined; detail: string }
  | { kind: 'manifest unknown'; detail: string }
  | { kind: 'unauthorized'; detail: string }
  | { kind: 'registry unreachable'; code: string; detail: string };

/** Every manifest type a pull accepts: a multi-arch index or a single-platform manifest, OCI or Docker. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface ManifestCheckOptions {
  /** Proxy variables and GATEWAY_SMOKE_REGISTRY_MIRRORS are read from here. */
  env?: NodeJS.ProcessEnv;
  /** Per request. */
  timeoutMs?: number;
}

/** Where the registry's API is asked: its mirror when one is set, else the host itself. */
export function registryBaseUrl(registry: string, mirrors: Map<string, string>): string {
  return mirrors.get(registry) ?? `${isLoopbackRegistry(registry) ? 'http' : 'https'}://${apiHostOf(registry)}`;
}

export async function checkManifest(image: string, opts: ManifestCheckOptions = {}): Promise<ManifestOutcome> {
  const env = opts.env ?? process.env;
  let ref: ImageRef;
  try {
    ref = parseImageRef(image);
  } catch (err) {
    // No registry can serve a name that is not a reference: the chart's values are wrong.
    return { kind: 'manifest unknown', detail: (err as Error).message };
  }
  const base = registryBaseUrl(ref.registry, registryMirrorsFrom(env));
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: env['http_proxy'] ?? env['HTTP_PROXY'] ?? '',
    httpsProxy: env['https_proxy'] ?? env['HTTPS_PROXY'] ?? '',
    noProxy: env['no_proxy'] ?? env['NO_PROXY'] ?? '',
  });
  try {
    return await ask(ref, base, dispatcher, opts.timeoutMs ?? 5000);
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
}

async function ask(ref: ImageRef, base: string, dispatcher: Dispatcher, timeoutMs: number): Promise<ManifestOutcome> {
  const url = `${base}/v2/${ref.name}/manifests/${ref.reference}`;
  const what = `HEAD ${url}`;
  const head = (authorization?: string) =>
    call(url, 'HEAD', dispatcher, timeoutMs, { accept: MANIFEST_ACCEPT, ...(authorization ? { authorization } : {}) });

  let res = await head();
  if ('code' in res) return unreachable(what, res.code);
  let via = '';
  if (res.status === 401) {
    const challenge = bearerChallenge(res.headers['www-authenticate']);
    if (!challenge) return { kind: 'unauthorized', detail: `${what} answered HTTP 401 without a Bearer challenge, so it wants credentials` };
    const token = await anonymousToken(challenge, ref.name, dispatcher, timeoutMs);
    if (token.kind !== 'token') return token.outcome;
    via = ` with an anonymous token from ${challenge.realm}`;
    res = await head(`Bearer ${token.token}`);
    if ('code' in res) return unreachable(what, res.code);
  }
  const answered = `${what}${via} answered HTTP ${res.status}`;
  if (res.status >= 200 && res.status < 300) {
    const header = res.headers['docker-content-digest'];
    const digest = header ?? (ref.reference.includes(':') ? ref.reference : undefined);
    return { kind: 'present', digest, detail: `${answered}${digest ? ` (${digest})` : ''}` };
  }
  if (res.status === 404) return { kind: 'manifest unknown', detail: answered };
  // Docker Hub answers 401 for a repository that does not exist, to hide which private ones do.
  if (res.status === 401 || res.status === 403) return { kind: 'unauthorized', detail: `${answered}: the repository does not exist or needs credentials` };
  // Anything else (429, 5xx) leaves the image unobtainable from here for now.
  return { kind: 'registry unreachable', code: `HTTP ${res.status}`, detail: answered };
}

interface Challenge {
  realm: string;
  service: string | undefined;
}

/** realm and service of a `Bearer realm="…",service="…",scope="…"` challenge (RFC 6750 §3). */
export function bearerChallenge(header: string | undefined): Challenge | undefined {
  if (!header || !/^\s*bearer\s/i.test(header)) return undefined;
  const params = new Map<string, string>();
  for (const m of header.replace(/^\s*bearer\s+/i, '').matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params.set(m[1]!.toLowerCase(), (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
  }
  const realm = params.get('realm');
  return realm ? { realm, service: params.get('service') } : undefined;
}

/** The token service's anonymous pull token for one repository, or the outcome that ends the check. */
async function anonymousToken(
  challenge: Challenge,
  name: string,
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<{ kind: 'token'; token: string } | { kind: 'failed'; outcome: ManifestOutcome }> {
  let url: URL;
  try {
    url = new URL(challenge.realm);
  } catch {
    return { kind: 'failed', outcome: { kind: 'unauthorized', detail: `the registry's token realm "${challenge.realm}" is not a URL` } };
  }
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', `repository:${name}:pull`);
  const what = `GET ${url.origin}${url.pathname} (anonymous pull token for ${name})`;
  const res = await call(url.toString(), 'GET', dispatcher, timeoutMs, { accept: 'application/json' });
  if ('code' in res) return { kind: 'failed', outcome: unreachable(what, res.code) };
  if (res.status < 200 || res.status >= 300) {
    return { kind: 'failed', outcome: { kind: 'unauthorized', detail: `${what} answered HTTP ${res.status}: no anonymous pull` } };
  }
  let body: { token?: unknown; access_token?: unknown };
  try {
    body = JSON.parse(res.body) as typeof body;
  } catch {
    return { kind: 'failed', outcome: { kind: 'unauthorized', detail: `${what} answered HTTP ${res.status} without a JSON token` } };
  }
  const token = typeof body.token === 'string' && body.token ? body.token : typeof body.access_token === 'string' ? body.access_token : '';
  if (!token) return { kind: 'failed', outcome: { kind: 'unauthorized', detail: `${what} answered without a token` } };
  return { kind: 'token', token };
}

function unreachable(what: string, code: string): ManifestOutcome {
  return { kind: 'registry unreachable', code, detail: `${what} failed: ${code}` };
}

type Answer = { status: number; headers: Record<string, string | undefined>; body: string } | { code: string };

/** One request; a network error or timeout becomes its error code instead of a throw. */
async function call(url: string, method: 'HEAD' | 'GET', dispatcher: Dispatcher, timeoutMs: number, headers: Record<string, string>): Promise<Answer> {
  try {
    const res = await request(url, { method, headers, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    // Token bodies are small; a HEAD has none.
    const body = method === 'GET' ? await res.body.text() : (await res.body.dump(), '');
    const flat: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(res.headers)) flat[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers: flat, body };
  } catch (err) {
    // undici's codes are strings (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT); an abort's DOMException has a number
    const e = err as Error & { code?: unknown; cause?: { code?: unknown } };
    const code = [e.cause?.code, e.code].find((c): c is string => typeof c === 'string');
    return { code: code ?? e.name };
  }
}
