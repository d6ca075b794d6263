// The harness side of Target.control: a loopback HTTP endpoint through which a suite stops and
// restarts a dependency of the gateway (health: "readiness reports its dependencies going away").
// Each target supplies how: the local target pauses the Postgres process, a cluster target scales
// the Postgres Deployment. Calls need the run's bearer token; they answer once the action is done.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newSecret } from '../secrets.ts';
import type { Target } from './types.ts';

export interface DependencyControl {
  /** Makes the dependency unreachable for the gateway; resolves once it is. */
  stop(): Promise<void>;
  /** Brings it back; resolves once it answers again. */
  start(): Promise<void>;
}

export interface ControlServer {
  control: NonNullable<Target['control']>;
  close(): Promise<void>;
}

export async function startControlServer(deps: Record<string, DependencyControl>, log: (line: string) => void): Promise<ControlServer> {
  const token = newSecret('ctl');
  // One action at a time: a stop racing a start would leave the dependency in either state.
  let queue: Promise<unknown> = Promise.resolve();
  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.authorization !== `Bearer ${token}`) return reply(res, 401, { error: 'control token required' });
    const m = /^\/dependency\/([a-z0-9-]+)\/(stop|start)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) return reply(res, 404, { error: 'POST /dependency/<name>/stop|start' });
    const [, name, action] = m as unknown as [string, string, 'stop' | 'start'];
    const dep = deps[name];
    if (!dep) return reply(res, 404, { error: `no control for ${name} (have: ${Object.keys(deps).join(', ') || 'none'})` });
    const t0 = Date.now();
    const run = queue.then(() => dep[action]());
    queue = run.catch(() => undefined);
    try {
      await run;
      log(`control: ${action} ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      reply(res, 200, { ok: true, dependency: name, action, ms: Date.now() - t0 });
    } catch (err) {
      log(`control: ${action} ${name} failed: ${(err as Error).message}`);
      reply(res, 500, { error: `${action} ${name} failed: ${(err as Error).message}` });
    }
  };
  const server = createServer((req, res) => {
    req.resume();
    void handle(req, res);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', () => ok()));
  const { port } = server.address() as AddressInfo;
  return {
    control: { url: `http://127.0.0.1:${port}`, token, dependencies: Object.keys(deps) },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
