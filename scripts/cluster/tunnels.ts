// How the harness reaches what runs in the cluster: one tunnel to the gateway Service, one to the
// mock provider, and when the gateway has several pods one pinned tunnel per pod, each with the
// pod's IP, so suites can tell from the mock's journal which replica sent each upstream call.
import type { Kube } from '../kube/client.ts';
import { resolveService, Tunnel } from '../kube/tunnel.ts';
import type { RunContext } from '../run-context.ts';
import type { Replica } from '../targets/types.ts';

export interface OpenTunnels {
  gatewayUrl: string;
  mockUrl: string;
  replicas: Replica[];
  all: Tunnel[];
}

export async function openTunnels(o: {
  k: Kube;
  ctx: RunContext;
  namespace: string;
  gateway: { service: string; port: number; probePath: string };
  mock: { service: string; port: number };
}): Promise<OpenTunnels> {
  const { k, ctx, namespace } = o;
  const all: Tunnel[] = [];
  const open = async (t: Tunnel, label: string): Promise<string> => {
    const url = await t.open();
    all.push(t);
    ctx.defer(`close ${label}`, () => t.close());
    return url;
  };
  const gatewayUrl = await ctx.phase('open tunnel to the gateway', () =>
    open(new Tunnel(k, { namespace, service: { name: o.gateway.service, port: o.gateway.port }, probePath: o.gateway.probePath, log: (l) => ctx.log.warn(l) }), 'gateway tunnel'),
  );
  const mockUrl = await open(new Tunnel(k, { namespace, service: { name: o.mock.service, port: o.mock.port }, probePath: '/__mock/health', log: (l) => ctx.log.warn(l) }), 'mock tunnel');
  const pods = await resolveService(k, namespace, o.gateway.service, o.gateway.port);
  const replicas: Replica[] = [];
  if (pods.length > 1) {
    for (const pod of pods) {
      const p = await k.core.readNamespacedPod({ name: pod.pod, namespace });
      const url = await open(new Tunnel(k, { namespace, pod, probePath: o.gateway.probePath }), `tunnel to pod ${pod.pod}`);
      replicas.push({ url, pod: pod.pod, ip: p.status?.podIP ?? '' });
    }
  }
  return { gatewayUrl, mockUrl, replicas, all };
}
