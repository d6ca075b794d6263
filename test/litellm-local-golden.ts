// The inputs the local LiteLLM process is compared on against what the per-chart branches of
// scripts/local/litellm.ts gave before the chart knowledge moved into the profiles' `localProcess`
// (fixtures/local/litellm-chart-settings.json).
import type { LiteLLMOptions } from '../scripts/local/litellm.ts';

export const GOLDEN_VENV = '/venv';

type Varied = Pick<LiteLLMOptions, 'prometheus' | 'redis' | 'databaseUrl' | 'workers'>;
const REDIS: [string, Varied['redis']][] = [
  ['no-redis', undefined],
  ['redis', { host: '127.0.0.1', port: 6390 }],
  ['redis+password', { host: '127.0.0.1', port: 6390, password: 'redis-pw' }],
];

/** Every combination of what the harness varies: prometheus, Redis (with or without password), a database, workers. */
export function litellmCombos(): { id: string; opts: LiteLLMOptions }[] {
  const out: { id: string; opts: LiteLLMOptions }[] = [];
  for (const prometheus of [true, false])
    for (const [r, redis] of REDIS)
      for (const databaseUrl of [undefined, 'postgresql://u:pw@127.0.0.1:5439/litellm'])
        for (const workers of [1, 2]) {
          const opts: LiteLLMOptions = {
            mockUrl: 'http://127.0.0.1:8089',
            masterKey: 'sk-master-golden',
            providerKey: 'sk-provider-golden',
            models: [{ name: 'mock-gpt', rpm: 5 }],
            prometheus,
            workers,
            workDir: '/w',
            logFile: '/w/litellm.log',
            ...(redis ? { redis } : {}),
            ...(databaseUrl ? { databaseUrl, prismaEnv: { PRISMA_QUERY_ENGINE_LIBRARY: '/engines/libquery.so' } } : {}),
          };
          out.push({ id: [prometheus ? 'prometheus' : 'no-prometheus', r, databaseUrl ? 'db' : 'no-db', `workers=${workers}`].join('+'), opts });
        }
  return out;
}

/** The env with what depends on the machine or on chance replaced by a marker (the salt key's shape is checked). */
export function normalizeEnv(env: Record<string, string>, prismaHome: string): Record<string, string> {
  const out = { ...env };
  if (out['PATH'] !== undefined) out['PATH'] = out['PATH'].replace(process.env['PATH'] ?? '/usr/bin:/bin', '<PATH>');
  if (out['PRISMA_HOME_DIR'] === prismaHome) out['PRISMA_HOME_DIR'] = '<prismaHome>';
  if (out['LITELLM_SALT_KEY'] !== undefined) out['LITELLM_SALT_KEY'] = /^sk-salt-[0-9a-f]{24}$/.test(out['LITELLM_SALT_KEY']) ? '<salt sk-salt-24hex>' : `bad salt ${out['LITELLM_SALT_KEY'].length}`;
  return out;
}
