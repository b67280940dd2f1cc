/**
 * The paper venue on real data: a ReplayMarketData of the BTCUSDT fixture (2021-04-18 22:07 UTC on,
 * tick 0.01 and lot step 0.000001 as inferred from the file) feeding the matching engine.
 *
 * The first candles (open, high, low, close, volume), which the hand computations below use:
 *   0: 56378.62 56458.25 56373.1  56377.8  45.942988
 *   1: 56377.8  56412.62 56323.44 56326.95 33.431738
 *   2: 56326.95 56399.99 56326.92 56392.79 30.670298
 *   3: 56392.79 56392.8  56250    56251.64 32.244537
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import {
  ExchangeError,
  ExchangeRequestError,
  InsufficientBalanceError,
  InvalidOrderError,
  OrderNotFoundError,
  SymbolNotTradableError,
} from '../../services/execution/exchangeErrors.js';
import { PaperVenue } from '../../services/paper/paperVenue.js';
import { ReplayMarketData } from '../../services/paper/publicData.js';
import { SimMatchingEngine, DEFAULT_ENGINE_OPTIONS } from '../../services/sim/matchingEngine.js';
import type { SimMarketSpec } from '../../services/sim/types.js';
import type { VenueEvent, VenueOrderRequest } from '../../services/venue/types.js';

const BTC = symbolId('BTCUSDT');
const { candles } = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz');
const T0 = (candles[0] as Candle).openTime;
const MIN = 60_000;

function setup(opts: { usdt?: string; overrides?: Record<string, Partial<Omit<SimMarketSpec, 'symbol'>>>; engine?: SimMatchingEngine; account?: string } = {}) {
  const data = new ReplayMarketData([{ symbol: BTC, candles }]);
  const venue = new PaperVenue({
    publicData: data,
    deposits: { USDT: dec(opts.usdt ?? '10000') },
    now: () => data.time ?? T0,
    ...(opts.overrides ? { marketOverrides: opts.overrides } : {}),
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.account ? { account: opts.account } : {}),
  });
  return { data, venue };
}

async function balances(venue: PaperVenue): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const b of await venue.fetchBalances()) out[b.asset] = `${b.free.toString()}/${b.locked.toString()}`;
  return out;
}

async function failure(p: Promise<unknown>): Promise<ExchangeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ExchangeError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('PaperVenue on a replay of real BTCUSDT candles', () => {
  it('round trip: market buy, a resting sell that fills when the replay trades through it, exact balances and private events', async () => {
    const { data, venue } = setup();
    const markets = await venue.loadMarkets();
    const m = markets.get(BTC);
    expect([m?.tickSize.toString(), m?.stepSize.toString(), m?.minNotional.toString(), m?.takerFeePct, m?.tradable]).toEqual(['0.01', '0.000001', '1', 0.05, true]);
    const events: VenueEvent[] = [];
    const handle = await venue.stream(
      [{ kind: 'kline', symbol: BTC, interval: '1m' }, { kind: 'trades', symbol: BTC }, { kind: 'orders' }, { kind: 'fills' }, { kind: 'balances' }],
      (e) => events.push(e),
    );
    data.advanceTo(T0 + MIN); // candle 0 played and closed
    expect(events.filter((e) => e.type === 'kline' && e.closed)).toHaveLength(1);

    const buy = await venue.createOrder({ clientOrderId: 'b1', symbol: BTC, side: 'buy', type: 'market', quantity: dec('0.01') });
    // Ask = close 56,377.8 + one tick = 56,377.81. Recent volume = candle 0's four trades = 45.942988;
    // 0.01 of it = 0.0217661% -> 2 + 0.5 x 0.0217661 = 2.0108831 bps; 56,377.81 x 1.00020108831 =
    // 56,389.14692 -> up to 56,389.15. Cost 563.8915, fee 0.05% = 0.28194575.
    expect([buy.status, buy.filledQuote.toString()]).toEqual(['filled', '563.8915']);
    expect(await balances(venue)).toEqual({ USDT: '9435.82655425/0', BTC: '0.01/0' });

    const sell = await venue.createOrder({ clientOrderId: 's1', symbol: BTC, side: 'sell', type: 'limit', quantity: dec('0.01'), price: dec('56410') });
    expect(sell.status).toBe('new');
    expect(await balances(venue)).toEqual({ USDT: '9435.82655425/0', BTC: '0/0.01' });

    data.advanceTo(T0 + MIN + 39_999); // candle 1 open and low: not above 56,410
    expect((await venue.fetchOrderByClientId(BTC, 's1'))?.status).toBe('new');
    data.advanceTo(T0 + MIN + 40_000); // candle 1 high 56,412.62 > 56,410; 10% of 33.431738 / 4 = 0.8358 >= 0.01
    const filled = await venue.fetchOrderByClientId(BTC, 's1');
    expect([filled?.status, filled?.filledQuote.toString()]).toEqual(['filled', '564.1']);
    // Maker fee 0: USDT 9,435.82655425 + 0.01 x 56,410 = 9,999.92655425 (a round trip cost 0.07344575).
    expect(await balances(venue)).toEqual({ USDT: '9999.92655425/0', BTC: '0/0' });

    const fills = await venue.fetchMyTrades(BTC);
    expect(fills.map((f) => [f.clientOrderId, f.side, f.price.toString(), f.quantity.toString(), f.fee.toString(), f.liquidity, f.time])).toEqual([
      ['b1', 'buy', '56389.15', '0.01', '0.28194575', 'taker', T0 + MIN],
      ['s1', 'sell', '56410', '0.01', '0', 'maker', T0 + MIN + 40_000],
    ]);

    // Private events: each order's life, both fills once, stamped with the venue's clock.
    const own = events.filter((e) => e.type === 'order').map((e) => (e.type === 'order' ? `${e.order.clientOrderId} ${e.order.status}` : ''));
    expect(own).toEqual(['b1 new', 'b1 filled', 's1 new', 's1 filled']);
    const fillEvents = events.filter((e): e is Extract<VenueEvent, { type: 'fill' }> => e.type === 'fill');
    expect(fillEvents.map((e) => [e.fill.tradeId, e.receivedAt])).toEqual([
      [fills[0]?.tradeId, T0 + MIN],
      [fills[1]?.tradeId, T0 + MIN + 40_000],
    ]);
    expect(events.some((e) => e.type === 'balance' && e.balance.asset === 'USDT' && e.balance.free.eq(dec('9999.92655425')))).toBe(true);
    // The fill came before the public trade that caused it (the engine is fed first).
    const fillAt = events.findIndex((e) => e.type === 'fill' && e.fill.clientOrderId === 's1');
    const tradeAt = events.findIndex((e) => e.type === 'trade' && e.trade.time === T0 + MIN + 40_000);
    expect(fillAt).toBeGreaterThanOrEqual(0);
    expect(fillAt).toBeLessThan(tradeAt);
    expect(events.every((e) => e.type !== 'trade' || e.receivedAt === e.trade.time)).toBe(true);
    expect(handle.stats().frames).toBe(events.length);
    // Closing the venue ends its streams and closes the source.
    await venue.close();
    const before = events.length;
    data.advanceTo(T0 + 2 * MIN);
    expect(events).toHaveLength(before);
    await expect(data.stream([{ kind: 'trades', symbol: BTC }], () => undefined)).rejects.toBeInstanceOf(ExchangeRequestError);
  });

  it('maps every engine refusal to the ExchangeError class MEXC answers give', async () => {
    const { data, venue } = setup();
    await venue.loadMarkets();
    // No data yet: a market order cannot be priced (30010, "no valid trade price").
    const early = await failure(venue.createOrder({ clientOrderId: 'e', symbol: BTC, side: 'buy', type: 'market', quantity: dec('0.01') }));
    expect([early.constructor, early.code]).toEqual([InvalidOrderError, 30010]);
    data.advanceTo(T0 + MIN);
    const req = (r: Partial<VenueOrderRequest> & { clientOrderId: string }): VenueOrderRequest => ({ symbol: BTC, side: 'buy', type: 'limit', quantity: dec('0.01'), price: dec('56000'), ...r });
    const cases: [VenueOrderRequest, unknown, number][] = [
      [req({ clientOrderId: 'u', symbol: symbolId('ETHUSDT') }), SymbolNotTradableError, 10007],
      // 0.00001 x 56,000 = 0.56 < 1 USDT.
      [req({ clientOrderId: 'n', quantity: dec('0.00001') }), InvalidOrderError, 30002],
      [req({ clientOrderId: 'd', price: dec('56000.001') }), InvalidOrderError, 10096],
      // 1 x 56,000 + fee > 10,000 USDT.
      [req({ clientOrderId: 'i', quantity: dec('1') }), InsufficientBalanceError, 10101],
      // Selling BTC the account does not have.
      [req({ clientOrderId: 'i2', side: 'sell', price: dec('57000') }), InsufficientBalanceError, 10101],
      // Post-only at the ask (56,377.81) would take.
      [req({ clientOrderId: 'p', type: 'post_only', price: dec('56377.81') }), InvalidOrderError, 30041],
      [req({ clientOrderId: 'q', quantity: undefined }), ExchangeRequestError, 700004],
    ];
    for (const [r, cls, code] of cases) {
      const err = await failure(venue.createOrder(r));
      expect([r.clientOrderId, err.constructor, err.code, err.retryable]).toEqual([r.clientOrderId, cls, code, false]);
    }
    await venue.createOrder(req({ clientOrderId: 'ok' }));
    const dup = await failure(venue.createOrder(req({ clientOrderId: 'ok', price: dec('55000') })));
    expect([dup.constructor, dup.code]).toEqual([ExchangeRequestError, 30011]);
    const missing = await failure(venue.cancelOrder(BTC, 'never'));
    expect([missing.constructor, missing.code]).toEqual([OrderNotFoundError, -2011]);
    expect((await venue.cancelOrder(BTC, 'ok')).status).toBe('cancelled');
    expect(await failure(venue.cancelOrder(BTC, 'ok'))).toBeInstanceOf(OrderNotFoundError);
    expect(await venue.fetchOrderByClientId(BTC, 'never')).toBeUndefined();
    expect(() => venue.market(symbolId('ETHUSDT'))).toThrow(SymbolNotTradableError);
    await venue.close();
  });

  it('market overrides: a paused market is listed as not tradable and refuses orders; a maximum value gives 30003', async () => {
    const paused = setup({ overrides: { BTCUSDT: { status: 'paused' } } });
    await paused.venue.loadMarkets();
    expect(paused.venue.market(BTC).tradable).toBe(false);
    paused.data.advanceTo(T0 + MIN);
    const err = await failure(paused.venue.createOrder({ clientOrderId: 'x', symbol: BTC, side: 'buy', type: 'limit', quantity: dec('0.01'), price: dec('56000') }));
    expect([err.constructor, err.code]).toEqual([SymbolNotTradableError, 30016]);
    const capped = setup({ overrides: { BTCUSDT: { maxNotional: dec(500) } } });
    await capped.venue.loadMarkets();
    capped.data.advanceTo(T0 + MIN);
    // 0.01 x 56,000 = 560 > 500.
    const big = await failure(capped.venue.createOrder({ clientOrderId: 'y', symbol: BTC, side: 'buy', type: 'limit', quantity: dec('0.01'), price: dec('56000') }));
    expect([big.constructor, big.code]).toEqual([InvalidOrderError, 30003]);
  });

  it('without a stream, a first order is priced from the source book; accounts sharing an engine only see their own events', async () => {
    const engine = new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS);
    const a = setup({ engine, account: 'a' });
    const b = setup({ engine, account: 'b' });
    await a.venue.loadMarkets();
    await b.venue.loadMarkets();
    const seenByA: VenueEvent[] = [];
    await a.venue.stream([{ kind: 'fills' }, { kind: 'orders' }], (e) => seenByA.push(e));
    b.data.advanceTo(T0 + MIN);
    // b's engine had no data: the book (56,377.79 / 56,377.81) is fetched from its source. No
    // recent trade reached the engine: 100% of volume -> 52 bps; 56,377.81 x 1.0052 = 56,670.97461 -> 56,670.98.
    const o = await b.venue.createOrder({ clientOrderId: 'k', symbol: BTC, side: 'buy', type: 'market', quantity: dec('0.001') });
    expect(o.filledQuote.toString()).toBe('56.67098');
    expect(seenByA).toEqual([]);
    expect(await a.venue.fetchOpenOrders()).toEqual([]);
    expect((await b.venue.fetchMyTrades(BTC)).map((f) => f.price.toString())).toEqual(['56670.98']);
  });
});

describe('ReplayMarketData answers from what it has replayed', () => {
  it('klines (1m with the current candle, 5m aggregated on epoch buckets), 24h ticker, book top', async () => {
    const data = new ReplayMarketData([{ symbol: BTC, candles }]);
    expect(await data.fetchKlines(BTC, '1m')).toEqual([]);
    await expect(data.fetchBookTop(BTC)).rejects.toBeInstanceOf(ExchangeRequestError);
    data.advanceTo(T0 + 3 * MIN + 20_000); // candles 0-2 closed; candle 3 at its low (second path point)
    const k1 = await data.fetchKlines(BTC, '1m');
    expect(k1.slice(0, 3)).toEqual(candles.slice(0, 3));
    // Candle 3 so far: open 56,392.79, low 56,250 reached, close 56,250, half its volume.
    expect(k1[3]).toEqual({ openTime: T0 + 3 * MIN, open: 56392.79, high: 56392.79, low: 56250, close: 56250, volume: 32.244537 / 2 });
    expect((await data.fetchKlines(BTC, '1m', T0 + MIN, 2)).map((c) => c.openTime)).toEqual([T0 + MIN, T0 + 2 * MIN]);
    expect((await data.fetchKlines(BTC, '1m', undefined, 2)).map((c) => c.openTime)).toEqual([T0 + 2 * MIN, T0 + 3 * MIN]);
    // T0 is 22:07 UTC, two minutes into its 5m bucket: candles 0-2 make the 22:05 bucket, candle 3 starts 22:10.
    const k5 = await data.fetchKlines(BTC, '5m');
    expect(k5.map((c) => [c.openTime, c.open, c.high, c.low, c.close])).toEqual([
      [T0 - 2 * MIN, 56378.62, 56458.25, 56323.44, 56392.79],
      [T0 + 3 * MIN, 56392.79, 56392.79, 56250, 56250],
    ]);
    expect(k5[0]?.volume).toBeCloseTo(45.942988 + 33.431738 + 30.670298, 9);
    const [t] = await data.fetchTickers24h();
    expect([t?.symbol, t?.last, t?.open, t?.high, t?.low, t?.bid, t?.ask, t?.time]).toEqual([BTC, 56250, 56378.62, 56458.25, 56250, 56249.99, 56250.01, T0 + 3 * MIN + 20_000]);
    expect(t?.volume).toBeCloseTo(45.942988 + 33.431738 + 30.670298 + 32.244537 / 2, 9);
    expect(await data.fetchBookTop(BTC)).toEqual({ time: T0 + 3 * MIN + 20_000, bid: 56249.99, bidSize: 32.244537 / 4, ask: 56250.01, askSize: 32.244537 / 4 });
  });

  it('streams only what was asked, refuses private and non-1m streams, and plays on a timer at the given speed', async () => {
    const data = new ReplayMarketData([{ symbol: BTC, candles: candles.slice(0, 2) }]);
    await expect(data.stream([{ kind: 'orders' }], () => undefined)).rejects.toBeInstanceOf(ExchangeRequestError);
    await expect(data.stream([{ kind: 'kline', symbol: BTC, interval: '5m' }], () => undefined)).rejects.toBeInstanceOf(ExchangeRequestError);
    const books: number[] = [];
    const h = await data.stream([{ kind: 'book', symbol: BTC }], (e) => books.push(e.receivedAt));
    // A fake timer: records the delays and runs callbacks when the test says so.
    const timers: { fn: () => void; ms: number }[] = [];
    const stop = data.play(1000, (fn, ms) => timers.push({ fn, ms }));
    const run = () => (timers.shift() as { fn: () => void }).fn();
    run(); // first step: the +1 s point
    run(); // +20 s
    expect(books).toEqual([T0 + 1000, T0 + 20_000]);
    // Delays: 0 to start, 19 ms ((20 s - 1 s) / 1000, used by the second run), now 20 ms ((40 s - 20 s) / 1000).
    expect(timers.map((t) => t.ms)).toEqual([20]);
    stop();
    run();
    expect(books).toHaveLength(2);
    expect(h.stats().frames).toBe(2);
    await h.close();
  });
});
