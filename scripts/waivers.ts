// Waivers: a team that has accepted a known defect can still gate on everything else. A waiver
// names one check by its stable id (never its title, which may carry limits or replica counts), may
// narrow to one chart and to one cause kind, says why, and ends on a date. A waived failure shows as
// `waived` (never as a pass) with its reason; after `until` it fails again with "waiver expired". A
// waiver that matched no failing check is reported.
import type { CheckResult, RunReport } from './report/model.ts';
import { suiteVerdict } from './report/model.ts';
import type { Waiver } from './waivers-file.ts';

// The file's shape (every mistake named with its entry, line and field) is scripts/waivers-file.ts;
// the preflight parses it before anything is created.
export { parseWaivers, type Waiver } from './waivers-file.ts';

/** Applies the waivers to the report in place; `today` is a UTC date (YYYY-MM-DD). */
export function applyWaivers(report: RunReport, waivers: Waiver[], today: string): void {
  const used = new Set<Waiver>();
  for (const suite of report.suites) {
    for (const check of suite.checks) {
      if (check.verdict !== 'fail') continue;
      const w = waivers.find((x) => matches(x, report.chart, check));
      if (!w) continue;
      used.add(w);
      if (today <= w.until) {
        check.verdict = 'waived';
        check.message = `waived until ${w.until}: ${w.reason}${w.link ? ` (${w.link})` : ''} — the failure: ${check.message ?? ''}`;
      } else {
        check.message = `waiver expired on ${w.until} (${w.reason}); the failure blocks again: ${check.message ?? ''}`;
      }
    }
    if (suite.checks.length) suite.verdict = suiteVerdict(suite.checks);
  }
  const unused = waivers.filter((w) => !used.has(w));
  if (unused.length) {
    report.unusedWaivers = unused.map(
      (w) => `${w.id} (until ${w.until}${w.chart === undefined ? '' : `, chart ${w.chart}`}${w.cause === undefined ? '' : `, cause ${w.cause}`}): matched no failing check`,
    );
  }
}

/**
 * Whether a waiver accepts this failure: the same id, the same chart when it names one, and when it
 * names a cause, every cause of the failure is of that kind (a failure with another cause blocks).
 */
export function matches(w: Waiver, chart: string, check: CheckResult): boolean {
  if (w.id !== check.id) return false;
  if (w.chart !== undefined && w.chart !== chart) return false;
  if (w.cause === undefined) return true;
  const causes = check.causes ?? [];
  return causes.length > 0 && causes.every((c) => c.kind === w.cause);
}
