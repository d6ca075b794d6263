// The real upstream charts, as the harness installs them: read from a chart mirror
// (GATEWAY_SMOKE_CHART_MIRROR, a folder of chart folders; .ci/run points it at ../shared/charts),
// made installable the way the harness does it (dependencies), rendered with the real helm and the
// profiles' own values. Nothing here is a copy of a chart.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chartImageRef } from '../scripts/cluster/app-image.ts';
import { prepareDependencies, resolveChart } from '../scripts/cluster/chart-source.ts';
import { probeUrl } from '../scripts/cluster/registry.ts';
import { chartDefaults, effectiveValues, mergeValues } from '../scripts/cluster/values.ts';
import { releaseValues } from '../scripts/corrections.ts';
import { EnvironmentError } from '../scripts/errors.ts';
import { findHelm, renderChart } from '../scripts/images/index.ts';
import { isNotApplicable, type MockWiring } from '../scripts/profiles/types.ts';
import { RunContext } from '../scripts/run-context.ts';
import { type Any, b64, container, envMap, find, missingKeys } from './manifests.ts';
import { requireInCI } from './prerequisite.ts';
import { getProfile } from '../scripts/profiles/index.ts';
const llmProxy = getProfile('llm-proxy');
const routeiq = getProfile('routeiq');

const mirror = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
const helmBin = findHelm();
const ready =
  requireInCI('a chart mirror (GATEWAY_SMOKE_CHART_MIRROR)', Boolean(mirror), 'point GATEWAY_SMOKE_CHART_MIRROR at a folder holding routeiq-gateway/ and llm-proxy/ at the pinned commits') &&
  requireInCI('helm', helmBin !== undefined, '`npm run cluster:up` builds it into the cache');
const helm = helmBin!;

const wiring: MockWiring = { mockUrl: 'http://mock.gs-ns1.svc.cluster.local:8089', providerKey: 'sk-provider-123', adminKey: 'sk-admin-456', model: 'mock-gpt' };
const DB_URL = 'postgresql://smoke:pg-0123abcd@postgres.gs-ns1.svc.cluster.local:5432/smoke';
const RELEASE = 'gs-run1';
const ctx = new RunContext({ info: () => undefined, warn: () => undefined });
afterAll(() => ctx.cleanup());

