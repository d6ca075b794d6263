import type { ChartProfile } from './types.ts';

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
  service: { nameSuffix: 'ai-gateway', port: 80 },
  needs: ['gateway-api-crds', 'envoy-gateway', 'redis'],
  values: () => ({ tls: { enabled: false } }),
  capabilities: {
    health: { notApplicable: 'the chart has no app probes; readiness is the Gateway Programmed condition' },
    keys: { notApplicable: 'clients are anonymous; upstream credentials come from a BackendSecurityPolicy' },
    ratelimit: { flavour: 'envoy-global', limit: 3, userHeader: 'x-user-id', sharedAcrossReplicas: true },
    metrics: {
      path: '/metrics',
      requestsCounter: 'gen_ai_server_request_duration_seconds_count',
      mustExist: ['gen_ai_client_token_usage_token_sum'],
      needsAuth: false,
    },
    netpol: { notApplicable: 'the ai-gateway-core chart ships no NetworkPolicy on main' },
  },
};
