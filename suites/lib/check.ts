// How a suite declares a check: a stable id from the catalogue (scripts/report/check-ids.ts), the
// title people read, and the body. The id travels in the test's meta, set when the test is declared,
// so even a check that never ran (its suite's setup failed) is reported under its id.
import { type TestContext, test } from 'vitest';
import type { Cause, CauseKind, CheckId } from '../../scripts/report/check-ids.ts';

declare module 'vitest' {
  export interface TaskMeta {
    /** The check's stable id; read by scripts/suite-runner.ts. */
    checkId?: string;
    /** Why the check failed, recorded by the body before its assertion; read by scripts/suite-runner.ts. */
    causes?: Cause[];
  }
}

export function check(id: CheckId, title: string, body: (ctx: TestContext) => unknown, timeoutMs?: number): void {
  test(title, { meta: { checkId: id }, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) }, body as (ctx: TestContext) => Promise<void>);
}

/**
 * Records a cause of this check's failure with its evidence. Call it where the failure is decided
 * (before the assertion that fails), so the report says why in data, not only in the message.
 */
export function cause(ctx: TestContext, kind: CauseKind, detail: string, evidence?: Record<string, unknown>): void {
  (ctx.task.meta.causes ??= []).push({ kind, detail, ...(evidence ? { evidence } : {}) });
}
