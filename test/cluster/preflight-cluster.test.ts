// The preflight rows that need a real cluster or the real helm (built with the cluster by
// scripts/airgap/cluster-up.sh): bad input against a live API server is refused with its paragraph
// and exit code, and the cluster is left exactly as it was (no namespace, no release).
// The rows that need neither are in test/preflight.test.ts.
import { mkdir, mkdtemp, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cacheDir, locateSync } from '../../scripts/tools.ts';

const CLUSTER = process.env['GATEWAY_SMOKE_TEST_CLUSTER'] ?? 'gs-ci';
const bin = (name: string) => locateSync(name) ?? join(cacheDir(), 'airgap', 'bin', name);

let root: string;
let kubeconfig: string;
let createdHere = false;

async function clusterListed(): Promise<boolean> {
  const r = await execa(bin('kind'), ['get', 'clusters'], { reject: false });
  return r.exitCode === 0 && r.stdout.split('\n').includes(CLUSTER);
}

beforeAll(async () => {
  if (!(await clusterListed())) {
    // Builds what is missing (kind, helm, kubectl, the node image) and creates the cluster.
    const up = await execa('bash', ['scripts/airgap/cluster-up.sh', CLUSTER], { reject: false, all: true });
    expect(up.exitCode, String(up.all).slice(-3000)).toBe(0);
    createdHere = true;
  }
  root = await mkdtemp(join(tmpdir(), 'gs-preflight-cluster-'));
  kubeconfig = join(root, 'kubeconfig');
  await writeFile(kubeconfig, (await execa(bin('kind'), ['get', 'kubeconfig', '--name', CLUSTER])).stdout, { mode: 0o600 });
  await writeFile(join(root, 'bad.yaml'), 'replicaCount: 1\nimage:\n  repository: gateway\n  tag: v1: broken\n');
  // What the issue met: a folder with a Chart.yaml next to a file helm refuses to load.
  await mkdir(join(root, 'journal-chart'));
  await writeFile(join(root, 'journal-chart', 'Chart.yaml'), 'apiVersion: v2\nname: llm-proxy\nversion: 0.1.0\n');
  await writeFile(join(root, 'journal-chart', 'system.journal'), '');
  await truncate(join(root, 'journal-chart', 'system.journal'), 64 * 1024 * 1024); // sparse: no disk used
}, 15 * 60_000);

afterAll(async () => {
  if (!createdHere || process.env['GATEWAY_SMOKE_KEEP_TEST_CLUSTER']) return;
  await execa('bash', ['scripts/airgap/cluster-down.sh', CLUSTER], { reject: false });
});

/** What the run could have created: namespaces and helm releases. */
async function clusterState(): Promise<{ namespaces: string[]; releases: string[] }> {
  const kube = ['--kubeconfig', kubeconfig, '--context', `kind-${CLUSTER}`];
  const ns = await execa(bin('kubectl'), [...kube, 'get', 'namespaces', '-o', 'name']);
  const rel = await execa(bin('helm'), ['--kubeconfig', kubeconfig, '--kube-context', `kind-${CLUSTER}`, 'list', '--all-namespaces', '--all', '-q']);
  return { namespaces: ns.stdout.split('\n').sort(), releases: rel.stdout.split('\n').filter(Boolean).sort() };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const reportDir = join(root, `reports-${Date.now()}`);
  const started = Date.now();
  const r = await execa(process.execPath, ['scripts/cli.ts', '--report-dir', reportDir, '--keep', 'never', ...args], {
    reject: false,
    env: { FORCE_COLOR: '0', ...env },
    timeout: 60_000,
  });
  const reportDirMade = await stat(reportDir).then(() => true, () => false);
  return { code: r.exitCode, stderr: r.stderr.trim(), seconds: (Date.now() - started) / 1000, reportDirMade };
}

describe('preflight against a live cluster and the real helm', () => {
  test('--target existing with a malformed values file and a chart-dir helm refuses: exit 2, both named, the cluster untouched', async () => {
    const before = await clusterState();
    const r = await cli(
      ['--target', 'existing', '--context', `kind-${CLUSTER}`, '--chart', 'llm-proxy', '--values', join(root, 'bad.yaml'), '--chart-dir', join(root, 'journal-chart')],
      { KUBECONFIG: kubeconfig },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(/^gateway-smoke: Nothing was created: the input check found 2 problems\. /);
    expect(r.stderr).toMatch(/\(1\) --values .*bad\.yaml is not valid YAML at line 4, column 8/);
    expect(r.stderr).toMatch(/\(2\) --chart-dir .*journal-chart is not a chart helm can read \(`helm show chart` says: Error: chart file "system\.journal" is larger than the maximum file size/);
    // The API server answered (no problem named for it), and nothing was made on it.
    expect(r.stderr).not.toMatch(/API server|▶|\s+at \S+ \(/);
    expect(r.seconds).toBeLessThan(15);
    expect(r.reportDirMade).toBe(false);
    expect(await clusterState()).toEqual(before);
  });

  test('--target kind reusing the cluster with a chart-dir helm refuses: exit 2 before any image is built or loaded', async () => {
    const before = await clusterState();
    const r = await cli(['--target', 'kind', '--cluster-name', CLUSTER, '--chart', 'llm-proxy', '--chart-dir', join(root, 'journal-chart')]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^gateway-smoke: Nothing was created: the input check found a problem\. --chart-dir .*journal-chart is not a chart helm can read/);
    expect(r.stderr.split('\n'), r.stderr).toHaveLength(1);
    expect(r.seconds).toBeLessThan(15);
    expect(r.reportDirMade).toBe(false);
    expect(await clusterState()).toEqual(before);
    expect(await clusterListed()).toBe(true); // --keep never did not get to delete it: no run started
  });
});
