// The litellm-proxy fixture chart (ours, written from the upstream chart's values contract),
// rendered with `helm template` with the profile's wiring and corrections, as the harness installs it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { CHARTS_DIR, findHelm, type K8sObject, lintChart, renderChart } from '../scripts/images/index.ts';
import { chartDefaults, mergeValues } from '../scripts/cluster/values.ts';
import { releaseValues } from '../scripts/corrections.ts';
import type { MockWiring } from '../scripts/profiles/types.ts';
import { requireInCI } from './prerequisite.ts';
import { getProfile } from '../scripts/profiles/index.ts';
const litellmProxy = getProfile('litellm-proxy');

const helm = requireInCI('helm', findHelm() !== undefined, 'npm run cluster:up builds it') ? findHelm() : undefined;
const CHART = join(CHARTS_DIR, 'litellm-proxy');
const RELEASE = 'litellm-proxy';
const wiring: MockWiring = {
  mockUrl: 'http://mock.gs-ns1.svc.cluster.local:8089',
  providerKey: 'sk-provider-123',
  adminKey: 'sk-admin-456',
  model: 'mock-gpt',
  database: { host: 'postgres.gs-ns1.svc.cluster.local', port: 5432, name: 'app', user: 'app' },
  cache: { host: 'valkey.gs-ns1.svc.cluster.local', port: 6379, password: 'redis-pw-789' },
  gatewayApi: false,
  saltKey: 'sk-salt-abc',
};
const IMAGE = 'gateway-smoke/litellm:1.80.15-prisma-0123456789ab';
type Any = any;
const find = (objs: K8sObject[], kind: string, name?: string): Any => {
  const hit = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind}${name ? `/${name}` : ''} (have: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return hit;
};
const env = (c: Any): Record<string, Any> => Object.fromEntries(c.env.map((e: Any) => [e.name, e.value ?? e.valueFrom]));
const config = (objs: K8sObject[]): Any => parse(find(objs, 'ConfigMap', `${RELEASE}-config`).data['config.yaml']);

function unknownKeys(set: Record<string, unknown>, defaults: Record<string, unknown>, open: string[], prefix = ''): string[] {
  return Object.entries(set).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in defaults)) return [path];
    const d = defaults[k];
    if (open.includes(path) || !v || typeof v !== 'object' || Array.isArray(v) || !d || typeof d !== 'object') return [];
    return unknownKeys(v as Record<string, unknown>, d as Record<string, unknown>, open, path);
  });
}

