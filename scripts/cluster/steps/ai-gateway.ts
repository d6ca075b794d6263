// The chart on the Envoy AI Gateway stack (Gateway-API family): the stack once per cluster, the
// chart and its companions, the Gateway's Envoy reached by tunnel; the mock by its own tunnel.
import { provisionAiGateway } from '../ai-gateway-run.ts';
import { stackImages } from '../ai-gateway-stack.ts';
import { keep } from '../keep.ts';
import { Tunnel } from '../../kube/tunnel.ts';
import { environmentFor } from '../../targets/environment.ts';
import type { Step } from './runner.ts';
import { MOCK_PORT, type ProvisionState } from './state.ts';

export const aiGatewayStep: Step<ProvisionState> = {
  name: 'ai-gateway',
  needs: ['values'],
  async run(s) {
    const { plan, ctx } = s;
    const k = s.k!;
    const namespace = s.namespace!;
    const aigw = await provisionAiGateway({
      k,
      helmEnv: s.helmEnv!,
      ctx,
      namespace,
      profile: plan.profile,
      chartPath: s.chart!.path,
      chartOrigin: s.chart!.origin,
      wiring: s.wiring!,
      values: s.values!,
      images: stackImages(s.images!),
      ...(plan.valuesFile ? { valuesFile: plan.valuesFile } : {}),
      corrections: plan.corrections,
      defaults: s.defaults!,
      releases: s.releases,
      // kept with the namespace for inspection, gone with the cluster anyway
      cleanUp: () => !keep(plan.keep, ctx.end) && !(s.kind?.deletedAfter(ctx.end) ?? false),
    });
    s.aigw = aigw;
    Object.assign(s.fingerprint, aigw.fingerprint);
    s.release = plan.profile.name;
  },
};

export const aiGatewayAccessStep: Step<ProvisionState> = {
  name: 'access',
  needs: ['ai-gateway'],
  async run(s) {
    const { plan, ctx } = s;
    const k = s.k!;
    const namespace = s.namespace!;
    const aigw = s.aigw!;
    const mock = new Tunnel(k, { namespace, service: { name: s.mockService!, port: MOCK_PORT }, probePath: '/__mock/health', log: (l) => ctx.log.warn(l) });
    const mockUrl = await mock.open();
    ctx.defer('close mock tunnel', () => mock.close());
    s.tunnels.push(mock);
    const standIn = s.standIn ?? false;
    s.target = {
      target: {
        kind: plan.target,
        chart: plan.profile.name,
        baseUrl: aigw.baseUrl,
        metricsUrl: aigw.metricsUrl,
        ...(aigw.replicas.length > 1 ? { replicas: aigw.replicas } : {}),
        model: plan.model,
        mock: { url: mockUrl, providerKey: s.wiring!.providerKey },
        standIn,
        environment: environmentFor(plan.profile, { kind: plan.target, standIn, prisma: s.prisma, adminKey: false, mock: true, controllable: [] }),
        cluster: {
          kubeconfig: s.kubeconfig!,
          ...(k.context ? { context: k.context } : {}),
          namespace,
          release: plan.profile.name,
          serviceName: aigw.gateway.name,
          servicePort: plan.profile.gateway!.listenerPort,
          mockServiceName: s.mockService!,
          mockServicePort: MOCK_PORT,
        },
        gateway: aigw.gateway,
      },
    };
  },
};
