// A chart profile is declarative: where the chart comes from, what it needs, the values that
// wire it to the mock provider, and what it promises (capabilities). Suites read only the
// capabilities. Profiles are YAML (builtin/*.yaml, or a team's own with --profile); loader.ts turns
// one into this runtime shape, its values into functions of the run's wiring.

import type { FeatureClaims } from './features.ts';

export type SuiteName = 'health' | 'keys' | 'ratelimit' | 'metrics' | 'netpol' | 'upgrade';
/** The behaviour suites `--suites` picks from; `upgrade` runs only with --upgrade-from. */
export const SUITES: readonly SuiteName[] = ['health', 'keys', 'ratelimit', 'metrics', 'netpol'];

/** A behaviour the chart does not have. Reported as "not applicable: <reason>", never as a pass. */
export interface NotApplicable {
  notApplicable: string;
}

/**
 * Where the chart is published. `chartName` is the folder a chart mirror keeps it under (and the
 * `name` in its Chart.yaml); `version` is the Chart.yaml version at the pinned commit, checked on a
 * mirror copy so a stale mirror cannot pass for the pinned chart.
 */
export type ChartSource =
  | { kind: 'git'; repo: string; path: string; commit: string; chartName: string; version: string }
  | { kind: 'oci'; ref: string; version: string; chartName: string };

export interface HttpExpectation {
  path: string;
  status: number;
  /** JSON fields that must be present (dot paths); assert on fields, not on free text. */
  jsonFields?: string[];
  /** Substring the body must contain (for plain-text probes such as "alive"). */
  bodyIncludes?: string;
}

export interface HealthCapability {
  live: HttpExpectation;
  ready: HttpExpectation;
  /**
   * Dependencies the readiness endpoint checks and reports, with the JSON field that reports it and
   * how soon after the dependency goes away readiness must say so (default 30 s).
   */
  readyReportsDependencies?: {
    dependency: 'postgres' | 'redis';
    field: string;
    withinMs?: number;
    why?: string;
    /**
     * A call that needs the dependency (with the admin credential): once it is back, the gateway
     * must serve this again, not only say ready (LiteLLM's readiness can answer 200 throughout).
     */
    usedBy?: { method: 'GET' | 'POST'; path: string };
  }[];
}

/**
 * A chart with no app of its own (Gateway API objects served by a controller's Envoy): healthy
 * means the Gateway is Programmed, its Envoy Deployment available, and a completion goes through.
 */
export interface GatewayHealthCapability {
  flavour: 'gateway-api';
  /** Why there is no liveness/readiness probe to call, as the report states it. */
  noAppProbe: string;
}

export type KeyApi =
  | { flavour: 'litellm'; generatePath: '/key/generate'; deletePath: '/key/delete' }
  | { flavour: 'llm-proxy' };

/**
 * What the harness sets on the fresh key: by default the profile's `limit`; `null` creates a key
 * without a limit (how a misconfigured key template looks, used to prove the suite catches it).
 */
export interface KeyLimitOverride {
  keyLimit?: number | null;
}

export type RateLimitCapability = KeyLimitOverride & (
  | {
      /** LiteLLM per-key rpm window: Retry-After on 429, x-ratelimit-* on successes. */
      flavour: 'litellm-window';
      limit: number;
      sharedAcrossReplicas: boolean;
    }
  | {
      /** llm-proxy per-token lifetime quota: JSON error, no Retry-After. */
      flavour: 'lifetime-quota';
      limit: number;
      sharedAcrossReplicas: boolean;
    }
  | {
      /** Envoy global rate limit keyed on x-user-id: empty body, x-envoy-ratelimited. */
      flavour: 'envoy-global';
      limit: number;
      userHeader: string;
      sharedAcrossReplicas: true;
    });

export interface MetricsCapability {
  path: string;
  /**
   * Token usage histogram (`<family>_sum` per token type label): after traffic its sums must have
   * moved by exactly the usage the mock reported in the responses.
   */
  tokenUsage?: { family: string; typeLabel: string; input: string; output: string };
  /** Counter that counts every proxied request, and what one successful request adds. */
  requestsCounter: string;
  /** Counter that counts failed requests (the 429 in the metrics suite lands here). */
  failuresCounter?: string;
  /** Other series that must exist after traffic. */
  mustExist?: string[];
  /** Whether the endpoint needs the admin credential. */
  needsAuth: boolean;
  /**
   * A chart file that names metrics for its users (e.g. NOTES.txt): list items starting with a name
   * with this prefix are checked against the scrape, a missing one is a chart finding.
   */
  documentedIn?: { file: string; prefix: string };
}

export interface NetpolCapability {
  /** Values that turn the chart's NetworkPolicy on and point its egress at the mock. */
  enableValues: Record<string, unknown>;
  /** Who may talk to the gateway, per the rendered policy. */
  ingressFromOtherNamespace: 'allowed' | 'denied';
  egressToMock: 'allowed';
  egressElsewhere: 'denied';
  dns: 'allowed';
}

