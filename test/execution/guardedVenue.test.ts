/**
 * GuardedVenue (the transport decorator every venue user goes through) and the error kinds that
 * acknowledgements carry, over the scripted FakeVenue on a virtual clock (no real waiting).
 *
 * Expected delays are worked out from the rules: backoff 1 s doubling (random 0, so undithered),
 * a longer Retry-After wins; the token bucket refills at its rate once the burst is spent.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import {
  CircuitOpenError,
  ExchangeServerError,
  InsufficientBalanceError,
  NetworkError,
  OrderNotFoundError,
  RateLimitError,
  RateLimitQueueFullError,
  TimeoutError,
  orderErrorKind,
  type ExchangeError,
} from '../../services/execution/exchangeErrors.js';
import { GuardedVenue, type GuardEvent, type GuardedVenueOptions } from '../../services/execution/guardedVenue.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import type { OrderUpdate } from '../../services/model/orders.js';
import { cancelEnded, flattenExchange, flattenSymbol } from '../../services/ops/flatten.js';
import type { VenueMarket, VenueOrder } from '../../services/venue/types.js';
import { FakeClock, FakeVenue } from './fakeVenue.js';

const T0 = Date.UTC(2026, 0, 1);
const DOGE = symbolId('DOGEUSDT');
const MARKET: VenueMarket = {
  symbol: DOGE,
  base: 'DOGE',
  quote: 'USDT',
  tickSize: dec('0.0001'),
  stepSize: dec(1),
  minNotional: dec(1),
  tradable: true,
  minQuantity: dec(1),
  makerFeePct: 0,
  takerFeePct: 0.05,
};

/** FakeVenue whose listing can be scripted to fail (FakeVenue scripts only the order endpoints). */
class ListingVenue extends FakeVenue {
  readonly listingFailures: (() => Error)[] = [];
  listings = 0;
  override fetchOpenOrders(symbol?: Parameters<FakeVenue['fetchOpenOrders']>[0]): Promise<VenueOrder[]> {
    this.listings++;
    const f = this.listingFailures.shift();
    if (f) return Promise.reject(f());
    return super.fetchOpenOrders(symbol);
  }
}

function rig(options: Partial<GuardedVenueOptions> = {}) {
  const clock = new FakeClock(T0);
  const venue = new ListingVenue(clock, [MARKET]);
  venue.setBook(DOGE, 0.2, 0.2001);
  const events: GuardEvent[] = [];
  const guard = new GuardedVenue(venue, { now: clock.now, sleep: clock.sleep, random: () => 0, onEvent: (e) => events.push(e) }, options);
  return { clock, venue, guard, events };
}

describe('GuardedVenue: retries', () => {
  it('a listing that fails twice with a 5xx is retried after 1 s and 2 s, then answers', async () => {
    const r = rig();
    r.venue.listingFailures.push(() => new ExchangeServerError('HTTP 502', { httpStatus: 502 }), () => new ExchangeServerError('HTTP 503', { httpStatus: 503 }));
    expect(await r.guard.fetchOpenOrders(DOGE)).toEqual([]);
    expect(r.venue.listings).toBe(3);
    expect(r.clock.sleeps).toEqual([1000, 2000]);
    expect(r.events.map((e) => e.type === 'retry' && [e.endpoint, e.attempt, e.delayMs])).toEqual([
      ['fetchOpenOrders', 1, 1000],
      ['fetchOpenOrders', 2, 2000],
    ]);
    expect(r.guard.stats()).toEqual({ retries: 2, circuitRejections: 0 });
  });

  it("a 429's Retry-After (7 s) is waited when longer than the backoff; at most maxAttempts calls, then the last error", async () => {
    const r = rig({ maxAttempts: 3 });
    for (let i = 0; i < 5; i++) r.venue.listingFailures.push(() => new RateLimitError('HTTP 429', { httpStatus: 429, retryAfterMs: 7000 }));
    await expect(r.guard.fetchOpenOrders(DOGE)).rejects.toBeInstanceOf(RateLimitError);
    expect(r.venue.listings).toBe(3);
    expect(r.clock.sleeps).toEqual([7000, 7000]);
  });

  it('a failure that is not an ExchangeError (an adapter bug) becomes a NetworkError that may have been sent, and a query is retried', async () => {
    const r = rig();
    r.venue.listingFailures.push(() => new TypeError('cannot read properties of undefined'));
    expect(await r.guard.fetchOpenOrders(DOGE)).toEqual([]);
    expect(r.venue.listings).toBe(2);
    expect(r.events[0]).toMatchObject({ type: 'retry', error: expect.stringMatching(/^NetworkError: unexpected failure of fetchOpenOrders: TypeError/) as unknown });
  });

  it('a submit whose outcome is unknown (timeout) is never resent by the guard: one call, the error to the caller', async () => {
    const r = rig();
    r.venue.failNext('createOrder', 1, () => new TimeoutError('no reply'));
    await expect(r.guard.createOrder({ clientOrderId: 'G1E', symbol: DOGE, side: 'buy', type: 'limit', quantity: dec(100), price: dec('0.19') })).rejects.toBeInstanceOf(TimeoutError);
    expect(r.venue.createCalls).toHaveLength(1);
    expect(r.clock.sleeps).toEqual([]);
  });

  it('a submit refused before it could execute (connection refused) is retried', async () => {
    const r = rig();
    r.venue.failNext('createOrder', 1, () => new NetworkError('ECONNREFUSED', { requestSent: false }));
    const vo = await r.guard.createOrder({ clientOrderId: 'G2E', symbol: DOGE, side: 'buy', type: 'limit', quantity: dec(100), price: dec('0.19') });
    expect(vo.clientOrderId).toBe('G2E');
    expect(r.venue.createCount('G2E')).toBe(2);
    expect(r.clock.sleeps).toEqual([1000]);
  });

  it('a permanent refusal (order not found on cancel) is not retried', async () => {
    const r = rig();
    await expect(r.guard.cancelOrder(DOGE, 'nope')).rejects.toBeInstanceOf(OrderNotFoundError);
    expect(r.clock.sleeps).toEqual([]);
  });
});

