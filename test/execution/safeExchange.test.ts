/**
 * SafeExchange over the scripted FakeVenue, on a virtual clock (FakeClock: sleeps advance virtual
 * time, nothing waits for real time). Random draws are 0 unless a test says otherwise, so backoff
 * delays are the undithered 1 s, 2 s, 4 s, 8 s (or Retry-After when that is longer).
 *
 * Market used by most tests (DOGEUSDT): tick 0.0001, lot 1, minimum notional 1 USDT; the book is
 * bid 0.2 / ask 0.2001 unless a test sets it. The fake fills market and marketable orders at the
 * touch (a sell at the bid) with a 0.05% taker fee, and rests other limits.
 */
import { describe, expect, it } from 'vitest';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import {
  AuthenticationError,
  ExchangeRequestError,
  ExchangeServerError,
  InsufficientBalanceError,
  InvalidOrderError,
  NetworkError,
  RateLimitError,
  SymbolNotTradableError,
  TimeoutError,
  type ExchangeError,
} from '../../services/execution/exchangeErrors.js';
import {
  SafeExchange,
  replacementClientOrderId,
  safeExchangeOptionsFromConfig,
  DEFAULT_SAFE_EXCHANGE_OPTIONS,
  type SafeExchangeEvent,
  type SafeExchangeOptions,
} from '../../services/execution/safeExchange.js';
import type { Fill, OrderRequest, OrderUpdate } from '../../services/model/orders.js';
import { emergencyClose } from '../../services/ops/emergencyClose.js';
import type { VenueMarket } from '../../services/venue/types.js';
import { Executor, type ExecutorEvent, type RiskGate } from '../../services/execution/executor.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import type { EnterIntent } from '../../services/model/intents.js';
import { parseConfig } from '../../services/config/schema.js';
import { FakeClock, FakeVenue } from './fakeVenue.js';

