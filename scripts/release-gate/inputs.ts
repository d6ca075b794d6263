// The release gate's inputs (.github/workflows/release-gate.yml), checked before anything costly
// runs, and turned into the harness's arguments. The workflow and test/release-gate.test.ts both
// call this, so the docs' example is checked by the same logic a caller meets.
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parse } from 'yaml';
import { IMAGES_MODES } from '../cluster/app-image.ts';
import { chartNames, getProfile } from '../profiles/index.ts';
import type { ChartProfile } from '../profiles/types.ts';

/** The workflow_call inputs, as the strings GitHub hands to a step's environment. */
export interface GateInputs {
  chart: string;
  chartVersion?: string;
  chartDir?: string;
  values?: string;
  waivers?: string;
  target?: string;
  suites?: string;
  images?: string;
  prismaEngines?: string;
  acceptIncomplete?: string;
}

export interface GateCheck {
  /** One sentence per bad input; the gate fails (bad input) when there is any. */
  problems: string[];
  /** Arguments for `npm run e2e --`, when there is no problem. */
  args: string[];
  /** Components of scripts/setup-local.sh the local target needs. */
  setupLocal: string[];
  /** What the run will not prove, said before it starts (e.g. no Prisma engines). */
  notes: string[];
}

export const GATE_TARGETS = ['kind', 'local'] as const;

/** `v1.2.3` and `1.2.3` name the same chart version: tags carry the `v`, Chart.yaml usually not. */
export function sameChartVersion(given: string, chartYaml: string): boolean {
  const bare = (v: string) => v.trim().replace(/^v(?=\d)/, '');
  return bare(given) === bare(chartYaml);
}

/** Chart.yaml's `version`, or why it cannot be read. */
export async function chartYamlVersion(chartDir: string): Promise<{ version: string } | { problem: string }> {
  const file = join(chartDir, 'Chart.yaml');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return { problem: 'has no Chart.yaml' };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { problem: `has a Chart.yaml that does not parse (${(err as Error).message.split('\n')[0]})` };
  }
  const v = (doc as { version?: unknown } | null)?.version;
  if (typeof v !== 'string' && typeof v !== 'number') return { problem: 'has a Chart.yaml without a version' };
  return { version: String(v) };
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const isFile = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/**
 * Why the local target would not test this chart's own software, or undefined when it does. A gate
 * that names a chart must test that chart's gateway, not another one standing in for it.
 */
export function localTargetGap(profile: ChartProfile): string | undefined {
  if (!profile.local) return `the ${profile.name} chart has no local target (its gateway cannot run as a process here); use target kind`;
  if (profile.localIsStandIn) {
    return (
      `target local for ${profile.name} runs ${profile.local} as a stand-in for the chart's own app, so the gate would test another ` +
      `gateway's software than the chart ships; use target kind (with images: chart)`
    );
  }
  return undefined;
}

/** The scripts/setup-local.sh components the local target needs for this chart's gateway. */
export function setupLocalFor(profile: ChartProfile): string[] {
  return profile.local === 'litellm' ? ['apt', 'litellm', 'prisma'] : profile.local === 'llm-proxy' ? ['apt', 'llm-proxy'] : [];
}

/** Whether the chart's gateway is LiteLLM on this target and images mode, so its key API needs Prisma's engines. */
export function needsPrismaEngines(profile: ChartProfile, target: string, images: string): boolean {
  if (target === 'local') return profile.local === 'litellm';
  return images !== 'chart' && profile.app?.standIn?.prismaEngines === true;
}

/**
 * Checks every input at once (each problem one sentence) and builds the harness's arguments.
 * `callerDir` is where the calling repository is checked out; `reportDir` where the report goes.
 */
export async function checkGateInputs(inputs: GateInputs, callerDir: string, reportDir: string): Promise<GateCheck> {
  const problems: string[] = [];
  const notes: string[] = [];
  const target = inputs.target || 'kind';
  const images = inputs.images || 'chart';
  const inCaller = (p: string) => join(callerDir, p);

  let profile: ChartProfile | undefined;
  if (!chartNames().includes(inputs.chart)) problems.push(`chart '${inputs.chart}' is not one of: ${chartNames().join(', ')}`);
  else profile = getProfile(inputs.chart);
  if (!(GATE_TARGETS as readonly string[]).includes(target)) problems.push(`target must be kind or local, not '${target}'`);
  if (!(IMAGES_MODES as readonly string[]).includes(images)) problems.push(`images must be one of ${IMAGES_MODES.join(', ')}, not '${images}'`);
  if (inputs.acceptIncomplete && !['true', 'false'].includes(inputs.acceptIncomplete)) problems.push(`accept-incomplete must be true or false, not '${inputs.acceptIncomplete}'`);
  if (profile && target === 'local') {
    const gap = localTargetGap(profile);
    if (gap) problems.push(gap);
  }

  const args = ['--chart', inputs.chart, '--target', target, '--suites', inputs.suites || 'all', '--report-dir', reportDir, '--keep', 'never'];
  if (target === 'kind') args.push('--images', images);

  if (inputs.chartVersion && !inputs.chartDir) {
    problems.push(
      `chart-version '${inputs.chartVersion}' was given without chart-dir: the gate would test the profile's pinned chart, not the version ` +
        'being released; set chart-dir to the chart in your repository (or drop chart-version)',
    );
  }
  if (inputs.chartDir) {
    const dir = inCaller(inputs.chartDir);
    if (!(await isDir(dir))) problems.push(`chart-dir '${inputs.chartDir}' is not a folder in the calling repository`);
    else {
      const found = await chartYamlVersion(dir);
      if ('problem' in found) problems.push(`chart-dir '${inputs.chartDir}' ${found.problem}`);
      else if (inputs.chartVersion && !sameChartVersion(inputs.chartVersion, found.version)) {
        problems.push(`chart-version '${inputs.chartVersion}' is not the version in ${inputs.chartDir}/Chart.yaml ('${found.version}')`);
      }
    }
    args.push('--chart-dir', dir);
  }
  for (const [input, flag, value] of [['values', '--values', inputs.values], ['waivers', '--waivers', inputs.waivers]] as const) {
    if (!value) continue;
    if (!(await isFile(inCaller(value)))) problems.push(`${input} file '${value}' is not in the calling repository`);
    args.push(flag, inCaller(value));
  }
  if (inputs.prismaEngines) {
    // a path in the calling repository, or an absolute path on a self-hosted runner
    const dir = isAbsolute(inputs.prismaEngines) ? inputs.prismaEngines : inCaller(inputs.prismaEngines);
    if (!(await isDir(dir))) problems.push(`prisma-engines '${inputs.prismaEngines}' is not a folder (a path in the calling repository, or absolute on the runner)`);
    args.push('--prisma-engines', dir);
  } else if (profile && needsPrismaEngines(profile, target, images)) {
    notes.push(
      `no prisma-engines: ${profile.name}'s LiteLLM runs without Prisma's engines, so its keys and ratelimit checks (and readiness ` +
        'reporting its database) end `environment` and the run is INCOMPLETE' +
        (profile.requiresDatabase && target === 'kind' ? `; the ${profile.name} chart always connects LiteLLM to a database, so the run stops as environment (exit 3)` : ''),
    );
  }
  if (inputs.acceptIncomplete === 'true') args.push('--accept-incomplete');
  // one argument per line goes to the harness step: a newline inside one would split it
  for (const a of args) if (a.includes('\n')) problems.push(`an input holds a line break: ${JSON.stringify(a)}`);
  return { problems, args, setupLocal: profile ? setupLocalFor(profile) : [], notes };
}
