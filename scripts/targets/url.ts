import { registerSecret } from '../secrets.ts';
import type { RunPlan } from '../plan.ts';
import { environmentFor } from './environment.ts';
import type { Diagnosis, Provisioner } from './index.ts';
import type { Provenance, ProvisionedTarget } from './types.ts';

/** Someone else's running gateway (post-deploy smoke of a staging environment). */
export class UrlProvisioner implements Provisioner {
  readonly tools = [] as const;
  private readonly plan: RunPlan;
  private readonly env: NodeJS.ProcessEnv;
  readonly fingerprint: Record<string, string> = {};
  provenance: Provenance | undefined;

  constructor(plan: RunPlan, env: NodeJS.ProcessEnv = process.env) {
    this.plan = plan;
    this.env = env;
  }

  async provision(): Promise<ProvisionedTarget> {
    const plan = this.plan;
    const adminKey = plan.adminKeyEnv ? this.env[plan.adminKeyEnv] : undefined;
    registerSecret(adminKey);
    this.fingerprint['gateway url'] = plan.baseUrl!;
    this.provenance = { chart: `not installed by the harness (a running gateway at ${plan.baseUrl})`, images: 'whatever that gateway runs' };
    return {
      target: {
        kind: 'url',
        chart: plan.profile.name,
        baseUrl: plan.baseUrl!,
        ...(adminKey ? { adminKey } : {}),
        ...(plan.metricsUrl ? { metricsUrl: plan.metricsUrl } : {}),
        model: plan.model,
        standIn: false,
        environment: environmentFor(plan.profile, { kind: 'url', standIn: false, adminKey: adminKey !== undefined, mock: false, controllable: [] }),
      },
    };
  }

  /** Someone else's gateway: the harness cannot see under it. */
  async changes(): Promise<string[]> {
    return [];
  }

  async diagnose(): Promise<Diagnosis | undefined> {
    return undefined;
  }
}
