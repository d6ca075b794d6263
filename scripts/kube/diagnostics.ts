// Evidence gathered before cleanup when a run fails: events, describe-like object dumps, pod and
// init-container logs (current and previous), helm status and values, `kind export logs`. Every
// file passes through the masking function; Secret objects are never dumped.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { maskFile } from '../mask-stream.ts';
import { mask, maskDeep } from '../secrets.ts';
import type { Kube } from './client.ts';
import { helm, type HelmEnv } from './helm.ts';
import { podProblem } from './wait.ts';

async function save(dir: string, name: string, text: string): Promise<void> {
  await writeFile(join(dir, name), mask(text));
}

async function podLog(k: Kube, namespace: string, pod: string, container: string, previous: boolean): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise<void>((resolve) => out.on('end', resolve));
  try {
    // client-node pipes the response into `out` and ends it; its done-callback is never called.
    const controller = await k.log.log(namespace, pod, container, out, { previous, tailLines: 2000, timestamps: true });
    const timer = setTimeout(() => controller.abort(), 20_000);
    await Promise.race([ended, new Promise((r) => setTimeout(r, 21_000))]);
    clearTimeout(timer);
  } catch (err) {
    return `(no ${previous ? 'previous ' : ''}log: ${(err as Error).message})`;
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface DiagnoseOptions {
  k: Kube;
  namespace: string;
  dir: string;
  helmEnv?: HelmEnv;
  releases?: string[];
  kindCluster?: { kind: string; name: string };
}

/** Writes the bundle and returns a one-line index of what is in it. */
export async function collectDiagnostics(o: DiagnoseOptions): Promise<string[]> {
  await mkdir(o.dir, { recursive: true });
  const written: string[] = [];
  const note = async (name: string, text: string) => {
    await save(o.dir, name, text);
    written.push(name);
  };
  const attempt = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      await note(`${what}.error.txt`, (err as Error).message);
    }
  };

  await attempt('events', async () => {
    const ev = await o.k.core.listNamespacedEvent({ namespace: o.namespace });
    const lines = ev.items
      .sort((a, b) => new Date(a.lastTimestamp ?? a.eventTime ?? 0).getTime() - new Date(b.lastTimestamp ?? b.eventTime ?? 0).getTime())
      .map((e) => `${e.lastTimestamp ?? e.eventTime ?? ''} ${e.type} ${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name} x${e.count ?? 1}: ${e.message ?? ''}`);
    await note('events.txt', lines.join('\n') + '\n');
  });

  await attempt('objects', async () => {
    const [pods, deps, sts, svcs, eps, netpols] = await Promise.all([
      o.k.core.listNamespacedPod({ namespace: o.namespace }),
      o.k.apps.listNamespacedDeployment({ namespace: o.namespace }),
      o.k.apps.listNamespacedStatefulSet({ namespace: o.namespace }),
      o.k.core.listNamespacedService({ namespace: o.namespace }),
      o.k.core.listNamespacedEndpoints({ namespace: o.namespace }),
      o.k.kc
        .makeApiClient((await import('@kubernetes/client-node')).NetworkingV1Api)
        .listNamespacedNetworkPolicy({ namespace: o.namespace }),
    ]);
    // ConfigMaps can hold rendered configs with keys; everything goes through maskDeep.
    await note('pods.yaml', stringify(maskDeep(pods.items)));
    await note('workloads.yaml', stringify(maskDeep([...deps.items, ...sts.items])));
    await note('services.yaml', stringify(maskDeep([...svcs.items, ...eps.items])));
    await note('networkpolicies.yaml', stringify(maskDeep(netpols.items)));
    const summary = pods.items.map((p) => `${p.metadata?.name} on ${p.spec?.nodeName ?? '-'}: ${podProblem(p) || 'Ready'}`);
    await note('pods-summary.txt', summary.join('\n') + '\n');
    await mkdir(join(o.dir, 'logs'), { recursive: true });
    for (const p of pods.items) {
      const name = p.metadata!.name!;
      const containers = [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c) => c.name);
      for (const c of containers) {
        await note(join('logs', `${name}.${c}.log`), await podLog(o.k, o.namespace, name, c, false));
        const restarted = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].some(
          (s) => s.name === c && s.restartCount > 0,
        );
        if (restarted) await note(join('logs', `${name}.${c}.previous.log`), await podLog(o.k, o.namespace, name, c, true));
      }
    }
  });

  if (o.helmEnv) {
    for (const release of o.releases ?? []) {
      await attempt(`helm-${release}`, async () => {
        await note(`helm-${release}-status.txt`, await helm(o.helmEnv!, ['status', release, '--namespace', o.namespace]));
        // As JSON, masked string by string: a secret is found whatever quoting YAML would give it.
        const values: unknown = JSON.parse(await helm(o.helmEnv!, ['get', 'values', release, '--namespace', o.namespace, '--all', '--output', 'json']));
        await note(`helm-${release}-values.yaml`, stringify(maskDeep(values)));
      });
    }
  }

  if (o.kindCluster) {
    await attempt('kind-export-logs', async () => {
      const dest = join(o.dir, 'kind-logs');
      const r = await execa(o.kindCluster!.kind, ['export', 'logs', dest, '--name', o.kindCluster!.name], { reject: false, timeout: 180_000 });
      // kind exits non-zero when one of its commands fails on a node (e.g. `crictl images` on a node
      // image without crictl) but still writes the rest: keep what it wrote, and say what failed.
      const nodeLogs = await nodeLogFiles(dest);
      if (r.exitCode !== 0 && nodeLogs.length === 0) throw new Error(`kind export logs exited ${r.exitCode}: ${r.stderr.slice(-500)}`);
      // The binary journal duplicates journal.log and cannot be masked as text: it does not ship.
      for (const node of await readdir(dest, { withFileTypes: true })) {
        if (node.isDirectory()) await rm(join(dest, node.name, 'journal'), { recursive: true, force: true });
      }
      await maskTree(dest);
      written.push('kind-logs/');
      if (r.exitCode !== 0) await note('kind-export-logs.partial.txt', `kind export logs exited ${r.exitCode}; what it did write is in kind-logs/: ${r.stderr.slice(-800)}\n`);
    });
  }
  await note('INDEX.txt', written.join('\n') + '\n');
  return written;
}

/** The kubelet logs kind wrote, one per node (the evidence a failing run's bundle must have). */
export async function nodeLogFiles(dir: string): Promise<string[]> {
  const nodes = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const n of nodes) {
    if (!n.isDirectory()) continue;
    const f = join(dir, n.name, 'kubelet.log');
    if ((await stat(f).catch(() => undefined))?.isFile()) found.push(f);
  }
  return found;
}

/** Files other tools wrote (kind's node logs) are masked in place, like everything of ours; streamed, whatever their size. */
export async function maskTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) await maskFile(join(entry.parentPath, entry.name));
  }
}
