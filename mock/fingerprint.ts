// Secret fingerprints: the journal never keeps a secret, only a stable short hash of it, so a suite
// can prove which key the gateway sent upstream (fingerprint(providerKey)) without the mock ever
// storing or returning the key itself.
import { createHash } from 'node:crypto';
import { memoise } from './memo.ts';

/** First 12 hex chars of sha256(secret). Pass the bare secret, without any `Bearer ` scheme. */
export function fingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

// Authorization-style values: "<scheme> <credentials>". Only the credentials are fingerprinted,
// and the scheme is kept so a journal reader can tell Bearer from Basic.
const SCHEME = /^([A-Za-z][A-Za-z0-9._~+-]*) +(\S.*)$/;

function computeMask(value: string, hasScheme: boolean): string {
  if (hasScheme) {
    const m = SCHEME.exec(value);
    if (m) return `${m[1]} ***fp:${fingerprint(m[2]!)}`;
  } else if (value.startsWith('Bearer ') || value.startsWith('bearer ')) {
    return `${value.slice(0, 6)} ***fp:${fingerprint(value.slice(7))}`;
  }
  return `***fp:${fingerprint(value)}`;
}

// Gateways resend the same few keys on every request: memoise value → masked form so the hot path
// neither hashes nor allocates. In process memory only (never journaled or returned).
const masked = [memoise(1024, (v) => computeMask(v, false)), memoise(1024, (v) => computeMask(v, true))];

/**
 * The masked form of a secret header value: `Bearer ***fp:1a2b3c4d5e6f` for scheme-prefixed
 * values (Authorization, Proxy-Authorization, or any value starting `Bearer `), otherwise
 * `***fp:1a2b3c4d5e6f`.
 */
export function maskSecret(value: string, hasScheme = true): string {
  return masked[hasScheme ? 1 : 0]!(value);
}

/** What the journal shows for a header that carried `Bearer <key>`: `Bearer ***fp:<fingerprint(key)>`. */
export function maskedBearer(key: string): string {
  return `Bearer ***fp:${fingerprint(key)}`;
}

// Names are lower-case (node:http lowercases incoming header names).
const SECRET_NAMES = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie']);
const SECRET_PARTS = /key|token|secret|password/;
const SCHEME_NAMES = new Set(['authorization', 'proxy-authorization']);
const nameCache = new Map<string, boolean>();

/** Whether a header (or query parameter) of this lower-case name carries a secret to mask. */
export function isSecretName(name: string): boolean {
  let secret = nameCache.get(name);
  if (secret === undefined) {
    // x-mock-* control headers are never secrets themselves (x-mock-expect-headers is masked
    // entry by entry instead, see maskHeaderValue).
    secret = !name.startsWith('x-mock-') && (SECRET_NAMES.has(name) || SECRET_PARTS.test(name));
    if (nameCache.size < 4096) nameCache.set(name, secret);
  }
  return secret;
}

/** Masks the value of a header named `name` (lower-case) if that name is a secret one. */
export function maskHeaderValue(name: string, value: string): string {
  if (!isSecretName(name)) return value;
  return maskSecret(value, SCHEME_NAMES.has(name));
}

/** A query string (without `?`) with the values of secret-named parameters masked, e.g. `?key=`. */
export function maskSearch(search: string): string {
  const out = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(search)) out.append(k, maskHeaderValue(k.toLowerCase(), v));
  return out.toString();
}
