// Results per feature: the checks of a run grouped by the feature each proves, beside the
// profile's claims, in report.json and in conformance.yaml (in the spirit of Gateway API's
// conformance reports: what the chart claims, what held, what was not claimed and why).
import { stringify } from 'yaml';
import { FEATURE_IDS, FEATURE_SUITE, FEATURES, claimedFeaturesOf, type FeatureClaims, type FeatureId } from '../profiles/features.ts';
import type { SuiteName } from '../profiles/types.ts';
import { type RunReport, type Verdict, suiteVerdict } from './model.ts';

export interface FeatureResult {
  id: FeatureId;
  description: string;
  claimed: boolean;
  /** Why the profile does not claim it (unclaimed features only). */
  reason?: string;
  /**
   * From its checks as any suite's verdict is; `not-run`: claimed, but its suite was not selected
   * (`--suites`), so nothing about it was proven.
   */
  result: Verdict | 'not-run';
  checks: { id: string; verdict: Verdict }[];
}

/** A suite's own failure (`<suite>.setup`, `<suite>.run`) counts against every claimed feature of it. */
function suiteLevel(id: string): SuiteName | undefined {
  const m = /^(health|keys|ratelimit|metrics|netpol)\.(setup|run)$/.exec(id);
  return m ? (m[1] as SuiteName) : undefined;
}

export function featureResults(report: RunReport, claims: FeatureClaims, suitesRun: readonly SuiteName[]): FeatureResult[] {
  return FEATURE_IDS.map((id): FeatureResult => {
    const claim = claims[id];
    const base = { id, description: FEATURES[id] };
    if (claim !== 'claimed') return { ...base, claimed: false, reason: claim.unclaimed, result: 'not-applicable', checks: [] };
    const suite = FEATURE_SUITE[id];
    const proving = report.suites
      .filter((s) => s.suite === suite)
      .flatMap((s) => s.checks)
      .filter((c) => suiteLevel(c.id) === suite || claimedFeaturesOf(c.id, claims).includes(id));
    const checks = proving.map((c) => ({ id: c.id, verdict: c.verdict }));
    // a claimed feature of a suite that ran proves nothing without a check: suiteVerdict fails it
    const result = proving.length || suitesRun.includes(suite) ? suiteVerdict(proving) : 'not-run';
    return { ...base, claimed: true, result, checks };
  });
}

/** conformance.yaml: the run's identity, then claimed features with their results and checks, then the unclaimed with reasons. */
export function renderConformance(report: RunReport): string {
  const features = report.features ?? [];
  const claimed = Object.fromEntries(
    features.filter((f) => f.claimed).map((f) => [f.id, { result: f.result, checks: Object.fromEntries(f.checks.map((c) => [c.id, c.verdict])) }]),
  );
  const unclaimed = Object.fromEntries(features.filter((f) => !f.claimed).map((f) => [f.id, f.reason ?? '']));
  return stringify({
    chart: report.chart,
    source: report.provenance?.chart ?? report.chartTitle,
    images: report.provenance?.images,
    profile: report.chart,
    outcome: report.outcome,
    ...(report.profileFindings?.length ? { profileFindings: report.profileFindings } : {}),
    date: report.startedAt.slice(0, 10),
    features: { claimed, unclaimed },
  });
}
