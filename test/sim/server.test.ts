/**
 * The simulator server against MEXC's documented protocol (PROTOCOL.md §1-§3), with raw signed
 * HTTP requests and a raw WebSocket client; expectations come from the documentation and from the
 * fixture candles by hand, not from the server's own output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { decodePush } from '../../services/adapters/mexcSim/proto.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import { BTC_FILE, fixtureCandles, hmacHex, isBinary, signedFetch, WsProbe } from './helpers.js';

const KEY = 'test-key';
const SECRET = 'test-secret';
/** Replay start: the first candle opens here (aligned to 5 minutes for the aggregation check). */
const T0 = Date.UTC(2026, 0, 5, 10, 0);
const BTC = symbolId('BTCUSDT');

let wall = Date.UTC(2026, 0, 5, 12, 0);
let server: SimServer;
let candles: Candle[];

const ts = (): number => wall;
const get = async (path: string): Promise<{ status: number; body: unknown }> => {
  const r = await fetch(server.restUrl + path);
  return { status: r.status, body: await r.json() };
};
const signed = (method: string, path: string, params: Record<string, string> = {}, o: Partial<Parameters<typeof signedFetch>[4]> = {}) =>
  signedFetch(server.restUrl, method, path, params, { apiKey: KEY, secret: SECRET, timestamp: ts(), ...o });

beforeAll(async () => {
  candles = fixtureCandles(BTC_FILE, 120);
  const btc = simMarketFromCandles(BTC, candles);
  server = await startSimServer({
    markets: [
      btc,
      simMarketFromCandles(symbolId('PEPEUSDT'), fixtureCandles('test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz', 10)),
      { ...btc, symbol: symbolId('ETHUSDT'), base: 'ETH', status: 'paused', apiTradable: false },
    ],
    accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
    replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: T0 }),
    now: () => wall,
    listenKeyTtlMs: 60 * 60_000,
  });
  // Ten whole minutes: candles 0..9 closed (each closes at openTime + 60 s), nothing of candle 10 yet.
  server.advanceReplayTo(T0 + 10 * 60_000);
});

afterAll(async () => {
  await server?.close();
});

