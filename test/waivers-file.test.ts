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
      '- check: ratelimit > a burst over the limit gets 429\n  reason: " upstream limiter down "\n  until: 2030-01-31\n' +
      '- {check: "netpol > egress elsewhere is denied", reason: CNI lacks egress, until: "2030-02-28"}\n';
    expect(parseWaivers(text, FILE)).toEqual([
      { check: 'ratelimit > a burst over the limit gets 429', reason: 'upstream limiter down', until: '2030-01-31' },
      { check: 'netpol > egress elsewhere is denied', reason: 'CNI lacks egress', until: '2030-02-28' },
    ]);
  });

  test('an entry may narrow itself to failures whose message contains a text', () => {
    const text = '- check: ratelimit > an exact burst\n  reason: llm-proxy cuts off a stream now and then\n  until: 2030-01-31\n  failure: " the connection closed "\n';
    expect(parseWaivers(text, FILE)).toEqual([
      { check: 'ratelimit > an exact burst', reason: 'llm-proxy cuts off a stream now and then', until: '2030-01-31', failure: 'the connection closed' },
    ]);
    expect(refusal('- {check: keys > x, reason: y, until: 2030-01-01, failure: ""}\n')).toMatch(/entry 1 field "failure" \(line 1\) is empty/);
  });

  test('an empty file and an empty list waive nothing', () => {
    expect(parseWaivers('', FILE)).toEqual([]);
    expect(parseWaivers('# no waivers yet\n[]\n', FILE)).toEqual([]);
  });

  const bad: [string, string, RegExp][] = [
    ['invalid YAML', '- check: [x\n', /^Waivers file \/repo\/waivers\.yaml is not valid YAML at line 2, column 1 /],
    ['a mapping, not a list', 'check: x\nreason: y\nuntil: 2030-01-01\n', /holds a mapping, not a list/],
    ['a scalar entry', '- ratelimit\n', /entry 1 \(line 1\) is "ratelimit", not a mapping with check, reason and until/],
    ['a missing field', '- check: keys > x\n  until: 2030-01-01\n', /entry 1 \(line 1\) has no "reason"/],
    ['an unknown field', '- check: keys > x\n  reason: y\n  until: 2030-01-01\n  owner: me\n', /entry 1 field "owner" \(line 4\) is not one of check, reason, until/],
    ['an empty reason', '- check: keys > x\n  reason: ""\n  until: 2030-01-01\n', /entry 1 field "reason" \(line 2\) is empty/],
    ['a number for check', '- check: 42\n  reason: y\n  until: 2030-01-01\n', /entry 1 field "check" \(line 1\) is the number 42, not text/],
    ['a check without its suite', '- check: just a name\n  reason: y\n  until: 2030-01-01\n', /field "check" \(line 1\) is "just a name", not written <suite> > <check name>/],
    ['a check in an unknown suite', '- check: speed > it is fast\n  reason: y\n  until: 2030-01-01\n', /is "speed > it is fast", names the suite "speed", not one of health, keys, ratelimit, metrics, netpol/],
    ['a date that does not exist', '- check: keys > x\n  reason: y\n  until: 2030-02-30\n', /field "until" \(line 3\) is "2030-02-30", not a calendar date written YYYY-MM-DD/],
    ['a date in another format', '- check: keys > x\n  reason: y\n  until: 31.01.2030\n', /field "until" \(line 3\) is "31\.01\.2030", not a calendar date/],
  ];
  test.each(bad)('%s is refused with its entry, line and field', (_name, text, expected) => {
    const message = refusal(text);
    expect(message).toMatch(expected);
    expect(message).toContain(FILE);
    expect(message).toMatch(/; (fix them so that it is|fix it so that it is|write it as) a YAML list of entries, each with check \(as the reports print it: <suite> > <check name>\), reason and until \(YYYY-MM-DD\), and optionally failure \(text the failure message must contain\), like `- \{check: .*\}`\.$/);
  });

  test('every mistake in the file is named at once', () => {
    const message = refusal('- check: keys > a\n  reason: r\n  until: 2030-13-01\n- check: keys > b\n  until: 2030-01-01\n- c\n');
    expect(message).toMatch(/entry 1 field "until" \(line 3\).*; entry 2 \(line 4\) has no "reason"; entry 3 \(line 6\) is "c"/);
  });

  test('calendar dates', () => {
    expect(['2024-02-29', '2030-12-31'].every(isCalendarDate)).toBe(true);
    expect(['2023-02-29', '2030-00-10', '2030-1-1', '20300101', ''].some(isCalendarDate)).toBe(false);
  });
});
