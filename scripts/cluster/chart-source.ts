// Where the chart under test comes from, never silently substituted: --chart-dir, else the
// profile's pinned upstream commit (git, when reachable), else a chart mirror (a folder of chart
// folders, as air-gapped organisations keep). Anything else is an environment error that says how
// to point the harness at the chart.
import { access, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse, stringify } from 'yaml';
import { EnvironmentError } from '../errors.ts';
import type { ChartProfile } from '../profiles/types.ts';
import type { RunContext } from '../run-context.ts';
import { probeUrl } from './registry.ts';
import { type ChartMeta, readChartMeta, valueAt, type Values } from './values.ts';

export type ChartOrigin = 'chart-dir' | 'upstream' | 'mirror';

export interface ResolvedChart {
  path: string;
  origin: ChartOrigin;
  /** One line for the headline and the fingerprint: which chart ran, from where. */
  label: string;
  meta: ChartMeta;
  /** What the harness had to do to the chart to install it at all (said in the report). */
  notes: string[];
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function fetchUpstream(profile: ChartProfile, ctx: RunContext): Promise<{ path: string } | { error: string }> {
  const src = profile.source;
  if (src.kind !== 'git') return { error: `${src.ref} is an OCI chart; OCI sources are not fetched by this harness yet` };
  const dir = await mkdtemp(join(tmpdir(), 'gs-chart-'));
  ctx.defer('remove chart checkout', () => rm(dir, { recursive: true, force: true }));
  const git = (args: string[]) => execa('git', args, { cwd: dir, reject: false, timeout: 60_000, env: { GIT_TERMINAL_PROMPT: '0' } });
  await git(['init', '-q']);
  const fetched = await git(['fetch', '-q', '--depth', '1', src.repo, src.commit]);
  if (fetched.exitCode === 0 && (await git(['checkout', '-q', 'FETCH_HEAD'])).exitCode === 0) return { path: join(dir, src.path) };
  return { error: (fetched.stderr || `git fetch exited ${fetched.exitCode}`).split('\n').filter(Boolean).pop()!.slice(0, 200) };
}

function pinned(profile: ChartProfile): string {
  const s = profile.source;
  return s.kind === 'git' ? `${s.repo.replace(/^https:\/\//, '')}/${s.path}@${s.commit.slice(0, 7)}` : `${s.ref}:${s.version}`;
}

export async function resolveChart(o: { profile: ChartProfile; chartDir?: string | undefined; mirror?: string | undefined; ctx: RunContext }): Promise<ResolvedChart> {
  const { profile } = o;
  if (o.chartDir) {
    const meta = await readChartMeta(o.chartDir);
    return { path: o.chartDir, origin: 'chart-dir', label: `local checkout ${o.chartDir} (${meta.name} ${meta.version})`, meta, notes: [] };
  }
  const upstream = await fetchUpstream(profile, o.ctx);
  if ('path' in upstream) {
    return { path: upstream.path, origin: 'upstream', label: `upstream ${pinned(profile)}`, meta: await readChartMeta(upstream.path), notes: [] };
  }
  if (o.mirror) {
    const dir = join(o.mirror, profile.source.chartName);
    if (!(await exists(join(dir, 'Chart.yaml')))) {
      throw new EnvironmentError(
        `The chart ${pinned(profile)} could not be fetched (${upstream.error}), and the chart mirror ${o.mirror} has no ` +
          `${profile.source.chartName}/Chart.yaml. Put a copy of the chart at that commit there, or pass --chart-dir with a checkout.`,
      );
    }
    const meta = await readChartMeta(dir);
    if (meta.name !== profile.source.chartName || meta.version !== profile.source.version) {
      throw new EnvironmentError(
        `The chart mirror's ${dir} holds ${meta.name} ${meta.version}, but the profile pins ${profile.source.chartName} ` +
          `${profile.source.version} (${pinned(profile)}). Update the mirror to that commit, or pass --chart-dir to test another copy on purpose.`,
      );
    }
    o.ctx.log.info(`upstream chart unreachable (${upstream.error}); using the mirror copy ${dir}`);
    return { path: dir, origin: 'mirror', label: `mirror copy of ${pinned(profile)} (${dir})`, meta, notes: [] };
  }
  throw new EnvironmentError(
    `The chart ${pinned(profile)} could not be fetched (${upstream.error}) and no chart mirror is set. Point ` +
      `--chart-mirror (or GATEWAY_SMOKE_CHART_MIRROR) at a folder that holds ${profile.source.chartName}/ at that commit, ` +
      'or pass --chart-dir with a local checkout of the chart.',
  );
}

/** The first condition path that resolves to a boolean decides, as Helm does; none means enabled. */
export function dependencyEnabled(condition: string | undefined, values: Values): { enabled: boolean; because: string } {
  for (const path of (condition ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const v = valueAt(values, path);
    if (typeof v === 'boolean') return { enabled: v, because: `${path}=${v}` };
  }
  return { enabled: true, because: condition ? `${condition} is unset` : 'it has no condition' };
}

/** Why the dependencies could not be fetched, in the words that help: an unreachable repository, else helm's. */
async function fetchFailure(deps: ChartMeta['dependencies'], helmSaid: string): Promise<string> {
  for (const dep of deps) {
    if (!dep.repository?.startsWith('http')) continue;
    const host = new URL(dep.repository).host;
    const r = await probeUrl(`${dep.repository.replace(/\/$/, '')}/index.yaml`);
    if (!r.reachable) return `its repository ${host} is unreachable: ${r.detail}`;
  }
  return `helm dependency build said: ${helmSaid}`;
}

async function vendored(chartDir: string, dep: ChartMeta['dependencies'][number]): Promise<boolean> {
  const entries = await readdir(join(chartDir, 'charts')).catch(() => [] as string[]);
  return entries.some((e) => e === dep.name || e.startsWith(`${dep.name}-`));
}

/**
 * Makes the chart's declared dependencies installable. Helm refuses a chart whose dependency is
 * missing from charts/ even when its condition disables it. `helm dependency build` when the
 * repository answers; else a disabled dependency is dropped on a temporary copy (and the report says
 * so), and an enabled one is an environment error naming it. The user's chart is never modified.
 */
export async function prepareDependencies(o: { chart: ResolvedChart; values: Values; helm: string; ctx: RunContext }): Promise<ResolvedChart> {
  const missing = [];
  for (const dep of o.chart.meta.dependencies) if (!(await vendored(o.chart.path, dep))) missing.push(dep);
  if (missing.length === 0) return o.chart;
  const copy = await mkdtemp(join(tmpdir(), 'gs-chart-copy-'));
  o.ctx.defer('remove temporary chart copy', () => rm(copy, { recursive: true, force: true }));
  const path = join(copy, o.chart.meta.name || 'chart');
  await cp(o.chart.path, path, { recursive: true });
  const built = await execa(o.helm, ['dependency', 'build', path], { reject: false, timeout: 120_000, cancelSignal: o.ctx.signal });
  if (built.exitCode === 0) {
    return { ...o.chart, path, notes: [...o.chart.notes, `dependencies ${missing.map((d) => d.name).join(', ')} fetched by helm dependency build`] };
  }
  const why = await fetchFailure(missing, (built.stderr || built.stdout).trim().split('\n').pop() ?? `exit ${built.exitCode}`);
  const notes: string[] = [];
  const kept = [];
  for (const dep of o.chart.meta.dependencies) {
    if (!missing.includes(dep)) {
      kept.push(dep);
      continue;
    }
    const { enabled, because } = dependencyEnabled(dep.condition, o.values);
    if (enabled) {
      throw new EnvironmentError(
        `The chart's dependency ${dep.name} ${dep.version ?? ''} from ${dep.repository ?? 'its repository'} is enabled (${because}) ` +
          `but cannot be fetched (${why}). Vendor it into the chart's charts/ folder, or disable it in --values.`,
      );
    }
    notes.push(
      `dependency ${dep.name} ${dep.version ?? ''} (${dep.repository ?? '?'}) dropped on a temporary copy of the chart: ` +
        `it is disabled (${because}) and could not be fetched (${why})`,
    );
  }
  const chartYaml = parse(await readFile(join(path, 'Chart.yaml'), 'utf8')) as Values;
  if (kept.length) chartYaml.dependencies = kept;
  else delete chartYaml.dependencies;
  await writeFile(join(path, 'Chart.yaml'), stringify(chartYaml));
  await rm(join(path, 'Chart.lock'), { force: true });
  for (const n of notes) o.ctx.log.info(n);
  return { ...o.chart, path, meta: { ...o.chart.meta, dependencies: kept }, notes: [...o.chart.notes, ...notes] };
}
