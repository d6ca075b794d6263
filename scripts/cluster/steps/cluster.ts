// The cluster: a kind cluster made or reused (--target kind), or the kube context given
// (--target existing); then the API client, helm, and the pruning of older kept runs of the chart,
// which goes on while other steps run.
import { execa } from 'execa';
import { VersionApi } from '@kubernetes/client-node';
import { ensureKindCluster, requireTool } from '../kind.ts';
import { prepareClusterKit } from '../kit-setup.ts';
import { pruneKeptNamespaces } from '../namespace.ts';
import { kube, kubeconfigPath } from '../../kube/client.ts';
import { type HelmEnv, helmVersion } from '../../kube/helm.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const clusterStep: Step<ProvisionState> = {
  name: 'cluster',
  needs: ['chart'],
  async run(s) {
    const { plan, ctx, fingerprint } = s;
    let context: string | undefined;
    if (plan.target === 'kind') {
      const kit = await ctx.phase('choose the cluster kit', () => prepareClusterKit({ name: plan.clusterName, wanted: plan.kubernetesVersion, ctx }));
      s.kind = await ensureKindCluster({ name: plan.clusterName, keep: plan.keep, kit, ctx });
      s.kubeconfig = s.kind.kubeconfig;
      context = s.kind.context;
      fingerprint['kind'] = (await execa(s.kind.kindBin, ['version'])).stdout.trim();
      if (s.kind.created) {
        fingerprint['cluster kit'] = `${kit.kit}: ${kit.why}`;
        fingerprint['node image'] = kit.nodeImage;
        if (kit.tools) fingerprint['cluster tools'] = (['kind', 'kubectl', 'helm'] as const).map((t) => `${t} ${kit.tools![t].version} (${kit.tools![t].why})`).join('; ');
      }
    } else {
      s.kubeconfig = kubeconfigPath(); // the file the preflight checked the context in
      context = plan.kubeContext;
    }
    const helmBin = s.kind?.helmBin ?? (await requireTool('helm'));
    const k = kube(s.kubeconfig, context);
    s.k = k;
    const helmEnv: HelmEnv = { helm: helmBin, kubeconfig: s.kubeconfig, ...(k.context ? { context: k.context } : {}) };
    s.helmEnv = helmEnv;
    // older kept runs of this chart go while the images build; the namespace step awaits it
    s.pruning = pruneKeptNamespaces({ k, ctx, chart: plan.profile.name, keep: plan.keep });
    s.pruning.catch(() => undefined); // awaited (and its error thrown) by the namespace step
    const [version, helm] = await Promise.all([k.kc.makeApiClient(VersionApi).getCode(), helmVersion(helmBin)]);
    fingerprint['kubernetes'] = version.gitVersion;
    fingerprint['helm'] = helm;
  },
};
