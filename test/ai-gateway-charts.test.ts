// The real ai-gateway-core and models charts (ai-helm @17c254d, from a chart mirror: a folder of
// chart folders, $GATEWAY_SMOKE_CHART_MIRROR) rendered by the real helm with the profile's values
// layers (wiring, then corrections), and the post-renderer of the models chart's correction,
// exactly as the harness passes them to helm.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { dropKindsRenderer } from '../scripts/cluster/post-renderer.ts';
import { chartDefaults, type Values } from '../scripts/cluster/values.ts';
import { correctionCheck, correctionsFor, releaseValues } from '../scripts/corrections.ts';
import { findHelm, KUBE_VERSION } from '../scripts/images/index.ts';
import type { MockWiring } from '../scripts/profiles/types.ts';
import { getProfile } from '../scripts/profiles/index.ts';
const profile = getProfile('ai-gateway-core');

const helm = findHelm();
const mirror = process.env['GATEWAY_SMOKE_CHART_MIRROR'];
const coreDir = mirror ? join(mirror, 'ai-gateway-core') : '';
const modelsDir = mirror ? join(mirror, 'models') : '';
const have = Boolean(helm && mirror && existsSync(coreDir) && existsSync(modelsDir));
const why = !helm ? 'no helm (`npm run cluster:up` builds it)' : 'GATEWAY_SMOKE_CHART_MIRROR does not point at a folder with ai-gateway-core/ and models/ (e.g. ../shared/charts)';
if (!have && process.env['CI']) throw new Error(`CI must provide the real ai-helm charts and helm: ${why}`);

