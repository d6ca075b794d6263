// The revocation watch against real HTTP servers standing in for two gateway replicas: one forgets
// the key at once, the other keeps serving it from a per-worker cache (every other request, as
// LiteLLM's uvicorn workers did) or for a while.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { http } from '../suites/lib/http.ts';
import { type Endpoint, watchRevocation } from '../suites/lib/revocation.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A replica whose answer to the revoked key is decided by `accepts(requestNumber, msSinceStart)`. */
async function replica(name: string, accepts: (n: number, ms: number) => boolean): Promise<Endpoint> {
  const start = Date.now();
  let n = 0;
  const server = createServer((_req, res) => {
    const ok = accepts(n++, Date.now() - start);
    res.writeHead(ok ? 200 : 401).end(ok ? '{"ok":true}' : '{"error":"invalid key"}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const send = async (e: Endpoint) => (await http('POST', e.url, { body: {} })).status;
const watch = { deadlineMs: 1_000, quietMs: 400, intervalMs: 20 };

describe('watchRevocation', () => {
  test('complete once every replica has refused for the quiet window, even if one kept the key a while', async () => {
    const a = await replica('pod-a', () => false);
    const b = await replica('pod-b', (_n, ms) => ms < 300);
    const out = await watchRevocation([a, b], send, watch);
    expect(out.complete, out.summary).toBe(true);
    expect(out.refusedFromMs).toBeGreaterThanOrEqual(250);
    expect(out.summary).toMatch(/^pod-a: 0 of \d+ accepted; pod-b: \d+ of \d+ accepted, last at 0\.\d s$/);
  });

  test('one replica refusing is not enough: a worker that still serves the key every other request fails it', async () => {
    const a = await replica('pod-a', () => false);
    const b = await replica('pod-b', (n) => n % 2 === 0);
    const out = await watchRevocation([a, b], send, watch);
    expect(out.complete).toBe(false);
    expect(out.summary).toMatch(/^pod-a: 0 of \d+ accepted; pod-b: \d+ of \d+ accepted, last at 1\.\d s$/);
  });

  test('an answer that is neither the key working nor a refusal is not a refusal, and is counted by status', async () => {
    const a = await replica('pod-a', () => false);
    const server = createServer((_req, res) => res.writeHead(500).end('boom'));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const broken = { name: 'pod-b', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    const out = await watchRevocation([a, broken], send, watch);
    expect(out.complete).toBe(false);
    expect(out.summary).toMatch(/pod-b: 0 of (\d+) accepted, \1× HTTP 500$/);
  });
});
