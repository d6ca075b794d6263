// How a profile fits the chart that runs: read against the real charts (the chart mirror,
// GATEWAY_SMOKE_CHART_MIRROR; .ci/run points it at ../shared/charts) and copies of them with a value
// renamed and the version moved on: the profile's value that the chart no longer knows is a finding,
// and so is a chart version the profile was not written for.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultsKnow, leafPaths, profileFindings, schemaKnows, unknownValuePaths, versionMismatch } from '../scripts/profiles/chart-fit.ts';
import { getProfile } from '../scripts/profiles/index.ts';
import { loadProfile } from '../scripts/profiles/loader.ts';
import { requireInCI } from './prerequisite.ts';

const mirror = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
const FIXTURE_LITELLM = new URL('../fixtures/charts/litellm-proxy', import.meta.url).pathname;

describe('value paths a chart knows', () => {
  const defaults = { image: { repository: 'x', tag: '' }, env: { ENABLE_METRICS: 'true' }, podLabels: {}, config: { gateway: 'model_list: []\n' } };
  test.each([
    ['image.tag', true],
    ['env.DB_DRIVER', true], // a new key in an existing map: the user's to fill
    ['podLabels.team.name', true], // below a map the chart leaves empty
    ['config.gateway.router_settings.redis_host', true], // inside the app's embedded document
    ['replicaCount', false],
    ['image.registry.host', false],
    ['image.tag.major', false],
  ])('%s: %s', (path, known) => {
    expect(defaultsKnow(defaults, path, ['config.gateway'])).toBe(known);
  });

  test("values.schema.json's properties count, and a closed object does not take new keys", () => {
    const schema = { type: 'object', properties: { replicas: { type: 'integer' }, extra: { type: 'object' }, closed: { type: 'object', properties: { a: {} }, additionalProperties: false } } };
    expect(schemaKnows(schema, 'replicas')).toBe(true);
    expect(schemaKnows(schema, 'extra.anything')).toBe(true);
    expect(schemaKnows(schema, 'closed.a')).toBe(true);
    expect(schemaKnows(schema, 'closed.b')).toBe(false);
    expect(schemaKnows(schema, 'replicaCount')).toBe(false);
  });

  test('leaf paths stop at lists, scalars, empty maps and templated keys', () => {
    expect(leafPaths({ a: { b: 1, c: [1], d: {} }, m: { '${wiring.model}': { x: 1 } } })).toEqual(['a.b', 'a.c', 'a.d', 'm']);
  });
});

describe('the built-in profiles against their charts', () => {
  test('litellm-proxy fits the fixture chart of its values contract: no finding', async () => {
    expect(await profileFindings(getProfile('litellm-proxy'), { path: FIXTURE_LITELLM, version: '0.1.0' })).toEqual([]);
  });

  const ready = requireInCI('a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)', Boolean(mirror), 'point GATEWAY_SMOKE_CHART_MIRROR at ../shared/charts (routeiq-gateway/, llm-proxy/, ai-gateway-core/ at the pinned commits)');
  test.skipIf(!ready).each([
    ['routeiq', 'routeiq-gateway'],
    ['llm-proxy', 'llm-proxy'],
    ['ai-gateway-core', 'ai-gateway-core'],
  ])('%s fits the real chart at its pinned commit: no finding', async (name, folder) => {
    const profile = getProfile(name);
    const chart = { path: join(mirror!, folder), version: profile.source.version, commit: profile.source.kind === 'git' ? profile.source.commit : undefined };
    expect(await profileFindings(profile, chart)).toEqual([]);
  });

  test.skipIf(!ready)('a new chart version with a value renamed: the version and the value are findings', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gs-chart-fit-')), 'llm-proxy');
    cpSync(join(mirror!, 'llm-proxy'), dir, { recursive: true });
    const values = readFileSync(join(dir, 'values.yaml'), 'utf8');
    expect(values).toMatch(/^replicaCount:/m);
    writeFileSync(join(dir, 'values.yaml'), values.replace(/^replicaCount:/m, 'replicas:'));
    const findings = await profileFindings(getProfile('llm-proxy'), { path: dir, version: '0.2.0' });
    expect(findings).toEqual([
      'profile llm-proxy written for llm-proxy 0.1.0 / commit 66ec3dc, chart is 0.2.0',
      expect.stringMatching(/^value `replicaCount` is not in this chart version \(the profile sets it in values; the chart's values\.yaml do not have it\)/),
    ]);
    // a values.schema.json that declares it makes it known again
    writeFileSync(join(dir, 'values.schema.json'), JSON.stringify({ type: 'object', properties: { replicaCount: { type: 'integer' } } }));
    expect(await unknownValuePaths(getProfile('llm-proxy'), dir)).toEqual([]);
  });
});

describe('the chart versions a profile was written for', () => {
  test('a listed version and commit fit; another version or commit is named', () => {
    const p = getProfile('routeiq');
    expect(versionMismatch(p, { version: '0.1.0', commit: 'a96d48f9f4477b4b86df67a0e057248403020b7c' })).toBeUndefined();
    expect(versionMismatch(p, { version: '0.1.0' })).toBeUndefined();
    expect(versionMismatch(p, { version: '0.1.0', commit: '0123456789abcdef0123456789abcdef01234567' })).toBe(
      'profile routeiq written for routeiq-gateway 0.1.0 / commit a96d48f, chart is 0.1.0 (commit 0123456)',
    );
  });

  test("a team profile's writtenFor replaces the built-in's", () => {
    const dir = mkdtempSync(join(tmpdir(), 'gs-written-for-'));
    writeFileSync(join(dir, 'p.yaml'), 'extends: routeiq\nname: team\nwrittenFor: { versions: [0.2.0, 0.3.0], commits: [] }\n');
    const p = loadProfile(join(dir, 'p.yaml'));
    expect(versionMismatch(p, { version: '0.3.0' })).toBeUndefined();
    expect(versionMismatch(p, { version: '0.1.0' })).toBe('profile team written for routeiq-gateway 0.2.0, 0.3.0, chart is 0.1.0');
  });
});

describe('profile findings in the report', () => {
  test('summary.md, report.html and conformance.yaml carry them', async () => {
    const { renderConsoleTable, renderMarkdown } = await import('../scripts/report/markdown.ts');
    const { renderHtml } = await import('../scripts/report/html.ts');
    const { renderConformance } = await import('../scripts/report/features.ts');
    const finding = 'value `replicaCount` is not in this chart version (the profile sets it in values)';
    const report = { chart: 'team', chartTitle: 'Team', target: 'kind', startedAt: new Date().toISOString(), durationMs: 1, phases: [], suites: [], fingerprint: {}, knownDefects: [], profileFindings: [finding] };
    expect(renderMarkdown(report)).toContain(`## Profile findings (the profile and this chart version)\n\n- ${finding}`);
    expect(renderConsoleTable(report)).toContain(`profile finding: ${finding}`);
    expect(renderHtml(report)).toContain('<li>value `replicaCount` is not in this chart version');
    expect(renderConformance(report)).toContain('profileFindings:\n  - value `replicaCount` is not in this chart version');
  });
});
