// The helm CLI through execa. Values go through files (never --set), so secrets stay off
// command lines and out of process listings; every error message is masked.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { mask } from '../secrets.ts';

export interface HelmEnv {
  helm: string;
  kubeconfig: string;
  context?: string;
}

function globals(env: HelmEnv): string[] {
  return ['--kubeconfig', env.kubeconfig, ...(env.context ? ['--kube-context', env.context] : [])];
}

export async function helm(env: HelmEnv, args: string[], opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const r = await execa(env.helm, [...args, ...globals(env)], {
    reject: false,
    timeout: opts.timeoutMs ?? 600_000,
    ...(opts.signal ? { cancelSignal: opts.signal } : {}),
  });
  if (r.exitCode !== 0) {
    const said = (r.stderr || r.stdout).trim().split('\n').slice(-6).join(' ');
    throw new Error(mask(`helm ${args.slice(0, 3).join(' ')} failed (exit ${r.exitCode ?? 'signal'}): ${said}`));
  }
  return r.stdout;
}

export interface InstallOptions {
  release: string;
  chart: string;
  namespace: string;
  values: Record<string, unknown>[];
  valuesFiles?: string[];
  timeoutMs: number;
  /** helm --wait: off by default, the harness watches readiness itself to explain failures. */
  wait?: boolean;
  /** helm --skip-crds: the CRDs were applied (server-side) beforehand. */
  skipCrds?: boolean;
  /** helm --post-renderer: an executable that reads the rendered YAML on stdin and writes it back. */
  postRenderer?: { command: string; args?: string[] };
  signal?: AbortSignal;
}

export async function helmInstall(env: HelmEnv, o: InstallOptions): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-values-'));
  try {
    const files: string[] = [];
    for (const [i, v] of o.values.entries()) {
      const f = join(dir, `values-${i}.yaml`);
      await writeFile(f, stringify(v), { mode: 0o600 });
      files.push(f);
    }
    const args = ['upgrade', '--install', o.release, o.chart, '--namespace', o.namespace, '--create-namespace'];
    for (const f of [...files, ...(o.valuesFiles ?? [])]) args.push('--values', f);
    args.push('--timeout', `${Math.ceil(o.timeoutMs / 1000)}s`);
    if (o.wait) args.push('--wait');
    if (o.skipCrds) args.push('--skip-crds');
    if (o.postRenderer) {
      args.push('--post-renderer', o.postRenderer.command);
      for (const a of o.postRenderer.args ?? []) args.push('--post-renderer-args', a);
    }
    await helm(env, args, { timeoutMs: o.timeoutMs + 30_000, ...(o.signal ? { signal: o.signal } : {}) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function helmUninstall(env: HelmEnv, release: string, namespace: string): Promise<void> {
  await helm(env, ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '120s'], { timeoutMs: 150_000 });
}

export async function helmVersion(helmPath: string): Promise<string> {
  const r = await execa(helmPath, ['version', '--short'], { reject: false });
  return r.stdout.trim();
}
