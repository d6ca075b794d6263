import type { SuiteName } from '../profiles/types.ts';
import type { PhaseRecord } from '../run-context.ts';

/**
 * pass: every check ran and held. fail: a check ran and did not hold (blocks a release).
 * not-applicable: the chart does not promise the behaviour. environment: the machine could not
 * exercise it (named reason); neither of the last two is ever shown as a pass.
 */
export type Verdict = 'pass' | 'fail' | 'not-applicable' | 'environment';

export interface CheckResult {
  name: string;
  verdict: Verdict;
  durationMs: number;
  /** Failure message, or the reason for not-applicable / environment. */
  message?: string;
}

/** One cell of the NetworkPolicy matrix, as probed. */
export interface NetpolCell {
  from: string;
  to: string;
  expected: 'allowed' | 'denied';
  observed: 'allowed' | 'denied' | 'inconsistent';
  reproduce: string;
}

/** One request of the rate-limit burst. */
export interface BurstShot {
  index: number;
  status: number;
  stream: boolean;
  atMs: number;
  endpoint: string;
}

/** Evidence a suite hands to the report (through vitest task meta). */
export interface SuiteEvidence {
  netpolMatrix?: NetpolCell[];
  rateLimitBurst?: BurstShot[];
}

export interface SuiteResult {
  suite: SuiteName;
  verdict: Verdict;
  reason?: string;
  durationMs: number;
  checks: CheckResult[];
  evidence?: SuiteEvidence;
}

export interface RunReport {
  chart: string;
  chartTitle: string;
  target: string;
  startedAt: string;
  durationMs: number;
  phases: PhaseRecord[];
  suites: SuiteResult[];
  /** Versions, commits and digests that identify what was tested. */
  fingerprint: Record<string, string>;
  knownDefects: string[];
  /** A failure outside the suites (provisioning, install), which fails the run. */
  error?: string;
  /** Relative path of the diagnostics bundle inside the report directory. */
  diagnostics?: string;
  /** What changed under the run and likely explains a failure (a pod replaced, a tunnel that broke). */
  findings?: string[];
}

/** The suite verdict from its checks: any fail fails; all environment/na bubble up; else pass. */
export function suiteVerdict(checks: CheckResult[]): Verdict {
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.length > 0 && checks.every((c) => c.verdict === 'not-applicable')) return 'not-applicable';
  if (checks.some((c) => c.verdict === 'pass')) return 'pass';
  if (checks.some((c) => c.verdict === 'environment')) return 'environment';
  return 'fail'; // a suite that ran no check proves nothing
}

export function runFailed(report: RunReport): boolean {
  return report.error !== undefined || report.suites.some((s) => s.verdict === 'fail');
}

export function hasEnvironmentGaps(report: RunReport): boolean {
  return report.suites.some((s) => s.verdict === 'environment' || s.checks.some((c) => c.verdict === 'environment'));
}

export const VERDICT_LABEL: Record<Verdict, string> = {
  pass: 'pass',
  fail: 'FAIL',
  'not-applicable': 'not applicable',
  environment: 'environment',
};
