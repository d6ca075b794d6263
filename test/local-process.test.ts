// scripts/local/process.ts with plain node children (no installs needed): process-group stop,
// SIGKILL after the grace period, readiness deadline errors with the log tail, secret redaction.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { getFreePort, pidAlive, ProcessError, startProcess, stopAll } from '../scripts/local/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'gs-local-process-'));
afterAll(async () => {
  await stopAll(2_000);
  rmSync(dir, { recursive: true, force: true });
});

const node = process.execPath;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(50);
  }
  return cond();
}

describe('startProcess / stop', () => {
  test('stop() kills the whole process group, grandchildren included', async () => {
    const logFile = join(dir, 'tree.log');
    // parent prints the pid of a grandchild it spawns, then both idle
    const script = `
      const { spawn } = require('node:child_process');
      const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log('child-pid=' + c.pid);
      setInterval(() => {}, 1000);`;
    const p = await startProcess({ name: 'tree', command: node, args: ['-e', script], env, logFile });
    let childPid = 0;
    await p.waitUntil({
      what: 'child-pid line',
      timeoutMs: 10_000,
      probe: async () => {
        const m = /child-pid=(\d+)/.exec(p.tailLog());
        if (m?.[1]) childPid = Number(m[1]);
        return childPid > 0;
      },
    });
    expect(p.groupMembers().sort()).toEqual([p.pid, childPid].sort());
    expect(pidAlive(childPid)).toBe(true);
    await p.stop(5_000);
    expect(p.exited).toBe(true);
    expect(pidAlive(p.pid)).toBe(false);
    expect(await waitFor(() => !pidAlive(childPid), 2_000)).toBe(true);
    expect(p.groupMembers()).toEqual([]);
  });

  test('a child that ignores SIGTERM is SIGKILLed after the grace period', async () => {
    const logFile = join(dir, 'stubborn.log');
    const script = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('up'); setInterval(() => {}, 1000);`;
    const p = await startProcess({ name: 'stubborn', command: node, args: ['-e', script], env, logFile });
    await p.waitUntil({ what: 'up line', timeoutMs: 10_000, probe: async () => p.tailLog().includes('up') });
    const t0 = Date.now();
    await p.stop(700);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(600);
    expect(p.exitSignal).toBe('SIGKILL');
    expect(pidAlive(p.pid)).toBe(false);
    expect(p.tailLog()).toContain('ignoring SIGTERM');
  });

  test('Ctrl-C on a harness that does not handle it still takes its process groups down', async () => {
    const mod = new URL('../scripts/local/process.ts', import.meta.url).href;
    const harness = `
      import { startProcess } from ${JSON.stringify(mod)};
      const p = await startProcess({ name: 'sleeper', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'],
        env: { PATH: process.env.PATH }, logFile: ${JSON.stringify(join(dir, 'sleeper.log'))} });
      console.log('sleeper-pid=' + p.pid);
      setInterval(() => {}, 1000);`;
    const h = await startProcess({ name: 'harness', command: node, args: ['--input-type=module', '-e', harness], env, logFile: join(dir, 'harness.log') });
    let sleeper = 0;
    await h.waitUntil({
      what: 'sleeper-pid line',
      timeoutMs: 20_000,
      probe: async () => {
        const m = /sleeper-pid=(\d+)/.exec(h.tailLog());
        if (m?.[1]) sleeper = Number(m[1]);
        return sleeper > 0;
      },
    });
    expect(pidAlive(sleeper)).toBe(true);
    process.kill(h.pid, 'SIGINT');
    await h.exitPromise;
    expect(h.exitSignal).toBe('SIGINT');
    expect(await waitFor(() => !pidAlive(sleeper), 5_000)).toBe(true);
  });

  test('a missing executable fails at once with its path', async () => {
    await expect(
      startProcess({ name: 'ghost', command: join(dir, 'no-such-binary'), env, logFile: join(dir, 'ghost.log') }),
    ).rejects.toThrow(/ghost: cannot start .*no-such-binary/);
  });
});

describe('readiness', () => {
  test('waitForHttp resolves once the URL answers 2xx', async () => {
    const port = await getFreePort();
    const script = `setTimeout(() => require('node:http').createServer((q, r) => r.end(q.url === '/ready' ? 'ready' : 'x')).listen(${port}, '127.0.0.1', () => console.log('listening')), 300);`;
    const p = await startProcess({ name: 'late-server', command: node, args: ['-e', script], env, logFile: join(dir, 'late.log') });
    await p.waitForHttp({ url: `http://127.0.0.1:${port}/ready`, timeoutMs: 10_000, intervalMs: 50 });
    await p.stop();
  });

  test('on timeout the error names the deadline, the URL, the last answer and the last 30 log lines', async () => {
    const port = await getFreePort();
    const script = `for (let i = 1; i <= 40; i++) console.log('line ' + i); setInterval(() => {}, 1000);`;
    const p = await startProcess({ name: 'silent', command: node, args: ['-e', script], env, logFile: join(dir, 'silent.log') });
    const err = await p.waitForHttp({ url: `http://127.0.0.1:${port}/ready`, timeoutMs: 1_000, intervalMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessError);
    const msg = (err as Error).message;
    expect(msg).toContain(`waiting up to 1s for silent at http://127.0.0.1:${port}/ready`);
    expect(msg).toMatch(/last answer: ECONNREFUSED/);
    expect(msg).toContain('line 40');
    expect(msg).toContain('line 11');
    expect(msg).not.toMatch(/line 10\n/);
    await p.stop();
  });

  test('a 503 is not ready, and the status is the last answer', async () => {
    const srv = createServer((_q, r) => {
      r.statusCode = 503;
      r.end('draining');
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const port = (srv.address() as { port: number }).port;
    const p = await startProcess({ name: 'idle', command: node, args: ['-e', 'setInterval(() => {}, 1000)'], env, logFile: join(dir, 'idle.log') });
    const err = await p.waitForHttp({ url: `http://127.0.0.1:${port}/`, timeoutMs: 600, intervalMs: 100 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('last answer: HTTP 503 draining');
    await p.stop();
    srv.close();
  });

  test('a process that exits before it is ready fails at once, with its exit code and log', async () => {
    const p = await startProcess({
      name: 'crasher',
      command: node,
      args: ['-e', `console.error('boom: config invalid'); process.exit(3)`],
      env,
      logFile: join(dir, 'crash.log'),
    });
    const t0 = Date.now();
    const err = await p.waitForHttp({ url: 'http://127.0.0.1:9/never', timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect((err as Error).message).toMatch(/crasher exited with code 3 before it was ready/);
    expect((err as Error).message).toContain('boom: config invalid');
  });

  test('secret env values never appear in messages or log tails', async () => {
    const secretValue = 'sk-super-secret-value-123';
    const p = await startProcess({
      name: 'leaky',
      command: node,
      args: ['-e', `console.log('my key is ' + process.env.MASTER_KEY); process.exit(1)`],
      env: { ...env, MASTER_KEY: secretValue },
      secretEnv: ['MASTER_KEY'],
      logFile: join(dir, 'leaky.log'),
    });
    const err = await p.waitForHttp({ url: 'http://127.0.0.1:9/', timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('my key is ***');
    expect((err as Error).message).not.toContain(secretValue);
    expect(p.tailLog()).not.toContain(secretValue);
  });
});