const T0 = Date.UTC(2026, 0, 1);
const DOGE = symbolId('DOGEUSDT');
const DOGE_MARKET: VenueMarket = {
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
const BTC = symbolId('BTCUSDT');
const BTC_MARKET: VenueMarket = { ...DOGE_MARKET, symbol: BTC, base: 'BTC', tickSize: dec('0.01'), stepSize: dec('0.001'), minQuantity: dec('0.001') };

function rig(options: Partial<SafeExchangeOptions> = {}, random: () => number = () => 0) {
  const clock = new FakeClock(T0);
  const venue = new FakeVenue(clock, [DOGE_MARKET, BTC_MARKET]);
  venue.setBook(DOGE, 0.2, 0.2001);
  const events: SafeExchangeEvent[] = [];
  const safe = new SafeExchange(venue, { now: clock.now, sleep: clock.sleep, random, onEvent: (e) => events.push(e) }, options);
  venue.listener = (e) => safe.onVenueEvent(e);
  const fills: Fill[] = [];
  const updates: OrderUpdate[] = [];
  /** What the executor would see, in order. */
  const log: string[] = [];
  safe.subscribe({
    onFill: (f) => {
      fills.push(f);
      log.push(`fill ${f.clientOrderId} ${f.quantity.toString()}`);
    },
    onOrderUpdate: (u) => {
      updates.push(u);
      log.push(`${u.status} ${u.clientOrderId} ${u.filledQuantity.toString()}`);
    },
  });
  return { clock, venue, safe, events, fills, updates, log };
}

const buyMarket = (id: string, qty: number | string, symbol: SymbolId = DOGE): OrderRequest => ({ clientOrderId: id, symbol, side: 'buy', type: 'market', quantity: dec(qty) });
const buyLimit = (id: string, qty: number | string, price: string, symbol: SymbolId = DOGE): OrderRequest => ({
  clientOrderId: id,
  symbol,
  side: 'buy',
  type: 'limit',
  quantity: dec(qty),
  price: dec(price),
});
const lookups = (venue: FakeVenue, id: string) => venue.calls.filter((c) => c.method === 'fetchOrderByClientId' && c.clientOrderId === id);

describe('unknown outcomes are resolved by looking the order up, never by sending blindly', () => {
  it('a submit that times out after the order was placed: found by lookup, no second createOrder, the fills still reach the executor', async () => {
    const r = rig();
    r.venue.streamConnected = false; // the fill happens while the stream is down too
    r.venue.placeThenFailNext(1, () => new TimeoutError('no reply within 10 s'));
    const ack = await r.safe.submit(buyMarket('A1E', 1000));
    expect(r.venue.createCount('A1E')).toBe(1);
    expect(ack).toMatchObject({ clientOrderId: 'A1E', status: 'filled', exchangeOrderId: 'V1' });
    // The fill (1000 at the ask 0.2001) came through REST; the final status only after it.
    expect(r.log).toEqual(['fill A1E 1000', 'filled A1E 1000']);
    expect(r.fills[0]).toMatchObject({ tradeId: 'tr1', price: dec('0.2001') });
    expect(r.safe.stats()).toMatchObject({ unknownOutcomes: 1, unknownResolvedFound: 1, resends: 0, fillsDelivered: 1 });
    // The stream comes back and replays the same fill: counted once.
    r.venue.streamConnected = true;
    r.venue.push({ type: 'fill', fill: r.venue.trades[0]!, receivedAt: r.clock.now() });
    expect(r.fills).toHaveLength(1);
    expect(r.safe.stats().duplicateFillsDropped).toBe(1);
  });

  it('a lookup right after the timeout may not see the order yet: asked again 1 s later, found, not resent', async () => {
    const r = rig();
    r.venue.streamConnected = false;
    r.venue.placeThenFailNext(1, () => new TimeoutError('no reply'));
    r.venue.hideFromNextLookups(1);
    const ack = await r.safe.submit(buyLimit('A2E', 100, '0.19'));
    expect(ack.status).toBe('new');
    expect(r.venue.createCount('A2E')).toBe(1);
    expect(lookups(r.venue, 'A2E').map((c) => c.time - T0)).toEqual([0, 1000]);
    expect(r.clock.sleeps).toEqual([1000]);
  });

  it('a 5xx without placement: not found twice, 1 s apart, then one resend with the same client id; exactly one order', async () => {
    const r = rig();
    r.venue.failNext('createOrder', 1, () => new ExchangeServerError('MEXC HTTP 503 (server error)', { httpStatus: 503 }));
    const ack = await r.safe.submit(buyLimit('A3E', 100, '0.19'));
    expect(ack).toMatchObject({ clientOrderId: 'A3E', status: 'new' });
    expect(r.venue.createCalls.map((c) => [c.req.clientOrderId, c.time - T0])).toEqual([
      ['A3E', 0],
      ['A3E', 1000],
    ]);
    // Both lookups come before the resend.
    expect(lookups(r.venue, 'A3E').map((c) => c.time - T0)).toEqual([0, 1000]);
    const firstResend = r.venue.calls.findIndex((c, i) => i > 0 && c.method === 'createOrder');
    expect(r.venue.calls.slice(0, firstResend).filter((c) => c.method === 'fetchOrderByClientId')).toHaveLength(2);
    expect([...r.venue.orders.keys()]).toEqual(['A3E']);
    expect(r.safe.stats()).toMatchObject({ unknownOutcomes: 1, unknownResolvedNotFound: 1, resends: 1 });
  });

  it('when the lookups themselves fail, the ack is "new" with an "outcome unknown" reason (the order may exist), and nothing is resent', async () => {
    const r = rig({ maxAttempts: 2 });
    r.venue.placeThenFailNext(1, () => new TimeoutError('no reply'));
    r.venue.streamConnected = false;
    r.venue.failNext('fetchOrderByClientId', 2, () => new ExchangeServerError('HTTP 502', { httpStatus: 502 }));
    const ack = await r.safe.submit(buyLimit('A4E', 100, '0.19'));
    expect(ack.status).toBe('new');
    expect(ack.reason).toMatch(/^outcome unknown: .*ExchangeServerError/);
    expect(r.venue.createCount('A4E')).toBe(1);
    expect(r.safe.stats().unknownUnresolved).toBe(1);
    // Later the runtime reconciles: the order is there.
    const rec = await r.safe.reconcileOrder(DOGE, 'A4E');
    expect(rec.venueStatus).toBe('new');
    expect((await r.safe.submit(buyLimit('A4E', 100, '0.19'))).reason).toBeUndefined();
  });

  it('an unsettled unknown outcome that reconciliation finds nowhere (asked twice) ends as cancelled and is not resent', async () => {
    const r = rig({ maxAttempts: 1 });
    r.venue.failNext('createOrder', 1, () => new TimeoutError('no reply'));
    r.venue.failNext('fetchOrderByClientId', 1, () => new ExchangeServerError('HTTP 502', { httpStatus: 502 }));
    const ack = await r.safe.submit(buyLimit('A5E', 100, '0.19'));
    expect(ack).toMatchObject({ status: 'new' });
    const rec = await r.safe.reconcileOrder(DOGE, 'A5E');
    expect(rec.venueStatus).toBeUndefined();
    expect(r.updates.at(-1)).toMatchObject({ clientOrderId: 'A5E', status: 'cancelled' });
    expect(r.venue.createCalls).toHaveLength(1);
    expect(r.safe.stats().illegalTransitions).toBe(0);
  });
});

describe('retries: which errors, how long, how many', () => {
  it('a 429 storm: every retry waits the Retry-After (5 s) or the longer backoff, 5 calls at most, then a rejected ack naming RateLimitError', async () => {
    const r = rig();
    r.venue.failNext('createOrder', 10, () => new RateLimitError('MEXC HTTP 429 (rate limited)', { httpStatus: 429, retryAfterMs: 5000 }));
    const ack = await r.safe.submit(buyLimit('B1E', 100, '0.19'));
    expect(ack.status).toBe('rejected');
    expect(ack.reason).toMatch(/^RateLimitError: /);
    // Backoff after attempts 1-4 is 1, 2, 4, 8 s; Retry-After 5 s wins over the first three.
    expect(r.clock.sleeps).toEqual([5000, 5000, 5000, 8000]);
    expect(r.venue.createCalls.map((c) => c.time - T0)).toEqual([0, 5000, 10_000, 15_000, 23_000]);
    expect(r.safe.stats()).toMatchObject({ retries: 4, rejected: 1 });
    // The executor also hears it as an order update.
    expect(r.updates.at(-1)).toMatchObject({ clientOrderId: 'B1E', status: 'rejected' });
  });

  it('a connection refused before sending is retried with jittered backoff (random 0.5: 1 s x 0.75, 2 s x 0.75) and then succeeds', async () => {
    const r = rig({}, () => 0.5);
    r.venue.failNext('createOrder', 2, () => new NetworkError('ECONNREFUSED'));
    const ack = await r.safe.submit(buyLimit('B2E', 100, '0.19'));
    expect(ack.status).toBe('new');
    expect(r.clock.sleeps).toEqual([750, 1500]);
    expect(r.venue.createCount('B2E')).toBe(3);
    expect(r.venue.orders.size).toBe(1);
  });

  const permanent: [string, () => ExchangeError][] = [
    ['InsufficientBalanceError', () => new InsufficientBalanceError('MEXC HTTP 400 code 10101: insufficient balance', { code: 10101 })],
    ['InvalidOrderError', () => new InvalidOrderError('MEXC HTTP 400 code 30002: below the minimum amount', { code: 30002 })],
    ['SymbolNotTradableError', () => new SymbolNotTradableError('MEXC HTTP 400 code 10007: symbol not support api', { code: 10007 })],
    ['AuthenticationError', () => new AuthenticationError('MEXC HTTP 400 code 700002: signature invalid', { code: 700002 })],
  ];
  for (const [name, make] of permanent) {
    it(`${name} is not retried: one call, no wait, a rejected ack naming it`, async () => {
      const r = rig();
      r.venue.failNext('createOrder', 1, make);
      const ack = await r.safe.submit(buyLimit('B3E', 100, '0.19'));
      expect(ack.status).toBe('rejected');
      expect(ack.reason?.startsWith(`${name}: `)).toBe(true);
      expect(r.venue.createCalls).toHaveLength(1);
      expect(r.clock.sleeps).toEqual([]);
      expect(r.safe.stats().retries).toBe(0);
    });
  }

  it('a retried submit (same client id) sends nothing and answers with the tracked order', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('B4E', 100, '0.19'));
    const again = await r.safe.submit(buyLimit('B4E', 100, '0.19'));
    expect(again).toMatchObject({ clientOrderId: 'B4E', status: 'new', exchangeOrderId: 'V1' });
    expect(r.venue.createCalls).toHaveLength(1);
  });
});

