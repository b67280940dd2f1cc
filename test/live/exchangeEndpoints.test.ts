/**
 * The exchange endpoints over the real MEXC adapter (ccxt) against the project's simulator on
 * loopback, in live mode: what a dry run would send, and the real test order with its refusals
 * (above the small cap, on a symbol this process trades, live trading off).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { ExchangeEndpoints, symbolOf } from '../../services/live/exchangeEndpoints.js';
import { SIGNAL_PROFILES } from '../../services/signals/policy.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import { BTC_FILE, fixtureCandles } from '../sim/helpers.js';

const BTC = symbolId('BTCUSDT');
const ETH = symbolId('ETHUSDT');
const candles = fixtureCandles(BTC_FILE, 50);

describe('exchange endpoints against the simulator (ccxt over loopback)', () => {
  let server: SimServer;
  let venue: CcxtMexcVenue;
  const signals = parseConfig({}).signals; // test orders at most 10 USDT; minimum 5

  beforeAll(async () => {
    server = await startSimServer({ markets: [simMarketFromCandles(BTC, candles), simMarketFromCandles(ETH, candles)], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(500) } }] });
    const t = Date.now();
    for (const s of [BTC, ETH]) server.pushMarketData({ type: 'book', symbol: s, book: { time: t, bid: 100, bidSize: 10, ask: 100.5, askSize: 10 } });
    venue = new CcxtMexcVenue({ restUrl: server.restUrl, apiKey: 'k', secret: 's', enableRateLimit: false });
    await venue.loadMarkets();
  });
  afterAll(async () => {
    await venue.close();
    await server.close();
  });

  const endpoints = (over: Partial<ConstructorParameters<typeof ExchangeEndpoints>[0]> = {}) =>
    new ExchangeEndpoints({ venue, signals, profile: SIGNAL_PROFILES.conservative, liveTrading: true, traded: (s) => s === BTC, placeOrder: (r) => venue.createOrder(r), now: Date.now, ...over });
  const q = (s: string) => new URLSearchParams(s);

  it('ping, balance, markets and ticker answer { ok: true, ... }', async () => {
    const e = endpoints();
    expect((await e.handle('GET', '/exchange/ping', q(''))).body).toMatchObject({ ok: true, markets: 2 });
    expect((await e.handle('GET', '/exchange/balance', q(''))).body).toMatchObject({ ok: true, balances: [{ asset: 'USDT', free: '500', locked: '0' }] });
    const m = await e.handle('GET', '/exchange/markets', q('limit=1'));
    expect(m.body).toMatchObject({ ok: true, total: 2, count: 1 });
    expect(await e.handle('GET', '/exchange/ticker/ETH-USDT', q(''))).toMatchObject({ status: 200, body: { ok: true, symbol: 'ETHUSDT', bid: 100, ask: 100.5 } });
    expect(symbolOf('btc%2Fusdt')).toBe('BTCUSDT');
  });

  it('a dry run prices the notional at the ask and rounds to the lot; nothing reaches the venue', async () => {
    const e = endpoints();
    const r = await e.handle('POST', '/exchange/test-order', q('symbol=ETHUSDT&side=buy&notional_usd=25'));
    const lot = venue.market(ETH).stepSize;
    // 25 / 100.5 = 0.248756..., floored to the market's lot.
    const qty = Dec.from(25).div(Dec.from(100.5)).floorTo(lot);
    expect(r).toMatchObject({ status: 200, body: { ok: true, dryRun: true, wouldSend: { side: 'buy', type: 'market', quantity: qty.toString(), priceEstimate: 100.5, notional: qty.mul(Dec.from(100.5)).toString() } } });
    expect(await venue.fetchOpenOrders(ETH)).toEqual([]);
    expect((await venue.fetchMyTrades(ETH)).length).toBe(0);
  });

  it('a real test order under the cap on a symbol not traded here is sent; the refusals say why', async () => {
    const e = endpoints();
    const sent = await e.handle('POST', '/exchange/test-order', q('symbol=ETHUSDT&side=buy&notional_usd=6&dry_run=false'));
    expect(sent).toMatchObject({ status: 200, body: { ok: true, dryRun: false, order: { status: 'new' } } });
    // The simulator executes a market order after its latency, on the next market data past it.
    const id = (sent.body.order as { clientOrderId: string }).clientOrderId;
    expect(id).toMatch(/^TEST[0-9a-z]+$/);
    const end = Date.now() + 5000;
    while ((await venue.fetchOrderByClientId(ETH, id))?.status !== 'filled') {
      if (Date.now() > end) throw new Error('the test order did not fill');
      await new Promise((r) => setTimeout(r, 50));
      server.pushMarketData({ type: 'book', symbol: ETH, book: { time: Date.now(), bid: 100, bidSize: 10, ask: 100.5, askSize: 10 } });
    }
    expect((await venue.fetchMyTrades(ETH)).length).toBeGreaterThan(0);

    const overCap = await e.handle('POST', '/exchange/test-order', q('symbol=ETHUSDT&side=buy&notional_usd=11&dry_run=false'));
    expect(overCap.status).toBe(403);
    expect(overCap.body.error).toContain('above signals.testOrderMaxNotional 10');
    const traded = await e.handle('POST', '/exchange/test-order', q('symbol=BTCUSDT&side=buy&notional_usd=6&dry_run=false'));
    expect(traded.status).toBe(403);
    expect(traded.body.error).toContain('traded by this process');
    const paper = await endpoints({ liveTrading: false }).handle('POST', '/exchange/test-order', q('symbol=ETHUSDT&side=buy&notional_usd=6&dry_run=false'));
    expect(paper.body.error).toContain('live trading is off');
    const tooSmall = await e.handle('POST', '/exchange/test-order', q('symbol=ETHUSDT&side=buy&notional_usd=4'));
    expect(tooSmall).toMatchObject({ status: 422, body: { ok: false } });
  });

  it('a venue failure is 502 with its kind, never a throw', async () => {
    const e = endpoints({ venue: { ...venue, name: 'broken', loadMarkets: () => Promise.reject(new Error('connect ECONNREFUSED')), market: (s) => venue.market(s), fetchBalances: () => venue.fetchBalances(), fetchTickers24h: (s) => venue.fetchTickers24h(s), fetchBookTop: (s) => venue.fetchBookTop(s) } });
    expect(await e.handle('GET', '/exchange/ping', q(''))).toMatchObject({ status: 502, body: { ok: false, error: 'the venue failed: Error: connect ECONNREFUSED' } });
  });
});
