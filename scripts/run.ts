// The plan → target → suites → verdict pipeline. Cleanup and diagnostics live here so that
// every target gets the same guarantees.
import { join } from 'node:path';
import { chartSuite } from './corrections.ts';
import { UserError } from './errors.ts';
import type { RunPlan } from './plan.ts';
import type { RunReport } from './report/model.ts';
import { runFailed } from './report/model.ts';
import type { RunContext } from './run-context.ts';
import { mask } from './secrets.ts';
import { runSuites } from './suite-runner.ts';
import { type Provisioner, preflightTools, provisioner } from './targets/index.ts';
import { profileFindings } from './profiles/chart-fit.ts';
import { readChartMeta } from './cluster/values.ts';
import { featureResults } from './report/features.ts';
import { applyWaivers } from './waivers.ts';

/**
 * The work's result, or the abort's reason as soon as the run is interrupted: the suites do not
 * stop on the signal, and the cleanup must not wait for them (they end with the process).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason as Error);
    if (signal.aborted) abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The chart the target resolved, else a --chart-dir the run was given (a local or url run installs none). */
async function profileFit(plan: RunPlan, p: Provisioner): Promise<string[]> {
  if (p.profileFindings) return p.profileFindings();
  if (!plan.chartDir) return [];
  return profileFindings(plan.profile, { path: plan.chartDir, version: (await readChartMeta(plan.chartDir)).version });
}

export async function executeRun(plan: RunPlan, ctx: RunContext, today = new Date().toISOString().slice(0, 10)): Promise<RunReport> {
  const started = Date.now();
  const report: RunReport = {
    chart: plan.profile.name,
    chartTitle: plan.profile.title,
    target: plan.target,
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    phases: ctx.phases,
    suites: [],
    fingerprint: {},
    knownDefects: plan.profile.knownDefects ?? [],
  };
  if (plan.waiversFile) report.fingerprint['waivers'] = `${plan.waivers.length} from ${plan.waiversFile}`;
  const p = provisioner(plan, ctx);
  try {
    const tools = await ctx.phase('preflight', () => preflightTools(p));
    Object.assign(report.fingerprint, tools);
    const provisioned = await ctx.phase(`provision ${plan.target} target`, () => p.provision());
    report.suites = await ctx.phase(`run suites (${plan.suites.join(', ')})`, () =>
      untilAborted(
        runSuites({
          suites: plan.suites,
          target: provisioned.target,
          capabilities: plan.profile.capabilities,
          features: plan.profile.features,
          log: (l) => ctx.log.info(l),
          signal: ctx.signal,
        }),
        ctx.signal,
      ),
    );
  } catch (err) {
    // User mistakes found late (a missing tool) still end as one paragraph and their own exit code.
    if (err instanceof UserError) throw err;
    if (ctx.signal.aborted) {
      ctx.failed = true;
      throw ctx.signal.reason;
    }
    report.error = mask(err instanceof Error ? err.message : String(err));
  } finally {
    // Also after a half-way failure: the report says what it was running when it failed.
    Object.assign(report.fingerprint, p.fingerprint);
    if (p.provenance) report.provenance = p.provenance;
  }
  if (report.suites.length) {
    // Results gathered while the gateway was replaced under the run prove nothing: fail, and say why.
    const findings = await p.changes().catch((err: Error) => [`could not check the gateway for changes: ${err.message}`]);
    if (findings.length) {
      report.findings = findings.map(mask);
      report.error ??= `the gateway changed under the run, so its results cannot be trusted: ${report.findings.join('; ')}`;
    }
  }
  // The chart as shipped, before the waivers: a waiver on a chart.as-shipped id accepts that correction.
  const chart = chartSuite(p.chartChecks?.() ?? []);
  if (chart) report.suites.push(chart);
  if (plan.waivers.length) applyWaivers(report, plan.waivers, today);
  report.features = featureResults(report, plan.profile.features, plan.suites);
  ctx.failed = runFailed(report);
  const fit = await profileFit(plan, p).catch((err: Error) => [`could not check the profile against the chart: ${err.message}`]);
  if (fit.length) report.profileFindings = fit.map(mask);
  const chartFindings = await p.chartFindings?.({ failed: ctx.failed }).catch((err: Error) => [`could not read the chart findings: ${err.message}`]);
  if (chartFindings?.length) report.chartFindings = chartFindings.map(mask);
  if (ctx.failed) {
    try {
      const d = await ctx.phase('collect diagnostics', () => p.diagnose(join(plan.reportDir, 'diagnostics')));
      if (d) report.diagnostics = d.path;
    } catch {
      // already logged by the phase; the verdict stands without the bundle
    }
  }
  report.durationMs = Date.now() - started;
  return report;
}
