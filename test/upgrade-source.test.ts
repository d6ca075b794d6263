// --upgrade-from: the previous release is a chart folder; an upgrade to the very same chart and
// image is bad input (exit 2), one that differs in a file or in the image is accepted.
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { UserError } from '../scripts/errors.ts';
import { buildPlan, type RawOptions } from '../scripts/plan.ts';
import { PROJECT_ROOT } from '../scripts/project-root.ts';
import { imageLayer } from '../scripts/upgrade/run.ts';
import { chartContentHash, imageVersion, refuseIdenticalUpgrade } from '../scripts/upgrade/source.ts';

const base: RawOptions = { chart: 'llm-proxy', target: 'kind', suites: 'all', keep: 'on-failure', clusterName: 'gs', model: 'mock-gpt' };

async function chartCopies(): Promise<{ a: string; b: string; changed: string }> {
  const root = await mkdtemp(join(tmpdir(), 'gs-upgrade-src-'));
  const a = join(root, 'a');
  await mkdir(join(a, 'templates'), { recursive: true });
  await writeFile(join(a, 'templates', 'cm.yaml'), 'kind: ConfigMap\n');
  await writeFile(join(a, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\n');
  const b = join(root, 'b');
  await cp(a, b, { recursive: true });
  const changed = join(root, 'changed');
  await cp(a, changed, { recursive: true });
  await writeFile(join(changed, 'values.yaml'), 'replicaCount: 2\n');
  return { a, b, changed };
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a refusal');
}

describe('--upgrade-from', () => {
  test('two copies of one chart hash the same; a changed file changes the hash', async () => {
    const { a, b, changed } = await chartCopies();
    expect(await chartContentHash(a)).toBe(await chartContentHash(b));
    expect(await chartContentHash(changed)).not.toBe(await chartContentHash(a));
  });

  test('image versions are read from references and bare versions', () => {
    expect(imageVersion('gateway-smoke/llm-proxy:v0.1.2')).toBe('v0.1.2');
    expect(imageVersion('registry:5000/x/llm-proxy:v0.1.3@sha256:abc')).toBe('v0.1.3');
    expect(imageVersion('v0.1.2')).toBe('v0.1.2');
  });

  test('the same chart content with the same image is refused with exit 2, in one paragraph', async () => {
    const { a, b } = await chartCopies();
    const err = await refusal(buildPlan({ ...base, chartDir: a, upgradeFrom: b }, {}));
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/same chart as the candidate .*no --upgrade-from-image/);
    expect(err.message).not.toMatch(/\n/);
    const sameImage = await refusal(refuseIdenticalUpgrade({ chartDir: b, image: 'v0.1.3' }, { chartDir: a, image: 'gateway-smoke/llm-proxy:v0.1.3' }));
    expect(sameImage.message).toMatch(/--upgrade-from-image v0\.1\.3 is the candidate's image/);
  });

  test('a different chart, or the same chart with another image, is an upgrade', async () => {
    const { a, b, changed } = await chartCopies();
    const plan = await buildPlan({ ...base, chartDir: a, upgradeFrom: changed, upgradeFromValues: 'old.yaml' }, {});
    expect(plan.upgradeFrom).toEqual({ chartDir: changed, valuesFile: resolve('old.yaml') });
    expect(plan.suites).toEqual(['health', 'keys', 'ratelimit', 'metrics', 'netpol', 'upgrade']);
    const imageOnly = await buildPlan({ ...base, chartDir: a, upgradeFrom: b, upgradeFromImage: 'v0.1.2' }, {});
    expect(imageOnly.upgradeFrom?.image).toBe('v0.1.2');
    await expect(refuseIdenticalUpgrade({ chartDir: b, image: 'v0.1.2' }, { chartDir: a, image: 'gateway-smoke/llm-proxy:v0.1.3' })).resolves.toBeUndefined();
  });

  test('bad combinations are refused: not a chart, the url target, the sub-flags alone', async () => {
    const { a } = await chartCopies();
    expect((await refusal(buildPlan({ ...base, upgradeFrom: join(a, 'nope') }, {}))).message).toMatch(/not a chart folder/);
    expect((await refusal(buildPlan({ ...base, target: 'local', upgradeFrom: a }, {}))).message).toMatch(/--target kind or existing/);
    expect((await refusal(buildPlan({ ...base, upgradeFromImage: 'v0.1.2' }, {}))).message).toMatch(/give --upgrade-from/);
  });

  test('the CLI exits 2 on an identical upgrade before creating anything', async () => {
    const { a, b } = await chartCopies();
    const r = await execa(process.execPath, [join(PROJECT_ROOT, 'scripts', 'cli.ts'), '--chart', 'llm-proxy', '--chart-dir', a, '--upgrade-from', b], { reject: false, cwd: PROJECT_ROOT });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/gateway-smoke: --upgrade-from .* holds the same chart as the candidate/);
  });

  test("the previous release's image: a version sets the tag only, a reference sets repository and tag", () => {
    expect(imageLayer('image', 'v0.1.2')).toEqual({ image: { tag: 'v0.1.2' } });
    expect(imageLayer('app.image', 'gateway-smoke/llm-proxy:v0.1.2')).toEqual({ app: { image: { repository: 'gateway-smoke/llm-proxy', tag: 'v0.1.2', pullPolicy: 'IfNotPresent' } } });
    expect(imageLayer('image', 'localhost:5000/llm-proxy:v0.1.2')).toMatchObject({ image: { repository: 'localhost:5000/llm-proxy', tag: 'v0.1.2' } });
  });
});
