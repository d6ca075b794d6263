// Corrections against the real charts' defaults (a chart mirror, $GATEWAY_SMOKE_CHART_MIRROR, e.g.
// ../shared/charts; litellm-proxy's own chart cannot be copied, so its fixture chart, which keeps
// the same values contract): every applied correction becomes a failing `chart.as-shipped.<id>`
// check whose evidence is the chart's default beside the corrected value, or the objects removed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chartDefaults, type Values } from '../scripts/cluster/values.ts';
import {
  chartSuite,
  correctionCheck,
  describeCorrections,
  foldEmbeddedYaml,
  releaseValues,
  valueAtPath,
} from '../scripts/corrections.ts';
import { CHARTS_DIR } from '../scripts/images/index.ts';
import { PROJECT_ROOT } from '../scripts/project-root.ts';
import type { ChartProfile, Correction, MockWiring } from '../scripts/profiles/types.ts';
import { isKnownCheckId } from '../scripts/report/check-ids.ts';
import { exitCodeOf, headline, outcome, type RunReport, type SuiteResult } from '../scripts/report/model.ts';
import { applyWaivers, parseWaivers } from '../scripts/waivers.ts';
import { requireInCI } from './prerequisite.ts';
import { getProfile, PROFILES } from '../scripts/profiles/index.ts';
const aiGatewayCore = getProfile('ai-gateway-core');
const litellmProxy = getProfile('litellm-proxy');
const routeiq = getProfile('routeiq');

const mirror = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
const inMirror = (name: string) => (mirror ? join(mirror, name) : '');
const ready = requireInCI(
  'a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)',
  Boolean(mirror && ['routeiq-gateway', 'ai-gateway-core', 'models'].every((c) => existsSync(join(inMirror(c), 'values.yaml')))),
  'point GATEWAY_SMOKE_CHART_MIRROR at a folder holding routeiq-gateway/, ai-gateway-core/ and models/ (e.g. ../shared/charts)',
);

const wiring: MockWiring = {
  mockUrl: 'http://mock.gs-ns1.svc.cluster.local:8089',
  providerKey: 'sk-provider-123',
  adminKey: 'sk-admin-456',
  model: 'mock-gpt',
  cache: { host: 'redis.gs-ns1.svc.cluster.local', port: 6379, password: 'pw' },
};
const byId = (p: ChartProfile, id: string): Correction => {
  const c = p.corrections.find((x) => x.id === id);
  if (!c) throw new Error(`${p.name} declares no correction ${id}`);
  return c;
};

