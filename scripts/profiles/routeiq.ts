import type { ChartProfile, MockWiring } from './types.ts';
import { litellmFeatures } from './litellm-features.ts';

/**
 * The wiring inside config.gateway (a YAML document the chart takes as a string; the profile's
 * `embeddedYaml` merges it into the chart's own): the model list at the mock, and the Redis the
 * replicas share. Everything else in the chart's default config stays in force.
 */
function gatewayConfig(w: MockWiring): Record<string, unknown> {
  return {
    // both keys come from the release Secret's env, never from the ConfigMap
    model_list: [{ model_name: w.model, litellm_params: { model: `openai/${w.model}`, api_base: `${w.mockUrl}/v1`, api_key: 'os.environ/OPENAI_API_KEY' } }],
    ...(w.cache
      ? {
          // the router's state and, through the Redis cache, the usage the per-key limiter shares across
          // workers and replicas; mode default_off: no answer is served from the cache unless asked
          router_settings: { redis_host: w.cache.host, redis_port: String(w.cache.port), redis_password: 'os.environ/REDIS_PASSWORD' },
          litellm_settings: {
            cache: true,
            cache_params: { type: 'redis', host: w.cache.host, port: w.cache.port, password: 'os.environ/REDIS_PASSWORD', mode: 'default_off' },
          },
        }
      : {}),
  };
}

