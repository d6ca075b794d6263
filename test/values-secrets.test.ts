// Secrets in a user's --values file are registered for masking by the preflight's read of the file.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, describe, expect, test } from 'vitest';
import { valuesFileProblems } from '../scripts/preflight/files.ts';
import { forgetSecrets, mask, registeredSecrets } from '../scripts/secrets.ts';
import { secretValues } from '../scripts/values-secrets.ts';

afterEach(() => forgetSecrets());

const VALUES = `
replicaCount: 2
image: { repository: ghcr.io/example/gateway, tag: v1.2.3 }
config:
  masterKey: master-Value-1
  apiKey: api-Value-2
  PASSWORD: "pass\\"word-3"
  auth_token: token-Value-4
  clientSecret: secret-Value-5
  keyLimit: 1000
  enabled: true
  apiKeys: [listed-Value-6, listed-Value-7]
  auth:
    token: { value: nested-Value-8 }
database:
  url: postgres://db:5432/app
  existingSecret: gw-database-credentials
  secretName: gw-secret-object
  masterKeyEnv: LITELLM_MASTER_KEY
  apiKeyHeader: Authorization
extraEnv:
  - { name: LITELLM_MASTER_KEY, value: env-Value-9 }
  - { name: LOG_LEVEL, value: DEBUG-INFO }
  - name: PROVIDER_KEY
    valueFrom: { secretKeyRef: { name: provider-secret, key: provider-api-key } }
`;

describe('values-secrets', () => {
  test('string values under key, token, password and secret names are found at any depth; references to where a secret is are not', () => {
    expect(secretValues(parse(VALUES)).sort()).toEqual(
      [
        'master-Value-1',
        'api-Value-2',
        'pass"word-3',
        'token-Value-4',
        'secret-Value-5',
        'listed-Value-6',
        'listed-Value-7',
        'nested-Value-8',
        'env-Value-9',
      ].sort(),
    );
  });

  test('the preflight read of --values registers them, so what follows is masked in every form', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-values-'));
    const file = join(dir, 'values.yaml');
    await writeFile(file, VALUES);
    expect(registeredSecrets()).toEqual([]);
    expect(await valuesFileProblems(file)).toEqual([]);
    expect(registeredSecrets()).toContain('master-Value-1');
    // what `helm get values` prints, and report.json's escaping of a quoted one
    const dump = `masterKey: master-Value-1\nPASSWORD: ${JSON.stringify('pass"word-3')}\nurl: postgres://db:5432/app\nexistingSecret: gw-database-credentials\n`;
    expect(mask(dump)).toBe('masterKey: ***\nPASSWORD: "***"\nurl: postgres://db:5432/app\nexistingSecret: gw-database-credentials\n');
  });

  test('a values file that is not a mapping registers nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gs-values-'));
    const file = join(dir, 'values.yaml');
    await writeFile(file, '- masterKey: master-Value-1\n');
    expect(await valuesFileProblems(file)).toHaveLength(1);
    expect(registeredSecrets()).toEqual([]);
  });
});
