// The fixture charts under fixtures/charts/, rendered with `helm template` exactly as the harness
// will install them: the gateway charts with the profiles' own values() (one profile drives the
// upstream chart and the fixture), the dependency charts with the image tags list-images.sh prints.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { llmProxy } from '../scripts/profiles/llm-proxy.ts';
import { routeiq } from '../scripts/profiles/routeiq.ts';
import { isNotApplicable, type MockWiring } from '../scripts/profiles/types.ts';
import {
  CHARTS_DIR,
  findHelm,
  FIXTURE_CHARTS,
  type K8sObject,
  lintChart,
  listImages,
  renderChart,
  renderChartError,
} from '../scripts/images/index.ts';

const helm = findHelm();
const skipReason = helm ? '' : ' (skipped: no helm in $GATEWAY_SMOKE_CACHE/{airgap/,}bin or on PATH; `npm run cluster:up` builds it)';

const wiring: MockWiring = {
  mockUrl: 'http://mock.gs-ns1.svc.cluster.local:8089',
  providerKey: 'sk-provider-123',
  adminKey: 'sk-admin-456',
  model: 'mock-gpt',
};
const RELEASE = 'gs-run1';
const DB_URL = 'postgresql://smoke:pg-0123abcd@postgres.gs-ns1.svc.cluster.local:5432/smoke';

function routeiqNetpolValues(): { networkPolicy: Record<string, unknown> } {
  const netpol = routeiq.capabilities.netpol;
  if (isNotApplicable(netpol)) throw new Error('the routeiq profile has no netpol capability');
  return netpol.enableValues as { networkPolicy: Record<string, unknown> };
}

