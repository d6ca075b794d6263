// The chart's own dependencies (subcharts), fetched or dropped by what the values enable. The
// values are read here with placeholder wiring: which conditions they set does not depend on the
// addresses and keys the run makes later (the values step renders them for the install).
import { prepareDependencies } from '../chart-source.ts';
import { effectiveValues } from '../values.ts';
import type { MockWiring } from '../../profiles/types.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';
import { valueLayers } from './values.ts';

/** Wiring with placeholder addresses: enough to read what the values select (image, conditions). */
const PLACEHOLDER_WIRING: MockWiring = { mockUrl: 'http://mock:8089', providerKey: 'x', adminKey: 'x', model: 'mock', databaseUrl: 'postgresql://x' };

export const chartDependenciesStep: Step<ProvisionState> = {
  name: 'chart-dependencies',
  needs: ['chart', 'cluster'],
  async run(s) {
    const { plan, ctx } = s;
    const selected = await effectiveValues(s.chart!.path, valueLayers(plan, s.defaults!, PLACEHOLDER_WIRING), plan.valuesFile ? [plan.valuesFile] : []);
    s.selected = selected;
    s.chart = await ctx.phase('prepare chart dependencies', () => prepareDependencies({ chart: s.chart!, values: selected, helm: s.helmEnv!.helm, ctx }));
    s.fingerprint['chart source'] = s.chart.label;
    for (const [i, n] of s.chart.notes.entries()) s.fingerprint[`chart change ${i + 1}`] = n;
  },
};