describe('public REST', () => {
  it('answers ping and time', async () => {
    expect(await get('/api/v3/ping')).toEqual({ status: 200, body: {} });
    expect(await get('/api/v3/time')).toEqual({ status: 200, body: { serverTime: wall } });
  });

  it('lists markets in exchangeInfo with the fields ccxt parses', async () => {
    const { body } = (await get('/api/v3/exchangeInfo')) as { body: { symbols: Record<string, unknown>[] } };
    const btc = body.symbols.find((s) => s.symbol === 'BTCUSDT')!;
    // Fixture prices have 2 decimals and volumes 6: tick 0.01, lot 0.000001; minimum order value 1 USDT;
    // fees 0% / 0.05% as fractions.
    expect(btc).toMatchObject({
      status: '1',
      baseAsset: 'BTC',
      quoteAsset: 'USDT',
      isSpotTradingAllowed: true,
      baseAssetPrecision: 6,
      quoteAssetPrecision: 2,
      baseSizePrecision: '0.000001',
      quoteAmountPrecision: '1',
      makerCommission: '0',
      takerCommission: '0.0005',
      tradeSideType: 1,
      filters: [],
    });
    expect(typeof btc.maxQuoteAmount).toBe('string');
    const eth = body.symbols.find((s) => s.symbol === 'ETHUSDT')!;
    expect(eth.status).toBe('2');
    const pepe = body.symbols.find((s) => s.symbol === 'PEPEUSDT')!;
    // PEPE prices like 0.000003748: nine decimals.
    expect(pepe.quoteAssetPrecision).toBe(9);
    expect(await get('/api/v1/contract/detail')).toEqual({ status: 200, body: { success: true, code: 0, data: [] } });
  });

  it('lists only API-tradable symbols in defaultSymbols', async () => {
    const { body } = (await get('/api/v3/defaultSymbols')) as { body: { code: number; data: string[] } };
    expect(body.code).toBe(200);
    expect(body.data.sort()).toEqual(['BTCUSDT', 'PEPEUSDT']);
  });

  it('serves 1m klines of the replayed candles, shifted to the replay start, and 5m aggregates', async () => {
    const { body } = (await get('/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000')) as { body: unknown[][] };
    expect(body).toHaveLength(10);
    const c0 = candles[0]!;
    expect(body[0]).toEqual([T0, String(c0.open), String(c0.high), String(c0.low), String(c0.close), String(c0.volume), T0 + 60_000, expect.any(String)]);
    expect(body[9]![0]).toBe(T0 + 9 * 60_000);

    const { body: k5 } = (await get('/api/v3/klines?symbol=BTCUSDT&interval=5m')) as { body: unknown[][] };
    expect(k5).toHaveLength(2);
    const first5 = candles.slice(0, 5);
    expect(k5[0]!.slice(0, 7)).toEqual([
      T0,
      String(first5[0]!.open),
      String(Math.max(...first5.map((c) => c.high))),
      String(Math.min(...first5.map((c) => c.low))),
      String(first5[4]!.close),
      Dec.sum(first5.map((c) => Dec.from(c.volume))).toString(),
      T0 + 300_000,
    ]);

    const { body: ranged } = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${T0 + 120_000}&limit=3`)) as { body: unknown[][] };
    expect(ranged.map((r) => r[0])).toEqual([T0 + 120_000, T0 + 180_000, T0 + 240_000]);
    const { body: ended } = (await get(`/api/v3/klines?symbol=BTCUSDT&interval=1m&endTime=${T0 + 120_000}&limit=2`)) as { body: unknown[][] };
    expect(ended.map((r) => r[0])).toEqual([T0 + 60_000, T0 + 120_000]);
  });

  it('shows the book top around the last close in depth and bookTicker', async () => {
    // The replay's book at a path point: one tick (0.01) either side of the price, the last point
    // of candle 9 being its close.
    const close = Dec.from(candles[9]!.close);
    const { body } = (await get('/api/v3/depth?symbol=BTCUSDT')) as { body: { bids: string[][]; asks: string[][]; lastUpdateId: number } };
    expect(body.bids[0]![0]).toBe(close.sub(Dec.from('0.01')).toString());
    expect(body.asks[0]![0]).toBe(close.add(Dec.from('0.01')).toString());
    expect(body.lastUpdateId).toBe(40); // four book events per candle
    const { body: bt } = (await get('/api/v3/ticker/bookTicker?symbol=BTCUSDT')) as { body: Record<string, string> };
    expect(bt.bidPrice).toBe(body.bids[0]![0]);
  });

  it('computes the 24h ticker from the candles so far', async () => {
    const { body } = (await get('/api/v3/ticker/24hr?symbol=BTCUSDT')) as { body: Record<string, unknown> };
    const ten = candles.slice(0, 10);
    expect(body.openPrice).toBe(String(ten[0]!.open));
    expect(body.lastPrice).toBe(String(ten[9]!.close));
    expect(body.highPrice).toBe(String(Math.max(...ten.map((c) => c.high))));
    expect(body.volume).toBe(Dec.sum(ten.map((c) => Dec.from(c.volume))).toString());
    const pct = Dec.from(ten[9]!.close).sub(Dec.from(ten[0]!.open)).div(Dec.from(ten[0]!.open));
    expect(body.priceChangePercent).toBe(pct.toFixed(4));
    const { body: all } = (await get('/api/v3/ticker/24hr')) as { body: unknown[] };
    expect(all).toHaveLength(3);
  });

  it('answers an unknown symbol with -1121', async () => {
    expect(await get('/api/v3/depth?symbol=NOPEUSDT')).toEqual({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
  });
});

describe('signed REST: authentication', () => {
  it('accepts a good signature', async () => {
    const r = await signed('GET', '/api/v3/account');
    expect(r.status).toBe(200);
    expect((r.body as { balances: unknown[] }).balances).toEqual([{ asset: 'USDT', free: '10000', locked: '0' }]);
  });

  it('rejects a wrong signature with 700002', async () => {
    const r = await signed('GET', '/api/v3/account', {}, { signature: hmacHex('another-secret', `timestamp=${wall}`) });
    expect(r).toMatchObject({ status: 400, body: { code: 700002 } });
  });

  it('rejects an unknown or missing API key with 700001', async () => {
    expect(await signed('GET', '/api/v3/account', {}, { apiKey: 'nobody' })).toMatchObject({ status: 400, body: { code: 700001 } });
    expect(await signed('GET', '/api/v3/account', {}, { apiKey: undefined })).toMatchObject({ status: 400, body: { code: 700001 } });
  });

  it('applies the timestamp rule: timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow', async () => {
    expect((await signed('GET', '/api/v3/account', {}, { timestamp: wall - 5000 })).status).toBe(200);
    expect(await signed('GET', '/api/v3/account', {}, { timestamp: wall - 5001 })).toMatchObject({ status: 400, body: { code: 700003 } });
    expect((await signed('GET', '/api/v3/account', {}, { timestamp: wall + 999 })).status).toBe(200);
    expect(await signed('GET', '/api/v3/account', {}, { timestamp: wall + 1000 })).toMatchObject({ status: 400, body: { code: 700003 } });
    expect((await signed('GET', '/api/v3/account', {}, { timestamp: wall - 20_000, recvWindow: 30_000 })).status).toBe(200);
  });

  it('rejects recvWindow above 60000 with 700005', async () => {
    expect(await signed('GET', '/api/v3/account', {}, { recvWindow: 70_000 })).toMatchObject({ status: 400, body: { code: 700005 } });
    expect((await signed('GET', '/api/v3/account', {}, { recvWindow: 60_000 })).status).toBe(200);
  });

  it('signs the raw query followed by the raw body', async () => {
    const query = `timestamp=${wall}`;
    // POST parameters in the body: the signed string is the raw query, then the raw body.
    const post = await fetch(`${server.restUrl}/api/v3/order/test?${query}&signature=${hmacHex(SECRET, query + 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=50000')}`, {
      method: 'POST',
      headers: { 'X-MEXC-APIKEY': KEY, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=0.001&price=50000',
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual({});
  });
});

describe('signed REST: orders', () => {
  it('rests a LIMIT order below the market, lists it, queries it and cancels it', async () => {
    const created = await signed('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '50000', newClientOrderId: 'lim-1' });
    expect(created.status).toBe(200);
    const reply = created.body as Record<string, unknown>;
    // The new-order reply has no status field (PROTOCOL.md §1.3).
    expect(reply).not.toHaveProperty('status');
    expect(reply).toMatchObject({ symbol: 'BTCUSDT', orderListId: -1, price: '50000', origQty: '0.001', type: 'LIMIT', side: 'BUY' });
    const orderId = reply.orderId as string;

    const open = (await signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body as Record<string, unknown>[];
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ orderId, clientOrderId: 'lim-1', status: 'NEW', executedQty: '0', cummulativeQuoteQty: '0', type: 'LIMIT', side: 'BUY' });
    // Order times follow the market clock (the replay, advanced to T0 + 10 min), not the wall clock.
    expect(open[0]!.time).toBe(T0 + 10 * 60_000);
    expect(reply.transactTime).toBe(T0 + 10 * 60_000);

    // 0.001 x 50000 = 50 USDT locked (maker fee 0, but a marketable limit would pay taker: the
    // lock holds the taker fee too, 0.025).
    const acct = (await signed('GET', '/api/v3/account')).body as { balances: { asset: string; free: string; locked: string }[] };
    expect(acct.balances.find((b) => b.asset === 'USDT')).toEqual({ asset: 'USDT', free: '9949.975', locked: '50.025' });

    const q = await signed('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'lim-1' });
    expect(q.body).toMatchObject({ orderId, status: 'NEW' });

    const cancelled = await signed('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ orderId, status: 'CANCELED', origClientOrderId: 'lim-1' });
    expect((await signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body).toEqual([]);
    expect(await signed('DELETE', '/api/v3/order', { symbol: 'BTCUSDT', orderId })).toMatchObject({ status: 400, body: { code: -2011 } });
  });

  it('answers a query for an unknown order with -2013 "Order does not exist."', async () => {
    const r = await signed('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'never-sent' });
    expect([r.status, r.body]).toEqual([400, { code: -2013, msg: 'Order does not exist.' }]);
  });

  it('fills a MARKET buy by quoteOrderQty and books the fill with its taker fee', async () => {
    const created = await signed('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: '100', newClientOrderId: 'mkt-1' });
    expect(created.status).toBe(200);
    const order = (await signed('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'mkt-1' })).body as Record<string, string>;
    expect(order.status).toBe('FILLED');
    expect(order.origQuoteOrderQty).toBe('100');
    const qty = Dec.from(order.executedQty!);
    const cost = Dec.from(order.cummulativeQuoteQty!);
    expect(qty.isPositive()).toBe(true);
    expect(cost.lte(Dec.from(100))).toBe(true);
    // Filled at or above the ask (slippage moves a buy up), never below it.
    const ask = Dec.from(candles[9]!.close).add(Dec.from('0.01'));
    expect(cost.div(qty).gte(ask)).toBe(true);

    const trades = (await signed('GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' })).body as Record<string, unknown>[];
    expect(trades).toHaveLength(1);
    const t = trades[0]!;
    expect(t).not.toHaveProperty('isBuyerMaker');
    expect(t).toMatchObject({ symbol: 'BTCUSDT', orderId: created.body && (created.body as Record<string, unknown>).orderId, isBuyer: true, isMaker: false, commissionAsset: 'USDT', clientOrderId: 'mkt-1' });
    // Taker fee 0.05% of the quote value.
    expect(t.commission).toBe(Dec.from(t.quoteQty as string).mul(Dec.from('0.0005')).toString());
    const acct = (await signed('GET', '/api/v3/account')).body as { balances: { asset: string; free: string; locked: string }[] };
    expect(acct.balances.find((b) => b.asset === 'BTC')).toEqual({ asset: 'BTC', free: qty.toString(), locked: '0' });
    expect(acct.balances.find((b) => b.asset === 'USDT')).toEqual({ asset: 'USDT', free: Dec.from(10_000).sub(cost).sub(Dec.from(t.commission as string)).toString(), locked: '0' });

    const fee = (await signed('GET', '/api/v3/tradeFee', { symbol: 'BTCUSDT' })).body as { data: Record<string, string> };
    expect(fee.data).toEqual({ makerCommission: '0', takerCommission: '0.0005' });
  });

  it('refuses an order on a pair that is not API-tradable with 10007', async () => {
    const r = await signed('POST', '/api/v3/order', { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '50000', newClientOrderId: 'eth-1' });
    expect(r).toMatchObject({ status: 400, body: { code: 10007 } });
  });

  it('logs every create that reached the engine, placed or rejected', async () => {
    const log = server.orderLog();
    expect(log.map((e) => [e.clientOrderId, e.outcome])).toEqual([
      ['lim-1', 'placed'],
      ['mkt-1', 'placed'],
      ['eth-1', 'rejected'],
    ]);
    expect(log[0]).toMatchObject({ account: KEY, symbol: 'BTCUSDT', side: 'buy', type: 'limit' });
    const admin = (await get('/sim/orders')).body as unknown[];
    expect(admin).toHaveLength(3);
  });

  it('lists all orders and cancels all open orders of a symbol', async () => {
    for (const id of ['bulk-1', 'bulk-2']) {
      expect((await signed('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '40000', newClientOrderId: id })).status).toBe(200);
    }
    const cancelled = (await signed('DELETE', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body as Record<string, unknown>[];
    expect(cancelled.map((o) => [o.clientOrderId, o.status])).toEqual([
      ['bulk-1', 'CANCELED'],
      ['bulk-2', 'CANCELED'],
    ]);
    const all = (await signed('GET', '/api/v3/allOrders', { symbol: 'BTCUSDT' })).body as Record<string, unknown>[];
    expect(all.map((o) => o.clientOrderId)).toEqual(['lim-1', 'mkt-1', 'bulk-1', 'bulk-2']);
  });
});

describe('WebSocket', () => {
  it('acks a subscription with a text frame and pushes klines as protobuf with windowStart in seconds', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    const ch = 'spot@public.kline.v3.api.pb@BTCUSDT@Min1';
    const ch5 = 'spot@public.kline.v3.api.pb@BTCUSDT@Min5';
    ws.send({ method: 'SUBSCRIPTION', params: [ch] });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: ch });
    ws.send({ method: 'SUBSCRIPTION', params: [ch5] });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: ch5 });
    // Candle 10's first path point (open, at +1 s): trade, book, then the kline so far.
    expect(server.advanceReplayTo(T0 + 10 * 60_000 + 1_000)).toBe(3);
    const push = decodePush(await ws.take<Uint8Array>(isBinary));
    const push5 = decodePush(await ws.take<Uint8Array>(isBinary));
    // The 5m window opening at T0 + 10 min has only candle 10's first point so far.
    expect(push5).toMatchObject({
      channel: ch5,
      publicSpotKline: { interval: 'Min5', windowStart: String((T0 + 10 * 60_000) / 1000), windowEnd: String((T0 + 15 * 60_000) / 1000), openingPrice: String(candles[10]!.open) },
    });
    const c10 = candles[10]!;
    const start = (T0 + 10 * 60_000) / 1000;
    expect(push).toMatchObject({
      channel: ch,
      symbol: 'BTCUSDT',
      sendTime: String(T0 + 10 * 60_000 + 1_000),
      publicSpotKline: { interval: 'Min1', windowStart: String(start), windowEnd: String(start + 60), openingPrice: String(c10.open), closingPrice: String(c10.open) },
    });
    ws.close();
  });

  it('pushes trades and best bid/ask on their aggre channels', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    const deals = 'spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT';
    const book = 'spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT';
    ws.send({ method: 'SUBSCRIPTION', params: [deals] });
    await ws.take();
    ws.send({ method: 'SUBSCRIPTION', params: [book] });
    await ws.take();
    // Candle 10's second path point is its low, at +20 s.
    server.advanceReplayTo(T0 + 10 * 60_000 + 20_000);
    const d = decodePush(await ws.take<Uint8Array>(isBinary)) as { channel: string; publicAggreDeals: { deals: Record<string, unknown>[] } };
    expect(d.channel).toBe(deals);
    const low = candles[10]!.low;
    expect(d.publicAggreDeals.deals[0]).toMatchObject({ price: String(low), time: String(T0 + 10 * 60_000 + 20_000) });
    const b = decodePush(await ws.take<Uint8Array>(isBinary)) as { channel: string; publicAggreBookTicker: Record<string, string> };
    expect(b.channel).toBe(book);
    expect(b.publicAggreBookTicker.bidPrice).toBe(Dec.from(low).sub(Dec.from('0.01')).toString());
    ws.close();
  });

  it('answers PING and ping with a PONG text frame', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'PING' });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: 'PONG' });
    ws.send({ method: 'ping' });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: 'PONG' });
    ws.close();
  });

  it('rejects the 31st subscription on one connection', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    const channels: string[] = [];
    for (const s of ['BTCUSDT', 'PEPEUSDT', 'ETHUSDT']) {
      for (const iv of ['Min1', 'Min5', 'Min15', 'Min30', 'Min60', 'Hour4', 'Hour8', 'Day1']) channels.push(`spot@public.kline.v3.api.pb@${s}@${iv}`);
      for (const speed of ['100ms', '10ms']) {
        channels.push(`spot@public.aggre.deals.v3.api.pb@${speed}@${s}`, `spot@public.aggre.bookTicker.v3.api.pb@${speed}@${s}`);
      }
    }
    for (const ch of channels.slice(0, 30)) {
      ws.send({ method: 'SUBSCRIPTION', params: [ch] });
      expect(await ws.take()).toEqual({ id: 0, code: 0, msg: ch });
    }
    ws.send({ method: 'SUBSCRIPTION', params: [channels[30]] });
    const reject = await ws.take<{ code: number; msg: string }>();
    expect(reject.msg).toMatch(/^Not Subscribed successfully! \[/);
    expect(reject.msg).toContain(channels[30]);
    // Unsubscribing one makes room again.
    ws.send({ method: 'UNSUBSCRIPTION', params: [channels[0]] });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: channels[0] });
    ws.send({ method: 'SUBSCRIPTION', params: [channels[30]] });
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: channels[30] });
    ws.close();
  });

  it('rejects an unknown channel and a private channel without a listen key', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@public.kline.v3.api.pb@NOPEUSDT@Min1'] });
    expect((await ws.take<{ msg: string }>()).msg).toMatch(/^Not Subscribed successfully!/);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@private.orders.v3.api.pb'] });
    expect((await ws.take<{ msg: string }>()).msg).toMatch(/^Not Subscribed successfully!/);
    ws.close();
  });

  it('sends "Invalid listen key" and closes for an unknown key', async () => {
    const ws = await WsProbe.open(`${server.wsUrl}?listenKey=bogus`);
    expect(await ws.take()).toBe('Invalid listen key');
    await ws.waitClosed();
  });

  it('pushes private order, fill and account updates to the listen key owner', async () => {
    const lk = (await signed('POST', '/api/v3/userDataStream')).body as { listenKey: string };
    expect(lk.listenKey).toMatch(/^[0-9a-f]{64}$/);
    const ws = await WsProbe.open(`${server.wsUrl}?listenKey=${lk.listenKey}`);
    for (const ch of ['spot@private.orders.v3.api.pb', 'spot@private.deals.v3.api.pb', 'spot@private.account.v3.api.pb']) {
      ws.send({ method: 'SUBSCRIPTION', params: [ch] });
      expect(await ws.take()).toEqual({ id: 0, code: 0, msg: ch });
    }
    // Sell the BTC bought earlier at market.
    const bal = (await signed('GET', '/api/v3/account')).body as { balances: { asset: string; free: string }[] };
    const btcFree = bal.balances.find((b) => b.asset === 'BTC')!.free;
    const r = await signed('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: btcFree, newClientOrderId: 'sell-1' });
    expect(r.status).toBe(200);
    const frames: Record<string, unknown>[] = [];
    while (!frames.some((f) => f.privateOrders && (f.privateOrders as { status: number }).status === 2)) frames.push(decodePush(await ws.take<Uint8Array>(isBinary)));
    const deal = frames.find((f) => f.privateDeals) as { channel: string; symbol: string; privateDeals: Record<string, unknown> };
    expect(deal.channel).toBe('spot@private.deals.v3.api.pb');
    expect(deal.symbol).toBe('BTCUSDT');
    expect(deal.privateDeals).toMatchObject({ quantity: btcFree, tradeType: 2, clientOrderId: 'sell-1', feeCurrency: 'USDT' });
    const order = frames.find((f) => f.privateOrders && (f.privateOrders as { status: number }).status === 2) as { privateOrders: Record<string, unknown> };
    expect(order.privateOrders).toMatchObject({ clientId: 'sell-1', tradeType: 2, orderType: 5, cumulativeQuantity: btcFree });
    const account = frames.filter((f) => f.privateAccount) as { channel: string; privateAccount: Record<string, string> }[];
    expect(account.length).toBeGreaterThan(0);
    expect(account[0]!.channel).toBe('spot@private.account.v3.api.pb');
    expect(account.some((a) => a.privateAccount.vcoinName === 'BTC' && a.privateAccount.type === 'ENTRUST_PLACE')).toBe(true);
    ws.close();
  });

  it('expires listen keys after the TTL unless a PUT extends them', async () => {
    const a = ((await signed('POST', '/api/v3/userDataStream')).body as { listenKey: string }).listenKey;
    const b = ((await signed('POST', '/api/v3/userDataStream')).body as { listenKey: string }).listenKey;
    wall += 59 * 60_000;
    expect((await signed('PUT', '/api/v3/userDataStream', { listenKey: b })).status).toBe(200);
    wall += 2 * 60_000; // 61 minutes after creation, 2 after b's PUT
    const wsA = await WsProbe.open(`${server.wsUrl}?listenKey=${a}`);
    expect(await wsA.take()).toBe('Invalid listen key');
    const wsB = await WsProbe.open(`${server.wsUrl}?listenKey=${b}`);
    wsB.send({ method: 'PING' });
    expect(await wsB.take()).toEqual({ id: 0, code: 0, msg: 'PONG' });
    wsB.close();
  });

  it('drops every connection on request', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'PING' });
    await ws.take();
    const r = await fetch(`${server.restUrl}/sim/disconnect`, { method: 'POST' });
    expect(((await r.json()) as { dropped: number }).dropped).toBeGreaterThanOrEqual(1);
    await ws.waitClosed();
  });
});

