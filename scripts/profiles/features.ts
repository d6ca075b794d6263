// The behaviours a chart can promise, as a catalogue. A profile claims each one or says why it does
// not (its type makes every feature one or the other, so a forgotten claim does not compile), and
// every check names the feature it proves: results can then be read per feature, the way Gateway
// API's conformance reports read them.
import { type CheckId, idsOf } from '../report/check-ids.ts';
import { SUITES, type SuiteName } from './types.ts';

export const FEATURES = {
  'health.probes': 'the app answers its liveness and readiness endpoints without credentials',
  'health.gateway-api': 'the Gateway is Programmed, its Envoy available, and a completion goes through it',
  'health.ready-reports-postgres': 'readiness reports Postgres going away, and the gateway serves again once it is back',
  'health.ready-reports-redis': 'readiness reports Redis going away, and the gateway serves again once it is back',
  'keys.admin-api': 'an admin credential creates client keys; the gateway takes them and refuses wrong ones',
  'keys.revocation': 'a deleted key is refused',
  'ratelimit.per-key': 'a per-key limit: exactly the limit passes, then 429s of the promised shape',
  'ratelimit.per-user-header': 'a limit keyed on a user header: exactly the limit passes per user, then 429s',
  'ratelimit.shared-across-replicas': 'the limit holds across every replica and worker',
  'ratelimit.remaining-headers': 'successes carry the remaining-requests headers',
  'metrics.prometheus': 'Prometheus metrics count the requests and failures exactly',
  'metrics.token-usage': 'token usage metrics move by exactly the usage the provider reported',
  netpol: "the chart's NetworkPolicy allows what it promises and denies the rest",
} as const;

export type FeatureId = keyof typeof FEATURES;
export const FEATURE_IDS = Object.keys(FEATURES) as FeatureId[];

/** What a profile says of a feature: claimed, or not, with the reason the report prints. */
export type FeatureClaim = 'claimed' | { unclaimed: string };
export type FeatureClaims = { [F in FeatureId]: FeatureClaim };

/** The suite whose checks prove each feature. */
export const FEATURE_SUITE: Record<FeatureId, SuiteName> = {
  'health.probes': 'health',
  'health.gateway-api': 'health',
  'health.ready-reports-postgres': 'health',
  'health.ready-reports-redis': 'health',
  'keys.admin-api': 'keys',
  'keys.revocation': 'keys',
  'ratelimit.per-key': 'ratelimit',
  'ratelimit.per-user-header': 'ratelimit',
  'ratelimit.shared-across-replicas': 'ratelimit',
  'ratelimit.remaining-headers': 'ratelimit',
  'metrics.prometheus': 'metrics',
  'metrics.token-usage': 'metrics',
  netpol: 'netpol',
};

/**
 * The features a check proves. A check listed under several proves whichever of them the chart
 * claims (the burst is the same check for a per-key and a per-user limit).
 */
export const CHECK_FEATURES: Record<CheckId, readonly FeatureId[]> = {
  'health.live': ['health.probes'],
  'health.ready': ['health.probes'],
  'health.probes': ['health.probes'],
  'health.ready-reports-postgres': ['health.ready-reports-postgres'],
  'health.ready-reports-redis': ['health.ready-reports-redis'],
  'health.ready-reports-dependency': ['health.ready-reports-postgres', 'health.ready-reports-redis'],
  'health.gateway-programmed': ['health.gateway-api'],
  'health.envoy-available': ['health.gateway-api'],
  'health.completion': ['health.gateway-api'],
  'keys.create': ['keys.admin-api'],
  'keys.wrong-admin-refused': ['keys.admin-api'],
  'keys.sdk-completion': ['keys.admin-api'],
  'keys.sdk-stream': ['keys.admin-api'],
  'keys.missing-key-refused': ['keys.admin-api'],
  'keys.wrong-key-refused': ['keys.admin-api'],
  'keys.provider-key-upstream': ['keys.admin-api'],
  'keys.revoked-refused': ['keys.revocation'],
  'keys.revoked-limited-refused': ['keys.revocation'],
  'ratelimit.burst-answered': ['ratelimit.per-key', 'ratelimit.per-user-header'],
  'ratelimit.burst-exact': ['ratelimit.per-key', 'ratelimit.per-user-header'],
  'ratelimit.429-shape': ['ratelimit.per-key', 'ratelimit.per-user-header'],
  'ratelimit.remaining-headers': ['ratelimit.remaining-headers'],
  'ratelimit.other-user-unaffected': ['ratelimit.per-user-header'],
  'ratelimit.no-header-unlimited': ['ratelimit.per-user-header'],
  'ratelimit.shared-across-replicas': ['ratelimit.shared-across-replicas'],
  'metrics.series-exist': ['metrics.prometheus'],
  'metrics.requests-counted': ['metrics.prometheus'],
  'metrics.failures-counted': ['metrics.prometheus'],
  'metrics.documented-names': ['metrics.prometheus'],
  'metrics.token-usage': ['metrics.token-usage'],
  'metrics.monotonic': ['metrics.prometheus'],
  'netpol.canary': ['netpol'],
  'netpol.matrix': ['netpol'],
  // the upgrade's checks prove no feature of the catalogue: they are about the release, not a claim
  'upgrade.rollout': [],
  'upgrade.no-failed-requests': [],
  'upgrade.no-cut-streams': [],
  'upgrade.no-restarts': [],
  'upgrade.keys-survive': [],
  'upgrade.deleted-key-refused': [],
  'upgrade.quota-kept': [],
};

/** Every check id of the catalogue, with its suite. */
export function allCheckIds(): { id: CheckId; suite: SuiteName }[] {
  return SUITES.flatMap((suite) => idsOf(suite).map((id) => ({ id: id as CheckId, suite })));
}

/** The features a check id proves for a chart with these claims (claimed ones only). */
export function claimedFeaturesOf(id: string, claims: FeatureClaims): FeatureId[] {
  const features = (CHECK_FEATURES as Record<string, readonly FeatureId[] | undefined>)[id] ?? [];
  return features.filter((f) => claims[f] === 'claimed');
}
