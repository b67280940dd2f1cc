/**
 * MexcStreamManager with real ccxt pro against the project's MEXC simulator over loopback (and, for
 * broken frames, a bare WebSocket server started here that speaks just enough of MEXC's protocol).
 *
 * The expected events are the market data and orders the test itself pushes into the simulator,
 * so every value is known independently of the code under test. Waits are bounded polls on a
 * condition; nothing asserts how long something took.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import ccxt from 'ccxt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { encodePush } from '../../services/adapters/mexcSim/proto.js';
import { mexcProFactory, type ProMexc } from '../../services/adapters/mexc/proClient.js';
import { MexcStreamManager } from '../../services/adapters/mexc/streamManager.js';
import type { StreamManagerOptions } from '../../services/adapters/mexc/streamOptions.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type BookTop, type Candle, type SymbolId } from '../../services/core/types.js';
import { NO_FAULTS } from '../../services/sim/faults.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import type { Balance, KlineInterval, StreamHandle, StreamSubscription, VenueClient, VenueEvent, VenueFill, VenueOrder } from '../../services/venue/types.js';
import { BTC_FILE, fixtureCandles } from '../sim/helpers.js';

const KEY = 'stream-key';
const SECRET = 'stream-secret';
const BTC = symbolId('BTCUSDT');
const M = 60_000;

/** The first minute of the test's market: an hour ago on a whole minute, so every window has ended. */
const T0 = Math.floor(Date.now() / M) * M - 60 * M;

function candle(i: number, close = 100.5 + i): Candle {
  return { openTime: T0 + i * M, open: 100 + i, high: Math.max(101 + i, close), low: Math.min(99 + i, close), close, volume: 2 + i };
}

/** Bounded poll: resolves when `cond` holds, fails the test naming `what` otherwise. */
async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const steps = Math.ceil(timeoutMs / 20);
  for (let i = 0; i < steps; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A REST port reading the simulator: public data over its HTTP API, private data from its engine. */
class SimRest implements Pick<VenueClient, 'fetchKlines' | 'fetchBookTop' | 'fetchOpenOrders' | 'fetchMyTrades' | 'fetchBalances'> {
  readonly calls = { fetchKlines: 0, fetchBookTop: 0, fetchOpenOrders: 0, fetchMyTrades: 0, fetchBalances: 0 };
  constructor(private readonly server: SimServer) {}

  async fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]> {
    this.calls.fetchKlines++;
    const q = new URLSearchParams({ symbol, interval: interval === '1h' ? '60m' : interval });
    if (since !== undefined) q.set('startTime', String(since));
    if (limit !== undefined) q.set('limit', String(limit));
    const res = await fetch(`${this.server.restUrl}/api/v3/klines?${q.toString()}`);
    const rows = (await res.json()) as [number, string, string, string, string, string][];
    return rows.map(([t, o, h, l, c, v]) => ({ openTime: t, open: Number(o), high: Number(h), low: Number(l), close: Number(c), volume: Number(v) }));
  }

  async fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    this.calls.fetchBookTop++;
    const res = await fetch(`${this.server.restUrl}/api/v3/ticker/bookTicker?symbol=${symbol}`);
    const b = (await res.json()) as { bidPrice: string; bidQty: string; askPrice: string; askQty: string };
    return { time: Date.now(), bid: Number(b.bidPrice), bidSize: Number(b.bidQty), ask: Number(b.askPrice), askSize: Number(b.askQty) };
  }

  fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]> {
    this.calls.fetchOpenOrders++;
    return Promise.resolve(this.server.engine.openOrders(KEY, symbol));
  }

  fetchMyTrades(symbol: SymbolId, since?: number, limit?: number): Promise<VenueFill[]> {
    this.calls.fetchMyTrades++;
    return Promise.resolve(this.server.engine.myTrades(KEY, symbol, since, limit));
  }

  fetchBalances(): Promise<Balance[]> {
    this.calls.fetchBalances++;
    return Promise.resolve(this.server.engine.balances(KEY));
  }
}

