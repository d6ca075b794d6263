import { registerSecret } from '../secrets.ts';
import type { RunPlan } from '../plan.ts';
import type { ProvisionedTarget } from './types.ts';

/** Someone else's running gateway (post-deploy smoke of a staging environment). */
export async function provisionUrl(plan: RunPlan, env: NodeJS.ProcessEnv = process.env): Promise<ProvisionedTarget> {
  const adminKey = plan.adminKeyEnv ? env[plan.adminKeyEnv] : undefined;
  registerSecret(adminKey);
  return {
    target: {
      kind: 'url',
      chart: plan.profile.name,
      baseUrl: plan.baseUrl!,
      ...(adminKey ? { adminKey } : {}),
      ...(plan.metricsUrl ? { metricsUrl: plan.metricsUrl } : {}),
      model: plan.model,
      standIn: false,
      environment: adminKey
        ? {}
        : { keys: 'no admin credential: pass --admin-key-env NAME with the gateway admin key in that variable' },
    },
    fingerprint: { 'gateway url': plan.baseUrl! },
  };
}
