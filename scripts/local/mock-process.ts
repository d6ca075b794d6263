// The project's mock provider (mock/main.ts) as a managed process on loopback, for tests and
// callers that want it out of process. It prints `mock listening on <url>` once ready.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProcess, type ManagedProcess } from './process.ts';

export type MockProcessHandle = {
  /** Base URL without /v1, e.g. http://127.0.0.1:41234. */
  url: string;
  pid: number;
  process: ManagedProcess;
  stop(): Promise<void>;
};

export const MOCK_MAIN = fileURLToPath(new URL('../../mock/main.ts', import.meta.url));

export async function startMockProcess(opts: { logFile: string; port?: number; extraArgs?: string[]; readyTimeoutMs?: number }): Promise<MockProcessHandle> {
  const from = existsSync(opts.logFile) ? statSync(opts.logFile).size : 0; // the log may hold earlier runs
  const proc = await startProcess({
    name: 'mock provider',
    command: process.execPath, // the node running us (Node 24 strips types)
    args: [MOCK_MAIN, '--port', String(opts.port ?? 0), '--quiet', ...(opts.extraArgs ?? [])],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_NO_WARNINGS: '1' },
    logFile: opts.logFile,
  });
  let url = '';
  try {
    await proc.waitUntil({
      what: `its "mock listening on" line in ${opts.logFile}`,
      timeoutMs: opts.readyTimeoutMs ?? 30_000,
      intervalMs: 100,
      probe: async () => {
        const m = /mock listening on (http:\/\/\S+)/.exec(readFileSync(opts.logFile).subarray(from).toString('utf8'));
        if (!m?.[1]) return false;
        url = m[1].replace(/\/+$/, '');
        return true;
      },
    });
  } catch (err) {
    await proc.stop(2_000).catch(() => {});
    throw err;
  }
  return { url, pid: proc.pid, process: proc, stop: () => proc.stop(5_000) };
}
