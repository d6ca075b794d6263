// What every suite starts with: the target and the chart's capabilities, handed over by the
// harness through vitest's provide/inject. Suites never learn how the target was made.
import { inject } from 'vitest';
import type { SuiteEvidence } from '../../scripts/report/model.ts';
import type { SuiteContext } from '../../scripts/targets/types.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    suiteContext: SuiteContext;
  }
  export interface TaskMeta {
    /** Evidence for the report (netpol matrix, rate-limit burst); read by scripts/suite-runner.ts. */
    evidence?: SuiteEvidence;
  }
}

export function suiteContext(): SuiteContext {
  const ctx = inject('suiteContext');
  if (!ctx) {
    throw new Error(
      'No target was provided: run the suites through the harness (npm run e2e -- --chart <name>), not with vitest directly.',
    );
  }
  return ctx;
}

/** Skip notes carry their kind so the harness reports them as such, never as a pass. */
export const environmentNote = (reason: string) => `environment: ${reason}`;
export const notApplicableNote = (reason: string) => `not applicable: ${reason}`;
