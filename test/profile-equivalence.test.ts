// The YAML profiles render exactly what the TypeScript profiles rendered before they were converted:
// their data, the helm values for every wiring combination, the companions' values over a chart's
// defaults and the stand-in image values (fixtures/profiles/ts-profiles.json, captured from the
// TypeScript profiles before they were deleted).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { PROFILES } from '../scripts/profiles/index.ts';
import { COMPANION_DEFAULTS, STAND_IN_REF, wiringCombos } from './profile-golden.ts';

interface Golden {
  data: unknown;
  values: { combos: string[]; values: unknown }[];
  companions: { name: string; values: { combos: string[]; values: unknown }[] }[];
  standIn: unknown;
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/profiles/ts-profiles.json', import.meta.url), 'utf8')) as Record<string, Golden>;
const combos = new Map(wiringCombos().map((c) => [c.id, c.wiring]));
const expectedFor = (groups: Golden['values']) => new Map(groups.flatMap((g) => g.combos.map((id) => [id, g.values] as const)));

describe('YAML profiles render what the TypeScript profiles rendered', () => {
  test('the same four profiles', () => {
    expect(PROFILES.map((p) => p.name)).toEqual(Object.keys(golden));
  });

  for (const name of Object.keys(golden)) {
    describe(name, () => {
      const g = golden[name]!;
      const profile = () => PROFILES.find((p) => p.name === name)!;

      test('its data (everything but the values it renders)', () => {
        expect(JSON.parse(JSON.stringify(profile()))).toEqual(g.data);
      });

      test(`helm values for each of the ${combos.size} wiring combinations`, () => {
        const expected = expectedFor(g.values);
        expect(expected.size).toBe(combos.size);
        for (const [id, wiring] of combos) expect(profile().values(structuredClone(wiring)), `${name} ${id}`).toEqual(expected.get(id));
      });

      test('companion values over the chart defaults', () => {
        expect((profile().companions ?? []).map((c) => c.name)).toEqual(g.companions.map((c) => c.name));
        for (const c of profile().companions ?? []) {
          const expected = expectedFor(g.companions.find((x) => x.name === c.name)!.values);
          for (const [id, wiring] of combos) expect(c.values(structuredClone(wiring), structuredClone(COMPANION_DEFAULTS)), `${c.name} ${id}`).toEqual(expected.get(id));
        }
      });

      test('stand-in image values', () => {
        expect(profile().app?.standIn?.values(STAND_IN_REF) ?? null).toEqual(g.standIn);
      });
    });
  }
});
