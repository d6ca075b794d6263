// The CLI as a user meets it: a real child process, real exit codes, real files.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

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

  test('a bad --profile exits 2 before anything runs, one paragraph naming file, path and expectation; --chart with --profile is exit 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-cli-profile-'));
    const file = join(dir, 'mine.yaml');
    await writeFile(file, 'extends: llm-proxy\nname: mine\nfeatures:\n  ratelimit.per-keys: claimed\n');
    const bad = await cli(['--profile', file, '--target', 'url', '--base-url', 'http://127.0.0.1:9']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(file);
    expect(bad.stderr).toMatch(/`features\.ratelimit\.per-keys` is not a known key here \(expected one of: .*ratelimit\.per-key,/);
    const both = await cli(['--chart', 'routeiq', '--profile', file]);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/--chart routeiq and --profile .* both name the chart profile/);
  });

  test('an unknown flag and a missing flag value exit 2 without a stack trace', async () => {
    for (const args of [['--bogus'], ['--chart']]) {
      const r = await cli(args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toMatch(/--help/);
    }
  });

  test('--strict is gone: exit 2, one paragraph saying INCOMPLETE now blocks by default and what to pass instead', async () => {
    const r = await cli(['--chart', 'llm-proxy', '--strict']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--strict is gone: .*INCOMPLETE with exit 4 .*--accept-incomplete/);
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
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as { outcome: string; exitCode: number };
    expect(report).toMatchObject({ outcome: 'FAILED', exitCode: 1 });
    expect(r.stderr).toMatch(/^FAILED — 0 of 3 behaviours verified, 2 failed, 1 not applicable; chart: not installed by the harness/m);
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<property name="outcome" value="FAILED"\/>/);
    expect(junit).toMatch(/<testcase classname="llm-proxy.health" name="\[health.live\] liveness answers without credentials"/);
    const summary = await readFile(join(dir, 'summary.md'), 'utf8');
    expect(junit).toContain('<failure');
    expect(summary).toMatch(/\| llm-proxy \| health \| .*FAIL/);
    expect(summary).toMatch(/\| llm-proxy \| netpol \| .*not applicable/);
    // Results per feature: claimed ones from their checks, unclaimed with the profile's reason, unselected suites not run.
    const conformance = await readFile(join(dir, 'conformance.yaml'), 'utf8');
    expect(parse(conformance)).toMatchObject({
      chart: 'llm-proxy',
      outcome: 'FAILED',
      features: {
        claimed: { 'health.probes': { result: 'fail', checks: { 'health.live': 'fail' } }, 'ratelimit.per-key': { result: 'not-run' } },
        unclaimed: { netpol: 'the llm-proxy chart ships no NetworkPolicy on main' },
      },
    });
    expect(summary).toMatch(/\| ratelimit\.per-key \| yes \| not run/);
    for (const text of [junit, summary, conformance, r.stdout, r.stderr, await readFile(join(dir, 'report.json'), 'utf8')]) {
      expect(text).not.toContain(secret);
    }
  });

  test('a failing run against a gateway that echoes a non-sk- admin key with a quote and a backslash leaks it nowhere: no report file, not the console', async () => {
    const secret = 'adm"in\\secret-Value-123';
    // A broken gateway that quotes the credential back: raw at the point where messages cut a body
    // short (300 characters), JSON-escaped, and URL-encoded in a link.
    const server = createServer((req, res) => {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const body = `${'x'.repeat(290)}${token} ${JSON.stringify({ error: 'invalid', key: token })} see https://gw.example/keys?k=${encodeURIComponent(token)}`;
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const dir = await mkdtemp(join(tmpdir(), 'gs-cli-leak-'));
      const { port } = server.address() as AddressInfo;
      const r = await cli(
        ['--chart', 'llm-proxy', '--target', 'url', '--base-url', `http://127.0.0.1:${port}`, '--admin-key-env', 'GS_ADMIN', '--suites', 'health,keys', '--report-dir', dir],
        { GS_ADMIN: secret },
      );
      expect(r.exitCode, r.stderr.slice(-2000)).toBe(1);
      const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      expect(files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(expect.arrayContaining(['junit.xml', 'report.html', 'report.json', 'summary.md']));
      const json = JSON.stringify(secret).slice(1, -1);
      const forms = [secret, json, JSON.stringify(json).slice(1, -1), encodeURIComponent(secret), 'adm"in\\sec', 'adm\\"in\\\\sec', 'adm&quot;in', 'adm%22in'];
      const outputs = [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
        ...(await Promise.all(files.map(async (f) => [f, await readFile(f, 'utf8')] as const))),
      ];
      for (const [where, text] of outputs) for (const form of forms) expect(text.includes(form), `${form} in ${where}`).toBe(false);
      // vitest printed the failure, and with it the gateway's body (masked): the console path was exercised
      expect(r.stderr).toMatch(/did not return an id: HTTP 500 x{200,}\*\*\*/);
    } finally {
      server.close();
    }
  });
});
