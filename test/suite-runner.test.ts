import { describe, expect, test } from 'vitest';
import { getProfile } from '../scripts/profiles/index.ts';
import { checkFromSkipNote, preRunVerdict } from '../scripts/suite-runner.ts';
import type { Target } from '../scripts/targets/types.ts';

const target: Target = { kind: 'local', chart: 'routeiq', baseUrl: 'http://127.0.0.1:1', model: 'm', standIn: true, environment: {} };

describe('suite applicability', () => {
  test('a capability the chart lacks is not applicable, with its reason', () => {
    expect(preRunVerdict('netpol', getProfile('llm-proxy').capabilities, target)).toEqual({
      verdict: 'not-applicable',
      reason: 'the llm-proxy chart ships no NetworkPolicy on main',
    });
  });
  test('netpol without a cluster is not applicable', () => {
    expect(preRunVerdict('netpol', getProfile('routeiq').capabilities, target)?.reason).toBe('needs a cluster');
  });
  test('an environment blocker is reported as such', () => {
    const t = { ...target, environment: { keys: 'Prisma engines unavailable' } };
    expect(preRunVerdict('keys', getProfile('routeiq').capabilities, t)).toEqual({ verdict: 'environment', reason: 'Prisma engines unavailable' });
  });
  test('an applicable suite runs', () => {
    expect(preRunVerdict('metrics', getProfile('routeiq').capabilities, target)).toBeUndefined();
  });
  test('skip notes keep their kind; a bare skip fails', () => {
    expect(checkFromSkipNote('environment: no pods')).toEqual({ verdict: 'environment', message: 'no pods' });
    expect(checkFromSkipNote('not applicable: no limit')).toEqual({ verdict: 'not-applicable', message: 'no limit' });
    expect(checkFromSkipNote(undefined).verdict).toBe('fail');
  });
});