type Obj = { kind: string; metadata: { name: string; namespace?: string }; spec?: any };
const NS = 'gs-ai-gateway-core-test1';
const wiring: MockWiring = { mockUrl: `http://mock.${NS}.svc.cluster.local:8089`, providerKey: 'sk-provider-789', adminKey: '', model: 'mock-gpt', namespace: NS };

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gs-aigw-charts-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** helm template with one values file per layer, in order, as helmInstall passes them. */
async function template(chart: string, release: string, layers: Values[], extra: string[] = []): Promise<Obj[]> {
  const files: string[] = [];
  for (const [i, layer] of layers.entries()) {
    files.push(join(dir, `${release}-values-${i}.yaml`));
    await writeFile(files.at(-1)!, stringify(layer));
  }
  const { stdout } = await execa(helm!, ['template', release, chart, '--namespace', NS, '--kube-version', KUBE_VERSION, ...files.flatMap((f) => ['-f', f]), ...extra]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();

describe.skipIf(!have)(`ai-gateway-core with the profile's values${have ? '' : ` (skipped: ${why})`}`, () => {
  let defaults: Values = {};
  let objs: Obj[] = [];
  let shipped: Obj[] = [];
  const layers = (corrections: boolean) =>
    releaseValues({ profile, release: profile.name, wiring: [profile.values(wiring)], defaults, corrections }).layers;
  beforeAll(async () => {
    defaults = await chartDefaults(coreDir);
    objs = await template(coreDir, 'ai-gateway-core', layers(true));
    shipped = await template(coreDir, 'ai-gateway-core', layers(false));
  });

  test('renders the Gateway API objects only: no cert-manager, no HTTPS redirect, no GatewayConfig', () => {
    expect(kinds(objs)).toEqual(['ClientTrafficPolicy', 'EnvoyProxy', 'Gateway', 'GatewayClass']);
  });

  test("the chart's own plain HTTP listener on 80 (the HTTPS one corrected away), in the run namespace, on a GatewayClass of its own", () => {
    const gw = objs.find((o) => o.kind === 'Gateway')!;
    expect(gw.metadata).toMatchObject({ name: 'ai-gateway', namespace: NS });
    expect(gw.spec.gatewayClassName).toBe(NS);
    expect(gw.spec.listeners).toEqual([{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } }]);
    expect(objs.find((o) => o.kind === 'GatewayClass')!.metadata.name).toBe(NS);
  });

  test('as shipped (wiring only, tls off): the HTTPS listener stays and names a certificate Secret nothing renders (the corrected defect)', () => {
    const gw = shipped.find((o) => o.kind === 'Gateway')!;
    const https = gw.spec.listeners.find((l: { protocol: string }) => l.protocol === 'HTTPS');
    expect(https.tls.certificateRefs).toEqual([{ kind: 'Secret', name: 'converse-llm-tls' }]);
    expect(kinds(shipped)).not.toContain('Certificate');
    const check = correctionCheck(correctionsFor(profile, profile.name).find((c) => c.id === 'https-listener-without-tls')!, { release: profile.name, defaults });
    expect(check.verdict).toBe('fail');
    expect(check.message).toMatch(/^corrected to test the rest: gateway\.listeners: chart default \[\{"name":"http".*"name":"https"/);
  });

  test('Envoy headers on (x-envoy-ratelimited) only by the correction; two Envoy replicas behind a ClusterIP Service', () => {
    expect(objs.find((o) => o.kind === 'ClientTrafficPolicy')!.spec.headers).toEqual({ enableEnvoyHeaders: true });
    expect(shipped.find((o) => o.kind === 'ClientTrafficPolicy')!.spec.headers).toBeUndefined();
    const k8s = objs.find((o) => o.kind === 'EnvoyProxy')!.spec.provider.kubernetes;
    expect(k8s.envoyService.type).toBe('ClusterIP');
    expect(k8s.envoyDeployment.replicas).toBe(2);
  });
});

describe.skipIf(!have)(`models with the profile's values${have ? '' : ` (skipped: ${why})`}`, () => {
  let defaults: Record<string, unknown> = {};
  let objs: Obj[] = [];
  beforeAll(async () => {
    defaults = parse(await readFile(join(modelsDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    objs = await template(modelsDir, 'models', [profile.companions![0]!.values(wiring, defaults)]);
  });

  test("every default backend and model is nulled: only the mock's two backends and the run's model remain", () => {
    expect(Object.keys(defaults['models'] as object).length, 'the chart has default models to null').toBeGreaterThan(10);
    expect(objs.filter((o) => o.kind === 'Backend').map((o) => o.metadata.name)).toEqual(['mock-backend-01', 'mock-backend-02']);
    expect(objs.filter((o) => o.kind === 'AIGatewayRoute').map((o) => o.metadata.name)).toEqual(['mock-gpt']);
  });

  test('both backends point at the in-cluster mock with the OpenAI schema and the API key Secret', () => {
    for (const b of objs.filter((o) => o.kind === 'Backend')) expect(b.spec.endpoints).toEqual([{ fqdn: { hostname: `mock.${NS}.svc.cluster.local`, port: 8089 } }]);
    for (const a of objs.filter((o) => o.kind === 'AIServiceBackend')) expect(a.spec.schema).toEqual({ name: 'OpenAI', prefix: '/v1' });
    for (const p of objs.filter((o) => o.kind === 'BackendSecurityPolicy')) {
      expect(p.spec).toMatchObject({ type: 'APIKey', apiKey: { secretRef: { name: profile.providerKeySecret!.name } } });
    }
  });

  test('the global rate limit: x-user-id Distinct + the model, an integer number of requests', () => {
    const btp = objs.find((o) => o.kind === 'BackendTrafficPolicy')!;
    const rules = btp.spec.rateLimit.global.rules;
    expect(rules).toHaveLength(1);
    expect(rules[0].clientSelectors[0].headers).toEqual([
      { name: 'x-user-id', type: 'Distinct' },
      { name: 'x-ai-eg-model', type: 'Exact', value: 'mock-gpt' },
    ]);
    expect(rules[0].limit).toEqual({ requests: 3, unit: 'Minute' });
    expect(Number.isInteger(rules[0].limit.requests)).toBe(true);
  });

  test('without the correction it renders a BackendTLSPolicy per backend (the defect)', () => {
    expect(objs.filter((o) => o.kind === 'BackendTLSPolicy').map((o) => o.metadata.name)).toEqual(['mock-backend-01-tls', 'mock-backend-02-tls']);
  });

  test("the correction's post-renderer removes exactly the BackendTLSPolicies, and its failing check names them", async () => {
    const applied = correctionsFor(profile, 'models');
    expect(applied.map((c) => c.id)).toEqual(['models-backend-tls-policy']);
    const renderer = (await dropKindsRenderer(applied))!;
    try {
      const post = renderer.postRenderer;
      const rendered = await template(modelsDir, 'models', [profile.companions![0]!.values(wiring, defaults)], [
        '--post-renderer', post.command, ...(post.args ?? []).flatMap((a) => ['--post-renderer-args', a]),
      ]);
      expect(kinds(rendered)).toEqual(kinds(objs).filter((k) => k !== 'BackendTLSPolicy'));
      const removed = await renderer.removed();
      expect(removed.map((r) => `${r.kind}/${r.name}`)).toEqual(['BackendTLSPolicy/mock-backend-01-tls', 'BackendTLSPolicy/mock-backend-02-tls']);
      const check = correctionCheck(applied[0]!, { release: 'models', defaults, removed, namespace: NS });
      expect(check).toMatchObject({ id: 'chart.as-shipped.models-backend-tls-policy', verdict: 'fail' });
      expect(check.name).toMatch(/^chart as shipped: the models chart renders a BackendTLSPolicy for every backend/);
      expect(check.message).toBe(`corrected to test the rest: removed BackendTLSPolicy ${NS}/mock-backend-01-tls, BackendTLSPolicy ${NS}/mock-backend-02-tls from release models`);
      expect(check.causes?.[0]?.evidence?.['removed']).toEqual(removed);
    } finally {
      await renderer.dispose();
    }
  });

  test('the main chart gets no post-renderer: its corrections are values only', async () => {
    expect(await dropKindsRenderer(correctionsFor(profile, profile.name))).toBeUndefined();
  });
});

describe('drop-kinds.ts as a post-renderer', () => {
  test('bad arguments exit 2 with one line', async () => {
    const r = await execa(process.execPath, [join(import.meta.dirname, '../scripts/helm/drop-kinds.ts'), '--bogus'], { reject: false, input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^drop-kinds: unknown argument "--bogus"\. Usage:/);
  });
});
