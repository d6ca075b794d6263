import type { ChartProfile, MockWiring } from './types.ts';

// ADORSYS-GIS/ai-helm at 17c254d: ai-gateway-core (GatewayClass, Gateway, EnvoyProxy,
// ClientTrafficPolicy) plus models (Backends, AIServiceBackends, BackendSecurityPolicies,
// BackendTLSPolicies, AIGatewayRoutes, one BackendTrafficPolicy with the global rate limit).
const GATEWAY = 'ai-gateway';
const PROVIDER_SECRET = 'mock-api-key';
const LIMIT = 3;

/** Every key of a values map set to null: helm merges maps, so a chart's defaults go only this way. */
function nulled(defaults: unknown): Record<string, null> {
  return Object.fromEntries(Object.keys(typeof defaults === 'object' && defaults ? defaults : {}).map((k) => [k, null]));
}

function modelsValues(w: MockWiring, defaults: Record<string, unknown>): Record<string, unknown> {
  const mock = new URL(w.mockUrl);
  const backend = (n: string) => ({
    schema: 'OpenAI',
    prefix: '/v1',
    fqdn: { hostname: mock.hostname, port: Number(mock.port || 80) },
    securityType: 'APIKey',
    secretRef: { name: PROVIDER_SECRET },
    tlsHostname: mock.hostname,
    resourceName: `mock-backend-${n}`,
  });
  return {
    gatewayRef: { name: GATEWAY },
    // each route needs two enabled backends or the chart refuses to render
    backends: { ...nulled(defaults['backends']), 'mock-01': backend('01'), 'mock-02': backend('02') },
    models: {
      ...nulled(defaults['models']),
      [w.model]: {
        // the run's own limit, small enough to count (and an integer: see knownDefects)
        envoyRateLimit: { requests: LIMIT, unit: 'Minute' },
        backends: { 'mock-01': { ref: 'mock-01', priority: 0 }, 'mock-02': { ref: 'mock-02', priority: 1 } },
      },
    },
  };
}