describe('GuardedVenue: breakers and the order rate limit', () => {
  it('3 failing listings open its breaker: the next is refused without a call, saying when it half-opens; other endpoints still pass', async () => {
    const r = rig({ maxAttempts: 1, circuitBreaker: { failureThreshold: 3, windowMs: 60_000, openMs: 10_000, halfOpenMaxProbes: 1 } });
    for (let i = 0; i < 3; i++) r.venue.listingFailures.push(() => new ExchangeServerError('HTTP 500', { httpStatus: 500 }));
    for (let i = 0; i < 3; i++) await expect(r.guard.fetchOpenOrders(DOGE)).rejects.toBeInstanceOf(ExchangeServerError);
    const refused = (await r.guard.fetchOpenOrders(DOGE).catch((e: unknown) => e)) as CircuitOpenError;
    expect(refused).toBeInstanceOf(CircuitOpenError);
    expect(refused).toMatchObject({ kind: 'circuit_open', endpoint: 'fetchOpenOrders', halfOpenAt: T0 + 10_000 });
    expect(r.venue.listings).toBe(3);
    expect(await r.guard.fetchBalances()).toEqual([]);
    expect(r.guard.snapshot().breakers['fetchOpenOrders']).toMatchObject({ state: 'open', timesOpened: 1 });
    expect(r.guard.stats().circuitRejections).toBe(1);
  });

  it('order endpoints share one bucket (burst 2, 1/s): the third call waits 1 s; queries spend no token', async () => {
    const r = rig({ rateLimit: { ratePerSecond: 1, burst: 2 } });
    const req = (id: string) => ({ clientOrderId: id, symbol: DOGE, side: 'buy' as const, type: 'limit' as const, quantity: dec(100), price: dec('0.19') });
    await r.guard.createOrder(req('R1E'));
    await r.guard.fetchOpenOrders(DOGE);
    await r.guard.cancelOrder(DOGE, 'R1E');
    await r.guard.createOrder(req('R2E'));
    expect(r.venue.createCalls.map((c) => c.time - T0)).toEqual([0, 1000]);
    expect(r.clock.sleeps).toEqual([1000]);
  });

  it('the wait for a token is bounded: past maxRateLimitWaitMs the call is refused (RateLimitQueueFullError)', async () => {
    const r = rig({ rateLimit: { ratePerSecond: 1, burst: 1 }, maxRateLimitWaitMs: 500 });
    await r.guard.cancelOrder(DOGE, 'x').catch(() => undefined);
    const e = await r.guard.cancelOrder(DOGE, 'y').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateLimitQueueFullError);
    expect(orderErrorKind(e)).toBe('rate_limit_queue_full');
  });

  it('SafeExchange given a GuardedVenue uses it: its orders and the caller\'s listings share the breakers and the bucket', async () => {
    const r = rig({ rateLimit: { ratePerSecond: 1, burst: 1 } });
    const safe = new SafeExchange(r.guard, { now: r.clock.now, sleep: r.clock.sleep, random: () => 0 });
    expect(safe.venue).toBe(r.guard);
    await r.guard.cancelOrder(DOGE, 'x').catch(() => undefined);
    await safe.submit({ clientOrderId: 'S1E', symbol: DOGE, side: 'buy', type: 'limit', quantity: dec(100), price: dec('0.19') });
    // The guard's own cancel spent the only token: the submit waited for the next one.
    expect(r.venue.createCalls.map((c) => c.time - T0)).toEqual([1000]);
  });
});

