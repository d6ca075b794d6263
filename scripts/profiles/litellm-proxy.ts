import type { ChartProfile } from './types.ts';
import { litellmFeatures } from './litellm-features.ts';

export const litellmProxy: ChartProfile = {
  name: 'litellm-proxy',
  title: 'LiteLLM platform chart (eric-zadara/helm_charts litellm-proxy)',
  source: {
    kind: 'git',
    repo: 'https://github.com/eric-zadara/helm_charts',
    path: 'charts/litellm-proxy',
    commit: '371c1b938216a6e4385ca591de188589812085fe',
    chartName: 'litellm-proxy',
    version: '0.1.0',
  },
  service: { nameSuffix: 'litellm-proxy', port: 4000 },
  // The chart has no subcharts: it connects to a Postgres (CNPG upstream) and a Valkey it is told
  // about, with their passwords in Secrets it does not create. The harness installs both.
  needs: ['postgres', 'redis'],
  installs: ['postgres', 'redis'],
  requiresDatabase: true,
  dependencySecrets: {
    postgres: { secret: 'postgresql-app', key: 'password', database: 'app', user: 'app' },
    redis: { secret: 'valkey', key: 'valkey-password' },
  },
  litellmVersion: { version: '1.80.15', why: 'the chart pins ghcr.io/berriai/litellm-database:v1.80.15-stable.1; 1.80.15 is that release on PyPI' },
  values: (w) => ({
    // Two replicas on the shared Postgres and Valkey: the per-key limit is promised across pods.
    replicaCount: w.cache ? 2 : 1,
    masterKey: { create: true, value: w.adminKey },
    saltKey: { create: true, value: w.saltKey ?? 'sk-salt-not-given' },
    // the route needs the Gateway API; on a cluster without it, any user turns it off
    httpRoute: { enabled: w.gatewayApi ?? false },
    ...(w.database ? { database: { host: w.database.host, port: w.database.port } } : {}),
    ...(w.cache ? { cache: { enabled: true, host: w.cache.host, port: w.cache.port } } : { cache: { enabled: false } }),
    litellm: {
      modelList: [
        {
          modelName: w.model,
          litellmParams: { model: `openai/${w.model}`, apiBase: `${w.mockUrl}/v1`, apiKey: w.providerKey },
        },
      ],
    },
  }),
  corrections: [
    {
      // FINDINGS.md §2.9
      id: 'separate-health-app',
      defect:
        "with healthCheck.separateApp (the default) the probes call port 8001, but the Deployment's command bypasses the image entrypoint that starts the health app there, so the pods never become ready",
      values: { paths: ['healthCheck.separateApp'], set: { healthCheck: { separateApp: false } } },
    },
    {
      id: 'router-redis-at-sentinel',
      defect:
        'with cache.sentinel.enabled (the default) router_settings.redis_host/port name the Sentinel (valkey:26379), not a Redis server, so the router cannot share its state',
      values: { paths: ['cache.sentinel.enabled'], set: { cache: { sentinel: { enabled: false } } } },
    },
  ],
  app: {
    valuesPath: 'image',
    standIn: {
      image: 'litellm',
      prismaEngines: true,
      values: (ref) => ({ image: { repository: ref.split(':')[0], tag: ref.split(':')[1], pullPolicy: 'IfNotPresent' } }),
    },
  },
  local: 'litellm',
  features: litellmFeatures({ netpol: { unclaimed: 'the litellm-proxy chart ships no NetworkPolicy on main' } }),
  capabilities: {
    health: {
      live: { path: '/health/liveliness', status: 200, bodyIncludes: 'alive' },
      // Assert on fields: the `status` string changed across LiteLLM versions.
      ready: { path: '/health/readiness', status: 200, jsonFields: ['status', 'db', 'litellm_version'] },
      readyReportsDependencies: [
        {
          dependency: 'postgres',
          field: 'db',
          withinMs: 150_000,
          why: 'LiteLLM caches its database health for 2 minutes',
          usedBy: { method: 'GET', path: '/key/list' },
        },
      ],
    },
    keys: { flavour: 'litellm', generatePath: '/key/generate', deletePath: '/key/delete' },
    ratelimit: { flavour: 'litellm-window', limit: 3, sharedAcrossReplicas: true },
    metrics: {
      path: '/metrics',
      requestsCounter: 'litellm_proxy_total_requests_metric_total',
      failuresCounter: 'litellm_proxy_failed_requests_metric_total',
      mustExist: ['litellm_request_total_latency_metric_bucket', 'litellm_total_tokens_metric_total'],
      needsAuth: false,
      documentedIn: { file: 'templates/NOTES.txt', prefix: 'litellm_' },
    },
    netpol: { notApplicable: 'the litellm-proxy chart ships no NetworkPolicy on main' },
  },
  knownDefects: [
    'Defaults set general_settings.allow_requests_on_db_unavailable: true: while the database is unreachable LiteLLM accepts any bearer value as a key (seen with LiteLLM 1.81.16; fixtures/local/FINDINGS.md §2.6).',
    'NOTES.txt names metrics (`litellm_total_requests` ...) that LiteLLM does not export; the real names are litellm_proxy_*_metric_total.',
    'Readiness never reports the database going away: with the default allow_requests_on_db_unavailable: true LiteLLM swallows the failed DB health check and keeps answering /health/readiness 200 {"db":"connected"} (seen on kind, LiteLLM 1.80.15, Postgres scaled to 0 for 150 s; with false it answers 503 within the 2-minute DB health cache).',
    'A deleted key keeps working for about 60 s: each of the 4 uvicorn workers (and each replica) caches a validated key in memory and /key/delete clears only its own (seen on kind, LiteLLM 1.80.15: after POST /key/delete → 200, requests with the key alternated 200/401 until 58 s, 401 from 61 s on; with both replicas having used the key first, limited or not, a replica accepted every one of 50 requests in the 15 s after the delete).',
    'LiteLLM 1.80.15 (the appVersion, as published on PyPI) counts every proxied request twice in litellm_proxy_total_requests_metric_total and litellm_proxy_failed_requests_metric_total (one request → +2; seen on kind and in docker with 1 worker and no cache; 1.81.16 counts once).',
    'LiteLLM sends no x-ratelimit-*-remaining-requests / -limit-requests headers on streamed completions of a key with rpm_limit (non-streamed ones carry them; seen with 1.80.15 on kind and 1.81.16 on --target local).',
    "LiteLLM 1.81.16 (--target local) answers POST /key/delete with 500 `Could not find field at 'createManyLiteLLM_DeletedVerificationToken.data.agent_id'`: it copies the key's agent_id into a table without that column, so keys cannot be deleted (1.80.15 deletes them).",
  ],
};
