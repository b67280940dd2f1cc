/**
 * The simulated exchange's fill rules (see the file comment of services/backtest/simExchange.ts),
 * driven the way the backtest engine drives it: `beginCandle`, then the path open -> low -> high ->
 * close at offsets 1 s / 20 s / 40 s / 59.999 s, decisions at the candle's close.
 *
 * Every expected price and fee below is worked out by hand in the comment next to it.
 */
import { describe, it, expect } from 'vitest';
import { SimExchange, type SimExchangeOptions } from '../../services/backtest/simExchange.js';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type Candle, type SymbolId } from '../../services/core/types.js';
import type { Fill, MarketInfo, OrderRequest, OrderUpdate } from '../../services/execution/types.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const OFFSETS = [1_000, 20_000, 40_000, 59_999] as const;
const BTC = symbolId('BTCUSDT');
const PEPE = symbolId('PEPEUSDT');

const BTC_MARKET: MarketInfo = { symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: dec('0.01'), stepSize: dec('0.001'), minNotional: dec(5) };
const PEPE_MARKET: MarketInfo = { symbol: PEPE, base: 'PEPE', quote: 'USDT', tickSize: dec('0.0000000001'), stepSize: dec(1), minNotional: dec(1) };

const OPTS: SimExchangeOptions = { makerFeePct: 0.02, takerFeePct: 0.05, slippageBps: 2, impactBpsPerPctVolume: 0.5, latencyMs: 250, participationPct: 10 };

/** A sim with a recorder of every fill and order update, and a clock of 1m candles. */
function rig(opts: Partial<SimExchangeOptions> = {}, markets: MarketInfo[] = [BTC_MARKET, PEPE_MARKET]) {
  const sim = new SimExchange(markets, { ...OPTS, ...opts });
  const fills: Fill[] = [];
  const updates: OrderUpdate[] = [];
  sim.subscribe({ onFill: (f) => fills.push(f), onOrderUpdate: (u) => updates.push(u) });
  let next = T0;
  /** Plays one whole candle (open time = the clock) and sets the time to its close. */
  const candle = (o: number, h: number, l: number, c: number, v: number, sym: SymbolId = BTC): Candle => {
    const k: Candle = { openTime: next, open: o, high: h, low: l, close: c, volume: v };
    sim.beginCandle(sym, k);
    [o, l, h, c].forEach((p, j) => sim.tick(sym, p, next + OFFSETS[j]!));
    next += MIN;
    sim.setTime(next);
    return k;
  };
  /** Starts a candle and plays only its first `n` path points (to act in the middle of it). */
  const partial = (o: number, h: number, l: number, c: number, v: number, n: number, sym: SymbolId = BTC): void => {
    sim.beginCandle(sym, { openTime: next, open: o, high: h, low: l, close: c, volume: v });
    [o, l, h, c].slice(0, n).forEach((p, j) => sim.tick(sym, p, next + OFFSETS[j]!));
  };
  type Req = Omit<OrderRequest, 'symbol' | 'quantity' | 'price' | 'stopPrice'> & { quantity: string | number; price?: string | number; stopPrice?: string | number; symbol?: SymbolId };
  /** Submits with decimal strings or numbers for the money fields (BTCUSDT by default). */
  const submit = ({ quantity, price, stopPrice, symbol, ...rest }: Req) =>
    sim.submit({
      ...rest,
      symbol: symbol ?? BTC,
      quantity: dec(quantity),
      ...(price !== undefined ? { price: dec(price) } : {}),
      ...(stopPrice !== undefined ? { stopPrice: dec(stopPrice) } : {}),
    });
  return { sim, fills, updates, candle, partial, submit, now: () => next };
}

/** Fill as strings, for readable equality. */
function plain(f: Fill) {
  return { id: f.clientOrderId, side: f.side, price: f.price.toString(), quantity: f.quantity.toString(), fee: f.fee.toString(), liquidity: f.liquidity, time: f.time };
}

