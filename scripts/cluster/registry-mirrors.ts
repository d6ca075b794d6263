// GATEWAY_SMOKE_REGISTRY_MIRRORS: where the cluster's nodes pull each registry's images from
// instead (a pull-through cache on a self-hosted runner), as a comma list of host=url:
//   docker.io=http://10.0.0.5:5000,ghcr.io=https://ghcr-cache.example
import { UserError } from '../errors.ts';

export const REGISTRY_MIRRORS_ENV = 'GATEWAY_SMOKE_REGISTRY_MIRRORS';

/** Registry host → mirror URL (without a trailing slash), in the order given. */
export function parseRegistryMirrors(text: string): Map<string, string> {
  const mirrors = new Map<string, string>();
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const host = eq > 0 ? entry.slice(0, eq).trim() : '';
    const url = eq > 0 ? entry.slice(eq + 1).trim() : '';
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!host || /[/\s]|:\/\//.test(host) || !parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.pathname.replace(/\/+$/, '') !== '') {
      throw new UserError(
        `${REGISTRY_MIRRORS_ENV}: "${entry}" is not host=url. Give a comma list such as ` +
          'docker.io=http://127.0.0.1:5001,ghcr.io=https://ghcr-cache.example — a registry host (no scheme, no path) and the ' +
          "mirror's http(s) base URL (no path).",
      );
    }
    if (mirrors.has(host)) throw new UserError(`${REGISTRY_MIRRORS_ENV} names ${host} twice; give each registry one mirror.`);
    mirrors.set(host, `${parsed.protocol}//${parsed.host}`);
  }
  return mirrors;
}
