// NetworkPolicy: runs only on a cluster target (the harness reports "not applicable: needs a
// cluster" elsewhere). A canary proves the CNI enforces before the profile's matrix is trusted.
import { describe, expect, test } from 'vitest';
import { suiteContext } from './lib/context.ts';

const { target } = suiteContext();

describe('netpol', () => {
  test('a cluster target is required', () => {
    expect(target.cluster, 'the netpol suite needs a cluster target (kind or existing)').toBeDefined();
  });
});
