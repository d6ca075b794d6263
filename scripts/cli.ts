#!/usr/bin/env node
// gateway-smoke CLI: `npm run e2e -- --chart <name> [--target kind|existing|local|url] ...`
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { ExitCode, oneParagraph, UserError } from './errors.ts';
import { buildPlan, KEEP_POLICIES, type RawOptions } from './plan.ts';
import { preflight, preflightInput } from './preflight.ts';
import { provisioner } from './targets/index.ts';
import { DEFAULT_CHART, PROFILES } from './profiles/index.ts';
import { SUITES } from './profiles/types.ts';
import { exitCodeOf, headline, outcome } from './report/model.ts';
import { renderConsoleTable } from './report/markdown.ts';
import { writeReports } from './report/write.ts';
import { RunContext } from './run-context.ts';
import { executeRun } from './run.ts';
import { mask } from './secrets.ts';

function program(): Command {
  const cmd = new Command('gateway-smoke')
    .description(
      'End-to-end smoke tests for LLM-gateway Helm charts: provisions the gateway with a mock LLM provider, ' +
        'runs the behaviour suites and writes a verdict (exit code, JUnit, Markdown).',
    )
    .addOption(new Option('--chart <name>', 'chart profile to test').default(DEFAULT_CHART))
    .option('--profile <file>', "your own chart profile (YAML; it may `extends:` a built-in one), instead of --chart")
    .addOption(new Option('--target <kind>', 'where the gateway runs').default('kind'))
    .addOption(new Option('--suites <list>', `comma-separated suites, or "all"`).default('all'))
    .addOption(
      new Option('--keep <policy>', `what stays after the run (${KEEP_POLICIES.join('|')}): on-failure keeps a failed run's namespace and a cluster it created; an interrupted run keeps nothing unless always`).default('on-failure'),
    )
    .option('--report-dir <dir>', 'where junit.xml, summary.md and diagnostics go (default: reports/<chart>)')
    .option('--values <file>', 'extra Helm values file, applied after the profile values')
    .option('--chart-dir <dir>', 'install the chart from this local checkout instead of its pinned source')
    .option('--upgrade-from <dir>', 'test an upgrade: install the previous release from this chart folder, upgrade it to the candidate under streaming traffic, then run the suites and suite upgrade')
    .option('--upgrade-from-values <file>', 'extra Helm values for the previous release only (--upgrade-from)')
    .option('--upgrade-from-image <ref>', 'image the previous release runs: a full reference, or a version (tag) of the candidate image (--upgrade-from)')
    .option('--chart-mirror <dir>', 'folder of chart folders to use when the pinned upstream is unreachable (env GATEWAY_SMOKE_CHART_MIRROR)')
    .addOption(new Option('--images <mode>', "chart: the chart's own image; local: stand-ins built here; auto: own when pullable").default('auto'))
    .option('--prisma-engines <dir>', "Prisma's query and schema engines for LiteLLM (env GATEWAY_SMOKE_PRISMA_ENGINES)")
    .option('--waivers <file>', 'YAML list of {id, reason, until, cause?, chart?, link?}: failing checks accepted until their date (cause: only when every cause is of that kind; chart: only for that chart)')
    .addOption(new Option('--cluster-name <name>', 'kind cluster to create or reuse').default('gateway-smoke'))
    .option('--kubernetes-version <v>', "Kubernetes for a new kind cluster: a minor (1.33, its newest patch the kit has) or a release (1.33.4); default the newest the kit pins")
    .option('--context <name>', 'kube context for --target existing')
    .option('--base-url <url>', 'gateway URL for --target url')
    .option('--admin-key-env <NAME>', 'environment variable holding the admin key, for --target url')
    .option('--metrics-url <url>', 'metrics URL for --target url, when not <base-url><metrics path>')
    .addOption(new Option('--model <name>', 'model name the gateway routes to the mock').default('mock-gpt'))
    .option('--accept-incomplete', 'exit 0 instead of 4 when the run is INCOMPLETE (nothing failed, something was not proven); the headline still says INCOMPLETE')
    .addOption(new Option('--strict').hideHelp())
    .option('--no-corrections', "run the chart exactly as shipped: apply none of the corrections the profile declares (no chart.as-shipped checks)")
    // the flag's old name, kept working
    .addOption(new Option('--no-workarounds').hideHelp())
    .addHelpText(
      'after',
      [
        '',
        'Charts:',
        ...PROFILES.map((p) => `  ${p.name.padEnd(16)} ${p.title}`),
        '',
        'Targets:',
        '  kind             create or reuse a kind cluster, install the chart and its dependencies (default)',
        '  existing         install into the cluster of an existing kube context (--context)',
        '  local            run the chart\'s gateway software and the mock as processes on loopback',
        '  url              test a gateway someone already runs (--base-url, --admin-key-env)',
        '',
        `Suites: ${SUITES.join(', ')}`,
        '',
        'Outcomes and exit codes: 0 VERIFIED (every promised behaviour proven on what the chart ships); 1 FAILED',
        '(a check failed, or setup did); 4 INCOMPLETE (nothing failed, something was not proven: blocked by the',
        'environment, a stand-in image; 0 with --accept-incomplete); 2 bad input; 3 a needed tool or environment',
        'piece is missing; 130 interrupted (what the run created was removed first).',
        '',
        'Examples:',
        '  npm run e2e -- --chart routeiq',
        '  npm run e2e -- --chart llm-proxy --target local --suites health,keys',
        '  npm run e2e -- --profile ./my-chart.profile.yaml --chart-dir ./charts/my-chart',
        '  LITELLM_KEY=... npm run e2e -- --chart litellm-proxy --target url --base-url https://gw.staging --admin-key-env LITELLM_KEY',
      ].join('\n'),
    )
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  return cmd;
}

