// An image reference as Docker reads it: `[registry/]name[:tag][@digest]`. No registry → docker.io;
// a one-part name on docker.io → `library/<name>`; no tag and no digest → `latest`. The grammar is
// the distribution project's reference grammar, written out here as three patterns.

export interface ImageRef {
  /** The registry host as Docker names it (docker.io, ghcr.io, localhost:5000). */
  registry: string;
  /** The repository path inside the registry (library/redis, berriai/litellm). */
  name: string;
  /** What a manifest is asked for by: the digest when there is one, else the tag. */
  reference: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** Docker's rule for whether the first path part is a registry host rather than a namespace. */
function isRegistryHost(part: string): boolean {
  return part.includes('.') || part.includes(':') || part === 'localhost' || /[A-Z]/.test(part);
}

/** The parts of `image`, or an Error saying why it is not an image reference. */
export function parseImageRef(image: string): ImageRef {
  const fail = (why: string): never => {
    throw new Error(`"${image}" is not an image reference: ${why}`);
  };
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`"${digest}" is not a digest (algorithm:hex)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a tag`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  if (parts.length > 1 && isRegistryHost(parts[0]!)) registry = parts.shift()!;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = 'docker.io';
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) fail(`"${parts.join('/')}" is not a repository name (lowercase parts joined by /)`);
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  return { registry, name: parts.join('/'), reference: digest ?? tag ?? 'latest' };
}

/** The host that serves a registry's API: docker.io's lives elsewhere. */
export function apiHostOf(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/** Docker speaks plain http to a registry on the loopback interface, https to every other. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || host.startsWith('127.');
}
