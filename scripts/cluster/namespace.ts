// The run namespace: created fresh per run, labelled so the chart's NetworkPolicy values can select
// it and later runs can tell whose it is, deleted by the cleanup stack unless --keep keeps it
// (scripts/cluster/keep.ts). A kept one is labelled with why, so the next run of the chart can
// remove it once a newer failed run supersedes it (scripts/cluster/run-namespaces.ts).
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { apiStatus, type Kube } from '../kube/client.ts';
import type { KeepPolicy } from '../plan.ts';
import { notYet, retry } from '../retry.ts';
import type { RunContext } from '../run-context.ts';
import { keep, type RunEnd } from './keep.ts';
import { CHART_LABEL, KEPT_LABEL, type KeptWhy, listRunNamespaces, MANAGED_BY, superseded } from './run-namespaces.ts';

export async function createRunNamespace(o: {
  k: Kube;
  ctx: RunContext;
  name: string;
  chart: string;
  keep: KeepPolicy;
  labels?: Record<string, string>;
  /** True when the cluster itself is deleted afterwards (then its namespaces go with it). */
  clusterGoes: (end: RunEnd) => boolean;
}): Promise<void> {
  const { k, ctx, name } = o;
  ctx.signal.throwIfAborted();
  await k.core.createNamespace({ body: { metadata: { name, labels: { ...MANAGED_BY, [CHART_LABEL]: o.chart, ...o.labels } } } });
  ctx.defer(`delete namespace ${name}`, async () => {
    const end = ctx.end;
    if (keep(o.keep, end)) {
      const why: KeptWhy = o.keep === 'always' ? 'always' : 'failed';
      await markKept(k, name, why).catch((err: Error) => ctx.log.warn(`could not label namespace ${name} as kept: ${err.message}`));
      ctx.log.info(
        `keeping namespace ${name} for inspection (--keep ${o.keep}); remove it with: kubectl${k.context ? ` --context ${k.context}` : ''} delete namespace ${name}` +
          (why === 'failed' ? ` (the next run of ${o.chart} on this cluster removes it once a newer failed run is kept)` : ''),
      );
      return;
    }
    if (o.clusterGoes(end)) return;
    await deleteNamespace(k, name, ctx);
  });
}

async function markKept(k: Kube, name: string, why: KeptWhy): Promise<void> {
  await k.core.patchNamespace({ name, body: { metadata: { labels: { [KEPT_LABEL]: why } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

/**
 * Removes the namespaces kept after older failed runs of the chart (the newest stays), waiting
 * until they are gone so their pods no longer hold the nodes. Never throws: a namespace that
 * cannot be removed is reported and the run goes on.
 */
export async function pruneKeptNamespaces(o: { k: Kube; ctx: RunContext; chart: string; keep: KeepPolicy }): Promise<string[]> {
  const { k, ctx, chart } = o;
  if (o.keep === 'always') return [];
  let all;
  try {
    all = await listRunNamespaces(k);
  } catch (err) {
    ctx.log.warn(`could not list the namespaces of earlier runs: ${(err as Error).message}`);
    return [];
  }
  const { newest, older: old } = superseded(all, chart);
  if (!old.length) return [];
  ctx.log.info(
    `removing ${old.length} namespace${old.length === 1 ? '' : 's'} kept after older failed runs of ${chart}: ${old.map((n) => n.name).join(', ')} ` +
      `(the newest, ${newest?.name}, stays for inspection; --keep always keeps them all)`,
  );
  const started = Date.now();
  const removed: string[] = [];
  await Promise.all(
    old.map((n) =>
      deleteNamespace(k, n.name, ctx).then(
        () => removed.push(n.name),
        (err: Error) => ctx.log.warn(`could not remove namespace ${n.name}: ${err.message}`),
      ),
    ),
  );
  if (removed.length) ctx.log.info(`removed ${removed.join(', ')} in ${Math.round((Date.now() - started) / 1000)}s`);
  return removed;
}

/** delete → wait → strip finalizers, so a namespace stuck Terminating never outlives the run. */
export async function deleteNamespace(k: Kube, namespace: string, ctx: RunContext): Promise<void> {
  try {
    await k.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' });
  } catch (err) {
    if (apiStatus(err) === 404) return;
    throw err;
  }
  const gone = await retry(`namespace ${namespace} gone`, { timeoutMs: 90_000, intervalMs: 1000 }, async () => {
    const still = await k.core.readNamespace({ name: namespace }).then(
      () => true,
      (err: unknown) => apiStatus(err) !== 404,
    );
    if (still) throw notYet('still there');
  }).then(
    () => true,
    () => false,
  );
  if (gone) return;
  ctx.log.warn(`namespace ${namespace} stuck terminating after 90s; removing its finalizers`);
  const ns = await k.core.readNamespace({ name: namespace });
  ns.spec = { finalizers: [] };
  await k.core.replaceNamespaceFinalize({ name: namespace, body: ns });
}
