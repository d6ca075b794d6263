// scripts/cluster/steps/runner.ts with real timers: independent steps overlap, a step starts only
// after what it needs, a failure stops the steps not yet started and waits for the running ones,
// a malformed list is refused; and the two chart families' real step lists pass that check.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { GATEWAY_API_STEPS, HELM_CHART_STEPS } from '../scripts/cluster/steps/families.ts';
import { checkSteps, runSteps, type Step } from '../scripts/cluster/steps/runner.ts';

type Trace = { events: string[]; t0: number; at: Record<string, [number, number]> };

function step(name: string, needs: string[], ms: number, fail?: string): Step<Trace> {
  return {
    name,
    needs,
    async run(t) {
      const start = Date.now() - t.t0;
      t.events.push(`start ${name}`);
      await sleep(ms);
      t.at[name] = [start, Date.now() - t.t0];
      t.events.push(`end ${name}`);
      if (fail) throw new Error(fail);
    },
  };
}

const trace = (): Trace => ({ events: [], t0: Date.now(), at: {} });
const lines: string[] = [];
const log = { info: (l: string) => lines.push(l) };

describe('provisioning steps', () => {
  test('independent steps run at the same time; a step waits for every step it needs', async () => {
    const t = trace();
    await runSteps([step('images', [], 20), step('namespace', [], 20), step('mock', ['images', 'namespace'], 150), step('postgres', ['images', 'namespace'], 150), step('values', ['mock', 'postgres'], 10)], t, { log });
    const [mock, pg, values] = [t.at['mock']!, t.at['postgres']!, t.at['values']!];
    // mock and postgres overlap: the second started before the first ended
    expect(Math.max(mock[0], pg[0])).toBeLessThan(Math.min(mock[1], pg[1]));
    expect(values[0]).toBeGreaterThanOrEqual(Math.max(mock[1], pg[1]));
    expect(Math.max(mock[0], pg[0])).toBeGreaterThanOrEqual(Math.max(t.at['images']![1], t.at['namespace']![1]));
    expect(lines.some((l) => /^· step mock started at \+\d+\.\ds$/.test(l))).toBe(true);
    expect(lines.some((l) => /^· step values done in \d+\.\ds$/.test(l))).toBe(true);
  });

  test('a step that is not for this run (when) counts as done', async () => {
    const t = trace();
    await runSteps([step('a', [], 5), { ...step('redis', ['a'], 5), when: () => false }, step('b', ['redis'], 5)], t, { log });
    expect(t.events).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  test('the first failure is thrown once running steps settle; steps not started never start', async () => {
    const t = trace();
    const err = await runSteps([step('quick', [], 10, 'cannot pull image x'), step('slow', [], 120), step('after', ['slow'], 5)], t, { log }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('cannot pull image x');
    expect(t.events).toEqual(['start quick', 'start slow', 'end quick', 'end slow']); // slow settled, after never started
    expect(lines).toContain('· step quick failed after 0.0s');
  });

  test('a list with an unknown, a later or a duplicate need is refused', () => {
    expect(() => checkSteps([step('a', ['nope'], 1)])).toThrow('provisioning step a needs nope, which is not in the list');
    expect(() => checkSteps([step('a', ['b'], 1), step('b', [], 1)])).toThrow('provisioning step a needs b, which is listed after it');
    expect(() => checkSteps([step('a', [], 1), step('a', [], 1)])).toThrow('provisioning step a is listed twice');
  });

  test("both chart families' lists are well formed; mock, Postgres and Redis need nothing of each other nor the image build", () => {
    for (const steps of [HELM_CHART_STEPS, GATEWAY_API_STEPS]) {
      checkSteps(steps);
      const needs = Object.fromEntries(steps.map((s) => [s.name, s.needs]));
      for (const a of ['mock', 'postgres', 'redis']) for (const b of ['mock', 'postgres', 'redis']) expect(needs[a]).not.toContain(b);
      expect(needs['namespace']).not.toContain('images');
      // they start beside the image build when every node already holds their images (fixtureImage waits otherwise)
      for (const fixture of ['mock', 'postgres', 'redis']) expect(needs[fixture]).not.toContain('images');
      expect(needs['values']).toContain('images');
    }
  });
});
