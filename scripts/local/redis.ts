// A throwaway Redis server (Debian's redis-server) on a free loopback port, no persistence,
// working dir in a temp dir that stop() removes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFreePort, startProcess, tcpExchange, type ManagedProcess } from './process.ts';
import { requireComponent } from './paths.ts';

export type RedisOptions = {
  port?: number;
  /** requirepass (optional). */
  password?: string;
  /** Default: <tmpdir>/redis.log. */
  logFile?: string;
  readyTimeoutMs?: number;
};

export type RedisHandle = {
  /** redis://[:password@]127.0.0.1:<port> */
  url: string;
  host: string;
  port: number;
  dir: string;
  pid: number;
  process: ManagedProcess;
  stop(): Promise<void>;
};

export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const bin = requireComponent('redis');
  const port = opts.port ?? (await getFreePort());
  const dir = mkdtempSync(join(tmpdir(), 'gateway-smoke-redis-'));
  const args = [
    '--bind', '127.0.0.1',
    '--port', String(port),
    '--protected-mode', 'yes',
    '--daemonize', 'no',
    '--dir', dir,
    '--save', '',
    '--appendonly', 'no',
    '--logfile', '', // stdout -> our log file
  ];
  if (opts.password) args.push('--requirepass', opts.password);
  let proc: ManagedProcess;
  try {
    proc = await startProcess({
      name: 'redis',
      command: bin,
      args,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      redact: opts.password ? [opts.password] : [],
      cwd: dir,
      logFile: opts.logFile ?? join(dir, 'redis.log'),
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const ping = opts.password ? `AUTH ${opts.password}\r\nPING\r\n` : 'PING\r\n';
  try {
    await proc.waitUntil({
      what: `127.0.0.1:${port} (PING)`,
      timeoutMs: opts.readyTimeoutMs ?? 30_000,
      probe: async () => {
        const answer = await tcpExchange('127.0.0.1', port, ping, '+PONG').catch((e: Error) => e.message);
        return answer.includes('+PONG') ? true : `answered ${JSON.stringify(answer.slice(0, 80))}`;
      },
    });
  } catch (err) {
    await proc.stop(2_000).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const auth = opts.password ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    dir,
    pid: proc.pid,
    process: proc,
    stop: async () => {
      try {
        await proc.stop(5_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
