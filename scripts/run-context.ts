// The run's spine: phases with durations (printed as they happen, kept for the report) and one
// cleanup stack that unwinds in reverse on success, failure and signals.
import { mask } from './secrets.ts';

export interface PhaseRecord {
  name: string;
  startedAt: string;
  durationMs: number;
  status: 'ok' | 'failed';
  error?: string;
}

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

export const consoleLogger: Logger = {
  info: (line) => process.stderr.write(`${mask(line)}\n`),
  warn: (line) => process.stderr.write(`warning: ${mask(line)}\n`),
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${Math.round(s % 60)
    .toString()
    .padStart(2, '0')}s`;
}

interface CleanupStep {
  label: string;
  undo: () => Promise<void> | void;
}

export class RunContext {
  readonly phases: PhaseRecord[] = [];
  readonly log: Logger;
  private readonly cleanups: CleanupStep[] = [];
  private readonly abort = new AbortController();
  private unwinding: Promise<void> | undefined;
  /** Errors a phase already printed: the phases around it only point back at them. */
  private readonly reported = new WeakSet<object>();
  /** Set by the run once the verdict is known; cleanup steps read it (--keep on-failure). */
  failed = false;

  constructor(log: Logger = consoleLogger) {
    this.log = log;
  }

  /** Aborted when the user interrupts the run; long waits should listen to it. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  interrupt(reason: string): void {
    if (!this.abort.signal.aborted) this.abort.abort(new Error(reason));
  }

  /** Whether the user stopped the run (SIGINT/SIGTERM): then nothing is kept unless --keep always. */
  get interrupted(): boolean {
    return this.abort.signal.aborted;
  }

  /** How the run ended, as far as is known now: what the cleanup steps decide --keep on. */
  get end(): { failed: boolean; interrupted: boolean } {
    return { failed: this.failed, interrupted: this.interrupted };
  }

  /** Runs one named phase, printing its start and its duration; failures are recorded and rethrown. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.signal.throwIfAborted();
    const started = Date.now();
    this.log.info(`▶ ${name}`);
    const record: PhaseRecord = { name, startedAt: new Date(started).toISOString(), durationMs: 0, status: 'ok' };
    this.phases.push(record);
    try {
      const value = await fn();
      record.durationMs = Date.now() - started;
      this.log.info(`✔ ${name} (${formatDuration(record.durationMs)})`);
      return value;
    } catch (err) {
      record.durationMs = Date.now() - started;
      record.status = 'failed';
      record.error = mask(err instanceof Error ? err.message : String(err));
      const seen = typeof err === 'object' && err !== null && this.reported.has(err);
      this.log.info(`✘ ${name} failed after ${formatDuration(record.durationMs)}${seen ? ' (cause above)' : `: ${record.error}`}`);
      if (typeof err === 'object' && err !== null) this.reported.add(err);
      throw err;
    }
  }

  /**
   * Registers the undo of something just created. Something created after the cleanup has run (a
   * step of an interrupted run that did not stop in time) is undone at once.
   */
  defer(label: string, undo: () => Promise<void> | void): void {
    this.cleanups.push({ label, undo });
    if (this.drained) void this.drain();
  }

  private drained = false;

  private async drain(): Promise<void> {
    while (this.cleanups.length > 0) {
      const step = this.cleanups.pop()!;
      try {
        await step.undo();
      } catch (err) {
        this.log.warn(`cleanup "${step.label}" failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  /** Unwinds the cleanup stack once, in reverse; a failing step is reported and the rest still run. */
  cleanup(): Promise<void> {
    this.unwinding ??= this.drain().finally(() => {
      this.drained = true;
    });
    return this.unwinding;
  }

  get pendingCleanups(): string[] {
    return this.cleanups.map((c) => c.label);
  }
}
