// The GitHub workflows are part of what users copy: every one must pass actionlint, pin every
// action to a full commit SHA, and keep the contract the docs promise (docs/release-gate.md).
// actionlint comes from scripts/setup-ci-tools.sh; without it this test FAILS, it never skips.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chartNames } from '../scripts/profiles/index.ts';
import { PROJECT_ROOT } from '../scripts/project-root.ts';
import { parseWaivers } from '../scripts/waivers-file.ts';
import { cacheDir } from '../scripts/tools.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');

type Yaml = Record<string, any>;

function findActionlint(): string | undefined {
  const candidates = [join(cacheDir(), 'bin', 'actionlint'), ...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'actionlint'))];
  return candidates.find((c) => existsSync(c));
}

function needActionlint(): string {
  const bin = findActionlint();
  if (!bin) {
    throw new Error(
      `actionlint is needed to lint .github/workflows and was found neither in ${join(cacheDir(), 'bin')} nor on PATH. ` +
        'Run `bash scripts/setup-ci-tools.sh` (it installs the pinned actionlint from the Go module proxy), then re-run the tests.',
    );
  }
  return bin;
}

async function workflowFiles(): Promise<string[]> {
  return (await readdir(WORKFLOWS)).filter((f) => /\.ya?ml$/.test(f)).sort();
}

async function load(name: string): Promise<{ text: string; doc: Yaml }> {
  const text = await readFile(join(WORKFLOWS, name), 'utf8');
  return { text, doc: parse(text) as Yaml };
}

/** Every `uses:` of a workflow: job-level (reusable workflows) and step-level (actions). */
function usesOf(doc: Yaml): string[] {
  const out: string[] = [];
  for (const job of Object.values<Yaml>(doc['jobs'] ?? {})) {
    if (typeof job['uses'] === 'string') out.push(job['uses']);
    for (const step of (job['steps'] ?? []) as Yaml[]) if (typeof step['uses'] === 'string') out.push(step['uses']);
  }
  return out;
}

function stepsOf(doc: Yaml): Yaml[] {
  return Object.values<Yaml>(doc['jobs'] ?? {}).flatMap((j) => (j['steps'] ?? []) as Yaml[]);
}

