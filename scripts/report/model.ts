import { ExitCode } from '../errors.ts';
import type { SuiteName } from '../profiles/types.ts';
import type { PhaseRecord } from '../run-context.ts';
import type { Cause } from './check-ids.ts';
import type { FeatureResult } from './features.ts';
import type { UpgradeEvidence } from '../upgrade/analysis.ts';

/**
 * pass: every check ran and held. fail: a check ran and did not hold (blocks a release).
 * not-applicable: the chart does not promise the behaviour. environment: the machine could not
 * exercise it (named reason); neither of the last two is ever shown as a pass. waived: the check
 * failed, and a waiver (reason, until date) accepts that for now; never shown as a pass either.
 */
export type Verdict = 'pass' | 'fail' | 'not-applicable' | 'environment' | 'waived';

export interface CheckResult {
  /** Stable id (scripts/report/check-ids.ts): what waivers match and reports print beside the title. */
  id: string;
  name: string;
  verdict: Verdict;
  durationMs: number;
  /** Failure message, or the reason for not-applicable / environment. */
  message?: string;
  /** Why it failed, as machines read it (a failure always has at least one). */
  causes?: Cause[];
}

/** One cell of the NetworkPolicy matrix, as probed. */
export interface NetpolCell {
  from: string;
  to: string;
  expected: 'allowed' | 'denied';
  /** `not-probed`: the canary showed the CNI enforces nothing, so the cell proves nothing. */
  observed: 'allowed' | 'denied' | 'inconsistent' | 'not-probed';
  reproduce: string;
}

/** One request of the rate-limit burst. */
export interface BurstShot {
  index: number;
  /** HTTP status; 0 for a request that got no answer (the connection closed under it). */
  status: number;
  stream: boolean;
  atMs: number;
  endpoint: string;
}

/** Evidence a suite hands to the report (through vitest task meta). */
export interface SuiteEvidence {
  netpolMatrix?: NetpolCell[];
  rateLimitBurst?: BurstShot[];
  /** An upgrade run's traffic and pods (suite upgrade). */
  upgrade?: UpgradeEvidence;
}

export interface SuiteResult {
  /** A behaviour suite, or `chart`: the checks of the chart as shipped (its corrected defaults). */
  suite: SuiteName | 'chart';
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
  /**
   * How the profile fits the chart that ran (scripts/profiles/chart-fit.ts): a chart version it was
   * not written for ("profile written for X, chart is Y"), value paths it sets that the chart does not know.
   */
  profileFindings?: string[];
  /** Defects of the chart the run met: worked around (the profile declares it), or read from the evidence of a failure. */
  chartFindings?: string[];
  /** Which chart and images ran (the headline says it), and what of it this run could not prove. */
  provenance?: { chart: string; chartOrigin?: string; images: string; unproven?: string[] };
  /** The verdict a release is gated on, and the exit code it gave (set once the run is judged). */
  outcome?: Outcome;
  exitCode?: number;
  /** Waivers of the --waivers file that matched no failing check (reported, never silently ignored). */
  unusedWaivers?: string[];
  /** The results per feature: the profile's claims beside the checks that prove each (also conformance.yaml). */
  features?: FeatureResult[];
}

/**
 * The suite verdict from its checks: any fail fails; a waived failure makes it `waived`; all
 * environment/na bubble up; else pass (suiteDetail says how much of it passed).
 */
export function suiteVerdict(checks: CheckResult[]): Verdict {
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.some((c) => c.verdict === 'waived')) return 'waived';
  if (checks.length > 0 && checks.every((c) => c.verdict === 'not-applicable')) return 'not-applicable';
  if (checks.some((c) => c.verdict === 'pass')) return 'pass';
  if (checks.some((c) => c.verdict === 'environment')) return 'environment';
  return 'fail'; // a suite that ran no check proves nothing
}

