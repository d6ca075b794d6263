// Runs a flat list of named provisioning steps: each starts as soon as every step it needs has
// finished, so steps that do not depend on each other run at the same time. Each step's start and
// end (with its duration) is logged; the phases a step opens inside (`ctx.phase`) are what the
// report's timings show, as before. The first failure stops what has not started and is rethrown
// once the steps already running have settled (nothing is created behind the cleanup's back).

export interface Step<S> {
  name: string;
  /** Names of the steps whose results this one reads. */
  needs: readonly string[];
  /** Whether this run has the step at all (e.g. Redis only for a profile that installs it); default yes. */
  when?: (s: S) => boolean;
  run(s: S): Promise<void>;
}

export interface StepLog {
  info(line: string): void;
}

/** Checks the list (unique names, known needs, no cycle): a mistake here is the harness's, found before anything runs. */
export function checkSteps<S>(steps: readonly Step<S>[]): void {
  const names = new Set<string>();
  for (const s of steps) {
    if (names.has(s.name)) throw new Error(`provisioning step ${s.name} is listed twice`);
    names.add(s.name);
  }
  for (const s of steps) for (const n of s.needs) if (!names.has(n)) throw new Error(`provisioning step ${s.name} needs ${n}, which is not in the list`);
  // a step may only need steps listed before it: that makes a cycle impossible and the list readable top-down
  const seen = new Set<string>();
  for (const s of steps) {
    for (const n of s.needs) if (!seen.has(n)) throw new Error(`provisioning step ${s.name} needs ${n}, which is listed after it`);
    seen.add(s.name);
  }
}

export async function runSteps<S>(steps: readonly Step<S>[], state: S, o: { log: StepLog; signal?: AbortSignal }): Promise<void> {
  checkSteps(steps);
  const t0 = Date.now();
  const done = new Map<string, Promise<void>>();
  let failed: unknown;
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  for (const step of steps) {
    const after = Promise.all(step.needs.map((n) => done.get(n)!));
    done.set(
      step.name,
      after.then(async () => {
        if (failed !== undefined) throw failed;
        o.signal?.throwIfAborted();
        if (step.when && !step.when(state)) return;
        const started = Date.now();
        o.log.info(`· step ${step.name} started at +${secs(started - t0)}`);
        try {
          await step.run(state);
        } catch (err) {
          failed ??= err;
          o.log.info(`· step ${step.name} failed after ${secs(Date.now() - started)}`);
          throw err;
        }
        o.log.info(`· step ${step.name} done in ${secs(Date.now() - started)}`);
      }),
    );
  }
  const results = await Promise.allSettled(done.values());
  if (failed !== undefined) throw failed;
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
