// Preflight checks on the files and folders a run is given: each returns the problems it found
// (empty when the input is fine) and change nothing (a values file's secrets are registered for
// masking as it is read, in memory; the report folder's write probe is removed again at once).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { UserError } from '../errors.ts';
import { registerValuesSecrets } from '../values-secrets.ts';
import { parseWaivers, type Waiver } from '../waivers-file.ts';
import { type NamedFolder, type Problem, problemFrom, userProblem } from './problem.ts';

async function statOrUndefined(path: string) {
  return stat(path).catch(() => undefined);
}

/** A Helm values file must parse and be a mapping at the top (helm refuses anything else, late). */
export async function valuesFileProblems(file: string, flag = '--values'): Promise<Problem[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return [userProblem(`${flag} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the path of a YAML values file.`)];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const err = doc.errors[0];
  if (err) {
    const at = lines.linePos(err.pos[0]);
    return [
      userProblem(
        `${flag} ${file} is not valid YAML at line ${at.line}, column ${at.col} (${err.message.split('\n')[0]}); fix that line so the file parses.`,
      ),
    ];
  }
  const root = doc.contents;
  if (root === null) return []; // an empty values file sets nothing, as for helm
  if (isMap(root)) {
    // The one read of the file before anything runs: its secrets are masked from here on.
    registerValuesSecrets(doc.toJS());
    return [];
  }
  const what = isSeq(root) ? 'a list' : 'a single value';
  const line = root.range ? lines.linePos(root.range[0]).line : 1;
  return [
    userProblem(
      `${flag} ${file} holds ${what} (from line ${line}), not a mapping; Helm values are "key: value" pairs at the top level, so write it as a mapping.`,
    ),
  ];
}

/** The waivers file must exist and have the shape scripts/waivers-file.ts defines; parsed once, here. */
export async function readWaiversFile(file: string, runChart?: string): Promise<{ waivers: Waiver[]; problems: Problem[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const problem = userProblem(`--waivers ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give the path of a YAML waivers file.`);
    return { waivers: [], problems: [problem] };
  }
  try {
    return { waivers: parseWaivers(text, file, runChart), problems: [] };
  } catch (err) {
    if (err instanceof UserError) return { waivers: [], problems: [userProblem(err.message)] };
    throw err;
  }
}

/**
 * Whether files can be made in a folder, found by making one: permission bits say nothing for root,
 * who "may write" /proc yet cannot create a file there, nor on a read-only mount.
 */
async function creationRefused(folder: string): Promise<NodeJS.ErrnoException | undefined> {
  let probe: string | undefined;
  try {
    probe = await mkdtemp(join(folder, '.gateway-smoke-write-check-'));
    await writeFile(join(probe, 'probe'), '');
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  } finally {
    if (probe) await rm(probe, { recursive: true, force: true });
  }
}

/**
 * The report dir must be writable, or creatable: its nearest existing ancestor a folder in which a
 * folder with a file can be made (tried, then removed). The run creates the report dir once it starts.
 */
export async function reportDirProblems(dir: string): Promise<Problem[]> {
  const full = resolve(dir);
  let existing = full;
  let st = await statOrUndefined(existing);
  while (!st && dirname(existing) !== existing) {
    existing = dirname(existing);
    st = await statOrUndefined(existing);
  }
  const fix = 'pass --report-dir with a folder this user can write';
  if (!st) return [userProblem(`--report-dir ${full} cannot be created: no part of that path exists; ${fix}.`)];
  if (!st.isDirectory()) {
    return [
      userProblem(
        existing === full
          ? `--report-dir ${full} is a file, not a folder; ${fix}, or remove that file.`
          : `--report-dir ${full} cannot be created because ${existing} is a file, not a folder; ${fix}.`,
      ),
    ];
  }
  const refused = await creationRefused(existing);
  if (!refused) return [];
  const code = refused.code ?? String(refused);
  const why =
    code === 'EROFS' ? 'is on a read-only file system' : code === 'EACCES' || code === 'EPERM' ? `is not writable by this user (${code})` : `does not take new files (creating one failed: ${code})`;
  const subject = existing === full ? `--report-dir ${full}` : `--report-dir ${full} cannot be created: ${existing}`;
  return [userProblem(`${subject} ${why}; ${fix}.`)];
}

/** A chart mirror: a folder of chart folders, each with a Chart.yaml (as ../shared/charts is laid out). */
export async function chartMirrorProblems(mirror: NamedFolder): Promise<Problem[]> {
  const st = await statOrUndefined(mirror.path);
  if (!st?.isDirectory()) {
    return [problemFrom(mirror.from, `${mirror.from} ${mirror.path} ${st ? 'is a file' : 'does not exist'}; give a folder holding one folder per chart, each with its Chart.yaml.`)];
  }
  const entries = await readdir(mirror.path, { withFileTypes: true });
  const charts: string[] = [];
  for (const e of entries) {
    if ((e.isDirectory() || e.isSymbolicLink()) && (await statOrUndefined(join(mirror.path, e.name, 'Chart.yaml')))?.isFile()) charts.push(e.name);
  }
  if (charts.length) return [];
  const itself = (await statOrUndefined(join(mirror.path, 'Chart.yaml')))?.isFile();
  return [
    problemFrom(
      mirror.from,
      `${mirror.from} ${mirror.path} holds no chart folders (a folder per chart, each with a Chart.yaml)` +
        (itself ? '; it is a single chart, so give its parent folder, or pass it with --chart-dir' : '; point it at the folder that holds the chart folders') +
        '.',
    ),
  ];
}

const ENGINES = ['query-engine', 'schema-engine'] as const;

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Prisma engines: query-engine and schema-engine, executable, matching the SHA256SUMS beside them. */
export async function prismaEnginesProblems(engines: NamedFolder): Promise<Problem[]> {
  const what = 'a folder with the Prisma query-engine and schema-engine binaries and their SHA256SUMS';
  const st = await statOrUndefined(engines.path);
  if (!st?.isDirectory()) {
    return [problemFrom(engines.from, `${engines.from} ${engines.path} ${st ? 'is a file' : 'does not exist'}; give ${what}.`)];
  }
  const wrong: string[] = [];
  let sums: Map<string, string> | undefined;
  try {
    const text = await readFile(join(engines.path, 'SHA256SUMS'), 'utf8');
    sums = new Map(
      text
        .split('\n')
        .map((l) => /^([0-9a-f]{64})\s+\*?(\S+)$/i.exec(l.trim()))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[2]!, m[1]!.toLowerCase()]),
    );
  } catch {
    wrong.push('SHA256SUMS is missing');
  }
  for (const name of ENGINES) {
    const path = join(engines.path, name);
    const f = await statOrUndefined(path);
    if (!f?.isFile()) {
      wrong.push(`${name} is missing`);
      continue;
    }
    if (!(await access(path, constants.X_OK).then(() => true, () => false))) wrong.push(`${name} is not executable`);
    if (!sums) continue;
    const want = sums.get(name);
    if (!want) wrong.push(`SHA256SUMS has no line for ${name}`);
    else if ((await sha256(path)) !== want) wrong.push(`${name} does not match its SHA256SUMS line`);
  }
  if (!wrong.length) return [];
  return [problemFrom(engines.from, `${engines.from} ${engines.path} is not usable (${wrong.join('; ')}); give ${what}.`)];
}
