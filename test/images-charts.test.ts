// The dependency charts under fixtures/charts/, rendered with `helm template` exactly as the harness
// will install them, with the image tags list-images.sh prints. (The gateways' own charts are the
// real ones: test/real-charts.test.ts.)
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import {
  CHARTS_DIR,
  findHelm,
  lintChart,
  listImages,
  renderChart,
  renderChartError,
} from '../scripts/images/index.ts';
import { type Any, container, envMap, find } from './manifests.ts';
import { requireInCI } from './prerequisite.ts';

const helm = requireInCI('helm', findHelm() !== undefined, 'no helm in $GATEWAY_SMOKE_CACHE/{airgap/,}bin or on PATH; `npm run cluster:up` builds it') ? findHelm() : undefined;
const skipReason = helm ? '' : ' (skipped: no helm)';

async function chartDefaults(dir: string): Promise<Record<string, unknown>> {
  return parse(await readFile(join(dir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
}

let refs: Record<string, string> = {};
beforeAll(async () => {
  // the charts' default tags name the images built without options (no Prisma engines, default version)
  const env = { ...process.env, GATEWAY_SMOKE_PRISMA_ENGINES: '', LITELLM_VERSION: '' };
  refs = (await listImages({ all: true, env })) as Record<string, string>;
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