function find(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const hit = objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!hit) throw new Error(`no ${kind}${name ? `/${name}` : ''} rendered (have: ${objs.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return hit;
}
// loose accessors for rendered manifests
type Any = any;
const podSpec = (o: K8sObject): Any => (o as Any).spec.template.spec;
const container = (o: K8sObject): Any => podSpec(o).containers[0];
const envMap = (c: Any): Record<string, Any> => Object.fromEntries((c.env ?? []).map((e: Any) => [e.name, e.value ?? e.valueFrom]));
const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** Every key path the profile sets must exist in the fixture's values.yaml (helm would silently
 * ignore a typo), except below the maps that are open by design (env, secrets.values, ...). */
function missingKeys(set: Record<string, unknown>, defaults: Record<string, unknown>, open: string[], prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(set)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (!(k in defaults)) {
      out.push(path);
      continue;
    }
    const d = defaults[k];
    if (open.includes(path)) continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && d && typeof d === 'object' && !Array.isArray(d)) {
      out.push(...missingKeys(v as Record<string, unknown>, d as Record<string, unknown>, open, path));
    }
  }
  return out;
}
async function chartDefaults(dir: string): Promise<Record<string, unknown>> {
  return parse(await readFile(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
}

let refs: Record<string, string> = {};
beforeAll(async () => {
  refs = (await listImages({ all: true })) as Record<string, string>;
});

describe.skipIf(!helm)(`fixture chart llm-proxy${skipReason}`, () => {
  const values = llmProxy.values(wiring);
  let objs: K8sObject[];
  beforeAll(async () => {
    objs = await renderChart(helm!, FIXTURE_CHARTS['llm-proxy']!, values, { release: RELEASE });
  });

  test('accepts every key the profile sets on the upstream chart', async () => {
    expect(missingKeys(values, await chartDefaults(FIXTURE_CHARTS['llm-proxy']!), ['env'])).toEqual([]);
    expect(await lintChart(helm!, FIXTURE_CHARTS['llm-proxy']!, values)).toMatchObject({ ok: true });
  });

  test('Service <release>-llm-proxy:8080 named http, where the profile looks for it', () => {
    const svc = find(objs, 'Service', `${RELEASE}-${llmProxy.service.nameSuffix}`);
    expect((svc as Any).spec.ports).toEqual([{ name: 'http', port: llmProxy.service.port, targetPort: 'http', protocol: 'TCP' }]);
    const dep = find(objs, 'Deployment', `${RELEASE}-llm-proxy`);
    expect((svc as Any).spec.selector).toEqual((dep as Any).spec.selector.matchLabels);
    expect(container(dep).ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  test('a release name that contains the chart name is the full name, as upstream', async () => {
    const o = await renderChart(helm!, FIXTURE_CHARTS['llm-proxy']!, values, { release: 'smoke-llm-proxy' });
    expect(find(o, 'Service').metadata.name).toBe('smoke-llm-proxy');
  });

  test('Secret holds MANAGEMENT_TOKEN, the container reads it from there', () => {
    const secret = find(objs, 'Secret', `${RELEASE}-llm-proxy`) as Any;
    expect(secret.stringData).toEqual({ MANAGEMENT_TOKEN: wiring.adminKey });
    const env = envMap(container(find(objs, 'Deployment')));
    expect(env['MANAGEMENT_TOKEN']).toEqual({ secretKeyRef: { name: `${RELEASE}-llm-proxy`, key: 'MANAGEMENT_TOKEN' } });
  });

  test('env map, image, args, probes and writable paths', () => {
    const dep = find(objs, 'Deployment');
    const c = container(dep);
    const env = envMap(c);
    expect(env['OPENAI_API_URL']).toBe(wiring.mockUrl);
    expect(env['ENABLE_METRICS']).toBe('true');
    expect(env['LLM_PROXY_EVENT_BUS']).toBe('in-memory');
    expect(env['DB_DRIVER']).toBe('sqlite');
    expect(c.image).toBe(refs['llm-proxy']);
    expect(c.imagePullPolicy).toBe('Never');
    expect(c.args).toEqual(['server']);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
    expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
    const mounts = c.volumeMounts.map((m: Any) => m.mountPath).sort();
    expect(mounts).toEqual(['/app/certs', '/app/config', '/app/data', '/app/logs', '/tmp']);
    expect(podSpec(dep).volumes.every((v: Any) => 'emptyDir' in v)).toBe(true);
    expect((dep as Any).spec.replicas).toBe(1);
  });

  test('no Secret and no MANAGEMENT_TOKEN when secrets.create is off', async () => {
    const o = await renderChart(helm!, FIXTURE_CHARTS['llm-proxy']!, { env: { OPENAI_API_URL: wiring.mockUrl } });
    expect(o.filter((x) => x.kind === 'Secret')).toEqual([]);
    expect(envMap(container(find(o, 'Deployment')))['MANAGEMENT_TOKEN']).toBeUndefined();
  });

  test('DB_DRIVER=postgres without a database URL is refused, as upstream', async () => {
    expect(await renderChartError(helm!, FIXTURE_CHARTS['llm-proxy']!, { env: { DB_DRIVER: 'postgres' } })).toMatch(/DB_DRIVER=postgres needs/);
  });

  test('with the Postgres the harness installs: two replicas on DB_DRIVER=postgres, DATABASE_URL from the Secret', async () => {
    const withDb = llmProxy.values({ ...wiring, databaseUrl: DB_URL });
    expect(missingKeys(withDb, await chartDefaults(FIXTURE_CHARTS['llm-proxy']!), ['env'])).toEqual([]);
    const o = await renderChart(helm!, FIXTURE_CHARTS['llm-proxy']!, withDb, { release: RELEASE });
    const dep = find(o, 'Deployment', `${RELEASE}-llm-proxy`) as Any;
    expect(dep.spec.replicas).toBe(2);
    const env = envMap(container(dep));
    expect(env['DB_DRIVER']).toBe('postgres');
    expect(env['DATABASE_URL']).toEqual({ secretKeyRef: { name: `${RELEASE}-llm-proxy`, key: 'DATABASE_URL' } });
    expect((find(o, 'Secret') as Any).stringData.DATABASE_URL).toBe(DB_URL);
  });
});

describe.skipIf(!helm)(`fixture chart routeiq-gateway (LiteLLM stand-in)${skipReason}`, () => {
  const values = routeiq.values(wiring);
  const fullname = `${RELEASE}-${routeiq.service.nameSuffix}`;
  let objs: K8sObject[];
  beforeAll(async () => {
    objs = await renderChart(helm!, FIXTURE_CHARTS['routeiq']!, values, { release: RELEASE });
  });

  test('accepts every key the profile sets on the upstream chart', async () => {
    const defaults = await chartDefaults(FIXTURE_CHARTS['routeiq']!);
    expect(missingKeys(values, defaults, ['secrets.values'])).toEqual([]);
    const labelMaps = ['networkPolicy.ingress.fromNamespaceSelector', 'networkPolicy.ingress.fromPodSelector'];
    expect(missingKeys(routeiqNetpolValues(), defaults, labelMaps)).toEqual([]);
    expect(await lintChart(helm!, FIXTURE_CHARTS['routeiq']!, values)).toMatchObject({ ok: true });
  });

  test('Service <release>-routeiq-gateway port 80 named http -> 4000', () => {
    const svc = find(objs, 'Service', fullname) as Any;
    expect(svc.spec.ports).toEqual([{ name: 'http', port: routeiq.service.port, targetPort: 4000, protocol: 'TCP' }]);
    expect(container(find(objs, 'Deployment', fullname)).ports).toEqual([{ name: 'http', containerPort: 4000, protocol: 'TCP' }]);
  });

  test('with the Postgres the harness installs: DATABASE_URL in its Secret and migrations on', async () => {
    const o = await renderChart(helm!, FIXTURE_CHARTS['routeiq']!, routeiq.values({ ...wiring, databaseUrl: DB_URL }), { release: RELEASE });
    const secret = find(o, 'Secret', `${fullname}-secrets`) as Any;
    expect(b64(secret.data.DATABASE_URL)).toBe(DB_URL);
    expect(envMap(container(find(o, 'Deployment', fullname)))).toMatchObject({ LITELLM_RUN_DB_MIGRATIONS: 'true' });
  });

  test('Secret <fullname>-secrets with the profile keys, loaded with envFrom', () => {
    const secret = find(objs, 'Secret', `${fullname}-secrets`) as Any;
    expect(Object.keys(secret.data).sort()).toEqual(['LITELLM_MASTER_KEY', 'OPENAI_API_KEY']);
    expect(b64(secret.data.LITELLM_MASTER_KEY)).toBe(wiring.adminKey);
    expect(b64(secret.data.OPENAI_API_KEY)).toBe(wiring.providerKey);
    expect(container(find(objs, 'Deployment')).envFrom).toEqual([{ secretRef: { name: `${fullname}-secrets`, optional: true } }]);
  });

  test('config.gateway -> ConfigMap config.yaml, mounted at gateway.configPath, passed to litellm', () => {
    const cm = find(objs, 'ConfigMap', `${fullname}-config`) as Any;
    const cfg = parse(cm.data['config.yaml']) as Any;
    expect(cfg.model_list[0].litellm_params.api_base).toBe(`${wiring.mockUrl}/v1`);
    expect(cfg.general_settings.master_key).toBe('os.environ/LITELLM_MASTER_KEY');
    const dep = find(objs, 'Deployment');
    const c = container(dep);
    expect(c.image).toBe(refs['litellm']);
    expect(c.args.slice(0, 4)).toEqual(['--config', '/app/config/config.yaml', '--port', '4000']);
    expect(c.volumeMounts).toContainEqual({ name: 'config', mountPath: '/app/config', readOnly: true });
    expect(podSpec(dep).volumes).toContainEqual({ name: 'config', configMap: { name: `${fullname}-config` } });
    const env = envMap(c);
    expect(env['LITELLM_CONFIG_PATH']).toBe('/app/config/config.yaml');
    expect(env['LLMROUTER_ALLOW_PRIVATE_IPS']).toBe('true');
  });

  test("kubelet probes use LiteLLM's endpoints; /_health/* is left to the health suite", () => {
    const c = container(find(objs, 'Deployment'));
    expect(c.livenessProbe.httpGet.path).toBe('/health/liveliness');
    expect(c.readinessProbe.httpGet.path).toBe('/health/readiness');
    expect(JSON.stringify(c)).not.toContain('/_health/');
    const h = routeiq.capabilities.health as { live: { path: string } };
    expect(h.live.path).toBe('/_health/live'); // the suite still asks for the real RouteIQ path
  });

  test('no NetworkPolicy unless networkPolicy.enabled', () => {
    expect(objs.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
  });

  describe('NetworkPolicy, rendered like the upstream chart', () => {
    const policy = async (np: Record<string, unknown>) =>
      find(await renderChart(helm!, FIXTURE_CHARTS['routeiq']!, { ...values, networkPolicy: np }, { release: RELEASE }), 'NetworkPolicy', fullname) as Any;
    const DNS = {
      to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
    };
    const EXTERNAL = {
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }],
      ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 80 }],
    };

    // (`from: [{}]` is what upstream renders; the API server rejects that peer, so the fixture fails
    // to install exactly where upstream does: the routeiq profile sets an ingress selector)
    test('enabled with the defaults: ingress `from: [{}]` to 4000, DNS, external 80/443 only', async () => {
      const p = await policy({ enabled: true });
      expect(p.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'routeiq-gateway', 'app.kubernetes.io/instance': RELEASE });
      expect(p.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(p.spec.ingress).toEqual([{ from: [{}], ports: [{ protocol: 'TCP', port: 4000 }] }]);
      expect(p.spec.egress).toEqual([DNS, EXTERNAL]);
    });

    test("the profile's enableValues render as upstream renders them, egress.to entry included", async () => {
      const np = routeiqNetpolValues().networkPolicy;
      const p = await policy(np);
      const extra = ((np['egress'] as Any)?.to ?? []) as Any[];
      expect(p.spec.egress.slice(0, 2)).toEqual([DNS, EXTERNAL]);
      expect(p.spec.egress).toHaveLength(2 + extra.length);
      extra.forEach((e, i) => {
        const rule = p.spec.egress[2 + i];
        if (e.namespaceSelector) {
          expect(rule.to[0].namespaceSelector).toEqual({ matchLabels: e.namespaceSelector.matchLabels ?? {} });
          if (e.podSelector) expect(rule.to[0].podSelector).toEqual({ matchLabels: e.podSelector.matchLabels });
        } else if (!e.ipBlock) {
          // upstream drops a podSelector that has no namespaceSelector: the rule has no peers
          expect(rule.to).toEqual([]);
        }
        expect(rule.ports).toEqual(e.ports);
      });
    });

    test('ingress selectors and CIDRs are separate peers; egress.to entries follow the built-in rules', async () => {
      const p = await policy({
        enabled: true,
        ingress: { fromNamespaceSelector: { team: 'smoke' }, fromPodSelector: { role: 'client' }, fromCidrs: ['10.244.0.0/16', '192.168.1.0/24'] },
        egress: {
          allowDns: true,
          allowHttpsExternal: false,
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gs-ns1' } },
              podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mock-provider' } },
              ports: [{ protocol: 'TCP', port: 8089 }],
            },
            { ipBlock: { cidr: '10.96.0.0/12', except: ['10.96.0.1/32'] }, ports: [{ protocol: 'TCP', port: 5432 }] },
          ],
        },
      });
      expect(p.spec.ingress).toEqual([
        {
          from: [
            { namespaceSelector: { matchLabels: { team: 'smoke' } } },
            { podSelector: { matchLabels: { role: 'client' } } },
            { ipBlock: { cidr: '10.244.0.0/16' } },
            { ipBlock: { cidr: '192.168.1.0/24' } },
          ],
          ports: [{ protocol: 'TCP', port: 4000 }],
        },
      ]);
      expect(p.spec.egress).toEqual([
        DNS,
        {
          to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gs-ns1' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'mock-provider' } } }],
          ports: [{ protocol: 'TCP', port: 8089 }],
        },
        { to: [{ ipBlock: { cidr: '10.96.0.0/12', except: ['10.96.0.1/32'] } }], ports: [{ protocol: 'TCP', port: 5432 }] },
      ]);
    });

    test('no DNS, no external, no entries: all egress denied', async () => {
      const p = await policy({ enabled: true, egress: { allowDns: false, allowHttpsExternal: false, to: [] } });
      expect(p.spec.policyTypes).toContain('Egress');
      expect(p.spec.egress).toEqual([]);
    });

    test('as upstream, an egress entry with only a podSelector has no peers: every destination on its ports', async () => {
      const p = await policy({
        enabled: true,
        egress: { allowDns: false, allowHttpsExternal: false, to: [{ podSelector: { matchLabels: { app: 'x' } }, ports: [{ port: 5432 }] }] },
      });
      expect(p.spec.egress).toEqual([{ to: [], ports: [{ port: 5432 }] }]);
    });
  });
});

describe.skipIf(!helm)(`dependency charts${skipReason}`, () => {
  test('every fixture chart lints (--strict) with the values the harness passes', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['mock-provider', { image: { tag: refs['mock']!.split(':')[1] } }],
      ['postgres', { auth: { password: 'pw' } }],
      ['redis', {}],
      ['probe', {}],
    ];
    for (const [chart, v] of cases) {
      const r = await lintChart(helm!, chart, v);
      expect(r.ok, `${chart}: ${r.output}`).toBe(true);
    }
  });

  test("charts default to the tags list-images.sh prints (a version bump moves both)", async () => {
    const tagIn = async (chart: string) => ((await chartDefaults(join(CHARTS_DIR, chart))) as Any).image.tag as string;
    expect(`gateway-smoke/litellm:${await tagIn('routeiq-gateway')}`).toBe(refs['litellm']);
    expect(`gateway-smoke/llm-proxy:${await tagIn('llm-proxy')}`).toBe(refs['llm-proxy']);
    expect(`gateway-smoke/postgres:${await tagIn('postgres')}`).toBe(refs['postgres']);
    expect(`gateway-smoke/redis:${await tagIn('redis')}`).toBe(refs['redis']);
    expect(`gateway-smoke/probe:${await tagIn('probe')}`).toBe(refs['probe']);
  });

  test('mock-provider: Service 8089 named http, image tag from list-images, health probes', async () => {
    const tag = refs['mock']!.split(':')[1];
    const objs = await renderChart(helm!, 'mock-provider', { fullnameOverride: 'mock', image: { tag }, env: { MOCK_LOG_REQUESTS: '1' } });
    const svc = find(objs, 'Service', 'mock') as Any;
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8089, targetPort: 'http', protocol: 'TCP' }]);
    const c = container(find(objs, 'Deployment', 'mock'));
    expect(c.image).toBe(refs['mock']);
    expect(c.args).toEqual(['--host', '0.0.0.0', '--port', '8089']);
    expect(c.readinessProbe.httpGet.path).toBe('/__mock/health');
    expect(envMap(c)['MOCK_LOG_REQUESTS']).toBe('1');
  });

  test('mock-provider without image.tag fails and says where the tag comes from', async () => {
    expect(await renderChartError(helm!, 'mock-provider')).toMatch(/image\.tag is required.*list-images\.sh/);
  });

  test('postgres: Secret with POSTGRES_* and a DATABASE_URL for the Service; password required', async () => {
    const objs = await renderChart(helm!, 'postgres', { auth: { password: 'p@ss word', username: 'smoke', database: 'keys' } }, { namespace: 'gs-ns1' });
    const secret = find(objs, 'Secret', 'gs-run1-postgres') as Any;
    expect(secret.stringData).toEqual({
      POSTGRES_USER: 'smoke',
      POSTGRES_PASSWORD: 'p@ss word',
      POSTGRES_DB: 'keys',
      DATABASE_URL: 'postgresql://smoke:p%40ss%20word@gs-run1-postgres.gs-ns1.svc.cluster.local:5432/keys',
    });
    expect((find(objs, 'Service', 'gs-run1-postgres') as Any).spec.ports[0]).toMatchObject({ port: 5432, name: 'postgres' });
    const c = container(find(objs, 'Deployment'));
    expect(c.image).toBe(refs['postgres']);
    expect(envMap(c)['PGDATA']).toBe('/var/lib/postgresql/data/pgdata');
    expect(await renderChartError(helm!, 'postgres')).toMatch(/auth\.password is required/);
  });

  test('redis: Service 6379, no password by default, --requirepass from a Secret when set', async () => {
    const plain = await renderChart(helm!, 'redis');
    expect((find(plain, 'Service', 'gs-run1-redis') as Any).spec.ports[0]).toMatchObject({ port: 6379, name: 'redis' });
    expect(plain.filter((o) => o.kind === 'Secret')).toEqual([]);
    const withPw = await renderChart(helm!, 'redis', { password: 'pw' });
    expect((find(withPw, 'Secret') as Any).stringData).toEqual({ REDIS_PASSWORD: 'pw' });
    expect(container(find(withPw, 'Deployment')).env[0].valueFrom.secretKeyRef).toEqual({ name: 'gs-run1-redis', key: 'REDIS_PASSWORD' });
  });

  test('probe: one replica is a bare Pod (stable name for exec), more is a Deployment; extra labels land on the pods', async () => {
    const one = await renderChart(helm!, 'probe', { podLabels: { 'gs/role': 'allowed' } });
    const pod = find(one, 'Pod', 'gs-run1-probe') as Any;
    expect(pod.metadata.labels['gs/role']).toBe('allowed');
    expect(pod.spec.containers[0].image).toBe(refs['probe']);
    const three = await renderChart(helm!, 'probe', { replicas: 3 });
    const dep = find(three, 'Deployment', 'gs-run1-probe') as Any;
    expect(dep.spec.replicas).toBe(3);
    expect(three.filter((o) => o.kind === 'Pod')).toEqual([]);
  });
});
