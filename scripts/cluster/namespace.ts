// The run namespace: created fresh per run, labelled so the chart's NetworkPolicy values can select
// it, deleted by the cleanup stack unless the run failed and is being kept for inspection.
import { apiStatus, type Kube } from '../kube/client.ts';
import type { KeepPolicy } from '../plan.ts';
import type { RunContext } from '../run-context.ts';

export async function createRunNamespace(o: {
  k: Kube;
  ctx: RunContext;
  name: string;
  keep: KeepPolicy;
  labels?: Record<string, string>;
  /** True when the cluster itself is deleted afterwards (then its namespaces go with it). */
  clusterGoes: (failed: boolean) => boolean;
}): Promise<void> {
  await o.k.core.createNamespace({ body: { metadata: { name: o.name, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke', ...o.labels } } } });
  o.ctx.defer(`delete namespace ${o.name}`, async () => {
    if (o.ctx.failed && o.keep !== 'never') {
      o.ctx.log.info(`keeping namespace ${o.name} for inspection (--keep ${o.keep})`);
      return;
    }
    if (o.clusterGoes(o.ctx.failed)) return;
    await deleteNamespace(o.k, o.name, o.ctx);
  });
}

/** delete → wait → strip finalizers, so a namespace stuck Terminating never outlives the run. */
export async function deleteNamespace(k: Kube, namespace: string, ctx: RunContext): Promise<void> {
  try {
    await k.core.deleteNamespace({ name: namespace, propagationPolicy: 'Background' });
  } catch (err) {
    if (apiStatus(err) === 404) return;
    throw err;
  }
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      await k.core.readNamespace({ name: namespace });
    } catch (err) {
      if (apiStatus(err) === 404) return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  ctx.log.warn(`namespace ${namespace} stuck terminating after 90s; removing its finalizers`);
  const ns = await k.core.readNamespace({ name: namespace });
  ns.spec = { finalizers: [] };
  await k.core.replaceNamespaceFinalize({ name: namespace, body: ns });
}
