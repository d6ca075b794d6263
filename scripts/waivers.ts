// Waivers: a team that has accepted a known defect can still gate on everything else. A waiver
// names one check exactly as the reports print it (`<suite> > <check name>`), says why, and ends on
// a date. A waived failure shows as `waived` (never as a pass) with its reason; after `until` it fails
// again with "waiver expired". A waiver with `failure` waives only a failure whose message contains
// that text. A waiver that matched no failing check is reported.
import type { RunReport } from './report/model.ts';
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
      const w = waivers.find((x) => x.check === `${suite.suite} > ${check.name}` && (x.failure === undefined || (check.message ?? '').includes(x.failure)));
      if (!w) continue;
      used.add(w);
      if (today <= w.until) {
        check.verdict = 'waived';
        check.message = `waived until ${w.until}: ${w.reason} — the failure: ${check.message ?? ''}`;
      } else {
        check.message = `waiver expired on ${w.until} (${w.reason}); the failure blocks again: ${check.message ?? ''}`;
      }
    }
    if (suite.checks.length) suite.verdict = suiteVerdict(suite.checks);
  }
  const unused = waivers.filter((w) => !used.has(w));
  if (unused.length) {
    report.unusedWaivers = unused.map((w) => `${w.check} (until ${w.until}${w.failure === undefined ? '' : `, failing with "${w.failure}"`}): matched no failing check`);
  }
}
