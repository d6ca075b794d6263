#!/usr/bin/env node
// What a run without Prisma's engines cannot prove, said before it runs (pr.yml prints it when no
// engines are configured): LiteLLM's key API needs them, so on every chart whose gateway is LiteLLM
// (its stand-in image, or the local process) the keys and ratelimit checks, and readiness reporting
// the database, end `environment` (scripts/targets/environment.ts decides that during a run).
import { pathToFileURL } from 'node:url';
import { idsOf } from './report/check-ids.ts';
import { PROFILES } from './profiles/index.ts';
import { isNotApplicable, type ChartProfile } from './profiles/types.ts';
import { NOT_GIVEN } from './prisma-engines.ts';

/** Check ids of this chart that end `environment` without engines; empty when its gateway is not LiteLLM. */
export function checksBlockedWithoutEngines(profile: ChartProfile): string[] {
  const litellm = profile.local === 'litellm' || profile.app?.standIn?.prismaEngines === true;
  if (!litellm) return [];
  const ids = [...idsOf('keys'), ...idsOf('ratelimit')];
  const health = profile.capabilities.health;
  if (!isNotApplicable(health) && 'readyReportsDependencies' in health) {
    for (const dep of health.readyReportsDependencies ?? []) ids.push(`health.ready-reports-${dep.dependency}`);
  }
  return ids;
}

/** One paragraph per affected chart, for a CI log. */
export function enginesGapReport(profiles: readonly ChartProfile[] = PROFILES): string {
  const lines = [`No Prisma engines (GATEWAY_SMOKE_PRISMA_ENGINES is unset): ${NOT_GIVEN}.`, 'These checks will end `environment` (never a pass; the run is INCOMPLETE):'];
  for (const p of profiles) {
    const ids = checksBlockedWithoutEngines(p);
    if (!ids.length) continue;
    const stop = p.requiresDatabase ? ` On --target kind the ${p.name} chart always connects LiteLLM to a database: the run stops as environment (exit 3).` : '';
    lines.push(`- ${p.name}: ${ids.join(', ')}.${stop}`);
  }
  lines.push("npm test under CI=true: test/local-litellm.test.ts's real LiteLLM with a real Postgres fails as a missing prerequisite (CI never skips).");
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = enginesGapReport();
  process.stdout.write(`${text}\n`);
  if (process.env['GITHUB_ACTIONS']) process.stdout.write(`::warning title=No Prisma engines::${text.replace(/%/g, '%25').replace(/\n/g, '%0A')}\n`);
}