describe('SimExchange market orders', () => {
  it('fills a buy decided at a close at the next open plus slippage, rounded up to the tick; taker fee exact', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 400);
    const ack = await r.submit({ clientOrderId: 'B1', side: 'buy', type: 'market', quantity: 2 });
    expect(ack.status).toBe('new');
    expect(r.fills).toHaveLength(0); // in flight: arrives 250 ms after the close
    r.candle(50.37, 50.6, 50.3, 50.5, 400);
    // 2 of 400 = 0.5% of volume -> 2 + 0.5 x 0.5 = 2.25 bps; 50.37 x 1.000225 = 50.38133325 -> up to 50.39.
    // Fee = 50.39 x 2 = 100.78 x 0.05% = 0.05039.
    expect(r.fills.map(plain)).toEqual([{ id: 'B1', side: 'buy', price: '50.39', quantity: '2', fee: '0.05039', liquidity: 'taker', time: T0 + MIN + 1_000 }]);
    expect(r.fills[0]!.fee.eq(dec('0.05039'))).toBe(true);
    expect(r.updates.map((u) => [u.clientOrderId, u.status, u.filledQuantity.toString()])).toEqual([['B1', 'filled', '2']]);
    expect(r.sim.openOrders(BTC)).toHaveLength(0);
  });

  it('fills a sell at the next open minus slippage, rounded down to the tick', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 400);
    await r.submit({ clientOrderId: 'S1', side: 'sell', type: 'market', quantity: 2 });
    r.candle(50.37, 50.6, 50.3, 50.5, 400);
    // 2.25 bps as above: 50.37 x 0.999775 = 50.35866675 -> down to 50.35. Fee = 100.70 x 0.0005 = 0.05035.
    expect(r.fills.map(plain)).toEqual([{ id: 'S1', side: 'sell', price: '50.35', quantity: '2', fee: '0.05035', liquidity: 'taker', time: T0 + MIN + 1_000 }]);
  });

  it('waits out the latency: a 25 s latency skips the open (61 s) and the low (80 s) and fills at the high (100 s)', async () => {
    const r = rig({ latencyMs: 25_000 });
    r.candle(50, 50.5, 49.8, 50.2, 400);
    await r.submit({ clientOrderId: 'B1', side: 'buy', type: 'market', quantity: 2 });
    r.candle(50.37, 50.6, 50.3, 50.5, 400);
    // Arrival = close (60 s) + 25 s = 85 s. Path: 61 s open, 80 s low, 100 s high.
    // 50.6 x 1.000225 = 50.611385 -> up to 50.62.
    expect(r.fills.map((f) => [f.price.toString(), f.time])).toEqual([['50.62', T0 + MIN + 40_000]]);
  });

  it('caps slippage at 100 bps', async () => {
    const r = rig();
    r.candle(50, 50, 50, 50, 400);
    await r.submit({ clientOrderId: 'B1', side: 'buy', type: 'market', quantity: 10 });
    await r.submit({ clientOrderId: 'S1', side: 'sell', type: 'market', quantity: 10 });
    r.candle(50, 50, 50, 50, 5);
    // 10 of 5 = 200% of volume -> 2 + 0.5 x 200 = 102 bps, capped to 100: buy 50 x 1.01 = 50.5, sell 50 x 0.99 = 49.5.
    expect(r.fills.map((f) => f.price.toString())).toEqual(['50.5', '49.5']);
  });

  it('rounds the exact slipped price, not a float product an ulp off the tick', async () => {
    const market: MarketInfo = { ...BTC_MARKET, tickSize: dec('0.0001') };
    const r = rig({ slippageBps: 10, impactBpsPerPctVolume: 0 }, [market]);
    r.candle(2.4, 2.4, 2.4, 2.4, 1000);
    await r.submit({ clientOrderId: 'S1', side: 'sell', type: 'market', quantity: 10 });
    r.candle(2.4, 2.4, 2.4, 2.4, 1000);
    // 2.4 x (1 - 0.001) = 2.3976 exactly, already on the 0.0001 tick. (In floats 2.4 x 0.999 is
    // 2.3975999999999997, which rounded down gives 2.3975: a tick lost to float error.)
    expect(r.fills[0]!.price.toString()).toBe('2.3976');
  });

  it('prices a PEPE-like market (10-decimal tick, 12 million units) exactly', async () => {
    const r = rig();
    r.candle(0.0000012345, 0.0000012345, 0.0000012345, 0.0000012345, 1_000_000_000, PEPE);
    await r.submit({ clientOrderId: 'P1', side: 'buy', type: 'market', quantity: 12_345_678, symbol: PEPE });
    r.candle(0.0000012345, 0.0000012345, 0.0000012345, 0.0000012345, 1_000_000_000, PEPE);
    // 12,345,678 of 10^9 = 1.2345678% -> 2 + 0.5 x 1.2345678 = 2.6172839 bps;
    // 0.0000012345 x 1.00026172839 = 0.000001234823103697455 -> up to the tick: 0.0000012349.
    // Notional = 12,345,678 x 12,349 x 10^-10 = 152,456,777,622 x 10^-10 = 15.2456777622;
    // fee = 15.2456777622 x 0.0005 = 0.0076228388811.
    const f = r.fills[0]!;
    expect(f.price.toString()).toBe('0.0000012349');
    expect(f.price.mul(f.quantity).toString()).toBe('15.2456777622');
    expect(f.fee.eq(dec('0.0076228388811'))).toBe(true);
  });
});

