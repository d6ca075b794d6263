// The LiteLLM proxy config the routeiq chart renders, pointed at the mock. One renderer serves the
// chart values and the local target (scripts/local/litellm.ts), so every target runs the same config.
import { renderLiteLLMConfig } from '../local/litellm.ts';

export interface LiteLLMConfigOptions {
  mockUrl: string;
  model: string;
  /** Redis for state shared by every replica (its password comes from env REDIS_PASSWORD). */
  redis?: { host: string; port: number };
}

export function liteLLMConfig(o: LiteLLMConfigOptions): Record<string, unknown> {
  return renderLiteLLMConfig({
    chart: 'routeiq',
    mockUrl: o.mockUrl,
    model: o.model,
    // In the cluster both keys come from the release Secret's env, never from the ConfigMap.
    masterKey: '',
    providerKey: 'os.environ/OPENAI_API_KEY',
    prometheus: true,
    ...(o.redis ? { redis: { ...o.redis, password: 'os.environ/REDIS_PASSWORD' } } : {}),
    extraConfig: { litellm_settings: { num_retries: 0 } },
  });
}
