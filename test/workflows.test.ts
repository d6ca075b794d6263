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
import { checkGateInputs } from '../scripts/release-gate/inputs.ts';

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

  test('nightly: schedule + dispatch, every chart x three Kubernetes versions on kind, report kept and published on failure', async () => {
    const { doc } = await load('nightly.yml');
    expect(doc['on']['schedule']?.[0]?.['cron']).toBeTruthy();
    expect(doc['on']).toHaveProperty('workflow_dispatch');
    const job = doc['jobs']['e2e'] as Yaml;
    expect(job['strategy']['matrix']['chart']).toEqual(chartNames());
    expect(job['strategy']['matrix']['kubernetes']).toEqual(['1.34', '1.33', '1.32']);
    expect(job['strategy']['fail-fast']).toBe(false);
    const steps = stepsOf(doc);
    const run = steps.find((s) => s['id'] === 'e2e')!;
    expect(run['run']).toMatch(/npm run e2e -- --chart "\$CHART" --target kind --kubernetes-version "\$KUBERNETES"/);
    expect(run['env']['KUBERNETES']).toBe('${{ matrix.kubernetes }}');
    expect(run['run']).toContain('--report-dir "$REPORT_DIR"');
    expect(job['env']['REPORT_DIR']).toBe('reports/${{ matrix.chart }}-k8s${{ matrix.kubernetes }}');
    const after = steps.slice(steps.indexOf(run) + 1);
    const upload = after.find((s) => String(s['uses']).startsWith('actions/upload-artifact@'))!;
    expect(upload['if']).toBe('always()');
    expect(upload['with']['path']).toBe('${{ env.REPORT_DIR }}/');
    const junit = after.find((s) => String(s['uses']).startsWith('mikepenz/action-junit-report@'))!;
    expect(junit['if']).toBe('always()');
    expect(junit['with']['report_paths']).toBe('${{ env.REPORT_DIR }}/junit.xml');
    expect(job['permissions']).toEqual({ contents: 'read', checks: 'write' });
    const summary = after.find((s) => String(s['run'] ?? '').includes('GITHUB_STEP_SUMMARY'))!;
    expect(summary['if']).toBe('always()');
    expect(summary['run']).toContain('$REPORT_DIR/summary.md');
    const diag = after.find((s) => String(s['run'] ?? '').includes('::group::'))!;
    expect(diag['if']).toBe('always()');
    expect(diag['run']).toContain('::endgroup::');
    // kind, kubectl and helm from the ecosystem's actions, at lib.sh's versions; no Go on the online path
    const uses = steps.map((s) => String(s['uses'] ?? ''));
    expect(steps.find((s) => String(s['uses']).startsWith('helm/kind-action@'))!['with']).toMatchObject({ install_only: true, version: '${{ env.KIND_VERSION }}' });
    expect(steps.find((s) => String(s['uses']).startsWith('azure/setup-helm@'))!['with']).toMatchObject({ version: '${{ env.HELM_VERSION }}' });
    expect(uses.some((u) => u.startsWith('actions/setup-go@'))).toBe(false);
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
    for (const re of [/^npm ci$/, /^npm run setup$/, /node scripts\/chart-mirror\.ts .*GATEWAY_SMOKE_CHART_MIRROR=/s, /build-images\.sh --only mock/]) {
      const i = at(re);
      expect(i, `pr.yml test job: no step matching ${re}`).toBeGreaterThanOrEqual(0);
      expect(i, `pr.yml test job: ${re} must run before npm test`).toBeLessThan(npmTest);
    }
    // helm as a release binary (a `go install`ed helm prints no patch version, which tools.ts refuses)
    const helm = (test['steps'] as Yaml[]).findIndex((s) => String(s['uses']).startsWith('azure/setup-helm@'));
    expect(helm).toBeGreaterThan(0);
    expect(helm).toBeLessThan(npmTest);
    expect(runs.join('\n')).not.toMatch(/go install helm/);
    // without engines the job says, before the tests, which LiteLLM checks will be environment
    const engines = at(/node scripts\/engines-gap\.ts/);
    expect(engines).toBeGreaterThanOrEqual(0);
    expect(engines).toBeLessThan(at(/^npm run setup$/));
    expect(stepsOf(doc).map((s) => String(s['run'] ?? '')).join('\n')).toMatch(/npm run e2e -- --chart llm-proxy --target local .*--waivers ci\/waivers\.yaml/);
  });

  test("the project's own waivers file parses, every entry is scoped to a chart and ends on a date", async () => {
    const waivers = parseWaivers(await readFile(join(PROJECT_ROOT, 'ci', 'waivers.yaml'), 'utf8'), 'ci/waivers.yaml');
    expect(waivers.length).toBeGreaterThan(0);
    for (const w of waivers) expect(w.chart, w.id).toBeDefined();
  });

  test('release-gate: workflow_call with a required chart; inputs checked first; verdict and counts as outputs; fails on a non-zero exit', async () => {
    const { doc } = await load('release-gate.yml');
    const call = doc['on']['workflow_call'] as Yaml;
    expect(call['inputs']['chart']).toMatchObject({ type: 'string', required: true });
    for (const input of ['chart-version', 'chart-dir', 'values', 'waivers', 'prisma-engines']) expect(call['inputs'][input]).toMatchObject({ required: false });
    expect(call['inputs']['target']).toMatchObject({ default: 'kind' });
    expect(call['inputs']['images']).toMatchObject({ type: 'string', default: 'chart' });
    expect(call['inputs']['accept-incomplete']).toMatchObject({ type: 'boolean', default: false });
    expect(call['inputs']['strict']).toBeUndefined();
    for (const out of ['verdict', 'exit-code', 'verified', 'failed', 'waived', 'environment']) {
      expect(call['outputs'][out]['value']).toBe(`\${{ jobs.gate.outputs.${out} }}`);
    }
    const job = doc['jobs']['gate'] as Yaml;
    for (const out of ['verdict', 'verified', 'failed', 'waived', 'environment']) expect(job['outputs'][out]).toBe(`\${{ steps.verdict.outputs.${out} }}`);
    // runs-on: a label, or a JSON list of labels
    expect(job['runs-on']).toBe("${{ startsWith(inputs.runs-on, '[') && fromJSON(inputs.runs-on) || inputs.runs-on }}");
    const steps = job['steps'] as Yaml[];
    // the inputs are checked by scripts/release-gate/cli.ts before any tool, cache or cluster step
    const inputs = steps.findIndex((s) => s['id'] === 'inputs');
    expect(steps[inputs]!['run']).toBe('node scripts/release-gate/cli.ts inputs');
    for (const name of Object.keys(call['inputs']).filter((n) => !['runs-on', 'harness-repository', 'harness-ref'].includes(n))) {
      expect(steps[inputs]!['env'][`INPUT_${name.toUpperCase().replace(/-/g, '_')}`], `input ${name} reaches the check`).toBe(`\${{ inputs.${name} }}`);
    }
    const first = (pred: (s: Yaml) => boolean) => steps.findIndex(pred);
    expect(inputs).toBeLessThan(first((s) => String(s['uses'] ?? '').startsWith('actions/cache/')));
    expect(inputs).toBeLessThan(first((s) => String(s['uses'] ?? '').startsWith('helm/kind-action@')));
    expect(inputs).toBeLessThan(first((s) => s['id'] === 'gate'));
    expect(steps.slice(0, inputs).every((s) => String(s['uses'] ?? '').startsWith('actions/') || s['run'] === 'npm ci')).toBe(true);
    expect(steps.find((s) => s['id'] === 'gate')!['run']).toContain('mapfile -t args < "$GATE_ARGS_FILE"');
    const verdict = steps.find((s) => s['id'] === 'verdict')!;
    expect(verdict['if']).toBe('always()');
    expect(verdict['run']).toContain('node gateway-smoke/scripts/release-gate/cli.ts verdict');
    const gate = steps.at(-1)!;
    expect(gate['if']).toBe('always()');
    expect(gate['run']).toMatch(/exit 1/);
    expect(gate['run']).toMatch(/EXIT_CODE:-\}" != 0/);
    expect(steps.find((s) => String(s['uses']).startsWith('actions/upload-artifact@'))!['if']).toBe('always()');
  });
});

