// The chart itself (kind/helm family): helm install with the profile's corrections (a hook Job
// watched like the workloads), then every Deployment/StatefulSet of the release ready.
import { correctionsFor, installWithCorrections } from '../../corrections.ts';
import { helmInstall } from '../../kube/helm.ts';
import { waitForWorkloads } from '../../kube/wait.ts';
import type { Step } from './runner.ts';
import { type ProvisionState, READY_TIMEOUT_MS } from './state.ts';
import { watched } from './watch.ts';

export const releaseStep: Step<ProvisionState> = {
  name: 'release',
  needs: ['values'],
  async run(s) {
    const { plan, ctx } = s;
    const k = s.k!;
    const namespace = s.namespace!;
    const release = plan.profile.name;
    s.release = release;
    const applied = plan.corrections ? correctionsFor(plan.profile, release) : [];
    const checks = await installWithCorrections({
      release,
      applied,
      defaults: s.defaults!,
      namespace,
      install: (postRenderer) =>
        ctx.phase(`helm install ${release}${postRenderer ? ' (with the post-renderer of its corrections)' : ''}`, async () => {
          s.releases.push(release);
          await watched(k, namespace, ctx.signal, (signal) =>
            helmInstall(s.helmEnv!, {
              release,
              chart: s.chart!.path,
              values: s.values!,
              ...(postRenderer ? { postRenderer } : {}),
              namespace,
              ...(plan.valuesFile ? { valuesFiles: [plan.valuesFile] } : {}),
              timeoutMs: READY_TIMEOUT_MS,
              signal,
            }),
          );
        }),
    });
    s.checks.push(...checks);
    await ctx.phase(`wait for ${release} to be ready`, () =>
      watched(k, namespace, ctx.signal, (signal) =>
        waitForWorkloads(k, namespace, { labelSelector: `app.kubernetes.io/instance=${release}`, timeoutMs: READY_TIMEOUT_MS, what: `release ${release}`, signal, onProgress: (l) => ctx.log.info(l) }),
      ),
    );
  },
};