describe('rate limiter and circuit breaker', () => {
  it('a burst of 30 submits: 20 go at once, then one every 200 ms (5/s)', async () => {
    const r = rig();
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => r.safe.submit(buyLimit(`C${i}E`, 100, '0.19'))));
    expect(acks.every((a) => a.status === 'new')).toBe(true);
    const times = r.venue.createCalls.map((c) => c.time - T0);
    expect(times).toEqual([...Array<number>(20).fill(0), 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
    expect(r.safe.snapshot().bucketLevel).toBe(0);
    // In arrival order.
    expect(r.venue.createCalls.map((c) => c.req.clientOrderId)).toEqual(Array.from({ length: 30 }, (_, i) => `C${i}E`));
  });

  it('the breaker opens after 3 failures, fails fast saying when it half-opens, lets a probe through after openMs and closes on its success', async () => {
    const r = rig({ maxAttempts: 1, circuitBreaker: { failureThreshold: 3, windowMs: 60_000, openMs: 10_000, halfOpenMaxProbes: 1 } });
    r.venue.failNext('createOrder', 3, () => new NetworkError('ECONNRESET'));
    for (const id of ['D1E', 'D2E', 'D3E']) expect((await r.safe.submit(buyLimit(id, 100, '0.19'))).reason).toMatch(/^NetworkError/);
    expect(r.safe.snapshot().breakers['createOrder']).toMatchObject({ state: 'open', halfOpenAt: T0 + 10_000, timesOpened: 1 });
    const fast = await r.safe.submit(buyLimit('D4E', 100, '0.19'));
    expect(fast.status).toBe('rejected');
    expect(fast.reason).toBe('CircuitOpenError: circuit breaker for createOrder is open until 2026-01-01T00:00:10.000Z (half-opens then)');
    expect(r.venue.createCalls).toHaveLength(3);
    r.clock.advance(10_000);
    expect(r.safe.snapshot().breakers['createOrder']?.state).toBe('half_open');
    const probe = await r.safe.submit(buyLimit('D5E', 100, '0.19'));
    expect(probe.status).toBe('new');
    expect(r.safe.snapshot().breakers['createOrder']).toMatchObject({ state: 'closed', timesOpened: 1 });
    expect(r.safe.stats().circuitRejections).toBe(1);
  });

  it('permanent refusals do not open the breaker (the endpoint answered)', async () => {
    const r = rig({ circuitBreaker: { failureThreshold: 2, windowMs: 60_000, openMs: 10_000, halfOpenMaxProbes: 1 } });
    r.venue.failNext('createOrder', 3, () => new InvalidOrderError('code 30002'));
    for (const id of ['D6E', 'D7E', 'D8E']) await r.safe.submit(buyLimit(id, 100, '0.19'));
    expect(r.safe.snapshot().breakers['createOrder']?.state).toBe('closed');
  });
});

