// A fresh run namespace, once older kept runs of the chart are gone (the pruning started with the cluster).
import { randomBytes } from 'node:crypto';
import { createRunNamespace } from '../namespace.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const namespaceStep: Step<ProvisionState> = {
  name: 'namespace',
  needs: ['cluster'],
  async run(s) {
    const { plan, ctx } = s;
    const k = s.k!;
    const namespace = `gs-${plan.profile.name}-${Date.now().toString(36)}${randomBytes(2).toString('hex')}`.slice(0, 60);
    s.namespace = namespace;
    ctx.log.info(`run namespace: ${namespace} (kube context ${k.context})`);
    await s.pruning;
    await createRunNamespace({ k, ctx, name: namespace, chart: plan.profile.name, keep: plan.keep, labels: { 'gateway-smoke/role': 'gateway' }, clusterGoes: (end) => s.kind?.deletedAfter(end) ?? false });
    s.fixtures = { k, helmEnv: s.helmEnv!, namespace, ctx, releases: s.releases };
  },
};
