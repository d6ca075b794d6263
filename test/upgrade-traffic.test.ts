// Upgrade traffic against the real mock provider, through a real proxy process: every request is
// recorded with its outcome and the address that served it, and a proxy killed mid-stream leaves
// cut-off streams recorded as such (never as complete), with the mock's journal agreeing.
import { once } from 'node:events';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { afterEach, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../scripts/project-root.ts';
import { RELAY_JS } from '../scripts/upgrade/relay.ts';
import { attributePods, startTraffic } from '../scripts/upgrade/traffic.ts';
import { freePort } from './free-port.ts';
import { useMock } from './mock-fixture.ts';

const mock = useMock();
let proxy: ResultPromise | undefined;
afterEach(() => {
  proxy?.kill('SIGKILL');
  proxy = undefined;
});

async function startProxy(target: string): Promise<string> {
  proxy = execa(process.execPath, [join(PROJECT_ROOT, 'test', 'upgrade-proxy.ts'), target], { reject: false });
  const [line] = (await once(proxy.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${line.toString().trim()}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('mixed plain and streamed completions, at most `clients` at a time, each attributed to the address that served it', async () => {
  const url = await startProxy(mock().url);
  const traffic = startTraffic({ baseUrl: url, apiKey: 'sk-test', model: 'mock-gpt', clients: 3, latencyMs: 20, streamChunks: 4, streamIntervalMs: 20, pauseMs: 10 });
  await sleep(1500);
  const records = attributePods(await traffic.stop(), mock().journal.entries(), new Map([['127.0.0.1', 'proxy-a']]));
  expect(records.length).toBeGreaterThan(6);
  expect(records.filter((r) => r.stream).length).toBeGreaterThan(2);
  expect(records.filter((r) => !r.stream).length).toBeGreaterThan(2);
  for (const r of records) {
    expect(r, r.error).toMatchObject({ status: 200, complete: true, pod: 'proxy-a', clientAddress: '127.0.0.1' });
    if (r.stream) expect(r).toMatchObject({ sawDone: true, sawUsage: true, chunks: 4 });
  }
  const overlap = Math.max(...records.map((r) => records.filter((o) => o.start <= r.start && o.end > r.start).length));
  expect(overlap).toBeLessThanOrEqual(3);
});

test('a proxy killed mid-stream: the streams in flight are recorded as cut off, later requests as refused', async () => {
  const url = await startProxy(mock().url);
  const traffic = startTraffic({ baseUrl: url, apiKey: 'sk-test', model: 'mock-gpt', clients: 4, latencyMs: 20, streamChunks: 30, streamIntervalMs: 50, pauseMs: 20 });
  await sleep(800);
  const killedAt = Date.now();
  proxy!.kill('SIGKILL');
  await sleep(400);
  const records = await traffic.stop();
  const cut = records.filter((r) => r.stream && r.start < killedAt && r.end >= killedAt);
  expect(cut.length).toBeGreaterThan(0);
  for (const r of cut) {
    expect(r.complete).toBe(false);
    expect(r.sawDone).toBe(false);
    expect(r.error).toBeTruthy();
  }
  const after = records.filter((r) => r.start > killedAt);
  expect(after.length).toBeGreaterThan(0);
  for (const r of after) expect(r).toMatchObject({ status: null, complete: false, error: expect.stringMatching(/ECONNREFUSED|Connection error/) });
  // the provider saw those streams aborted by its client: the cut-off is the proxy's, not the mock's
  const journal = mock().journal.entries();
  for (const r of cut) expect(journal.find((e) => e.headers['x-mock-tag'] === r.tag)?.outcome).toBe('aborted');
});

test("the in-cluster relay's program carries plain and streamed answers to the Service it points at", async () => {
  const port = await freePort();
  const target = new URL(mock().url);
  proxy = execa(process.execPath, ['-e', RELAY_JS], { reject: false, env: { TARGET_HOST: target.hostname, TARGET_PORT: target.port, RELAY_PORT: String(port), RELAY_HOST: '127.0.0.1' } });
  await sleep(500);
  const traffic = startTraffic({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'sk-test', model: 'mock-gpt', clients: 2, latencyMs: 10, streamChunks: 3, streamIntervalMs: 10, pauseMs: 10 });
  await sleep(600);
  const records = await traffic.stop();
  expect(records.filter((r) => r.stream && r.complete).length).toBeGreaterThan(0);
  expect(records.every((r) => r.complete && r.mockId !== undefined)).toBe(true);
});