describe('venue events and reconciliation', () => {
  it('a fill delivered twice (stream, then again) reaches the executor once; order updates only on a status change', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E1E', 100, '0.19'));
    r.venue.fillResting('E1E', dec(40), dec('0.19'));
    const fill = r.venue.trades[0]!;
    r.safe.onVenueEvent({ type: 'fill', fill, receivedAt: r.clock.now() });
    // The same order event again changes nothing.
    const order = { ...r.venue.orders.get('E1E')!, price: dec('0.19') };
    r.safe.onVenueEvent({ type: 'order', order, receivedAt: r.clock.now() });
    expect(r.log).toEqual(['new E1E 0', 'fill E1E 40', 'partially_filled E1E 40']);
    expect(r.safe.stats().duplicateFillsDropped).toBe(1);
  });

  it('order updates carry the venue’s time, not the local clock (a replay runs ahead of it)', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E9E', 100, '0.19'));
    // The venue's own events are held back; the test delivers the fill stamped an hour ahead.
    r.venue.streamConnected = false;
    r.venue.fillResting('E9E', dec(100), dec('0.19'));
    const fill = { ...r.venue.trades[0]!, time: T0 + 3_600_000 };
    r.safe.onVenueEvent({ type: 'fill', fill, receivedAt: r.clock.now() });
    r.safe.onVenueEvent({ type: 'order', order: { ...r.venue.orders.get('E9E')!, updateTime: T0 + 3_600_000 }, receivedAt: r.clock.now() });
    const filled = r.updates.find((u) => u.clientOrderId === 'E9E' && u.status === 'filled');
    expect(r.clock.now()).toBeLessThan(T0 + 3_600_000);
    expect(filled?.time).toBe(T0 + 3_600_000);
  });

  it('reconcileOrder delivers a fill the stream missed, exactly once, then the final status', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E2E', 100, '0.19'));
    r.venue.streamConnected = false;
    r.venue.fillResting('E2E', dec(100), dec('0.19'));
    expect(r.fills).toHaveLength(0);
    const first = await r.safe.reconcileOrder(DOGE, 'E2E');
    expect(first).toEqual({ clientOrderId: 'E2E', venueStatus: 'filled', fillsDelivered: 1 });
    const second = await r.safe.reconcileOrder(DOGE, 'E2E');
    expect(second.fillsDelivered).toBe(0);
    r.venue.streamConnected = true;
    r.venue.push({ type: 'fill', fill: r.venue.trades[0]!, receivedAt: r.clock.now() });
    expect(r.log).toEqual(['new E2E 0', 'fill E2E 100', 'filled E2E 100']);
  });

  it('sweepOpen finds what the stream missed while it was down: a fill that ended one order and a part fill of another, each once', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E5E', 100, '0.19'));
    await r.safe.submit(buyLimit('E6E', 100, '0.19'));
    await r.safe.submit(buyLimit('E7E', 100, '0.19'));
    r.venue.streamConnected = false;
    r.venue.fillResting('E5E', dec(100), dec('0.19'));
    r.venue.fillResting('E6E', dec(40), dec('0.19'));
    r.venue.streamConnected = true; // back, with nothing replayed
    r.log.length = 0;
    const before = r.venue.calls.length;
    const first = await r.safe.sweepOpen();
    expect(first).toEqual({ checked: 3, reconciled: 2, delivered: 2, failed: [] });
    expect(r.log).toEqual(['fill E5E 100', 'filled E5E 100', 'fill E6E 40', 'partially_filled E6E 40']);
    // E7E had nothing new: the open-orders list was enough, no lookup of it.
    expect(r.venue.calls.slice(before).filter((c) => c.clientOrderId === 'E7E')).toEqual([]);
    const again = await r.safe.sweepOpen();
    expect(again).toEqual({ checked: 2, reconciled: 0, delivered: 0, failed: [] });
    expect(r.safe.stats()).toMatchObject({ openSweeps: 2, sweepFillsDelivered: 2, duplicateFillsDropped: 0 });
  });

  it('sweepOpen: calls at once share one sweep; a venue that cannot list open orders is named, not thrown', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E8E', 100, '0.19'));
    const [a, b] = [r.safe.sweepOpen(), r.safe.sweepOpen()];
    expect(a).toBe(b);
    await a;
    expect(r.venue.calls.filter((c) => c.method === 'fetchOpenOrders')).toHaveLength(1);
    // A query is retried (503 is transient): the venue fails every attempt.
    r.venue.failNext('fetchOpenOrders', 10, () => new ExchangeServerError('MEXC HTTP 503', { httpStatus: 503 }));
    const failed = await r.safe.sweepOpen();
    expect(failed.failed).toHaveLength(1);
    expect(failed.failed[0]).toMatch(/^DOGEUSDT: .*503/);
  });

  it('a final status whose fills have not arrived is held back, and the fills are fetched after the settle time', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('E3E', 100, '0.19'));
    // The order stream says filled, the deals stream lost the fill.
    r.venue.streamConnected = false;
    r.venue.fillResting('E3E', dec(100), dec('0.19'));
    r.venue.streamConnected = true;
    r.venue.push({ type: 'order', order: (await r.venue.fetchOrderByClientId(DOGE, 'E3E'))!, receivedAt: r.clock.now() });
    expect(r.log).toEqual(['new E3E 0']);
    // Let the background catch-up run (it sleeps 1 s of virtual time, then asks REST).
    for (let i = 0; i < 20 && r.log.length < 3; i++) await new Promise((res) => setImmediate(res));
    expect(r.log).toEqual(['new E3E 0', 'fill E3E 100', 'filled E3E 100']);
  });

  it("a market order whose end the stream missed (MEXC's reply has no status) is checked with REST after the settle time", async () => {
    const r = rig();
    r.venue.ackWithoutStatus = true;
    r.venue.streamConnected = false;
    const ack = await r.safe.submit(buyMarket('E4E', 1000));
    expect(ack.status).toBe('new');
    expect(r.log).toEqual(['new E4E 0']);
    for (let i = 0; i < 20 && r.log.length < 3; i++) await new Promise((res) => setImmediate(res));
    expect(r.log).toEqual(['new E4E 0', 'fill E4E 1000', 'filled E4E 1000']);
    expect(r.clock.now() - T0).toBe(1000);
  });
});

