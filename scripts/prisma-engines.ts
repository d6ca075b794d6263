// Prisma's query and schema engines as an input: LiteLLM's key API runs on prisma-client-py, whose
// engines Prisma publishes only on its own CDN. A folder laid out like ../shared/prisma-engines
// (query-engine, schema-engine, SHA256SUMS) is given with --prisma-engines <dir> or
// GATEWAY_SMOKE_PRISMA_ENGINES, checked file by file, and never downloaded.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const PRISMA_ENGINES_ENV = 'GATEWAY_SMOKE_PRISMA_ENGINES';
export const ENGINE_FILES = ['query-engine', 'schema-engine'] as const;
export type EngineFile = (typeof ENGINE_FILES)[number];

export interface PrismaEngines {
  dir: string;
  files: Record<EngineFile, string>;
  sha256: Record<EngineFile, string>;
  /** 12 hex of both checksums: labels the images built with them, so a build without is distinguishable. */
  hash: string;
  /** What runtime-env.sh exports: point prisma-client-py 0.11 / Prisma CLI 5.4.2 at these files. */
  env: Record<string, string>;
}

export type EnginesResult = { ok: true; engines: PrismaEngines } | { ok: false; reason: string };

/** The folder a user gave: the flag wins over the environment variable; undefined when neither. */
export function enginesDirFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): { dir: string; from: string } | undefined {
  if (flag) return { dir: resolve(flag), from: '--prisma-engines' };
  const v = env[PRISMA_ENGINES_ENV];
  return v ? { dir: resolve(v), from: PRISMA_ENGINES_ENV } : undefined;
}

/** The variables runtime-env.sh sets, for engines at these paths. */
export function enginesEnv(files: Record<EngineFile, string>): Record<string, string> {
  return {
    PRISMA_QUERY_ENGINE_BINARY: files['query-engine'],
    PRISMA_SCHEMA_ENGINE_BINARY: files['schema-engine'],
    // the CLI otherwise looks for a .sha256 next to each engine and downloads it when missing
    PRISMA_ENGINES_CHECKSUM_IGNORE_MISSING: '1',
    PRISMA_CLI_QUERY_ENGINE_TYPE: 'binary',
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  };
}

export const NOT_GIVEN =
  "Prisma engines not given: LiteLLM's key API (and so per-key limits) needs Prisma's query and schema engines, " +
  'which Prisma publishes only on its own CDN; pass --prisma-engines <dir> (or GATEWAY_SMOKE_PRISMA_ENGINES) with ' +
  'query-engine, schema-engine and SHA256SUMS built for prisma-client-py 0.11.0 (see ../shared/prisma-engines/README.md)';

function sha256File(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('error', fail)
      .on('data', (b) => h.update(b))
      .on('end', () => ok(h.digest('hex')));
  });
}

/** `<hex>  <name>` lines (sha256sum's format, text or binary marker). */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64})\s+\*?(\S.*)$/i.exec(line.trim());
    if (m) sums.set(m[2]!.replace(/^\.\//, ''), m[1]!.toLowerCase());
  }
  return sums;
}

/**
 * Checks the folder and returns the engines with their env, or why they cannot be used, as one
 * sentence for an `environment` verdict. `from` names where the folder came from.
 */
export async function checkPrismaEngines(given: { dir: string; from: string } | undefined): Promise<EnginesResult> {
  if (!given) return { ok: false, reason: NOT_GIVEN };
  const { dir, from } = given;
  const where = `the Prisma engines folder ${dir} (from ${from})`;
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) return { ok: false, reason: `Prisma engines unavailable: ${where} does not exist or is not a folder` };
  const sumsText = await readFile(join(dir, 'SHA256SUMS'), 'utf8').catch(() => undefined);
  if (sumsText === undefined) return { ok: false, reason: `Prisma engines unavailable: ${where} has no SHA256SUMS to check the engines against` };
  const sums = parseSha256Sums(sumsText);
  const files = {} as Record<EngineFile, string>;
  const sha256 = {} as Record<EngineFile, string>;
  for (const name of ENGINE_FILES) {
    const path = join(dir, name);
    const expected = sums.get(name);
    if (!(await stat(path).then((s) => s.isFile(), () => false))) return { ok: false, reason: `Prisma engines unavailable: ${where} has no ${name}` };
    if (!expected) return { ok: false, reason: `Prisma engines unavailable: ${where}: SHA256SUMS has no line for ${name}` };
    if (!(await access(path, constants.X_OK).then(() => true, () => false))) {
      return { ok: false, reason: `Prisma engines unavailable: ${path} is not executable` };
    }
    const actual = await sha256File(path);
    if (actual !== expected) {
      return { ok: false, reason: `Prisma engines unavailable: ${path} has sha256 ${actual.slice(0, 16)}…, but SHA256SUMS says ${expected.slice(0, 16)}… (corrupted or replaced)` };
    }
    files[name] = path;
    sha256[name] = actual;
  }
  const hash = createHash('sha256').update(`${sha256['query-engine']} ${sha256['schema-engine']}`).digest('hex').slice(0, 12);
  return { ok: true, engines: { dir, files, sha256, hash, env: enginesEnv(files) } };
}
