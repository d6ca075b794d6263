import { UserError } from '../errors.ts';
import { loadBuiltins, loadProfile } from './loader.ts';
import type { ChartProfile } from './types.ts';

/** The built-in profiles, read from scripts/profiles/builtin/*.yaml. */
export const PROFILES: readonly ChartProfile[] = loadBuiltins();
export const DEFAULT_CHART = 'routeiq';

export function chartNames(): string[] {
  return PROFILES.map((p) => p.name);
}

export function getProfile(name: string): ChartProfile {
  const found = PROFILES.find((p) => p.name === name);
  if (!found) {
    throw new UserError(
      `Unknown chart "${name}". The harness knows these charts: ${chartNames().join(', ')}. ` +
        'Pass one of them with --chart, or write a profile for your chart and pass it with --profile <file>.',
    );
  }
  return found;
}

/** A team's own profile file (it may `extends:` a built-in one). */
export function profileFromFile(file: string): ChartProfile {
  return loadProfile(file);
}
