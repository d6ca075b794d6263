// The kind and existing targets. One ClusterProvisioner per run owns everything the run created
// (cluster, namespace, releases, tunnels) and answers, after the suites, what changed under the run
// and what the diagnostics bundle holds. Provisioning is a flat list of named steps per chart family
// (scripts/cluster/steps/), each in its own file; this file runs them and answers for the run.
import { join } from 'node:path';
import { podChanges, snapshotPods, tunnelChanges } from '../cluster/changes.ts';
import { stepsFor } from '../cluster/steps/families.ts';
import { runSteps } from '../cluster/steps/runner.ts';
import type { ProvisionState } from '../cluster/steps/state.ts';
import { collectDiagnostics } from '../kube/diagnostics.ts';
import type { RunPlan } from '../plan.ts';
import { profileFindings } from '../profiles/chart-fit.ts';
import type { CheckResult } from '../report/model.ts';
import type { RunContext } from '../run-context.ts';
import type { Diagnosis, Provisioner } from './index.ts';
import type { Provenance, ProvisionedTarget } from './types.ts';

export class ClusterProvisioner implements Provisioner {
  readonly tools;
  private readonly plan: RunPlan;
  private readonly s: ProvisionState;

  constructor(plan: RunPlan, ctx: RunContext) {
    this.plan = plan;
    this.s = { plan, ctx, fingerprint: {}, releases: [], checks: [], gatewayPods: [], tunnels: [] };
    // kind, helm and kubectl are built by scripts/airgap/cluster-up.sh when missing.
    this.tools = plan.target === 'existing' ? (['helm', 'kubectl'] as const) : ([] as const);
  }

  get fingerprint(): Record<string, string> {
    return this.s.fingerprint;
  }

  get provenance(): Provenance | undefined {
    return this.s.provenance;
  }

  async provision(): Promise<ProvisionedTarget> {
    const { ctx } = this.s;
    await runSteps(stepsFor(this.plan.profile), this.s, { log: ctx.log, signal: ctx.signal });
    return this.s.target!;
  }

  /** The profile against the chart that was resolved (chart-fit.ts): the upstream is the profile's pinned commit. */
  async profileFindings(): Promise<string[]> {
    const chart = this.s.resolvedChart;
    if (!chart) return [];
    const { source } = this.plan.profile;
    const commit = chart.origin === 'upstream' && source.kind === 'git' ? source.commit : undefined;
    return profileFindings(this.plan.profile, { path: chart.path, version: chart.meta.version, commit });
  }

  async chartFindings(o: { failed: boolean }): Promise<string[]> {
    return this.s.aigw && o.failed ? this.s.aigw.explain() : [];
  }

  chartChecks(): CheckResult[] {
    return [...this.s.checks, ...(this.s.aigw?.chartChecks ?? [])];
  }

  async changes(): Promise<string[]> {
    const findings: string[] = [...((await this.s.aigw?.changes()) ?? [])];
    if (this.s.k && this.s.namespace && this.s.release && this.s.gatewayPods.length) {
      findings.push(...podChanges(this.s.gatewayPods, await snapshotPods(this.s.k, this.s.namespace, this.s.release)));
    }
    return [...findings, ...tunnelChanges(this.s.tunnels)];
  }

  async diagnose(dir: string): Promise<Diagnosis | undefined> {
    if (!this.s.k || !this.s.namespace) return undefined;
    await collectDiagnostics({
      k: this.s.k,
      namespace: this.s.namespace,
      dir,
      ...(this.s.helmEnv ? { helmEnv: this.s.helmEnv } : {}),
      releases: this.s.releases,
      ...(this.s.kind ? { kindCluster: { kind: this.s.kind.kindBin, name: this.plan.clusterName } } : {}),
    });
    // Envoy runs in Envoy Gateway's namespace: its stats and access log are the only witnesses of upstream TLS
    if (this.s.aigw) await this.s.aigw.diagnose(join(dir, 'envoy')).catch(() => undefined);
    return { path: 'diagnostics/' };
  }
}

