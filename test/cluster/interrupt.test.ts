// SIGTERM to the real CLI with the default --keep on-failure: an interrupted run removes everything
// it created (a kind cluster it was creating, its run namespace with the releases and pods in it,
// its child processes) and exits 130; a cluster it reused stays. Four moments: kind creating the
// nodes, Postgres installing, the readiness wait, the suites running. The assertions hold wherever
// the signal lands; the trigger lines only choose the moment. llm-proxy with --images local is the
// cheapest chart; the installs and suites run on the shared test cluster (kept-cluster.ts).
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireInCI } from '../prerequisite.ts';
import { releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { clusterListed, descendants, ensureTestCluster, harnessNamespaces, namespaceExists, running, startRun, testKubeconfig } from './live-run.ts';

const haveMirror = requireInCI('the chart mirror', Boolean(process.env['GATEWAY_SMOKE_CHART_MIRROR']), 'set GATEWAY_SMOKE_CHART_MIRROR (e.g. ../shared/charts)');
const LLM_PROXY = ['--chart', 'llm-proxy', '--images', 'local'];
const TRIGGER_MS = 20 * 60_000; // a cold build cache makes the first cluster or image take minutes
const CREATED = `${TEST_CLUSTER}-sigterm`;

/** Sends SIGTERM once the pattern appears, and returns how the run ended and what it had started. */
async function interruptAt(args: string[], pattern: RegExp) {
  const run = await startRun(args);
  await run.waitFor(pattern, TRIGGER_MS);
  const tree = await descendants(run.cli.pid!);
  run.cli.kill('SIGTERM');
  const r = await run.cli;
  const out = run.out();
  expect(r.exitCode, out.slice(-3000)).toBe(130);
  expect(out).toMatch(/SIGTERM received: cleaning up/);
  expect(out, 'an interrupted run keeps nothing under --keep on-failure').not.toMatch(/keeping (namespace|kind cluster)/);
  // every process the run had started ends with it (kind, helm, cluster-up.sh, vitest's workers)
  await expect.poll(async () => (await Promise.all(tree.map(async (p) => ((await running(p)) ? p : 0)))).filter(Boolean), { timeout: 15_000, interval: 500 }).toEqual([]);
  return { out, before: out.slice(0, out.indexOf('SIGTERM received')) };
}

afterAll(async () => {
  // only if a test failed half-way: its cluster must not outlive the file
  await execa('bash', ['scripts/airgap/cluster-down.sh', CREATED], { reject: false });
  await releaseTestCluster();
});

describe.skipIf(!haveMirror)('SIGTERM with --keep on-failure removes what the run created', () => {
  test('while kind creates the nodes: no cluster, no node container, no process of it is left', async () => {
    expect(await clusterListed(CREATED), `${CREATED} must not exist before the test`).toBe(false);
    const { out } = await interruptAt(['--cluster-name', CREATED, ...LLM_PROXY, '--suites', 'health'], /Preparing nodes/);
    expect(out).toMatch(new RegExp(`deleting kind cluster ${CREATED} \\(the run was interrupted\\)`));
    expect(await clusterListed(CREATED)).toBe(false);
    const containers = await execa('docker', ['ps', '-aq', '--filter', `label=io.x-k8s.kind.cluster=${CREATED}`]);
    expect(containers.stdout.trim()).toBe('');
    const left = (await execa('pgrep', ['-af', CREATED], { reject: false })).stdout.split('\n').filter((l) => l && !l.includes('vitest'));
    expect(left).toEqual([]);
  });

  describe('on a reused cluster', () => {
    let kubeconfig = '';
    beforeAll(async () => {
      await ensureTestCluster();
      kubeconfig = await testKubeconfig();
    });

    test.each([
      ['while Postgres installs', /▶ install Postgres/, 'health'],
      ['during the readiness wait', /▶ wait for llm-proxy to be ready/, 'health'],
      // vitest's RUN line: the suites have started (keys takes seconds more, so the signal lands in them)
      ['during the suites', /▶ run suites[\s\S]*RUN\s+v\d/, 'keys'],
    ])('%s: the run namespace and everything in it is gone, the cluster stays', async (_when, trigger, suites) => {
      const before = (await harnessNamespaces(kubeconfig)).map((n) => n.name);
      const { out, before: untilSignal } = await interruptAt(['--cluster-name', TEST_CLUSTER, ...LLM_PROXY, '--suites', suites], trigger);
      const namespace = /run namespace: (\S+)/.exec(out)?.[1];
      expect(namespace, out.slice(-3000)).toBeDefined();
      if (suites === 'keys') expect(untilSignal, 'the signal came after the suites had ended').not.toMatch(/[✔✘] run suites/);
      expect(await namespaceExists(kubeconfig, namespace!)).toBe(false);
      // nothing else labelled by the harness appeared (a run may only have removed older kept ones)
      const after = (await harnessNamespaces(kubeconfig)).map((n) => n.name);
      expect(after.filter((n) => !before.includes(n))).toEqual([]);
      expect(await clusterListed(TEST_CLUSTER)).toBe(true);
    });
  });
});
