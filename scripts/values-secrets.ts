// Secrets a user writes into a --values file (a master key, a database password) end up in what the
// run prints and collects (`helm get values --all` in diagnostics/). They are found by the name of
// their key and registered for masking before anything runs (scripts/preflight/files.ts).
import { registerSecret } from './secrets.ts';

/** A key whose name says it holds a credential: masterKey, apiKey, PASSWORD, auth_token, clientSecret. */
const SECRET_NAME = /key|token|password|secret/i;
/**
 * Such a key that names where a credential is, not the credential: `existingSecret: gw-keys`,
 * `secretName`, `secretKeyRef: {name, key}`, `masterKeyEnv: LITELLM_MASTER_KEY`,
 * `apiKeyHeader: Authorization`, `tokenFile`. Masking those would hide what diagnostics must show.
 */
const REFERENCE_NAME = /^existing|(name|ref|env|header|file|path)s?$/i;

type Mode = 'plain' | 'secret' | 'reference';

function modeUnder(key: string, parent: Mode): Mode {
  if (parent === 'reference') return parent;
  if (SECRET_NAME.test(key)) return REFERENCE_NAME.test(key) ? 'reference' : 'secret';
  return parent; // under a secret-named key (auth: {token: {value: …}}) everything is secret
}

/** The string values under secret-named keys, at any depth, in lists too, and env-style `{name: API_KEY, value: …}`. */
export function secretValues(values: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, mode: Mode): void => {
    if (typeof node === 'string') {
      if (mode === 'secret') found.push(node);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, mode);
    } else if (node && typeof node === 'object') {
      const { name, value } = node as { name?: unknown; value?: unknown };
      if (mode === 'plain' && typeof name === 'string' && typeof value === 'string' && modeUnder(name, mode) === 'secret') found.push(value);
      for (const [key, child] of Object.entries(node)) walk(child, modeUnder(key, mode));
    }
  };
  walk(values, 'plain');
  return found;
}

/** Registers the values file's secrets for masking (short values are left: they would mask words). */
export function registerValuesSecrets(values: unknown): void {
  for (const value of secretValues(values)) registerSecret(value);
}
