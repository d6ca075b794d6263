// GATEWAY_SMOKE_REGISTRY_MIRRORS: which base URL answers for a registry host, e.g.
// `docker.io=http://127.0.0.1:5001,ghcr.io=http://127.0.0.1:5001`. The manifest check asks the mirror
// instead of the host; kind's containerd config is pointed at the same mirrors, so both agree.
import { oneParagraph, UserError } from '../errors.ts';

export const REGISTRY_MIRRORS_ENV = 'GATEWAY_SMOKE_REGISTRY_MIRRORS';

/** Registry host → mirror base URL (no trailing slash). Empty text → no mirrors. */
export function parseRegistryMirrors(text: string): Map<string, string> {
  const mirrors = new Map<string, string>();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const host = eq > 0 ? entry.slice(0, eq).trim() : '';
    const url = eq > 0 ? entry.slice(eq + 1).trim() : '';
    const problem = eq < 0
      ? 'it has no `=` between host and URL'
      : !host
      ? 'it has no `host=` before the URL'
      : /[/\s]/.test(host) || host.includes('://')
        ? `"${host}" is not a registry host (a name like docker.io or localhost:5000, without scheme or path)`
        : urlProblem(url);
    if (problem) {
      throw new UserError(
        oneParagraph(`${REGISTRY_MIRRORS_ENV}: the entry "${entry}" is malformed: ${problem}.
          Write a comma-separated list of host=url, e.g. docker.io=http://127.0.0.1:5001,ghcr.io=http://127.0.0.1:5001.`),
      );
    }
    if (mirrors.has(host)) {
      throw new UserError(`${REGISTRY_MIRRORS_ENV}: the host ${host} is given twice; give each registry host one mirror.`);
    }
    mirrors.set(host, url.replace(/\/+$/, ''));
  }
  return mirrors;
}

/** Why a mirror URL cannot be used as a registry base, or undefined when it can. */
function urlProblem(url: string): string | undefined {
  if (!url) return 'it has no URL after `=`';
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `"${url}" is not an http or https URL`;
  if (u.search || u.hash || u.username || u.password) return `"${url}" must be a plain base URL (no query, fragment or credentials)`;
  // containerd's hosts.toml and the manifest check both add /v2/ themselves
  if (u.pathname.replace(/\/+$/, '') !== '') return `"${url}" must be the registry's base URL, without a path`;
  return undefined;
}

/** The mirrors the environment names (none when the variable is unset). */
export function registryMirrorsFrom(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  return parseRegistryMirrors(env[REGISTRY_MIRRORS_ENV] ?? '');
}