/** Each job with its steps, named for messages. */
function jobsOf(doc: Yaml): [string, Yaml, Yaml[]][] {
  return Object.entries<Yaml>(doc['jobs'] ?? {}).map(([id, job]) => [id, job, (job['steps'] ?? []) as Yaml[]]);
}

/** Shell lines of a run step, without comments. */
function lines(step: Yaml): string[] {
  return String(step['run'] ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

describe('every job of every workflow, step by step', () => {
  test('a restored cache is saved even when the job failed, after the cache went back to the runner user, keyed by the chart', async () => {
    let restores = 0;
    for (const name of await workflowFiles()) {
      for (const [id, , steps] of jobsOf((await load(name)).doc)) {
        const where = `${name} job ${id}`;
        expect(steps.some((s) => /^actions\/cache@/.test(String(s['uses'] ?? ''))), `${where}: actions/cache saves only on success; use cache/restore + cache/save`).toBe(false);
        for (const restore of steps.filter((s) => String(s['uses'] ?? '').startsWith('actions/cache/restore@'))) {
          restores++;
          expect(restore['id'], `${where}: the restore step needs an id`).toBeTruthy();
          const key = String(restore['with']['key']);
          expect(key, `${where}: the cache key names the chart`).toMatch(/\$\{\{ (matrix|inputs)\.chart \}\}/);
          expect(key, `${where}: the cache key hashes the image recipes`).toMatch(/hashFiles\([^)]*scripts\/images\/\*\*/);
          const save = steps.find((s) => String(s['uses'] ?? '').startsWith('actions/cache/save@') && s['with']?.['key'] === `\${{ steps.${restore['id']}.outputs.cache-primary-key }}`);
          expect(save, `${where}: no actions/cache/save for ${restore['id']}`).toBeDefined();
          expect(String(save!['if']), `${where}: the cache save must run when the job failed`).toMatch(/^always\(\)/);
          expect(save!['with']['path']).toBe(restore['with']['path']);
          const chown = steps.findIndex((s) => /sudo -n chown -R/.test(String(s['run'] ?? '')));
          expect(chown, `${where}: root-owned files in the cache would not be saved`).toBeGreaterThanOrEqual(0);
          expect(steps[chown]!['if']).toBe('always()');
          expect(chown).toBeLessThan(steps.indexOf(save!));
        }
      }
    }
    expect(restores).toBeGreaterThanOrEqual(2);
  });

  test("every run of the harness in the project's own workflows passes the project's waivers", async () => {
    let runs = 0;
    for (const name of ['nightly.yml', 'pr.yml']) {
      for (const step of stepsOf((await load(name)).doc)) {
        const text = String(step['run'] ?? '').replace(/\\\n\s*/g, ' ');
        for (const line of text.split('\n').filter((l) => /npm run e2e --/.test(l) && !l.trim().startsWith('#'))) {
          runs++;
          expect(line, `${name}: ${line.trim()}`).toContain('--waivers ci/waivers.yaml');
          expect(line, `${name}: ${line.trim()}`).toContain('--accept-incomplete');
        }
      }
    }
    expect(runs).toBe(2);
  });

  test('steps that build images (debootstrap) do it as root through sudo -E; no step installs Go tools at versions tools.ts refuses', async () => {
    let builds = 0;
    for (const name of await workflowFiles()) {
      for (const [id, , steps] of jobsOf((await load(name)).doc)) {
        for (const step of steps) {
          const ls = lines({ run: String(step['run'] ?? '').replace(/\\\n\s*/g, ' ') });
          ls.forEach((line, i) => {
            // a harness run on the kind target builds the mock and stand-in images; a local run builds none
            const harness = /^(sudo -E env "PATH=\$PATH" )?npm run e2e --/.test(line);
            const kind = /--target kind/.test(line) || ls[i - 1] === 'if [[ "$TARGET" == kind ]]; then';
            if (/build-images\.sh/.test(line) || (harness && kind)) {
              builds++;
              expect(line, `${name} job ${id}: ${line}`).toMatch(/^sudo -E (env "PATH=\$PATH" )?(npm run e2e|bash scripts\/images\/build-images\.sh)/);
            }
            expect(line, `${name} job ${id}`).not.toMatch(/go install .*helm/);
          });
        }
      }
    }
    expect(builds).toBe(3); // nightly's run, pr's mock image, the gate's kind branch
  });

  test('every uses: is pinned by a 40-hex commit SHA (dependabot keeps them current)', async () => {
    for (const name of await workflowFiles()) {
      for (const u of usesOf((await load(name)).doc)) expect(u, `${name}`).toMatch(/@[0-9a-f]{40}$/);
    }
    const dependabot = parse(await readFile(join(ROOT, '.github', 'dependabot.yml'), 'utf8')) as Yaml;
    expect((dependabot['updates'] as Yaml[]).map((u) => u['package-ecosystem'])).toEqual(['github-actions', 'npm']);
  });

  test("the docs' release-gate example passes the gate's own input checks (and the same without chart-dir does not)", async () => {
    const md = await readFile(join(ROOT, 'docs', 'release-gate.md'), 'utf8');
    const block = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('release-gate.yml@'));
    expect(block, 'docs/release-gate.md has a yaml example calling release-gate.yml').toBeDefined();
    const example = parse(block!) as Yaml;
    // the example runs on a pushed tag `v*`: github.ref_name is the tag, e.g. v1.2.3
    const tags = example['on']['push']['tags'] as string[];
    expect(tags).toEqual(['v*']);
    const withs = Object.fromEntries(
      Object.entries<unknown>(example['jobs']['gate']['with']).map(([k, v]) => [k, String(v).replace('${{ github.ref_name }}', 'v1.2.3')]),
    );
    const declared = (await load('release-gate.yml')).doc['on']['workflow_call']['inputs'] as Yaml;
    for (const k of Object.keys(withs)) expect(declared, `the example passes an input the gate does not declare: ${k}`).toHaveProperty(k);
    for (const [k, spec] of Object.entries<Yaml>(declared)) if (spec['required']) expect(withs, `the example lacks required input ${k}`).toHaveProperty(k);
    // the calling repository the example describes: its chart at chart-dir (version 1.2.3), values and waivers
    const caller = await mkdtemp(join(tmpdir(), 'gs-docs-caller-'));
    await mkdir(join(caller, withs['chart-dir']!), { recursive: true });
    await writeFile(join(caller, withs['chart-dir']!, 'Chart.yaml'), `apiVersion: v2\nname: ${withs['chart']}\nversion: 1.2.3\n`);
    await mkdir(join(caller, 'ci'), { recursive: true });
    await writeFile(join(caller, withs['values']!), 'replicaCount: 1\n');
    await writeFile(join(caller, withs['waivers']!), '[]\n');
    const input = (w: Record<string, string>) => ({
      chart: w['chart']!,
      chartVersion: w['chart-version'],
      chartDir: w['chart-dir'],
      values: w['values'],
      waivers: w['waivers'],
      target: w['target'],
      suites: w['suites'],
      images: w['images'],
      prismaEngines: w['prisma-engines'],
      acceptIncomplete: w['accept-incomplete'],
    });
    expect((await checkGateInputs(input(withs), caller, '/r')).problems).toEqual([]);
    const { ['chart-dir']: _dropped, ...withoutDir } = withs;
    expect((await checkGateInputs(input(withoutDir), caller, '/r')).problems.join(' ')).toMatch(/without chart-dir/);
  });
});

