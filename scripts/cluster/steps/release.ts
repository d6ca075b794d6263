// The chart itself (kind/helm family): helm install with the profile's corrections (a hook Job
// watched like the workloads), then every Deployment/StatefulSet of the release ready. With
// --upgrade-from the previous release goes first (scripts/upgrade/) and this install is the upgrade.
import { correctionsFor, installWithCorrections } from '../../corrections.ts';
import { helmInstall } from '../../kube/helm.ts';
import { waitForWorkloads } from '../../kube/wait.ts';
import { UpgradeRun } from '../../upgrade/run.ts';
import { loadImages } from '../images.ts';
import { findService } from './access.ts';
import type { Step } from './runner.ts';
import { MOCK_PORT, type ProvisionState, READY_TIMEOUT_MS } from './state.ts';
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
    const { profile } = plan;
    const images = s.images!;
    // --upgrade-from: the previous release first (and traffic); the install below is then the upgrade
    const upgrade = plan.upgradeFrom
      ? new UpgradeRun({
          plan, ctx, k, namespace, release, wiring: s.wiring!, values: s.values!, mockService: s.mockService!, mockPort: MOCK_PORT, mockImage: images.mock!,
          candidateChart: s.chart!.path,
          ...(s.app ? { candidateImage: s.standIn && profile.app?.standIn ? images[profile.app.standIn.image]! : s.app.chartImage } : {}),
          install: (chartPath, layers, valuesFiles) => {
            if (!s.releases.includes(release)) s.releases.push(release);
            return watched(k, namespace, ctx.signal, (signal) => helmInstall(s.helmEnv!, { release, chart: chartPath, namespace, values: layers, valuesFiles, timeoutMs: READY_TIMEOUT_MS, signal }));
          },
          ...(s.kind ? { loadImage: async (ref: string) => void (await loadImages({ kind: s.kind!.kindBin, cluster: plan.clusterName, refs: [ref], ctx })) } : {}),
          findService: () => findService(k, namespace, release, profile),
          helm: s.helmEnv!.helm,
        })
      : undefined;
    await upgrade?.before();
    const applied = plan.corrections ? correctionsFor(plan.profile, release) : [];
    const checks = await installWithCorrections({
      release,
      applied,
      defaults: s.defaults!,
      namespace,
      install: (postRenderer) =>
        ctx.phase(`helm install ${release}${postRenderer ? ' (with the post-renderer of its corrections)' : ''}`, async () => {
          if (!s.releases.includes(release)) s.releases.push(release);
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
    s.upgraded = await upgrade?.finish();
  },
};
