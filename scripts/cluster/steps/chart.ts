// The chart first: a chart that cannot be had fails in seconds, before a cluster is made.
import { resolveChart } from '../chart-source.ts';
import { chartDefaults } from '../values.ts';
import { describeCorrections } from '../../corrections.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const chartStep: Step<ProvisionState> = {
  name: 'chart',
  needs: [],
  async run(s) {
    const { plan, ctx } = s;
    s.chart = await ctx.phase('resolve chart source', () => resolveChart({ profile: plan.profile, chartDir: plan.chartDir, mirror: plan.chartMirror, ctx }));
    s.resolvedChart = s.chart;
    s.defaults = await chartDefaults(s.chart.path);
    s.fingerprint['corrections'] = describeCorrections(plan.profile, plan.corrections);
  },
};
