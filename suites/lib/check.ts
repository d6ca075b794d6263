// How a suite declares a check: a stable id from the catalogue (scripts/report/check-ids.ts), the
// title people read, and the body. The id travels in the test's meta, set when the test is declared,
// so even a check that never ran (its suite's setup failed) is reported under its id.
import { type TestContext, test } from 'vitest';
import { CHECK_FEATURES, type FeatureClaims } from '../../scripts/profiles/features.ts';
import type { Cause, CauseKind, CheckId } from '../../scripts/report/check-ids.ts';
import { notApplicableNote, suiteContext } from './context.ts';

declare module 'vitest' {
  export interface TaskMeta {
    /** The check's stable id; read by scripts/suite-runner.ts. */
    checkId?: string;
    /** Why the check failed, recorded by the body before its assertion; read by scripts/suite-runner.ts. */
    causes?: Cause[];
  }
}

/**
 * Why the check does not apply to this chart: none of the features it proves is claimed by the
 * profile (the reasons are the profile's own). Undefined when it applies.
 */
export function unclaimedReason(id: CheckId, claims: FeatureClaims): string | undefined {
  const reasons = CHECK_FEATURES[id].map((f) => claims[f]);
  if (reasons.includes('claimed')) return undefined;
  return [...new Set(reasons.map((c) => (c === 'claimed' ? '' : c.unclaimed)))].join('; ');
}

/** Declares a check; it runs only when the profile claims a feature it proves (decided here, for every suite). */
export function check(id: CheckId, title: string, body: (ctx: TestContext) => unknown, timeoutMs?: number): void {
  test(title, { meta: { checkId: id }, ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }) }, async (ctx) => {
    const unclaimed = unclaimedReason(id, suiteContext().features);
    if (unclaimed) return ctx.skip(notApplicableNote(unclaimed));
    await body(ctx);
  });
}

/**
 * Records a cause of this check's failure with its evidence. Call it where the failure is decided
 * (before the assertion that fails), so the report says why in data, not only in the message.
 */
export function cause(ctx: TestContext, kind: CauseKind, detail: string, evidence?: Record<string, unknown>): void {
  (ctx.task.meta.causes ??= []).push({ kind, detail, ...(evidence ? { evidence } : {}) });
}
