// Managed child processes for the local target: start a real program (llm-proxy, LiteLLM,
// Postgres, Redis, the mock) in its own process group with its output in a log file, wait until
// it answers, and stop it together with everything it spawned (uvicorn workers, prisma, ...).
//
// Secrets: values of the env vars named in `secretEnv` (and any extra `redact` strings) are
// replaced by "***" in every error message and log tail this module produces. Env values are
// never printed.
import { closeSync, openSync, readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { request } from 'undici';
import { fatal, notYet, retry } from '../retry.ts';

export type StartOptions = {
  /** Human name used in messages, e.g. "llm-proxy". */
  name: string;
  command: string;
  args?: string[];
  /** The child's whole environment (nothing is inherited unless `inheritEnv`). */
  env?: Record<string, string | undefined>;
  /** Also pass the parent's environment (under `env`). Default false: a gateway sees only what we set. */
  inheritEnv?: boolean;
  /** Names of env vars whose values must never appear in messages (master keys, tokens). */
  secretEnv?: string[];
  /** Further strings to redact from messages. */
  redact?: string[];
  cwd?: string;
  /** stdout and stderr are appended here (directories are created). */
  logFile: string;
  /** Run as this user/group (e.g. Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
};

export type ReadyProbe = {
  /** Shown in messages: "waiting up to 60s for <name> at <what>". */
  what: string;
  /** Resolves true when ready; false or a string (the last answer, shown on timeout) when not yet. */
  probe: () => Promise<true | false | string>;
  timeoutMs?: number;
  intervalMs?: number;
};

export type HttpReady = {
  url: string;
  timeoutMs?: number;
  intervalMs?: number;
  headers?: Record<string, string>;
  /** Default: any 2xx. */
  ok?: (status: number, body: string) => boolean;
};

const DEFAULT_READY_MS = 60_000;
const LOG_TAIL_LINES = 30;

/** Every process started here and not yet stopped; killed on exit as a last resort. */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort when the harness exits without calling stop() (crash, process.exit).
  process.on('exit', () => {
    for (const p of live) p.killGroupSync('SIGKILL');
  });
  // Our children lead their own process groups, so a terminal's Ctrl-C does not reach them. When
  // nobody else handles the signal (the CLI should: orderly stopAll()), SIGTERM the groups and
  // then die of the signal as Node would have.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      if (process.listenerCount(sig) > 1) return; // someone else does an orderly shutdown
      for (const p of live) p.killGroupSync('SIGTERM');
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

/** What ManagedProcess needs of an execa subprocess (started with reject: false). */
type Subprocess = PromiseLike<{ exitCode?: number; signal?: string; failed?: boolean; shortMessage?: string; message?: string }> & {
  pid?: number;
};

export class ProcessError extends Error {
  readonly logTail: string;
  constructor(message: string, logTail: string) {
    super(logTail ? `${message}\n--- last ${LOG_TAIL_LINES} lines of the log ---\n${logTail}` : message);
    this.name = 'ProcessError';
    this.logTail = logTail;
  }
}

export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** The process group id (== pid: the child is the leader of a new group). */
  readonly pgid: number;
  readonly logFile: string;
  readonly command: string;
  exitCode: number | null = null;
  exitSignal: string | null = null;
  exited = false;
  readonly exitPromise: Promise<void>;
  private readonly secrets: string[];
  private stopping: Promise<void> | undefined;

  constructor(name: string, command: string, sub: Subprocess, logFile: string, secrets: string[]) {
    if (sub.pid === undefined) throw new Error(`${name}: spawn failed (no pid) for ${command}`);
    this.name = name;
    this.command = command;
    this.pid = sub.pid;
    this.pgid = sub.pid;
    this.logFile = logFile;
    this.secrets = secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
    this.exitPromise = (async () => {
      const r = await sub; // reject: false -> always resolves
      this.exited = true;
      this.exitCode = typeof r.exitCode === 'number' ? r.exitCode : null;
      this.exitSignal = r.signal ?? null;
    })();
  }

  /** Replaces secret values with ***. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  /** The last `n` lines of the log, secrets redacted. */
  tailLog(n = LOG_TAIL_LINES): string {
    let text = '';
    try {
      text = readFileSync(this.logFile, 'utf8');
    } catch {
      return '(no log yet)';
    }
    const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return this.redact(lines.slice(-n).join('\n'));
  }

  describeExit(): string {
    return this.exitSignal ? `was killed by ${this.exitSignal}` : `exited with code ${this.exitCode}`;
  }

  /** Live (non-zombie) members of the process group. Linux: /proc; elsewhere: kill(-pgid, 0). */
  groupMembers(): number[] {
    try {
      const out: number[] = [];
      for (const ent of readdirSync('/proc')) {
        if (!/^\d+$/.test(ent)) continue;
        let stat: string;
        try {
          stat = readFileSync(`/proc/${ent}/stat`, 'utf8');
        } catch {
          continue;
        }
        // pid (comm) state ppid pgrp ...   comm may contain spaces/parens: split after the last ')'
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const state = rest[0];
        const pgrp = Number(rest[2]);
        if (pgrp === this.pgid && state !== 'Z' && state !== 'X') out.push(Number(ent));
      }
      return out;
    } catch {
      try {
        process.kill(-this.pgid, 0);
        return [this.pgid];
      } catch {
        return [];
      }
    }
  }

  killGroupSync(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pgid, signal);
    } catch {
      /* already gone */
    }
  }

  /**
   * SIGTERM to the whole process group, then SIGKILL after `graceMs`; resolves once the leader
   * has exited and no live member of the group is left. Idempotent.
   */
  stop(graceMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.killGroupSync('SIGTERM');
      const gone = () => {
        if (!this.exited || this.groupMembers().length > 0) throw notYet('group still alive');
      };
      const settled = await retry(`${this.name} to exit`, { timeoutMs: graceMs, intervalMs: 100 }, gone).then(() => true, () => false);
      if (!settled) {
        this.killGroupSync('SIGKILL');
        await retry(`${this.name} to exit after SIGKILL`, { timeoutMs: 5_000, intervalMs: 50 }, gone).catch(() => undefined);
      }
      await Promise.race([this.exitPromise, sleep(2_000)]);
      live.delete(this);
      const left = this.groupMembers();
      if (left.length > 0) throw new Error(`${this.name}: processes ${left.join(', ')} of group ${this.pgid} survived SIGKILL`);
    })();
    return this.stopping;
  }

  /**
   * Polls `probe` until it says ready. Throws (with the log tail) when the deadline passes or
   * when the process exits first.
   */
  async waitUntil(ready: ReadyProbe): Promise<void> {
    const timeoutMs = ready.timeoutMs ?? DEFAULT_READY_MS;
    const interval = ready.intervalMs ?? 250;
    const waiting = `waiting up to ${Math.round(timeoutMs / 1000)}s for ${this.name} at ${ready.what}`;
    const exitedFirst = () => new ProcessError(`${this.name} ${this.describeExit()} before it was ready (${waiting}; log: ${this.logFile})`, this.tailLog());
    // an exit mid-pause ends the wait at once, with the log tail
    const exited = new AbortController();
    void this.exitPromise.then(() => exited.abort(exitedFirst()));
    let last = 'no answer yet';
    const timedOut = () => new ProcessError(`${this.name} was not ready in time: ${waiting}; last answer: ${this.redact(last)} (log: ${this.logFile})`, this.tailLog());
    await retry(ready.what, { timeoutMs, intervalMs: interval, signal: exited.signal, onTimeout: timedOut }, async () => {
      if (this.exited) throw fatal(exitedFirst());
      let r: boolean | string;
      try {
        r = await ready.probe();
      } catch (err) {
        r = errText(err);
      }
      if (r === true) return;
      if (typeof r === 'string') last = r;
      throw notYet(last);
    });
  }

  /** waitUntil for an HTTP URL answering 2xx (or `ok`). */
  waitForHttp(ready: HttpReady): Promise<void> {
    return this.waitUntil({
      what: ready.url,
      timeoutMs: ready.timeoutMs,
      intervalMs: ready.intervalMs,
      probe: async () => {
        const res = await request(ready.url, {
          method: 'GET',
          headers: ready.headers,
          headersTimeout: 5_000,
          bodyTimeout: 5_000,
        });
        const body = await res.body.text();
        const ok = ready.ok ? ready.ok(res.statusCode, body) : res.statusCode >= 200 && res.statusCode < 300;
        return ok ? true : `HTTP ${res.statusCode} ${body.slice(0, 200)}`;
      },
    });
  }
}

