import { describe, expect, it } from 'vitest';
import { STARTUP_RETRY_BUDGET_MS, withStartupRetries } from '../../fargate/startup.js';
import { AuthenticationError, ExchangeServerError, NetworkError, RateLimitError, TimeoutError } from '../../services/execution/exchangeErrors.js';

/** A fake clock that sleeping advances. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: (ms: number) => Promise.resolve(void (t += ms)) };
}

describe('start-up requests are retried for a time budget, not a count', () => {
  it('survives a burst of more than five retryable failures (429s, 5xx, timeouts) and returns the answer', async () => {
    const c = clock();
    const errors = [new RateLimitError('429'), new RateLimitError('429'), new ExchangeServerError('503'), new TimeoutError('timed out'), new RateLimitError('429'), new TimeoutError('timed out'), new ExchangeServerError('502'), new NetworkError('reset', { requestSent: true })];
    let calls = 0;
    const warnings: string[] = [];
    const got = await withStartupRetries(
      'loading the markets',
      () => {
        const e = errors[calls++];
        return e ? Promise.reject(e) : Promise.resolve('markets');
      },
      (l) => warnings.push(l),
      true,
      c,
    );
    expect(got).toBe('markets');
    expect(calls).toBe(errors.length + 1);
    expect(warnings).toHaveLength(errors.length);
    expect(warnings[7]).toMatch(/retrying in .* \(attempt 8\)/);
    // Waited, with the 30 s cap, well inside the budget.
    expect(c.now()).toBeGreaterThan(30_000);
    expect(c.now()).toBeLessThan(STARTUP_RETRY_BUDGET_MS);
  });

  it('gives up once the next wait would pass the budget, saying so, with the last error', async () => {
    const c = clock();
    let calls = 0;
    const warnings: string[] = [];
    const last = new TimeoutError('timed out');
    const err = await withStartupRetries('loading the markets', () => (calls++, Promise.reject(last)), (l) => warnings.push(l), false, c).catch((e: unknown) => e);
    expect(err).toBe(last);
    expect(c.now()).toBeLessThanOrEqual(STARTUP_RETRY_BUDGET_MS);
    expect(c.now()).toBeGreaterThan(STARTUP_RETRY_BUDGET_MS - 30_000);
    expect(calls).toBeGreaterThan(5);
    expect(warnings.at(-1)).toMatch(/giving up \(start-up requests are retried for 300 s\)/);
  });

  it('does not retry what cannot succeed: an error that is not retryable, or an unreachable venue when that is final', async () => {
    const c = clock();
    let calls = 0;
    const auth = new AuthenticationError('bad key');
    await expect(withStartupRetries('x', () => (calls++, Promise.reject(auth)), () => {}, false, c)).rejects.toBe(auth);
    expect(calls).toBe(1);
    const refused = new NetworkError('ECONNREFUSED', { requestSent: false });
    await expect(withStartupRetries('x', () => (calls++, Promise.reject(refused)), () => {}, true, c)).rejects.toBe(refused);
    expect(calls).toBe(2);
    await expect(withStartupRetries('x', () => (calls++, Promise.reject(new Error('a bug'))), () => {}, false, c)).rejects.toThrow('a bug');
    expect(calls).toBe(3);
    expect(c.now()).toBe(0);
  });
});