describe('every profile declares its corrections apart from its wiring', () => {
  test('ids are kebab-case and unique, each a known check id; each names a defect in one line', () => {
    for (const p of PROFILES) {
      const ids = p.corrections.map((c) => c.id);
      expect(new Set(ids).size, p.name).toBe(ids.length);
      for (const c of p.corrections) {
        expect(c.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
        expect(isKnownCheckId(`chart.as-shipped.${c.id}`), c.id).toBe(true);
        expect(c.defect).not.toMatch(/\n/);
        expect(c.values || c.dropKinds, `${c.id} changes nothing`).toBeTruthy();
      }
    }
  });

  test("every value correction sets each path it declares, and a correction's chart is one of the profile's releases", () => {
    for (const p of PROFILES) {
      const releases = [p.name, ...(p.companions ?? []).map((c) => c.name)];
      for (const c of p.corrections) {
        expect(releases, `${p.name}/${c.id}`).toContain(c.chart ?? p.name);
        for (const path of c.values?.paths ?? []) expect(valueAtPath(c.values!.set, path), `${c.id}: ${path}`).toBeDefined();
      }
    }
  });

  test('the wiring sets none of the paths a correction owns (with --no-corrections the chart default is what runs)', () => {
    for (const p of PROFILES) {
      const w = p.values({ ...wiring, databaseUrl: 'postgresql://x', namespace: 'gs-ns1', saltKey: 's', database: { host: 'pg', port: 5432, name: 'app', user: 'app' } });
      for (const c of p.corrections.filter((x) => !x.chart)) {
        for (const path of c.values?.paths ?? []) expect(valueAtPath(w, path), `${p.name} wiring sets ${path}`).toBeUndefined();
      }
    }
  });

  test("the project's own waivers (ci/waivers.yaml) accept exactly the corrections the profiles declare, each for its chart", async () => {
    const waivers = parseWaivers(await readFile(join(PROJECT_ROOT, 'ci', 'waivers.yaml'), 'utf8'), 'ci/waivers.yaml');
    const waived = waivers.filter((w) => w.id.startsWith('chart.as-shipped.')).map((w) => `${w.chart} ${w.id} ${w.cause}`);
    const declared = PROFILES.flatMap((p) => p.corrections.map((c) => `${p.name} chart.as-shipped.${c.id} chart-defect`));
    expect(waived.sort()).toEqual(declared.sort());
  });

  test('the fingerprint line names what the run applies, or that it runs the chart as shipped', () => {
    expect(describeCorrections(routeiq, true)).toBe('master-key-reference, prometheus-callback: each applied and reported as a failing chart.as-shipped check');
    expect(describeCorrections(aiGatewayCore, false)).toMatch(/^none applied \(--no-corrections\): the chart runs as shipped; declared: .*models-backend-tls-policy \(models\)/);
    expect(describeCorrections(PROFILES.find((p) => p.name === 'llm-proxy')!, true)).toBe('none declared: the chart runs as shipped');
  });
});

describe('embedded YAML: the chart’s own document stays in force', () => {
  const defaults = { config: { gateway: 'model_list:\n  - model_name: a\nlitellm_settings:\n  drop_params: true\ngeneral_settings:\n  master_key: env/X\n' }, other: 1 };

  test('maps merge into the chart’s document (lists replace), later layers win, one string comes out', () => {
    const layers = foldEmbeddedYaml(defaults, [{ config: { gateway: { model_list: [{ model_name: 'mock' }] } }, other: 2 }, { config: { gateway: { general_settings: { master_key: 'os.environ/X' } } } }], ['config.gateway']);
    expect(layers.slice(0, 2)).toEqual([{ config: {}, other: 2 }, { config: {} }]);
    const doc = parse(valueAtPath(layers[2], 'config.gateway') as string);
    expect(doc).toEqual({ model_list: [{ model_name: 'mock' }], litellm_settings: { drop_params: true }, general_settings: { master_key: 'os.environ/X' } });
  });

  test('a layer that gives a string replaces the document; no map anywhere leaves the layers untouched', () => {
    const layers = foldEmbeddedYaml(defaults, [{ config: { gateway: 'a: 1\n' } }, { config: { gateway: { b: 2 } } }], ['config.gateway']);
    expect(parse(valueAtPath(layers.at(-1), 'config.gateway') as string)).toEqual({ a: 1, b: 2 });
    const plain = [{ other: 3 }];
    expect(foldEmbeddedYaml(defaults, plain, ['config.gateway'])).toBe(plain);
  });

  test('a path reads on into a YAML string', () => {
    expect(valueAtPath(defaults, 'config.gateway.general_settings.master_key')).toBe('env/X');
    expect(valueAtPath(defaults, 'config.gateway.nothing.here')).toBeUndefined();
  });
});

describe('a correction whose chart already has it passes and says it can go', () => {
  test('values equal to the chart default', () => {
    const c: Correction = { id: 'x', defect: 'd', values: { paths: ['a.b'], set: { a: { b: true } } } };
    const r = correctionCheck(c, { release: 'r', defaults: { a: { b: true } } });
    expect(r).toMatchObject({ id: 'chart.as-shipped.x', verdict: 'pass' });
    expect(r.message).toBe("nothing to correct (a.b is already true in the chart's defaults): the chart may have fixed it, so the correction can go");
    expect(r.causes).toBeUndefined();
  });

  test('a post-renderer that removed nothing', () => {
    const c: Correction = { id: 'drop', defect: 'd', chart: 'models', dropKinds: ['BackendTLSPolicy'] };
    const r = correctionCheck(c, { release: 'models', defaults: {}, removed: [] });
    expect(r.verdict).toBe('pass');
    expect(r.message).toMatch(/^nothing to correct \(no BackendTLSPolicy was rendered in release models\): .* the correction can go$/);
  });
});

describe.skipIf(!ready)('routeiq-gateway (real chart): the chart default beside the corrected value', () => {
  const load = () => chartDefaults(inMirror('routeiq-gateway'));

  test('master-key-reference: env/LITELLM_MASTER_KEY in the chart, os.environ/LITELLM_MASTER_KEY corrected', async () => {
    const r = correctionCheck(byId(routeiq, 'master-key-reference'), { release: 'routeiq', defaults: await load() });
    expect(r).toMatchObject({ id: 'chart.as-shipped.master-key-reference', verdict: 'fail' });
    expect(r.name).toMatch(/^chart as shipped: config\.gateway names the master key `env\/LITELLM_MASTER_KEY`/);
    expect(r.message).toBe(
      'corrected to test the rest: config.gateway.general_settings.master_key: chart default "env/LITELLM_MASTER_KEY", corrected to "os.environ/LITELLM_MASTER_KEY"',
    );
    expect(r.causes).toEqual([
      {
        kind: 'chart-defect',
        detail: byId(routeiq, 'master-key-reference').defect,
        evidence: {
          release: 'routeiq',
          values: [{ path: 'config.gateway.general_settings.master_key', chartDefault: 'env/LITELLM_MASTER_KEY', corrected: 'os.environ/LITELLM_MASTER_KEY' }],
        },
      },
    ]);
  });

  test('prometheus-callback: not set in the chart, ["prometheus"] corrected', async () => {
    const r = correctionCheck(byId(routeiq, 'prometheus-callback'), { release: 'routeiq', defaults: await load() });
    expect(r.verdict).toBe('fail');
    expect(r.message).toBe('corrected to test the rest: config.gateway.litellm_settings.callbacks: chart default not set, corrected to ["prometheus"]');
    expect(r.causes?.[0]?.evidence?.['values']).toEqual([{ path: 'config.gateway.litellm_settings.callbacks', corrected: ['prometheus'] }]);
  });

  test("the rendered config is the chart's own with the wiring and the corrections merged in; without corrections it is as shipped", async () => {
    const defaults = await load();
    const config = (corrections: boolean) => {
      const { layers, applied } = releaseValues({ profile: routeiq, release: 'routeiq', wiring: [routeiq.values(wiring)], defaults, corrections });
      return { applied: applied.map((c) => c.id), doc: parse(valueAtPath(layers.at(-1), 'config.gateway') as string) };
    };
    const on = config(true);
    expect(on.applied).toEqual(['master-key-reference', 'prometheus-callback']);
    expect(on.doc.model_list).toEqual([
      { model_name: 'mock-gpt', litellm_params: { model: 'openai/mock-gpt', api_base: `${wiring.mockUrl}/v1`, api_key: 'os.environ/OPENAI_API_KEY' } },
    ]);
    expect(on.doc.general_settings).toEqual({ master_key: 'os.environ/LITELLM_MASTER_KEY' });
    // the chart's own settings stay, the wiring adds the shared Redis, the correction the callback
    expect(on.doc.litellm_settings).toMatchObject({ drop_params: true, set_verbose: false, callbacks: ['prometheus'], cache: true });
    expect(on.doc.router_settings).toEqual({ redis_host: wiring.cache!.host, redis_port: '6379', redis_password: 'os.environ/REDIS_PASSWORD' });
    const off = config(false);
    expect(off.applied).toEqual([]);
    expect(off.doc.general_settings).toEqual({ master_key: 'env/LITELLM_MASTER_KEY' });
    expect(off.doc.litellm_settings.callbacks).toBeUndefined();
  });
});

describe.skipIf(!ready)('ai-gateway-core and models (real charts)', () => {
  test('https-listener-without-tls: both default listeners beside the HTTP one alone', async () => {
    const defaults = await chartDefaults(inMirror('ai-gateway-core'));
    const r = correctionCheck(byId(aiGatewayCore, 'https-listener-without-tls'), { release: 'ai-gateway-core', defaults });
    expect(r.verdict).toBe('fail');
    const [ev] = r.causes![0]!.evidence!['values'] as { path: string; chartDefault: { name: string }[]; corrected: { name: string }[] }[];
    expect(ev!.path).toBe('gateway.listeners');
    expect(ev!.chartDefault.map((l) => l.name)).toEqual(['http', 'https']);
    expect(ev!.corrected).toEqual([(defaults['gateway'] as { listeners: unknown[] }).listeners[0]]);
  });

  test('envoy-ratelimit-header: headers {} in the chart (not set), true corrected', async () => {
    const r = correctionCheck(byId(aiGatewayCore, 'envoy-ratelimit-header'), { release: 'ai-gateway-core', defaults: await chartDefaults(inMirror('ai-gateway-core')) });
    expect(r.message).toBe('corrected to test the rest: clientTrafficPolicy.headers.enableEnvoyHeaders: chart default not set, corrected to true');
  });

  test('by default the run is FAILED, exit 1, every behaviour still shown, the chart as shipped named', async () => {
    const defaults = await chartDefaults(inMirror('models'));
    const removed = [
      { kind: 'BackendTLSPolicy', name: 'mock-backend-01-tls', namespace: '' },
      { kind: 'BackendTLSPolicy', name: 'mock-backend-02-tls', namespace: '' },
    ];
    const checks = aiGatewayCore.corrections.map((c) =>
      correctionCheck(c, { release: c.chart ?? 'ai-gateway-core', defaults: c.chart ? defaults : {}, namespace: 'gs-ns1', ...(c.dropKinds ? { removed } : {}) }),
    );
    const chart = chartSuite(checks)!;
    expect(chart.verdict).toBe('fail');
    const tls = chart.checks.find((c) => c.id === 'chart.as-shipped.models-backend-tls-policy')!;
    expect(tls.name).toMatch(/BackendTLSPolicy/);
    expect(tls.message).toBe('corrected to test the rest: removed BackendTLSPolicy gs-ns1/mock-backend-01-tls, BackendTLSPolicy gs-ns1/mock-backend-02-tls from release models');
    const pass = (suite: SuiteResult['suite']): SuiteResult => ({ suite, verdict: 'pass', durationMs: 1, checks: [{ id: `${suite}.x`, name: 'x', verdict: 'pass', durationMs: 1 }] });
    const na = (suite: SuiteResult['suite']): SuiteResult => ({ suite, verdict: 'not-applicable', durationMs: 0, checks: [{ id: `${suite}.x`, name: 'x', verdict: 'not-applicable', durationMs: 0 }] });
    const report: RunReport = {
      chart: 'ai-gateway-core', chartTitle: '', target: 'kind', startedAt: '', durationMs: 0, phases: [], fingerprint: {}, knownDefects: [],
      suites: [pass('health'), na('keys'), pass('ratelimit'), pass('metrics'), na('netpol'), chart],
    };
    expect(outcome(report)).toBe('FAILED');
    expect(exitCodeOf(outcome(report), false)).toBe(1);
    expect(headline(report)).toMatch(/^FAILED — 3 of 5 behaviours verified, 2 not applicable, the chart as shipped fails 3 checks/);

    // a waiver on the BackendTLSPolicy's id accepts that one; the other corrections still fail the run
    const waive = (ids: string[]) => parseWaivers(ids.map((id) => `- {id: chart.as-shipped.${id}, reason: "upstream fix pending", until: 2027-01-31}\n`).join(''), 'w.yaml');
    const one = structuredClone(report);
    applyWaivers(one, waive(['models-backend-tls-policy']), '2026-12-07');
    expect(one.suites.at(-1)!.checks.map((c) => [c.id, c.verdict])).toEqual([
      ['chart.as-shipped.https-listener-without-tls', 'fail'],
      ['chart.as-shipped.envoy-ratelimit-header', 'fail'],
      ['chart.as-shipped.models-backend-tls-policy', 'waived'],
    ]);
    expect(outcome(one)).toBe('FAILED');
    // waived, every one: exit 0, the headline still says the corrections were accepted
    applyWaivers(report, waive(aiGatewayCore.corrections.map((c) => c.id)), '2026-12-07');
    expect(chart.verdict).toBe('waived');
    expect(outcome(report)).toBe('VERIFIED');
    expect(exitCodeOf(outcome(report), false)).toBe(0);
    expect(headline(report)).toMatch(/3 chart corrections accepted by a waiver/);
  });

  test('no chart group when nothing was applied', () => {
    expect(chartSuite([])).toBeUndefined();
  });
});

describe('litellm-proxy (fixture chart, same values contract)', () => {
  const chart = join(CHARTS_DIR, 'litellm-proxy');

  test('separate-health-app and router-redis-at-sentinel: the chart defaults true, corrected to false', async () => {
    const defaults: Values = await chartDefaults(chart);
    const msgs = litellmProxy.corrections.map((c) => correctionCheck(c, { release: 'litellm-proxy', defaults }).message);
    expect(msgs).toEqual([
      'corrected to test the rest: healthCheck.separateApp: chart default true, corrected to false',
      'corrected to test the rest: cache.sentinel.enabled: chart default true, corrected to false',
    ]);
  });
});
