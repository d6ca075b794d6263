// The plain Go reverse proxy of bench/go-reverse-proxy/ (the baseline beside llm-proxy): built with
// the machine's `go` into the cache on first use, then started as a managed process on loopback.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { EnvironmentError } from '../scripts/errors.ts';
import { startProcess, type ManagedProcess } from '../scripts/local/process.ts';
import { cacheDir } from '../scripts/tools.ts';

export const GO_PROXY_SRC = fileURLToPath(new URL('./go-reverse-proxy/', import.meta.url));

export type GoProxyBuild = { bin: string; goVersion: string; built: boolean };

/**
 * Builds the proxy unless a binary of the same source and Go version is cached
 * ($CACHE/bench/go-reverse-proxy-<hash>). Throws EnvironmentError when `go` is missing.
 */
export async function buildGoProxy(cache = join(cacheDir(), 'bench')): Promise<GoProxyBuild> {
  // GOTOOLCHAIN=local: the machine's go, never a toolchain download; no VCS stamp (a worktree's .git is a file).
  const env = { GOTOOLCHAIN: 'local', GOFLAGS: '-buildvcs=false' };
  const version = await execa('go', ['version'], { env, reject: false });
  if (version.exitCode !== 0 || typeof version.stdout !== 'string') {
    throw new EnvironmentError(
      `bench: the baseline Go reverse proxy needs the Go toolchain, and \`go version\` failed (${version.shortMessage ?? `exit ${version.exitCode}`}). Install Go 1.22 or newer (scripts/setup-local.sh needs it for llm-proxy too) and put it on PATH.`,
    );
  }
  const goVersion = version.stdout.trim();
  const hash = createHash('sha256').update(goVersion);
  for (const f of ['go.mod', 'main.go']) hash.update(`\0${f}\0`).update(readFileSync(join(GO_PROXY_SRC, f)));
  const bin = join(cache, `go-reverse-proxy-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(bin) && statSync(bin).size > 0) return { bin, goVersion, built: false };
  mkdirSync(cache, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const r = await execa('go', ['build', '-trimpath', '-o', tmp, '.'], { cwd: GO_PROXY_SRC, env, reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`bench: building ${GO_PROXY_SRC} failed (exit ${r.exitCode}):\n${String(r.all ?? '').slice(-2000)}`);
  renameSync(tmp, bin); // atomic: a concurrent or interrupted build never leaves half a binary under the final name
  return { bin, goVersion, built: true };
}

export type GoProxyHandle = { url: string; pid: number; process: ManagedProcess; stop(): Promise<void> };

/** Starts the built proxy in front of `target` on a free loopback port; resolves once it listens. */
export async function startGoProxy(opts: { bin: string; target: string; logFile: string; readyTimeoutMs?: number }): Promise<GoProxyHandle> {
  const from = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0;
  const proc = await startProcess({
    name: 'Go reverse proxy',
    command: opts.bin,
    args: ['-target', opts.target],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    logFile: opts.logFile,
  });
  let url = '';
  try {
    await proc.waitUntil({
      what: `its "listening on" line in ${opts.logFile}`,
      timeoutMs: opts.readyTimeoutMs ?? 15_000,
      intervalMs: 50,
      probe: async () => {
        const m = /go-reverse-proxy listening on (http:\/\/\S+)/.exec(readFileSync(opts.logFile).subarray(from).toString('utf8'));
        if (!m?.[1]) return false;
        url = m[1];
        return true;
      },
    });
  } catch (err) {
    await proc.stop(2_000).catch(() => {});
    throw err;
  }
  return { url, pid: proc.pid, process: proc, stop: () => proc.stop(5_000) };
}
