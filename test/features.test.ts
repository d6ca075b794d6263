// The features catalogue: every check proves a feature, every profile claims each feature or says
// why not (in step with what its capabilities promise), and a run's checks are read per feature.
import { describe, expect, test } from 'vitest';
import { CHECK_FEATURES, FEATURE_IDS, FEATURE_SUITE, allCheckIds, type FeatureId } from '../scripts/profiles/features.ts';
import { PROFILES, getProfile } from '../scripts/profiles/index.ts';
import { type Capabilities, isNotApplicable } from '../scripts/profiles/types.ts';
import { featureResults } from '../scripts/report/features.ts';
import type { RunReport } from '../scripts/report/model.ts';

/** What a profile's capabilities promise, feature by feature (until the claims carry the parameters themselves). */
function promised(c: Capabilities): Set<FeatureId> {
  const f = new Set<FeatureId>();
  if (!isNotApplicable(c.health)) {
    if ('flavour' in c.health) f.add('health.gateway-api');
    else {
      f.add('health.probes');
      for (const d of c.health.readyReportsDependencies ?? []) f.add(`health.ready-reports-${d.dependency}`);
    }
  }
  if (!isNotApplicable(c.keys)) f.add('keys.admin-api').add('keys.revocation');
  if (!isNotApplicable(c.ratelimit)) {
    f.add(c.ratelimit.flavour === 'envoy-global' ? 'ratelimit.per-user-header' : 'ratelimit.per-key');
    if (c.ratelimit.sharedAcrossReplicas) f.add('ratelimit.shared-across-replicas');
    if (c.ratelimit.flavour !== 'lifetime-quota') f.add('ratelimit.remaining-headers');
  }
  if (!isNotApplicable(c.metrics)) {
    f.add('metrics.prometheus');
    if (c.metrics.tokenUsage) f.add('metrics.token-usage');
  }
  if (!isNotApplicable(c.netpol)) f.add('netpol');
  return f;
}

describe('features catalogue', () => {
  test('every check id proves at least one feature, of its own suite', () => {
    for (const { id, suite } of allCheckIds()) {
      const features = CHECK_FEATURES[id];
      expect(features.length, id).toBeGreaterThan(0);
      for (const f of features) expect(FEATURE_SUITE[f], `${id} → ${f}`).toBe(suite);
    }
  });

  test('every feature is proven by at least one check', () => {
    const proven = new Set(Object.values(CHECK_FEATURES).flat());
    expect(FEATURE_IDS.filter((f) => !proven.has(f))).toEqual([]);
  });

  test.each(PROFILES.map((p) => p.name))('%s claims exactly what its capabilities promise, and gives a reason for every other feature', (name) => {
    const profile = getProfile(name);
    const claimed = FEATURE_IDS.filter((f) => profile.features[f] === 'claimed');
    expect(new Set(claimed)).toEqual(promised(profile.capabilities));
    for (const f of FEATURE_IDS) {
      const claim = profile.features[f];
      if (claim !== 'claimed') expect(claim.unclaimed.length, `${name} ${f}`).toBeGreaterThan(10);
    }
  });
});

