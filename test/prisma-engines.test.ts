// The Prisma engines input: real files in temp folders (small stand-in programs for the layout
// rules, a copy of the real engines from GATEWAY_SMOKE_PRISMA_ENGINES for the real thing) and the
// one-sentence reasons a bad folder gives.
import { appendFile, chmod, copyFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { requireInCI } from './prerequisite.ts';
import { checkPrismaEngines, enginesDirFrom, NOT_GIVEN, PRISMA_ENGINES_ENV, parseSha256Sums } from '../scripts/prisma-engines.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'gs-engines-'));
  dirs.push(d);
  return d;
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A folder with the layout (two executables and their SHA256SUMS). */
async function fakeEngines(): Promise<string> {
  const d = await tempDir();
  const body = { 'query-engine': '#!/bin/sh\necho query-engine test\n', 'schema-engine': '#!/bin/sh\necho schema-engine test\n' };
  for (const [name, text] of Object.entries(body)) {
    await writeFile(join(d, name), text);
    await chmod(join(d, name), 0o755);
  }
  await writeFile(join(d, 'SHA256SUMS'), Object.entries(body).map(([n, t]) => `${sha(t)}  ${n}`).join('\n') + '\n');
  return d;
}
const given = (dir: string) => ({ dir, from: '--prisma-engines' });

describe('where the folder comes from', () => {
  test('the flag wins over the environment variable; neither gives undefined', () => {
    expect(enginesDirFrom('/a', { [PRISMA_ENGINES_ENV]: '/b' })).toEqual({ dir: '/a', from: '--prisma-engines' });
    expect(enginesDirFrom(undefined, { [PRISMA_ENGINES_ENV]: '/b' })).toEqual({ dir: '/b', from: PRISMA_ENGINES_ENV });
    expect(enginesDirFrom(undefined, {})).toBeUndefined();
  });
  test('SHA256SUMS lines in text and binary mode', () => {
    const s = parseSha256Sums(`${'a'.repeat(64)}  query-engine\n${'B'.repeat(64)} *./schema-engine\njunk\n`);
    expect(Object.fromEntries(s)).toEqual({ 'query-engine': 'a'.repeat(64), 'schema-engine': 'b'.repeat(64) });
  });
});

describe('checking a folder', () => {
  test('not given: the reason says what to pass', async () => {
    expect(await checkPrismaEngines(undefined)).toEqual({ ok: false, reason: NOT_GIVEN });
  });

  test('a good folder gives both paths, their checksums, a hash and the runtime env', async () => {
    const d = await fakeEngines();
    const r = await checkPrismaEngines(given(d));
    if (!r.ok) throw new Error(r.reason);
    expect(r.engines.files).toEqual({ 'query-engine': join(d, 'query-engine'), 'schema-engine': join(d, 'schema-engine') });
    expect(r.engines.hash).toMatch(/^[0-9a-f]{12}$/);
    expect(r.engines.env).toMatchObject({ PRISMA_QUERY_ENGINE_BINARY: join(d, 'query-engine'), PRISMA_SCHEMA_ENGINE_BINARY: join(d, 'schema-engine') });
    // the same hash build-images.sh computes for the image label
    const bash = await execa('bash', ['-c', `printf '%s %s' "$(sha256sum <"$1/query-engine" | cut -c1-64)" "$(sha256sum <"$1/schema-engine" | cut -c1-64)" | sha256sum | cut -c1-12`, '_', d]);
    expect(bash.stdout).toBe(r.engines.hash);
  });

  test('a missing folder, a missing file, no SHA256SUMS, no line for a file, not executable: each named', async () => {
    expect(await checkPrismaEngines(given('/nonexistent/engines'))).toEqual({
      ok: false,
      reason: 'Prisma engines unavailable: the Prisma engines folder /nonexistent/engines (from --prisma-engines) does not exist or is not a folder',
    });
    const noFile = await fakeEngines();
    await unlink(join(noFile, 'schema-engine'));
    expect(await checkPrismaEngines(given(noFile))).toMatchObject({ ok: false, reason: expect.stringMatching(/has no schema-engine$/) });
    const noSums = await fakeEngines();
    await unlink(join(noSums, 'SHA256SUMS'));
    expect(await checkPrismaEngines(given(noSums))).toMatchObject({ ok: false, reason: expect.stringMatching(/has no SHA256SUMS/) });
    const noLine = await fakeEngines();
    await writeFile(join(noLine, 'SHA256SUMS'), `${sha('#!/bin/sh\necho query-engine test\n')}  query-engine\n`);
    expect(await checkPrismaEngines(given(noLine))).toMatchObject({ ok: false, reason: expect.stringMatching(/SHA256SUMS has no line for schema-engine/) });
    const notExec = await fakeEngines();
    await chmod(join(notExec, 'query-engine'), 0o644);
    expect(await checkPrismaEngines(given(notExec))).toMatchObject({ ok: false, reason: expect.stringMatching(/query-engine is not executable/) });
  });

  test('a changed byte is a checksum mismatch naming the file and both sums', async () => {
    const d = await fakeEngines();
    await appendFile(join(d, 'query-engine'), '#');
    const r = await checkPrismaEngines(given(d));
    expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/query-engine has sha256 [0-9a-f]{16}…, but SHA256SUMS says [0-9a-f]{16}… \(corrupted or replaced\)/) });
  });
});