/** Collects events; typed views of them. */
class Events {
  readonly all: VenueEvent[] = [];
  readonly push = (e: VenueEvent): void => {
    this.all.push(e);
  };
  of<T extends VenueEvent['type']>(type: T): Extract<VenueEvent, { type: T }>[] {
    return this.all.filter((e): e is Extract<VenueEvent, { type: T }> => e.type === type);
  }
  statuses(stream: string): string[] {
    return this.of('stream_status').filter((e) => e.stream === stream).map((e) => e.status);
  }
  /** True when `stream`'s statuses contain `seq` in this order (other statuses may come between). */
  hasStatusSequence(stream: string, seq: readonly string[]): boolean {
    let i = 0;
    for (const s of this.statuses(stream)) if (s === seq[i]) i++;
    return i >= seq.length;
  }
  closedKlines(): number[] {
    return this.of('kline').filter((e) => e.closed).map((e) => (e.candle.openTime - T0) / M);
  }
}

/** Options keeping the test's timings small. */
const FAST: Partial<StreamManagerOptions> = {
  tickMs: 25,
  reconnectBaseMs: 50,
  reconnectMaxMs: 400,
  klineCloseGraceMs: 100,
  pollIntervalMs: 100,
};

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
let cleanups: (() => Promise<void>)[] = [];

beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});

afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
  // Give rejected-but-unhandled promises a turn to surface before checking.
  await sleep(50);
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

async function sim(extra: Partial<Parameters<typeof startSimServer>[0]> = {}): Promise<SimServer> {
  const btc = simMarketFromCandles(BTC, fixtureCandles(BTC_FILE, 60));
  const server = await startSimServer({ markets: [btc], accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }], ...extra });
  cleanups.push(() => server.close());
  return server;
}

async function startStreams(
  server: SimServer,
  subs: readonly StreamSubscription[],
  options: Partial<StreamManagerOptions> = {},
  client: Parameters<typeof mexcProFactory>[0] = {},
): Promise<{ handle: StreamHandle; events: Events; rest: SimRest }> {
  const rest = new SimRest(server);
  const events = new Events();
  const manager = new MexcStreamManager({
    proFactory: mexcProFactory({ restUrl: server.restUrl, wsUrl: server.wsUrl, apiKey: KEY, secret: SECRET, enableRateLimit: false, ...client }),
    rest,
    now: Date.now,
    options: { ...FAST, ...options },
  });
  const handle = await manager.start(subs, events.push);
  cleanups.push(() => handle.close());
  return { handle, events, rest };
}

function allConnected(events: Events, keys: readonly string[]): boolean {
  return keys.every((k) => events.statuses(k).includes('connected'));
}

