// The one place that decides which checks this machine cannot exercise ("environment: <reason>"),
// from facts the provisioner established. Suites only read the result; they never decide it.
import type { ChartProfile } from '../profiles/types.ts';
import { isNotApplicable } from '../profiles/types.ts';
import type { Target, TargetKind } from './types.ts';

export interface EnvironmentFacts {
  kind: TargetKind;
  /** The chart's app runs on a stand-in (image built here, or the local process). */
  standIn: boolean;
  /** Why LiteLLM's Prisma engines are unusable on this target, when they are. */
  prisma?: string | undefined;
  adminKey: boolean;
  /** The harness runs the mock provider, so a suite can script upstream behaviour. */
  mock: boolean;
  /** Dependencies the target can stop and restart for the readiness check. */
  controllable: string[];
}

export function environmentFor(profile: ChartProfile, facts: EnvironmentFacts): Target['environment'] {
  const env: Target['environment'] = {};
  if (facts.standIn) Object.assign(env, profile.standInLimits);
  if (!facts.adminKey && !isNotApplicable(profile.capabilities.keys)) {
    env.keys = 'no admin credential: pass --admin-key-env NAME with the gateway admin key in that variable';
  }
  if (facts.prisma) {
    env.keys = facts.prisma;
    env.ratelimit = facts.prisma;
  }
  if (!facts.mock) {
    env['metrics.upstream-429'] = `the ${facts.kind} target has no harness mock provider, so no upstream 429 can be scripted`;
  }
  const health = profile.capabilities.health;
  if (!isNotApplicable(health) && 'readyReportsDependencies' in health) {
    for (const dep of health.readyReportsDependencies ?? []) {
      const key = `health.${dep.dependency}` as const;
      if (facts.prisma) env[key] = facts.prisma;
      else if (!facts.controllable.includes(dep.dependency)) {
        env[key] = `the ${facts.kind} target cannot stop ${dep.dependency} to watch readiness react`;
      }
    }
  }
  return env;
}
