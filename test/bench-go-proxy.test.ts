// The baseline of bench/cutoff-bench.ts: the Go reverse proxy in bench/go-reverse-proxy/ compiles
// with the machine's go, relays a plain and a streamed answer from the mock intact, refuses a bad
// -target, and stops without leaving a process. The bench itself has no test (it is a measurement).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { plainThenStream } from '../bench/cutoff-client.ts';
import { buildGoProxy, startGoProxy, type GoProxyBuild, type GoProxyHandle } from '../bench/go-reverse-proxy.ts';
import { startMock, type MockServer } from '../mock/server.ts';
import { pidAlive, stopAll } from '../scripts/local/process.ts';
import { requireInCI } from './prerequisite.ts';

const hasGo = (await execa('go', ['version'], { reject: false })).exitCode === 0;
const present = requireInCI('go (the Go toolchain)', hasGo, 'install Go 1.22+ and put it on PATH (scripts/setup-local.sh needs it too)');

describe.skipIf(!present)('bench: the plain Go reverse proxy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-bench-go-proxy-'));
  let mock: MockServer;
  let build: GoProxyBuild;
  let proxy: GoProxyHandle;
  const agent = new Agent();

  beforeAll(async () => {
    mock = await startMock({ quiet: true });
    build = await buildGoProxy(join(dir, 'cache')); // an empty cache: it really compiles
    proxy = await startGoProxy({ bin: build.bin, target: mock.url, logFile: join(dir, 'go-proxy.log') });
  });
  afterAll(async () => {
    await stopAll(3_000);
    await agent.destroy();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('compiles into the cache, and a second call reuses the binary', async () => {
    expect(build.built).toBe(true);
    expect(build.goVersion).toMatch(/^go version go\d/);
    const again = await buildGoProxy(join(dir, 'cache'));
    expect(again).toEqual({ ...build, built: false });
  });

  test('a plain request, then a stream that ends with [DONE], both reaching the mock', async () => {
    const key = 'sk-bench-test-go-proxy';
    const r = await plainThenStream({ name: 'go', baseUrl: proxy.url, bearer: key, upstreamKey: key, agent }, true);
    expect(r).toMatchObject({ kind: 'complete' });
    const seen = mock.journal.entries({ endpoint: 'chat' });
    expect(seen.map((e) => [e.stream, e.outcome])).toEqual([
      [false, 'answered'],
      [true, 'answered'],
    ]);
  });

  test('a stream the upstream cuts off is counted as cut off, not complete', async () => {
    const key = 'sk-bench-test-go-proxy';
    // x-mock-reset-after-chunks: the mock resets the connection mid-stream (what a cut-off looks like)
    const r = await plainThenStream({ name: 'go', baseUrl: proxy.url, bearer: key, upstreamKey: key, agent, extraHeaders: { 'x-mock-reset-after-chunks': '2' } }, false);
    expect(r).toMatchObject({ kind: 'cut-off' });
  });

  test('-target must be an absolute URL (exit 2)', async () => {
    const r = await execa(build.bin, ['-target', 'not-a-url'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('-target must be an absolute URL');
  });

  test('stop() ends it and frees its port', async () => {
    const pid = proxy.pid;
    await proxy.stop();
    expect(pidAlive(pid)).toBe(false);
    await expect(fetch(`${proxy.url}/v1/models`)).rejects.toThrow();
  });
});
