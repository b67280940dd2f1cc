/**
 * The ccxt MEXC venue against the project's MEXC simulator over loopback: real ccxt, real HTTP,
 * MEXC's signatures and reply shapes.
 *
 * Markets (worked out by hand from the fixtures and the overrides below):
 * - BTCUSDT from the 2021 BTC slice: prices have 2 decimals → tick 0.01; volumes 6 → step 0.000001;
 *   minimum quantity one step, minimum notional 1 USDT, fees 0% maker / 0.05% taker.
 * - PEPEUSDT from the 2026 PEPE slice: prices have 9 decimals → tick 0.000000001; volumes are whole
 *   → step 1; overrides: minimum notional 5 USDT, maximum 50,000, taker 0.1%.
 * - XAPIUSDT: listed but not API-tradable (absent from /api/v3/defaultSymbols).
 * - PAUSEUSDT: paused (status "2"); OFFUSDT: offline (status "3", tradeSideType 4).
 * The simulator's engine runs without slippage or impact, so fills are at the book exactly.
 */
import { resolve } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import {
  AuthenticationError,
  ExchangeRequestError,
  ExchangeServerError,
  InvalidOrderError,
  OrderNotFoundError,
  RateLimitError,
  SymbolNotTradableError,
  TimeoutError,
  isUnknownOutcome,
} from '../../services/execution/exchangeErrors.js';
import { SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import type { SimMarketSpec } from '../../services/sim/types.js';
import type { Balance, VenueEvent } from '../../services/venue/types.js';

const FIX = resolve(import.meta.dirname, '../fixtures/candles');
const BTC = symbolId('BTCUSDT');
const PEPE = symbolId('PEPEUSDT');
const XAPI = symbolId('XAPIUSDT');
const PAUSE = symbolId('PAUSEUSDT');
const OFF = symbolId('OFFUSDT');
const KEY = 'sim-key-a';
const SECRET = 'sim-secret-a-0123456789abcdef0123456789';
const d = (s: string): Dec => Dec.from(s);

let btcCandles: Candle[];
let pepeCandles: Candle[];
let markets: SimMarketSpec[];

beforeAll(() => {
  btcCandles = loadCandleFile(resolve(FIX, 'BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz')).candles;
  pepeCandles = loadCandleFile(resolve(FIX, 'PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz')).candles;
  markets = [
    simMarketFromCandles(BTC, btcCandles),
    simMarketFromCandles(PEPE, pepeCandles, { minNotional: d('5'), maxNotional: d('50000'), takerFeePct: 0.1 }),
    simMarketFromCandles(XAPI, btcCandles, { apiTradable: false }),
    simMarketFromCandles(PAUSE, btcCandles, { status: 'paused' }),
    simMarketFromCandles(OFF, btcCandles, { status: 'offline' }),
  ];
});

let server: SimServer;
let venue: CcxtMexcVenue;
const extraVenues: CcxtMexcVenue[] = [];
let warnings: string[];
/** The first ten BTC candles, pushed as closed klines. */
let pushed: Candle[];
let bookTime: number;

function makeVenue(overrides: { secret?: string; timeoutMs?: number } = {}): CcxtMexcVenue {
  return new CcxtMexcVenue({
    apiKey: KEY,
    secret: overrides.secret ?? SECRET,
    restUrl: server.restUrl,
    wsUrl: server.wsUrl,
    ...(overrides.timeoutMs !== undefined ? { timeoutMs: overrides.timeoutMs } : {}),
    // ccxt's throttle of MEXC's weights would make every test wait seconds; the simulator needs none.
    enableRateLimit: false,
    onWarning: (m) => warnings.push(m),
  });
}

beforeEach(async () => {
  warnings = [];
  server = await startSimServer({
    markets,
    accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: d('10000'), BTC: d('1'), PEPE: d('10000000') } }],
    engine: new SimMatchingEngine({ slippageBps: 0, impactBpsPerPctVolume: 0, participationPct: 10 }),
  });
  pushed = btcCandles.slice(0, 10);
  for (const c of pushed) server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: c, closed: true, time: c.openTime + 60_000 });
  bookTime = pushed[pushed.length - 1]!.openTime + 60_000;
  server.pushMarketData({ type: 'book', symbol: BTC, book: { time: bookTime, bid: 56000, bidSize: 2, ask: 56001, askSize: 3 } });
  venue = makeVenue();
  await venue.loadMarkets();
});

