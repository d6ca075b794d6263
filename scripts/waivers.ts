// Waivers: a team that has accepted a known defect can still gate on everything else. A waiver
// names one check exactly as the reports print it (`<suite> > <check name>`), says why, and ends on
// a date. A waived failure shows as `waived` (never as a pass) with its reason; after `until` it fails
// again with "waiver expired". A waiver that matched no failing check is reported.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { UserError } from './errors.ts';
import type { RunReport } from './report/model.ts';
import { suiteVerdict } from './report/model.ts';

export interface Waiver {
  check: string;
  reason: string;
  /** Last day (UTC, YYYY-MM-DD) the waiver holds. */
  until: string;
}

function bad(file: string, what: string): never {
  throw new UserError(
    `The waivers file ${file} ${what}. It must be a YAML list of entries like ` +
      '`- {check: "keys > a deleted unlimited key is refused", reason: "accepted until the upstream fix", until: 2027-01-31}`, ' +
      'with check written exactly as the reports print it (<suite> > <check name>).',
  );
}

export function parseWaivers(text: string, file: string): Waiver[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    bad(file, `is not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) bad(file, 'is not a list');
  return doc.map((entry: unknown, i): Waiver => {
    const e = entry as Record<string, unknown>;
    if (typeof e !== 'object' || e === null) bad(file, `has entry ${i + 1} that is not a mapping`);
    const until = e['until'] instanceof Date ? e['until'].toISOString().slice(0, 10) : String(e['until'] ?? '');
    if (typeof e['check'] !== 'string' || !/^\S+ > .+/.test(e['check'])) bad(file, `has entry ${i + 1} without a check of the form "<suite> > <check name>"`);
    if (typeof e['reason'] !== 'string' || e['reason'].trim() === '') bad(file, `has entry ${i + 1} (${e['check']}) without a reason`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(until) || Number.isNaN(Date.parse(until))) bad(file, `has entry ${i + 1} (${e['check']}) whose until is not a date (YYYY-MM-DD)`);
    return { check: e['check'], reason: e['reason'], until };
  });
}

export async function readWaivers(file: string): Promise<Waiver[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`--waivers points at ${file}, which cannot be read. Give the path of a YAML waivers file.`);
  }
  return parseWaivers(text, file);
}

/** Applies the waivers to the report in place; `today` is a UTC date (YYYY-MM-DD). */
export function applyWaivers(report: RunReport, waivers: Waiver[], today: string): void {
  const used = new Set<Waiver>();
  for (const suite of report.suites) {
    for (const check of suite.checks) {
      const w = waivers.find((x) => x.check === `${suite.suite} > ${check.name}`);
      if (!w || check.verdict !== 'fail') continue;
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
  if (unused.length) report.unusedWaivers = unused.map((w) => `${w.check} (until ${w.until}): matched no failing check`);
}
