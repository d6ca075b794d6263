// The release gate's outputs: the verdict (from the harness's exit code, and from report.json where
// an accepted INCOMPLETE run exited 0) and the counts of checks beside it, read from report.json.
import type { RunReport, Verdict } from '../report/model.ts';

export type GateVerdict = 'verified' | 'fail' | 'bad-input' | 'environment' | 'incomplete' | 'interrupted' | 'error';

export const VERDICT_OF_EXIT: Record<string, GateVerdict> = {
  '0': 'verified',
  '1': 'fail',
  '2': 'bad-input',
  '3': 'environment',
  '4': 'incomplete',
  '130': 'interrupted',
};

export interface GateCounts {
  verified: number;
  failed: number;
  waived: number;
  environment: number;
}

/** Checks by verdict over every suite of the report (the `chart` group's as-shipped checks too). */
export function countChecks(report: Pick<RunReport, 'suites'> | undefined): GateCounts {
  const all = (report?.suites ?? []).flatMap((s) => s.checks);
  const n = (v: Verdict) => all.filter((c) => c.verdict === v).length;
  return { verified: n('pass'), failed: n('fail'), waived: n('waived'), environment: n('environment') };
}

/** No exit code (the harness never ran) or an unknown one is `error`: the gate failed before a verdict. */
export function gateVerdict(exitCode: string | undefined, report: Pick<RunReport, 'outcome'> | undefined): GateVerdict {
  const v = VERDICT_OF_EXIT[exitCode ?? ''] ?? 'error';
  // an INCOMPLETE run the caller accepted exits 0: the outcome is read from the report
  return v === 'verified' && report?.outcome === 'INCOMPLETE' ? 'incomplete' : v;
}
