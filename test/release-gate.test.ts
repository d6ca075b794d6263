// The release gate's input checks and outputs (scripts/release-gate/), as the workflow runs them:
// real folders for the calling repository, the CLI as a real process writing GITHUB_OUTPUT.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { checksBlockedWithoutEngines, enginesGapReport } from '../scripts/engines-gap.ts';
import { getProfile } from '../scripts/profiles/index.ts';
import { PROJECT_ROOT } from '../scripts/project-root.ts';
import { chartYamlVersion, checkGateInputs, localTargetGap, sameChartVersion, setupLocalFor } from '../scripts/release-gate/inputs.ts';
import { countChecks, gateVerdict } from '../scripts/release-gate/verdict.ts';
import type { RunReport } from '../scripts/report/model.ts';

/** A calling repository with a chart at charts/<name> of this version, a values file and a waivers file. */
async function callerRepo(version: string, name = 'litellm-proxy'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-gate-caller-'));
  await mkdir(join(dir, 'charts', name), { recursive: true });
  await writeFile(join(dir, 'charts', name, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  await mkdir(join(dir, 'ci'));
  await writeFile(join(dir, 'ci', 'gate-values.yaml'), 'replicaCount: 1\n');
  await writeFile(join(dir, 'ci', 'waivers.yaml'), '[]\n');
  return dir;
}

describe('chart-version against Chart.yaml', () => {
  test('a leading v on either side names the same version; anything else differs', () => {
    expect(sameChartVersion('v1.2.3', '1.2.3')).toBe(true);
    expect(sameChartVersion('1.2.3', '1.2.3')).toBe(true);
    expect(sameChartVersion('1.2.3', 'v1.2.3')).toBe(true);
    expect(sameChartVersion('v1.2.3', '1.2.4')).toBe(false);
    expect(sameChartVersion('v1.2.3', '1.2.3-rc.1')).toBe(false);
    expect(sameChartVersion('version-1.2.3', '1.2.3')).toBe(false);
  });

  test("Chart.yaml's version is read with a YAML parser (quoted, numeric), and its absence said", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-gate-chart-'));
    await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: x\nversion: "0.4.0" # released\n');
    expect(await chartYamlVersion(dir)).toEqual({ version: '0.4.0' });
    await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: x\nversion: 2.1\n');
    expect(await chartYamlVersion(dir)).toEqual({ version: '2.1' });
    await writeFile(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: x\n');
    expect(await chartYamlVersion(dir)).toEqual({ problem: 'has a Chart.yaml without a version' });
    expect(await chartYamlVersion(join(dir, 'nope'))).toEqual({ problem: 'has no Chart.yaml' });
  });
});

describe('checkGateInputs', () => {
  test('v1.2.3 against Chart.yaml 1.2.3 passes, and the arguments name the caller files and images chart', async () => {
    const caller = await callerRepo('1.2.3');
    const r = await checkGateInputs(
      { chart: 'litellm-proxy', chartVersion: 'v1.2.3', chartDir: 'charts/litellm-proxy', values: 'ci/gate-values.yaml', waivers: 'ci/waivers.yaml', acceptIncomplete: 'false' },
      caller,
      '/r',
    );
    expect(r.problems).toEqual([]);
    expect(r.args).toEqual([
      '--chart', 'litellm-proxy', '--target', 'kind', '--suites', 'all', '--report-dir', '/r', '--keep', 'never', '--images', 'chart',
      '--chart-dir', join(caller, 'charts/litellm-proxy'), '--values', join(caller, 'ci/gate-values.yaml'), '--waivers', join(caller, 'ci/waivers.yaml'),
    ]);
  });

  test('a version that is not Chart.yaml\'s is bad input, naming both', async () => {
    const caller = await callerRepo('1.2.4');
    const r = await checkGateInputs({ chart: 'litellm-proxy', chartVersion: 'v1.2.3', chartDir: 'charts/litellm-proxy' }, caller, '/r');
    expect(r.problems).toEqual(["chart-version 'v1.2.3' is not the version in charts/litellm-proxy/Chart.yaml ('1.2.4')"]);
  });

  test('chart-version without chart-dir is bad input: the gate would test the pinned chart', async () => {
    const r = await checkGateInputs({ chart: 'llm-proxy', chartVersion: '0.2.0' }, await callerRepo('0.2.0'), '/r');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatch(/^chart-version '0\.2\.0' was given without chart-dir: the gate would test the profile's pinned chart/);
  });

  test('every problem is named at once: unknown target, images, accept-incomplete, missing files, engines folder', async () => {
    const caller = await callerRepo('1.0.0');
    const r = await checkGateInputs(
      { chart: 'llm-proxy', target: 'url', images: 'latest', acceptIncomplete: 'yes', values: 'nope.yaml', waivers: 'ci/missing.yaml', prismaEngines: 'engines', chartDir: 'charts/none' },
      caller,
      '/r',
    );
    expect(r.problems).toEqual([
      "target must be kind or local, not 'url'",
      "images must be one of chart, local, auto, not 'latest'",
      "accept-incomplete must be true or false, not 'yes'",
      "chart-dir 'charts/none' is not a folder in the calling repository",
      "values file 'nope.yaml' is not in the calling repository",
      "waivers file 'ci/missing.yaml' is not in the calling repository",
      "prisma-engines 'engines' is not a folder (a path in the calling repository, or absolute on the runner)",
    ]);
    expect((await checkGateInputs({ chart: 'nginx' }, caller, '/r')).problems[0]).toBe("chart 'nginx' is not one of: routeiq, llm-proxy, litellm-proxy, ai-gateway-core");
  });

  test('accept-incomplete true adds the flag; an absolute prisma-engines folder is used as it is', async () => {
    const caller = await callerRepo('1.0.0');
    const engines = await mkdtemp(join(tmpdir(), 'gs-gate-engines-'));
    const r = await checkGateInputs({ chart: 'routeiq', acceptIncomplete: 'true', prismaEngines: engines, images: 'auto' }, caller, '/r');
    expect(r.problems).toEqual([]);
    expect(r.args.slice(-4)).toEqual(['--images', 'auto', '--prisma-engines', engines, '--accept-incomplete'].slice(-4));
    expect(r.args).toContain('--accept-incomplete');
    expect(r.notes).toEqual([]);
  });

  test('without engines, a LiteLLM stand-in run is announced as INCOMPLETE before it starts; images chart needs none', async () => {
    const caller = await callerRepo('1.0.0');
    expect((await checkGateInputs({ chart: 'routeiq', images: 'auto' }, caller, '/r')).notes[0]).toMatch(/^no prisma-engines: routeiq's LiteLLM runs without Prisma's engines/);
    expect((await checkGateInputs({ chart: 'litellm-proxy', images: 'local' }, caller, '/r')).notes[0]).toMatch(/always connects LiteLLM to a database, so the run stops as environment \(exit 3\)$/);
    expect((await checkGateInputs({ chart: 'routeiq' }, caller, '/r')).notes).toEqual([]);
    expect((await checkGateInputs({ chart: 'llm-proxy', images: 'local' }, caller, '/r')).notes).toEqual([]);
  });
});

describe('the local target tests the chart\'s own gateway software, or the gate refuses it', () => {
  test('routeiq (LiteLLM stands in for its app) and ai-gateway-core (no local target) are refused', async () => {
    expect(localTargetGap(getProfile('routeiq'))).toMatch(/runs litellm as a stand-in for the chart's own app, so the gate would test another gateway's software/);
    expect(localTargetGap(getProfile('ai-gateway-core'))).toMatch(/has no local target/);
    const r = await checkGateInputs({ chart: 'routeiq', target: 'local' }, await callerRepo('1.0.0'), '/r');
    expect(r.problems).toEqual([localTargetGap(getProfile('routeiq'))]);
  });

  test('llm-proxy and litellm-proxy run their own software, and the host gets exactly that installed', async () => {
    expect(localTargetGap(getProfile('llm-proxy'))).toBeUndefined();
    expect(localTargetGap(getProfile('litellm-proxy'))).toBeUndefined();
    expect(setupLocalFor(getProfile('llm-proxy'))).toEqual(['apt', 'llm-proxy']);
    expect(setupLocalFor(getProfile('litellm-proxy'))).toEqual(['apt', 'litellm', 'prisma']);
    const r = await checkGateInputs({ chart: 'litellm-proxy', target: 'local' }, await callerRepo('1.0.0'), '/r');
    expect(r.problems).toEqual([]);
    expect(r.args).not.toContain('--images');
  });
});

describe('verdict and counts', () => {
  const check = (verdict: 'pass' | 'fail' | 'waived' | 'environment' | 'not-applicable') => ({ id: 'x', name: 'x', verdict, durationMs: 1 });
  const report = {
    outcome: 'INCOMPLETE',
    suites: [
      { suite: 'health', verdict: 'pass', durationMs: 1, checks: [check('pass'), check('pass'), check('not-applicable')] },
      { suite: 'keys', verdict: 'waived', durationMs: 1, checks: [check('waived'), check('environment')] },
      { suite: 'chart', verdict: 'fail', durationMs: 1, checks: [check('fail')] },
    ],
  } as unknown as RunReport;

  test('exit codes map to verdicts; an accepted INCOMPLETE (exit 0) reads as incomplete; no exit code is error', () => {
    expect(['0', '1', '2', '3', '4', '130', '7', undefined].map((c) => gateVerdict(c, undefined))).toEqual(['verified', 'fail', 'bad-input', 'environment', 'incomplete', 'interrupted', 'error', 'error']);
    expect(gateVerdict('0', report)).toBe('incomplete');
    expect(gateVerdict('0', { outcome: 'VERIFIED' })).toBe('verified');
  });

  test('counts are checks by verdict over every suite', () => {
    expect(countChecks(report)).toEqual({ verified: 2, failed: 1, waived: 1, environment: 1 });
    expect(countChecks(undefined)).toEqual({ verified: 0, failed: 0, waived: 0, environment: 0 });
  });

  test('the CLI, as the workflow runs it: outputs from report.json, and bad input fails the step with exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-gate-cli-'));
    const out = join(dir, 'output');
    await writeFile(join(dir, 'report.json'), JSON.stringify(report));
    const cli = join(PROJECT_ROOT, 'scripts', 'release-gate', 'cli.ts');
    const v = await execa(process.execPath, [cli, 'verdict'], { env: { EXIT_CODE: '0', REPORT_DIR: dir, GITHUB_OUTPUT: out }, reject: false });
    expect(v.exitCode, v.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe('verdict=incomplete\nverified=2\nfailed=1\nwaived=1\nenvironment=1\n');

    const bad = await execa(process.execPath, [cli, 'inputs'], {
      env: { INPUT_CHART: 'llm-proxy', INPUT_CHART_VERSION: 'v1.0.0', INPUT_TARGET: 'kind', CALLER_DIR: dir, GITHUB_OUTPUT: join(dir, 'bad'), GATE_ARGS_FILE: join(dir, 'args') },
      reject: false,
    });
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toMatch(/^::error title=release gate: bad input::chart-version 'v1\.0\.0' was given without chart-dir/m);
    expect(await readFile(join(dir, 'bad'), 'utf8')).toBe('exit-code=2\n');

    const caller = await callerRepo('1.0.0', 'llm-proxy');
    const good = await execa(process.execPath, [cli, 'inputs'], {
      env: { INPUT_CHART: 'llm-proxy', INPUT_CHART_VERSION: 'v1.0.0', INPUT_CHART_DIR: 'charts/llm-proxy', INPUT_TARGET: 'local', CALLER_DIR: caller, REPORT_DIR: '/r', GITHUB_OUTPUT: join(dir, 'good'), GATE_ARGS_FILE: join(dir, 'args') },
      reject: false,
    });
    expect(good.exitCode, good.stdout).toBe(0);
    expect((await readFile(join(dir, 'args'), 'utf8')).split('\n')).toEqual(['--chart', 'llm-proxy', '--target', 'local', '--suites', 'all', '--report-dir', '/r', '--keep', 'never', '--chart-dir', join(caller, 'charts/llm-proxy'), '']);
    expect(await readFile(join(dir, 'good'), 'utf8')).toBe('setup-local=apt llm-proxy\n');
  });
});

describe('what a run without Prisma engines cannot prove', () => {
  test('the LiteLLM charts lose keys, ratelimit and readiness-reports-Postgres; llm-proxy and ai-gateway-core nothing', () => {
    const routeiq = checksBlockedWithoutEngines(getProfile('routeiq'));
    expect(routeiq).toEqual(expect.arrayContaining(['keys.create', 'ratelimit.burst-exact', 'health.ready-reports-postgres']));
    expect(routeiq.some((id) => id.startsWith('metrics.'))).toBe(false);
    expect(checksBlockedWithoutEngines(getProfile('litellm-proxy'))).toContain('keys.revoked-refused');
    expect(checksBlockedWithoutEngines(getProfile('llm-proxy'))).toEqual([]);
    expect(checksBlockedWithoutEngines(getProfile('ai-gateway-core'))).toEqual([]);
    const text = enginesGapReport();
    expect(text).toMatch(/^- routeiq: keys\.create, /m);
    expect(text).not.toMatch(/^- llm-proxy/m);
  });
});
