import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UserError } from '../scripts/errors.ts';
import { buildPlan, parseSuites, type RawOptions } from '../scripts/plan.ts';

const base: RawOptions = { chart: 'routeiq', target: 'kind', suites: 'all', keep: 'on-failure', clusterName: 'gs', model: 'mock-gpt' };

async function planError(raw: Partial<RawOptions>, env: NodeJS.ProcessEnv = {}): Promise<UserError> {
  try {
    await buildPlan({ ...base, ...raw }, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected the plan to be refused');
}

describe('run plan from flags', () => {
  test('defaults give every suite on the kind target', async () => {
    const plan = await buildPlan(base, {});
    expect(plan.suites).toEqual(['health', 'keys', 'ratelimit', 'metrics', 'netpol']);
    expect(plan.target).toBe('kind');
    expect(plan.reportDir).toMatch(/reports\/routeiq$/);
  });

  test('corrections apply by default; --no-corrections (or its old name --no-workarounds) runs the chart as shipped', async () => {
    expect((await buildPlan(base, {})).corrections).toBe(true);
    expect((await buildPlan({ ...base, corrections: false }, {})).corrections).toBe(false);
    expect((await buildPlan({ ...base, workarounds: false }, {})).corrections).toBe(false);
  });

  test('suites are picked, ordered and validated', () => {
    expect(parseSuites('metrics, health')).toEqual(['health', 'metrics']);
    expect(() => parseSuites('health,speed')).toThrow(/unknown suites \(speed\)/);
    expect(() => parseSuites(',')).toThrow(/no suite/);
  });

  test('an unknown chart names the known ones', async () => {
    const err = await planError({ chart: 'nope' });
    expect(err.message).toMatch(/routeiq, llm-proxy, litellm-proxy, ai-gateway-core/);
    expect(err.exitCode).toBe(2);
  });

  test('bad target and keep values list the allowed ones', async () => {
    expect((await planError({ target: 'cloud' })).message).toMatch(/kind, existing, local, url/);
    expect((await planError({ keep: 'sometimes' })).message).toMatch(/on-failure, always, never/);
  });

  test('file and folder flags are resolved to absolute paths; what they hold is the preflight\'s to check', async () => {
    const plan = await buildPlan(
      { ...base, values: 'no/such/values.yaml', chartDir: 'charts/x', waivers: 'w.yaml', chartMirror: 'mirror', prismaEngines: 'engines' },
      { GATEWAY_SMOKE_CHART_MIRROR: '/ignored/when/the/flag/is/given' },
    );
    expect(plan).toMatchObject({
      valuesFile: resolve('no/such/values.yaml'),
      chartDir: resolve('charts/x'),
      waiversFile: resolve('w.yaml'),
      chartMirror: resolve('mirror'),
      prismaEngines: { dir: resolve('engines'), from: '--prisma-engines' },
      waivers: [],
    });
  });

  test('the mirror and engines folders come from their environment variables when no flag names them', async () => {
    const plan = await buildPlan(base, { GATEWAY_SMOKE_CHART_MIRROR: '/srv/charts', GATEWAY_SMOKE_PRISMA_ENGINES: '/srv/engines' });
    expect(plan).toMatchObject({ chartMirror: '/srv/charts', prismaEngines: { dir: '/srv/engines', from: 'GATEWAY_SMOKE_PRISMA_ENGINES' } });
  });

  test('the url target needs a base url and a set admin-key variable', async () => {
    expect((await planError({ target: 'url' })).message).toMatch(/needs --base-url/);
    expect((await planError({ target: 'url', baseUrl: 'ftp://x' })).message).toMatch(/not an http\(s\) URL/);
    expect((await planError({ target: 'url', baseUrl: 'http://gw', adminKeyEnv: 'GW_KEY' })).message).toMatch(/GW_KEY.*empty or unset/);
    const plan = await buildPlan({ ...base, target: 'url', baseUrl: 'http://gw/', adminKeyEnv: 'GW_KEY' }, { GW_KEY: 'sk-123456789' });
    expect(plan.baseUrl).toBe('http://gw');
  });

  test('url flags on another target are refused', async () => {
    expect((await planError({ baseUrl: 'http://gw' })).message).toMatch(/belong to --target url/);
  });

  test('the local target is refused for a chart with no local gateway', async () => {
    expect((await planError({ chart: 'ai-gateway-core', target: 'local' })).message).toMatch(/cannot run chart "ai-gateway-core"/);
  });
});