describe('SimExchange stop-triggered market sells', () => {
  it('fills at the stop when the previous path price was above it (continuous crossing)', async () => {
    const r = rig();
    r.candle(100, 100.5, 99.8, 100.2, 1000);
    r.partial(100, 100.4, 98.5, 99, 1000, 2); // open 100, then low 98.5
    const ack = await r.submit({ clientOrderId: 'X1', side: 'sell', type: 'market', quantity: 1, stopPrice: 99 });
    // Fills at once (the stop is checked on this tick): 1 of 1000 = 0.1% -> 2 + 0.05 = 2.05 bps;
    // 99 x 0.999795 = 98.979705 -> down to 98.97. Fee 98.97 x 0.0005 = 0.049485.
    expect(ack.status).toBe('filled');
    expect(r.fills.map(plain)).toEqual([{ id: 'X1', side: 'sell', price: '98.97', quantity: '1', fee: '0.049485', liquidity: 'taker', time: T0 + MIN + 20_000 }]);
  });

  it('fills at the current price when the candle opened below the stop (a gap from the previous close)', async () => {
    const r = rig();
    r.candle(100, 100.5, 99.8, 100.2, 1000); // last price 100.2, above the stop
    r.partial(98, 98.6, 97.5, 98.2, 1000, 1); // opens at 98: no trade between 100.2 and 98
    await r.submit({ clientOrderId: 'X1', side: 'sell', type: 'market', quantity: 1, stopPrice: 99 });
    // 98 x 0.999795 = 97.97991 -> down to 97.97 (not 98.97: nobody bought at 99 in the gap).
    expect(r.fills.map((f) => f.price.toString())).toEqual(['97.97']);
  });

  it('fills at the current price when the previous path price was already below the stop', async () => {
    const r = rig();
    r.candle(100, 100.5, 99.8, 100.2, 1000);
    r.partial(100, 98.8, 98.5, 98.6, 1000, 3); // open 100, low 98.5, high 98.8
    await r.submit({ clientOrderId: 'X1', side: 'sell', type: 'market', quantity: 1, stopPrice: 99 });
    // Previous 98.5 and current 98.8 are both below 99: no crossing on this step.
    // 98.8 x 0.999795 = 98.779746 -> down to 98.77.
    expect(r.fills.map((f) => f.price.toString())).toEqual(['98.77']);
  });
});

