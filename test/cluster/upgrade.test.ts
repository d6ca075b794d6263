// An upgrade for real (--upgrade-from): the llm-proxy chart at its pinned commit (66ec3dc,
// ../shared/charts/llm-proxy) upgraded to the newer one (4ad75cc, ../shared/charts-next/llm-proxy)
// on kind, Postgres, two replicas, under streaming traffic. llm-proxy v0.1.2 cannot be built here
// (the Go module proxy answers 403 "not available" for it, and github.com is unreachable), so the
// previous release runs the v0.1.3 build under another tag: the pods roll for real (the image
// reference changes), the app does not. The verdicts below are what that upgrade gave; a dropped
// request is a finding, not a test to loosen.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/project-root.ts';
import type { RunReport } from '../../scripts/report/model.ts';
import { requireInCI } from '../prerequisite.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { expectVerdicts, type VerdictTable } from './verdict-table.ts';

const SHARED = join(PROJECT_ROOT, '..', 'shared');
const PREVIOUS = join(SHARED, 'charts', 'llm-proxy');
const CANDIDATE = join(SHARED, 'charts-next', 'llm-proxy');
requireInCI('the two llm-proxy chart copies (../shared/charts, ../shared/charts-next)', existsSync(PREVIOUS) && existsSync(CANDIDATE), 'they are the upgrade test inputs');
const PREVIOUS_IMAGE = 'gateway-smoke/llm-proxy:v0.1.3-rollout';

afterAll(() => releaseTestCluster());

/** What the upgrade gave on kind (verdicts of the run recorded in the upgrade branch's report). */
const UPGRADE_ON_KIND: VerdictTable = {
  'health.live': 'pass',
  'health.ready': 'pass',
  'health.ready-reports-dependency': 'not-applicable',
  'upgrade.rollout': 'pass',
  // 9 of 217 failed on the recorded run, all as each old pod began terminating (connection errors the
  // provider never saw): the chart's rollout (no preStop delay) drops requests; see the branch's report
  'upgrade.no-failed-requests': 'fail',
  'upgrade.no-restarts': 'pass',
  'upgrade.keys-survive': 'pass',
  'upgrade.deleted-key-refused': 'pass',
  'upgrade.quota-kept': 'pass',
};

test('llm-proxy chart 66ec3dc → 4ad75cc under traffic: pods replaced, keys and quota kept, requests dropped during the rollout', async () => {
  // the previous release's image: the v0.1.3 build under its own tag, so the pod template changes
  await execa('docker', ['tag', 'gateway-smoke/llm-proxy:v0.1.3', PREVIOUS_IMAGE]);
  const dir = await mkdtemp(join(tmpdir(), 'gs-upgrade-'));
  const r = await execa(
    process.execPath,
    ['scripts/cli.ts', '--cluster-name', TEST_CLUSTER, '--report-dir', dir, '--chart', 'llm-proxy', '--images', 'local', '--suites', 'health',
      '--chart-dir', CANDIDATE, '--upgrade-from', PREVIOUS, '--upgrade-from-image', PREVIOUS_IMAGE],
    { reject: false, all: true, env: { FORCE_COLOR: '0' }, timeout: 30 * 60_000, cwd: PROJECT_ROOT },
  );
  await dropRunNamespace(r.all ?? '');
  const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8')) as RunReport;
  expect(report.error, r.all).toBeUndefined();
  expect(r.exitCode, r.all?.slice(-3000)).toBe(1);
  const upgrade = report.suites.find((s) => s.suite === 'upgrade');
  expectVerdicts(report, UPGRADE_ON_KIND, { unpinned: ['upgrade.no-cut-streams'], out: r.all ?? '' });
  // the failures are named one by one, with the pod and what the client saw
  const failed = upgrade!.checks.find((c) => c.id === 'upgrade.no-failed-requests')!;
  expect(failed.causes!.length).toBeGreaterThan(0);
  for (const c of failed.causes!.filter((x) => x.kind !== 'count')) expect(c.detail).toMatch(/^\d{4}-\d\d-\d\dT.* (before|during|after) the rollout, (stream|completion).* served by .*: (HTTP \d+|no HTTP answer)/);
  // none cut on the recorded run, but llm-proxy v0.1.3's known cut-off defect (0.77 % of streams, its
  // profile's knownDefects) can cut one at random: the verdict is not pinned, each cut must be named
  const cut = upgrade!.checks.find((c) => c.id === 'upgrade.no-cut-streams');
  expect(['pass', 'fail'], r.all).toContain(cut?.verdict);
  if (cut?.verdict === 'fail') for (const c of cut.causes!.filter((x) => x.kind !== 'count')) expect(c.detail).toMatch(/(before|during|after) the rollout, stream.* served by /);
  const counts = upgrade!.evidence!.upgrade!.counts;
  expect(counts.before.requests).toBeGreaterThan(0);
  expect(counts.during.requests).toBeGreaterThan(0);
  expect(counts.after.requests).toBeGreaterThan(0);
  expect(upgrade!.evidence!.upgrade!.pods.filter((p) => p.old && p.terminated !== undefined)).toHaveLength(2);
}, 35 * 60_000);