describe.skipIf(!ready)('real llm-proxy chart (mirror copy)', () => {
  const resolve = () => resolveChart({ profile: llmProxy, mirror: mirror!, ctx });

  test('the mirror copy is used when the upstream is unreachable, and said to be a mirror copy of the pinned commit', async () => {
    const chart = await resolve();
    expect(chart.origin === 'upstream' || chart.origin === 'mirror').toBe(true);
    if (chart.origin === 'mirror') expect(chart.label).toBe(`mirror copy of github.com/sofatutor/llm-proxy/deploy/helm/llm-proxy@66ec3dc (${join(mirror!, 'llm-proxy')})`);
    expect(chart.meta).toMatchObject({ name: 'llm-proxy', version: '0.1.0' });
  });

  test('as published it cannot be rendered at all: helm wants its disabled postgresql dependency', async () => {
    const chart = await resolve();
    await expect(renderChart(helm, chart.path, llmProxy.values(wiring))).rejects.toThrow(/missing in charts\/ directory: postgresql/);
  });

  test('the disabled dependency is dropped on a temporary copy (or fetched), the report says so, the mirror is untouched', async () => {
    const chart = await resolve();
    const before = await readFile(join(chart.path, 'Chart.yaml'), 'utf8');
    const values = await effectiveValues(chart.path, [llmProxy.values(wiring)]);
    const ready = await prepareDependencies({ chart, values, helm, ctx });
    expect(await readFile(join(chart.path, 'Chart.yaml'), 'utf8')).toBe(before);
    expect(ready.path).not.toBe(chart.path);
    const reachable = (await probeUrl('https://charts.bitnami.com/bitnami/index.yaml')).reachable;
    if (reachable) expect(ready.notes).toEqual(['dependencies postgresql fetched by helm dependency build']);
    else {
      expect(ready.notes).toHaveLength(1);
      expect(ready.notes[0]).toMatch(/^dependency postgresql 15\.5\.38 \(https:\/\/charts\.bitnami\.com\/bitnami\) dropped on a temporary copy of the chart: it is disabled \(postgresql\.enabled=false\) and could not be fetched \(its repository charts\.bitnami\.com is unreachable/);
      expect((parse(await readFile(join(ready.path, 'Chart.yaml'), 'utf8')) as Any).dependencies).toBeUndefined();
    }
    const objs = await renderChart(helm, ready.path, llmProxy.values(wiring), { release: RELEASE });
    expect(find(objs, 'Deployment', `${RELEASE}-llm-proxy`)).toBeDefined();
  });

  test('an enabled dependency that cannot be fetched is an environment error naming it', async () => {
    if ((await probeUrl('https://charts.bitnami.com/bitnami/index.yaml')).reachable) return; // fetched instead: the test above shows it
    const chart = await resolve();
    const values = await effectiveValues(chart.path, [llmProxy.values(wiring), { postgresql: { enabled: true } }]);
    const err = await prepareDependencies({ chart, values, helm, ctx }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toMatch(/dependency postgresql 15\.5\.38 from https:\/\/charts\.bitnami\.com\/bitnami is enabled \(postgresql\.enabled=true\) but cannot be fetched/);
  });

  describe('rendered with the profile values and the local stand-in image', () => {
    const render = async (w: MockWiring) => {
      const chart = await resolve();
      const ready = await prepareDependencies({ chart, values: await effectiveValues(chart.path, [llmProxy.values(w)]), helm, ctx });
      return renderChart(helm, ready.path, { ...llmProxy.values(w), ...llmProxy.app!.standIn!.values('gateway-smoke/llm-proxy:v0.1.3') }, { release: RELEASE });
    };

    test('every key the profile sets exists in the real chart', async () => {
      const chart = await resolve();
      const defaults = parse(await readFile(join(chart.path, 'values.yaml'), 'utf8')) as Record<string, unknown>;
      expect(missingKeys(llmProxy.values({ ...wiring, databaseUrl: DB_URL }), defaults, ['env'])).toEqual([]);
    });

    test("the chart's own image is llm-proxy:<appVersion> unless the values say otherwise", async () => {
      const chart = await resolve();
      expect(chartImageRef(await effectiveValues(chart.path, [llmProxy.values(wiring)]), 'image', chart.meta.appVersion)).toBe('llm-proxy:latest');
    });

    test('Service, Secret and env where the profile and the suites expect them; the stand-in image runs', async () => {
      const objs = await render(wiring);
      const svc = find(objs, 'Service', `${RELEASE}-${llmProxy.service.nameSuffix}`) as Any;
      expect(svc.spec.ports[0]).toMatchObject({ port: llmProxy.service.port });
      const c = container(find(objs, 'Deployment', `${RELEASE}-llm-proxy`));
      expect(c.image).toBe('gateway-smoke/llm-proxy:v0.1.3');
      const env = envMap(c);
      expect(env['OPENAI_API_URL']).toBe(wiring.mockUrl);
      expect(env['MANAGEMENT_TOKEN']?.secretKeyRef).toBeDefined();
      const secret = find(objs, 'Secret', env['MANAGEMENT_TOKEN'].secretKeyRef.name) as Any;
      const data = secret.stringData ?? Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, b64(v as string)]));
      expect(data[env['MANAGEMENT_TOKEN'].secretKeyRef.key]).toBe(wiring.adminKey);
    });

    test('with the Postgres the harness installs: two replicas on DB_DRIVER=postgres, DATABASE_URL from the Secret', async () => {
      const objs = await render({ ...wiring, databaseUrl: DB_URL });
      const dep = find(objs, 'Deployment', `${RELEASE}-llm-proxy`) as Any;
      expect(dep.spec.replicas).toBe(2);
      const env = envMap(container(dep));
      expect(env['DB_DRIVER']).toBe('postgres');
      expect(env['DATABASE_URL']?.secretKeyRef).toBeDefined();
    });
  });
});

