// A CLI run watched as it goes, for the tests that act on it half-way (a signal) or time it: its
// output as it comes, with when each pattern was first seen; its process tree; and what the harness
// has on the shared test cluster (namespaces it labelled).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { cacheDir } from '../../scripts/tools.ts';
import { TEST_CLUSTER } from './kept-cluster.ts';

export const BIN = join(cacheDir(), 'airgap', 'bin');

export interface LiveRun {
  cli: ResultPromise<{ reject: false; all: true; env: Record<string, string> }>;
  reportDir: string;
  out(): string;
  /** Resolves with the time the pattern first appeared in the output (rejects after timeoutMs, or if the run ends first). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<number>;
}

export async function startRun(args: string[]): Promise<LiveRun> {
  const reportDir = await mkdtemp(join(tmpdir(), 'gs-live-run-'));
  const cli = execa(process.execPath, ['scripts/cli.ts', '--report-dir', reportDir, ...args], { reject: false, all: true, env: { FORCE_COLOR: '0' } });
  let seen = '';
  const listeners = new Set<() => void>();
  cli.all.on('data', (b: Buffer) => {
    seen += b.toString();
    for (const l of listeners) l();
  });
  let ended = false;
  void cli.finally(() => {
    ended = true;
    for (const l of listeners) l();
  });
  const waitFor = (pattern: RegExp, timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        if (pattern.test(seen)) done(() => resolve(Date.now()));
        else if (ended) done(() => reject(new Error(`the run ended before ${pattern} appeared:\n${seen.slice(-3000)}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${pattern} did not appear within ${timeoutMs / 1000}s:\n${seen.slice(-3000)}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  return { cli, reportDir, out: () => seen, waitFor };
}

/** Every descendant of a process (ps -e: pid and parent pid), whatever process group it runs in. */
export async function descendants(pid: number): Promise<number[]> {
  const r = await execa('ps', ['-e', '-o', 'pid=,ppid=']);
  const pairs = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of pairs) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** Whether a process is still running (a zombie waiting for its reaper has stopped running). */
export async function running(pid: number): Promise<boolean> {
  const r = await execa('ps', ['-o', 'stat=', '-p', String(pid)], { reject: false });
  return r.exitCode === 0 && r.stdout.trim() !== '' && !r.stdout.trim().startsWith('Z');
}

export async function clusterListed(name: string): Promise<boolean> {
  const r = await execa(join(BIN, 'kind'), ['get', 'clusters'], { reject: false });
  return r.stdout.split('\n').includes(name);
}

/** Creates the shared test cluster when it is not there (builds nothing the CI baseline built). */
export async function ensureTestCluster(): Promise<void> {
  if (await clusterListed(TEST_CLUSTER)) return;
  const up = await execa('bash', ['scripts/airgap/cluster-up.sh', TEST_CLUSTER], { reject: false, all: true });
  if (up.exitCode !== 0) throw new Error(`cluster-up.sh ${TEST_CLUSTER} exited ${up.exitCode}:\n${String(up.all).slice(-3000)}`);
}

/** A kubeconfig file for the shared test cluster (context kind-<name>), outside any report folder. */
export async function testKubeconfig(): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), 'gs-kubeconfig-')), 'kubeconfig');
  await writeFile(file, (await execa(join(BIN, 'kind'), ['get', 'kubeconfig', '--name', TEST_CLUSTER])).stdout, { mode: 0o600 });
  return file;
}

export interface NamespaceFacts {
  name: string;
  labels: Record<string, string>;
  phase: string;
}

/** The namespaces the harness labelled on the shared test cluster. */
export async function harnessNamespaces(kubeconfig: string): Promise<NamespaceFacts[]> {
  const r = await execa(join(BIN, 'kubectl'), ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-l', 'app.kubernetes.io/managed-by=gateway-smoke', '-o', 'json']);
  const list = JSON.parse(r.stdout) as { items: { metadata: { name: string; labels?: Record<string, string> }; status?: { phase?: string } }[] };
  return list.items.map((n) => ({ name: n.metadata.name, labels: n.metadata.labels ?? {}, phase: n.status?.phase ?? '' }));
}

export async function namespaceExists(kubeconfig: string, name: string): Promise<boolean> {
  const r = await execa(join(BIN, 'kubectl'), ['--kubeconfig', kubeconfig, 'get', 'namespace', name, '-o', 'name'], { reject: false });
  if (r.exitCode === 0) return true;
  if (/NotFound/.test(r.stderr)) return false;
  throw new Error(`kubectl get namespace ${name} failed: ${r.stderr}`);
}
