import { describe, expect, test } from 'vitest';
import { PROFILES } from '../scripts/profiles/index.ts';
import { isNotApplicable, SUITES } from '../scripts/profiles/types.ts';

const wiring = { mockUrl: 'http://mock.ns.svc:8089', providerKey: 'sk-provider-xyz', adminKey: 'sk-admin-abc', model: 'mock-gpt' };

describe('chart profiles', () => {
  test('every profile declares every suite: a capability or a reason it does not apply', () => {
    for (const p of PROFILES) {
      for (const s of SUITES) {
        const c = p.capabilities[s];
        expect(c, `${p.name}.${s}`).toBeDefined();
        if (isNotApplicable(c)) expect(c.notApplicable.length, `${p.name}.${s} reason`).toBeGreaterThan(10);
      }
    }
  });

  test('profile names are unique and sources pinned', () => {
    expect(new Set(PROFILES.map((p) => p.name)).size).toBe(PROFILES.length);
    for (const p of PROFILES) {
      if (p.source.kind === 'git') expect(p.source.commit).toMatch(/^[0-9a-f]{40}$/);
    }
  });

  test('routeiq wiring points LiteLLM at the mock and the Secret holds the keys; the master key reference is a correction', () => {
    const routeiq = PROFILES.find((p) => p.name === 'routeiq')!;
    const values = routeiq.values(wiring) as { config: { gateway: Record<string, any> }; secrets: { values: Record<string, string> } };
    // a map merged into the chart's own config.gateway document (embeddedYaml), not a replacement of it
    expect(routeiq.embeddedYaml).toEqual(['config.gateway']);
    expect(values.config.gateway.model_list[0].litellm_params.api_base).toBe('http://mock.ns.svc:8089/v1');
    expect(values.config.gateway.general_settings).toBeUndefined();
    expect(values.secrets.values.LITELLM_MASTER_KEY).toBe('sk-admin-abc');
    expect(routeiq.corrections.map((c) => c.id)).toEqual(['master-key-reference', 'prometheus-callback']);
  });

  test('llm-proxy values keep the request path (scheme+host only) and set the management token', () => {
    const p = PROFILES.find((x) => x.name === 'llm-proxy')!;
    const v = p.values(wiring) as { env: Record<string, string>; secrets: { data: Record<string, string> } };
    expect(v.env.OPENAI_API_URL).toBe('http://mock.ns.svc:8089');
    expect(v.secrets.data.managementToken).toBe('sk-admin-abc');
  });

  test('netpol applies only to routeiq, the one chart that ships a NetworkPolicy', () => {
    const withPolicy = PROFILES.filter((p) => !isNotApplicable(p.capabilities.netpol)).map((p) => p.name);
    expect(withPolicy).toEqual(['routeiq']);
  });
});