describe('SimExchange resting limit orders', () => {
  it('fills a limit sell only when the price trades strictly through it, at the limit, as maker', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'sell', type: 'limit', quantity: 1, price: 51 });
    r.candle(50.2, 51, 50.1, 50.9, 1000); // touches 51, does not trade through
    expect(r.fills).toHaveLength(0);
    r.candle(50.9, 52.5, 50.8, 52, 1000); // high 52.5 > 51: fills at 51, not at 52.5
    // Maker fee 51 x 1 x 0.02% = 0.0102; at the high tick (40 s into the third candle).
    expect(r.fills.map(plain)).toEqual([{ id: 'L1', side: 'sell', price: '51', quantity: '1', fee: '0.0102', liquidity: 'maker', time: T0 + 2 * MIN + 40_000 }]);
  });

  it('fills a limit buy only when the price trades strictly below it, at the limit', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'buy', type: 'limit', quantity: 1, price: 49 });
    r.candle(50.2, 50.3, 49, 50, 1000);
    expect(r.fills).toHaveLength(0);
    r.candle(50, 50.1, 48.5, 49.5, 1000);
    expect(r.fills.map((f) => [f.price.toString(), f.time])).toEqual([['49', T0 + 2 * MIN + 20_000]]);
  });

  it('does not count a touch as trading through for a price whose float conversion is inexact (590.33)', async () => {
    const r = rig();
    r.candle(590, 590.1, 589.9, 590, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'sell', type: 'limit', quantity: '0.1', price: '590.33' });
    r.candle(590, 590.33, 589.9, 590.2, 1000);
    expect(r.fills).toHaveLength(0);
    r.candle(590.2, 590.34, 590.1, 590.3, 1000);
    expect(r.fills.map((f) => f.price.toString())).toEqual(['590.33']);
  });

  it('fills at most participationPct of each candle, partially over several candles; a zero-volume candle fills nothing', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'sell', type: 'limit', quantity: '2.5', price: 51 });
    // Each candle trades through 51 (high 52); 10% of 10 = 1 per candle.
    r.candle(50.2, 52, 50.1, 50.8, 10); // fills 1 at the high tick
    r.candle(50.8, 52, 50.5, 50.9, 0); // zero volume: nothing
    r.candle(50.9, 52, 50.5, 50.7, 10); // fills 1
    r.candle(51.7, 52, 51.2, 51.8, 10); // opens above 51: fills the last 0.5 at the open tick
    expect(r.fills.map((f) => [f.quantity.toString(), f.time])).toEqual([
      ['1', T0 + MIN + 40_000],
      ['1', T0 + 3 * MIN + 40_000],
      ['0.5', T0 + 4 * MIN + 1_000],
    ]);
    expect(r.updates.map((u) => [u.status, u.filledQuantity.toString()])).toEqual([
      ['partially_filled', '1'],
      ['partially_filled', '2'],
      ['filled', '2.5'],
    ]);
    expect(Dec.sum(r.fills.map((f) => f.fee)).eq(dec('0.0255'))).toBe(true); // 51 x 2.5 x 0.0002
  });

  it('shares one candle budget across our resting orders', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'sell', type: 'limit', quantity: 1, price: 51 });
    await r.submit({ clientOrderId: 'L2', side: 'sell', type: 'limit', quantity: 1, price: '51.5' });
    r.candle(50.2, 52, 50.1, 51.9, 15); // budget 1.5: L1 takes 1, L2 the remaining 0.5
    expect(r.fills.map((f) => [f.clientOrderId, f.quantity.toString()])).toEqual([
      ['L1', '1'],
      ['L2', '0.5'],
    ]);
  });

  it('rejects a post-only order that would take liquidity', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50, 1000); // last price 50
    const bad = [
      await r.submit({ clientOrderId: 'P1', side: 'sell', type: 'limit', quantity: 1, price: 50, postOnly: true }),
      await r.submit({ clientOrderId: 'P2', side: 'buy', type: 'limit', quantity: 1, price: '50.01', postOnly: true }),
    ];
    const good = [
      await r.submit({ clientOrderId: 'P3', side: 'sell', type: 'limit', quantity: 1, price: '50.01', postOnly: true }),
      await r.submit({ clientOrderId: 'P4', side: 'buy', type: 'limit', quantity: 1, price: '49.99', postOnly: true }),
    ];
    expect(bad.map((a) => [a.status, a.reason])).toEqual([
      ['rejected', 'post-only order would take liquidity'],
      ['rejected', 'post-only order would take liquidity'],
    ]);
    expect(good.map((a) => a.status)).toEqual(['new', 'new']);
    expect(r.sim.openOrders(BTC).map((o) => o.clientOrderId)).toEqual(['P3', 'P4']);
    expect(r.updates.filter((u) => u.status === 'rejected').map((u) => u.clientOrderId)).toEqual(['P1', 'P2']);
  });
});

