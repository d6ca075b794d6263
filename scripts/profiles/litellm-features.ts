// What a LiteLLM proxy promises whichever chart deploys it (routeiq, litellm-proxy): the charts
// differ only in whether they ship a NetworkPolicy.
import type { FeatureClaim, FeatureClaims } from './features.ts';

export function litellmFeatures(chart: { netpol: FeatureClaim }): FeatureClaims {
  return {
    'health.probes': 'claimed',
    'health.gateway-api': { unclaimed: 'the chart runs an app of its own, with its own probes' },
    'health.ready-reports-postgres': 'claimed',
    'health.ready-reports-redis': { unclaimed: "LiteLLM's readiness does not report Redis" },
    'keys.admin-api': 'claimed',
    'keys.revocation': 'claimed',
    'ratelimit.per-key': 'claimed',
    'ratelimit.per-user-header': { unclaimed: 'the limit is per key, not keyed on a user header' },
    'ratelimit.shared-across-replicas': 'claimed',
    'ratelimit.remaining-headers': 'claimed',
    'metrics.prometheus': 'claimed',
    'metrics.token-usage': { unclaimed: 'LiteLLM exports a total-tokens counter, not usage by token type' },
    netpol: chart.netpol,
  };
}
