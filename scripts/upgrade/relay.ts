// Where the upgrade traffic enters the cluster. A port-forward goes to one pod and bypasses the
// Service, so it would keep sending new requests to a terminating pod (which real clients, going
// through the Service, would not) and cut streams of its own. A TCP relay pod in the run's
// namespace connects to the gateway Service for each client connection instead: kube-proxy picks
// a ready endpoint as it does for production clients, and the harness adds nothing to the rollout.
// The relay runs in the mock's image (it has Node); the tunnel to it is pinned to a pod that never
// rolls.
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';

export const RELAY_NAME = 'gs-upgrade-relay';
export const RELAY_PORT = 8080;

/** One TCP relay per connection to TARGET_HOST:TARGET_PORT; errors on one side close the other. */
export const RELAY_JS = `
const net = require('node:net');
const host = process.env.TARGET_HOST, port = Number(process.env.TARGET_PORT);
net.createServer((c) => {
  const u = net.connect(port, host);
  c.pipe(u); u.pipe(c);
  c.on('error', () => u.destroy()); u.on('error', () => c.destroy());
  c.on('close', () => u.destroy()); u.on('close', () => c.destroy());
}).listen(Number(process.env.RELAY_PORT || ${RELAY_PORT}), process.env.RELAY_HOST || '0.0.0.0');
`;

export function relayObjects(o: { namespace: string; image: string; service: string; port: number }): { deployment: V1Deployment; service: V1Service } {
  const labels = { 'app.kubernetes.io/name': RELAY_NAME, 'gateway-smoke/role': 'upgrade-client' };
  return {
    deployment: {
      metadata: { name: RELAY_NAME, namespace: o.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 1000 },
            containers: [
              {
                name: 'relay',
                image: o.image,
                imagePullPolicy: 'IfNotPresent',
                command: ['/usr/local/bin/node', '-e', RELAY_JS],
                env: [
                  { name: 'TARGET_HOST', value: `${o.service}.${o.namespace}.svc.cluster.local` },
                  { name: 'TARGET_PORT', value: String(o.port) },
                ],
                ports: [{ name: 'relay', containerPort: RELAY_PORT }],
                readinessProbe: { tcpSocket: { port: RELAY_PORT }, periodSeconds: 2 },
                resources: { requests: { cpu: '20m', memory: '32Mi' } },
              },
            ],
          },
        },
      },
    },
    service: {
      metadata: { name: RELAY_NAME, namespace: o.namespace, labels },
      spec: { selector: labels, ports: [{ name: 'relay', port: RELAY_PORT, targetPort: RELAY_PORT }] },
    },
  };
}

export async function createRelay(k: Kube, o: Parameters<typeof relayObjects>[0]): Promise<void> {
  const { deployment, service } = relayObjects(o);
  await k.apps.createNamespacedDeployment({ namespace: o.namespace, body: deployment });
  await k.core.createNamespacedService({ namespace: o.namespace, body: service });
}