export const aiGatewayCore: ChartProfile = {
  name: 'ai-gateway-core',
  title: 'Envoy AI Gateway core (ADORSYS-GIS/ai-helm ai-gateway-core + models)',
  source: {
    kind: 'git',
    repo: 'https://github.com/ADORSYS-GIS/ai-helm',
    path: 'charts/ai-gateway-core',
    commit: '17c254df4d1f30b29fd340d68e00e842ad32c1f5',
    chartName: 'ai-gateway-core',
    version: '0.1.0',
  },
  // unused: the run reaches the Gateway's Envoy Service (`gateway`), which Envoy Gateway creates
  service: { nameSuffix: GATEWAY, port: 80 },
  gateway: { name: GATEWAY, listenerPort: 80, awaitRateLimit: true },
  needs: ['envoy-ai-gateway'],
  providerKeySecret: { name: PROVIDER_SECRET, key: 'apiKey' },
  // Wiring only: names, the client-facing certificate, the collector address, replicas, how the
  // Service is exposed. What works around a defect is in `corrections`.
  values: (w) => ({
    // the chart's `namespace` wins over helm's -n, and models uses the release namespace: both the run's
    ...(w.namespace ? { namespace: w.namespace } : {}),
    // cluster-scoped: one per release, as any second install in a cluster must name its own
    ...(w.namespace ? { gatewayClass: { name: w.namespace } } : {}),
    // the default terminates TLS for the chart author's domains with a Let's Encrypt issuer (cert-manager);
    // the domains and certificate are the user's own, and here there are none: the run speaks plain HTTP
    tls: { enabled: false },
    gateway: { name: GATEWAY },
    // the default sends traces to the chart author's collector (converse-collector.converse-otel:4318),
    // an address each user replaces; there is no collector here
    gatewayConfig: { enabled: false },
    // two Envoy replicas: the rate limit is promised global (Redis), so it is checked across pods.
    // A LoadBalancer Service never gets an address on kind; the run goes through a tunnel anyway.
    envoyProxy: { provider: { kubernetes: { envoyDeployment: { replicas: 2 }, envoyService: { type: 'ClusterIP' } } } },
  }),
  companions: [{ name: 'models', path: 'charts/models', chartName: 'models', version: '0.1.4', values: modelsValues }],
  corrections: [
    {
      id: 'https-listener-without-tls',
      defect:
        'with tls.enabled: false the Gateway keeps its HTTPS listener, whose certificate Secret (converse-llm-tls) only tls.enabled creates',
      // the chart's own HTTP listener, alone
      values: {
        paths: ['gateway.listeners'],
        set: { gateway: { listeners: [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'All' } } }] } },
      },
    },
    {
      id: 'envoy-ratelimit-header',
      defect:
        'the ClientTrafficPolicy leaves Envoy headers off (headers: {}), so Envoy Gateway strips x-envoy-ratelimited from the global rate limit’s 429s',
      values: { paths: ['clientTrafficPolicy.headers.enableEnvoyHeaders'], set: { clientTrafficPolicy: { headers: { enableEnvoyHeaders: true } } } },
    },
    {
      id: 'models-backend-tls-policy',
      chart: 'models',
      dropKinds: ['BackendTLSPolicy'],
      defect:
        'the models chart renders a BackendTLSPolicy for every backend with no way to turn it off, so Envoy speaks TLS to a plain-HTTP backend and every completion fails with 503',
    },
  ],
  features: {
    'health.probes': { unclaimed: 'the chart deploys no app of its own (Gateway API objects served by Envoy Gateway), so it has no liveness or readiness probe' },
    'health.gateway-api': 'claimed',
    'health.ready-reports-postgres': { unclaimed: 'the gateway uses no database' },
    'health.ready-reports-redis': { unclaimed: 'no readiness endpoint reports the rate limiter’s Redis' },
    'keys.admin-api': { unclaimed: 'clients are anonymous; upstream credentials come from a BackendSecurityPolicy' },
    'keys.revocation': { unclaimed: 'clients are anonymous: there are no client keys to delete' },
    'ratelimit.per-key': { unclaimed: 'the limit is keyed on a user header, not on a key' },
    'ratelimit.per-user-header': 'claimed',
    'ratelimit.shared-across-replicas': 'claimed',
    'ratelimit.remaining-headers': 'claimed',
    'metrics.prometheus': 'claimed',
    'metrics.token-usage': 'claimed',
    netpol: { unclaimed: 'neither ai-gateway-core nor models ships a NetworkPolicy at 17c254d' },
  },
  capabilities: {
    health: {
      flavour: 'gateway-api',
      noAppProbe: 'the chart deploys no app of its own (Gateway API objects served by Envoy Gateway), so it has no liveness or readiness probe',
    },
    keys: { notApplicable: 'clients are anonymous; upstream credentials come from a BackendSecurityPolicy' },
    ratelimit: { flavour: 'envoy-global', limit: LIMIT, userHeader: 'x-user-id', sharedAcrossReplicas: true },
    metrics: {
      path: '/metrics',
      requestsCounter: 'gen_ai_server_request_duration_seconds_count',
      mustExist: ['gen_ai_client_token_usage_sum', 'gen_ai_client_token_usage_count'],
      tokenUsage: { family: 'gen_ai_client_token_usage', typeLabel: 'gen_ai_token_type', input: 'input', output: 'output' },
      needsAuth: false,
    },
    netpol: { notApplicable: 'neither ai-gateway-core nor models ships a NetworkPolicy at 17c254d' },
  },
  knownDefects: [
    'models renders limits of 1,000,000 and more in exponent form (its default token limits become `requests: 1.5e+06`, `3e+06`), which the BackendTrafficPolicy CRD (int32) refuses: the default model list cannot be installed. The run replaces the model list (wiring) with one small integer limit, so it does not meet this.',
    'No Kubernetes status shows the BackendTLSPolicy failure (BackendTLSPolicy, AIGatewayRoute and Backend all Accepted, the Gateway Programmed): only Envoy’s ssl.connection_error stats and access log (URX,UF, TLS_error WRONG_VERSION_NUMBER) say it.',
  ],
};
