// The kind cluster's lifecycle: create (or reuse) it through the air-gap aware script, and delete it
// afterwards according to --keep. The deletion is registered before creation, so a Ctrl-C half-way
// through never leaves a cluster behind.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../errors.ts';
import type { KeepPolicy } from '../plan.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { RunContext } from '../run-context.ts';
import { locate } from '../tools.ts';
import type { ClusterKit } from './cluster-kit.ts';

export interface KindCluster {
  kubeconfig: string;
  context: string;
  kindBin: string;
  /** Whether this run created the cluster (then its namespaces go with it). */
  created: boolean;
  /** Whether the cleanup stack deletes the whole cluster, given the run's outcome. */
  deletedAfter(failed: boolean): boolean;
}

const CLUSTER_UP = join(PROJECT_ROOT, 'scripts/airgap/cluster-up.sh');
const CLUSTER_DOWN = join(PROJECT_ROOT, 'scripts/airgap/cluster-down.sh');

export async function requireTool(name: string): Promise<string> {
  const found = await locate(name);
  if (!found) throw new EnvironmentError(`${name} is needed for the cluster target; run \`npm run cluster:up\` to build it.`);
  return found;
}

async function clusterExists(name: string): Promise<boolean> {
  const kind = await locate('kind');
  if (!kind) return false;
  return (await execa(kind, ['get', 'clusters'], { reject: false })).stdout.split('\n').includes(name);
}

/** Runs cluster-up.sh in its own process group (an interrupt stops kind itself), streaming its progress. */
async function createCluster(name: string, kit: ClusterKit, ctx: RunContext): Promise<void> {
  const up = execa('bash', [CLUSTER_UP, name], { reject: false, all: true, detached: true, env: kit.env });
  const stop = () => {
    if (!up.pid) return;
    try {
      process.kill(-up.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  void up.finally(() => ctx.signal.removeEventListener('abort', stop));
  up.all?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) ctx.log.info(`  ${line}`);
  });
  const r = await up;
  if (r.exitCode !== 0) throw new Error(`scripts/airgap/cluster-up.sh exited ${r.exitCode}: ${String(r.all ?? '').split('\n').slice(-5).join(' ')}`);
}

export async function deleteCluster(name: string): Promise<void> {
  await execa('bash', [CLUSTER_DOWN, name], { reject: false });
}

export async function ensureKindCluster(o: { name: string; keep: KeepPolicy; kit: ClusterKit; ctx: RunContext }): Promise<KindCluster> {
  const { name, keep, ctx } = o;
  const existed = await clusterExists(name);
  // A cluster this run created goes unless kept; one it reused goes only with --keep never.
  const deletedAfter = (failed: boolean) =>
    existed ? keep === 'never' : keep === 'never' || (keep === 'on-failure' && !failed);
  ctx.defer(`delete kind cluster ${name} (--keep ${keep})`, async () => {
    if (!deletedAfter(ctx.failed)) {
      if (!existed) ctx.log.info(`keeping kind cluster ${name} (--keep ${keep}); delete it with: npm run cluster:down -- ${name}`);
      return;
    }
    await deleteCluster(name);
  });
  if (existed) ctx.log.info(`reusing kind cluster ${name}`);
  else {
    ctx.log.info(`cluster kit: ${o.kit.describe}`);
    await ctx.phase(`create kind cluster ${name} (builds what is missing)`, () => createCluster(name, o.kit, ctx));
  }
  const kindBin = await requireTool('kind');
  const dir = await mkdtemp(join(tmpdir(), 'gs-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const kc = await execa(kindBin, ['get', 'kubeconfig', '--name', name]);
  await writeFile(kubeconfig, kc.stdout, { mode: 0o600 });
  ctx.defer('remove temporary kubeconfig', () => rm(dir, { recursive: true, force: true }));
  return { kubeconfig, context: `kind-${name}`, kindBin, created: !existed, deletedAfter };
}
