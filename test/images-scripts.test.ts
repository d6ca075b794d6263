// scripts/images/{list,build}-images.sh as the harness calls them (no docker needed here).
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { CLUSTER_IMAGE_NAMES, IMAGE_NAMES, listImages, REPO_ROOT } from '../scripts/images/index.ts';

const LIST = join(REPO_ROOT, 'scripts/images/list-images.sh');
const BUILD = join(REPO_ROOT, 'scripts/images/build-images.sh');

describe('list-images.sh', () => {
  test('one ref per line: the images pods run, local names (upstream names for the AI Gateway stack), no latest tag', async () => {
    const { stdout } = await execa('bash', [LIST]);
    const lines = stdout.split('\n');
    expect(lines).toHaveLength(CLUSTER_IMAGE_NAMES.length);
    const upstream = lines.filter((l) => l.startsWith('docker.io/envoyproxy/'));
    for (const l of lines.filter((x) => !upstream.includes(x))) expect(l).toMatch(/^gateway-smoke\/[a-z-]+:[A-Za-z0-9._-]+$/);
    // exactly what Envoy Gateway v1.8.2 runs by default (Envoy) and what our overrides name
    expect(upstream).toEqual([
      'docker.io/envoyproxy/envoy:distroless-v1.38.3',
      'docker.io/envoyproxy/gateway:v1.8.2',
      'docker.io/envoyproxy/ai-gateway-controller:v1.0.0',
      'docker.io/envoyproxy/ai-gateway-extproc:v1.0.0',
      'docker.io/envoyproxy/ratelimit:3fb70258',
    ]);
    expect(lines.some((l) => l.endsWith(':latest'))).toBe(false);
    expect(lines.find((l) => l.startsWith('gateway-smoke/mock:'))).toMatch(/^gateway-smoke\/mock:[0-9a-f]{12}$/);
    expect(lines).toContain('gateway-smoke/llm-proxy:v0.1.3');
  });

  test('json and --all agree with the lines; --only picks', async () => {
    const all = await listImages({ all: true });
    expect(Object.keys(all)).toEqual([...IMAGE_NAMES]);
    expect(all.base).toBe('gateway-smoke/base:bookworm');
    expect(await listImages({ only: ['redis', 'probe'] })).toEqual({ redis: 'gateway-smoke/redis:7', probe: 'gateway-smoke/probe:1' });
  });

  test('an unknown name is an error that lists the known ones', async () => {
    const r = await execa('bash', [LIST, '--only', 'nginx'], { reject: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/unknown image 'nginx' \(known: base mock llm-proxy litellm postgres redis probe envoy envoy-gateway ai-gateway-controller ai-gateway-extproc ratelimit\)/);
  });

  describe('the mock tag follows mock/*.ts', () => {
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });
    test('a changed mock file changes the tag; nothing else does', async () => {
      // a copy of the scripts with their own mock/ (lib.sh finds the repo from its own location)
      dir = await mkdtemp(join(tmpdir(), 'gs-list-'));
      await cp(join(REPO_ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true });
      await cp(join(REPO_ROOT, 'mock'), join(dir, 'mock'), { recursive: true });
      const env = { ...process.env, GS_NODE_BIN: join(REPO_ROOT, 'node_modules/node/bin/node') };
      const before = (await execa('bash', [join(dir, 'scripts/images/list-images.sh')], { env })).stdout.split('\n');
      await writeFile(join(dir, 'mock', 'zz-extra.ts'), 'export const x = 1;\n');
      const after = (await execa('bash', [join(dir, 'scripts/images/list-images.sh')], { env })).stdout.split('\n');
      const mockBefore = before.find((l) => l.includes('/mock:'));
      const mockAfter = after.find((l) => l.includes('/mock:'));
      expect(mockAfter).not.toBe(mockBefore);
      expect(after.filter((l) => !l.includes('/mock:'))).toEqual(before.filter((l) => !l.includes('/mock:')));
    });
  });
});

describe('build-images.sh', () => {
  test('--help describes the images and options', async () => {
    const { stdout } = await execa('bash', [BUILD, '--help']);
    expect(stdout).toMatch(/--only/);
    expect(stdout).toMatch(/gateway-smoke\/litellm/);
  });

  test('an unknown --only name fails before any work', async () => {
    const r = await execa('bash', [BUILD, '--only', 'nginx'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown image 'nginx'/);
  });
});
