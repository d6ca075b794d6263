import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { EnvironmentError } from '../scripts/errors.ts';
import { checkTool, TOOLS } from '../scripts/tools.ts';

// Real executables on a private PATH: what the harness meets on a user's machine.
async function pathWith(name: string, script: string): Promise<NodeJS.ProcessEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-tools-'));
  await writeFile(join(dir, name), `#!/bin/sh\n${script}\n`);
  await chmod(join(dir, name), 0o755);
  return { PATH: `${dir}:/usr/bin:/bin`, GATEWAY_SMOKE_CACHE: join(dir, 'no-cache') };
}

describe('tool preflight', () => {
  test('a missing tool names itself, the version needed and how to get it', async () => {
    const env = { PATH: '/nonexistent', GATEWAY_SMOKE_CACHE: '/nonexistent' };
    const err = await checkTool(TOOLS.helm, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/^helm 3\.12\.0 or newer is needed .* To get it: /);
    expect((err as EnvironmentError).exitCode).toBe(3);
  });

  test('a too-old tool says which version it found', async () => {
    const env = await pathWith('kind', 'echo "kind v0.20.0 go1.20 linux/amd64"');
    await expect(checkTool(TOOLS.kind, env)).rejects.toThrow(/is version 0\.20\.0, older than the 0\.24\.0/);
  });

  test('a broken tool reports its exit code and output', async () => {
    const env = await pathWith('helm', 'echo "segfault here" >&2; exit 139');
    await expect(checkTool(TOOLS.helm, env)).rejects.toThrow(/does not work: `helm version --short` exited 139 saying "segfault here"/);
  });

  test('a good tool is found with its version', async () => {
    const env = await pathWith('helm', 'echo "v3.19.2+g1234"');
    const found = await checkTool(TOOLS.helm, env);
    expect(found.version).toBe('3.19.2');
  });
});