export interface Capabilities {
  health: HealthCapability | GatewayHealthCapability | NotApplicable;
  keys: KeyApi | NotApplicable;
  ratelimit: RateLimitCapability | NotApplicable;
  metrics: MetricsCapability | NotApplicable;
  netpol: NetpolCapability | NotApplicable;
  /** What survives an upgrade (suite `upgrade`, with --upgrade-from); unset claims no persistence. */
  upgrade?: UpgradeCapability | NotApplicable;
}

export interface UpgradeCapability {
  /** Where a partly used per-key quota is kept across an upgrade (the check runs only when set). */
  quotaPersists?: string;
}

/** Which real gateway software can stand in for the chart's app on `--target local`. */
export type LocalGateway = 'llm-proxy' | 'litellm';

/**
 * How `--target local` runs LiteLLM the way the chart deploys it (profiles with `local: litellm`);
 * unset fields leave LiteLLM at what the harness wires and LiteLLM's own defaults.
 */
export interface LocalLiteLLMProcess {
  /** Env var the master key is read from (`general_settings.master_key: os.environ/<it>`); default LITELLM_MASTER_KEY. */
  masterKeyEnv?: string;
  /** The chart's config.yaml defaults; what the harness wires (model list, master key, database, prometheus, Redis) is set over them. */
  configDefaults?: {
    general_settings?: Record<string, unknown>;
    litellm_settings?: Record<string, unknown>;
    router_settings?: Record<string, unknown>;
  };
  /** Env the chart's Deployment sets. */
  chartEnv?: Record<string, string>;
  /** Env it sets as well when a cache (Redis) is wired. */
  chartEnvWithCache?: Record<string, string>;
  /** Env var that gets a fresh per-run salt key (what the chart's salt-key Secret holds). */
  saltKeyEnv?: string;
  /** The chart sets PROMETHEUS_MULTIPROC_DIR even for one worker. */
  prometheusMultiproc?: boolean;
  /** With a database the chart applies LiteLLM's migrations before the app starts (a pre-install hook). */
  migrationsFirst?: boolean;
}

/** Images built here (scripts/images) that can replace a chart's own image on a cluster. */
export type StandInImage = 'llm-proxy' | 'litellm';

/**
 * Where the chart takes its app image, and what runs instead when that image cannot be pulled.
 * `valuesPath` points at a `{repository, tag}` map in the chart's values (tag defaults to the
 * chart's appVersion, as Helm charts conventionally do).
 */
export interface AppImage {
  valuesPath: string;
  standIn?: {
    /** The image family built here that replaces it (its software is the chart's, or a stand-in). */
    image: StandInImage;
    /** Values that make the chart run the stand-in (image ref, probe paths it has). */
    values(ref: string): Record<string, unknown>;
    /** The stand-in is LiteLLM, whose key API needs Prisma's engines: built with them, and a database only when it has them. */
    prismaEngines?: boolean;
  };
}

export interface MockWiring {
  /** Base URL of the mock provider as the gateway sees it (no trailing slash, no /v1). */
  mockUrl: string;
  /** The upstream provider key the gateway must send to the mock. */
  providerKey: string;
  /** The admin credential (LiteLLM master key, llm-proxy management token). */
  adminKey: string;
  model: string;
  /** Postgres the harness installed for this run (the profile's `installs`), as a DATABASE_URL. */
  databaseUrl?: string;
  /** The run namespace, for charts whose values name it (their `namespace` wins over helm's -n). */
  namespace?: string;
  /** The same Postgres as parts, for charts that assemble the URL themselves from a Secret. */
  database?: { host: string; port: number; name: string; user: string };
  /** Redis the harness installed (the profile's `installs`): shared rate-limit state and cache. */
  cache?: { host: string; port: number; password: string };
  /** Whether the cluster serves the Gateway API (HTTPRoute); charts that render routes need it. */
  gatewayApi?: boolean;
  /** One more per-run secret (LiteLLM's salt key). */
  saltKey?: string;
}

/** A second chart installed after the main one, from the same repository (e.g. ai-helm's models). */
export interface CompanionChart {
  /** Release name. */
  name: string;
  /** Path in the repository; on disk it is found beside the main chart, as in the repository. */
  path: string;
  /** Chart.yaml name and version at the pinned commit (a mirror copy must match). */
  chartName: string;
  version: string;
  /** Wiring values; `defaults` is the chart's own values.yaml, so a profile can null what helm would merge in. */
  values(wiring: MockWiring, defaults: Record<string, unknown>): Record<string, unknown>;
}

/**
 * A chart default the profile has to change for reasons other than wiring, with the defect it works
 * around. Wiring is what any user sets to point the chart at a provider and at secrets (URLs, keys,
 * the model list, replicas, database and cache addresses, the NetworkPolicy selector the chart asks
 * for); everything else that changes a chart default is a correction. A correction is applied so the
 * other behaviours can still be tested, and the defect itself becomes a failing check
 * `chart.as-shipped.<id>` with its evidence (scripts/corrections.ts). `--no-corrections` runs the
 * chart exactly as shipped.
 */
