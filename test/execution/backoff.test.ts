/** Backoff delays, jitter, Retry-After and the retry policy, against hand-computed values. */
import { describe, it, expect } from 'vitest';
import { DataValidationError } from '../../services/core/errors.js';
import { DEFAULT_BACKOFF, MAX_ATTEMPTS, backoffDelayMs, retryDelayMs, shouldRetry } from '../../services/execution/backoff.js';
import {
  AuthenticationError,
  ExchangeServerError,
  InvalidOrderError,
  NetworkError,
  RateLimitError,
  TimeoutError,
} from '../../services/execution/exchangeErrors.js';

const NO_JITTER = { ...DEFAULT_BACKOFF, jitter: 0 };

describe('backoffDelayMs', () => {
  it('doubles from 1 s and caps at 30 s', () => {
    // 1000 * 2^(n-1): 1000, 2000, 4000, 8000, 16000, then 32000 -> 30000, and 30000 from there on
    const delays = [1, 2, 3, 4, 5, 6, 7, 60].map((n) => backoffDelayMs(n, NO_JITTER));
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('never overflows for huge attempt numbers', () => {
    // 2^2000 is Infinity as a float; min(30000, Infinity) = 30000
    expect(backoffDelayMs(2001, NO_JITTER)).toBe(30000);
  });

  it('dithers down by up to half', () => {
    // attempt 3: 4000 * (1 - 0.5/2) = 3000; 4000 * (1 - 0.999/2) = 4000 * 0.5005 = 2002
    expect(backoffDelayMs(3, { ...DEFAULT_BACKOFF, jitter: 0.5 })).toBe(3000);
    expect(backoffDelayMs(3, { ...DEFAULT_BACKOFF, jitter: 0.999 })).toBe(2002);
    // capped: 30000 * (1 - 0.2/2) = 27000
    expect(backoffDelayMs(9, { ...DEFAULT_BACKOFF, jitter: 0.2 })).toBe(27000);
  });

  it('lets a longer Retry-After win, even above the cap', () => {
    expect(backoffDelayMs(1, { ...NO_JITTER, retryAfterMs: 5000 })).toBe(5000);
    expect(backoffDelayMs(9, { ...NO_JITTER, retryAfterMs: 120_000 })).toBe(120_000);
    // shorter than the computed 4000: ignored
    expect(backoffDelayMs(3, { ...NO_JITTER, retryAfterMs: 500 })).toBe(4000);
  });

  it('rejects bad inputs', () => {
    expect(() => backoffDelayMs(0, NO_JITTER)).toThrow(DataValidationError);
    expect(() => backoffDelayMs(1.5, NO_JITTER)).toThrow(DataValidationError);
    expect(() => backoffDelayMs(1, { ...DEFAULT_BACKOFF, jitter: 1 })).toThrow(DataValidationError);
    expect(() => backoffDelayMs(1, { ...DEFAULT_BACKOFF, jitter: -0.1 })).toThrow(DataValidationError);
    expect(() => backoffDelayMs(1, { ...DEFAULT_BACKOFF, jitter: Number.NaN })).toThrow(DataValidationError);
  });
});

describe('retryDelayMs', () => {
  it("uses a RateLimitError's Retry-After", () => {
    expect(retryDelayMs(new RateLimitError('429', { retryAfterMs: 7000 }), 1, NO_JITTER)).toBe(7000);
    expect(retryDelayMs(new RateLimitError('429'), 2, NO_JITTER)).toBe(2000);
    expect(retryDelayMs(new NetworkError('reset'), 2, NO_JITTER)).toBe(2000);
  });
});

describe('shouldRetry', () => {
  it('allows at most 5 attempts', () => {
    expect(MAX_ATTEMPTS).toBe(5);
    const err = new NetworkError('refused');
    expect([1, 2, 3, 4, 5].map((n) => shouldRetry(err, n, 'query'))).toEqual([true, true, true, true, false]);
  });

  it('retries only retryable venue errors', () => {
    expect(shouldRetry(new RateLimitError('429'), 1, 'submit')).toBe(true);
    expect(shouldRetry(new NetworkError('refused before sending'), 1, 'submit')).toBe(true);
    expect(shouldRetry(new AuthenticationError('bad key'), 1, 'query')).toBe(false);
    expect(shouldRetry(new InvalidOrderError('below min notional'), 1, 'submit')).toBe(false);
    expect(shouldRetry(new Error('plain'), 1, 'query')).toBe(false);
    expect(shouldRetry('string', 1, 'query')).toBe(false);
  });

  it('never resends a submit whose outcome is unknown, but retries the same error on a query', () => {
    expect(shouldRetry(new TimeoutError('no reply'), 1, 'submit')).toBe(false);
    expect(shouldRetry(new ExchangeServerError('502'), 1, 'submit')).toBe(false);
    expect(shouldRetry(new NetworkError('reset', { requestSent: true }), 1, 'submit')).toBe(false);
    expect(shouldRetry(new TimeoutError('no reply'), 1, 'query')).toBe(true);
    expect(shouldRetry(new ExchangeServerError('502'), 1, 'cancel')).toBe(true);
  });
});