describe('connection lifetime', () => {
  it('closes connections older than maxConnectionMs', async () => {
    const s = await startSimServer({ markets: [], accounts: [], maxConnectionMs: 50 });
    try {
      const ws = await WsProbe.open(s.wsUrl);
      await ws.waitClosed();
      expect(ws.closed).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('the market clock in manual mode', () => {
  it('never runs behind an event pushed by hand: an order placed after it is stamped at or after it', async () => {
    // The replay stops at T0 + 10 min (advanceReplayTo); the test then pushes the market by hand,
    // 5 minutes later. A real venue would stamp an order after that book at its own time, not at the
    // minute the replay stopped (restart reconciliation looks fills up from an order's local time).
    const s = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
      replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: T0 }),
      now: () => wall,
    });
    try {
      s.advanceReplayTo(T0 + 10 * 60_000);
      const pushedAt = T0 + 15 * 60_000 + 123;
      const price = candles[9]!.close;
      s.pushMarketData({ type: 'book', symbol: BTC, book: { time: pushedAt, bid: price - 1, bidSize: 5, ask: price, askSize: 5 } });
      const created = await signedFetch(s.restUrl, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quoteOrderQty: '100', newClientOrderId: 'after-push' }, { apiKey: KEY, secret: SECRET, timestamp: wall });
      expect(created.status).toBe(200);
      expect((created.body as { transactTime: number }).transactTime).toBe(pushedAt);
      const trades = (await signedFetch(s.restUrl, 'GET', '/api/v3/myTrades', { symbol: 'BTCUSDT' }, { apiKey: KEY, secret: SECRET, timestamp: wall })).body as { time: number }[];
      expect(trades.map((t) => t.time)).toEqual([pushedAt]);
      // An event pushed with an older time does not move the clock back.
      s.pushMarketData({ type: 'book', symbol: BTC, book: { time: pushedAt - 60_000, bid: price - 1, bidSize: 5, ask: price, askSize: 5 } });
      const again = await signedFetch(s.restUrl, 'POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '1000', newClientOrderId: 'after-old-push' }, { apiKey: KEY, secret: SECRET, timestamp: wall });
      expect((again.body as { transactTime: number }).transactTime).toBe(pushedAt);
    } finally {
      await s.close();
    }
  });
});
