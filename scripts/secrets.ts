// One masking function for everything that is printed or written (logs, JUnit, Markdown,
// HTML, diagnostics). Secrets are registered as soon as they are generated or read.
import { randomBytes } from 'node:crypto';

const registered = new Set<string>();
/** Every form of every registered secret, longest first; rebuilt when a secret is registered. */
let forms: string[] | undefined;

/**
 * The ways a secret is written out: as is, JSON-escaped (once, and twice for JSON quoted inside
 * JSON, e.g. a gateway body in report.json) and URL-encoded. A secret with `"` or `\` is
 * otherwise not found in report.json, nor one with `/` or `+` in a logged URL.
 */
export function secretForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([secret, json, JSON.stringify(json).slice(1, -1), encodeURIComponent(secret)])];
}

function add(value: string): void {
  registered.add(value);
  forms = undefined;
}

/** A fresh random credential for a run (admin key, provider key), registered for masking at once. */
export function newSecret(prefix: string): string {
  const value = `${prefix}-${randomBytes(18).toString('hex')}`;
  add(value);
  return value;
}

const MIN_SECRET_LENGTH = 6; // shorter strings would mask ordinary words

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH && !registered.has(value)) add(value);
}

/** The secrets as registered (not their forms): what a vitest worker is given to register too. */
export function registeredSecrets(): readonly string[] {
  return [...registered];
}

/** All forms of all registered secrets, longest first (scripts/mask-stream.ts holds back their prefixes). */
export function secretFormsToMask(): readonly string[] {
  forms ??= [...new Set([...registered].flatMap(secretForms))].sort((a, b) => b.length - a.length);
  return forms;
}

export function forgetSecrets(): void {
  registered.clear();
  forms = undefined;
}

// Token shapes that must never leak even if nobody registered them.
const TOKEN_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI / LiteLLM / llm-proxy keys
  /(authorization:\s*bearer\s+)[^\s"',]+/gi,
];

export function mask(text: string): string {
  let out = text;
  // Longest first so a secret that contains another is masked whole.
  for (const form of secretFormsToMask()) {
    if (out.includes(form)) out = out.split(form).join('***');
  }
  out = out.replace(TOKEN_PATTERNS[0]!, 'sk-***');
  out = out.replace(TOKEN_PATTERNS[1]!, '$1***');
  return out;
}

/**
 * Masks every string (and object key) inside a JSON-like value (for values files and object dumps),
 * string by string: a secret is then found as it is, whatever JSON escaping would make of it.
 */
export function maskDeep<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => {
    if (typeof v === 'string') return mask(v);
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [mask(k), x]));
    return v;
  }) as T;
}
