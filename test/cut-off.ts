// llm-proxy v0.1.3 now and then cuts off a streamed answer (its profile's knownDefects). A check
// that failed for that reason says so: CONNECTION_CLOSED is in its message. The harness's own tests
// of llm-proxy set exactly those failures aside, so they stay deterministic; any other failure counts.
import type { SuiteResult } from '../scripts/report/model.ts';
import { CONNECTION_CLOSED } from '../suites/lib/http.ts';

export const isCutOff = (message: string | undefined): boolean => (message ?? '').includes(CONNECTION_CLOSED);

/** `suite: check` for every failed check that does not name a cut-off answer. */
export function failuresBesidesCutOffs(suites: SuiteResult[]): string[] {
  return suites.flatMap((s) => s.checks.filter((c) => c.verdict === 'fail' && !isCutOff(c.message)).map((c) => `${s.suite}: ${c.name}`));
}

/** The suites whose verdict a cut-off answer turned to fail. */
export function suitesWithCutOffs(suites: SuiteResult[]): string[] {
  return suites.filter((s) => s.checks.some((c) => c.verdict === 'fail' && isCutOff(c.message))).map((s) => s.suite);
}
