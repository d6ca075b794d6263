// A gateway the scheduler cannot place (a --values file asking for 500 CPUs) fails the run within
// 30 s of its install, in the scheduler's words, naming the namespaces earlier runs kept and the
// command that removes them; and failing runs of one chart on one reused cluster keep at most one
// older namespace: each run removes the namespaces kept after older failed runs of its chart, and
// says so. Three real failing runs of llm-proxy (--images local, the cheapest chart) with the
// default --keep on-failure, on the shared test cluster (kept-cluster.ts).
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requireInCI } from '../prerequisite.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { BIN, ensureTestCluster, harnessNamespaces, namespaceExists, startRun, testKubeconfig } from './live-run.ts';

const haveMirror = requireInCI('the chart mirror', Boolean(process.env['GATEWAY_SMOKE_CHART_MIRROR']), 'set GATEWAY_SMOKE_CHART_MIRROR (e.g. ../shared/charts)');
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let kubeconfig = '';
let values = '';
const outputs: string[] = [];

/** One failing run; resolves with its output, namespace and how long its gateway took to fail. */
async function failingRun() {
  const run = await startRun(['--cluster-name', TEST_CLUSTER, '--chart', 'llm-proxy', '--images', 'local', '--suites', 'health', '--values', values]);
  const installing = await run.waitFor(/▶ helm install llm-proxy/, 20 * 60_000);
  const failedAt = await run.waitFor(/✘ (helm install llm-proxy|wait for llm-proxy to be ready) failed/, 5 * 60_000);
  const r = await run.cli;
  const out = run.out();
  outputs.push(out);
  expect(r.exitCode, out.slice(-3000)).toBe(1);
  const namespace = /run namespace: (\S+)/.exec(out)?.[1];
  expect(namespace, out.slice(-3000)).toBeDefined();
  const failure = /✘ (?:helm install llm-proxy|wait for llm-proxy to be ready) failed after [^:]+: (.*)/.exec(out)?.[1] ?? '';
  return { out, namespace: namespace!, seconds: (failedAt - installing) / 1000, failure };
}

const keptLlmProxy = async () =>
  (await harnessNamespaces(kubeconfig)).filter((n) => n.labels['gateway-smoke/chart'] === 'llm-proxy' && n.labels['gateway-smoke/kept'] === 'failed').map((n) => n.name).sort();

beforeAll(async () => {
  await ensureTestCluster();
  kubeconfig = await testKubeconfig();
  values = join(await mkdtemp(join(tmpdir(), 'gs-capacity-')), 'absurd-cpu.yaml');
  // limits too: a request above the chart's default limit would be refused by the API server, not the scheduler
  await writeFile(values, 'resources:\n  requests:\n    cpu: "500"\n  limits:\n    cpu: "500"\n');
});

afterAll(async () => {
  for (const out of outputs) await dropRunNamespace(out);
  await releaseTestCluster();
});

describe.skipIf(!haveMirror)('pods the scheduler cannot place, and kept runs that would pile up', () => {
  let first = '';
  let second = '';

  test('the gateway fails within 30 s of its install, naming the scheduler\'s reason and what holds the cluster', async () => {
    const a = await failingRun();
    first = a.namespace;
    expect(a.failure, a.out.slice(-3000)).toMatch(/^Pod\/\S+ in namespace \S+ cannot be scheduled: 0\/\d+ nodes are available: .*Insufficient cpu/);
    expect(a.failure).toMatch(/\(PodScheduled=False, reason Unschedulable, for \d+s; it requests cpu 500/);
    expect(a.failure).toMatch(/(Namespaces of other gateway-smoke runs hold pods on this cluster: .*Remove them with: kubectl --context kind-\S+ delete namespace \S+|No namespace of another gateway-smoke run holds pods on this cluster)/);
    expect(a.seconds, a.out.slice(-3000)).toBeLessThan(30);
    // kept for inspection, and labelled so the next runs can tell it is a failed run of llm-proxy
    expect(a.out).toMatch(new RegExp(`keeping namespace ${esc(first)} for inspection \\(--keep on-failure\\)`));
    expect(await keptLlmProxy()).toContain(first);
  });

  test('repeated failing runs keep at most one older namespace of the chart, and the log says which went', async () => {
    expect(first, 'the first test made the first kept run').not.toBe('');
    const b = await failingRun();
    second = b.namespace;
    // the pod that did not fit names the namespace the first run kept, with the command that removes it
    expect(b.failure).toMatch(new RegExp(`Namespaces of other gateway-smoke runs hold pods on this cluster: .*${esc(first)} \\(llm-proxy, kept after a failed run, \\d+ pods?\\)`));
    expect(b.failure).toMatch(new RegExp(`Remove them with: kubectl --context kind-${esc(TEST_CLUSTER)} delete namespace (\\S+ )*${esc(first)}( |$)`));
    expect(b.seconds, b.out.slice(-3000)).toBeLessThan(30);
    expect(await keptLlmProxy()).toEqual([first, second].sort());

    const c = await failingRun();
    expect(c.out).toMatch(new RegExp(`removing \\d+ namespaces? kept after older failed runs of llm-proxy: (\\S+, )*${esc(first)}(, \\S+)* \\(the newest, ${esc(second)}, stays`));
    expect(c.out).toMatch(new RegExp(`removed (\\S+, )*${esc(first)}`));
    expect(await namespaceExists(kubeconfig, first)).toBe(false);
    expect(await keptLlmProxy()).toEqual([second, c.namespace].sort());

    // the command the failure prints works as printed (kubectl on PATH, the cluster's context in KUBECONFIG)
    const command = /Remove them with: (kubectl [^\n]*)/.exec(c.failure)?.[1];
    expect(command, c.failure).toMatch(new RegExp(`^kubectl --context kind-${esc(TEST_CLUSTER)} delete namespace (\\S+ )*${esc(second)}( |$)`));
    const removed = await execa('sh', ['-c', command!], { reject: false, all: true, env: { KUBECONFIG: kubeconfig, PATH: `${BIN}:${process.env['PATH']}` } });
    expect(removed.exitCode, removed.all).toBe(0);
    expect(await namespaceExists(kubeconfig, second)).toBe(false);
  });
});
