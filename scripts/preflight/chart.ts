// Preflight for --chart-dir: the folder must be a chart Helm can read, and the chart the profile
// tests, so a wrong folder is refused in a second instead of after a whole provisioning.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { isMap, parse, parseDocument } from 'yaml';
import { mask } from '../secrets.ts';
import { lastLine, type Problem, userProblem } from './problem.ts';

export interface ChartIdentity {
  /** The profile, as --chart names it. */
  name: string;
  /** The chart's own name, from its Chart.yaml. */
  chartName: string;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

/** Subfolders (one level down) that are charts, with their names: a hint for a folder one level too high. */
async function chartsBelow(dir: string): Promise<{ path: string; name: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found: { path: string; name: string }[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (!e.isDirectory() && !(e.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isDirectory())) continue;
    const text = await readFile(join(path, 'Chart.yaml'), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const name = (() => {
      try {
        const c = parse(text) as { name?: unknown } | null;
        return typeof c?.name === 'string' ? c.name : e.name;
      } catch {
        return e.name;
      }
    })();
    found.push({ path, name });
  }
  return found;
}

interface ChartMeta {
  name?: unknown;
  version?: unknown;
}
type ReadResult = { meta: ChartMeta } | { problem: Problem };

/** Name and version as helm reads them (`helm show chart`), or the problem helm has with the folder. */
async function readWithHelm(helm: string, dir: string): Promise<ReadResult> {
  const r = await execa(helm, ['show', 'chart', dir], { reject: false, timeout: 30_000 });
  if (r.exitCode !== 0) {
    const said = r.timedOut ? 'it did not finish within 30s' : mask(lastLine(r.stderr || r.stdout)) || `exit ${r.exitCode}`;
    return { problem: userProblem(`--chart-dir ${dir} is not a chart helm can read (\`helm show chart\` says: ${said}); point it at a clean checkout of the chart's folder.`) };
  }
  return { meta: (parse(r.stdout) ?? {}) as ChartMeta };
}

/** Without helm (the kind target builds it later, in cluster-up.sh), the Chart.yaml itself is read. */
async function readChartYaml(dir: string): Promise<ReadResult> {
  const file = join(dir, 'Chart.yaml');
  const doc = parseDocument(await readFile(file, 'utf8'), { prettyErrors: false });
  const err = doc.errors[0];
  if (err) return { problem: userProblem(`--chart-dir ${dir} has a Chart.yaml that is not valid YAML (${err.message.split('\n')[0]}); fix ${file}.`) };
  if (!isMap(doc.contents)) return { problem: userProblem(`--chart-dir ${dir} has a Chart.yaml that is not a mapping; fix ${file} (it needs apiVersion, name and version).`) };
  return { meta: doc.toJS() as ChartMeta };
}

/**
 * @param helm the helm binary when there is one; `helm show chart` is the real test of the folder
 *   (it loads every file, as an install would), the Chart.yaml fallback only its name.
 * @param others the other profiles, to name the one that tests the chart actually found.
 */
export async function chartDirProblems(dir: string, profile: ChartIdentity, helm: string | undefined, others: readonly ChartIdentity[] = []): Promise<Problem[]> {
  const st = await stat(dir).catch(() => undefined);
  const want = `the ${profile.chartName} chart (the folder holding its Chart.yaml)`;
  if (!st) return [userProblem(`--chart-dir ${dir} does not exist; give the folder of ${want}.`)];
  if (!st.isDirectory()) return [userProblem(`--chart-dir ${dir} is a file, not a folder; give the folder of ${want}.`)];

  if (!(await isFile(join(dir, 'Chart.yaml')))) {
    const below = await chartsBelow(dir);
    const match = below.find((c) => c.name === profile.chartName);
    const what = `--chart-dir ${dir} holds no Chart.yaml, so it is not a Helm chart`;
    if (match) return [userProblem(`${what}; its subfolder ${match.path} holds the ${profile.chartName} chart, so pass that folder.`)];
    const hint = below.length ? ` (its subfolders hold the charts ${below.map((c) => c.name).join(', ')})` : '';
    return [userProblem(`${what}${hint}; give the folder of ${want}.`)];
  }

  const read = helm ? await readWithHelm(helm, dir) : await readChartYaml(dir);
  if ('problem' in read) return [read.problem];
  const { meta } = read;
  if (typeof meta.name !== 'string' || meta.name === '') {
    return [userProblem(`--chart-dir ${dir} has a Chart.yaml without a name; give the folder of ${want}.`)];
  }
  if (meta.name === profile.chartName) return [];
  const version = typeof meta.version === 'string' || typeof meta.version === 'number' ? ` ${meta.version}` : '';
  const other = others.find((p) => p.chartName === meta.name && p.name !== profile.name);
  return [
    userProblem(
      `--chart-dir ${dir} holds the chart "${meta.name}"${version}, but the ${profile.name} profile tests "${profile.chartName}"; ` +
        `point --chart-dir at a ${profile.chartName} checkout${other ? `, or test this chart with --chart ${other.name}` : ''}.`,
    ),
  ];
}