describe.skipIf(!ready)('real routeiq-gateway chart (mirror copy)', () => {
  const fullname = `${RELEASE}-${routeiq.service.nameSuffix}`;
  const resolve = () => resolveChart({ profile: routeiq, mirror: mirror!, ctx });
  // the profile's layers as the harness builds them (wiring, corrections, config.gateway folded), then extra
  const render = async (extra: Record<string, unknown> = {}, w: MockWiring = wiring) => {
    const path = (await resolve()).path;
    const { layers } = releaseValues({ profile: routeiq, release: routeiq.name, wiring: [routeiq.values(w)], defaults: await chartDefaults(path), corrections: true });
    return renderChart(helm, path, [...layers, extra].reduce(mergeValues, {}), { release: RELEASE });
  };

  test("the chart's own image is ghcr.io/baladithyab/litellm-llm-router at its appVersion", async () => {
    const chart = await resolve();
    expect(chartImageRef(await effectiveValues(chart.path, [routeiq.values(wiring)]), 'image', chart.meta.appVersion)).toBe('ghcr.io/baladithyab/litellm-llm-router:1.81.3');
  });

  test('Service port 80 → 4000, the master key and provider key in its Secret, config with the mock', async () => {
    const objs = await render();
    expect((find(objs, 'Service', fullname) as Any).spec.ports[0]).toMatchObject({ port: routeiq.service.port, targetPort: 4000 });
    const dep = find(objs, 'Deployment', fullname);
    expect(container(dep).ports).toEqual([{ name: 'http', containerPort: 4000, protocol: 'TCP' }]);
    const secret = objs.find((o) => o.kind === 'Secret' && JSON.stringify(o).includes('LITELLM_MASTER_KEY')) as Any;
    const data = secret.stringData ?? Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, b64(v as string)]));
    expect(data).toMatchObject({ LITELLM_MASTER_KEY: wiring.adminKey, OPENAI_API_KEY: wiring.providerKey });
    const cm = objs.find((o) => o.kind === 'ConfigMap') as Any;
    const config = parse(Object.values(cm.data as Record<string, string>).find((v) => v.includes('model_list'))!) as Any;
    expect(config.model_list.map((m: Any) => m.litellm_params.api_base)).toEqual([`${wiring.mockUrl}/v1`]);
    // the chart's own settings, the corrected master key reference
    expect(config.litellm_settings).toMatchObject({ drop_params: true, set_verbose: false, callbacks: ['prometheus'] });
    expect(config.general_settings.master_key).toBe('os.environ/LITELLM_MASTER_KEY');
  });

  test("the stand-in values swap the image and point the kubelet's probes at LiteLLM's own endpoints; the suite still asks /_health/*", async () => {
    const objs = await render(routeiq.app!.standIn!.values('gateway-smoke/litellm:1.81.16'));
    const c = container(find(objs, 'Deployment', fullname));
    expect(c.image).toBe('gateway-smoke/litellm:1.81.16');
    expect(c.livenessProbe.httpGet.path).toBe('/health/liveliness');
    expect(c.readinessProbe.httpGet.path).toBe('/health/readiness');
    expect((routeiq.capabilities.health as { live: { path: string } }).live.path).toBe('/_health/live');
    // The chart itself probes RouteIQ's endpoints, which only its own image has.
    const own = container(find(await render(), 'Deployment', fullname));
    expect(own.livenessProbe.httpGet.path).toBe('/_health/live');
  });

  test('networkPolicy.enabled on the defaults renders `from: [{}]` (the known defect the API server rejects); the profile selects the run namespace', async () => {
    const defaults = find(await render({ networkPolicy: { enabled: true } }), 'NetworkPolicy') as Any;
    expect(defaults.spec.ingress[0].from).toEqual([{}]);
    const netpol = routeiq.capabilities.netpol;
    if (isNotApplicable(netpol)) throw new Error('routeiq promises a NetworkPolicy');
    const p = find(await render(netpol.enableValues), 'NetworkPolicy') as Any;
    expect(p.spec.ingress[0].from).toEqual([{ namespaceSelector: { matchLabels: { 'gateway-smoke/role': 'gateway' } } }]);
    expect(JSON.stringify(p.spec.egress)).toContain('"app.kubernetes.io/instance":"mock"');
  });
});
