// Port-forwards that behave: Service → a *ready* pod → the named or numeric targetPort (client-node's
// portForwardService does not translate ports); ready only after a real HTTP round trip; a
// connection that fails because the pod went away re-resolves a ready pod for the next one.
import { createServer, type Server, type Socket } from 'node:net';
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { request } from 'undici';
import { retry } from '../retry.ts';
import type { Kube } from './client.ts';

export interface PodTarget {
  pod: string;
  port: number;
}

function isReady(p: V1Pod): boolean {
  return !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
}

/** Every ready pod behind a Service and the container port its servicePort maps to. */
export async function resolveService(k: Kube, namespace: string, service: string, servicePort: number): Promise<PodTarget[]> {
  let svc: V1Service;
  try {
    svc = await k.core.readNamespacedService({ name: service, namespace });
  } catch (err) {
    throw new Error(`Service ${namespace}/${service} cannot be read: ${(err as Error).message}`);
  }
  const port = svc.spec?.ports?.find((p) => p.port === servicePort) ?? (svc.spec?.ports?.length === 1 ? svc.spec.ports[0] : undefined);
  if (!port) {
    throw new Error(`Service ${namespace}/${service} has no port ${servicePort} (ports: ${svc.spec?.ports?.map((p) => p.port).join(', ') || 'none'})`);
  }
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k2, v]) => `${k2}=${v}`)
    .join(',');
  if (!selector) throw new Error(`Service ${namespace}/${service} has no selector, so no pod can be forwarded to`);
  const pods = (await k.core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter(isReady);
  return pods.map((p) => {
    const tp = port.targetPort ?? port.port;
    let number = typeof tp === 'number' ? tp : Number.isNaN(Number(tp)) ? undefined : Number(tp);
    if (number === undefined) {
      for (const c of p.spec?.containers ?? []) {
        const named = c.ports?.find((cp) => cp.name === tp);
        if (named) number = named.containerPort;
      }
    }
    if (number === undefined) throw new Error(`Pod ${p.metadata?.name} has no container port named "${tp}" (Service ${service} targetPort)`);
    return { pod: p.metadata!.name!, port: number };
  });
}

export interface TunnelOptions {
  namespace: string;
  /** Forward to this Service (re-resolving a ready pod when one dies) … */
  service?: { name: string; port: number };
  /** … or pin to one pod. */
  pod?: PodTarget;
  /** Path for the readiness round trip; any HTTP answer proves the tunnel carries traffic. */
  probePath: string;
  log?: (line: string) => void;
  maxRestarts?: number;
}

export class Tunnel {
  url = '';
  restarts = 0;
  /** Forwarded connections that died under their client (the API server link aborted or failed). */
  breaks = 0;
  /** The local listener closed while the run still needed it (someone killed the tunnel). */
  closedUnexpectedly = false;
  private closing = false;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private current: PodTarget | undefined;
  private readonly k: Kube;
  private readonly opts: TunnelOptions;

  constructor(k: Kube, opts: TunnelOptions) {
    this.k = k;
    this.opts = opts;
  }

  /** The pod the tunnel forwards to now (a Service tunnel picks one ready pod when it opens). */
  get pod(): string | undefined {
    return this.current?.pod;
  }

  get describe(): string {
    const to = this.opts.service ? `svc/${this.opts.service.name}:${this.opts.service.port}` : `pod/${this.opts.pod?.pod}`;
    return `${this.opts.namespace}/${to} → ${this.current ? `pod/${this.current.pod}:${this.current.port}` : '?'} at ${this.url}`;
  }

  private async pick(): Promise<PodTarget> {
    if (this.opts.pod) return this.opts.pod;
    const svc = this.opts.service!;
    const targets = await resolveService(this.k, this.opts.namespace, svc.name, svc.port);
    if (targets.length === 0) throw new Error(`Service ${this.opts.namespace}/${svc.name} has no ready pod to forward to`);
    return targets[Math.floor(Math.random() * targets.length)]!;
  }

  async open(timeoutMs = 30_000): Promise<string> {
    this.current = await this.pick();
    this.server = createServer((socket) => void this.forward(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    if (!addr || typeof addr === 'string') throw new Error('tunnel listener has no port');
    this.url = `http://127.0.0.1:${addr.port}`;
    this.server.on('close', () => {
      if (!this.closing) this.closedUnexpectedly = true;
    });
    await this.waitForRoundTrip(timeoutMs);
    return this.url;
  }

  /** A TCP connect succeeds before the tunnel works; only an HTTP answer proves it. */
  async waitForRoundTrip(timeoutMs: number): Promise<void> {
    await retry(
      `tunnel ${this.describe}`,
      { timeoutMs, intervalMs: 500, onTimeout: (last) => new Error(`tunnel ${this.describe} carried no HTTP round trip to ${this.opts.probePath} within ${timeoutMs / 1000}s: ${(last as Error).message}`) },
      async () => {
        const res = await request(`${this.url}${this.opts.probePath}`, { headersTimeout: 5000, bodyTimeout: 5000 });
        await res.body.dump();
      },
    );
  }

  private async forward(socket: Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const target = this.current!;
    try {
      const ws = await this.k.portForward.portForward(this.opts.namespace, target.pod, [target.port], socket, null, socket);
      if (typeof ws !== 'function') {
        ws.on('error', () => this.onBroken(target, socket));
        // 1006: the link to the API server ended without a close frame, i.e. it was cut, not
        // finished. With the client still connected, that is a broken tunnel, not a closed stream.
        ws.on('close', (code: number) => {
          if (code === 1006 && !socket.destroyed) this.onBroken(target, socket);
          else socket.destroy();
        });
      }
    } catch {
      this.onBroken(target, socket);
    }
  }

  private onBroken(target: PodTarget, socket: Socket): void {
    if (socket.destroyed) return; // already counted (error and close both report one break)
    socket.destroy();
    this.breaks++;
    if (this.current !== target || this.opts.pod) return;
    if (this.restarts >= (this.opts.maxRestarts ?? 5)) return;
    this.restarts++;
    this.opts.log?.(`tunnel to pod/${target.pod} broke; re-resolving a ready pod behind ${this.opts.service?.name} (restart ${this.restarts})`);
    this.pick().then(
      (t) => {
        this.current = t;
      },
      (err: Error) => this.opts.log?.(`tunnel restart failed: ${err.message}`),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
