// In-cluster probes for the netpol suite: labelled client pods, ephemeral containers inside the
// gateway pod (they share its network namespace, so its egress policy applies), and a TCP connect
// through `kubectl exec`-equivalent calls on client-node.
import { PassThrough } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { type Kube, kube } from '../../scripts/kube/client.ts';
import { fatal, notYet, retry } from '../../scripts/retry.ts';
import type { ClusterFacts } from '../../scripts/targets/types.ts';

export const PROBE_IMAGE = process.env['GATEWAY_SMOKE_PROBE_IMAGE'] ?? 'gateway-smoke/probe:1';

export class ClusterProbe {
  readonly k: Kube;
  readonly facts: ClusterFacts;
  constructor(facts: ClusterFacts) {
    this.facts = facts;
    this.k = kube(facts.kubeconfig, facts.context);
  }

  async createNamespace(name: string): Promise<void> {
    await this.k.core.createNamespace({ body: { metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'gateway-smoke' } } } });
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.k.core.deleteNamespace({ name }).catch(() => undefined);
  }

  /** A pod that sleeps (client) or serves HTTP on 8080 (server), on the locally loaded probe image. */
  async pod(namespace: string, name: string, role: 'client' | 'server', labels: Record<string, string> = {}): Promise<V1Pod> {
    const command =
      role === 'server'
        ? ['sh', '-c', 'while true; do printf "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok" | nc -l -p 8080 -q 1 >/dev/null 2>&1 || nc -l 8080 < /dev/null; done']
        : ['sleep', 'infinity'];
    await this.k.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels: { 'gateway-smoke/probe': role, ...labels } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'probe', image: PROBE_IMAGE, imagePullPolicy: 'Never', command, ports: role === 'server' ? [{ containerPort: 8080 }] : [] }],
        },
      },
    });
    return this.waitRunning(namespace, name);
  }

  async waitRunning(namespace: string, name: string, timeoutMs = 90_000): Promise<V1Pod> {
    let pod: V1Pod | undefined;
    const why = () => pod?.status?.containerStatuses?.[0]?.state?.waiting;
    return retry(
      `probe pod ${namespace}/${name}`,
      { timeoutMs, intervalMs: 1000, onTimeout: () => new Error(`probe pod ${namespace}/${name} not ready after ${timeoutMs / 1000}s${why() ? `: ${why()!.reason} ${why()!.message ?? ''}` : ''}`) },
      async () => {
        pod = await this.k.core.readNamespacedPod({ name, namespace }).catch((err: Error) => {
          throw fatal(err);
        });
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (ready && pod.status?.podIP) return pod;
        throw notYet('not ready');
      },
    );
  }

  /** Adds an ephemeral probe container to a pod (e.g. the gateway) and waits for it to run. */
  async ephemeral(namespace: string, podName: string, container: string): Promise<void> {
    const pod = await this.k.core.readNamespacedPod({ name: podName, namespace });
    if (!pod.spec?.ephemeralContainers?.some((c) => c.name === container)) {
      pod.spec!.ephemeralContainers = [
        ...(pod.spec?.ephemeralContainers ?? []),
        { name: container, image: PROBE_IMAGE, imagePullPolicy: 'Never', command: ['sleep', 'infinity'] },
      ];
      await this.k.core.replaceNamespacedPodEphemeralcontainers({ name: podName, namespace, body: pod });
    }
    await retry(
      `ephemeral probe container ${container}`,
      { timeoutMs: 60_000, intervalMs: 1000, onTimeout: () => new Error(`ephemeral probe container ${container} in ${namespace}/${podName} did not start within 60s`) },
      async () => {
        const p = await this.k.core.readNamespacedPod({ name: podName, namespace }).catch((err: Error) => {
          throw fatal(err);
        });
        if (!p.status?.ephemeralContainerStatuses?.find((c) => c.name === container)?.state?.running) throw notYet('not running');
      },
    );
  }

  /** Runs a command in a container; resolves with its exit code (from the exec status). */
  async exec(namespace: string, pod: string, container: string, command: string[], timeoutMs = 20_000): Promise<{ code: number; out: string }> {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`exec ${command.join(' ')} in ${namespace}/${pod} timed out`)), timeoutMs);
      this.k.exec
        .exec(namespace, pod, container, command, out, out, null, false, (status) => {
          clearTimeout(timer);
          const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
          const code = status.status === 'Success' ? 0 : Number(cause?.message ?? 1);
          resolve({ code, out: Buffer.concat(chunks).toString() });
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  }

  /** TCP connect with a timeout from inside a container: true when it connected. */
  async connects(namespace: string, pod: string, container: string, host: string, port: number): Promise<boolean> {
    const r = await this.exec(namespace, pod, container, ['nc', '-z', '-w', '3', host, String(port)]);
    return r.code === 0;
  }

  async resolves(namespace: string, pod: string, container: string, name: string): Promise<boolean> {
    const r = await this.exec(namespace, pod, container, ['nslookup', name]);
    return r.code === 0;
  }

  /** The command a person runs to reproduce one probe. */
  reproduce(namespace: string, pod: string, container: string, command: string): string {
    const ctx = this.facts.context ? ` --context ${this.facts.context}` : '';
    return `kubectl${ctx} -n ${namespace} exec ${pod} -c ${container} -- ${command}`;
  }

  async gatewayPod(): Promise<V1Pod> {
    const pods = await this.k.core.listNamespacedPod({
      namespace: this.facts.namespace,
      labelSelector: `app.kubernetes.io/instance=${this.facts.release}`,
    });
    const ready = pods.items.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    if (!ready) throw new Error(`no ready gateway pod for release ${this.facts.release} in ${this.facts.namespace}`);
    return ready;
  }
}