/** `pass (3 of 4; 1 environment)`: a verdict never hides the checks that did not pass. */
export function suiteLabel(s: SuiteResult): string {
  const label = VERDICT_LABEL[s.verdict];
  if (s.checks.length === 0) return label;
  const passed = s.checks.filter((c) => c.verdict === 'pass').length;
  const others = (['fail', 'waived', 'environment', 'not-applicable'] as const)
    .map((v) => [v, s.checks.filter((c) => c.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${n} ${VERDICT_LABEL[v]}`);
  if (others.length === 0) return `${label} (${passed} of ${s.checks.length})`;
  return `${label} (${passed} of ${s.checks.length}; ${others.join(', ')})`;
}

/** Whether a suite proved its behaviour in full (every check that applies ran and held). */
function fullyVerified(s: SuiteResult): boolean {
  return s.verdict === 'pass' && s.checks.every((c) => c.verdict === 'pass' || c.verdict === 'not-applicable');
}

/**
 * VERIFIED: everything the chart promises was proven on what the user ships (failures accepted by a
 * waiver are named, never hidden). FAILED: a check failed, or the run could not get to the checks.
 * INCOMPLETE: nothing failed, but something promised was not proven.
 */
export type Outcome = 'VERIFIED' | 'FAILED' | 'INCOMPLETE';

export function runFailed(report: RunReport): boolean {
  return report.error !== undefined || report.suites.some((s) => s.verdict === 'fail');
}

/** What keeps a run that did not fail from being VERIFIED, one phrase each; empty when nothing does. */
export function incompleteReasons(report: RunReport): string[] {
  const reasons: string[] = [];
  const behaviours = report.suites.filter((s) => s.suite !== 'chart');
  const blocked = behaviours.filter((s) => s.verdict === 'environment' || s.checks.some((c) => c.verdict === 'environment'));
  if (blocked.length) reasons.push(`blocked by the environment: ${blocked.map((s) => s.suite).join(', ')}`);
  if (behaviours.length > 0 && behaviours.every((s) => s.verdict === 'not-applicable')) reasons.push('no behaviour applied to this chart');
  if (behaviours.length === 0) reasons.push('no behaviour was run');
  for (const u of report.provenance?.unproven ?? []) reasons.push(u);
  return reasons;
}

export function outcome(report: RunReport): Outcome {
  if (runFailed(report)) return 'FAILED';
  return incompleteReasons(report).length ? 'INCOMPLETE' : 'VERIFIED';
}

/** The exit code a gate reads: 0 VERIFIED, 1 FAILED, 4 INCOMPLETE (0 when the caller accepts it). */
export function exitCodeOf(result: Outcome, acceptIncomplete: boolean): number {
  if (result === 'FAILED') return ExitCode.suiteFailed;
  if (result === 'INCOMPLETE') return acceptIncomplete ? ExitCode.ok : ExitCode.incomplete;
  return ExitCode.ok;
}

/**
 * The one line a release gate is read by, the same in every report: the outcome, how many
 * behaviours were really proven, what was not, and which chart and images ran.
 * `INCOMPLETE — 2 of 5 behaviours verified, 3 blocked by the environment; not proven: …; chart: …; images: …`.
 */
export function headline(report: RunReport): string {
  const behaviours = report.suites.filter((s) => s.suite !== 'chart');
  const n = behaviours.length;
  const count = (pred: (s: SuiteResult) => boolean) => behaviours.filter(pred).length;
  const parts = [`${count(fullyVerified)} of ${n} behaviours verified`];
  const partly = count((s) => s.verdict === 'pass' && !fullyVerified(s));
  if (partly) parts.push(`${partly} only partly`);
  const failing = count((s) => s.verdict === 'fail');
  if (failing) parts.push(`${failing} failed`);
  const waived = count((s) => s.verdict === 'waived');
  if (waived) parts.push(`${waived} failing under a waiver`);
  const blocked = count((s) => s.verdict === 'environment');
  if (blocked) parts.push(`${blocked} blocked by the environment`);
  const na = count((s) => s.verdict === 'not-applicable');
  if (na) parts.push(`${na} not applicable`);
  const chartChecks = report.suites.filter((s) => s.suite === 'chart').flatMap((s) => s.checks);
  const defects = chartChecks.filter((c) => c.verdict === 'fail').length;
  if (defects) parts.push(`the chart as shipped fails ${defects} check${defects > 1 ? 's' : ''} (corrected to test the rest)`);
  const waivedDefects = chartChecks.filter((c) => c.verdict === 'waived').length;
  if (waivedDefects) parts.push(`${waivedDefects} chart correction${waivedDefects > 1 ? 's' : ''} accepted by a waiver`);
  const result = report.outcome ?? outcome(report);
  const what = report.error && n === 0 ? 'setup failed before any behaviour ran' : parts.join(', ');
  const gaps = result === 'INCOMPLETE' ? `; not proven: ${incompleteReasons(report).join('; ')}` : '';
  const where = report.provenance ? `; chart: ${report.provenance.chart}; images: ${report.provenance.images}` : '';
  return `${result} — ${what}${gaps}${where}`;
}

export const VERDICT_LABEL: Record<Verdict, string> = {
  pass: 'pass',
  fail: 'FAIL',
  'not-applicable': 'not applicable',
  environment: 'environment',
  waived: 'waived',
};
