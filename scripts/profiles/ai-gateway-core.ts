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
        // an integer: the chart's default renders 3e+06, which the CRD's int32 schema refuses
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
  gateway: { name: GATEWAY, listenerPort: 80 },
  needs: ['envoy-ai-gateway'],
  providerKeySecret: { name: PROVIDER_SECRET, key: 'apiKey' },
  values: (w) => ({
    // the chart's `namespace` wins over helm's -n, and models uses the release namespace: both the run's
    ...(w.namespace ? { namespace: w.namespace } : {}),
    // cluster-scoped: one per run, so runs (and a kept failed run) never fight over it
    ...(w.namespace ? { gatewayClass: { name: w.namespace } } : {}),
    // tls.enabled=false still keeps the HTTPS listener and its certificate: listeners replaced
    tls: { enabled: false },
    gateway: { name: GATEWAY, listeners: [{ name: 'http', protocol: 'HTTP', port: 80, allowedRoutes: { namespaces: { from: 'Same' } } }] },
    // its default points OTEL at a collector that does not exist here
    gatewayConfig: { enabled: false },
    // two Envoy replicas: the rate limit is promised global (Redis), so it is checked across pods.
    // LoadBalancer never gets an address on kind; the run goes through a tunnel anyway.
    envoyProxy: { provider: { kubernetes: { envoyDeployment: { replicas: 2 }, envoyService: { type: 'ClusterIP' } } } },
    // Envoy Gateway suppresses x-envoy-ratelimited unless the listener enables Envoy headers
    clientTrafficPolicy: { headers: { enableEnvoyHeaders: true } },
  }),
  companions: [{ name: 'models', path: 'charts/models', chartName: 'models', version: '0.1.4', values: modelsValues }],
  workarounds: [
    {
      chart: 'models',
      dropKinds: ['BackendTLSPolicy'],
      defect:
        'the models chart renders a BackendTLSPolicy (validation: wellKnownCACertificates System) for every backend, with no ' +
        'way to turn it off, so Envoy speaks TLS to a plain-HTTP backend and every completion fails with 503; no Kubernetes ' +
        'status says so (only Envoy’s ssl.connection_error stats and access log)',
    },
  ],
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
};
