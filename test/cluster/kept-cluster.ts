// The cluster tests share one kept kind cluster (CI runs every file on it). A run that fails on
// purpose keeps its namespace for inspection; the test drops it afterwards, so the releases of
// earlier tests never compete with later ones for the nodes.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir } from '../../scripts/tools.ts';

export const TEST_CLUSTER = process.env['GATEWAY_SMOKE_TEST_CLUSTER'] ?? 'gs-ci';

/** Deletes the run namespace the CLI output names (`run namespace: …`), if it is still there. */
export async function dropRunNamespace(out: string, cluster = TEST_CLUSTER): Promise<void> {
  const ns = /run namespace: (\S+)/.exec(out)?.[1];
  if (!ns) return;
  const bin = join(cacheDir(), 'airgap', 'bin');
  const got = await execa(join(bin, 'kind'), ['get', 'kubeconfig', '--name', cluster], { reject: false });
  if (got.exitCode !== 0) return; // the run (or the test) deleted the cluster itself
  // not in the run's report folder: tests read everything there as the run's artifacts
  const dir = await mkdtemp(join(tmpdir(), 'gs-kubeconfig-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, got.stdout, { mode: 0o600 });
    await execa(join(bin, 'kubectl'), ['--kubeconfig', kubeconfig, 'delete', 'namespace', ns, '--ignore-not-found', '--wait=true', '--timeout=120s'], { reject: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Deletes the shared cluster after a file's tests, unless GATEWAY_SMOKE_KEEP_TEST_CLUSTER keeps it for the next file. */
export async function releaseTestCluster(cluster = TEST_CLUSTER): Promise<void> {
  if (process.env['GATEWAY_SMOKE_KEEP_TEST_CLUSTER']) return;
  await execa('bash', ['scripts/airgap/cluster-down.sh', cluster], { reject: false });
}
