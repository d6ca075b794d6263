// The built images themselves (skipped where there is no docker daemon or the image is not built:
// `bash scripts/images/build-images.sh` builds them). scripts/images/verify-images.sh does the
// full start-up checks of every image; this keeps the mock image honest on every test run.
import { copyFile, cp, mkdir, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { listImages, REPO_ROOT } from '../scripts/images/index.ts';
import { requireInCI } from './prerequisite.ts';

async function dockerUp(): Promise<boolean> {
  const r = await execa('docker', ['info', '--format', '{{.ServerVersion}}'], { reject: false, timeout: 10_000 }).catch(() => undefined);
  return r?.exitCode === 0;
}
async function imageExists(ref: string): Promise<boolean> {
  return (await execa('docker', ['image', 'inspect', ref], { reject: false })).exitCode === 0;
}

const docker = requireInCI('a running docker daemon', await dockerUp(), 'run scripts/airgap/host-prep.sh (or start Docker)');
const refs = (await listImages({ all: true })) as Record<string, string>;
const mockRef = refs['mock']!;
const mockBuilt = docker && requireInCI(`the mock image ${mockRef}`, await imageExists(mockRef), 'bash scripts/images/build-images.sh --only mock (.ci/run builds the images before npm test)');
const built: string[] = [];
if (docker) for (const ref of Object.values(refs)) if (await imageExists(ref)) built.push(ref);

const why = !docker ? ' (skipped: no docker daemon)' : !mockBuilt ? ` (skipped: ${mockRef} is not built; bash scripts/images/build-images.sh --only mock)` : '';

describe.skipIf(!mockBuilt)(`mock image${why}`, () => {
  let id = '';
  afterAll(async () => {
    if (id) await execa('docker', ['rm', '-f', id], { reject: false });
  });

  test('runs as uid 1000 and answers GET /__mock/health and a chat completion', async () => {
    id = (await execa('docker', ['run', '-d', '--rm', '-p', '127.0.0.1::8089', mockRef])).stdout.trim();
    const port = (await execa('docker', ['port', id, '8089/tcp'])).stdout.split('\n')[0]!.split(':').pop();
    const base = `http://127.0.0.1:${port}`;
    let health: Response | undefined;
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      health = await fetch(`${base}/__mock/health`).catch(() => undefined);
      if (health?.ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(health?.status, `no answer from the mock container; logs:\n${(await execa('docker', ['logs', id], { reject: false, all: true })).all}`).toBe(200);
    expect(await health!.json()).toMatchObject({ status: 'ok' });

    const chat = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(chat.status).toBe(200);
    expect(await chat.json()).toHaveProperty('choices');
    expect((await execa('docker', ['exec', id, 'id', '-u'])).stdout.trim()).toBe('1000');
  });

  describe('another checkout on the same docker daemon', () => {
    // a prefix of its own: other checkouts on this daemon (older scripts) must not move our tag mid-test
    const prefix = `gs-checkout-test-${process.pid}`;
    const env = { GS_IMAGE_PREFIX: prefix };
    let dir = '';
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
      const ours = (await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${prefix}/*`], { reject: false })).stdout.split('\n').filter(Boolean);
      if (ours.length) await execa('docker', ['rmi', '-f', ...ours], { reject: false });
    });
    test('finds the mock up to date: its Node binary is the same bytes under another mtime', async () => {
      const here = await execa('bash', [join(REPO_ROOT, 'scripts/images/build-images.sh'), '--only', 'mock'], { all: true, reject: false, env });
      expect(here.exitCode, here.all).toBe(0);
      const ref = mockRef.replace(/^[^/]+\//, `${prefix}/`);
      const id = (await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim();
      // a second checkout: the same scripts and mock sources, `npm ci`'s own copy of Node (another mtime)
      dir = await mkdtemp(join(tmpdir(), 'gs-checkout-'));
      await cp(join(REPO_ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true });
      await cp(join(REPO_ROOT, 'mock'), join(dir, 'mock'), { recursive: true });
      const node = join(dir, 'node_modules/node/bin/node');
      await mkdir(join(dir, 'node_modules/node/bin'), { recursive: true });
      await copyFile(join(REPO_ROOT, 'node_modules/node/bin/node'), node);
      await utimes(node, new Date('2026-01-02T03:04:05Z'), new Date('2026-01-02T03:04:05Z'));
      const there = await execa('bash', [join(dir, 'scripts/images/build-images.sh'), '--only', 'mock'], { all: true, reject: false, env: { ...env, GS_NODE_BIN: node } });
      expect(there.exitCode, there.all).toBe(0);
      expect(there.all).toMatch(new RegExp(`skip {2}mock: ${ref.replace(/[/.]/g, '\\$&')} is up to date`));
      expect((await execa('docker', ['image', 'inspect', '-f', '{{.Id}}', ref])).stdout.trim(), 'the mock was rebuilt under the same tag').toBe(id);
    });
  });
});

describe.skipIf(built.length === 0)(`built images${docker ? '' : ' (skipped: no docker daemon)'}`, () => {
  test('carry their inputs hash, never a latest tag, and run as a numeric non-root user (except the base)', async () => {
    for (const ref of built) {
      expect(ref).not.toMatch(/:latest$/);
      const cfg = JSON.parse((await execa('docker', ['image', 'inspect', '-f', '{{json .Config}}', ref])).stdout) as {
        User: string;
        Labels: Record<string, string> | null;
      };
      expect(cfg.Labels?.['io.gateway-smoke.inputs'], ref).toMatch(/^[0-9a-f]{12}$/);
      if (!ref.includes('/base:')) expect(cfg.User, ref).toMatch(/^[1-9]\d*:\d+$/);
    }
  });
});