describe('acknowledgements carry an error kind', () => {
  function safeRig(options: ConstructorParameters<typeof SafeExchange>[2] = {}) {
    const r = rig();
    const safe = new SafeExchange(r.venue, { now: r.clock.now, sleep: r.clock.sleep, random: () => 0 }, options);
    const updates: OrderUpdate[] = [];
    safe.subscribe({ onFill: () => undefined, onOrderUpdate: (u) => updates.push(u) });
    return { ...r, safe, updates };
  }
  const limit = (id: string) => ({ clientOrderId: id, symbol: DOGE, side: 'buy' as const, type: 'limit' as const, quantity: dec(100), price: dec('0.19') });

  const cases: [string, () => ExchangeError, string][] = [
    ['insufficient balance', () => new InsufficientBalanceError('code 10101', { code: 10101 }), 'insufficient_balance'],
    ['a 5xx on every attempt, not found each time', () => new ExchangeServerError('HTTP 500', { httpStatus: 500 }), 'server'],
  ];
  for (const [what, make, kind] of cases) {
    it(`a submit rejected for ${what}: the ack and the executor's order update say ${kind}`, async () => {
      const r = safeRig({ maxAttempts: 2, unknownOutcomeSettleMs: 10 });
      r.venue.failNext('createOrder', 5, make);
      const ack = await r.safe.submit(limit('K1E'));
      expect(ack).toMatchObject({ status: 'rejected', errorKind: kind });
      expect(r.updates.at(-1)).toMatchObject({ clientOrderId: 'K1E', status: 'rejected', errorKind: kind });
      // The 5xx case ends with the order back to unsent after its last "not found": still a legal rejection.
      expect(r.safe.stats().illegalTransitions).toBe(0);
    });
  }

  it('local refusals: a limit order without a price is invalid_request; an open breaker is circuit_open', async () => {
    const r = safeRig({ maxAttempts: 1, circuitBreaker: { failureThreshold: 1, windowMs: 60_000, openMs: 10_000, halfOpenMaxProbes: 1 } });
    expect(await r.safe.submit({ clientOrderId: 'K2E', symbol: DOGE, side: 'buy', type: 'limit', quantity: dec(100) })).toMatchObject({ status: 'rejected', errorKind: 'invalid_request' });
    r.venue.failNext('createOrder', 1, () => new NetworkError('ECONNRESET'));
    expect((await r.safe.submit(limit('K3E'))).errorKind).toBe('network');
    expect(await r.safe.submit(limit('K4E'))).toMatchObject({ status: 'rejected', errorKind: 'circuit_open' });
  });

  it('an accepted order and a successful cancel carry no error kind', async () => {
    const r = safeRig();
    const ack = await r.safe.submit(limit('K5E'));
    expect(ack.status).toBe('new');
    expect(ack.errorKind).toBeUndefined();
    const c = await r.safe.cancel(DOGE, 'K5E');
    expect(c.status).toBe('cancelled');
    expect(c.errorKind).toBeUndefined();
  });

  it('a cancel that fails leaves the order open and says why (server), and the flatten counts it as a failure', async () => {
    const r = safeRig({ maxAttempts: 1 });
    await r.safe.submit(limit('K6E'));
    r.venue.failNext('cancelOrder', 1, () => new ExchangeServerError('HTTP 503', { httpStatus: 503 }));
    const c = await r.safe.cancel(DOGE, 'K6E');
    expect(c).toMatchObject({ status: 'new', errorKind: 'server' });
    expect(cancelEnded(c)).toBe(false);
  });

  it('an untracked order the venue no longer knows as open: rejected with order_not_found, which the flatten counts as ended', async () => {
    const r = safeRig();
    const c = await r.safe.cancel(DOGE, 'gone');
    expect(c).toMatchObject({ status: 'rejected', errorKind: 'order_not_found' });
    expect(cancelEnded(c)).toBe(true);
    // Any other rejection is a failed cancel.
    expect(cancelEnded({ ...c, errorKind: 'server' })).toBe(false);
    expect(cancelEnded({ ...c, errorKind: undefined })).toBe(false);
  });

  it('flattenSymbol: an order listed open that ended before its cancel is counted as cancelled, not as a failure', async () => {
    const r = safeRig();
    // Listed open, then gone by the time the cancel arrives (the venue answers -2011).
    const listed = { clientOrderId: 'L1T1', exchangeOrderId: 'X', symbol: DOGE, side: 'sell', type: 'limit', quantity: dec(10), filledQuantity: dec(0), filledQuote: dec(0), status: 'new', time: T0, updateTime: T0 } as const;
    const venue = { market: () => MARKET, fetchOpenOrders: () => Promise.resolve([listed]), fetchBalances: () => Promise.resolve([]) };
    const fl = await flattenSymbol({ venue, exchange: flattenExchange(r.safe) }, DOGE, 'FL1');
    expect(fl).toMatchObject({ cancelled: ['L1T1'], cancelFailures: [], flat: true });
  });
});
