// The CLI as a user meets it: a real child process, real exit codes, real files.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, ['scripts/cli.ts', ...args], { reject: false, env: { ...env, FORCE_COLOR: '0' } });

describe('cli', () => {
  test('--help lists charts, targets and suites', async () => {
    const r = await cli(['--help']);
    expect(r.exitCode).toBe(0);
    for (const word of ['routeiq', 'llm-proxy', 'litellm-proxy', 'ai-gateway-core', 'kind', 'existing', 'local', 'url', 'health, keys, ratelimit, metrics, netpol']) {
      expect(r.stdout).toContain(word);
    }
  });

  test('--no-corrections is listed; its old name --no-workarounds is hidden but still accepted', async () => {
    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/--no-corrections\s+run the chart exactly as shipped/);
    expect(help.stdout).not.toContain('--no-workarounds');
    // both parse: the run gets as far as the plan, which refuses the chart
    const r = await cli(['--no-workarounds', '--no-corrections', '--chart', 'nope']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Unknown chart "nope"/);
  });

  test('an unknown chart exits 2 with one paragraph naming the known charts', async () => {
    const r = await cli(['--chart', 'nope']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/Unknown chart "nope".*routeiq, llm-proxy, litellm-proxy, ai-gateway-core/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('an unknown flag and a missing flag value exit 2 without a stack trace', async () => {
    for (const args of [['--bogus'], ['--chart']]) {
      const r = await cli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/--help/);
    }
  });

  test('without network and without a chart mirror the run exits 3 in seconds, saying how to point at the chart, before any cluster', async () => {
    const started = Date.now();
    // A proxy that refuses connections is "no network" for git, on any machine.
    const r = await cli(['--chart', 'llm-proxy', '--cluster-name', 'gs-never-created', '--report-dir', await mkdtemp(join(tmpdir(), 'gs-cli-'))], {
      HTTPS_PROXY: 'http://127.0.0.1:9',
      https_proxy: 'http://127.0.0.1:9',
      GATEWAY_SMOKE_CHART_MIRROR: '',
    });
    expect(r.exitCode, r.stderr).toBe(3);
    expect(Date.now() - started).toBeLessThan(20_000);
    const last = r.stderr.trim().split('\n').pop()!;
    expect(last).toMatch(/^gateway-smoke: The chart github\.com\/sofatutor\/llm-proxy\/deploy\/helm\/llm-proxy@66ec3dc could not be fetched \(.+\) and no chart mirror is set\. Point --chart-mirror \(or GATEWAY_SMOKE_CHART_MIRROR\) at a folder that holds llm-proxy\/ at that commit, or pass --chart-dir/);
    expect(r.stderr).not.toMatch(/create kind cluster|\n\s+at /);
  });

  test('a run writes junit.xml and summary.md, fails with exit 1, and leaks no secret', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-cli-'));
    const secret = 'sk-admin-secret-9f8e7d6c5b4a';
    // Port 9 (discard) is closed on loopback: the gateway is down, so health must fail.
    const r = await cli(
      ['--chart', 'llm-proxy', '--target', 'url', '--base-url', 'http://127.0.0.1:9', '--admin-key-env', 'GS_ADMIN', '--suites', 'health,keys,netpol', '--report-dir', dir],
      { GS_ADMIN: secret },
    );
    expect(r.exitCode, r.stderr).toBe(1);
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    const summary = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(junit).toContain('<failure');
    expect(summary).toMatch(/\| llm-proxy \| health \| .*FAIL/);
    expect(summary).toMatch(/\| llm-proxy \| netpol \| .*not applicable/);
    for (const text of [junit, summary, r.stdout, r.stderr, await readFile(join(dir, 'report.json'), 'utf8')]) {
      expect(text).not.toContain(secret);
    }
  });
});