describe('cancel', () => {
  it('cancels an open order and reports it once', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('F1E', 100, '0.19'));
    const ack = await r.safe.cancel(DOGE, 'F1E');
    expect(ack).toMatchObject({ status: 'cancelled', exchangeOrderId: 'V1' });
    expect(r.log).toEqual(['new F1E 0', 'cancelled F1E 0']);
  });

  it('an order the venue no longer has open (it filled while the stream was down) is looked up and reported filled, fills first', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('F2E', 100, '0.19'));
    r.venue.streamConnected = false;
    r.venue.fillResting('F2E', dec(100), dec('0.19'));
    const ack = await r.safe.cancel(DOGE, 'F2E');
    expect(ack.status).toBe('filled');
    expect(r.log).toEqual(['new F2E 0', 'fill F2E 100', 'filled F2E 100']);
  });
});

describe('stuck orders', () => {
  it("policy 'cancel': an entry with no fill for more than 60 s is cancelled; a resting target is left alone", async () => {
    const r = rig();
    await r.safe.submit(buyLimit('G1E', 100, '0.19'));
    await r.safe.submit({ clientOrderId: 'G1T1', symbol: DOGE, side: 'sell', type: 'limit', quantity: dec(100), price: dec('0.25') });
    expect(await r.safe.checkStuck(T0 + 60_000)).toEqual([]); // not longer than the timeout yet
    const actions = await r.safe.checkStuck(T0 + 60_001);
    expect(actions.map((a) => [a.clientOrderId, a.action])).toEqual([['G1E', 'cancelled']]);
    expect(r.venue.orders.get('G1E')?.status).toBe('cancelled');
    expect(r.venue.orders.get('G1T1')?.status).toBe('new');
    expect(r.updates.at(-1)).toMatchObject({ clientOrderId: 'G1E', status: 'cancelled' });
  });

  it("policy 'replace': cancel and re-place the rest at the best bid as <id>R1; its fills reach the executor under the original id", async () => {
    const r = rig({ stuckOrderPolicy: 'replace' });
    await r.safe.submit(buyLimit('G2E', 100, '0.19'));
    r.clock.advance(10_000);
    r.venue.fillResting('G2E', dec(40), dec('0.19'));
    r.venue.setBook(DOGE, 0.195, 0.196);
    r.clock.advance(60_000);
    expect(await r.safe.checkStuck(r.clock.now())).toEqual([]); // 60 s since the last fill: not yet
    r.clock.advance(1);
    const [action] = await r.safe.checkStuck(r.clock.now());
    expect(action).toMatchObject({ clientOrderId: 'G2E', action: 'replaced', replacementId: 'G2ER1' });
    expect(r.venue.orders.get('G2E')).toMatchObject({ status: 'cancelled', filledQuantity: dec(40) });
    const repl = r.venue.createCalls.at(-1)!.req;
    expect(repl).toMatchObject({ clientOrderId: 'G2ER1', side: 'buy', type: 'limit' });
    expect(repl.quantity?.toString()).toBe('60');
    expect(repl.price?.toString()).toBe('0.195');
    r.venue.fillResting('G2ER1', dec(60), dec('0.195'));
    // One order as far as the executor can tell: no 'cancelled' in between, fills under G2E.
    expect(r.log).toEqual(['new G2E 0', 'fill G2E 40', 'partially_filled G2E 40', 'fill G2E 60', 'filled G2E 100']);
    expect(r.safe.stats().stuckReplaced).toBe(1);
  });

  it('sweepOpen follows a replaced order to its live leg: a fill of the leg the stream missed reaches the executor under the original id', async () => {
    const r = rig({ stuckOrderPolicy: 'replace' });
    await r.safe.submit(buyLimit('G4E', 100, '0.19'));
    r.venue.setBook(DOGE, 0.195, 0.196);
    r.clock.advance(60_001);
    expect((await r.safe.checkStuck(r.clock.now()))[0]).toMatchObject({ action: 'replaced', replacementId: 'G4ER1' });
    r.venue.streamConnected = false;
    r.venue.fillResting('G4ER1', dec(100), dec('0.195'));
    r.venue.streamConnected = true;
    expect(await r.safe.sweepOpen()).toEqual({ checked: 1, reconciled: 1, delivered: 1, failed: [] });
    expect(r.log).toEqual(['new G4E 0', 'fill G4E 100', 'filled G4E 100']);
  });

  it("the executor's cancel of a replaced order cancels the live replacement", async () => {
    const r = rig({ stuckOrderPolicy: 'replace' });
    await r.safe.submit(buyLimit('G3E', 100, '0.19'));
    r.venue.setBook(DOGE, 0.195, 0.196);
    await r.safe.checkStuck(T0 + 60_001);
    const ack = await r.safe.cancel(DOGE, 'G3E');
    expect(ack.status).toBe('cancelled');
    expect(r.venue.orders.get('G3ER1')?.status).toBe('cancelled');
    expect(r.log).toEqual(['new G3E 0', 'cancelled G3E 0']);
  });

  it('replacement ids stay within 32 characters', () => {
    expect(replacementClientOrderId('P1E', 1)).toBe('P1ER1');
    const long = replacementClientOrderId('DOGEUSDT-long-1735689600000E', 2);
    expect(long.length).toBeLessThanOrEqual(32);
    expect(long.endsWith('R2')).toBe(true);
    expect(long).not.toBe(replacementClientOrderId('DOGEUSDT-long-1735689660000E', 2));
  });
});

