// Plain HTTP for the suites: undici, no retries (a retry would hide a 429 or a flaky gateway).
import { request } from 'undici';

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  text: string;
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
  const res = await request(url, {
    method: method as 'GET',
    headers,
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    headersTimeout: opts.timeoutMs ?? 30_000,
    bodyTimeout: opts.timeoutMs ?? 30_000,
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : String(v ?? '');
  return { status: res.statusCode, headers: flat, text, json };
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
