// The way in (kind/helm family): tunnels to the gateway's Service (one per ready pod when there are
// several) and to the mock, the pods as they were when the suites start, the control endpoint that
// lets the health suite take the database away, and the target the suites get.
import { snapshotPods } from '../changes.ts';
import { deploymentControl } from '../dependencies.ts';
import { openTunnels } from '../tunnels.ts';
import { documentedMetrics } from '../../chart-docs.ts';
import type { Kube } from '../../kube/client.ts';
import { type ChartProfile, isNotApplicable } from '../../profiles/types.ts';
import { startControlServer } from '../../targets/control-server.ts';
import { environmentFor } from '../../targets/environment.ts';
import type { Target } from '../../targets/types.ts';
import type { Step } from './runner.ts';
import { MOCK_PORT, type ProvisionState } from './state.ts';

export const accessStep: Step<ProvisionState> = {
  name: 'access',
  needs: ['release'],
  async run(s) {
    const { plan, ctx } = s;
    const { profile } = plan;
    const k = s.k!;
    const namespace = s.namespace!;
    const release = s.release!;
    const wiring = s.wiring!;
    const svc = await findService(k, namespace, release, profile);
    const probePath = 'live' in profile.capabilities.health ? profile.capabilities.health.live.path : '/';
    const tunnels = await openTunnels({ k, ctx, namespace, gateway: { service: svc, port: profile.service.port, probePath }, mock: { service: s.mockService!, port: MOCK_PORT } });
    s.tunnels.push(...tunnels.all);
    s.gatewayPods = await snapshotPods(k, namespace, release);

    // The health suite takes the database away through this endpoint and watches readiness.
    let control: Target['control'];
    if (s.db) {
      const server = await startControlServer({ postgres: deploymentControl(s.fixtures!, s.db.deployment, 'Postgres') }, (l) => ctx.log.info(l));
      ctx.defer('close control endpoint', () => server.close());
      control = server.control;
    }
    const metricsDoc = isNotApplicable(profile.capabilities.metrics) ? undefined : profile.capabilities.metrics.documentedIn;
    const documented = metricsDoc ? await documentedMetrics(s.chart!.path, metricsDoc, s.chart!.label) : undefined;
    const standIn = s.standIn ?? false;
    s.target = {
      target: {
        kind: plan.target,
        chart: profile.name,
        baseUrl: tunnels.gatewayUrl,
        adminKey: wiring.adminKey,
        model: plan.model,
        ...(tunnels.replicas.length > 1 ? { replicas: tunnels.replicas } : {}),
        mock: { url: tunnels.mockUrl, providerKey: wiring.providerKey },
        standIn,
        environment: environmentFor(profile, { kind: plan.target, standIn, prisma: s.prisma, adminKey: true, mock: true, controllable: control?.dependencies ?? [] }),
        ...(control ? { control } : {}),
        ...(documented ? { documentedMetrics: documented } : {}),
        ...(s.upgraded ? { upgrade: s.upgraded } : {}),
        cluster: {
          kubeconfig: s.kubeconfig!,
          ...(k.context ? { context: k.context } : {}),
          namespace,
          release,
          serviceName: svc,
          servicePort: profile.service.port,
          mockServiceName: s.mockService!,
          mockServicePort: MOCK_PORT,
        },
      },
    };
  },
};

export async function findService(k: Kube, namespace: string, release: string, profile: ChartProfile): Promise<string> {
  const guess = `${release}-${profile.service.nameSuffix}`.replace(`${profile.name}-${profile.name}`, profile.name);
  const list = await k.core.listNamespacedService({ namespace, labelSelector: `app.kubernetes.io/instance=${release}` });
  const names = list.items.map((x) => x.metadata!.name!);
  if (names.includes(guess)) return guess;
  const byPort = list.items.find((x) => x.spec?.ports?.some((p) => p.port === profile.service.port));
  if (byPort) return byPort.metadata!.name!;
  throw new Error(`release ${release} created no Service on port ${profile.service.port} (Services: ${names.join(', ') || 'none'})`);
}
