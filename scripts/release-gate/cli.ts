#!/usr/bin/env node
// The release gate's steps (.github/workflows/release-gate.yml) call this:
//   node scripts/release-gate/cli.ts inputs   checks the INPUT_* variables; writes the harness's
//                                             arguments (one a line) to $GATE_ARGS_FILE; exit 2 on bad input
//   node scripts/release-gate/cli.ts verdict  reads EXIT_CODE and $REPORT_DIR/report.json; writes
//                                             verdict, verified, failed, waived, environment
// Outputs go to $GITHUB_OUTPUT (key=value lines); messages to stdout as workflow commands.
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode } from '../errors.ts';
import type { RunReport } from '../report/model.ts';
import { checkGateInputs } from './inputs.ts';
import { countChecks, gateVerdict } from './verdict.ts';

const env = process.env;

async function output(pairs: Record<string, string | number>): Promise<void> {
  const lines = Object.entries(pairs).map(([k, v]) => `${k}=${v}\n`).join('');
  if (env['GITHUB_OUTPUT']) await appendFile(env['GITHUB_OUTPUT'], lines);
  else process.stdout.write(lines);
}

/** Workflow commands end at a line break and read `%`: escape as the runner expects. */
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');

async function inputs(): Promise<number> {
  const check = await checkGateInputs(
    {
      chart: env['INPUT_CHART'] ?? '',
      chartVersion: env['INPUT_CHART_VERSION'],
      chartDir: env['INPUT_CHART_DIR'],
      values: env['INPUT_VALUES'],
      waivers: env['INPUT_WAIVERS'],
      target: env['INPUT_TARGET'],
      suites: env['INPUT_SUITES'],
      images: env['INPUT_IMAGES'],
      prismaEngines: env['INPUT_PRISMA_ENGINES'],
      acceptIncomplete: env['INPUT_ACCEPT_INCOMPLETE'],
    },
    env['CALLER_DIR'] ?? process.cwd(),
    env['REPORT_DIR'] ?? 'reports',
  );
  for (const p of check.problems) process.stdout.write(`::error title=release gate: bad input::${escapeData(p)}\n`);
  for (const n of check.notes) process.stdout.write(`::warning title=release gate::${escapeData(n)}\n`);
  if (check.problems.length) {
    await output({ 'exit-code': ExitCode.usage });
    return ExitCode.usage;
  }
  if (env['GATE_ARGS_FILE']) await writeFile(env['GATE_ARGS_FILE'], check.args.join('\n') + '\n');
  await output({ 'setup-local': check.setupLocal.join(' ') });
  process.stdout.write(`npm run e2e -- ${check.args.join(' ')}\n`);
  return ExitCode.ok;
}

async function verdict(): Promise<number> {
  const exitCode = env['EXIT_CODE'] || undefined;
  const text = await readFile(join(env['REPORT_DIR'] ?? 'reports', 'report.json'), 'utf8').catch(() => undefined);
  let report: RunReport | undefined;
  try {
    report = text ? (JSON.parse(text) as RunReport) : undefined;
  } catch {
    report = undefined;
  }
  const v = gateVerdict(exitCode, report);
  const counts = countChecks(report);
  await output({ verdict: v, ...counts });
  process.stdout.write(
    `release gate verdict: ${v} (harness exit code: ${exitCode ?? 'none'}); checks: ${counts.verified} verified, ${counts.failed} failed, ` +
      `${counts.waived} waived, ${counts.environment} environment${report ? '' : ' (no report.json)'}\n`,
  );
  return ExitCode.ok;
}

const command = process.argv[2];
const run = command === 'inputs' ? inputs : command === 'verdict' ? verdict : undefined;
if (!run) {
  process.stderr.write('usage: node scripts/release-gate/cli.ts inputs|verdict\n');
  process.exit(ExitCode.usage);
}
run().then((code) => process.exit(code));
