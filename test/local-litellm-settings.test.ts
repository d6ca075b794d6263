// How `--target local` runs LiteLLM for a chart is the profile's data (`localProcess`): the routeiq
// and litellm-proxy profiles' blocks give exactly the config, env, multiproc dir and migrations the
// per-chart branches of scripts/local/litellm.ts gave (fixtures/local/litellm-chart-settings.json,
// captured before those branches were removed), and no block gives plain LiteLLM. Pure: no process.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UserError } from '../scripts/errors.ts';
import { litellmEnv, renderLiteLLMConfig, runsMigrationsFirst, usesPrometheusMultiprocDir, type LiteLLMOptions } from '../scripts/local/litellm.ts';
import { localPaths } from '../scripts/local/paths.ts';
import { getProfile } from '../scripts/profiles/index.ts';
import { loadProfile } from '../scripts/profiles/loader.ts';
import { GOLDEN_VENV, litellmCombos, normalizeEnv } from './litellm-local-golden.ts';

const golden = JSON.parse(readFileSync(new URL('../fixtures/local/litellm-chart-settings.json', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;

function outputs(opts: LiteLLMOptions) {
  const prometheusMultiprocDir = usesPrometheusMultiprocDir(opts);
  return {
    config: renderLiteLLMConfig(opts),
    env: normalizeEnv(litellmEnv(opts, GOLDEN_VENV, prometheusMultiprocDir ? '/w/prometheus_multiproc' : undefined), localPaths().prismaHome),
    prometheusMultiprocDir,
    migrationsFirst: runsMigrationsFirst(opts),
  };
}

describe('the profiles’ localProcess gives what the old chart: branches gave', () => {
  const cases: [string, () => Partial<LiteLLMOptions>][] = [
    ['routeiq', () => getProfile('routeiq').localProcess!],
    ['litellm-proxy', () => getProfile('litellm-proxy').localProcess!],
    ['plain', () => ({})],
  ];
  for (const [chart, block] of cases) {
    test(`${chart}: config, env, multiproc dir and migrations for each of the ${litellmCombos().length} option combinations`, () => {
      expect(Object.keys(golden[chart]!)).toEqual(litellmCombos().map((c) => c.id));
      for (const { id, opts } of litellmCombos()) expect(outputs({ ...block(), ...opts }), `${chart} ${id}`).toEqual(golden[chart]![id]);
    });
  }

  test('the built-in LiteLLM profiles both have a block, and they differ (the golden is not one chart twice)', () => {
    expect(getProfile('routeiq').localProcess).toBeDefined();
    expect(getProfile('litellm-proxy').localProcess).toBeDefined();
    expect(golden['routeiq']).not.toEqual(golden['litellm-proxy']);
    expect(getProfile('llm-proxy').localProcess).toBeUndefined();
  });

  test("rendering never changes the profile's data (its defaults are copied, not shared)", () => {
    const before = structuredClone(getProfile('litellm-proxy').localProcess);
    const c = renderLiteLLMConfig({
      ...getProfile('litellm-proxy').localProcess,
      ...litellmCombos()[0]!.opts,
      extraConfig: { router_settings: { model_group_alias: { a: 'b' } }, litellm_settings: { fallbacks: null } },
    }) as { router_settings: Record<string, unknown>; litellm_settings: Record<string, unknown> };
    expect(c.router_settings['model_group_alias']).toEqual({ a: 'b' });
    expect(c.litellm_settings).not.toHaveProperty('fallbacks');
    expect(getProfile('litellm-proxy').localProcess).toEqual(before);
  });
});

describe('a team profile’s localProcess', () => {
  const file = (body: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'gs-local-process-')), 'team.yaml');
    writeFileSync(f, `extends: litellm-proxy\nname: team-litellm\n${body}`);
    return f;
  };

  test('extends the built-in block: maps merge, so one env var can change', () => {
    const p = loadProfile(file('localProcess:\n  chartEnv:\n    LITELLM_LOG: DEBUG\n'));
    expect(p.localProcess?.chartEnv).toMatchObject({ LITELLM_LOG: 'DEBUG', LITELLM_MODE: 'PRODUCTION' });
    expect(p.localProcess?.masterKeyEnv).toBe('PROXY_MASTER_KEY');
  });

  test('a non-string env value or an unknown config section is a UserError naming the path', () => {
    const bad = (body: string) => {
      try {
        loadProfile(file(body));
      } catch (e) {
        if (e instanceof UserError) return e.message;
        throw e;
      }
      throw new Error('loaded');
    };
    expect(bad('localProcess:\n  chartEnv:\n    LITELLM_LOG: 3\n')).toMatch(/localProcess\.chartEnv\.LITELLM_LOG/);
    expect(bad('localProcess:\n  configDefaults:\n    generalSettings: {}\n')).toMatch(/localProcess\.configDefaults\.generalSettings` is not a known key/);
  });
});
