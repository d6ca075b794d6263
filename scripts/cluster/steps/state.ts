// What the provisioning steps share: the run's plan and context in, each step's results out. A
// step writes only its own fields; the runner orders a reader after the writer by `needs`, so a
// field a step reads is set when it runs (the `!` in the steps rests on that order).
import type { AppImageChoice } from '../app-image.ts';
import type { ResolvedChart } from '../chart-source.ts';
import type { PodSnapshot } from '../changes.ts';
import type { AiGatewayRun } from '../ai-gateway-run.ts';
import type { FixtureTarget, PostgresInstall } from '../dependencies.ts';
import type { ImageRefs } from '../images.ts';
import type { KindCluster } from '../kind.ts';
import type { Values } from '../values.ts';
import type { Kube } from '../../kube/client.ts';
import type { HelmEnv } from '../../kube/helm.ts';
import type { Tunnel } from '../../kube/tunnel.ts';
import type { RunPlan } from '../../plan.ts';
import type { MockWiring } from '../../profiles/types.ts';
import type { CheckResult } from '../../report/model.ts';
import type { RunContext } from '../../run-context.ts';
import type { EnginesResult } from '../../prisma-engines.ts';
import type { Provenance, ProvisionedTarget } from '../../targets/types.ts';
import type { UpgradeOutcome } from '../../upgrade/run.ts';

export const MOCK_PORT = 8089;
export const READY_TIMEOUT_MS = 300_000;

export interface ProvisionState {
  readonly plan: RunPlan;
  readonly ctx: RunContext;
  readonly fingerprint: Record<string, string>;
  /** Every helm release of the run, in install order (diagnostics read their status and values). */
  readonly releases: string[];
  /** One per correction applied to a chart. */
  readonly checks: CheckResult[];

  chart?: ResolvedChart;
  /** The chart as resolved, before its dependencies were prepared (the profile's findings read it). */
  resolvedChart?: ResolvedChart;
  /** The main chart's values.yaml: the corrections' evidence and embedded documents start from it. */
  defaults?: Values;
  /** What the values select (image, dependency conditions), read before the wiring exists. */
  selected?: Values;
  kind?: KindCluster;
  kubeconfig?: string;
  k?: Kube;
  helmEnv?: HelmEnv;
  /** Older kept namespaces of this chart going, while other steps run. */
  pruning?: Promise<unknown>;
  app?: AppImageChoice | undefined;
  standIn?: boolean;
  provenance?: Provenance;
  /** The refs the run's images have by their inputs (before any build). */
  imageRefs?: ImageRefs;
  /** Of those, the ones every node already holds as the build Docker has. */
  held?: Set<string>;
  /** The build and load going on in the background; resolves with the refs it loaded into the nodes. */
  imagesReady?: Promise<string[]>;
  /** The images as built (and loaded), once imagesReady has resolved. */
  images?: ImageRefs;
  /** Prisma's engines as given (checked once): the LiteLLM stand-in's variant and the database decision. */
  engines?: EnginesResult;
  /** Why the gateway cannot use a database on this run, if so. */
  prisma?: string | undefined;
  namespace?: string;
  fixtures?: FixtureTarget;
  mockService?: string;
  db?: PostgresInstall | undefined;
  cache?: { host: string; port: number; password: string } | undefined;
  gatewayApi?: boolean;
  wiring?: MockWiring;
  /** The main chart's values layers, rendered once from the wiring. */
  values?: Values[];
  release?: string;
  /** --upgrade-from: what the upgrade did to the traffic and the quota. */
  upgraded?: UpgradeOutcome | undefined;
  gatewayPods: PodSnapshot[];
  tunnels: Tunnel[];
  aigw?: AiGatewayRun;
  target?: ProvisionedTarget;
}
