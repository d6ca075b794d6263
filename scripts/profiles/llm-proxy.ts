import type { ChartProfile } from './types.ts';

export const llmProxy: ChartProfile = {
  name: 'llm-proxy',
  title: 'sofatutor llm-proxy (Go)',
  source: {
    kind: 'git',
    repo: 'https://github.com/sofatutor/llm-proxy',
    path: 'deploy/helm/llm-proxy',
    commit: '66ec3dc80417d6c5239e7268cbe2d861663982f6',
    chartName: 'llm-proxy',
    version: '0.1.0',
  },
  service: { nameSuffix: 'llm-proxy', port: 8080 },
  needs: [],
  // SQLite on emptyDir is per pod; with Postgres the token store is shared, so the chart can run
  // two replicas and the ratelimit suite can check that a token's quota holds across them.
  installs: ['postgres'],
  values: (w) => ({
    replicaCount: w.databaseUrl ? 2 : 1,
    // OPENAI_API_URL is scheme+host: llm-proxy keeps the request path, so the mock serves /v1/...
    // (helm merges the env map: the chart's ENABLE_METRICS "true" and in-memory event bus stay)
    env: { OPENAI_API_URL: w.mockUrl, ...(w.databaseUrl ? { DB_DRIVER: 'postgres' } : {}) },
    secrets: { create: true, data: { managementToken: w.adminKey, ...(w.databaseUrl ? { databaseUrl: w.databaseUrl } : {}) } },
  }),
  // its defaults need no correction: every value above is wiring
  corrections: [],
  app: {
    valuesPath: 'image',
    // The stand-in is llm-proxy itself, built here from its Go module with the postgres tag as
    // upstream's image is: same software, our build.
    standIn: {
      image: 'llm-proxy',
      values: (ref) => ({ image: { repository: ref.split(':')[0], tag: ref.split(':')[1], pullPolicy: 'IfNotPresent' } }),
    },
  },
  local: 'llm-proxy',
  knownDefects: [
    'v0.1.3: a revoked token without max_requests keeps working for up to 5 minutes: token validation is cached (internal/token/cache.go, TTL 5 min) and revocation (DELETE /manage/tokens/{id}) does not invalidate the cache; tokens with max_requests are re-checked against the store and refused at once.',
    'v0.1.3, as a plain Go httputil.ReverseProxy: now and then a streamed answer is cut off just after it starts (the client sees the connection close after the first chunk, the mock provider journals the stream as aborted by the gateway, llm-proxy logs `httputil: ReverseProxy read error during body copy: … use of closed network connection`; seen locally and on kind). `npm run bench:cutoff -- --streams 3000` (fixtures/local/FINDINGS.md §1.7) measured 23 in 3000 streams (0.77 %, 95 % interval 0.51–1.15 %) each after a plain request, and streams without one are cut off too; a plain Go ReverseProxy in front of the same mock in the same run cut off 13 in 3000 (0.43 %), each time because its transport could not finish writing the request upstream (`http: invalid Read on closed Body`: Go\'s HTTP/1 server closes a request body once the response starts, golang/go#40747). So it is most likely Go\'s net/http race rather than llm-proxy\'s own code; the mock answers the moment it has read a request, which likely makes the race more frequent than with a real provider.',
  ],
  features: {
    'health.probes': 'claimed',
    'health.gateway-api': { unclaimed: 'the chart runs an app of its own, with its own probes' },
    'health.ready-reports-postgres': { unclaimed: "llm-proxy's /ready does not report its database" },
    'health.ready-reports-redis': { unclaimed: 'llm-proxy uses no Redis' },
    'keys.admin-api': 'claimed',
    'keys.revocation': 'claimed',
    'ratelimit.per-key': 'claimed',
    'ratelimit.per-user-header': { unclaimed: 'the limit is a per-token lifetime quota, not keyed on a user header' },
    'ratelimit.shared-across-replicas': 'claimed',
    'ratelimit.remaining-headers': { unclaimed: 'the lifetime quota sends no x-ratelimit headers' },
    'metrics.prometheus': 'claimed',
    'metrics.token-usage': { unclaimed: 'llm-proxy exports no token usage by token type' },
    netpol: { unclaimed: 'the llm-proxy chart ships no NetworkPolicy on main' },
  },
  capabilities: {
    health: {
      live: { path: '/live', status: 200, bodyIncludes: 'alive' },
      ready: { path: '/ready', status: 200, bodyIncludes: 'ready' },
    },
    keys: { flavour: 'llm-proxy' },
    ratelimit: { flavour: 'lifetime-quota', limit: 3, sharedAcrossReplicas: true },
    // a token's request count is a row of its database (Postgres, which this profile installs)
    upgrade: { quotaPersists: "a token's max_requests count is kept in llm-proxy's database (Postgres here), not in the pod" },
    metrics: {
      path: '/metrics/prometheus',
      requestsCounter: 'llm_proxy_requests_total',
      failuresCounter: 'llm_proxy_errors_total',
      mustExist: ['llm_proxy_uptime_seconds'],
      needsAuth: false,
    },
    netpol: { notApplicable: 'the llm-proxy chart ships no NetworkPolicy on main' },
  },
};