describe('emergencyClose', () => {
  it('a market sell closes everything: 1000 at the bid 0.2', async () => {
    const r = rig();
    const rep = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG1');
    expect(rep.closed).toBe(true);
    expect(rep.sold.toString()).toBe('1000');
    expect(rep.proceeds.toString()).toBe('200');
    expect(rep.averagePrice?.toString()).toBe('0.2');
    expect(rep.steps.map((s) => [s.kind, s.part, s.clientOrderId, s.outcome])).toEqual([['market', 'full', 'EMG1X1', 'filled']]);
    expect(r.venue.createCalls).toHaveLength(1);
  });

  it('market orders disabled (30051): an IOC limit at bid x 0.98 rounded down to the tick (0.2345 -> 0.2298)', async () => {
    const r = rig();
    r.venue.setBook(DOGE, 0.2345, 0.2346);
    r.venue.failNext('createOrder', 1, () => new ExchangeRequestError('MEXC HTTP 400 code 30051: api market order is disabled', { httpStatus: 400, code: 30051 }));
    const rep = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG2');
    const second = r.venue.createCalls[1]!.req;
    expect(second.type).toBe('ioc');
    // 0.2345 x 0.98 = 0.22981 -> 0.2298
    expect(second.price?.toString()).toBe('0.2298');
    expect(second.quantity?.toString()).toBe('1000');
    expect(rep.steps.map((s) => [s.kind, s.outcome])).toEqual([
      ['market', 'rejected'],
      ['aggressive_limit', 'filled'],
    ]);
    expect(rep.steps[0]!.detail).toMatch(/^ExchangeRequestError: .*30051/);
    // The fake fills the marketable IOC at the bid.
    expect(rep.sold.toString()).toBe('1000');
    expect(rep.averagePrice?.toString()).toBe('0.2345');
    expect(rep.closed).toBe(true);
  });

  it('a market sell that leaves a remainder (thin book): the rest goes by aggressive limit', async () => {
    const r = rig();
    r.venue.depth = dec(600);
    const rep = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG3');
    expect(rep.steps.map((s) => [s.kind, s.quantity.toString(), s.filled.toString(), s.outcome])).toEqual([
      ['market', '1000', '600', 'partial'],
      ['aggressive_limit', '400', '400', 'filled'],
    ]);
    expect(rep.sold.toString()).toBe('1000');
  });

  it('full-size orders refused (above the maximum amount): closed in thirds 333 / 333 / 334; a second call with the same tag sells nothing', async () => {
    const r = rig();
    r.venue.rejectIf = (req) => (req.quantity !== undefined && req.quantity.gt(dec(400)) ? new InvalidOrderError('MEXC HTTP 400 code 30003: above the maximum amount', { code: 30003 }) : undefined);
    const rep = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG4');
    expect(rep.steps.map((s) => [s.kind, s.part, s.clientOrderId, s.quantity.toString(), s.outcome])).toEqual([
      ['market', 'full', 'EMG4X1', '1000', 'rejected'],
      ['aggressive_limit', 'full', 'EMG4X2', '1000', 'rejected'],
      ['market', 'third_1', 'EMG4X3', '333', 'filled'],
      ['market', 'third_2', 'EMG4X5', '333', 'filled'],
      ['market', 'third_3', 'EMG4X7', '334', 'filled'],
    ]);
    expect(rep).toMatchObject({ closed: true });
    expect(rep.sold.toString()).toBe('1000');
    expect(rep.proceeds.toString()).toBe('200');
    const sends = r.venue.createCalls.length;

    const again = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG4');
    expect(r.venue.createCalls).toHaveLength(sends);
    expect(again.alreadySold.toString()).toBe('1000');
    expect(again.sold.toString()).toBe('0');
    expect(again.closed).toBe(true);

    // Another process (a fresh SafeExchange, e.g. the emergency-stop Lambda) finds the orders too.
    const other = new SafeExchange(r.venue, { now: r.clock.now, sleep: r.clock.sleep, random: () => 0 });
    const third = await emergencyClose(other, DOGE, dec(1000), 'EMG4');
    expect(r.venue.createCalls).toHaveLength(sends);
    expect(third.alreadySold.toString()).toBe('1000');
  });

  it('a close interrupted midway and called again with the same tag sells only the rest, under the ids not used yet', async () => {
    const r = rig();
    r.venue.depth = dec(600);
    // Everything after the first order is refused, so the first call ends with 400 unsold.
    r.venue.rejectIf = () => (r.venue.createCalls.length > 1 ? new InvalidOrderError('code 30087: price outside the allowed range', { code: 30087 }) : undefined);
    const first = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG7');
    expect(first.sold.toString()).toBe('600');
    expect(first.remainder.toString()).toBe('400');
    expect(first.closed).toBe(false);
    const sends = r.venue.createCalls.length;
    r.venue.rejectIf = undefined;
    r.venue.depth = undefined;
    const second = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG7');
    // EMG7X1 (the market order that sold 600) is on the venue: not sent again; the rest goes as EMG7X2.
    expect(r.venue.createCalls.slice(sends).map((c) => [c.req.clientOrderId, c.req.type, c.req.quantity?.toString()])).toEqual([['EMG7X2', 'ioc', '400']]);
    expect(second.alreadySold.toString()).toBe('600');
    expect(second.sold.toString()).toBe('400');
    expect(second.closed).toBe(true);
  });

  it('a remainder below the minimum notional is dust: reported, not sent', async () => {
    const r = rig();
    // 4 DOGE x 0.2 = 0.8 USDT < 1 USDT
    const rep = await emergencyClose(r.safe, DOGE, dec(4), 'EMG5');
    expect(r.venue.createCalls).toHaveLength(0);
    expect(rep).toMatchObject({ closed: true, remainderIsDust: true });
    expect(rep.remainder.toString()).toBe('4');
  });

  it('if earlier orders cannot be verified, nothing is sent', async () => {
    const r = rig({ maxAttempts: 1 });
    r.venue.failNext('fetchOrderByClientId', 1, () => new ExchangeServerError('HTTP 500', { httpStatus: 500 }));
    const rep = await emergencyClose(r.safe, DOGE, dec(1000), 'EMG6');
    expect(r.venue.createCalls).toHaveLength(0);
    expect(rep.aborted).toMatch(/ExchangeServerError/);
    expect(rep.closed).toBe(false);
  });
});