export interface Correction {
  /** kebab-case; the check id is `chart.as-shipped.<id>`, what a waiver names. */
  id: string;
  /** The defect, in one line, as the report states it ("chart as shipped: <defect>"). */
  defect: string;
  /** The companion release it applies to; absent: the main chart. */
  chart?: string;
  /** Kinds a Helm post-renderer removes from the release's rendering (scripts/helm/drop-kinds.ts). */
  dropKinds?: string[];
  /**
   * A values layer applied after the wiring, and the dotted value paths it changes (the report shows
   * the chart's default at each beside the corrected value). A path may go on into a YAML document
   * the chart takes as a string (the profile's `embeddedYaml`), e.g. `config.gateway.general_settings.master_key`.
   */
  values?: { paths: string[]; set: Record<string, unknown> };
}

/** The Gateway a Gateway-API chart creates; its Envoy Service (made by the controller) is the way in. */
export interface GatewayRef {
  name: string;
  listenerPort: number;
  /**
   * Provisioning waits until every Envoy enforces the global rate limit (its rate-limit service
   * config arrives after the Gateway is Programmed); needs a rate-limit capability with a userHeader.
   */
  awaitRateLimit?: boolean;
}

/** Secrets a chart reads but does not create: the harness creates them next to what it installs. */
export interface DependencySecrets {
  /** Postgres password, plus the database and user the chart's defaults name. */
  postgres?: { secret: string; key: string; database: string; user: string };
  /** Redis/Valkey password. */
  redis?: { secret: string; key: string };
}

export interface ChartProfile {
  name: string;
  title: string;
  source: ChartSource;
  /** The release's main Service and its port, for tunnels and in-cluster probes. */
  service: { nameSuffix: string; port: number };
  /** What must run in the cluster before the chart (`envoy-ai-gateway`: CRDs, Redis, Envoy Gateway, AI Gateway, once per cluster). */
  needs: ('postgres' | 'redis' | 'gateway-api-crds' | 'envoy-gateway' | 'cnpg-operator' | 'envoy-ai-gateway')[];
  /** Charts installed after this one into the run namespace. */
  companions?: CompanionChart[];
  /** Chart defaults changed to work around a defect, each a failing `chart.as-shipped.<id>` check when applied. */
  corrections: Correction[];
  /**
   * Value paths the chart takes as a YAML document in a string (routeiq's `config.gateway`): layers
   * may give a map there, merged into the chart's own document, so its defaults stay in force
   * except where wiring or a correction changes them.
   */
  embeddedYaml?: string[];
  /** The chart reads the upstream provider key from a Secret the harness creates in the run namespace. */
  providerKeySecret?: { name: string; key: string };
  /** Set for charts that create a Gateway: the run reaches the Gateway's Envoy Service instead of `service`. */
  gateway?: GatewayRef;
  /**
   * What the harness installs in the run namespace before the chart on a cluster target (from
   * fixtures/charts, images built here); values() then gets its address (e.g. `databaseUrl`).
   */
  installs?: ('postgres' | 'redis')[];
  /**
   * The chart always connects its app to the database (litellm-proxy sets DATABASE_URL whatever the
   * values): without a usable one the release cannot start, so the run stops as `environment`.
   */
  requiresDatabase?: boolean;
  /** Secrets the chart expects next to what the harness installs (names from the chart's defaults). */
  dependencySecrets?: DependencySecrets;
  /** The LiteLLM release the stand-in image runs (one image per version), and why that one. */
  litellmVersion?: { version: string; why: string };
  /**
   * Helm values that wire the chart to the mock provider and the admin credential: wiring only (see
   * Correction); what works around a defect goes in `corrections`.
   */
  values(wiring: MockWiring): Record<string, unknown>;
  /** The chart's app image and its local stand-in; absent when the chart runs no app image of its own. */
  app?: AppImage;
  /** The gateway software `--target local` runs as a process (independent of the image family). */
  local?: LocalGateway;
  /** With `local: litellm`: how the chart runs LiteLLM (master key env, config defaults, env), followed on `--target local`. */
  localProcess?: LocalLiteLLMProcess;
  capabilities: Capabilities;
  /** Every feature of the catalogue (scripts/profiles/features.ts), claimed or not with the reason. */
  features: FeatureClaims;
  /**
   * Per-suite reasons a check cannot be exercised when the chart's app runs on a stand-in (the
   * chart's own app cannot be built here). Reported as "environment: <reason>", never as a pass.
   */
  standInLimits?: Partial<Record<SuiteName, string>>;
  /** Whether the local target's software is the chart's own app or only a stand-in for it. */
  localIsStandIn?: boolean;
  /** Known defects in the chart's defaults, shown in the report. */
  knownDefects?: string[];
}

export function isNotApplicable(c: unknown): c is NotApplicable {
  return typeof c === 'object' && c !== null && 'notApplicable' in c;
}
