// Issue 21's done-when on kind: a team's YAML profile (test/team-profile.ts) extends the built-in
// llm-proxy one for a chart copy the harness has no profile for (team-proxy 0.2.0, `replicaCount`
// renamed `replicas`, key revocation unclaimed). The run installs that copy (--chart-dir) with the
// llm-proxy image built here (--images local, said in the headline, not an unproven gap) and
// reports: the renamed value as a profile finding, key revocation not applicable with the
// profile's reason, everything else verified.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import type { RunReport } from '../../scripts/report/model.ts';
import { failuresBesidesCutOffs, suitesWithCutOffs } from '../cut-off.ts';
import { requireInCI } from '../prerequisite.ts';
import { RENAMED_FINDING, UNCLAIMED_REASON, writeTeamProfile } from '../team-profile.ts';
import { dropRunNamespace, releaseTestCluster, TEST_CLUSTER } from './kept-cluster.ts';
import { expectVerdicts, LLM_PROXY_ON_KIND, type VerdictTable } from './verdict-table.ts';

const mirror = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
const ready = requireInCI('a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)', Boolean(mirror), 'point it at ../shared/charts (its llm-proxy/ is copied as the team chart)');
afterAll(() => releaseTestCluster());

/** llm-proxy on kind (test/cluster/cluster-e2e.test.ts), with key revocation unclaimed by the team. */
const TEAM_PROXY_ON_KIND: VerdictTable = { ...LLM_PROXY_ON_KIND, 'keys.revoked-refused': 'not-applicable', 'keys.revoked-limited-refused': 'not-applicable' };

describe.skipIf(!ready)("kind target, a team's YAML profile for a chart the harness has no profile for", () => {
  test('the renamed value is a finding, the unclaimed feature not applicable with its reason, everything else verified', async () => {
    const { dir, chartDir, profile } = writeTeamProfile(join(mirror!, 'llm-proxy'));
    const reportDir = join(dir, 'report');
    const r = await execa(
      process.execPath,
      ['scripts/cli.ts', '--profile', profile, '--chart-dir', chartDir, '--images', 'local', '--cluster-name', TEST_CLUSTER, '--keep', 'always', '--report-dir', reportDir],
      { reject: false, all: true, env: { FORCE_COLOR: '0' }, timeout: 40 * 60_000 },
    );
    const out = r.all ?? '';
    await dropRunNamespace(out);
    const report = JSON.parse(await readFile(join(reportDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.error, out.slice(-3000)).toBeUndefined();
    expect(report.profileFindings).toEqual([expect.stringMatching(/^profile team-proxy written for team-proxy 0\.1\.0 .*, chart is 0\.2\.0$/), expect.stringMatching(RENAMED_FINDING)]);
    expectVerdicts(report, TEAM_PROXY_ON_KIND, { mayBeCutOff: ['ratelimit.burst-answered', 'keys.sdk-stream'], out });
    for (const id of ['keys.revoked-refused', 'keys.revoked-limited-refused']) {
      expect(report.suites.flatMap((s) => s.checks).find((c) => c.id === id)?.message).toBe(UNCLAIMED_REASON);
    }
    expect(failuresBesidesCutOffs(report.suites), out.slice(-3000)).toEqual([]);
    if (suitesWithCutOffs(report.suites).length === 0) {
      expect(report).toMatchObject({ outcome: 'VERIFIED', exitCode: 0 });
      expect(r.exitCode).toBe(0);
    }
  });
});