describe('results per feature', () => {
  const report = (suites: RunReport['suites']): RunReport => ({
    chart: 'llm-proxy', chartTitle: 'llm-proxy', target: 'url', startedAt: '2026-12-07T00:00:00Z', durationMs: 0, phases: [], fingerprint: {}, knownDefects: [], suites,
  });
  const claims = getProfile('llm-proxy').features;

  test('a claimed feature takes its checks’ verdict; a waived failure stays waived; unclaimed ones are not applicable with the reason; an unselected suite is not run', () => {
    const r = report([
      { suite: 'health', verdict: 'pass', durationMs: 1, checks: [
        { id: 'health.live', name: 'live', verdict: 'pass', durationMs: 1 },
        { id: 'health.ready', name: 'ready', verdict: 'pass', durationMs: 1 },
      ] },
      { suite: 'keys', verdict: 'fail', durationMs: 1, checks: [
        { id: 'keys.create', name: 'create', verdict: 'pass', durationMs: 1 },
        { id: 'keys.revoked-refused', name: 'revoked', verdict: 'waived', durationMs: 1 },
        { id: 'keys.revoked-limited-refused', name: 'revoked limited', verdict: 'fail', durationMs: 1 },
      ] },
    ]);
    const byId = Object.fromEntries(featureResults(r, claims, ['health', 'keys']).map((f) => [f.id, f]));
    expect(byId['health.probes']).toMatchObject({ claimed: true, result: 'pass', checks: [{ id: 'health.live' }, { id: 'health.ready' }] });
    expect(byId['keys.admin-api']).toMatchObject({ result: 'pass', checks: [{ id: 'keys.create', verdict: 'pass' }] });
    expect(byId['keys.revocation']).toMatchObject({ result: 'fail' });
    expect(byId['netpol']).toMatchObject({ claimed: false, result: 'not-applicable', reason: 'the llm-proxy chart ships no NetworkPolicy on main' });
    expect(byId['ratelimit.per-key']).toMatchObject({ claimed: true, result: 'not-run', checks: [] });
  });

  test('a suite that could not set up fails every feature it claims; a claimed feature of a suite that ran without its checks fails', () => {
    const r = report([
      { suite: 'ratelimit', verdict: 'fail', durationMs: 1, checks: [{ id: 'ratelimit.setup', name: 'setup', verdict: 'fail', durationMs: 1 }] },
      { suite: 'metrics', verdict: 'pass', durationMs: 1, checks: [] },
    ]);
    const byId = Object.fromEntries(featureResults(r, claims, ['ratelimit', 'metrics']).map((f) => [f.id, f]));
    expect(byId['ratelimit.per-key']).toMatchObject({ result: 'fail', checks: [{ id: 'ratelimit.setup', verdict: 'fail' }] });
    expect(byId['ratelimit.shared-across-replicas']).toMatchObject({ result: 'fail' });
    expect(byId['metrics.prometheus']).toMatchObject({ result: 'fail', checks: [] });
  });
});

describe('results per feature in the reports', () => {
  test('report.html has a "By feature" section and conformance.yaml names claims, results and reasons', async () => {
    const { renderHtml } = await import('../scripts/report/html.ts');
    const { renderConformance } = await import('../scripts/report/features.ts');
    const { parse } = await import('yaml');
    const r: RunReport = {
      chart: 'llm-proxy', chartTitle: 'llm-proxy', target: 'url', startedAt: '2026-12-07T00:00:00Z', durationMs: 0, phases: [], fingerprint: {}, knownDefects: [], outcome: 'FAILED',
      suites: [{ suite: 'health', verdict: 'fail', durationMs: 1, checks: [{ id: 'health.live', name: 'live', verdict: 'fail', durationMs: 1 }] }],
    };
    r.features = featureResults(r, getProfile('llm-proxy').features, ['health']);
    const html = renderHtml(r);
    expect(html).toMatch(/<section id="features"><h2>By feature/);
    expect(html).toMatch(/data-feature="health\.probes" data-claimed="true">.*FAIL.*health\.live/);
    expect(html).toMatch(/data-feature="netpol" data-claimed="false">.*ships no NetworkPolicy/);
    const doc = parse(renderConformance(r)) as { features: { claimed: Record<string, { result: string }>; unclaimed: Record<string, string> } };
    expect(doc.features.claimed['health.probes']).toEqual({ result: 'fail', checks: { 'health.live': 'fail' } });
    expect(doc.features.claimed['keys.admin-api']).toEqual({ result: 'not-run', checks: {} });
    expect(Object.keys(doc.features.unclaimed).sort()).toEqual(FEATURE_IDS.filter((f) => getProfile('llm-proxy').features[f] !== 'claimed').sort());
  });
});

describe('applicability is decided by the claims, in one place', () => {
  test('a check applies when any feature it proves is claimed; otherwise the profile’s reasons say why not', async () => {
    const { unclaimedReason } = await import('../suites/lib/check.ts');
    const llmProxy = getProfile('llm-proxy').features;
    const aiGateway = getProfile('ai-gateway-core').features;
    expect(unclaimedReason('ratelimit.burst-exact', llmProxy)).toBeUndefined();
    expect(unclaimedReason('ratelimit.burst-exact', aiGateway)).toBeUndefined();
    expect(unclaimedReason('ratelimit.other-user-unaffected', llmProxy)).toBe('the limit is a per-token lifetime quota, not keyed on a user header');
    expect(unclaimedReason('ratelimit.remaining-headers', aiGateway)).toBeUndefined();
    expect(unclaimedReason('ratelimit.remaining-headers', llmProxy)).toBe('the lifetime quota sends no x-ratelimit headers');
    expect(unclaimedReason('health.ready-reports-dependency', llmProxy)).toBe("llm-proxy's /ready does not report its database; llm-proxy uses no Redis");
    const noNetpol = { ...getProfile('routeiq').features, netpol: { unclaimed: 'a team that turned it off' } } as const;
    expect(unclaimedReason('netpol.matrix', noNetpol)).toBe('a team that turned it off');
  });
});
