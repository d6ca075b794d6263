// One provisioner per run. Each owns the state of what it created and is the only thing that can
// say what changed under the run or gather diagnostics about it: no module-level state, so two
// runs in one process cannot see each other.
import type { RunPlan } from '../plan.ts';
import type { CheckResult } from '../report/model.ts';
import type { RunContext } from '../run-context.ts';
import { checkTools, type ToolName } from '../tools.ts';
import { ClusterProvisioner } from './cluster.ts';
import { LocalProvisioner } from './local.ts';
import type { Provenance, ProvisionedTarget } from './types.ts';
import { UrlProvisioner } from './url.ts';

export interface Diagnosis {
  /** The bundle, relative to the report directory. */
  path: string;
}

/** How a target is made reachable; each returns the same Target shape. */
export interface Provisioner {
  readonly tools: readonly ToolName[];
  /**
   * What identifies the run (versions, chart source, images), filled in as provisioning learns it,
   * so a run that fails half-way still reports what it was running.
   */
  readonly fingerprint: Record<string, string>;
  readonly provenance: Provenance | undefined;
  provision(): Promise<ProvisionedTarget>;
  /** After the suites: what changed under the run (a replaced pod, a broken tunnel). Any finding fails the run. */
  changes(): Promise<string[]>;
  /** Gathers evidence into dir before cleanup (also after a half-way failure); returns what it wrote. */
  diagnose(dir: string): Promise<Diagnosis | undefined>;
  /** How the profile fits the chart the run resolved (a version it was not written for, values the chart lacks). */
  profileFindings?(): Promise<string[]>;
  /** After a failure: the chart defects its evidence names (e.g. Envoy's TLS errors). */
  chartFindings?(o: { failed: boolean }): Promise<string[]>;
  /** The chart as shipped: one `chart.as-shipped.<id>` check per correction the run applied (scripts/corrections.ts). */
  chartChecks?(): CheckResult[];
}

export function provisioner(plan: RunPlan, ctx: RunContext): Provisioner {
  switch (plan.target) {
    case 'url':
      return new UrlProvisioner(plan);
    case 'kind':
    case 'existing':
      return new ClusterProvisioner(plan, ctx);
    case 'local':
      return new LocalProvisioner(plan, ctx);
  }
}

export async function preflightTools(p: Provisioner): Promise<Record<string, string>> {
  const found = await checkTools([...p.tools]);
  return Object.fromEntries(Object.values(found).map((t) => [t.name, `${t.version} (${t.path})`]));
}
