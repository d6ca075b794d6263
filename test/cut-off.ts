// llm-proxy v0.1.3 now and then cuts off a streamed answer (its profile's knownDefects). The
// harness's own tests of llm-proxy set such a failure aside only on evidence: every cause of the
// failed check is `no-answer`, and for each one the mock's journal shows the gateway aborting the
// answer the provider was still sending (`providerOutcome: aborted`). Any other failure counts,
// including a wrong count among the answered requests of the same burst (a separate check).
import type { CheckResult, SuiteResult } from '../scripts/report/model.ts';

/** Whether this failed check is a cut-off proven by the provider's side, and nothing else. */
export function isCutOff(check: Pick<CheckResult, 'verdict' | 'causes'> | undefined): boolean {
  const causes = check?.causes ?? [];
  return check?.verdict === 'fail' && causes.length > 0 && causes.every((c) => c.kind === 'no-answer' && c.evidence?.['providerOutcome'] === 'aborted');
}

/** `suite: check id` for every failed check that is not such a cut-off. */
export function failuresBesidesCutOffs(suites: SuiteResult[]): string[] {
  return suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail' && !isCutOff(c)).map((c) => `${s.suite}: ${c.id}`));
}

/** The suites whose verdict a cut-off answer turned to fail. */
export function suitesWithCutOffs(suites: SuiteResult[]): string[] {
  return suites.filter((s) => s.checks.some((c) => isCutOff(c))).map((s) => s.suite);
}
