// One masking function for everything that is printed or written (logs, JUnit, Markdown,
// HTML, diagnostics). Secrets are registered as soon as they are generated or read.
import { randomBytes } from 'node:crypto';

const registered = new Set<string>();

/** A fresh random credential for a run (admin key, provider key), registered for masking at once. */
export function newSecret(prefix: string): string {
  const value = `${prefix}-${randomBytes(18).toString('hex')}`;
  registered.add(value);
  return value;
}

const MIN_SECRET_LENGTH = 6; // shorter strings would mask ordinary words

export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= MIN_SECRET_LENGTH) registered.add(value);
}

export function registeredSecrets(): readonly string[] {
  return [...registered];
}

export function forgetSecrets(): void {
  registered.clear();
}

// Token shapes that must never leak even if nobody registered them.
const TOKEN_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{8,}/g, // OpenAI / LiteLLM / llm-proxy keys
  /(authorization:\s*bearer\s+)[^\s"',]+/gi,
];

export function mask(text: string): string {
  let out = text;
  // Longest first so a secret that contains another is masked whole.
  for (const secret of [...registered].sort((a, b) => b.length - a.length)) {
    out = out.split(secret).join('***');
  }
  out = out.replace(TOKEN_PATTERNS[0]!, 'sk-***');
  out = out.replace(TOKEN_PATTERNS[1]!, '$1***');
  return out;
}

/** Masks every string inside a JSON-like value (for values files and helm status dumps). */
export function maskDeep<T>(value: T): T {
  return JSON.parse(mask(JSON.stringify(value))) as T;
}
