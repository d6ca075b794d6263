// The harness control endpoint over real HTTP: the token is required, actions run one at a time
// and answer once done, a failing action is a 500 naming it. With a real Postgres process behind
// it (when installed): stop makes the port refuse, start brings the same data back.
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, describe, expect, test } from 'vitest';
import { isInstalled } from '../scripts/local/paths.ts';
import { startPostgres } from '../scripts/local/postgres.ts';
import { type ControlServer, startControlServer } from '../scripts/targets/control-server.ts';
import { requireInCI } from './prerequisite.ts';

const servers: ControlServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function post(s: ControlServer, path: string, token = s.control.token): Promise<{ status: number; body: any }> {
  const r = await request(`${s.control.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: await r.body.json() };
}

describe('control endpoint', () => {
  test('token, routes, serialised actions, failures', async () => {
    const log: string[] = [];
    let running = 0;
    let overlapped = false;
    const slow = async (what: string) => {
      running++;
      if (running > 1) overlapped = true;
      await new Promise((r) => setTimeout(r, 100));
      log.push(what);
      running--;
    };
    const s = await startControlServer(
      {
        postgres: { stop: () => slow('stop'), start: () => slow('start') },
        redis: { stop: () => Promise.reject(new Error('scale refused')), start: async () => undefined },
      },
      () => undefined,
    );
    servers.push(s);
    expect(s.control.dependencies).toEqual(['postgres', 'redis']);
    expect(s.control.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await post(s, '/dependency/postgres/stop', 'wrong')).status).toBe(401);
    expect(await post(s, '/dependency/mysql/stop')).toMatchObject({ status: 404, body: { error: expect.stringContaining('have: postgres, redis') } });
    const [a, b] = await Promise.all([post(s, '/dependency/postgres/stop'), post(s, '/dependency/postgres/start')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(log).toEqual(['stop', 'start']);
    expect(overlapped).toBe(false);
    expect(await post(s, '/dependency/redis/stop')).toMatchObject({ status: 500, body: { error: 'stop redis failed: scale refused' } });
  });
});

const pg = requireInCI('PostgreSQL (Debian package)', isInstalled('postgres'), 'run scripts/setup-local.sh apt');
const refuses = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), resolve(false)));
    c.once('error', () => resolve(true));
  });

describe.skipIf(!pg)('control endpoint over a real Postgres process', () => {
  test('stop closes the port, start reopens it on the same port', async () => {
    const db = await startPostgres({ database: 'ctl' });
    try {
      const s = await startControlServer({ postgres: { stop: () => db.pause(), start: () => db.resume() } }, () => undefined);
      servers.push(s);
      expect(await refuses(db.port)).toBe(false);
      expect((await post(s, '/dependency/postgres/stop')).status).toBe(200);
      expect(await refuses(db.port)).toBe(true);
      expect((await post(s, '/dependency/postgres/start')).status).toBe(200);
      expect(await refuses(db.port)).toBe(false);
    } finally {
      await db.stop();
    }
  });
});
