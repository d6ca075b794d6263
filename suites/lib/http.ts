// Plain HTTP for the suites: undici, no retries (a retry would hide a 429 or a flaky gateway).
// A request that gets no complete answer fails with what happened to it, named by method and path.
import { request } from 'undici';
import { mask } from '../../scripts/secrets.ts';

/** The words for a connection that closed under a request: the gateway (or a tunnel) gave up on it. */
export const CONNECTION_CLOSED = 'the connection closed before a complete answer';

/** A request that got no complete HTTP answer: the connection closed, was refused or timed out. */
export class NoAnswer extends Error {
  override name = 'NoAnswer';
}

/**
 * What a transport failure means, in words; undefined when `err` is not one. Walks the cause chain,
 * since fetch-based clients (the OpenAI SDK) wrap undici's socket errors ("terminated").
 */
export function transportFailure(err: unknown): string | undefined {
  let e = err as { code?: string; message?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    const code = e.code ?? '';
    const msg = e.message ?? '';
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE' || /other side closed|socket hang up|premature close/i.test(msg)) {
      return `${CONNECTION_CLOSED} (${msg || code})`;
    }
    if (code === 'ECONNREFUSED') return `nothing accepted the connection (${msg || code}): the gateway, or the tunnel to it, is not listening there`;
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return `no complete answer in time (${msg || code})`;
  }
  return undefined;
}

/**
 * Runs `call` (a request, an SDK call); a transport failure becomes NoAnswer named `what`, in the
 * words reports use (the OpenAI SDK itself says only "Connection error." or "terminated").
 */
export async function orNoAnswer<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const failure = transportFailure(err);
    if (failure) throw new NoAnswer(`${what}: ${failure}`, { cause: err });
    throw err;
  }
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  /** The body, masked: messages quote slices of it, and a slice could cut a secret in two. */
  text: string;
  /** Parsed from the body as it came (a created key must be usable). */
  json: unknown;
}

export async function http(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const { res, text } = await orNoAnswer(`${method} ${new URL(url).pathname}`, async () => {
    const res = await request(url, {
      method: method as 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      headersTimeout: opts.timeoutMs ?? 30_000,
      bodyTimeout: opts.timeoutMs ?? 30_000,
    });
    return { res, text: await res.body.text() };
  });
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
  return { status: res.statusCode, headers: flat, text: mask(text), json };
}

/** Reads a dot path ("checks.db") out of a JSON value. */
export function field(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A short, secret-free description of a response for assertion messages. */
export function describe(res: HttpResult): string {
  return `HTTP ${res.status} ${res.text.slice(0, 300).replace(/\s+/g, ' ')}`;
}

/**
 * Why a request with the admin credential was refused, in words that point at the cause. LiteLLM
 * without a database answers a key that is not its master key with 400 no_db_connection, not 401.
 */
export function authRefusal(res: HttpResult): string | undefined {
  if (res.status === 401 || res.status === 403) return `the gateway refused the credential (${describe(res)})`;
  if (res.status === 400 && /no_db_connection|No connected db/.test(res.text)) {
    return (
      `the gateway did not accept the admin credential as its master key (${describe(res)}; LiteLLM answers this for ` +
      'any key other than its master key when no database is configured) — check how the chart passes the master key ' +
      '(LiteLLM resolves only the os.environ/ prefix)'
    );
  }
  return undefined;
}