describe('GitHub workflows', () => {
  test('the three workflows exist', async () => {
    expect(await workflowFiles()).toEqual(expect.arrayContaining(['nightly.yml', 'pr.yml', 'release-gate.yml']));
  });

  test('actionlint passes on every workflow', async () => {
    const bin = needActionlint();
    const files = (await workflowFiles()).map((f) => join('.github', 'workflows', f));
    const r = await execa(bin, ['-no-color', ...files], { cwd: ROOT, reject: false, all: true });
    expect(r.exitCode, `${bin} ${files.join(' ')} (exit ${r.exitCode}):\n${r.all}`).toBe(0);
  }, 60_000);

  test('actionlint really lints (a broken workflow fails it)', async () => {
    const bin = needActionlint();
    const dir = await mkdtemp(join(tmpdir(), 'gs-actionlint-'));
    await mkdir(join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(
      join(dir, '.github', 'workflows', 'broken.yml'),
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ matrix.nope }}"\n',
    );
    const r = await execa(bin, ['-no-color', '.github/workflows/broken.yml'], { cwd: dir, reject: false, all: true });
    expect(r.exitCode, String(r.all)).not.toBe(0);
    expect(String(r.all)).toContain('matrix');
  });

  test('every action is pinned to a full commit SHA with a version comment', async () => {
    for (const name of await workflowFiles()) {
      const { text, doc } = await load(name);
      const uses = usesOf(doc);
      expect(uses.length, `${name} uses no action`).toBeGreaterThan(0);
      for (const u of uses) {
        if (u.startsWith('./')) continue; // an action of this repository, at the same commit
        expect(u, `${name}: ${u} is not pinned to a 40-hex commit SHA`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      }
      for (const line of text.split('\n').filter((l) => /^\s*(-\s+)?uses:/.test(l) && !/uses:\s*\.\//.test(l))) {
        expect(line, `${name}: say which release the SHA is ("# vX.Y.Z")`).toMatch(/@[0-9a-f]{40}\s+#\s*v\d+\.\d+\.\d+\s*$/);
      }
    }
  });

  test('every workflow sets minimal permissions, and every job a timeout and concurrency', async () => {
    for (const name of await workflowFiles()) {
      const { doc } = await load(name);
      expect(doc['permissions'], `${name}: permissions`).toEqual({ contents: 'read' });
      for (const [id, job] of Object.entries<Yaml>(doc['jobs'])) {
        expect(job['timeout-minutes'], `${name} job ${id}: timeout-minutes`).toBeGreaterThan(0);
        expect(doc['concurrency'] ?? job['concurrency'], `${name} job ${id}: concurrency`).toBeDefined();
      }
    }
  });

  test('tool versions in the workflows are the ones scripts/airgap/lib.sh pins', async () => {
    const lib = await readFile(join(ROOT, 'scripts', 'airgap', 'lib.sh'), 'utf8');
    const pinned = (v: string) => lib.match(new RegExp(`^${v}="\\$\\{${v}:-([^}]+)\\}"`, 'm'))?.[1];
    for (const name of ['nightly.yml', 'release-gate.yml']) {
      const { doc } = await load(name);
      for (const v of ['KIND_VERSION', 'HELM_VERSION', 'K8S_VERSION']) {
        expect(pinned(v), `lib.sh pins ${v}`).toBeTruthy();
        expect(doc['env'][v], `${name}: env.${v}`).toBe(pinned(v));
      }
      expect(String(doc['env']['NODE_VERSION'])).toBe('24');
    }
  });

  test('nightly: schedule + dispatch, kind target over the charts, report kept on failure', async () => {
    const { doc } = await load('nightly.yml');
    expect(doc['on']['schedule']?.[0]?.['cron']).toBeTruthy();
    expect(doc['on']).toHaveProperty('workflow_dispatch');
    const job = doc['jobs']['e2e'] as Yaml;
    const charts = job['strategy']['matrix']['chart'] as string[];
    expect(charts).toEqual(['routeiq', 'llm-proxy', 'litellm-proxy']);
    for (const c of charts) expect(chartNames()).toContain(c);
    expect(job['strategy']['fail-fast']).toBe(false);
    const steps = stepsOf(doc);
    const run = steps.find((s) => s['id'] === 'e2e')!;
    expect(run['run']).toMatch(/npm run e2e -- --chart "\$CHART" --target kind/);
    expect(run['run']).toContain('--report-dir "reports/$CHART"');
    const after = steps.slice(steps.indexOf(run) + 1);
    const upload = after.find((s) => String(s['uses']).startsWith('actions/upload-artifact@'))!;
    expect(upload['if']).toBe('always()');
    expect(upload['with']['path']).toBe('reports/${{ matrix.chart }}/');
    const summary = after.find((s) => String(s['run'] ?? '').includes('GITHUB_STEP_SUMMARY'))!;
    expect(summary['if']).toBe('always()');
    expect(summary['run']).toContain('reports/$CHART/summary.md');
    const diag = after.find((s) => String(s['run'] ?? '').includes('::group::'))!;
    expect(diag['if']).toBe('always()');
    expect(diag['run']).toContain('::endgroup::');
  });

  test('pr: the project tests, with every prerequisite npm test needs installed first, and the local target for llm-proxy', async () => {
    const { doc } = await load('pr.yml');
    expect(doc['on']).toHaveProperty('pull_request');
    const test = (doc['jobs'] as Yaml)['test'] as Yaml;
    const runs = (test['steps'] as Yaml[]).map((s) => String(s['run'] ?? ''));
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
    // Under CI=true a missing prerequisite fails its test: each one must be installed before npm test.
    const npmTest = runs.indexOf('npm test');
    expect(npmTest).toBeGreaterThan(0);
    for (const re of [/^npm ci$/, /^npm run setup$/, /go install helm\.sh\/helm\/v3\/cmd\/helm@/, /node scripts\/chart-mirror\.ts .*GATEWAY_SMOKE_CHART_MIRROR=/s, /build-images\.sh --only mock/]) {
      const i = at(re);
      expect(i, `pr.yml test job: no step matching ${re}`).toBeGreaterThanOrEqual(0);
      expect(i, `pr.yml test job: ${re} must run before npm test`).toBeLessThan(npmTest);
    }
    expect(stepsOf(doc).map((s) => String(s['run'] ?? '')).join('\n')).toMatch(/npm run e2e -- --chart llm-proxy --target local .*--waivers ci\/waivers\.yaml/);
  });

  test("the project's own waivers file parses, every entry is scoped to a chart and ends on a date", async () => {
    const waivers = parseWaivers(await readFile(join(PROJECT_ROOT, 'ci', 'waivers.yaml'), 'utf8'), 'ci/waivers.yaml');
    expect(waivers.length).toBeGreaterThan(0);
    for (const w of waivers) expect(w.chart, w.id).toBeDefined();
  });

  test('release-gate: workflow_call with a required chart, the verdict as output, fails on a non-zero exit', async () => {
    const { doc } = await load('release-gate.yml');
    const call = doc['on']['workflow_call'] as Yaml;
    expect(call['inputs']['chart']).toMatchObject({ type: 'string', required: true });
    for (const input of ['chart-version', 'chart-dir', 'values', 'waivers']) expect(call['inputs'][input]).toMatchObject({ required: false });
    expect(call['inputs']['target']).toMatchObject({ default: 'kind' });
    expect(call['outputs']['verdict']['value']).toBe('${{ jobs.gate.outputs.verdict }}');
    const steps = stepsOf(doc);
    const gate = steps.at(-1)!;
    expect(gate['if']).toBe('always()');
    expect(gate['run']).toMatch(/exit 1/);
    const verdict = steps.find((s) => s['id'] === 'verdict')!;
    for (const [code, word] of [['0', 'verified'], ['1', 'fail'], ['2', 'bad-input'], ['3', 'environment'], ['4', 'incomplete'], ['130', 'interrupted']]) {
      expect(verdict['run']).toContain(`${code}) v=${word}`);
    }
    // INCOMPLETE blocks unless the caller accepts it; the harness flag is passed only then
    expect(call['inputs']['accept-incomplete']).toMatchObject({ type: 'boolean', default: false });
    expect(call['inputs']['strict']).toBeUndefined();
    expect(steps.find((s) => s['id'] === 'gate')!['run']).toMatch(/\[\[ "\$ACCEPT_INCOMPLETE" == true \]\] && args\+=\(--accept-incomplete\)/);
    expect(gate['run']).toMatch(/EXIT_CODE:-\}" != 0/);
    expect(steps.find((s) => String(s['uses']).startsWith('actions/upload-artifact@'))!['if']).toBe('always()');
  });
});
