// The LiteLLM proxy config that the routeiq and litellm-proxy charts render, pointed at the mock.
// Shared by both profiles and by the local target, so every target runs the same config.

export interface LiteLLMConfigOptions {
  mockUrl: string;
  model: string;
  /** How the master key is referenced; LiteLLM resolves only the `os.environ/` prefix. */
  masterKeyRef?: string;
  prometheus?: boolean;
  /** Router-level requests-per-minute on the model deployment (works without a database). */
  rpm?: number;
}

export function liteLLMConfig(o: LiteLLMConfigOptions): Record<string, unknown> {
  const deployment: Record<string, unknown> = {
    model: `openai/${o.model}`,
    api_base: `${o.mockUrl}/v1`,
    api_key: 'os.environ/OPENAI_API_KEY',
  };
  if (o.rpm !== undefined) deployment['rpm'] = o.rpm;
  return {
    model_list: [{ model_name: o.model, litellm_params: deployment }],
    litellm_settings: {
      drop_params: true,
      set_verbose: false,
      // Without retries a scripted upstream failure is seen once, so counters move by exact amounts.
      num_retries: 0,
      ...(o.prometheus === false ? {} : { callbacks: ['prometheus'] }),
    },
    general_settings: {
      master_key: o.masterKeyRef ?? 'os.environ/LITELLM_MASTER_KEY',
      require_auth_for_metrics_endpoint: false,
    },
  };
}