export const routeiq: ChartProfile = {
  name: 'routeiq',
  title: 'RouteIQ gateway (LiteLLM + RouteIQ router)',
  source: {
    kind: 'git',
    repo: 'https://github.com/baladithyab/litellm-llm-router',
    path: 'deploy/charts/routeiq-gateway',
    commit: 'a96d48f9f4477b4b86df67a0e057248403020b7c',
    chartName: 'routeiq-gateway',
    version: '0.1.0',
  },
  service: { nameSuffix: 'routeiq-gateway', port: 80 },
  needs: ['postgres', 'redis'],
  // Keys live in Postgres (LiteLLM through Prisma); with two replicas the per-key limits are shared
  // through Redis. The harness installs both and hands them over.
  installs: ['postgres', 'redis'],
  litellmVersion: { version: '1.81.3', why: "the chart's appVersion (its image ships LiteLLM 1.81.3)" },
  values: (w) => ({
    // Two replicas once they share keys (Postgres); the limit is shared when Redis is there too.
    replicaCount: w.databaseUrl ? 2 : 1,
    secrets: {
      create: true,
      values: {
        LITELLM_MASTER_KEY: w.adminKey,
        OPENAI_API_KEY: w.providerKey,
        ...(w.databaseUrl ? { DATABASE_URL: w.databaseUrl } : {}),
        ...(w.cache ? { REDIS_PASSWORD: w.cache.password } : {}),
      },
    },
    config: { gateway: gatewayConfig(w) },
    // the provider is at a cluster-internal address, which the chart's SSRF guard refuses unless told;
    // Postgres gets LiteLLM's schema from the chart's migrations
    gateway: { ssrf: { allowPrivateIps: true }, ...(w.databaseUrl ? { database: { runMigrations: true } } : {}) },
  }),
  embeddedYaml: ['config.gateway'],
  corrections: [
    {
      // the chart's README documents the Secret's LITELLM_MASTER_KEY as the master key; the project's
      // own config/config.yaml says `os.environ/LITELLM_MASTER_KEY`, LiteLLM's form
      id: 'master-key-reference',
      defect:
        'config.gateway names the master key `env/LITELLM_MASTER_KEY`, which LiteLLM does not resolve (only `os.environ/`), so the master key is that literal string and the real key is refused',
      values: {
        paths: ['config.gateway.general_settings.master_key'],
        set: { config: { gateway: { general_settings: { master_key: 'os.environ/LITELLM_MASTER_KEY' } } } },
      },
    },
    {
      id: 'prometheus-callback',
      defect: 'config.gateway has no prometheus callback (litellm_settings.callbacks), so /metrics exports none of LiteLLM’s metrics',
      values: {
        paths: ['config.gateway.litellm_settings.callbacks'],
        set: { config: { gateway: { litellm_settings: { callbacks: ['prometheus'] } } } },
      },
    },
  ],
  app: {
    valuesPath: 'image',
    // Plain LiteLLM has the proxy's API but none of RouteIQ's /_health/* endpoints: the probes
    // point at LiteLLM's own, and the health suite's checks of /_health/* are stand-in limits.
    standIn: {
      image: 'litellm',
      prismaEngines: true,
      values: (ref) => ({
        image: { repository: ref.split(':')[0], tag: ref.split(':')[1], digest: '', pullPolicy: 'IfNotPresent' },
        probes: {
          liveness: { path: '/health/liveliness' },
          readiness: { path: '/health/readiness' },
          // LiteLLM imports for tens of seconds and applies its migrations before it listens; the
          // chart's liveness probe (30 s + 3 × 10 s) kills it first unless a startup probe holds it off
          startup: { enabled: true, path: '/health/liveliness' },
        },
      }),
    },
  },
  local: 'litellm',
  localIsStandIn: true,
  features: litellmFeatures({ netpol: 'claimed' }),
  capabilities: {
    health: {
      live: { path: '/_health/live', status: 200, jsonFields: ['status'] },
      ready: { path: '/_health/ready', status: 200, jsonFields: ['status', 'checks'] },
      readyReportsDependencies: [{ dependency: 'postgres', field: 'checks' }],
    },
    keys: { flavour: 'litellm', generatePath: '/key/generate', deletePath: '/key/delete' },
    // shared through the Redis the harness wires in; without it each replica counts alone
    ratelimit: { flavour: 'litellm-window', limit: 3, sharedAcrossReplicas: true },
    metrics: {
      path: '/metrics',
      requestsCounter: 'litellm_proxy_total_requests_metric_total',
      failuresCounter: 'litellm_proxy_failed_requests_metric_total',
      mustExist: ['litellm_request_total_latency_metric_bucket', 'litellm_total_tokens_metric_total'],
      needsAuth: false,
    },
    netpol: {
      // The chart's default (no ingress selector) renders `from: [{}]`, which the API server
      // rejects: a known defect, so the harness selects the run namespace (labelled
      // gateway-smoke/role=gateway). kind's pod and service CIDRs are inside 10/8, which the chart's
      // egress excludes: the mock in the run namespace needs an explicit egress.to rule.
      enableValues: {
        networkPolicy: {
          enabled: true,
          ingress: { fromNamespaceSelector: { 'gateway-smoke/role': 'gateway' } },
          egress: {
            to: [
              {
                namespaceSelector: { matchLabels: { 'gateway-smoke/role': 'gateway' } },
                podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'mock' } },
                ports: [{ port: 8089, protocol: 'TCP' }],
              },
              // and the Postgres and Redis the harness installs next to it (keys, shared limits)
              {
                namespaceSelector: { matchLabels: { 'gateway-smoke/role': 'gateway' } },
                podSelector: { matchLabels: { 'gateway-smoke/role': 'postgres' } },
                ports: [{ port: 5432, protocol: 'TCP' }],
              },
              {
                namespaceSelector: { matchLabels: { 'gateway-smoke/role': 'gateway' } },
                podSelector: { matchLabels: { 'gateway-smoke/role': 'redis' } },
                ports: [{ port: 6379, protocol: 'TCP' }],
              },
            ],
          },
        },
      },
      ingressFromOtherNamespace: 'denied',
      egressToMock: 'allowed',
      egressElsewhere: 'denied',
      dns: 'allowed',
    },
  },
  standInLimits: {
    health:
      "routeiq app image unavailable: routeiq's own app (litellm-llmrouter) is not on PyPI and needs Python >= 3.14, " +
      'so it runs on a plain-LiteLLM stand-in that has no /_health/* endpoints',
  },
  knownDefects: [
    'LiteLLM 1.81.3 (the LiteLLM of the chart\'s appVersion; seen on the stand-in on kind) counts every proxied request twice in litellm_proxy_total_requests_metric_total and litellm_proxy_failed_requests_metric_total (4 requests → +8); 1.81.16 counts once.',
    'LiteLLM sends no x-ratelimit-*-remaining-requests / -limit-requests headers on streamed completions of a key with rpm_limit (non-streamed ones carry them; seen with 1.81.3 on the stand-in on kind and 1.81.16 on --target local).',
    "LiteLLM 1.81.16 (--target local) answers POST /key/delete with 500 `Could not find field at 'createManyLiteLLM_DeletedVerificationToken.data.agent_id'`: keys cannot be deleted (1.81.3 on kind deletes them).",
    'With two replicas a deleted key keeps working on the replica that did not serve the delete: LiteLLM caches a validated key in each process\'s memory (about 60 s) and /key/delete clears only its own (seen on the stand-in on kind, LiteLLM 1.81.3: both replicas used the key, then after POST /key/delete → 200 one pod refused all 49 requests in the 15 s after it, the other accepted all 49; limited keys alike).',
    'networkPolicy.enabled without an ingress selector renders `ingress: [{from: [{}]}]`, which the API server rejects ("spec.ingress[0].from[0]: Required value: must specify a peer"): the release fails to install. Seen with the harness on kind v1.34.',
  ],
};
