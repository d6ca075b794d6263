// The one poll-until-done loop of the project. `fn` is tried at once, then every `intervalMs`: a
// value ends the wait, a thrown error means "not yet" (its message is the last attempt's reason), a
// thrown Fatal ends it at once with its cause (an image that cannot be pulled will not be pulled by
// waiting). Past `timeoutMs` the wait fails naming what it waited for and why the last attempt failed.
import { setTimeout as sleep } from 'node:timers/promises';

/** Thrown by an attempt when waiting cannot help: retry() rethrows `cause` at once. */
export class Fatal extends Error {
  declare readonly cause: Error;
  constructor(cause: Error) {
    super(cause.message, { cause });
  }
}

/** Wraps an error as fatal (`throw fatal(err)`). */
export function fatal(cause: Error | string): Fatal {
  return new Fatal(typeof cause === 'string' ? new Error(cause) : cause);
}

export class RetryTimeout extends Error {
  readonly what: string;
  /** The last attempt's error. */
  readonly last: unknown;
  constructor(what: string, timeoutMs: number, last: unknown) {
    super(`${what}: not done after ${seconds(timeoutMs)}: ${reason(last)}`);
    this.what = what;
    this.last = last;
  }
}

export interface RetryOptions {
  timeoutMs: number;
  intervalMs: number;
  /** Ends the wait with the signal's reason (Ctrl-C, a watcher that saw a terminal state). */
  signal?: AbortSignal;
  /** The error to throw on timeout instead of RetryTimeout (e.g. one that explains from the cluster). */
  onTimeout?: (last: unknown) => Error | Promise<Error>;
}

export async function retry<T>(what: string, opts: RetryOptions, fn: (attempt: number) => Promise<T> | T): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (let attempt = 1; ; attempt++) {
    opts.signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (err) {
      if (err instanceof Fatal) throw err.cause;
      opts.signal?.throwIfAborted();
      last = err;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw opts.onTimeout ? await opts.onTimeout(last) : new RetryTimeout(what, opts.timeoutMs, last);
    await sleep(Math.min(opts.intervalMs, left), undefined, opts.signal ? { signal: opts.signal } : {}).catch((err: unknown) => {
      opts.signal?.throwIfAborted(); // the signal's own reason, not a generic AbortError
      throw err;
    });
  }
}

/** An attempt's "not yet", for conditions read rather than thrown. */
export function notYet(why: string): Error {
  return new Error(why);
}

function reason(last: unknown): string {
  if (last instanceof Error) return last.message;
  return last === undefined ? 'no attempt finished' : String(last);
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)}s` : `${ms}ms`;
}