describe('the litellm image tag names its engines (scripts/images/list-images.sh)', () => {
  const list = (env: Record<string, string>) =>
    execa('bash', ['scripts/images/list-images.sh', '--only', 'litellm'], { env: { ...process.env, LITELLM_VERSION: '1.80.15', ...env }, reject: false });
  test('no engines: the bare version; engines: <version>-prisma-<hash>, the same hash as checkPrismaEngines', async () => {
    expect((await list({ GATEWAY_SMOKE_PRISMA_ENGINES: '' })).stdout).toBe('gateway-smoke/litellm:1.80.15');
    const d = await fakeEngines();
    const r = await checkPrismaEngines(given(d));
    if (!r.ok) throw new Error(r.reason);
    expect((await list({ GATEWAY_SMOKE_PRISMA_ENGINES: d })).stdout).toBe(`gateway-smoke/litellm:1.80.15-prisma-${r.engines.hash}`);
  });
  test('a corrupted engine is refused with the mismatch, not tagged', async () => {
    const d = await fakeEngines();
    await appendFile(join(d, 'schema-engine'), '#');
    const r = await list({ GATEWAY_SMOKE_PRISMA_ENGINES: d });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/schema-engine has sha256 [0-9a-f]{16}\.\.\., SHA256SUMS says [0-9a-f]{16}\.\.\. \(corrupted or replaced\)/);
  });
});

// The real engines, when the machine has them (CI passes ../shared/prisma-engines).
const realDir = process.env[PRISMA_ENGINES_ENV];
const haveReal = requireInCI("Prisma's engines (the real ones)", realDir !== undefined && realDir !== '', `set ${PRISMA_ENGINES_ENV} (e.g. ../shared/prisma-engines)`);

describe.skipIf(!haveReal)('the real engines (a temp copy, a corrupted copy)', () => {
  async function copyOf(): Promise<string> {
    const d = await tempDir();
    for (const f of ['query-engine', 'schema-engine', 'SHA256SUMS']) await copyFile(join(realDir!, f), join(d, f));
    await chmod(join(d, 'query-engine'), 0o755);
    await chmod(join(d, 'schema-engine'), 0o755);
    return d;
  }

  test('a copy passes, runs, and its env is what runtime-env.sh exports', async () => {
    const d = await copyOf();
    const r = await checkPrismaEngines(given(d));
    if (!r.ok) throw new Error(r.reason);
    const v = await execa(r.engines.files['query-engine'], ['--version']);
    expect(v.stdout).toMatch(/query-engine [0-9a-f]{40}/);
    // runtime-env.sh is the folder's own description of the variables; ours must equal it
    await copyFile(join(realDir!, 'runtime-env.sh'), join(d, 'runtime-env.sh'));
    const names = Object.keys(r.engines.env);
    const sourced = await execa('bash', ['-c', `source "$1/runtime-env.sh" && for v in ${names.join(' ')}; do printf '%s=%s\\n' "$v" "\${!v}"; done`, '_', d]);
    expect(Object.fromEntries(sourced.stdout.split('\n').map((l) => l.split(/=(.*)/).slice(0, 2)))).toEqual(r.engines.env);
  });

  test('a copy with one byte changed is refused with the mismatch', async () => {
    const d = await copyOf();
    await appendFile(join(d, 'schema-engine'), Buffer.from([0]));
    const r = await checkPrismaEngines(given(d));
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining(`${join(d, 'schema-engine')} has sha256`) });
  });
});
