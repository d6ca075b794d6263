// The YAML profile loader: the schema ships with the features and suites the code knows, a team's
// profile extends a built-in one, and a bad profile is one paragraph (file, path, expectation) with
// exit 2, before anything runs.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { UserError } from '../scripts/errors.ts';
import { FEATURE_IDS } from '../scripts/profiles/features.ts';
import { getProfile } from '../scripts/profiles/index.ts';
import { BUILTIN_DIR, loadProfile, originOf } from '../scripts/profiles/loader.ts';
import { SUITES } from '../scripts/profiles/types.ts';

const schema = JSON.parse(readFileSync(new URL('../scripts/profiles/profile.schema.json', import.meta.url), 'utf8'));
const wiring = { mockUrl: 'http://mock.ns.svc:8089', providerKey: 'sk-p', adminKey: 'sk-a', model: 'mock-gpt' };

function profileFile(yaml: string, name = 'team.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'gs-profile-'));
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

/** The UserError a load throws (the test fails if it loads). */
function loadError(file: string): UserError {
  try {
    loadProfile(file);
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error(`${file} loaded, but it is not a valid profile`);
}

describe('profile schema', () => {
  test('lists every feature of the catalogue and every suite, and requires them of a complete profile', () => {
    expect(Object.keys(schema.properties.features.properties)).toEqual(FEATURE_IDS);
    expect(schema.then.properties.features.required).toEqual(FEATURE_IDS);
    // upgrade: optional, what survives an upgrade (suite upgrade runs only with --upgrade-from)
    expect(Object.keys(schema.properties.capabilities.properties)).toEqual([...SUITES, 'upgrade']);
  });

  test('every built-in profile names the schema for editors', () => {
    const files = readdirSync(BUILTIN_DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(5);
    for (const f of files) expect(readFileSync(join(BUILTIN_DIR, f), 'utf8').split('\n')[0], f).toBe('# yaml-language-server: $schema=../profile.schema.json');
  });
});

describe('a team profile that extends a built-in one', () => {
  test('overrides values, claims and parameters; maps merge, lists are replaced', () => {
    const file = profileFile(`
extends: llm-proxy
name: team-proxy
writtenFor: { versions: [0.2.0] }
values:
  env: { LOG_LEVEL: debug }
when:
  - has: cache
    values: { env: { REDIS_URL: "redis://\${wiring.cache.host}:\${wiring.cache.port}" } }
features:
  keys.revocation: { unclaimed: our fork keeps tokens forever }
capabilities:
  ratelimit: { limit: 5 }
knownDefects: []
`);
    const p = loadProfile(file);
    const base = getProfile('llm-proxy');
    expect(p.name).toBe('team-proxy');
    expect(p.title).toBe(base.title);
    expect(p.features['keys.revocation']).toEqual({ unclaimed: 'our fork keeps tokens forever' });
    expect(p.features['keys.admin-api']).toBe('claimed');
    expect(p.capabilities.ratelimit).toEqual({ flavour: 'lifetime-quota', limit: 5, sharedAcrossReplicas: true });
    expect(p.knownDefects).toEqual([]);
    // the built-in's values stay, the team's are merged in; `when:` (a list) is the team's alone
    const v = p.values({ ...wiring, databaseUrl: 'postgresql://db', cache: { host: 'redis', port: 6379, password: 'pw' } }) as any;
    expect(v.env).toEqual({ OPENAI_API_URL: 'http://mock.ns.svc:8089', LOG_LEVEL: 'debug', REDIS_URL: 'redis://redis:6379' });
    expect(v.replicaCount).toBe(1);
    expect(originOf(p)).toMatchObject({ file, writtenFor: { versions: ['0.2.0'] } });
    expect(originOf(base)?.writtenFor).toEqual({ versions: ['0.1.0'], commits: ['66ec3dc80417d6c5239e7268cbe2d861663982f6'] });
  });

  test('extends a file beside it, by relative path', () => {
    const base = profileFile(`extends: routeiq\nname: base-of-team\n`, 'base.yaml');
    const team = join(base, '..', 'team.yaml');
    writeFileSync(team, 'extends: ./base.yaml\nname: team\n');
    const p = loadProfile(team);
    expect(p.name).toBe('team');
    expect(p.embeddedYaml).toEqual(['config.gateway']);
  });
});

describe('a bad profile: exit 2, one paragraph naming file, path and expectation', () => {
  const cases: [string, string, RegExp[]][] = [
    ['an unknown feature', 'extends: routeiq\nfeatures:\n  ratelimit.per-keys: claimed\n', [/`features\.ratelimit\.per-keys` is not a known key here/]],
    ['a wrong type', 'extends: routeiq\ncapabilities:\n  ratelimit:\n    limit: three\n', [/`capabilities\.ratelimit\.limit` must be integer/]],
    ['a wrong claim', 'extends: routeiq\nfeatures:\n  netpol: yes please\n', [/`features\.netpol` must be "claimed"/]],
    ['a missing required field', 'name: mine\ntitle: Mine\nservice: { nameSuffix: x, port: 80 }\nneeds: []\nvalues: {}\nfeatures: {}\ncapabilities: {}\n', [/`source` is missing/, /`features\.health\.probes`, .*`features\.netpol` are missing/, /`capabilities\.health`/]],
    ['a placeholder the wiring does not have', 'extends: llm-proxy\nvalues:\n  env: { X: "${wiring.mockURL}" }\n', [/`values\.env\.X` uses \$\{wiring\.mockURL\}, which is not one of: wiring\.mockUrl/]],
    ['optional wiring outside its overlay', 'extends: llm-proxy\nvalues:\n  db: ${wiring.databaseUrl}\n', [/`values\.db` uses \$\{wiring\.databaseUrl\}/]],
    ['an unknown base', 'extends: no-such-chart\n', [/`extends` names "no-such-chart", which is neither a built-in profile \(routeiq, llm-proxy, litellm-proxy, ai-gateway-core\)/]],
    ['YAML that does not parse', 'extends: routeiq\nvalues: [\n', [/YAML syntax at line/]],
  ];
  for (const [what, yaml, expected] of cases) {
    test(what, () => {
      const file = profileFile(yaml);
      const e = loadError(file);
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(file);
      expect(e.message).not.toContain('\n');
      for (const re of expected) expect(e.message).toMatch(re);
    });
  }

  test('a base cannot run on its own, and extends cannot go round in a circle', () => {
    expect(loadError(join(BUILTIN_DIR, 'litellm.yaml')).message).toMatch(/abstract: true/);
    const a = profileFile('extends: ./b.yaml\n', 'a.yaml');
    writeFileSync(join(a, '..', 'b.yaml'), 'extends: ./a.yaml\n');
    expect(loadError(a).message).toMatch(/goes round in a circle/);
  });
});