function errText(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    return e.cause?.code ?? e.code ?? e.cause?.message ?? e.message ?? String(err);
  }
  return String(err);
}

/** Starts `command` as the leader of a new process group, output appended to `logFile`. */
export async function startProcess(opts: StartOptions): Promise<ManagedProcess> {
  installExitHook();
  mkdirSync(dirname(opts.logFile), { recursive: true });
  // A raw descriptor is inherited by the child (output does not flow through this process, so the
  // log keeps filling even if we hang). execa's types accept only literal fd numbers, hence the cast.
  const fd = openSync(opts.logFile, 'a') as 3;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const secrets = [...(opts.secretEnv ?? []).map((n) => env[n] ?? process.env[n] ?? ''), ...(opts.redact ?? [])].filter(Boolean);
  let sub: Subprocess;
  try {
    const child = execa(opts.command, opts.args ?? [], {
      cwd: opts.cwd,
      env,
      extendEnv: opts.inheritEnv ?? false,
      stdin: 'ignore',
      stdout: fd,
      stderr: fd,
      detached: true, // own process group: stop() signals the whole tree
      cleanup: false, // our exit hook kills the group (execa's would kill only the leader)
      reject: false,
      forceKillAfterDelay: false,
      uid: opts.uid,
      gid: opts.gid,
    });
    sub = child;
  } catch (err) {
    closeSync(fd);
    throw new Error(`${opts.name}: cannot start ${opts.command}: ${errText(err)}`);
  }
  closeSync(fd); // the child has its own copy
  if (sub.pid === undefined) {
    // spawn failed (ENOENT, EACCES, bad cwd): execa resolves with the reason
    const r = await sub;
    throw new Error(`${opts.name}: cannot start ${opts.command}: ${r.shortMessage ?? r.message}`);
  }
  const p = new ManagedProcess(opts.name, opts.command, sub, opts.logFile, secrets);
  live.add(p);
  return p;
}

/** Stops every process this module started that is still running (for Ctrl-C / afterAll). */
export async function stopAll(graceMs = 10_000): Promise<void> {
  await Promise.allSettled([...live].map((p) => p.stop(graceMs)));
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Opens a TCP connection, optionally writes `send`, resolves with what came back: after the first
 * line, or once the answer contains `until` (or '' right on connect when nothing is sent).
 */
export function tcpExchange(host: string, port: number, send?: string, until?: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    let data = '';
    const done = (err?: Error) => {
      sock.destroy();
      if (err) reject(err);
      else resolve(data);
    };
    sock.setTimeout(timeoutMs, () => done(new Error(`timeout talking to ${host}:${port}`)));
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      if (send === undefined) done();
      else sock.write(send);
    });
    sock.on('data', (b) => {
      data += b.toString('utf8');
      if (until === undefined ? data.includes('\n') : data.includes(until)) done();
    });
  });
}

/** True while a pid exists and is not a zombie (for tests). */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}
