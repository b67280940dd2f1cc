/**
 * Unmodified ccxt (REST and ccxt.pro WebSocket) against the simulator over loopback: the proof
 * that the server speaks MEXC's protocol as ccxt 4.5.84 expects it (PROTOCOL.md §5 for the URL
 * overrides). Expectations are ccxt's unified structures, worked out from the fixture candles.
 */
import ccxt from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simCcxtUrls, startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import { BTC_FILE, fixtureCandles } from './helpers.js';

const KEY = 'ccxt-key';
const SECRET = 'ccxt-secret';
const BTC = symbolId('BTCUSDT');

let server: SimServer;
let candles: Candle[];
/** Replay start: an hour ago on a whole minute, so every candle time is in the past for ccxt. */
let T0: number;

function config(s: SimServer): Record<string, unknown> {
  const B = s.restUrl;
  // Spelled out here rather than taken from simCcxtUrls, which is checked against it below.
  return {
    apiKey: KEY,
    secret: SECRET,
    // ccxt's own client-side throttle only slows the test down; the server does not rate-limit.
    enableRateLimit: false,
    urls: { api: { spot: { public: B, private: B }, contract: { public: B + '/api/v1/contract', private: B + '/api/v1/private' }, ws: { spot: s.wsUrl } } },
  };
}

