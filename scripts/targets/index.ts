import type { RunPlan } from '../plan.ts';
import type { RunContext } from '../run-context.ts';
import { checkTools, type ToolName } from '../tools.ts';
import type { ProvisionedTarget } from './types.ts';
import { changesUnderTheRun, diagnoseCluster, provisionCluster } from './cluster.ts';
import { diagnoseLocal, provisionLocal } from './local.ts';
import { provisionUrl } from './url.ts';

export interface Diagnosis {
  /** The bundle, relative to the report directory. */
  path: string;
}

/** How each target is made reachable; each returns the same Target shape. */
export interface Provisioner {
  tools: ToolName[];
  provision(plan: RunPlan, ctx: RunContext): Promise<ProvisionedTarget>;
  /** After the suites: what changed under the run (a replaced pod, a broken tunnel). Any finding fails the run. */
  changes?(): Promise<string[]>;
  /** Gathers evidence into dir before cleanup; returns what it wrote, relative to the report dir. */
  diagnose?(plan: RunPlan, ctx: RunContext, dir: string): Promise<Diagnosis | undefined>;
}

export async function provisioner(plan: RunPlan): Promise<Provisioner> {
  switch (plan.target) {
    case 'url':
      return { tools: [], provision: (p) => provisionUrl(p) };
    case 'kind':
      // kind, helm and kubectl are built by scripts/airgap/cluster-up.sh when missing.
      return { tools: [], provision: provisionCluster, changes: changesUnderTheRun, diagnose: diagnoseCluster };
    case 'existing':
      return { tools: ['helm', 'kubectl'], provision: provisionCluster, changes: changesUnderTheRun, diagnose: diagnoseCluster };
    case 'local':
      return { tools: [], provision: provisionLocal, diagnose: diagnoseLocal };
  }
}

export async function preflightTools(p: Provisioner): Promise<Record<string, string>> {
  const found = await checkTools(p.tools);
  return Object.fromEntries(Object.values(found).map((t) => [t.name, `${t.version} (${t.path})`]));
}
