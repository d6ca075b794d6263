import type { UpgradeOutcome } from '../upgrade/run.ts';
import type { FeatureClaims } from '../profiles/features.ts';
import type { Capabilities, SuiteName } from '../profiles/types.ts';

export type TargetKind = 'kind' | 'existing' | 'local' | 'url';
export const TARGET_KINDS: readonly TargetKind[] = ['kind', 'existing', 'local', 'url'];

/**
 * What a suite knows about the gateway under test. It never knows how the target was made: the
 * same suite runs on local, url and kind. Plain data, because it crosses into vitest workers.
 */
/**
 * What the environment can block: a whole suite, or one piece of one (stopping Postgres or Redis to
 * watch readiness react; scripting an upstream 429). A closed list, so a misspelt key is a compile
 * error rather than a check that silently runs.
 */
export type EnvironmentKey = SuiteName | 'health.postgres' | 'health.redis' | 'metrics.upstream-429';

export interface Target {
  kind: TargetKind;
  chart: string;
  /** The gateway's base URL, reachable from this process. */
  baseUrl: string;
  /** Admin credential (LiteLLM master key, llm-proxy management token). */
  adminKey?: string;
  model: string;
  /** Where the profile's metrics are scraped; defaults to baseUrl + capability path. */
  metricsUrl?: string;
  /**
   * One entry per gateway pod when there are several: a tunnel pinned to that pod and the pod's IP,
   * which the mock's journal records as the caller, so a suite can prove which replica answered.
   */
  replicas?: Replica[];
  /** Our mock provider, when the harness runs it: its journal testifies what the gateway sent. */
  mock?: { url: string; providerKey: string };
  /** The chart's own app is replaced by a stand-in (e.g. plain LiteLLM for routeiq). */
  standIn: boolean;
  /** Per-suite or per-piece blockers of this machine, reported as "environment: <reason>". */
  environment: Partial<Record<EnvironmentKey, string>>;
  /** Harness control endpoint (loopback): lets a suite stop and restart a dependency. */
  control?: { url: string; token: string; dependencies: string[] };
  /** Metric names the chart documents for its users (profile `metrics.documentedIn`), read from the chart that ran. */
  documentedMetrics?: { source: string; names: string[] };
  /** An upgrade run's result (--upgrade-from): what suite `upgrade` reports. */
  upgrade?: UpgradeOutcome;
  /** Cluster facts for the netpol suite (kind/existing targets only). */
  cluster?: ClusterFacts;
  /** A Gateway-API chart's Gateway and the Envoy serving it, read by the health suite (with `cluster`). */
  gateway?: GatewayFacts;
}

export interface GatewayFacts {
  namespace: string;
  name: string;
  /** Where the controller runs the Gateway's Envoy Deployment, and its label selector. */
  envoyNamespace: string;
  envoySelector: string;
}

export interface Replica {
  url: string;
  pod: string;
  ip: string;
}

export interface ClusterFacts {
  kubeconfig: string;
  context?: string;
  namespace: string;
  release: string;
  serviceName: string;
  servicePort: number;
  mockServiceName: string;
  mockServicePort: number;
}

/** Everything a suite receives: the target and the chart's promises. */
export interface SuiteContext {
  target: Target;
  capabilities: Capabilities;
  /** The profile's claims: a check of an unclaimed feature is not applicable, with the profile's reason. */
  features: FeatureClaims;
}

/** Which chart and which images a run really exercised: the headline says it. */
export interface Provenance {
  chart: string;
  chartOrigin?: 'chart-dir' | 'upstream' | 'mirror';
  /** "the chart's own", "local stand-ins", or what else ran the app. */
  images: string;
  /**
   * What this run could not prove about what the user ships, each in one phrase: a stand-in that
   * `--images auto` chose because the chart's own image could not be used, a stand-in process. A
   * run with anything here is never VERIFIED (an explicit `--images local` is the user's choice and
   * is stated in the headline instead).
   */
  unproven?: string[];
}

/** A provisioned target: the data the suites get. */
export interface ProvisionedTarget {
  target: Target;
}
