// The masking function finds a secret in every form a report or a URL gives it.
import { afterEach, describe, expect, test } from 'vitest';
import { forgetSecrets, mask, maskDeep, registeredSecrets, registerSecret } from '../scripts/secrets.ts';

const KEY = 'adm"in\\secret/Value+123';

afterEach(() => forgetSecrets());

describe('mask', () => {
  test('a secret with a quote, a backslash, a slash and a plus is masked raw, JSON-escaped (once and twice) and URL-encoded', () => {
    registerSecret(KEY);
    const once = JSON.stringify(KEY).slice(1, -1);
    const twice = JSON.stringify(JSON.stringify(KEY)).slice(1, -1);
    const url = encodeURIComponent(KEY);
    expect([once, twice, url].every((f) => f !== KEY)).toBe(true);
    const text = `raw ${KEY} | json ${JSON.stringify({ k: KEY })} | nested ${JSON.stringify({ body: JSON.stringify({ k: KEY }) })} | url https://gw/?k=${url}`;
    const masked = mask(text);
    for (const form of [KEY, once, twice, url]) expect(masked).not.toContain(form);
    expect(masked).toBe('raw *** | json {"k":"***"} | nested {"body":"{\\"k\\":\\"***\\"}"} | url https://gw/?k=***');
    // report.json is JSON.stringify of masked and unmasked text alike: both come out clean
    expect(mask(JSON.stringify({ message: `refused ${KEY}` }))).toBe('{"message":"refused ***"}');
  });

  test('the registered list holds the secret itself, once, not its forms', () => {
    registerSecret(KEY);
    registerSecret(KEY);
    registerSecret('short'); // under 6 characters would mask ordinary words
    expect(registeredSecrets()).toEqual([KEY]);
  });

  test('maskDeep masks each string and key as it is, so the result is still the same shape', () => {
    registerSecret(KEY);
    const value = { config: { masterKey: KEY, [KEY]: 'as a key', list: [`Bearer ${KEY}`, 3, null, true] } };
    expect(maskDeep(value)).toEqual({ config: { masterKey: '***', '***': 'as a key', list: ['Bearer ***', 3, null, true] } });
  });
});
