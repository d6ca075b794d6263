// Finds the CLIs a target needs and checks their versions before anything is created, so a
// missing tool is one clear paragraph at the start instead of a failure twenty minutes in.
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from './errors.ts';

/** The build and install cache, outside git: ${GATEWAY_SMOKE_CACHE:-~/.cache/gateway-smoke}. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const set = env['GATEWAY_SMOKE_CACHE'];
  return set && set.trim() !== '' ? set : join(homedir(), '.cache', 'gateway-smoke');
}

/** Where the project's own builds put binaries (scripts/airgap, scripts/setup-local.sh). */
export function toolDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  const cache = cacheDir(env);
  return [join(cache, 'airgap', 'bin'), join(cache, 'bin')];
}

export interface ToolSpec {
  name: string;
  versionArgs: string[];
  /** Extracts [major, minor, patch] from the version output. */
  versionPattern: RegExp;
  minimum: [number, number, number];
  why: string;
  howToGet: string;
}

export const TOOLS = {
  docker: {
    name: 'docker',
    versionArgs: ['version', '--format', '{{.Server.Version}}'],
    versionPattern: /(\d+)\.(\d+)\.(\d+)/,
    minimum: [20, 10, 0],
    why: 'kind runs its nodes as Docker containers (the daemon must be running, not just the client)',
    howToGet: 'run `npm run cluster:up` (installs Debian docker.io and starts dockerd), or install Docker and start the daemon',
  },
  kind: {
    name: 'kind',
    versionArgs: ['version'],
    versionPattern: /v(\d+)\.(\d+)\.(\d+)/,
    minimum: [0, 24, 0],
    why: 'it creates the cluster; older kind does not enforce NetworkPolicy',
    howToGet: 'run `npm run cluster:up` (builds it into the cache), or `go install sigs.k8s.io/kind@v0.30.0`',
  },
  helm: {
    name: 'helm',
    versionArgs: ['version', '--short'],
    versionPattern: /v(\d+)\.(\d+)\.(\d+)/,
    minimum: [3, 12, 0],
    why: 'it installs the chart under test',
    howToGet: 'run `npm run cluster:up` (builds it into the cache), or `go install helm.sh/helm/v3/cmd/helm@v3.19.0`',
  },
  kubectl: {
    name: 'kubectl',
    versionArgs: ['version', '--client'],
    versionPattern: /v(\d+)\.(\d+)\.(\d+)/,
    minimum: [1, 28, 0],
    why: 'diagnostics and the NetworkPolicy probes print kubectl commands to reproduce a failure',
    howToGet: 'run `npm run cluster:up` (builds it into the cache), or install kubectl 1.28 or newer',
  },
} satisfies Record<string, ToolSpec>;

export type ToolName = keyof typeof TOOLS;

export interface FoundTool {
  name: string;
  path: string;
  version: string;
}

/** Whether a path is an executable file this process may run. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A tool from the project's caches first, then PATH; undefined when there is none. */
export function locateSync(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...toolDirs(env), ...(env['PATH'] ?? '').split(delimiter).filter(Boolean)];
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

export async function locate(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return locateSync(name, env);
}

/** Whether version [major, minor, patch] is at least `min`. */
export function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < 3; i++) {
    if ((v[i] ?? 0) !== (min[i] ?? 0)) return (v[i] ?? 0) > (min[i] ?? 0);
  }
  return true;
}

export async function checkTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): Promise<FoundTool> {
  const minimum = spec.minimum.join('.');
  const path = await locate(spec.name, env);
  if (!path) {
    throw new EnvironmentError(
      `${spec.name} ${minimum} or newer is needed (${spec.why}), but it is not on PATH nor in ${toolDirs(env).join(' or ')}. ` +
        `To get it: ${spec.howToGet}.`,
    );
  }
  const result = await execa(path, spec.versionArgs, { reject: false, timeout: 20_000, env });
  const output = `${result.stdout}\n${result.stderr}`;
  const m = spec.versionPattern.exec(output);
  if (result.exitCode !== 0 || !m) {
    const said = output.trim().split('\n').slice(-2).join(' ').slice(0, 300);
    throw new EnvironmentError(
      `${spec.name} at ${path} does not work: \`${spec.name} ${spec.versionArgs.join(' ')}\` exited ${result.exitCode ?? 'on a signal'}` +
        `${said ? ` saying "${said}"` : ''}. ${spec.name} ${minimum} or newer is needed (${spec.why}). To fix it: ${spec.howToGet}.`,
    );
  }
  const version = [m[1], m[2], m[3]].map(Number);
  if (!atLeast(version, spec.minimum)) {
    throw new EnvironmentError(
      `${spec.name} at ${path} is version ${version.join('.')}, older than the ${minimum} this harness needs (${spec.why}). ` +
        `To get a newer one: ${spec.howToGet}.`,
    );
  }
  return { name: spec.name, path, version: version.join('.') };
}

export async function checkTools(names: ToolName[], env: NodeJS.ProcessEnv = process.env): Promise<Record<string, FoundTool>> {
  const found: Record<string, FoundTool> = {};
  for (const n of names) found[n] = await checkTool(TOOLS[n], env);
  return found;
}
