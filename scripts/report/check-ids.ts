// Stable check ids: what reports print beside a check's title and what waivers match. An id never
// depends on replica count, limits or metric names (those move between charts and runs), so a
// waiver written today still names the same check next month.
import type { SuiteName } from '../profiles/types.ts';

/** Every check a suite declares, by suite. A test without one of these ids fails as a harness defect. */
export const CHECK_IDS = {
  health: {
    'health.live': 'liveness answers without credentials',
    'health.ready': 'readiness answers without credentials',
    'health.ready-reports-postgres': 'readiness reports Postgres going away',
    'health.ready-reports-redis': 'readiness reports Redis going away',
    'health.ready-reports-dependency': 'readiness reports its dependencies going away',
    'health.probes': 'liveness and readiness probes',
    'health.gateway-programmed': 'the Gateway is Programmed',
    'health.envoy-available': "the Gateway's Envoy Deployment is available",
    'health.completion': 'a completion succeeds through the listener',
  },
  keys: {
    'keys.create': 'the admin credential creates a key',
    'keys.wrong-admin-refused': 'a wrong admin credential is refused',
    'keys.sdk-completion': 'the key completes a chat request through the OpenAI SDK',
    'keys.sdk-stream': 'the key streams a chat completion through the OpenAI SDK',
    'keys.missing-key-refused': 'a request without a key is refused',
    'keys.wrong-key-refused': 'a wrong key is refused',
    'keys.provider-key-upstream': 'upstream saw the provider key, never the client key',
    'keys.revoked-refused': 'a deleted unlimited key is refused',
    'keys.revoked-limited-refused': 'a deleted rate-limited key is refused',
  },
  ratelimit: {
    'ratelimit.burst-answered': 'every request of the burst got an answer',
    'ratelimit.burst-exact': 'among the answered requests exactly limit successes, in order, then 429s',
    'ratelimit.429-shape': 'the 429 has the promised shape',
    'ratelimit.remaining-headers': 'successes carry the remaining-requests headers',
    'ratelimit.other-user-unaffected': 'another user id is not limited by the first one’s burst',
    'ratelimit.no-header-unlimited': 'requests without the user header are never limited',
    'ratelimit.shared-across-replicas': 'the limit holds across every replica and worker',
  },
  metrics: {
    'metrics.series-exist': 'the promised series exist',
    'metrics.requests-counted': 'the requests counter moved by exactly the requests sent',
    'metrics.failures-counted': 'the failures counter moved by exactly 1 for the 429',
    'metrics.documented-names': 'the metric names the chart documents are exported',
    'metrics.token-usage': 'token usage moved by exactly the usage the mock reported',
    'metrics.monotonic': 'no counter went down between scrapes',
  },
  netpol: {
    'netpol.canary': 'the CNI enforces NetworkPolicy',
    'netpol.matrix': "the chart's policy matrix holds",
  },
  upgrade: {
    'upgrade.rollout': 'the upgrade replaced the gateway pods (a rollout happened)',
    'upgrade.no-failed-requests': 'no request failed across the upgrade',
    'upgrade.no-cut-streams': 'no stream was cut off across the upgrade',
    'upgrade.no-restarts': 'no pod of the old or the new release restarted',
    'upgrade.keys-survive': 'a key made before the upgrade still works',
    'upgrade.deleted-key-refused': 'the key deleted before the upgrade is still refused',
    'upgrade.quota-kept': 'a partly used quota was not reset by the upgrade',
  },
} as const satisfies Record<SuiteName, Record<string, string>>;

export type CheckId = { [S in SuiteName]: keyof (typeof CHECK_IDS)[S] }[SuiteName];

/**
 * Ids the harness makes itself rather than a suite's test: `<suite>.setup` (a suite whose setup
 * failed), `<suite>.run` (a suite that did not run at all) and `chart.as-shipped.<correction>`
 * (a chart default the profile had to correct).
 */
export const DERIVED_ID = /^(?:(?:health|keys|ratelimit|metrics|netpol|upgrade)\.(?:setup|run)|chart\.as-shipped\.[a-z0-9-]+)$/;

export function isKnownCheckId(id: string): boolean {
  return DERIVED_ID.test(id) || Object.values(CHECK_IDS).some((ids) => Object.hasOwn(ids, id));
}

export function idsOf(suite: SuiteName): string[] {
  return Object.keys(CHECK_IDS[suite]);
}

/**
 * Why a check failed, as machines read it. A failure carries one or more causes, each with the
 * evidence a person needs to see it (statuses, counts, headers seen).
 */
export const CAUSE_KINDS = {
  'no-answer': 'a request got no answer (the connection closed before a complete one)',
  count: 'a count differs from the promised one',
  order: 'the right answers came in the wrong order',
  status: 'an HTTP status differs from the promised one',
  shape: 'an answer lacks the promised shape (body fields, empty body)',
  'header-missing': 'a promised header is absent',
  'header-present': 'a header that must be absent is present',
  'chart-defect': 'the chart as shipped does not work without a correction',
  'not-served': 'a replica or endpoint served none of the requests',
  'no-rollout': 'an upgrade replaced no pod: nothing was rolled, so nothing about a rollout was proven',
  restart: 'a pod restarted',
  setup: 'the suite could not set up (the checks after it did not run)',
  timeout: 'the check ran out of time',
  assertion: 'an assertion without a more specific cause',
} as const;

export type CauseKind = keyof typeof CAUSE_KINDS;

export interface Cause {
  kind: CauseKind;
  /** One line a person reads. */
  detail: string;
  /** What was seen (statuses, counts, headers): data, masked like everything else. */
  evidence?: Record<string, unknown>;
}

export function isCauseKind(kind: string): kind is CauseKind {
  return Object.hasOwn(CAUSE_KINDS, kind);
}
