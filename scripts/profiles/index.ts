import { UserError } from '../errors.ts';
import { aiGatewayCore } from './ai-gateway-core.ts';
import { litellmProxy } from './litellm-proxy.ts';
import { llmProxy } from './llm-proxy.ts';
import { routeiq } from './routeiq.ts';
import type { ChartProfile } from './types.ts';

export const PROFILES: readonly ChartProfile[] = [routeiq, llmProxy, litellmProxy, aiGatewayCore];
export const DEFAULT_CHART = 'routeiq';

export function chartNames(): string[] {
  return PROFILES.map((p) => p.name);
}

export function getProfile(name: string): ChartProfile {
  const found = PROFILES.find((p) => p.name === name);
  if (!found) {
    throw new UserError(
      `Unknown chart "${name}". The harness knows these charts: ${chartNames().join(', ')}. ` +
        'Pass one of them with --chart, or add a profile under scripts/profiles/.',
    );
  }
  return found;
}
