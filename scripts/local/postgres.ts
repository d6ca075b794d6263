// A throwaway PostgreSQL server (Debian's postgresql package) on a free loopback port, in a
// temp dir that stop() removes. PostgreSQL refuses to run as root: when we are root, initdb and
// postgres run as the `postgres` user (created by the Debian package), else as `nobody`.
import { chownSync, mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { getFreePort, startProcess, type ManagedProcess } from './process.ts';
import { postgresBinDir, requireComponent } from './paths.ts';

export type PostgresOptions = {
  port?: number;
  /** Database created after start (default "litellm"). */
  database?: string;
  /** Default: <tmpdir>/postgres.log. */
  logFile?: string;
  readyTimeoutMs?: number;
};

export type PostgresHandle = {
  /** postgresql://postgres@127.0.0.1:<port>/<database> (trust auth on loopback only). */
  url: string;
  port: number;
  database: string;
  dir: string;
  pid: number;
  process: ManagedProcess;
  /** Stops the server and keeps its data (clients see it go away), until resume(). */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port with the same data; resolves once it answers. */
  resume(): Promise<void>;
  stop(): Promise<void>;
};

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[2] && f[3]) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

/** The identity to run Postgres as: ourselves unless root, then `postgres` (or `nobody`). */
export function postgresIdentity(): { uid: number; gid: number; user: string } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    const id = lookupUser(user);
    if (id) return { ...id, user };
  }
  throw new Error('running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as');
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<PostgresHandle> {
  requireComponent('postgres');
  const bin = postgresBinDir()!;
  const port = opts.port ?? (await getFreePort());
  const database = opts.database ?? 'litellm';
  const dir = mkdtempSync(join(tmpdir(), 'gateway-smoke-pg-'));
  const who = postgresIdentity();
  const data = join(dir, 'data');
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (who) {
    chownSync(dir, who.uid, who.gid);
    chownSync(sock, who.uid, who.gid);
  }
  const logFile = opts.logFile ?? join(dir, 'postgres.log');
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const init = await execa(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'], {
      uid: who?.uid,
      gid: who?.gid,
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C' },
      extendEnv: false,
      reject: false,
      all: true,
    });
    if (init.exitCode !== 0) throw new Error(`initdb failed (exit ${init.exitCode}):\n${String(init.all ?? '').slice(-3000)}`);
  } catch (err) {
    cleanup();
    throw err;
  }
  const launch = () =>
    startProcess({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args: [
        '-D', data,
        '-c', 'listen_addresses=127.0.0.1',
        '-c', `port=${port}`,
        '-c', `unix_socket_directories=${sock}`,
        '-c', 'fsync=off',
        '-c', 'synchronous_commit=off',
        '-c', 'full_page_writes=off',
        '-c', 'max_connections=100',
      ],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', TZ: 'UTC' },
      cwd: dir,
      logFile,
      uid: who?.uid,
      gid: who?.gid,
    });
  let proc: ManagedProcess;
  try {
    proc = await launch();
  } catch (err) {
    cleanup();
    throw err;
  }
  const isReady = async (): Promise<true | string> => {
    const r = await execa(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres'], { reject: false, all: true });
    return r.exitCode === 0 ? true : String(r.all ?? `pg_isready exit ${r.exitCode}`).trim();
  };
  try {
    await proc.waitUntil({ what: `127.0.0.1:${port} (pg_isready)`, probe: isReady, timeoutMs: opts.readyTimeoutMs ?? 60_000 });
    const create = await execa(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE "${database.replace(/"/g, '')}"`], {
      reject: false,
      all: true,
      env: { PGCONNECT_TIMEOUT: '10' },
    });
    if (create.exitCode !== 0) throw new Error(`CREATE DATABASE ${database} failed: ${String(create.all ?? '').trim()}`);
  } catch (err) {
    await proc.stop(2_000).catch(() => {});
    cleanup();
    throw err;
  }
  // SIGTERM = "smart" shutdown waits for clients; SIGINT = "fast" (what we want for a throwaway DB)
  const halt = async () => {
    proc.killGroupSync('SIGINT');
    await proc.stop(10_000);
  };
  const handle: PostgresHandle = {
    url: `postgresql://postgres@127.0.0.1:${port}/${database}`,
    port,
    database,
    dir,
    pid: proc.pid,
    process: proc,
    pause: halt,
    resume: async () => {
      if (!proc.exited) return;
      proc = await launch();
      handle.process = proc;
      handle.pid = proc.pid;
      await proc.waitUntil({ what: `127.0.0.1:${port} (pg_isready)`, probe: isReady, timeoutMs: opts.readyTimeoutMs ?? 60_000 });
    },
    stop: async () => {
      try {
        await halt();
      } finally {
        cleanup();
      }
    },
  };
  return handle;
}
