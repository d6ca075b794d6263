// The shape of a --waivers file: a YAML list of {check, reason, until, failure?}. Only the file's shape is
// checked here (what a waiver does to a verdict is scripts/waivers.ts); every mistake is named with
// its entry, line and field, all of them in one message, so one edit fixes the file.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { UserError } from './errors.ts';
import { SUITES } from './profiles/types.ts';

export interface Waiver {
  /** The check it waives, exactly as the reports print it: `<suite> > <check name>`. */
  check: string;
  /** Why, in the words the report will show next to the waived check. */
  reason: string;
  /** Last day (YYYY-MM-DD) the waiver holds; a calendar date, compared as text. */
  until: string;
  /**
   * Optional: text the failure message must contain. It waives one known way a check fails (an
   * intermittent defect) while every other failure of the same check still blocks.
   */
  failure?: string;
}

const REQUIRED = ['check', 'reason', 'until'] as const satisfies readonly (keyof Waiver)[];
const FIELDS = [...REQUIRED, 'failure'] as const satisfies readonly (keyof Waiver)[];
const SHAPE =
  'a YAML list of entries, each with check (as the reports print it: <suite> > <check name>), reason and until (YYYY-MM-DD), ' +
  'and optionally failure (text the failure message must contain), ' +
  'like `- {check: "keys > a deleted unlimited key is refused", reason: "accepted until the upstream fix", until: 2027-01-31}`';

/** Why a check name cannot match any check the reports print, or undefined when it can. */
function badCheck(check: string): string | undefined {
  const m = /^(\S+) > \S/.exec(check);
  if (!m) return 'not written <suite> > <check name>';
  if (!(SUITES as readonly string[]).includes(m[1]!)) return `names the suite "${m[1]}", not one of ${SUITES.join(', ')}`;
  return undefined;
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
export function parseWaivers(text: string, file: string): Waiver[] {
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
      problems.push(`${entry} is ${describeNode(item as Node | null)}, not a mapping with check, reason and until`);
      return;
    }
    const found: Partial<Record<keyof Waiver, string>> = {};
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyLine = lineOf(pair.key as Node);
      const at = (f: string) => `entry ${i + 1} field "${f}"${keyLine ? ` (line ${keyLine})` : ''}`;
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
      const wrong = field === 'check' ? badCheck(value.trim()) : undefined;
      if (wrong) {
        problems.push(`${at('check')} is "${value}", ${wrong}`);
        continue;
      }
      found[field] = value.trim();
    }
    for (const field of REQUIRED) {
      if (!item.has(field)) problems.push(`${entry} has no "${field}"`);
    }
    if (found.check !== undefined && found.reason !== undefined && found.until !== undefined) {
      waivers.push({ check: found.check, reason: found.reason, until: found.until, ...(found.failure !== undefined ? { failure: found.failure } : {}) });
    }
  });
  if (problems.length) {
    throw new UserError(`Waivers file ${file} has mistakes (${problems.join('; ')}); fix them so that it is ${SHAPE}.`);
  }
  return waivers;
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
