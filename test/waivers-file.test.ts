// The --waivers file's shape: typed entries back, or one UserError naming the file, entry, line and field.
import { describe, expect, test } from 'vitest';
import { UserError } from '../scripts/errors.ts';
import { isCalendarDate, parseWaivers } from '../scripts/waivers-file.ts';

const FILE = '/repo/waivers.yaml';

function refusal(text: string): string {
  try {
    parseWaivers(text, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseWaivers', () => {
  test('a list of complete entries comes back typed, trimmed, in order', () => {
    const text =
      '- id: ratelimit.burst-exact\n  reason: " upstream limiter down "\n  until: 2030-01-31\n' +
      '- {id: netpol.matrix, reason: CNI lacks egress, until: "2030-02-28", chart: llm-proxy, link: "https://example.com/1"}\n';
    expect(parseWaivers(text, FILE)).toEqual([
      { id: 'ratelimit.burst-exact', reason: 'upstream limiter down', until: '2030-01-31' },
      { id: 'netpol.matrix', reason: 'CNI lacks egress', until: '2030-02-28', chart: 'llm-proxy', link: 'https://example.com/1' },
    ]);
  });

  test('an entry may narrow itself to one cause kind; a derived id (setup, chart as shipped) is a real id', () => {
    const text = '- id: ratelimit.burst-answered\n  reason: llm-proxy cuts off a stream now and then\n  until: 2030-01-31\n  cause: " no-answer "\n';
    expect(parseWaivers(text, FILE)).toEqual([{ id: 'ratelimit.burst-answered', reason: 'llm-proxy cuts off a stream now and then', until: '2030-01-31', cause: 'no-answer' }]);
    expect(parseWaivers('- {id: chart.as-shipped.models-backend-tls-policy, reason: r, until: 2030-01-01}\n- {id: keys.setup, reason: r, until: 2030-01-01}\n', FILE)).toHaveLength(2);
    expect(refusal('- {id: keys.create, reason: y, until: 2030-01-01, cause: ""}\n')).toMatch(/entry 1 field "cause" \(line 1\) is empty/);
  });

  test('an empty file and an empty list waive nothing', () => {
    expect(parseWaivers('', FILE)).toEqual([]);
    expect(parseWaivers('# no waivers yet\n[]\n', FILE)).toEqual([]);
  });

  const bad: [string, string, RegExp][] = [
    ['invalid YAML', '- id: [x\n', /^Waivers file \/repo\/waivers\.yaml is not valid YAML at line 2, column 1 /],
    ['a mapping, not a list', 'id: x\nreason: y\nuntil: 2030-01-01\n', /holds a mapping, not a list/],
    ['a scalar entry', '- ratelimit\n', /entry 1 \(line 1\) is "ratelimit", not a mapping with id, reason and until/],
    ['a missing field', '- id: keys.create\n  until: 2030-01-01\n', /entry 1 \(line 1\) has no "reason"/],
    ['an unknown field', '- id: keys.create\n  reason: y\n  until: 2030-01-01\n  owner: me\n', /entry 1 field "owner" \(line 4\) is not one of id, reason, until, cause, chart, link/],
    ['an empty reason', '- id: keys.create\n  reason: ""\n  until: 2030-01-01\n', /entry 1 field "reason" \(line 2\) is empty/],
    ['a number for id', '- id: 42\n  reason: y\n  until: 2030-01-01\n', /entry 1 field "id" \(line 1\) is the number 42, not text/],
    ['a title instead of an id', '- id: a wrong key is refused\n  reason: y\n  until: 2030-01-01\n', /field "id" \(line 1\) is "a wrong key is refused", not a check id: ids start with a suite/],
    ['an id the suite does not have', '- id: keys.speed\n  reason: y\n  until: 2030-01-01\n', /is "keys.speed", not a check id of the keys suite \(its ids: keys.create, keys.wrong-admin-refused/],
    ['the first format', '- check: keys > x\n  reason: y\n  until: 2030-01-01\n  failure: HTTP 500\n', /field "check" \(line 1\) is from the first waivers format: waivers name a check by its stable "id".*field "failure" \(line 4\) is from the first waivers format: a waiver narrows by "cause"/],
    ['a date that does not exist', '- id: keys.create\n  reason: y\n  until: 2030-02-30\n', /field "until" \(line 3\) is "2030-02-30", not a calendar date written YYYY-MM-DD/],
    ['a date in another format', '- id: keys.create\n  reason: y\n  until: 31.01.2030\n', /field "until" \(line 3\) is "31\.01\.2030", not a calendar date/],
  ];
  test.each(bad)('%s is refused with its entry, line and field', (_name, text, expected) => {
    const message = refusal(text);
    expect(message).toMatch(expected);
    expect(message).toContain(FILE);
    expect(message).toMatch(/; (fix them so that it is|fix it so that it is|write it as) a YAML list of entries, each with id \(the check id the reports print, e\.g\. keys\.revoked-refused\), reason and until \(YYYY-MM-DD\), and optionally cause .*, like `- \{id: .*\}`\.$/);
  });

  test('every mistake in the file is named at once', () => {
    const message = refusal('- id: keys.create\n  reason: r\n  until: 2030-13-01\n- id: keys.create\n  until: 2030-01-01\n- c\n');
    expect(message).toMatch(/entry 1 field "until" \(line 3\).*; entry 2 \(line 4\) has no "reason"; entry 3 \(line 6\) is "c"/);
  });

  test('calendar dates', () => {
    expect(['2024-02-29', '2030-12-31'].every(isCalendarDate)).toBe(true);
    expect(['2023-02-29', '2030-00-10', '2030-1-1', '20300101', ''].some(isCalendarDate)).toBe(false);
  });
});
