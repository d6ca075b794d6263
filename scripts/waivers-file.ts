// The shape of a --waivers file: a YAML list of {id, reason, until, cause?, chart?, link?}. Only the file's shape is
// checked here (what a waiver does to a verdict is scripts/waivers.ts); every mistake is named with
// its entry, line and field, all of them in one message, so one edit fixes the file.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError } from './errors.ts';
import { PROFILES } from './profiles/index.ts';
import { SUITES } from './profiles/types.ts';
import { CAUSE_KINDS, type CauseKind, idsOf, isCauseKind, isKnownCheckId } from './report/check-ids.ts';

export interface Waiver {
  /** The check's stable id, as every report prints it beside the title (`keys.revoked-refused`). */
  id: string;
  /** Why, in the words the report will show next to the waived check. */
  reason: string;
  /** Last day (YYYY-MM-DD) the waiver holds; a calendar date, compared as text. */
  until: string;
  /**
   * Optional: the one kind of failure accepted. The waiver holds only when every cause of the
   * failure is of this kind, so a known intermittent defect (`no-answer`) is accepted while a wrong
   * count in the same check still blocks.
   */
  cause?: CauseKind;
  /** Optional: the chart profile it applies to; other charts' failures of the same id still block. */
  chart?: string;
  /** Optional: where the defect is tracked (an upstream issue), shown beside the waived check. */
  link?: string;
}

const REQUIRED = ['id', 'reason', 'until'] as const satisfies readonly (keyof Waiver)[];
const FIELDS = [...REQUIRED, 'cause', 'chart', 'link'] as const satisfies readonly (keyof Waiver)[];
/** The fields of the first waivers format, and what replaced them. */
const RETIRED: Record<string, string> = {
  check: 'waivers name a check by its stable "id" now (printed beside each check in every report, e.g. keys.revoked-refused), not by its title',
  failure: 'a waiver narrows by "cause" now (one of the cause kinds in the report, e.g. no-answer), not by message text',
};
const SHAPE =
  'a YAML list of entries, each with id (the check id the reports print, e.g. keys.revoked-refused), reason and until (YYYY-MM-DD), ' +
  `and optionally cause (accept only failures whose every cause is this kind: ${Object.keys(CAUSE_KINDS).join(', ')}), chart (a chart profile) and link, ` +
  'like `- {id: keys.revoked-refused, chart: llm-proxy, reason: "accepted until the upstream fix", until: 2027-01-31}`';

/** Why an id cannot match any check the reports print, or undefined when it can. */
function badId(id: string): string | undefined {
  if (isKnownCheckId(id)) return undefined;
  const suite = id.split('.')[0]!;
  if ((SUITES as readonly string[]).includes(suite)) return `not a check id of the ${suite} suite (its ids: ${idsOf(suite as (typeof SUITES)[number]).join(', ')}, ${suite}.setup)`;
  return `not a check id: ids start with a suite (${SUITES.join(', ')}) or chart.as-shipped.`;
}

/** A real calendar day in YYYY-MM-DD (2025-02-30 is not one). */
export function isCalendarDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Parses a waivers file's text; throws one UserError naming the file and every bad entry and field. */
/** `runChart`: the run's own profile (a --profile file), a chart a waiver may name besides the built-in ones. */
export function parseWaivers(text: string, file: string, runChart?: string): Waiver[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const lineOf = (node: Node | null | undefined) => (node?.range ? lines.linePos(node.range[0]).line : undefined);
  const firstError = doc.errors[0];
  if (firstError) {
    const at = lines.linePos(firstError.pos[0]);
    const where = ` at line ${at.line}, column ${at.col}`;
    throw new UserError(
      `Waivers file ${file} is not valid YAML${where} (${firstError.message.split('\n')[0]}); fix it so that it is ${SHAPE}.`,
    );
  }
  const root = doc.contents;
  if (root === null) return []; // an empty file waives nothing
  if (!isSeq(root)) {
    throw new UserError(`Waivers file ${file} holds ${describeNode(root)}, not a list; write it as ${SHAPE}.`);
  }

  const waivers: Waiver[] = [];
  const problems: string[] = [];
  root.items.forEach((item, i) => {
    const line = lineOf(item as Node);
    const entry = `entry ${i + 1}${line ? ` (line ${line})` : ''}`;
    if (!isMap(item)) {
      problems.push(`${entry} is ${describeNode(item as Node | null)}, not a mapping with id, reason and until`);
      return;
    }
    const found: Partial<Record<keyof Waiver, string>> = {};
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyLine = lineOf(pair.key as Node);
      const at = (f: string) => `entry ${i + 1} field "${f}"${keyLine ? ` (line ${keyLine})` : ''}`;
      if (Object.hasOwn(RETIRED, key)) {
        problems.push(`${at(key)} is from the first waivers format: ${RETIRED[key]}`);
        continue;
      }
      if (!(FIELDS as readonly string[]).includes(key)) {
        problems.push(`${at(key)} is not one of ${FIELDS.join(', ')}`);
        continue;
      }
      const field = key as keyof Waiver;
      const value = isScalar(pair.value) ? pair.value.value : undefined;
      if (field === 'until' && !(typeof value === 'string' && isCalendarDate(value))) {
        problems.push(`${at('until')} is ${describeNode(pair.value as Node | null)}, not a calendar date written YYYY-MM-DD`);
        continue;
      }
      if (typeof value !== 'string' || value.trim() === '') {
        const what = describeNode(pair.value as Node | null);
        problems.push(`${at(field)} is ${what}${what === 'empty' ? '' : ', not text'}`);
        continue;
      }
      const wrong = field === 'id' ? badId(value.trim()) : field === 'cause' ? badCause(value.trim()) : field === 'chart' ? badChart(value.trim(), runChart) : undefined;
      if (wrong) {
        problems.push(`${at(field)} is "${value}", ${wrong}`);
        continue;
      }
      found[field] = value.trim();
    }
    for (const field of REQUIRED) {
      if (!item.has(field) && !(field === 'id' && item.has('check'))) problems.push(`${entry} has no "${field}"`);
    }
    if (found.id !== undefined && found.reason !== undefined && found.until !== undefined) {
      waivers.push({
        id: found.id,
        reason: found.reason,
        until: found.until,
        ...(found.cause !== undefined ? { cause: found.cause as CauseKind } : {}),
        ...(found.chart !== undefined ? { chart: found.chart } : {}),
        ...(found.link !== undefined ? { link: found.link } : {}),
      });
    }
  });
  if (problems.length) {
    throw new UserError(`Waivers file ${file} has mistakes (${problems.join('; ')}); fix them so that it is ${SHAPE}.`);
  }
  return waivers;
}

function badCause(cause: string): string | undefined {
  return isCauseKind(cause) ? undefined : `not a cause kind (one of ${Object.keys(CAUSE_KINDS).join(', ')})`;
}

function badChart(chart: string, runChart?: string): string | undefined {
  const known = [...new Set([...PROFILES.map((p) => p.name), ...(runChart ? [runChart] : [])])];
  return known.includes(chart) ? undefined : `not a chart profile (one of ${known.join(', ')})`;
}

function describeNode(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isSeq(node)) return 'a list';
  if (isMap(node)) return 'a mapping';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing';
    if (typeof v === 'string') return v.trim() === '' ? 'empty' : `"${v}"`;
    return `the ${typeof v} ${String(v)}`;
  }
  return 'an alias';
}
