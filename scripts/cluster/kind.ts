// The kind cluster's lifecycle: create (or reuse) it through the air-gap aware script, and delete it
// afterwards according to --keep (scripts/cluster/keep.ts). The deletion is registered before
// creation, so a Ctrl-C half-way through never leaves a cluster behind: the creation is stopped and
// awaited first, then whatever it had made is deleted.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EnvironmentError } from '../errors.ts';
import type { KeepPolicy } from '../plan.ts';
import { execaGroup } from '../process-group.ts';
import { PROJECT_ROOT } from '../project-root.ts';
import type { RunContext } from '../run-context.ts';
import { locate } from '../tools.ts';
import type { ClusterKit } from './kit-setup.ts';
import { deletesCluster, type RunEnd } from './keep.ts';

export interface KindCluster {
  kubeconfig: string;
  context: string;
  kindBin: string;
  /** helm for the run: the online kit's, else the one requireTool finds. */
  helmBin?: string;
  /** Whether this run created the cluster (then its namespaces go with it). */
  created: boolean;
  /** Whether the cleanup stack deletes the whole cluster, given how the run ended. */
  deletedAfter(end: RunEnd): boolean;
}

const CLUSTER_UP = join(PROJECT_ROOT, 'scripts/airgap/cluster-up.sh');
const CLUSTER_DOWN = join(PROJECT_ROOT, 'scripts/airgap/cluster-down.sh');

export async function requireTool(name: string): Promise<string> {
  const found = await locate(name);
  if (!found) throw new EnvironmentError(`${name} is needed for the cluster target; run \`npm run cluster:up\` to build it.`);
  return found;
}

async function clusterExists(name: string, kindBin?: string): Promise<boolean> {
  const kind = kindBin ?? (await locate('kind'));
  if (!kind) return false;
  return (await execa(kind, ['get', 'clusters'], { reject: false })).stdout.split('\n').includes(name);
}

/** Runs cluster-up.sh in its own process group (an interrupt stops kind itself), streaming its progress. */
async function createCluster(name: string, kit: ClusterKit, ctx: RunContext): Promise<void> {
  ctx.signal.throwIfAborted();
  const up = execaGroup('bash', [CLUSTER_UP, name], { env: kit.env, signal: ctx.signal });
  ctx.log.info(`  cluster-up.sh with ${Object.entries(kit.env).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  up.all?.on('data', (b: Buffer) => {
    for (const line of b.toString().split('\n')) if (line.trim()) ctx.log.info(`  ${line}`);
  });
  const r = await up;
  ctx.signal.throwIfAborted();
  if (r.exitCode !== 0) throw new Error(`scripts/airgap/cluster-up.sh exited ${r.exitCode}: ${String(r.all ?? '').split('\n').slice(-5).join(' ')}`);
}

export async function deleteCluster(name: string): Promise<void> {
  await execa('bash', [CLUSTER_DOWN, name], { reject: false });
}

/** The node containers of a cluster, by kind's label (also those of a half-made cluster kind does not list). */
async function nodeContainers(name: string): Promise<string[]> {
  const r = await execa('docker', ['ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${name}`], { reject: false });
  return r.exitCode === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

/**
 * Deletes a cluster an interrupted creation left half-made. A node container whose create request
 * was in flight when kind was stopped can appear a moment after the first deletion: checked again.
 */
async function deleteHalfMade(name: string, ctx: RunContext): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    await deleteCluster(name);
    await new Promise((r) => setTimeout(r, 2000));
    if (!(await nodeContainers(name)).length && !(await clusterExists(name))) return;
  }
  ctx.log.warn(`kind cluster ${name} still has node containers; delete it with: npm run cluster:down -- ${name}`);
}

export async function ensureKindCluster(o: { name: string; keep: KeepPolicy; kit: ClusterKit; ctx: RunContext }): Promise<KindCluster> {
  const { name, keep, ctx } = o;
  const kitKind = o.kit.tools?.kind.path;
  const existed = await clusterExists(name, kitKind);
  const deletedAfter = (end: RunEnd) => deletesCluster(keep, { ...end, created: !existed });
  let creating: Promise<void> | undefined;
  ctx.defer(`delete kind cluster ${name} (--keep ${keep})`, async () => {
    // an interrupted creation is stopped by the abort; what it made is only known once it has exited
    const halfMade = creating !== undefined && !(await creating.then(() => false, () => true));
    if (!deletedAfter(ctx.end)) {
      if (!existed) ctx.log.info(`keeping kind cluster ${name} (--keep ${keep}); delete it with: npm run cluster:down -- ${name}`);
      return;
    }
    ctx.log.info(`deleting kind cluster ${name}${ctx.interrupted ? ' (the run was interrupted)' : ''}`);
    if (halfMade || ctx.interrupted) await deleteHalfMade(name, ctx);
    else await deleteCluster(name);
  });
  if (existed) ctx.log.info(`reusing kind cluster ${name}`);
  else {
    ctx.log.info(`cluster kit: ${o.kit.describe}`);
    await ctx.phase(`create kind cluster ${name} (${o.kit.kit === 'online' ? 'online kit, nothing built' : 'air-gapped kit, builds what is missing'})`, () => (creating = createCluster(name, o.kit, ctx)));
  }
  const kindBin = kitKind ?? (await requireTool('kind'));
  const dir = await mkdtemp(join(tmpdir(), 'gs-kube-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const kc = await execa(kindBin, ['get', 'kubeconfig', '--name', name]);
  await writeFile(kubeconfig, kc.stdout, { mode: 0o600 });
  ctx.defer('remove temporary kubeconfig', () => rm(dir, { recursive: true, force: true }));
  const helmBin = o.kit.tools?.helm.path;
  return { kubeconfig, context: `kind-${name}`, kindBin, ...(helmBin ? { helmBin } : {}), created: !existed, deletedAfter };
}