/** Set by the signal handler, which owns the exit (130) once cleanup has finished. */
let interruptedBySignal = false;
const exitNow = process.exit.bind(process);

/** How long an interrupted run may take to unwind before cleanup starts anyway (steps in flight end on the abort). */
const UNWIND_MS = 10_000;

/**
 * Holds off every other process.exit until the cleanup has run: a library with its own signal
 * handler (vitest's reporter exits 1 ms after SIGINT/SIGTERM, mid-suites) must not end the process
 * with the run's namespace still up.
 */
function holdExits(): void {
  process.exit = (() => undefined) as unknown as typeof process.exit;
}

async function main(argv: string[]): Promise<number> {
  const cmd = program();
  let raw: RawOptions;
  try {
    cmd.parse(argv, { from: 'user' });
    raw = cmd.opts<RawOptions>();
    if (raw.profile && cmd.getOptionValueSource('chart') === 'cli') {
      throw new UserError(`--chart ${raw.chart} and --profile ${raw.profile} both name the chart profile; pass one (a profile of your own can extend a built-in one: \`extends: ${raw.chart}\`).`);
    }
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      const why = err.message.replace(/^error: /, '');
      throw new UserError(`${why.charAt(0).toUpperCase()}${why.slice(1)}. Run \`npm run e2e -- --help\` for the flags, charts, targets and suites.`);
    }
    throw err;
  }
  const draft = await buildPlan(raw);
  const ctx = new RunContext();
  // Every input is checked before anything is created; all problems in one paragraph, exit 2 or 3.
  const { waivers } = await preflight(preflightInput(draft, provisioner(draft, ctx).tools));
  const plan = { ...draft, waivers };

  let interrupted = 0;
  let runUnwound = () => {};
  const unwound = new Promise<void>((r) => (runUnwound = r));
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted++;
    interruptedBySignal = true;
    if (interrupted > 1) {
      ctx.log.warn(`second interrupt: exiting now; left behind: ${ctx.pendingCleanups.reverse().join(', ') || 'nothing'}`);
      exitNow(ExitCode.interrupted);
    }
    holdExits();
    ctx.log.info(`\n${signal} received: cleaning up — the run stops, then what it created is removed (whatever --keep says, unless --keep always)…`);
    ctx.failed = true;
    ctx.interrupt(`interrupted by ${signal}`);
    // Cleanup starts once the run has unwound: a killed kind creation has exited (so what it made
    // is known), an install in flight has stopped, nothing is created behind the cleanup's back.
    void Promise.race([unwound, new Promise((r) => setTimeout(r, UNWIND_MS).unref())])
      .then(() => ctx.cleanup())
      .finally(() => {
        ctx.log.info(`interrupted: ${ctx.pendingCleanups.length ? `left behind: ${ctx.pendingCleanups.join(', ')}` : 'cleanup done'}`);
        exitNow(ExitCode.interrupted);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  ctx.log.info(`gateway-smoke: chart ${plan.profile.name}, target ${plan.target}, suites ${plan.suites.join(', ')}`);
  let report;
  try {
    report = await executeRun(plan, ctx);
  } finally {
    runUnwound();
    if (!interrupted) await ctx.phase('cleanup', () => ctx.cleanup()).catch(() => undefined);
  }
  report.outcome = outcome(report);
  report.exitCode = exitCodeOf(report.outcome, plan.acceptIncomplete);
  const files = await writeReports(plan.reportDir, report);
  process.stderr.write(`\n${renderConsoleTable(report)}\n\n${mask(headline(report))}\n`);
  if (report.error) process.stderr.write(`Setup failed: ${mask(report.error)}\n`);
  process.stderr.write(`Reports: ${files.junit}, ${files.markdown}, ${files.html}\n`);
  for (const f of report.findings ?? []) process.stderr.write(`Under the run: ${f}\n`);
  for (const f of report.chartFindings ?? []) process.stderr.write(`Chart finding: ${f}\n`);
  for (const w of report.unusedWaivers ?? []) process.stderr.write(`Unused waiver: ${w}\n`);
  if (report.diagnostics) process.stderr.write(`Diagnostics: ${join(plan.reportDir, report.diagnostics)}\n`);
  if (report.outcome === 'INCOMPLETE' && plan.acceptIncomplete) process.stderr.write('INCOMPLETE accepted (--accept-incomplete): exit 0\n');
  return report.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (!interruptedBySignal) process.exit(code);
  },
  (err: unknown) => {
    // An interrupted run unwinds through here; the signal handler exits once cleanup is done.
    if (interruptedBySignal) return;
    if (err instanceof UserError) {
      process.stderr.write(`gateway-smoke: ${mask(oneParagraph(err.message))}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`gateway-smoke: internal error: ${mask(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exit(ExitCode.suiteFailed);
  },
);

