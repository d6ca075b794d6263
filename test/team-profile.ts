// The issue-21 scenario: a team's own YAML profile, in a folder of its own, that extends the built-in
// llm-proxy profile for a chart the harness has no profile for: a copy of the llm-proxy chart renamed
// team-proxy, moved on to 0.2.0, with `replicaCount` renamed `replicas` (the team's profile sets the
// new name; the built-in's old one is reported), and with key revocation unclaimed (the fork caches
// tokens). Shared by the local run (test/team-profile.test.ts) and the
// kind run (test/cluster/team-profile.test.ts).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_DIR } from '../scripts/profiles/loader.ts';

export const UNCLAIMED_REASON = 'our fork caches tokens for 5 minutes: revocation is not promised';
export const RENAMED_FINDING = /^value `replicaCount` is not in this chart version \(the profile sets it in values; the chart's values\.yaml do not have it\)/;
export const VERSION_FINDING = 'profile team-proxy written for team-proxy 0.1.0 / commit 66ec3dc, chart is 0.2.0';

/** Writes the chart copy and the profile; `llmProxyChart` is the real chart's folder (the chart mirror's llm-proxy/). */
export function writeTeamProfile(llmProxyChart: string): { dir: string; chartDir: string; profile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gs-team-profile-'));
  const chartDir = join(dir, 'team-proxy');
  cpSync(llmProxyChart, chartDir, { recursive: true });
  const chartYaml = readFileSync(join(chartDir, 'Chart.yaml'), 'utf8');
  writeFileSync(join(chartDir, 'Chart.yaml'), chartYaml.replace(/^name: .*$/m, 'name: team-proxy').replace(/^version: .*$/m, 'version: 0.2.0'));
  const values = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
  if (!/^replicaCount:/m.test(values)) throw new Error(`${llmProxyChart}/values.yaml has no top-level replicaCount to rename`);
  writeFileSync(join(chartDir, 'values.yaml'), values.replace(/^replicaCount:/m, 'replicas:'));
  // renamed in the template too, as a new chart version would: the built-in's `replicaCount` now does nothing
  const deployment = join(chartDir, 'templates', 'deployment.yaml');
  const template = readFileSync(deployment, 'utf8');
  if (!template.includes('.Values.replicaCount')) throw new Error(`${deployment} does not use .Values.replicaCount`);
  writeFileSync(deployment, template.replaceAll('.Values.replicaCount', '.Values.replicas'));
  const profile = join(dir, 'team-proxy.profile.yaml');
  writeFileSync(
    profile,
    [
      `# yaml-language-server: $schema=${join(BUILTIN_DIR, '..', 'profile.schema.json')}`,
      'extends: llm-proxy',
      'name: team-proxy',
      'title: Our llm-proxy fork',
      'source: { chartName: team-proxy }',
      '# the new name; the built-in still sets the old one, which the run reports',
      'values: { replicas: 2 }',
      'features:',
      `  keys.revocation: { unclaimed: "${UNCLAIMED_REASON}" }`,
      '',
    ].join('\n'),
  );
  return { dir, chartDir, profile };
}
