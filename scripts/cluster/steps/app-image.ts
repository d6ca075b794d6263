// Which app image runs: the chart's own, or the stand-in built here (--images), and what the
// report then says about what was proven.
import { chartImageRef, decideAppImage } from '../app-image.ts';
import { onEveryNode } from '../images.ts';
import { checkManifest } from '../manifest.ts';
import type { Step } from './runner.ts';
import type { ProvisionState } from './state.ts';

export const appImageStep: Step<ProvisionState> = {
  name: 'app-image',
  needs: ['chart-dependencies'],
  async run(s) {
    const { plan, ctx } = s;
    const chart = s.chart!;
    const app = plan.profile.app;
    if (app) {
      const chartImage = chartImageRef(s.selected!, app.valuesPath, chart.meta.appVersion);
      const onNodes = plan.images !== 'local' && s.kind ? await onEveryNode(s.kind.kindBin, plan.clusterName, chartImage) : false;
      s.app = decideAppImage(plan.images, {
        chart: plan.profile.name,
        chartImage,
        hasStandIn: app.standIn !== undefined,
        onEveryNode: onNodes,
        manifest: plan.images === 'local' || onNodes ? undefined : await checkManifest(chartImage),
      });
      ctx.log.info(`app image: ${s.app.use === 'local' ? 'local stand-in' : chartImage} — ${s.app.why}`);
      s.fingerprint['app image'] = `${s.app.use === 'local' ? 'local stand-in' : `the chart's own ${s.app.chartImage}`} (${s.app.why})`;
    }
    const standIn = s.app?.use === 'local';
    s.standIn = standIn;
    s.provenance = {
      chart: chart.label,
      chartOrigin: chart.origin,
      images: s.app ? (standIn ? `local stand-ins${plan.images === 'local' ? ' (--images local)' : ''}` : "the chart's own") : 'none of its own',
      // A stand-in the user asked for is stated; one auto chose means the shipped image went unproven.
      ...(standIn && plan.images === 'auto' && s.app ? { unproven: [`the chart's own image ${s.app.chartImage} did not run (--images auto chose the local stand-in: ${s.app.why})`] } : {}),
    };
  },
};
