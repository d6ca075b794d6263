// `node mock/main.ts` as a real child process: what `npm run mock` and the container image run.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, test } from 'vitest';
import { freePort } from './free-port.ts';

const MAIN = fileURLToPath(new URL('../mock/main.ts', import.meta.url));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});


type Run = { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<{ code: number | null; signal: string | null }> };

function run(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function listening(r: Run): Promise<string> {
  await expect.poll(() => r.stdout(), { timeout: 15_000, interval: 50 }).toMatch(/mock listening on http:\/\/\S+\n/);
  return /mock listening on (http:\/\/\S+)\n/.exec(r.stdout())![1]!;
}

describe('node mock/main.ts', () => {
  test('serves on the given port, answers, and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const r = run(['--port', String(port)]);
    const url = await listening(r);
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect(await (await fetch(`${url}/healthz`)).json()).toMatchObject({ status: 'ok' });
    const chat = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }) });
    expect(chat.status).toBe(200);
    r.child.kill('SIGTERM');
    expect(await r.exited).toEqual({ code: 0, signal: null });
    expect(r.stdout()).toContain('mock stopped (SIGTERM)');
    expect(r.stderr()).toBe('');
  });

  test('MOCK_PORT=0 picks a free port; SIGINT with a hanging request still exits promptly', async () => {
    const r = run([], { MOCK_PORT: '0' });
    const url = await listening(r);
    const hanging = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'x-mock-scenario': 'hang' }, body: '{}' }).catch((e: unknown) => e);
    await expect.poll(async () => ((await (await fetch(`${url}/__mock/health`)).json()) as { journal: { size: number } }).journal.size).toBe(1);
    const t0 = performance.now();
    r.child.kill('SIGINT');
    expect((await r.exited).code).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(await hanging).toBeInstanceOf(Error);
  });

  test('bad flags and a busy port fail with one clear line, no stack trace', async () => {
    const bad = run(['--port', 'eighty']);
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toContain('port must be an integer');
    expect(bad.stderr()).not.toMatch(/\n\s+at /);

    const first = run(['--port', '0', '--quiet']);
    const url = await listening(first);
    const busy = run(['--port', new URL(url).port]);
    expect((await busy.exited).code).toBe(1);
    expect(busy.stderr()).toMatch(/cannot listen: .*EADDRINUSE/);
    expect(busy.stderr()).not.toMatch(/\n\s+at /);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(first.stdout()).not.toContain('mock stopped'); // --quiet
  });
});