describe('tracking', () => {
  it('an illegal transition (a fill above the order quantity) is counted and reported, not thrown; the fill still reaches the books', async () => {
    const r = rig();
    await r.safe.submit(buyLimit('H1E', 100, '0.19'));
    const fill = { ...r.venue.fillResting('H1E', dec(100), dec('0.19')), tradeId: 'extra', quantity: dec(50) };
    expect(() => r.safe.onVenueEvent({ type: 'fill', fill, receivedAt: r.clock.now() })).not.toThrow();
    expect(r.safe.stats().illegalTransitions).toBe(1);
    expect(r.events.some((e) => e.type === 'illegal_transition' && e.clientOrderId === 'H1E' && e.event === 'fill')).toBe(true);
    expect(r.fills.map((f) => f.quantity.toString())).toEqual(['100', '50']);
  });

  it('tracked orders are bounded: the oldest ended order is forgotten; with none ended, a new order is refused', async () => {
    const r = rig({ maxTrackedOrders: 2 });
    await r.safe.submit(buyMarket('H2E', 100)); // fills at once: ended
    await r.safe.submit(buyLimit('H3E', 100, '0.19')); // rests
    expect((await r.safe.submit(buyLimit('H4E', 100, '0.19'))).status).toBe('new'); // H2E forgotten
    expect(r.safe.stats().trackedOrders).toBe(2);
    const refused = await r.safe.submit(buyLimit('H5E', 100, '0.19'));
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toMatch(/^InvalidStateError: .*maxTrackedOrders/);
    expect(r.venue.createCount('H5E')).toBe(0);
  });

  it('a cancel that arrives while the submit is still resolving an unknown outcome waits for it, then cancels what it placed', async () => {
    const r = rig();
    r.venue.failNext('createOrder', 1, () => new ExchangeServerError('HTTP 504', { httpStatus: 504 }));
    const submitting = r.safe.submit(buyLimit('H6E', 100, '0.19'));
    const cancelling = r.safe.cancel(DOGE, 'H6E');
    const [ack, cancelAck] = await Promise.all([submitting, cancelling]);
    expect(ack.status).toBe('new');
    expect(cancelAck.status).toBe('cancelled');
    expect(r.venue.orders.get('H6E')?.status).toBe('cancelled');
    expect(r.safe.stats().illegalTransitions).toBe(0);
  });
});

