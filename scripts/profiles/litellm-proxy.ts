import type { ChartProfile } from './types.ts';

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
  needs: ['postgres', 'redis', 'cnpg-operator', 'gateway-api-crds'],
  values: (w) => ({
    replicaCount: 1,
    masterKey: { create: true, value: w.adminKey },
    httpRoute: { enabled: false },
    litellm: {
      modelList: [
        {
          modelName: w.model,
          litellmParams: { model: `openai/${w.model}`, apiBase: `${w.mockUrl}/v1`, apiKey: w.providerKey },
        },
      ],
      litellmSettings: { callbacks: ['prometheus'], num_retries: 0, cache: false },
    },
  }),
  app: {
    valuesPath: 'image',
    standIn: {
      image: 'litellm',
      values: (ref) => ({ image: { repository: ref.split(':')[0], tag: ref.split(':')[1], pullPolicy: 'IfNotPresent' } }),
    },
  },
  local: 'litellm',
  capabilities: {
    health: {
      live: { path: '/health/liveliness', status: 200, bodyIncludes: 'alive' },
      // Assert on fields: the `status` string changed across LiteLLM versions.
      ready: { path: '/health/readiness', status: 200, jsonFields: ['status', 'db', 'litellm_version'] },
      readyReportsDependencies: [{ dependency: 'postgres', field: 'db' }],
    },
    keys: { flavour: 'litellm', generatePath: '/key/generate', deletePath: '/key/delete' },
    ratelimit: { flavour: 'litellm-window', limit: 3, sharedAcrossReplicas: true },
    metrics: {
      path: '/metrics',
      requestsCounter: 'litellm_proxy_total_requests_metric_total',
      failuresCounter: 'litellm_proxy_failed_requests_metric_total',
      mustExist: ['litellm_request_total_latency_metric_bucket', 'litellm_total_tokens_metric_total'],
      needsAuth: false,
    },
    netpol: { notApplicable: 'the litellm-proxy chart ships no NetworkPolicy on main' },
  },
  knownDefects: [
    'Defaults set general_settings.allow_requests_on_db_unavailable: true: while the database is unreachable LiteLLM accepts any bearer value as a key (seen with LiteLLM 1.81.16; fixtures/local/FINDINGS.md §2.6).',
    'The Deployment\'s command: bypasses the image entrypoint that starts the separate health app, so healthCheck.separateApp (port 8001) has nothing listening (FINDINGS.md §2.9).',
    'NOTES.txt names metrics (`litellm_total_requests` ...) that LiteLLM does not export; the real names are litellm_proxy_*_metric_total.',
  ],
};
