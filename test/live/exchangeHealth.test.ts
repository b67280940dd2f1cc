/**
 * The exchange-health halt (services/live/exchangeHealth.ts): entries stop once the API or a stream
 * has been failing for 5 minutes, and resume when it works again; each change is reported once.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_HALT_AFTER_MS, ExchangeHealth } from '../../services/live/exchangeHealth.js';

const T = 1_700_000_000_000;
const MIN = 60_000;

describe('exchange health', () => {
  it('REST failing for 5 minutes halts entries; one success lifts it; each change reported once', () => {
    const h = new ExchangeHealth();
    expect(DEFAULT_HALT_AFTER_MS).toBe(5 * MIN);
    h.restFailed(T, 'ExchangeServerError: 503');
    h.restFailed(T + 2 * MIN, 'TimeoutError');
    expect(h.problem(T + 5 * MIN - 1)).toBeUndefined();
    expect(h.update(T + 5 * MIN - 1)).toBeUndefined();
    expect(h.problem(T + 5 * MIN)).toMatch(/^the exchange's API has been failing for 300 s \(TimeoutError\): no new entries until it recovers$/);
    expect(h.update(T + 5 * MIN)).toMatchObject({ kind: 'halted' });
    expect(h.update(T + 6 * MIN)).toBeUndefined();
    h.restOk();
    expect(h.problem(T + 6 * MIN)).toBeUndefined();
    expect(h.update(T + 6 * MIN)).toMatchObject({ kind: 'lifted' });
    expect(h.update(T + 7 * MIN)).toBeUndefined();
  });

  it('a failure that recovers within 5 minutes never halts', () => {
    const h = new ExchangeHealth();
    h.restFailed(T, 'x');
    h.restOk();
    h.restFailed(T + 4 * MIN, 'y');
    expect(h.problem(T + 8 * MIN)).toBeUndefined();
    expect(h.problem(T + 9 * MIN)).toBeDefined();
  });

  it('a stream down (disconnected, stale, reconnecting) for 5 minutes halts; connected or backfilled lifts', () => {
    const h = new ExchangeHealth();
    h.stream('private', 'disconnected', T);
    h.stream('private', 'reconnecting', T + 3 * MIN); // still the same outage, counted from T
    expect(h.problem(T + 5 * MIN)).toMatch(/stream private disconnected for 300 s/);
    h.stream('private', 'connected', T + 6 * MIN);
    expect(h.problem(T + 6 * MIN)).toBeUndefined();
    h.stream('public', 'stale', T + 7 * MIN);
    h.stream('public', 'backfilled', T + 13 * MIN);
    expect(h.problem(T + 13 * MIN)).toBeUndefined();
  });
});
