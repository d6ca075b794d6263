// The preflight phase: every input is checked before the first thing is created (no cluster, no
// namespace, no process, no report folder), and every problem found is reported at once, as one
// paragraph, with exit 2 when any of them is the user's input and 3 when all are the machine's.
import { resolve } from 'node:path';
import { ExitCode, UserError } from './errors.ts';
import { kubeconfigPath } from './kube/client.ts';
import type { RunPlan } from './plan.ts';
import { chartDirProblems, type ChartIdentity } from './preflight/chart.ts';
import { dockerProblems } from './preflight/docker.ts';
import { chartMirrorProblems, prismaEnginesProblems, readWaiversFile, reportDirProblems, valuesFileProblems } from './preflight/files.ts';
import { kubeContextProblems } from './preflight/kube.ts';
import { environmentProblem, type NamedFolder, type Problem } from './preflight/problem.ts';
import { PROFILES } from './profiles/index.ts';
import type { ChartProfile } from './profiles/types.ts';
import type { TargetKind } from './targets/types.ts';
import { checkTool, locateSync, TOOLS, type ToolName } from './tools.ts';
import type { Waiver } from './waivers-file.ts';

export type { NamedFolder, Problem } from './preflight/problem.ts';

/** What preflight looks at: plain values, so each check can be driven without a CLI. */
export interface PreflightInput {
  profile: Pick<ChartProfile, 'name' | 'source'>;
  target: TargetKind;
  clusterName: string;
  reportDir: string;
  valuesFiles: readonly string[];
  chartDir?: string;
  waiversFile?: string;
  /** --context, for --target existing. */
  kubeContext?: string;
  chartMirror?: NamedFolder;
  prismaEngines?: NamedFolder;
  /** CLIs the target needs before it can start (the provisioner's list). */
  tools?: readonly ToolName[];
}

/** What preflight read while checking, so nothing is read twice. */
export interface PreflightResult {
  waivers: Waiver[];
}

/** All problems in one paragraph; the exit code says whose they are. */
export class PreflightError extends UserError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    const exit = problems.some((p) => p.kind === 'user') ? ExitCode.usage : ExitCode.environment;
    const list = problems.length === 1 ? problems[0]!.text : problems.map((p, i) => `(${i + 1}) ${p.text}`).join(' ');
    super(`Nothing was created: ${problems.length === 1 ? 'the input check found a problem' : `the input check found ${problems.length} problems`}. ${list}`, exit);
    this.name = 'PreflightError';
    this.problems = problems;
  }
}

const identity = (p: Pick<ChartProfile, 'name' | 'source'>): ChartIdentity => ({ name: p.name, chartName: p.source.chartName });

async function toolProblems(names: readonly ToolName[], env: NodeJS.ProcessEnv): Promise<Problem[]> {
  const found = await Promise.all(
    names.map((n) =>
      checkTool(TOOLS[n], env).then(
        () => undefined,
        (err: unknown) => (err instanceof UserError ? environmentProblem(err.message) : Promise.reject(err)),
      ),
    ),
  );
  return found.filter((p): p is Problem => p !== undefined);
}

/** Runs every check that applies to the input, concurrently; problems come back in a stable order. */
export async function runChecks(input: PreflightInput, env: NodeJS.ProcessEnv = process.env): Promise<{ problems: Problem[] } & PreflightResult> {
  const waivers = input.waiversFile ? readWaiversFile(input.waiversFile, input.profile.name) : Promise.resolve({ waivers: [], problems: [] });
  const checks: Promise<Problem[]>[] = [
    ...input.valuesFiles.map((f) => valuesFileProblems(f)),
    ...(input.chartDir ? [chartDirProblems(input.chartDir, identity(input.profile), locateSync('helm', env), PROFILES.map(identity))] : []),
    waivers.then((w) => w.problems),
    ...(input.chartMirror ? [chartMirrorProblems(input.chartMirror)] : []),
    ...(input.prismaEngines ? [prismaEnginesProblems(input.prismaEngines)] : []),
    reportDirProblems(input.reportDir),
    ...(input.target === 'existing' ? [kubeContextProblems({ kubeconfig: kubeconfigPath(env), ...(input.kubeContext ? { context: input.kubeContext } : {}) })] : []),
    ...(input.target === 'kind' ? [dockerProblems(input.clusterName, env)] : []),
    toolProblems(input.tools ?? [], env),
  ];
  return { problems: (await Promise.all(checks)).flat(), waivers: (await waivers).waivers };
}

/** Throws a PreflightError naming every problem; otherwise returns what it read. */
export async function preflight(input: PreflightInput, env: NodeJS.ProcessEnv = process.env): Promise<PreflightResult> {
  const { problems, waivers } = await runChecks(input, env);
  if (problems.length) throw new PreflightError(problems);
  return { waivers };
}

/**
 * A folder of the plan, with how it was named. The plan keeps only the path (the flag wins over the
 * variable), so a path equal to the variable's is put down to it (a flag naming the very same folder
 * cannot be told apart, and then the folder is the machine's setup either way).
 */
function named(path: string | undefined, flag: string, variable: string, env: NodeJS.ProcessEnv): NamedFolder | undefined {
  if (!path) return undefined;
  const fromEnv = env[variable] && resolve(env[variable]) === path;
  return { path, from: fromEnv ? variable : flag };
}

/** The preflight's view of a run plan; `tools` is what the target's provisioner needs. */
export function preflightInput(plan: RunPlan, tools: readonly ToolName[] = [], env: NodeJS.ProcessEnv = process.env): PreflightInput {
  const chartMirror = named(plan.chartMirror, '--chart-mirror', 'GATEWAY_SMOKE_CHART_MIRROR', env);
  const prismaEngines = plan.prismaEngines ? { path: plan.prismaEngines.dir, from: plan.prismaEngines.from } : undefined;
  return {
    profile: plan.profile,
    target: plan.target,
    clusterName: plan.clusterName,
    reportDir: plan.reportDir,
    valuesFiles: [...(plan.valuesFile ? [plan.valuesFile] : []), ...(plan.upgradeFrom?.valuesFile ? [plan.upgradeFrom.valuesFile] : [])],
    ...(plan.chartDir ? { chartDir: plan.chartDir } : {}),
    ...(plan.waiversFile ? { waiversFile: plan.waiversFile } : {}),
    ...(plan.kubeContext ? { kubeContext: plan.kubeContext } : {}),
    ...(chartMirror ? { chartMirror } : {}),
    ...(prismaEngines ? { prismaEngines } : {}),
    tools,
  };
}