describe.skipIf(!helm)('fixture chart litellm-proxy', () => {
  // the profile's wiring, its corrections, then the stand-in's (image built here), as the harness layers them
  let values: Record<string, unknown> = {};
  let objs: K8sObject[];
  beforeAll(async () => {
    const { layers } = releaseValues({ profile: litellmProxy, release: RELEASE, wiring: [litellmProxy.values(wiring)], defaults: await chartDefaults(CHART), corrections: true });
    values = [...layers, litellmProxy.app!.standIn!.values(IMAGE)].reduce(mergeValues, {});
    objs = await renderChart(helm!, CHART, values, { release: RELEASE });
  });

  test('accepts every key the profile sets, and lints', async () => {
    const defaults = parse(await readFile(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(unknownKeys(values, defaults, ['litellm.litellmSettings'])).toEqual([]);
    expect(await lintChart(helm!, CHART, values)).toMatchObject({ ok: true });
  });

  test('objects and names as upstream: Service <fullname>:4000 → http, Secrets, ConfigMap, hook Job; no HTTPRoute without Gateway API', () => {
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ConfigMap/litellm-proxy-config',
      'Deployment/litellm-proxy',
      'Job/litellm-proxy-migration',
      'Secret/litellm-proxy-master-key',
      'Secret/litellm-proxy-salt-key',
      'Service/litellm-proxy',
    ]);
    expect(find(objs, 'Service').spec.ports).toEqual([{ name: 'http', port: 4000, targetPort: 'http', protocol: 'TCP' }]);
    expect(find(objs, 'Secret', 'litellm-proxy-master-key').stringData).toEqual({ 'master-key': wiring.adminKey });
  });

  test('the container reads the master key, salt key, Postgres password and Valkey password from the Secrets named by the contract', () => {
    const dep = find(objs, 'Deployment');
    const c = dep.spec.template.spec.containers[0];
    const e = env(c);
    expect(e['PROXY_MASTER_KEY']).toEqual({ secretKeyRef: { name: 'litellm-proxy-master-key', key: 'master-key' } });
    expect(e['LITELLM_SALT_KEY']).toEqual({ secretKeyRef: { name: 'litellm-proxy-salt-key', key: 'salt-key' } });
    expect(e['PGPASSWORD']).toEqual({ secretKeyRef: { name: 'postgresql-app', key: 'password' } });
    expect(e['REDIS_PASSWORD']).toEqual({ secretKeyRef: { name: 'valkey', key: 'valkey-password' } });
    expect([e['PGHOST'], e['PGPORT'], e['PGDATABASE'], e['PGUSER']]).toEqual([wiring.database!.host, '5432', 'app', 'app']);
    expect(e['EXPERIMENTAL_MULTI_INSTANCE_RATE_LIMITING']).toBe('true');
    expect(c.image).toBe(IMAGE);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.args[0]).toMatch(/export DATABASE_URL="postgresql:\/\/\$\{PGUSER\}:\$\{PGPASSWORD\}@\$\{PGHOST\}:\$\{PGPORT\}\/\$\{PGDATABASE\}"\nexec litellm --config \/etc\/litellm\/config.yaml --port 4000 --num_workers 4/);
    // separateApp off (the correction separate-health-app): probes on the main port
    expect([c.startupProbe, c.livenessProbe, c.readinessProbe].map((p: Any) => `${p.httpGet.path}@${p.httpGet.port}`)).toEqual([
      '/health/readiness@http',
      '/health/liveliness@http',
      '/health/readiness@http',
    ]);
    expect(dep.spec.replicas).toBe(2);
  });

  test('config.yaml: the model at the mock, master key and DATABASE_URL from env, Valkey for the cache and the router', () => {
    const cfg = config(objs);
    expect(cfg.model_list).toEqual([
      { model_name: 'mock-gpt', litellm_params: { model: 'openai/mock-gpt', api_base: `${wiring.mockUrl}/v1`, api_key: wiring.providerKey } },
    ]);
    expect(cfg.general_settings).toMatchObject({ master_key: 'os.environ/PROXY_MASTER_KEY', database_url: 'os.environ/DATABASE_URL', allow_requests_on_db_unavailable: true });
    // the chart's own retries (2): LiteLLM counts a retried 429 once in its request and failure counters
    expect(cfg.litellm_settings).toMatchObject({ callbacks: ['prometheus'], num_retries: 2, cache: true });
    expect(cfg.litellm_settings.cache_params).toEqual({
      type: 'redis', host: wiring.cache!.host, port: 6379, password: 'os.environ/REDIS_PASSWORD', ttl: 600, namespace: 'litellm.caching', mode: 'default_off',
    });
    expect(cfg.router_settings).toMatchObject({ redis_host: wiring.cache!.host, redis_port: '6379', redis_password: 'os.environ/REDIS_PASSWORD', routing_strategy: 'simple-shuffle' });
  });

  test("the chart's defaults: Sentinel (router pointed at the Sentinel port), the separate health port, an HTTPRoute", async () => {
    const o = await renderChart(helm!, CHART, { masterKey: { create: true, value: 'sk-x' }, saltKey: { create: true, value: 's' } }, { release: RELEASE });
    const cfg = config(o);
    expect(cfg.litellm_settings.cache_params).toMatchObject({ service_name: 'mymaster', sentinel_nodes: [['valkey', 26379]] });
    expect(cfg.router_settings).toMatchObject({ redis_host: 'valkey', redis_port: '26379' });
    const c = find(o, 'Deployment').spec.template.spec.containers[0];
    expect(c.readinessProbe.httpGet.port).toBe('health');
    expect(env(c)['SEPARATE_HEALTH_APP']).toBe('1');
    expect(find(o, 'HTTPRoute').spec.parentRefs).toEqual([{ name: 'networking-layer-gateway' }]);
    expect(find(o, 'Deployment').spec.replicas).toBe(2);
  });

  test('the migration Job is a pre-install/pre-upgrade hook running LiteLLM\'s migration script with the database env', () => {
    const job = find(objs, 'Job', 'litellm-proxy-migration');
    expect(job.metadata.annotations).toEqual({
      'helm.sh/hook': 'pre-install,pre-upgrade',
      'helm.sh/hook-weight': '1',
      'helm.sh/hook-delete-policy': 'hook-succeeded,before-hook-creation',
    });
    const c = job.spec.template.spec.containers[0];
    expect(c.args[0]).toMatch(/cd \/app && exec python litellm\/proxy\/prisma_migration.py\n?$/);
    expect(env(c)).toMatchObject({ DISABLE_SCHEMA_UPDATE: 'false', PGPASSWORD: { secretKeyRef: { name: 'postgresql-app', key: 'password' } } });
  });

  test('masterKey.create without a value is refused', async () => {
    const { renderChartError } = await import('../scripts/images/index.ts');
    expect(await renderChartError(helm!, CHART, { masterKey: { create: true } })).toMatch(/masterKey.value is required when masterKey.create is true/);
  });
});