describe('SimExchange order validation and cancel', () => {
  it('rejects a duplicate client order id and leaves the live order that owns it alone', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    expect((await r.submit({ clientOrderId: 'A', side: 'sell', type: 'limit', quantity: 1, price: 51 })).status).toBe('new');
    const dup = await r.submit({ clientOrderId: 'A', side: 'sell', type: 'limit', quantity: 2, price: 52 });
    expect([dup.status, dup.reason]).toEqual(['rejected', 'duplicate client order id']);
    expect(r.updates).toHaveLength(0); // no 'rejected' update under the live order's id
    expect(r.sim.log.map((l) => l.clientOrderId)).toEqual(['A']);
    r.candle(50.2, 53, 50.1, 52, 1000);
    expect(r.fills.map((f) => [f.clientOrderId, f.price.toString(), f.quantity.toString()])).toEqual([['A', '51', '1']]);
  });

  it('rejects a quantity that is not a positive multiple of the lot step', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    for (const q of ['1.0005', '0', '-1']) {
      const ack = await r.submit({ clientOrderId: `Q${q}`, side: 'buy', type: 'limit', quantity: q, price: 49 });
      expect([ack.status, ack.reason]).toEqual(['rejected', 'quantity is not a positive multiple of the lot step']);
    }
    expect((await r.submit({ clientOrderId: 'Q', side: 'buy', type: 'limit', quantity: '1.001', price: 49 })).status).toBe('new');
    expect(r.sim.log.map((l) => l.clientOrderId)).toEqual(['Q']);
  });

  it('rejects a notional below the minimum (5 USDT), by limit price or by last price for a market order', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50, 1000);
    // 0.099 x 50 = 4.95 < 5; 0.1 x 50 = 5 is not below.
    const low = await r.submit({ clientOrderId: 'N1', side: 'buy', type: 'limit', quantity: '0.099', price: 50 });
    const lowMarket = await r.submit({ clientOrderId: 'N2', side: 'buy', type: 'market', quantity: '0.099' });
    const ok = await r.submit({ clientOrderId: 'N3', side: 'buy', type: 'limit', quantity: '0.1', price: 50 });
    expect([low.status, low.reason]).toEqual(['rejected', 'notional below the minimum']);
    expect([lowMarket.status, lowMarket.reason]).toEqual(['rejected', 'notional below the minimum']);
    expect(ok.status).toBe('new');
  });

  it('cancels resting and in-flight orders; a cancelled order never fills', async () => {
    const r = rig();
    r.candle(50, 50.5, 49.8, 50.2, 1000);
    await r.submit({ clientOrderId: 'L1', side: 'sell', type: 'limit', quantity: '2.5', price: 51 });
    r.candle(50.2, 52, 50.1, 51.5, 10); // partial fill of 1
    await r.submit({ clientOrderId: 'M1', side: 'buy', type: 'market', quantity: 1 });
    const c1 = await r.sim.cancel(BTC, 'L1');
    const c2 = await r.sim.cancel(BTC, 'M1');
    expect([c1.status, c2.status]).toEqual(['cancelled', 'cancelled']);
    expect(r.updates.slice(-2).map((u) => [u.clientOrderId, u.status, u.filledQuantity.toString()])).toEqual([
      ['L1', 'cancelled', '1'],
      ['M1', 'cancelled', '0'],
    ]);
    expect(r.sim.openOrders(BTC)).toHaveLength(0);
    r.candle(51.5, 53, 51, 52, 1000);
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['L1']); // only the earlier partial
    const again = await r.sim.cancel(BTC, 'L1');
    expect([again.status, again.reason]).toEqual(['rejected', 'unknown order']);
  });
});
