// The wiring combinations and inputs the YAML profiles are compared on against the outputs the
// TypeScript profiles gave before they were converted (fixtures/profiles/ts-profiles.json).
import type { MockWiring } from '../scripts/profiles/types.ts';

const OPTIONAL: [string, Partial<MockWiring>][] = [
  ['databaseUrl', { databaseUrl: 'postgresql://app:pw@postgres.ns.svc:5432/app' }],
  ['database', { database: { host: 'postgres.ns.svc', port: 5432, name: 'app', user: 'app' } }],
  ['cache', { cache: { host: 'redis.ns.svc', port: 6379, password: 'redis-pw' } }],
  ['namespace', { namespace: 'gs-run-1' }],
  ['saltKey', { saltKey: 'sk-salt-123' }],
];

/** Every subset of the optional wiring, each with the Gateway API absent, served and not served. */
export function wiringCombos(): { id: string; wiring: MockWiring }[] {
  const out: { id: string; wiring: MockWiring }[] = [];
  for (let mask = 0; mask < 1 << OPTIONAL.length; mask++) {
    for (const gw of [undefined, true, false]) {
      let wiring: MockWiring = { mockUrl: 'http://mock.gs-run-1.svc.cluster.local:8089', providerKey: 'sk-provider-xyz', adminKey: 'sk-admin-abc', model: 'mock-gpt' };
      const names: string[] = [];
      OPTIONAL.forEach(([name, part], i) => {
        if (mask & (1 << i)) {
          wiring = { ...wiring, ...part };
          names.push(name);
        }
      });
      if (gw !== undefined) {
        wiring.gatewayApi = gw;
        names.push(`gatewayApi=${gw}`);
      }
      out.push({ id: names.join('+') || 'minimal', wiring });
    }
  }
  return out;
}

/** A companion chart's defaults with keys the profile must null, and one it sets itself. */
export const COMPANION_DEFAULTS = {
  backends: { 'openai-01': { schema: 'OpenAI' }, 'mock-01': { schema: 'old' } },
  models: { 'gpt-4o': { envoyRateLimit: { requests: 1_500_000 } } },
  gatewayRef: { name: 'default-gw' },
};

export const STAND_IN_REF = 'gateway-smoke/litellm:0123abcd';
