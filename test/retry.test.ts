// scripts/retry.ts with real timers and small numbers: retried until done, a fatal attempt ends the
// wait at once with its own error, a timeout names what was awaited and the last attempt's reason.
import { describe, expect, test } from 'vitest';
import { fatal, retry, RetryTimeout } from '../scripts/retry.ts';

describe('retry', () => {
  test('retries a failing attempt until it returns, pausing intervalMs between attempts', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    const value = await retry('the thing', { timeoutMs: 2_000, intervalMs: 40 }, (attempt) => {
      at.push(Date.now() - t0);
      if (attempt < 3) throw new Error(`attempt ${attempt} not yet`);
      return 'done';
    });
    expect(value).toBe('done');
    expect(at).toHaveLength(3);
    expect(at[0]).toBeLessThan(30); // the first attempt is immediate
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(35);
  });

  test('a fatal attempt stops the wait at once and rethrows its cause', async () => {
    class Unpullable extends Error {}
    let attempts = 0;
    const t0 = Date.now();
    const err = await retry('pods of release x', { timeoutMs: 5_000, intervalMs: 20 }, (attempt) => {
      attempts = attempt;
      if (attempt === 2) throw fatal(new Unpullable('container app waiting: ErrImagePull'));
      throw new Error('not ready');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unpullable);
    expect((err as Error).message).toBe('container app waiting: ErrImagePull');
    expect(attempts).toBe(2);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  test('a timeout names what was awaited and why the last attempt failed', async () => {
    let attempts = 0;
    const t0 = Date.now();
    const err = await retry('Service mock endpoints', { timeoutMs: 150, intervalMs: 30 }, (attempt) => {
      attempts = attempt;
      throw new Error(`no ready endpoint (attempt ${attempt})`);
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(RetryTimeout);
    expect((err as Error).message).toBe(`Service mock endpoints: not done after 150ms: no ready endpoint (attempt ${attempts})`);
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(1_000);
  });

  test('onTimeout supplies the error (an explanation read at the end)', async () => {
    const err = await retry('x', { timeoutMs: 50, intervalMs: 10, onTimeout: async (last) => new Error(`explained: ${(last as Error).message}`) }, () => {
      throw new Error('still pending');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('explained: still pending');
  });

  test('an abort ends the wait with the signal reason, also mid-pause', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('interrupted')), 60);
    const t0 = Date.now();
    const err = await retry('x', { timeoutMs: 5_000, intervalMs: 1_000, signal: stop.signal }, () => {
      throw new Error('not yet');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('interrupted');
    expect(Date.now() - t0).toBeLessThan(900);
  });
});