describe('config mapping', () => {
  it('the config defaults map to the SafeExchange defaults', () => {
    const o = safeExchangeOptionsFromConfig(parseConfig({}).execution);
    expect(o).toEqual(DEFAULT_SAFE_EXCHANGE_OPTIONS);
    expect(o.rateLimit).toEqual({ ratePerSecond: 5, burst: 20 });
    expect(o.maxAttempts).toBe(5);
  });

  it('overrides reach the options', () => {
    const o = safeExchangeOptionsFromConfig(
      parseConfig({ execution: { rateLimit: { ordersPerSecond: 2, burst: 4 }, stuckOrders: { policy: 'replace', timeoutMs: 0 }, emergency: { throughBookPct: 3 } } }).execution,
    );
    expect(o).toMatchObject({ rateLimit: { ratePerSecond: 2, burst: 4 }, stuckOrderPolicy: 'replace', stuckOrderTimeoutMs: 0, emergencyThroughPct: 3 });
  });
});

describe('the real Executor over SafeExchange over the fake venue', () => {
  it('entry -> first target -> exit: one order per client id, fills booked once, PnL by hand', async () => {
    const r = rig();
    r.venue.setBook(BTC, 100, 100.2);
    const gate: RiskGate = { evaluate: (p) => ({ kind: 'approved', quantity: dec(10), notional: dec(10).mul(p.entryPrice), riskAmount: Dec.ZERO, adjustments: [] }) };
    const portfolio = new Portfolio('USDT', dec(10_000));
    const executor = new Executor(r.safe, portfolio, gate, { entryOrderType: 'market', limitEntryTimeoutMs: 180_000 });
    const events: ExecutorEvent[] = [];
    executor.on((e) => events.push(e));
    const intent: EnterIntent = {
      kind: 'enter',
      id: 'P1',
      symbol: BTC,
      direction: 'long',
      time: T0,
      price: 100,
      stop: 99,
      targets: [
        { label: 'primary', price: 101, fraction: 0.33 },
        { label: 'secondary', price: 102, fraction: 0.33 },
        { label: 'aggressive', price: 103, fraction: 0.34 },
      ],
      level: { price: 99.5, touches: 3, sources: ['extrema'] },
      oppositeLevel: null,
      reasons: ['test'],
      expiresAt: T0 + 240 * 60_000,
    };
    await executor.handle([intent], T0);
    // The targets are sent fire-and-forget by the executor: let them land.
    for (let i = 0; i < 10 && r.venue.orders.size < 4; i++) await new Promise((res) => setImmediate(res));
    expect(events.find((e) => e.type === 'position_opened')).toMatchObject({ price: dec('100.2'), quantity: dec(10) });
    expect([...r.venue.orders.values()].map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([
      ['P1E', '10', undefined],
      ['P1T1', '3.3', '101'],
      ['P1T2', '3.3', '102'],
      ['P1T3', '3.4', '103'],
    ]);
    r.venue.fillResting('P1T1', dec('3.3'), dec(101));
    // The first target's fill shows up again through REST reconciliation: booked once.
    await r.safe.reconcileOrder(BTC, 'P1T1');
    r.venue.setBook(BTC, 101.5, 101.6);
    await executor.handle([{ kind: 'exit', id: 'P1-exit', symbol: BTC, positionId: 'P1', time: T0 + 60_000, reason: 'time', detail: 'test' }], T0 + 60_000);
    const closed = events.flatMap((e) => (e.type === 'position_closed' ? [e.trade] : []));
    expect(closed).toHaveLength(1);
    const t = closed[0]!;
    // Entry 10 x 100.2 = 1002, fee 0.501. Target 3.3 x 101 = 333.3 (maker, no fee). Exit 6.7 x 101.5
    // = 680.05, fee 0.340025. Gross 333.3 + 680.05 - 1002 = 11.35; fees 0.841025; net 10.508975.
    expect(t.entryPrice.toString()).toBe('100.2');
    expect(t.exitPrice.toString()).toBe('101.335');
    expect(t.grossPnl.toString()).toBe('11.35');
    expect(t.fees.toString()).toBe('0.841025');
    expect(t.netPnl.toString()).toBe('10.508975');
    expect(t.exits).toBe(2);
    expect(portfolio.cash.toString()).toBe('10010.508975');
    expect(r.venue.orders.get('P1T2')?.status).toBe('cancelled');
    expect(r.venue.orders.get('P1T3')?.status).toBe('cancelled');
    // Each client id was sent exactly once.
    expect(r.venue.createCalls.map((c) => c.req.clientOrderId)).toEqual(['P1E', 'P1T1', 'P1T2', 'P1T3', 'P1X1']);
    expect(executor.openCount).toBe(0);
    expect(r.safe.stats().illegalTransitions).toBe(0);
  });
});
