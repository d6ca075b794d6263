import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { afterEach, describe, expect, test } from 'vitest';
import { type RunReport, runFailed, suiteVerdict } from '../scripts/report/model.ts';
import { writeReports } from '../scripts/report/write.ts';
import { forgetSecrets, mask, registerSecret } from '../scripts/secrets.ts';

const MASTER = 'sk-master-0123456789abcdef';
const PROVIDER = 'prov-secret-zyx987';

function sample(): RunReport {
  return {
    chart: 'routeiq',
    chartTitle: 'RouteIQ',
    target: 'local',
    startedAt: '2026-11-23T10:00:00.000Z',
    durationMs: 4200,
    phases: [{ name: 'provision local target', startedAt: '2026-11-23T10:00:00.000Z', durationMs: 3000, status: 'ok' }],
    suites: [
      { suite: 'health', verdict: 'pass', durationMs: 20, checks: [{ id: 'keys.create', name: 'liveness', verdict: 'pass', durationMs: 10 }] },
      {
        suite: 'keys',
        verdict: 'fail',
        durationMs: 30,
        checks: [
          { id: 'keys.create', name: 'the admin credential creates a key', verdict: 'fail', durationMs: 12, message: `401 for Bearer ${MASTER} <&>` },
          { id: 'keys.create', name: 'upstream', verdict: 'environment', durationMs: 0, message: `provider key ${PROVIDER} unreadable` },
        ],
      },
      { suite: 'netpol', verdict: 'not-applicable', reason: 'needs a cluster', durationMs: 0, checks: [] },
    ],
    fingerprint: { 'gateway url': 'http://127.0.0.1:4000', token: MASTER },
    knownDefects: ['master key defect'],
  };
}

afterEach(() => forgetSecrets());

describe('reports', () => {
  test('junit, markdown and json are written and carry no registered secret', async () => {
    registerSecret(MASTER);
    registerSecret(PROVIDER);
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-'));
    const files = await writeReports(dir, sample());
    for (const f of [files.junit, files.markdown, files.json]) {
      const text = await readFile(f, 'utf8');
      expect(text, f).not.toContain(MASTER);
      expect(text, f).not.toContain(PROVIDER);
    }
  });

  test('junit is valid XML with failures, skips and reasons', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-'));
    const files = await writeReports(dir, sample());
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(await readFile(files.junit, 'utf8'));
    const suites = xml.testsuites.testsuite as Array<Record<string, unknown>>;
    expect(suites.map((s) => s['name'])).toEqual(['routeiq.health', 'routeiq.keys', 'routeiq.netpol']);
    const keys = suites[1]!;
    expect(keys['failures']).toBe('1');
    const cases = keys['testcase'] as Array<Record<string, Record<string, string>>>;
    expect(cases[0]!['failure']!['message']).toMatch(/^401 for Bearer/);
    expect(cases[1]!['skipped']!['message']).toMatch(/^environment: /);
    const netpol = suites[2]!['testcase'] as Record<string, Record<string, string>>;
    expect(netpol['skipped']!['message']).toBe('not applicable: needs a cluster');
  });

  test('a setup failure becomes a failing testcase and fails the run', async () => {
    const r = { ...sample(), suites: [], error: 'helm install timed out: Deployment/gw condition Available=False' };
    expect(runFailed(r)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-'));
    const text = await readFile((await writeReports(dir, r)).junit, 'utf8');
    expect(text).toContain('routeiq.setup');
    expect(text).toContain('Available=False');
  });

  test('what changed under the run reaches the summary and the failing JUnit cases', async () => {
    const r = { ...sample(), findings: ['gateway pod gw-1 was deleted during the run (pods now: gw-2)'] };
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-'));
    const files = await writeReports(dir, r);
    expect(await readFile(files.markdown, 'utf8')).toMatch(/What changed under the run:\*\*\n\n- gateway pod gw-1 was deleted/);
    expect(await readFile(files.junit, 'utf8')).toMatch(/<failure[^>]*>[^<]*What changed under the run:\n- gateway pod gw-1 was deleted/);
  });

  test('markdown leads with the verdict and shows the table', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-report-'));
    const md = await readFile((await writeReports(dir, sample())).markdown, 'utf8');
    expect(md.split('\n')[0]).toMatch(/FAILED/);
    expect(md).toMatch(/\| routeiq \| netpol \| .* not applicable \| needs a cluster \|/);
    expect(md).toContain('## Known defects');
  });

  test('suite verdicts: a fail wins, a suite with no check is a fail, gaps are not passes', () => {
    expect(suiteVerdict([{ id: 'keys.create', name: 'a', verdict: 'pass', durationMs: 0 }, { id: 'keys.create', name: 'b', verdict: 'fail', durationMs: 0 }])).toBe('fail');
    expect(suiteVerdict([])).toBe('fail');
    expect(suiteVerdict([{ id: 'keys.create', name: 'a', verdict: 'environment', durationMs: 0 }])).toBe('environment');
    expect(suiteVerdict([{ id: 'keys.create', name: 'a', verdict: 'not-applicable', durationMs: 0 }])).toBe('not-applicable');
  });

  test('mask hides registered secrets and key-shaped tokens', () => {
    registerSecret('hunter2-secret');
    expect(mask('pw hunter2-secret and sk-abcdefghijkl and Authorization: Bearer xyz123')).toBe(
      'pw *** and sk-*** and Authorization: Bearer ***',
    );
  });
});