/** Waits (bounded) until `cond` holds; for "the subscription has reached the server" before pushing data. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  candles = fixtureCandles(BTC_FILE, 120);
  T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
  const btc = simMarketFromCandles(BTC, candles);
  server = await startSimServer({
    markets: [btc, { ...btc, symbol: symbolId('ETHUSDT'), base: 'ETH', status: 'paused' }],
    accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
    replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: T0 }),
  });
  server.advanceReplayTo(T0 + 30 * 60_000);
});

afterAll(async () => {
  await server?.close();
});

describe('ccxt REST', () => {
  let ex: InstanceType<typeof ccxt.mexc>;
  beforeAll(() => {
    ex = new ccxt.mexc(config(server));
  });

  it('loads markets with the precision, limits, fees and status of the spec', async () => {
    const markets = await ex.loadMarkets();
    const m = markets['BTC/USDT']!;
    expect(m).toMatchObject({ id: 'BTCUSDT', base: 'BTC', quote: 'USDT', spot: true, active: true, maker: 0, taker: 0.0005 });
    expect(m.precision).toEqual({ amount: 0.000001, price: 0.01 });
    expect(m.limits.amount?.min).toBe(0.000001);
    expect(m.limits.cost?.min).toBe(1);
    // A paused pair (status "2") is listed but not active.
    expect(markets['ETH/USDT']!.active).toBe(false);
  });

  it('offers the same URL override as a helper', () => {
    expect(simCcxtUrls(server)).toEqual((config(server) as { urls: unknown }).urls);
  });

  it('fetches the balance', async () => {
    const b = await ex.fetchBalance();
    expect(b.USDT).toMatchObject({ free: 10_000, used: 0, total: 10_000 });
  });

  it('creates a limit order, finds it open, cancels it', async () => {
    const o = await ex.createOrder('BTC/USDT', 'limit', 'buy', 0.001, 50_000, { clientOrderId: 'ccxt-lim-1' });
    expect(o.id).toBeTruthy();
    const fetched = await ex.fetchOrder(o.id!, 'BTC/USDT');
    expect(fetched).toMatchObject({ id: o.id, clientOrderId: 'ccxt-lim-1', status: 'open', type: 'limit', side: 'buy', price: 50_000, amount: 0.001, filled: 0 });
    const open = await ex.fetchOpenOrders('BTC/USDT');
    expect(open.map((x) => x.id)).toEqual([o.id]);
    const cancelled = await ex.cancelOrder(o.id!, 'BTC/USDT');
    expect(cancelled.status).toBe('canceled');
    expect(await ex.fetchOpenOrders('BTC/USDT')).toEqual([]);
    // MEXC's -2011 on cancel maps to BadRequest in ccxt (PROTOCOL.md §1.5).
    await expect(ex.cancelOrder(o.id!, 'BTC/USDT')).rejects.toBeInstanceOf(ccxt.BadRequest);
  });

  it('reports an unknown order on fetch as an exchange error (-2013)', async () => {
    await expect(ex.fetchOrder('C02__999999', 'BTC/USDT')).rejects.toThrow(/-2013/);
  });

  it('fills a market buy and returns the fill with its taker fee from fetchMyTrades', async () => {
    const o = await ex.createOrder('BTC/USDT', 'market', 'buy', 0.001, undefined, { clientOrderId: 'ccxt-mkt-1' });
    const fetched = await ex.fetchOrder(o.id!, 'BTC/USDT');
    expect(fetched).toMatchObject({ status: 'closed', filled: 0.001, remaining: 0 });
    const trades = await ex.fetchMyTrades('BTC/USDT');
    expect(trades).toHaveLength(1);
    const t = trades[0]!;
    expect(t).toMatchObject({ order: o.id, side: 'buy', amount: 0.001, takerOrMaker: 'taker' });
    // 0.05% of the cost, in USDT.
    expect(t.fee?.currency).toBe('USDT');
    expect(t.fee?.cost).toBeCloseTo(t.cost! * 0.0005, 10);
  });

  it('spends a quote amount with createMarketBuyOrderWithCost', async () => {
    const o = await ex.createMarketBuyOrderWithCost('BTC/USDT', 50);
    const fetched = await ex.fetchOrder(o.id!, 'BTC/USDT');
    expect(fetched.status).toBe('closed');
    expect(fetched.cost).toBeLessThanOrEqual(50);
    expect(fetched.cost).toBeGreaterThan(49); // one lot step of BTC at ~56k is far below 1 USDT
  });

  it('fetches klines of the replayed candles', async () => {
    const ohlcv = await ex.fetchOHLCV('BTC/USDT', '1m', T0, 5);
    expect(ohlcv).toEqual(candles.slice(0, 5).map((c, i) => [T0 + i * 60_000, c.open, c.high, c.low, c.close, c.volume]));
    // An hour bucket aligned to the UTC hour, built from the 1m candles replayed so far.
    const hour = T0 - (T0 % 3_600_000);
    const h1 = await ex.fetchOHLCV('BTC/USDT', '1h', hour, 1);
    expect(h1[0]!.slice(0, 2)).toEqual([hour, candles[0]!.open]);
  });

  it('fetches recent public trades', async () => {
    const trades = await ex.fetchTrades('BTC/USDT');
    // The replay's last trade of candle 29 is at its close, 59.999 s into the minute.
    const last = trades[trades.length - 1]!;
    expect(last).toMatchObject({ symbol: 'BTC/USDT', price: candles[29]!.close, timestamp: T0 + 29 * 60_000 + 59_999 });
  });

  it('fetches the ticker and the order book', async () => {
    const t = await ex.fetchTicker('BTC/USDT');
    expect(t.last).toBe(candles[29]!.close);
    const book = await ex.fetchOrderBook('BTC/USDT');
    expect(book.bids[0]![0]).toBeCloseTo(candles[29]!.close - 0.01, 8);
    expect(book.asks[0]![0]).toBeCloseTo(candles[29]!.close + 0.01, 8);
  });
});

describe('ccxt.pro WebSocket', () => {
  let ex: InstanceType<typeof ccxt.pro.mexc>;
  beforeAll(async () => {
    ex = new ccxt.pro.mexc(config(server));
    // Without this ccxt refuses plain ws:// URLs (PROTOCOL.md §5).
    await ex.loadHttpProxyAgent();
    await ex.loadMarkets();
  });
  afterAll(async () => {
    await ex?.close();
  });

  it('watches klines, trades and the best bid/ask', async () => {
    const ohlcv = ex.watchOHLCV('BTC/USDT', '1m');
    const trades = ex.watchTrades('BTC/USDT');
    const ticker = ex.watchTicker('BTC/USDT');
    await until(() => server.stats().subscriptions >= 3, 'three public subscriptions');
    // Candle 30's first path point (+1 s): a trade at its open, the book, the kline so far.
    server.advanceReplayTo(T0 + 30 * 60_000 + 1_000);
    const c30 = candles[30]!;
    const k = await ohlcv;
    expect(k[k.length - 1]).toEqual([T0 + 30 * 60_000, c30.open, c30.open, c30.open, c30.open, expect.any(Number)]);
    const tr = await trades;
    expect(tr[tr.length - 1]).toMatchObject({ symbol: 'BTC/USDT', price: c30.open, timestamp: T0 + 30 * 60_000 + 1_000 });
    const tk = await ticker;
    expect(tk.bid).toBeCloseTo(c30.open - 0.01, 8);
    expect(tk.ask).toBeCloseTo(c30.open + 0.01, 8);
  });

  it('watches the order book: depth deltas after a REST snapshot', async () => {
    const before = server.stats().subscriptions;
    const book = ex.watchOrderBook('BTC/USDT');
    await until(() => server.stats().subscriptions > before, 'the depth subscription');
    // ccxt buffers 25 deltas before it fetches the snapshot (PROTOCOL.md §2): eight candles make 32.
    server.advanceReplayTo(T0 + 39 * 60_000);
    // A few more deltas, after the snapshot, resolve the watch.
    for (let m = 40; m < 50; m++) {
      const settled = await Promise.race([book.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
      if (settled) break;
      server.advanceReplayTo(T0 + m * 60_000);
    }
    const ob = await book;
    expect(ob.bids.length).toBeGreaterThan(0);
    expect(ob.asks.length).toBeGreaterThan(0);
    // One level a side, one tick around the last price.
    expect(ob.bids).toHaveLength(1);
    expect(ob.asks).toHaveLength(1);
    expect(ob.asks[0]![0]! - ob.bids[0]![0]!).toBeCloseTo(0.02, 8);
  });

  it('watches orders, own trades and the balance after a fill', async () => {
    const before = server.stats().subscriptions;
    const orders = ex.watchOrders('BTC/USDT');
    const myTrades = ex.watchMyTrades('BTC/USDT');
    const balance = ex.watchBalance();
    await until(() => server.stats().subscriptions >= before + 3, 'three private subscriptions');
    const placed = await ex.createOrder('BTC/USDT', 'market', 'sell', 0.001, undefined, { clientOrderId: 'ccxt-ws-1' });
    const os = await orders;
    expect(os[0]).toMatchObject({ id: placed.id, clientOrderId: 'ccxt-ws-1', symbol: 'BTC/USDT', side: 'sell' });
    const ts = await myTrades;
    expect(ts[0]).toMatchObject({ order: placed.id, symbol: 'BTC/USDT', side: 'sell', amount: 0.001 });
    expect(ts[0]!.fee?.currency).toBe('USDT');
    // The first account push of a sell is the BTC lock (ENTRUST_PLACE).
    const b = await balance;
    expect(typeof b.BTC?.free).toBe('number');
    expect(typeof b.BTC?.used).toBe('number');
  });
});