describe('MexcStreamManager against the simulator', () => {
  it('delivers klines, trades and book tops as typed events; a kline closes when its window ends', async () => {
    const server = await sim();
    const { handle, events } = await startStreams(server, [
      { kind: 'kline', symbol: BTC, interval: '1m' },
      { kind: 'trades', symbol: BTC },
      { kind: 'book', symbol: BTC },
    ]);
    await until(() => allConnected(events, ['kline:BTCUSDT:1m', 'trades:BTCUSDT', 'book:BTCUSDT']), 'three subscriptions acknowledged');

    const t = T0 + 10_000;
    server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(0), closed: false, time: t });
    server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: t, price: 100.25, quantity: 0.5, buyerMaker: true } });
    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: t, bid: 100.2, bidSize: 1.5, ask: 100.3, askSize: 2 } });

    await until(() => events.of('trade').length === 1 && events.of('book').length === 1 && events.closedKlines().length === 1, 'trade, book and closed kline');
    expect(events.of('trade')[0]).toMatchObject({ symbol: BTC, trade: { time: t, price: 100.25, quantity: 0.5, buyerMaker: true } });
    expect(events.of('book')[0]).toMatchObject({ symbol: BTC, book: { time: t, bid: 100.2, bidSize: 1.5, ask: 100.3, askSize: 2 } });
    const klines = events.of('kline');
    // First the running window, then (its end being an hour ago) the same candle closed.
    expect(klines.map((k) => k.closed)).toEqual([false, true]);
    for (const k of klines) expect(k).toMatchObject({ symbol: BTC, interval: '1m', candle: candle(0) });

    const st = handle.stats();
    expect(st.malformed).toBe(0);
    expect(st.connections).toBe(1);
    expect(st.frames).toBeGreaterThanOrEqual(6); // 3 acks + 3 pushes
    expect(st.lastEventAt['trades:BTCUSDT']).toBeGreaterThan(0);
  });

  it('spreads 35 public subscriptions over 2 connections (MEXC allows 30 per connection)', async () => {
    const candles = fixtureCandles(BTC_FILE, 60);
    const symbols = Array.from({ length: 35 }, (_, i) => symbolId(`S${i}USDT`));
    // The simulator refuses a 31st subscription on one connection, as MEXC does.
    const server = await startSimServer({ markets: symbols.map((s) => simMarketFromCandles(s, candles)), accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: {} }], maxSubscriptionsPerConnection: 30 });
    cleanups.push(() => server.close());
    const { handle, events } = await startStreams(server, symbols.map((symbol) => ({ kind: 'trades' as const, symbol })));
    await until(() => allConnected(events, symbols.map((s) => `trades:${s}`)), '35 subscriptions acknowledged');
    expect(handle.stats().connections).toBe(2);
    expect(server.stats().connections).toBe(2);
    expect(server.stats().subscriptions).toBe(35);
    server.pushMarketData({ type: 'trade', symbol: symbols[0]!, trade: { time: T0, price: 50, quantity: 1, buyerMaker: false } });
    server.pushMarketData({ type: 'trade', symbol: symbols[34]!, trade: { time: T0, price: 51, quantity: 1, buyerMaker: false } });
    await until(() => events.of('trade').length === 2, 'a trade on each connection');
    expect(events.of('trade').map((e) => e.symbol).sort()).toEqual(['S0USDT', 'S34USDT']);
  });

  it('counts and drops garbage, truncated and unexpected frames; the streams keep working', async () => {
    const server = await sim();
    // A bare MEXC-like WebSocket server: acks subscriptions, and lets the test send raw frames.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    await new Promise<void>((r) => wss.once('listening', () => r()));
    const address = wss.address();
    if (address === null || typeof address === 'string') throw new Error('unexpected address');
    let conn: WebSocket | undefined;
    const subscribed = new Set<string>();
    wss.on('connection', (ws) => {
      conn = ws;
      ws.on('message', (data) => {
        const text = Buffer.isBuffer(data) ? data.toString('utf8') : '';
        const msg = JSON.parse(text) as { method: string; params?: string[] };
        if (msg.method === 'SUBSCRIPTION') {
          for (const p of msg.params ?? []) subscribed.add(p);
          ws.send(JSON.stringify({ id: 0, code: 0, msg: (msg.params ?? []).join(',') }));
        } else if (msg.method.toUpperCase() === 'PING') ws.send(JSON.stringify({ id: 0, code: 0, msg: 'PONG' }));
      });
    });
    const { handle, events } = await startStreams(server, [{ kind: 'kline', symbol: BTC, interval: '1m' }, { kind: 'trades', symbol: BTC }], {}, { wsUrl: `ws://127.0.0.1:${address.port}/ws` });
    await until(() => subscribed.size === 2 && conn !== undefined, 'both subscriptions at the raw server');

    const KLINE_CH = 'spot@public.kline.v3.api.pb@BTCUSDT@Min1';
    const kline = (c: Candle, fields: Record<string, unknown> = {}): Uint8Array =>
      encodePush({
        channel: KLINE_CH, symbol: 'BTCUSDT', sendTime: c.openTime + 1_000, body: 'publicSpotKline',
        data: { interval: 'Min1', windowStart: c.openTime / 1000, openingPrice: String(c.open), closingPrice: String(c.close), highestPrice: String(c.high), lowestPrice: String(c.low), volume: String(c.volume), windowEnd: c.openTime / 1000 + 60, ...fields },
      });
    const good = kline(candle(0));
    const ws = conn!;
    ws.send(new Uint8Array([0x17, 0xde, 0xad]), { binary: true }); // field 2 with wire type 7: undecodable
    ws.send(good.slice(0, good.length - 5), { binary: true }); // truncated protobuf
    ws.send(encodePush({ channel: 'spot@public.nonsense.v3.api.pb@BTCUSDT', symbol: 'BTCUSDT', body: 'publicSpotKline', data: { interval: 'Min1' } }), { binary: true }); // unknown channel
    ws.send('hello'); // text that is neither JSON nor a known message
    ws.send(JSON.stringify({ foo: 1 })); // JSON ccxt has no handler for
    ws.send(kline(candle(5), { openingPrice: undefined, highestPrice: undefined }), { binary: true }); // decodes, but a kline without prices
    ws.send(good, { binary: true });
    ws.send(encodePush({
      channel: 'spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT', symbol: 'BTCUSDT', sendTime: T0 + 2_000, body: 'publicAggreDeals',
      data: { deals: [{ price: '100.75', quantity: '0.25', tradeType: 1, time: T0 + 2_000 }], eventType: 'spot@public.aggre.deals.v3.api.pb@100ms' },
    }), { binary: true });

    await until(() => events.of('trade').length === 1 && events.of('kline').length >= 1, 'the valid kline and trade after the bad frames');
    expect(events.of('kline')[0]).toMatchObject({ candle: candle(0), closed: false });
    expect(events.of('trade')[0]!.trade).toEqual({ time: T0 + 2_000, price: 100.75, quantity: 0.25, buyerMaker: false });
    const st = handle.stats();
    // garbage + truncated + unknown channel + plain text + unknown JSON + the kline without prices
    expect(st.malformed).toBe(6);
    expect(st.reconnects).toBe(0);
    expect(events.statuses('kline:BTCUSDT:1m')).not.toContain('disconnected');
    expect(events.statuses('trades:BTCUSDT')).not.toContain('disconnected');
  });

  it('reconnects after a server-side disconnect, resubscribes and backfills the klines it missed, once and in order', async () => {
    const server = await sim();
    // A slower first reconnect, so the candles below are pushed while the client is away.
    const { handle, events, rest } = await startStreams(server, [{ kind: 'kline', symbol: BTC, interval: '1m' }], { reconnectBaseMs: 400, reconnectMaxMs: 800 });
    const key = 'kline:BTCUSDT:1m';
    await until(() => allConnected(events, [key]), 'kline subscription acknowledged');
    server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(0), closed: false, time: T0 + 5_000 });
    await until(() => events.closedKlines().length === 1, 'minute 0 closed');

    expect(server.dropConnections()).toBe(1);
    for (const i of [1, 2, 3]) server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(i), closed: true, time: T0 + i * M + 59_000 });
    await until(() => events.hasStatusSequence(key, ['connected', 'disconnected', 'reconnecting', 'connected']), 'reconnected');
    server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(4), closed: false, time: T0 + 4 * M + 5_000 });

    await until(() => events.closedKlines().includes(4), 'minute 4 closed');
    // Minutes 1-3 came from REST, between 0 and 4, each once.
    expect(events.closedKlines()).toEqual([0, 1, 2, 3, 4]);
    const closed = events.of('kline').filter((e) => e.closed);
    for (const i of [1, 2, 3]) expect(closed[i]!.candle).toEqual(candle(i));
    expect(events.statuses(key)).toContain('backfilled');
    // The backfill came before minute 4's first update.
    const order = events.all.filter((e) => (e.type === 'stream_status' && e.status === 'backfilled') || (e.type === 'kline' && e.candle.openTime === T0 + 4 * M));
    expect(order[0]!.type).toBe('stream_status');
    expect(rest.calls.fetchKlines).toBeGreaterThanOrEqual(1);
    expect(handle.stats().reconnects).toBeGreaterThanOrEqual(1);
    expect(handle.stats().connections).toBe(1);
  });

  it('treats a silent stream as stale: polls REST meanwhile, replaces the connection, and is connected again when data flows', async () => {
    const server = await sim();
    const { handle, events, rest } = await startStreams(server, [{ kind: 'book', symbol: BTC }], { staleAfterMs: { book: 300 } as StreamManagerOptions['staleAfterMs'], rotationOverlapMaxMs: 3_000 });
    const key = 'book:BTCUSDT';
    await until(() => allConnected(events, [key]), 'book subscription acknowledged');
    const book = (i: number): BookTop => ({ time: T0 + i * 1_000, bid: 100 + i / 100, bidSize: 1 + i, ask: 100.5 + i / 100, askSize: 2 + i });
    server.pushMarketData({ type: 'book', symbol: BTC, book: book(1) });
    await until(() => events.of('book').length === 1, 'first book top');

    // The next book-ticker frame starts a long silence of that connection (the frame is lost).
    server.faults.once({ on: 'frame', channel: 'bookTicker', fault: 'silence', silenceMs: 120_000 });
    server.pushMarketData({ type: 'book', symbol: BTC, book: book(2) });
    await until(() => events.statuses(key).includes('stale'), 'stale status');
    // REST polling delivers the book top the stream lost.
    await until(() => events.of('book').some((e) => e.book.bid === book(2).bid), 'book top from REST');
    expect(rest.calls.fetchBookTop).toBeGreaterThanOrEqual(1);

    // The replacement connection is subscribed; data on it ends the stale period.
    let i = 3;
    await until(() => {
      if (events.hasStatusSequence(key, ['stale', 'connected'])) return true;
      server.pushMarketData({ type: 'book', symbol: BTC, book: book(i++) });
      return false;
    }, 'connected again after stale');
    await until(() => handle.stats().connections === 1 && server.stats().connections === 1, 'the silent connection closed');
    // Polling stopped: no REST calls while the stream delivers (4 poll periods, data every 50 ms).
    const polls = rest.calls.fetchBookTop;
    for (let k = 0; k < 8; k++) {
      server.pushMarketData({ type: 'book', symbol: BTC, book: book(i++) });
      await sleep(50);
    }
    expect(rest.calls.fetchBookTop).toBe(polls);
    expect(events.statuses(key).at(-1)).toBe('connected');
    expect(handle.stats().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('closes the klines a silent stream missed from REST polls, then resumes on the stream', async () => {
    const server = await sim();
    const key = 'kline:BTCUSDT:1m';
    const { events, rest } = await startStreams(server, [{ kind: 'kline', symbol: BTC, interval: '1m' }], { staleAfterMs: { kline: 300 } as StreamManagerOptions['staleAfterMs'], rotationOverlapMaxMs: 3_000 });
    await until(() => allConnected(events, [key]), 'kline subscription acknowledged');
    server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(0), closed: false, time: T0 + 5_000 });
    await until(() => events.closedKlines().length === 1, 'minute 0 closed');

    // The next kline frame silences the connection; minutes 1-3 reach only the simulator's REST history.
    server.faults.once({ on: 'frame', channel: 'kline', fault: 'silence', silenceMs: 120_000 });
    for (const i of [1, 2, 3]) server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(i), closed: i < 3, time: T0 + i * M + 30_000 });
    await until(() => events.statuses(key).includes('stale'), 'stale status');
    await until(() => events.closedKlines().includes(3), 'minutes 1-3 closed from REST');
    expect(rest.calls.fetchKlines).toBeGreaterThanOrEqual(1);

    // The replacement connection delivers minute 4; the stream is connected again.
    let n = 0;
    await until(() => {
      if (events.hasStatusSequence(key, ['stale', 'connected'])) return true;
      server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: candle(4, 104.5 + n++ / 100), closed: false, time: T0 + 4 * M + 1_000 + n });
      return false;
    }, 'connected again');
    await until(() => events.closedKlines().includes(4), 'minute 4 closed');
    expect(events.closedKlines()).toEqual([0, 1, 2, 3, 4]);
    const closed = events.of('kline').filter((e) => e.closed);
    for (const i of [1, 2, 3]) expect(closed[i]!.candle).toEqual(candle(i));
  });

  it('delivers each private fill once even when the simulator duplicates every frame', async () => {
    const server = await sim();
    const { events } = await startStreams(server, [{ kind: 'orders' }, { kind: 'fills' }, { kind: 'balances' }]);
    await until(() => allConnected(events, ['orders', 'fills', 'balances']), 'private subscriptions acknowledged');
    server.faults.set({ ...NO_FAULTS, name: 'all-duplicated', duplicateFrame: 1 });

    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: T0, bid: 100.5, bidSize: 5, ask: 100.6, askSize: 5 } });
    server.engine.place(KEY, { clientOrderId: 'buy-1', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.01'), price: Dec.from('100') }, T0 + 1_000);
    // A public trade strictly through the limit fills it (10% participation of 1 BTC covers 0.01).
    server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: T0 + 2_000, price: 99.5, quantity: 1, buyerMaker: true } });

    const engineFills = server.engine.myTrades(KEY, BTC);
    expect(engineFills.length).toBeGreaterThanOrEqual(1);
    await until(() => events.of('order').some((e) => e.order.status === 'filled'), 'the filled order');
    await until(() => events.of('fill').length >= engineFills.length, 'the fills');
    // Let the duplicated frames arrive too. (ccxt's cache by id absorbs a copy that arrives in the
    // same socket read; a later copy reaches the manager's de-duplication. Either way: once.)
    await sleep(300);
    const fills = events.of('fill').map((e) => e.fill);
    expect(fills.map((f) => f.tradeId).sort()).toEqual(engineFills.map((f) => f.tradeId).sort());
    expect(Dec.sum(fills.map((f) => f.quantity)).eq(Dec.from('0.01'))).toBe(true);
    expect(fills[0]).toMatchObject({ clientOrderId: 'buy-1', symbol: BTC, side: 'buy' });
    expect(fills[0]!.price.eq(Dec.from('100'))).toBe(true);
    const filled = events.of('order').find((e) => e.order.status === 'filled')!.order;
    expect(filled.filledQuantity.eq(Dec.from('0.01'))).toBe(true);
    expect(filled.clientOrderId).toBe('buy-1');
    // USDT spent: 10,000 - 0.01 × 100 = 9,999 free, nothing locked, once the order filled.
    const usdt = events.of('balance').filter((e) => e.balance.asset === 'USDT').at(-1)!.balance;
    expect(usdt.free.eq(Dec.from('9999'))).toBe(true);
    expect(usdt.locked.isZero()).toBe(true);
    expect(server.faults.injected()['duplicate']).toBeGreaterThanOrEqual(1);
  });

  it('polls orders, fills and balances over REST while the private connection is down', async () => {
    const server = await sim();
    // A long reconnect delay keeps the private connection down while the order fills.
    const { events, rest } = await startStreams(server, [{ kind: 'orders' }, { kind: 'fills' }, { kind: 'balances' }], { reconnectBaseMs: 60_000, reconnectMaxMs: 60_000, privatePollSymbols: [BTC] });
    await until(() => allConnected(events, ['orders', 'fills', 'balances']), 'private subscriptions acknowledged');
    expect(server.dropConnections()).toBe(1);
    await until(() => events.statuses('fills').includes('disconnected'), 'disconnected');
    const now = Date.now();
    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: now, bid: 100.5, bidSize: 5, ask: 100.6, askSize: 5 } });
    server.engine.place(KEY, { clientOrderId: 'buy-3', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.02'), price: Dec.from('100') }, now);
    server.engine.place(KEY, { clientOrderId: 'buy-4', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.02'), price: Dec.from('90') }, now);
    server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: now + 1, price: 99.5, quantity: 1, buyerMaker: true } });
    const engineFills = server.engine.myTrades(KEY, BTC);
    await until(() => events.of('fill').length >= engineFills.length && engineFills.length > 0, 'fills from REST');
    await until(() => events.of('order').some((e) => e.order.clientOrderId === 'buy-4'), 'the open order from REST');
    // The balances are the simulator's own, as its REST API reports them.
    const usdt = server.engine.balances(KEY).find((b) => b.asset === 'USDT')!;
    expect(usdt.locked.isPositive()).toBe(true); // buy-4 is open
    await until(() => events.of('balance').some((e) => e.balance.asset === 'USDT' && e.balance.locked.eq(usdt.locked) && e.balance.free.eq(usdt.free)), 'balances from REST');
    // Several polls ran; each fill was still delivered once.
    await until(() => rest.calls.fetchMyTrades >= 3, 'three polls');
    expect(events.of('fill').map((e) => e.fill.tradeId).sort()).toEqual(engineFills.map((f) => f.tradeId).sort());
    expect(events.statuses('fills').at(-1)).toBe('disconnected');
  });

  it('renews an expired listen key: the private streams reconnect with a new key and fills flow again', async () => {
    // Keys expire after 1.5 s and the client never extends them: the server closes the connection.
    const server = await sim({ listenKeyTtlMs: 1_500 });
    const { events } = await startStreams(server, [{ kind: 'fills' }], {}, { listenKeyRefreshRateMs: 3_600_000 });
    await until(() => allConnected(events, ['fills']), 'fills acknowledged');
    await until(() => events.hasStatusSequence('fills', ['connected', 'disconnected', 'connected']), 'reconnected with a new key');
    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: T0, bid: 100.5, bidSize: 5, ask: 100.6, askSize: 5 } });
    server.engine.place(KEY, { clientOrderId: 'buy-2', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.01'), price: Dec.from('100') }, T0 + 1_000);
    server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: T0 + 2_000, price: 99.5, quantity: 1, buyerMaker: true } });
    await until(() => events.of('fill').some((e) => e.fill.clientOrderId === 'buy-2'), 'a fill on the renewed stream');
  });

  it('rotates connections make-before-break: no trade lost or repeated across the switch', async () => {
    const server = await sim();
    const { handle, events } = await startStreams(server, [{ kind: 'trades', symbol: BTC }], { rotateAfterMs: 500, rotationOverlapMaxMs: 3_000 });
    await until(() => allConnected(events, ['trades:BTCUSDT']), 'trades acknowledged');
    const pushed: number[] = [];
    for (let i = 0; i < 40; i++) {
      const time = T0 + i * 100;
      pushed.push(time);
      server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time, price: 100 + i / 100, quantity: 0.1, buyerMaker: i % 2 === 0 } });
      await sleep(50);
    }
    await until(() => events.of('trade').length >= pushed.length, 'every trade');
    await sleep(200);
    expect(events.of('trade').map((e) => e.trade.time)).toEqual(pushed);
    expect(handle.stats().reconnects).toBeGreaterThanOrEqual(2); // 2 s of trades, a rotation every 0.5 s
    await until(() => handle.stats().connections === 1, 'one connection after the rotation');
  });
});