afterEach(async () => {
  for (const v of extraVenues.splice(0)) await v.close();
  await venue.close();
  await server.close();
});

/** Waits (bounded, polling) until `pred` holds; throws naming `what` when it never does. */
async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!pred()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function bal(list: Balance[], asset: string): Balance {
  const b = list.find((x) => x.asset === asset);
  if (!b) throw new Error(`no ${asset} balance`);
  return b;
}

describe('markets', () => {
  it('is named mexc-sim for a local server and mexc otherwise', () => {
    expect(venue.name).toBe('mexc-sim');
    const real = new CcxtMexcVenue({});
    expect(real.name).toBe('mexc');
    void real.close();
  });

  it('lists BTCUSDT and PEPEUSDT with exact tick, step, minimums, maximum and fee percents', () => {
    const b = venue.market(BTC);
    expect(b.base).toBe('BTC');
    expect(b.quote).toBe('USDT');
    expect(b.tickSize.toString()).toBe('0.01');
    expect(b.stepSize.toString()).toBe('0.000001');
    expect(b.minQuantity.toString()).toBe('0.000001');
    expect(b.minNotional.toString()).toBe('1');
    expect(b.makerFeePct).toBe(0);
    expect(b.takerFeePct).toBe(0.05);
    expect(b.tradable).toBe(true);
    expect(b.notTradableReason).toBeUndefined();
    const p = venue.market(PEPE);
    expect(p.tickSize.toString()).toBe('0.000000001');
    expect(p.stepSize.toString()).toBe('1');
    expect(p.minQuantity.toString()).toBe('1');
    expect(p.minNotional.toString()).toBe('5');
    expect(p.maxNotional?.toString()).toBe('50000');
    expect(p.takerFeePct).toBe(0.1);
    // The raw exchangeInfo entry is kept.
    expect(p.info['symbol']).toBe('PEPEUSDT');
    expect(p.info['quoteAssetPrecision']).toBe(9);
  });

  it('flags markets the API cannot trade, each with its reason', () => {
    const x = venue.market(XAPI);
    expect(x.tradable).toBe(false);
    expect(x.notTradableReason).toMatch(/not enable it for API trading/);
    const p = venue.market(PAUSE);
    expect(p.tradable).toBe(false);
    expect(p.notTradableReason).toMatch(/paused/);
    const o = venue.market(OFF);
    expect(o.tradable).toBe(false);
    expect(o.notTradableReason).toMatch(/offline/);
    expect(o.notTradableReason).toMatch(/closed/);
    expect(warnings).toEqual([]);
  });

  it('refuses an unknown symbol, naming it', () => {
    expect(() => venue.market(symbolId('NOPEUSDT'))).toThrow(SymbolNotTradableError);
    expect(() => venue.market(symbolId('NOPEUSDT'))).toThrow(/NOPEUSDT/);
  });

  it('refuses orders on a non-tradable market with its reason, before any request', async () => {
    const before = server.stats().requests;
    for (const [symbol, reason] of [
      [XAPI, /API trading/],
      [PAUSE, /paused/],
      [OFF, /offline/],
    ] as const) {
      const e = await venue.createOrder({ clientOrderId: `nt-${symbol}`, symbol, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000') }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(SymbolNotTradableError);
      expect((e as Error).message).toMatch(reason);
      expect((e as Error).message).toContain(symbol);
    }
    expect(server.orderLog()).toEqual([]);
    expect(server.stats().requests).toBe(before);
  });

  it('keeps the status flags when the API-symbol list cannot be read, and warns', async () => {
    server.faults.once({ on: 'request', path: '/api/v3/defaultSymbols', fault: '5xx-without-placing' });
    const v = makeVenue();
    extraVenues.push(v);
    await v.loadMarkets();
    expect(v.market(XAPI).tradable).toBe(true); // only the list knew it was not API-enabled
    expect(v.market(PAUSE).tradable).toBe(false);
    expect(warnings.some((w) => w.includes('API symbol list'))).toBe(true);
  });
});

describe('account and orders', () => {
  it('shows the deposits as exact balances', async () => {
    const b = await venue.fetchBalances();
    expect(bal(b, 'USDT').free.eq(d('10000'))).toBe(true);
    expect(bal(b, 'USDT').locked.isZero()).toBe(true);
    expect(bal(b, 'BTC').free.eq(d('1'))).toBe(true);
    expect(bal(b, 'PEPE').free.eq(d('10000000'))).toBe(true);
  });

  it('places a limit order, finds it open and by both ids, cancels it once', async () => {
    const placed = await venue.createOrder({ clientOrderId: 'lim-1', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.01'), price: d('50000') });
    expect(placed.clientOrderId).toBe('lim-1');
    expect(placed.status).toBe('new');
    expect(placed.filledQuantity.isZero()).toBe(true);
    expect(placed.type).toBe('limit');
    expect(placed.price?.eq(d('50000'))).toBe(true);
    expect(placed.quantity.eq(d('0.01'))).toBe(true);
    expect(placed.exchangeOrderId).not.toBe('');

    const open = await venue.fetchOpenOrders(BTC);
    expect(open).toHaveLength(1);
    expect(open[0]?.clientOrderId).toBe('lim-1');
    expect(open[0]?.status).toBe('new');

    const byCid = await venue.fetchOrderByClientId(BTC, 'lim-1');
    expect(byCid?.exchangeOrderId).toBe(placed.exchangeOrderId);
    expect(byCid?.side).toBe('buy');
    expect(byCid?.price?.eq(d('50000'))).toBe(true);
    const byId = await venue.fetchOrderById(BTC, placed.exchangeOrderId);
    expect(byId?.clientOrderId).toBe('lim-1');

    // 0.01 x 50,000 = 500 USDT plus the 0.05% taker fee a marketable limit could pay (0.25) held.
    const during = bal(await venue.fetchBalances(), 'USDT');
    expect(during.free.add(during.locked).eq(d('10000'))).toBe(true);
    expect(during.locked.gte(d('500'))).toBe(true);

    const cancelled = await venue.cancelOrder(BTC, 'lim-1');
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.clientOrderId).toBe('lim-1');
    expect(cancelled.exchangeOrderId).toBe(placed.exchangeOrderId);
    expect(await venue.fetchOpenOrders(BTC)).toEqual([]);
    expect((await venue.fetchOrderByClientId(BTC, 'lim-1'))?.status).toBe('cancelled');
    await expect(venue.cancelOrder(BTC, 'lim-1')).rejects.toBeInstanceOf(OrderNotFoundError);
  });

  it('answers undefined for orders it does not know, by client id and by order id', async () => {
    expect(await venue.fetchOrderByClientId(BTC, 'never-sent')).toBeUndefined();
    expect(await venue.fetchOrderById(BTC, '999999999')).toBeUndefined();
  });

  it('sends a tiny PEPE price exactly as given, and lists open orders of every symbol', async () => {
    await venue.createOrder({ clientOrderId: 'pepe-1', symbol: PEPE, side: 'buy', type: 'limit', quantity: d('2000000'), price: d('0.000003701') });
    await venue.createOrder({ clientOrderId: 'btc-2', symbol: BTC, side: 'sell', type: 'limit', quantity: d('0.002'), price: d('60000.5') });
    const p = await venue.fetchOrderByClientId(PEPE, 'pepe-1');
    expect(p?.price?.toString()).toBe('0.000003701');
    expect(p?.quantity.toString()).toBe('2000000');
    const all = await venue.fetchOpenOrders();
    expect(all.map((o) => o.clientOrderId).sort()).toEqual(['btc-2', 'pepe-1']);
    expect(all.find((o) => o.clientOrderId === 'btc-2')?.symbol).toBe(BTC);
  });

  it('refuses an order below the minimum notional with InvalidOrderError (MEXC 30002)', async () => {
    // 1,000,000 x 0.000003701 = 3.701 USDT < 5 USDT.
    const e = await venue.createOrder({ clientOrderId: 'pepe-small', symbol: PEPE, side: 'buy', type: 'limit', quantity: d('1000000'), price: d('0.000003701') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOrderError);
    expect((e as InvalidOrderError).code).toBe(30002);
  });

  it('sends the quantity exactly as given: ccxt does not re-round it (the executor rounds)', async () => {
    // 0.0010005 has 7 decimals where BTCUSDT's step has 6. ccxt's amountToPrecision would have cut it
    // to 0.001 and the order would rest; sent as given, the venue refuses it (MEXC 10096).
    const e = await venue.createOrder({ clientOrderId: 'raw-q', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.0010005'), price: d('50000') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InvalidOrderError);
    expect((e as InvalidOrderError).code).toBe(10096);
    expect(server.orderLog().map((l) => [l.clientOrderId, l.outcome])).toEqual([['raw-q', 'rejected']]);
  });

  it('refuses a malformed request before sending it', async () => {
    const before = server.stats().requests;
    await expect(
      venue.createOrder({ clientOrderId: 'both', symbol: BTC, side: 'buy', type: 'market', quantity: d('0.001'), quoteAmount: d('100') }),
    ).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(
      venue.createOrder({ clientOrderId: 'qa-limit', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000'), quoteAmount: d('100') }),
    ).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(venue.createOrder({ clientOrderId: '', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000') })).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(venue.createOrder({ clientOrderId: 'np', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.01') })).rejects.toBeInstanceOf(InvalidOrderError);
    await expect(venue.createOrder({ clientOrderId: 'nq', symbol: BTC, side: 'buy', type: 'market' })).rejects.toBeInstanceOf(InvalidOrderError);
    expect(server.stats().requests).toBe(before);
  });

  it('buys at market by quote amount: fill, fee and balances exact to the last digit', async () => {
    // Ask 56,001: quantity = floor(100 / 56,001, 0.000001) = 0.001785; cost 0.001785 x 56,001 =
    // 99.961785; taker fee 0.05% = 0.0499808925; USDT left 10,000 - 99.961785 - 0.0499808925.
    const placed = await venue.createOrder({ clientOrderId: 'mq-1', symbol: BTC, side: 'buy', type: 'market', quoteAmount: d('100') });
    expect(placed.type).toBe('market');
    expect(placed.price).toBeUndefined();
    const fills = await venue.fetchMyTrades(BTC);
    expect(fills).toHaveLength(1);
    const f = fills[0]!;
    expect(f.clientOrderId).toBe('mq-1');
    expect(f.exchangeOrderId).toBe(placed.exchangeOrderId);
    expect(f.symbol).toBe(BTC);
    expect(f.side).toBe('buy');
    expect(f.liquidity).toBe('taker');
    expect(f.price.toString()).toBe('56001');
    expect(f.quantity.toString()).toBe('0.001785');
    expect(f.fee.toString()).toBe('0.0499808925');
    expect(f.feeAsset).toBe('USDT');
    const o = await venue.fetchOrderByClientId(BTC, 'mq-1');
    expect(o?.status).toBe('filled');
    expect(o?.filledQuantity.toString()).toBe('0.001785');
    expect(o?.filledQuote.toString()).toBe('99.961785');
    const b = await venue.fetchBalances();
    expect(bal(b, 'USDT').free.toString()).toBe('9899.9882341075');
    expect(bal(b, 'BTC').free.toString()).toBe('1.001785');
    // fetchMyTrades from `since` after the fill returns nothing.
    expect(await venue.fetchMyTrades(BTC, f.time + 1)).toEqual([]);
  });

  it('sells at market by quantity at the bid', async () => {
    await venue.createOrder({ clientOrderId: 'ms-1', symbol: BTC, side: 'sell', type: 'market', quantity: d('0.5') });
    const [f] = await venue.fetchMyTrades(BTC);
    expect(f?.side).toBe('sell');
    expect(f?.price.toString()).toBe('56000');
    expect(f?.quantity.toString()).toBe('0.5');
    // 0.5 x 56,000 = 28,000; fee 0.05% = 14.
    expect(f?.fee.toString()).toBe('14');
    expect(bal(await venue.fetchBalances(), 'USDT').free.toString()).toBe('37986');
  });

  it('rests a post-only order that does not cross, and rejects one that would take (the simulator’s 30041)', async () => {
    const ok = await venue.createOrder({ clientOrderId: 'po-ok', symbol: BTC, side: 'buy', type: 'post_only', quantity: d('0.001'), price: d('55999') });
    expect(ok.type).toBe('post_only');
    const e = await venue.createOrder({ clientOrderId: 'po-x', symbol: BTC, side: 'buy', type: 'post_only', quantity: d('0.001'), price: d('56001') }).catch((x: unknown) => x);
    // 30041 ("current order type can not place order") is an invalid order: not retryable.
    expect(e).toBeInstanceOf(InvalidOrderError);
    expect((e as InvalidOrderError).code).toBe(30041);
    expect((e as InvalidOrderError).retryable).toBe(false);
    // Both reached the engine as LIMIT_MAKER orders.
    expect(server.orderLog().map((l) => [l.clientOrderId, l.type, l.outcome])).toEqual([
      ['po-ok', 'post_only', 'placed'],
      ['po-x', 'post_only', 'rejected'],
    ]);
    expect((await venue.fetchOpenOrders(BTC)).map((o) => o.clientOrderId)).toEqual(['po-ok']);
  });

  it('sends ioc as IMMEDIATE_OR_CANCEL: below the ask it ends cancelled, at the ask it fills', async () => {
    await venue.createOrder({ clientOrderId: 'ioc-miss', symbol: BTC, side: 'buy', type: 'ioc', quantity: d('0.001'), price: d('55000') });
    await venue.createOrder({ clientOrderId: 'ioc-hit', symbol: BTC, side: 'buy', type: 'ioc', quantity: d('0.001'), price: d('56001') });
    expect(server.orderLog().map((l) => l.type)).toEqual(['ioc', 'ioc']);
    const miss = await venue.fetchOrderByClientId(BTC, 'ioc-miss');
    expect(miss?.type).toBe('ioc');
    expect(miss?.status).toBe('cancelled');
    expect(miss?.filledQuantity.isZero()).toBe(true);
    const hit = await venue.fetchOrderByClientId(BTC, 'ioc-hit');
    expect(hit?.status).toBe('filled');
    expect(hit?.filledQuote.toString()).toBe('56.001');
  });
});

describe('market data', () => {
  it('serves klines from since, oldest first, as numbers', async () => {
    const since = pushed[2]!.openTime;
    const k = await venue.fetchKlines(BTC, '1m', since, 3);
    expect(k).toEqual(pushed.slice(2, 5));
  });

  it('maps 5m and 1h intervals and aggregates like MEXC (UTC-aligned buckets)', async () => {
    // The first candle opens at 22:07 UTC: its 5m bucket (22:05) holds candles 0-2, the next (22:10) 3-7.
    const first = pushed[0]!.openTime;
    const bucket5 = first - (first % 300_000);
    const k5 = await venue.fetchKlines(BTC, '5m', bucket5, 2);
    expect(k5.map((c) => c.openTime)).toEqual([bucket5, bucket5 + 300_000]);
    const c0 = pushed.slice(0, 3);
    expect(k5[0]?.open).toBe(c0[0]!.open);
    expect(k5[0]?.close).toBe(c0[2]!.close);
    expect(k5[0]?.high).toBe(Math.max(...c0.map((c) => c.high)));
    expect(k5[0]?.low).toBe(Math.min(...c0.map((c) => c.low)));
    expect(k5[0]?.volume).toBeCloseTo(45.942988 + 33.431738 + 30.670298, 9);
    // All ten candles (22:07-22:16) fall in the 22:00 hour.
    const bucket1h = first - (first % 3_600_000);
    const k1h = await venue.fetchKlines(BTC, '1h', bucket1h, 1);
    expect(k1h).toHaveLength(1);
    expect(k1h[0]?.openTime).toBe(bucket1h);
    expect(k1h[0]?.close).toBe(pushed[9]!.close);
    expect(k1h[0]?.volume).toBeCloseTo(pushed.reduce((s, c) => s + c.volume, 0), 9);
  });

  it('serves 24h tickers with base and quote volume; markets without trades are left out', async () => {
    const [t] = await venue.fetchTickers24h([BTC]);
    expect(t?.symbol).toBe(BTC);
    expect(t?.last).toBe(pushed[9]!.close);
    expect(t?.open).toBe(pushed[0]!.open);
    expect(t?.high).toBe(Math.max(...pushed.map((c) => c.high)));
    expect(t?.low).toBe(Math.min(...pushed.map((c) => c.low)));
    expect(t?.volume).toBeCloseTo(pushed.reduce((s, c) => s + c.volume, 0), 9);
    // The simulator estimates quote volume as volume x typical price (h + l + c) / 3.
    const quote = pushed.reduce((s, c) => s + (c.volume * (c.high + c.low + c.close)) / 3, 0);
    expect(t?.quoteVolume).toBeCloseTo(quote, 3);
    expect(t?.bid).toBe(56000);
    expect(t?.ask).toBe(56001);
    expect(t?.time).toBe(bookTime);
    const all = await venue.fetchTickers24h();
    expect(all.map((x) => x.symbol)).toEqual([BTC]);
  });

  it('serves the best bid and ask', async () => {
    const top = await venue.fetchBookTop(BTC);
    expect(top).toEqual({ time: bookTime, bid: 56000, bidSize: 2, ask: 56001, askSize: 3 });
  });

  it('refuses a book top when one side is empty', async () => {
    await expect(venue.fetchBookTop(PEPE)).rejects.toBeInstanceOf(ExchangeRequestError);
  });
});

describe('streams', () => {
  it('streams the book through the stream manager over ccxt pro, and close() ends the connection', async () => {
    const events: VenueEvent[] = [];
    const handle = await venue.stream([{ kind: 'book', symbol: BTC }], (e) => events.push(e));
    await waitFor(() => events.some((e) => e.type === 'stream_status' && e.status === 'connected'), 'the book stream to connect');
    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: bookTime + 1000, bid: 56010, bidSize: 1.5, ask: 56011, askSize: 0.25 } });
    await waitFor(() => events.some((e) => e.type === 'book'), 'a book event');
    const book = events.find((e): e is Extract<VenueEvent, { type: 'book' }> => e.type === 'book');
    expect(book?.symbol).toBe(BTC);
    expect(book?.book).toMatchObject({ bid: 56010, bidSize: 1.5, ask: 56011, askSize: 0.25 });
    expect(handle.stats().connections).toBe(1);
    await venue.close();
    expect(handle.stats().connections).toBe(0);
    await waitFor(() => server.stats().connections === 0, 'the server to see the connection closed');
  });
});

describe('failures', () => {
  it('a wrong secret is an AuthenticationError (MEXC 700002) that shows neither secret nor signature', async () => {
    const wrongSecret = 'wrong-secret-0123456789abcdef';
    const bad = makeVenue({ secret: wrongSecret });
    extraVenues.push(bad);
    // ccxt's loadMarkets reads the (signed) currency list when keys are set.
    const e1 = await bad.loadMarkets().catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(AuthenticationError);
    const e2 = await bad.fetchBalances().catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(AuthenticationError);
    expect((e2 as AuthenticationError).code).toBe(700002);
    expect((e2 as AuthenticationError).retryable).toBe(false);
    for (const e of [e1, e2] as Error[]) {
      expect(e.message).not.toContain(wrongSecret);
      expect(e.message).not.toMatch(/signature=[0-9a-f]/);
    }
  });

  it('a 429 is a RateLimitError carrying the Retry-After', async () => {
    server.faults.once({ on: 'request', path: '/api/v3/account', fault: '429', retryAfterSec: 3 });
    const e = await venue.fetchBalances().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfterMs).toBe(3000);
    expect((e as RateLimitError).httpStatus).toBe(429);
    // The next call goes through.
    expect(bal(await venue.fetchBalances(), 'USDT').free.eq(d('10000'))).toBe(true);
  });

  it('a 5xx on a submit is an ExchangeServerError with an unknown outcome, resolved by a lookup', async () => {
    server.faults.once({ on: 'createOrder', fault: '5xx-without-placing' });
    const e1 = await venue.createOrder({ clientOrderId: 'x5-a', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000') }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(ExchangeServerError);
    expect(isUnknownOutcome(e1, 'submit')).toBe(true);
    expect(await venue.fetchOrderByClientId(BTC, 'x5-a')).toBeUndefined();

    server.faults.once({ on: 'createOrder', fault: '5xx-after-placing' });
    const e2 = await venue.createOrder({ clientOrderId: 'x5-b', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000') }).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(ExchangeServerError);
    expect((await venue.fetchOrderByClientId(BTC, 'x5-b'))?.status).toBe('new');
  });

  it('no reply within timeoutMs is a TimeoutError; the order may exist and is found by its client id', async () => {
    const impatient = makeVenue({ timeoutMs: 300 });
    extraVenues.push(impatient);
    await impatient.loadMarkets();
    // The simulator processes the order, then holds its reply past the client's deadline.
    server.faults.once({ on: 'createOrder', fault: 'timeout', delayMs: 5_000 });
    const e = await impatient.createOrder({ clientOrderId: 'to-1', symbol: BTC, side: 'buy', type: 'limit', quantity: d('0.001'), price: d('50000') }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(isUnknownOutcome(e, 'submit')).toBe(true);
    expect((await venue.fetchOrderByClientId(BTC, 'to-1'))?.status).toBe('new');
  });
});
