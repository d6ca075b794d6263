// The real ai-gateway-core and models charts (ai-helm @17c254d, from a chart mirror: a folder of
// chart folders, $GATEWAY_SMOKE_CHART_MIRROR) rendered by the real helm with the profile's values,
// and the post-renderer the profile's workaround runs, exactly as the harness passes it to helm.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { workaroundFinding, workaroundFor } from '../scripts/cluster/ai-gateway-release.ts';
import { findHelm, KUBE_VERSION } from '../scripts/images/index.ts';
import { aiGatewayCore as profile } from '../scripts/profiles/ai-gateway-core.ts';
import type { MockWiring } from '../scripts/profiles/types.ts';

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

async function template(chart: string, release: string, values: Record<string, unknown>, extra: string[] = []): Promise<Obj[]> {
  const file = join(dir, `${release}-values.yaml`);
  await writeFile(file, stringify(values));
  const { stdout } = await execa(helm!, ['template', release, chart, '--namespace', NS, '--kube-version', KUBE_VERSION, '-f', file, ...extra]);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

const kinds = (objs: Obj[]) => objs.map((o) => o.kind).sort();

describe.skipIf(!have)(`ai-gateway-core with the profile's values${have ? '' : ` (skipped: ${why})`}`, () => {
  let objs: Obj[] = [];
  beforeAll(async () => {
    objs = await template(coreDir, 'ai-gateway-core', profile.values(wiring));
  });

  test('renders the Gateway API objects only: no cert-manager, no HTTPS redirect, no GatewayConfig', () => {
    expect(kinds(objs)).toEqual(['ClientTrafficPolicy', 'EnvoyProxy', 'Gateway', 'GatewayClass']);
  });

  test('one plain HTTP listener on 80, in the run namespace, on a GatewayClass of its own', () => {
    const gw = objs.find((o) => o.kind === 'Gateway')!;
    expect(gw.metadata).toMatchObject({ name: 'ai-gateway', namespace: NS });
    expect(gw.spec.gatewayClassName).toBe(NS);
    expect(gw.spec.listeners).toEqual([{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } }]);
    expect(objs.find((o) => o.kind === 'GatewayClass')!.metadata.name).toBe(NS);
  });

  test('Envoy headers on (x-envoy-ratelimited), two Envoy replicas behind a ClusterIP Service', () => {
    expect(objs.find((o) => o.kind === 'ClientTrafficPolicy')!.spec.headers).toEqual({ enableEnvoyHeaders: true });
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
    objs = await template(modelsDir, 'models', profile.companions![0]!.values(wiring, defaults));
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

  test('without the workaround it renders a BackendTLSPolicy per backend (the defect)', () => {
    expect(objs.filter((o) => o.kind === 'BackendTLSPolicy').map((o) => o.metadata.name)).toEqual(['mock-backend-01-tls', 'mock-backend-02-tls']);
  });

  test("the workaround's post-renderer removes exactly the BackendTLSPolicies, and the finding names them", async () => {
    const applied = (await workaroundFor('models', profile.workarounds!))!;
    try {
      const post = applied.postRenderer;
      const rendered = await template(modelsDir, 'models', profile.companions![0]!.values(wiring, defaults), [
        '--post-renderer', post.command, ...(post.args ?? []).flatMap((a) => ['--post-renderer-args', a]),
      ]);
      expect(kinds(rendered)).toEqual(kinds(objs).filter((k) => k !== 'BackendTLSPolicy'));
      const removed = await applied.removed();
      expect(removed.map((r) => `${r.kind}/${r.name}`)).toEqual(['BackendTLSPolicy/mock-backend-01-tls', 'BackendTLSPolicy/mock-backend-02-tls']);
      expect(workaroundFinding(NS, applied, removed)).toMatch(
        new RegExp(`removed BackendTLSPolicy ${NS}/mock-backend-01-tls, BackendTLSPolicy ${NS}/mock-backend-02-tls from release models — the models chart renders a BackendTLSPolicy`),
      );
    } finally {
      await applied.dispose();
    }
  });

  test('no workaround is declared for ai-gateway-core', async () => {
    expect(await workaroundFor('ai-gateway-core', profile.workarounds!)).toBeUndefined();
  });
});

describe('drop-kinds.ts as a post-renderer', () => {
  test('bad arguments exit 2 with one line', async () => {
    const r = await execa(process.execPath, [join(import.meta.dirname, '../scripts/helm/drop-kinds.ts'), '--bogus'], { reject: false, input: '' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^drop-kinds: unknown argument "--bogus"\. Usage:/);
  });
});