describe('ProMexc frame handling', () => {
  /** A stand-in for ccxt's WebSocket client: records what the handler resolves and rejects. */
  function fakeClient(): { resolve: ReturnType<typeof vi.fn>; reject: ReturnType<typeof vi.fn> } {
    return { resolve: vi.fn(), reject: vi.fn() };
  }
  async function client(): Promise<ProMexc> {
    const server = await sim();
    const pro = await mexcProFactory({ restUrl: server.restUrl, wsUrl: server.wsUrl, apiKey: KEY, secret: SECRET, enableRateLimit: false })();
    cleanups.push(() => pro.dispose());
    return pro;
  }
  const klinePush = (fields: Record<string, unknown> = {}): Uint8Array =>
    encodePush({
      channel: 'spot@public.kline.v3.api.pb@BTCUSDT@Min1', symbol: 'BTCUSDT', sendTime: T0, body: 'publicSpotKline',
      data: { interval: 'Min1', windowStart: T0 / 1000, openingPrice: '1', closingPrice: '2', highestPrice: '3', lowestPrice: '0.5', volume: '4', windowEnd: T0 / 1000 + 60, ...fields },
    });

  it('counts a frame that fails to decode and never rejects the pending watches', async () => {
    const pro = await client();
    const c = fakeClient();
    const handle = (m: unknown): void => pro.handleMessage(c as never, m);
    handle(new Uint8Array([0x17, 0xde, 0xad]));
    const good = klinePush();
    handle(good.slice(0, good.length - 5));
    expect(pro.frameStats).toMatchObject({ frames: 2, malformed: 2, unexpected: 0 });
    expect(c.reject).not.toHaveBeenCalled();
    handle(good);
    expect(c.resolve).toHaveBeenCalledTimes(1);
    expect(c.resolve.mock.calls[0]![1]).toBe('candles:BTC/USDT:1m');
  });

  it('drops pushes ccxt would ignore or misread: unknown channel, missing body, unknown symbol', async () => {
    const pro = await client();
    const c = fakeClient();
    const handle = (m: unknown): void => pro.handleMessage(c as never, m);
    handle(encodePush({ channel: 'spot@public.nonsense.v3.api.pb@BTCUSDT', symbol: 'BTCUSDT', body: 'publicSpotKline', data: { interval: 'Min1' } }));
    // A kline channel carrying a trades body: ccxt would parse an empty kline.
    handle(encodePush({ channel: 'spot@public.kline.v3.api.pb@BTCUSDT@Min1', symbol: 'BTCUSDT', body: 'publicAggreDeals', data: { deals: [] } }));
    handle(encodePush({ channel: 'spot@public.kline.v3.api.pb@XYZUSDT@Min1', symbol: 'XYZUSDT', body: 'publicSpotKline', data: { interval: 'Min1', windowStart: 1 } }));
    handle('hello');
    handle({ foo: 1 });
    expect(pro.frameStats).toMatchObject({ frames: 5, malformed: 0, unexpected: 5 });
    expect(c.resolve).not.toHaveBeenCalled();
    expect(c.reject).not.toHaveBeenCalled();
  });

  it('opens no connection once disposed (a watch still on its way is refused)', async () => {
    const server = await sim();
    const pro = await mexcProFactory({ restUrl: server.restUrl, wsUrl: server.wsUrl, enableRateLimit: false })();
    await pro.dispose();
    await expect(pro.watchTrades('BTC/USDT')).rejects.toBeInstanceOf(ccxt.ExchangeClosedByUser);
    expect(server.stats().connections).toBe(0);
    expect(pro.openConnections()).toBe(0);
  });

  it('reports acks and refusals, keeps every account push, and lets ccxt reject on an invalid listen key', async () => {
    const pro = await client();
    const c = fakeClient();
    const acked: string[] = [];
    const refused: string[] = [];
    pro.hooks = { onSubscribed: (ch) => acked.push(ch), onSubscriptionRejected: (m) => refused.push(m) };
    pro.handleMessage(c as never, { id: 0, code: 0, msg: 'spot@public.kline.v3.api.pb@BTCUSDT@Min1,spot@private.deals.v3.api.pb' });
    pro.handleMessage(c as never, { id: 0, code: 0, msg: 'Not Subscribed successfully! [spot@x].  Reason： Blocked! ' });
    pro.handleMessage(c as never, { id: 0, code: 0, msg: 'PONG' });
    expect(acked).toEqual(['spot@public.kline.v3.api.pb@BTCUSDT@Min1', 'spot@private.deals.v3.api.pb']);
    expect(refused).toHaveLength(1);
    expect(pro.frameStats.rejectedSubscriptions).toBe(1);
    for (const amount of ['10', '9.5']) {
      pro.handleMessage(c as never, encodePush({ channel: 'spot@private.account.v3.api.pb', body: 'privateAccount', data: { vcoinName: 'USDT', balanceAmount: amount, frozenAmount: '0.5', type: 'ENTRUST_PLACE', time: T0 } }));
    }
    // ccxt keeps only the merged balance; both pushes are kept for the manager, with exact strings.
    expect(pro.drainAccountUpdates().map((u) => u.balanceAmount)).toEqual(['10', '9.5']);
    expect(pro.drainAccountUpdates()).toEqual([]);
    pro.handleMessage(c as never, 'Invalid listen key');
    expect(c.reject).toHaveBeenCalledTimes(1);
    expect(c.reject.mock.calls[0]![0]).toBeInstanceOf(ccxt.AuthenticationError);
  });
});
