/**
 * The one fill model (services/sim/matchingEngine.ts) fed the way the backtest feeds it
 * (test/helpers/engineRig.ts: per candle the path open -> low -> high -> close at +1 s / +20 s /
 * +40 s / +59.999 s, each point a print of a quarter of the volume and a book one tick either side).
 * Every expected price and fee is worked out by hand in the comment next to it. Rig: tick 0.01,
 * lot 0.001, taker 0.05%, maker 0.02%, slippage 2 bps + 0.5 bps per % of the 60 s volume, latency
 * 250 ms, 10% participation per print.
 */
import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import type { Fill } from '../helpers/types.js';
import { BTC, MIN, T0, engineRig } from '../helpers/engineRig.js';

function plain(f: Fill) {
  return { id: f.clientOrderId, side: f.side, price: f.price.toString(), quantity: f.quantity.toString(), fee: f.fee.toString(), liquidity: f.liquidity, time: f.time };
}

const buy = (id: string, quantity: string | number, symbol = BTC) => ({ clientOrderId: id, symbol, side: 'buy' as const, type: 'market' as const, quantity: dec(quantity) });

describe('market orders: latency and the book in force', () => {
  it('a buy decided at a close executes 250 ms later against the close’s book, plus slippage, up to the tick', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    const ack = r.submit(buy('B1', 2));
    expect(ack.status).toBe('new');
    expect(r.fills).toHaveLength(0); // in flight
    r.candle({ o: 50.37, h: 50.6, l: 50.3, c: 50.5, v: 400 });
    // The close's ask 50.21; 2 of the 400 traded in the 60 s before = 0.5% -> 2 + 0.25 = 2.25 bps;
    // 50.21 x 1.000225 = 50.22129725 -> up to 50.23. Fee 100.46 x 0.05% = 0.05023.
    expect(r.fills.map(plain)).toEqual([{ id: 'B1', side: 'buy', price: '50.23', quantity: '2', fee: '0.05023', liquidity: 'taker', time: T0 + MIN + 250 }]);
    expect(r.updates.map((u) => [u.clientOrderId, u.status, u.filledQuantity.toString()])).toEqual([
      ['B1', 'new', '0'],
      ['B1', 'filled', '2'],
    ]);
    expect(r.openOrders()).toHaveLength(0);
  });

  it('a sell executes at the bid minus slippage, down to the tick', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(buy('B0', 2));
    r.candle({ o: 50.37, h: 50.6, l: 50.3, c: 50.2, v: 400 });
    r.submit({ clientOrderId: 'S1', symbol: BTC, side: 'sell', type: 'market', quantity: dec(2) });
    r.candle({ o: 50.37, h: 50.6, l: 50.3, c: 50.5, v: 400 });
    // The close's bid 50.19; 2.25 bps: 50.19 x 0.999775 = 50.17870725 -> down to 50.17. Fee 100.34 x 0.0005 = 0.05017.
    expect(plain(r.fills[1]!)).toEqual({ id: 'S1', side: 'sell', price: '50.17', quantity: '2', fee: '0.05017', liquidity: 'taker', time: T0 + 2 * MIN + 250 });
  });

  it('waits out the latency: with 25 s it skips the open and the low and executes at the low’s book before the high', () => {
    const r = engineRig({ engine: { latencyMs: 25_000 } });
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(buy('B1', 2));
    r.candle({ o: 50.37, h: 50.6, l: 50.3, c: 50.5, v: 400 });
    // Arrival 60 s + 25 s = 85 s; the prints at 61 s (open) and 80 s (low) come before it, so the book
    // in force is the low's: ask 50.31. The 60 s before 85 s: 40 s, 59.999 s, 61 s, 80 s = 400.
    // 2.25 bps: 50.31 x 1.000225 = 50.32131975 -> 50.33, at the arrival.
    expect(r.fills.map((f) => [f.price.toString(), f.time])).toEqual([['50.33', T0 + MIN + 25_000]]);
  });

  it('with no latency configured, executes at once against the current book', () => {
    const r = engineRig({ engine: { latencyMs: 0 } });
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    expect(r.submit(buy('B1', 2)).status).toBe('filled');
    // 50.21 x 1.000225 = 50.22129725 -> 50.23, at the decision time.
    expect(r.fills.map((f) => [f.price.toString(), f.time])).toEqual([['50.23', T0 + MIN]]);
  });

  it('impact counts only the volume traded before the fill (no look-ahead), capped at 100 bps', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 5 });
    r.submit(buy('B1', 10));
    // The next candle trades a million; the fill cannot know it. 10 of the 5 before = 200% ->
    // 2 + 100 = 102 bps, capped at 100: 50.01 x 1.01 = 50.5101 -> up to 50.52.
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 1_000_000 });
    expect(r.fills.map((f) => f.price.toString())).toEqual(['50.52']);
  });

  it('with nothing traded in the 60 s before, the impact is that of 100% of the volume', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 0 });
    r.submit(buy('B1', 1));
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 0 });
    // 2 + 0.5 x 100 = 52 bps: 50.01 x 1.0052 = 50.270052 -> 50.28.
    expect(r.fills.map((f) => f.price.toString())).toEqual(['50.28']);
  });

  it('rounds the exact slipped price, not a float product an ulp off the tick', () => {
    const r = engineRig({ spec: { tickSize: dec('0.0001') }, engine: { slippageBps: 10, impactBpsPerPctVolume: 0 } });
    r.candle({ o: 2.4001, h: 2.4001, l: 2.4001, c: 2.4001, v: 1000 });
    r.submit(buy('B0', 10));
    r.candle({ o: 2.4001, h: 2.4001, l: 2.4001, c: 2.4001, v: 1000 });
    r.submit({ clientOrderId: 'S1', symbol: BTC, side: 'sell', type: 'market', quantity: dec(10) });
    r.candle({ o: 2.4001, h: 2.4001, l: 2.4001, c: 2.4001, v: 1000 });
    // The bid 2.4 x (1 - 0.001) = 2.3976 exactly, on the tick. (In floats 2.4 x 0.999 is
    // 2.3975999999999997, which rounded down would give 2.3975: a tick lost to float error.)
    expect(r.fills[1]!.price.toString()).toBe('2.3976');
  });

  it('prices a PEPE-like market (10-decimal tick, 12 million units) exactly', () => {
    const PEPE = symbolId('PEPEUSDT');
    const r = engineRig({ spec: { symbol: PEPE, base: 'PEPE', tickSize: dec('0.0000000001'), stepSize: dec(1), minQuantity: dec(1) } });
    const p = 0.0000012345;
    r.candle({ o: p, h: p, l: p, c: p, v: 1_000_000_000 });
    r.submit(buy('P1', 12_345_678, PEPE));
    r.candle({ o: p, h: p, l: p, c: p, v: 1_000_000_000 });
    // Ask 0.0000012346; 12,345,678 of 10^9 = 1.2345678% -> 2.6172839 bps;
    // 0.0000012346 x 1.00026172839 = 0.00000123492313... -> up to 0.000001235.
    // Notional 12,345,678 x 0.000001235 = 15.24691233; fee x 0.0005 = 0.007623456165.
    const f = r.fills[0]!;
    expect(f.price.toString()).toBe('0.000001235');
    expect(f.price.mul(f.quantity).toString()).toBe('15.24691233');
    expect(f.fee.toString()).toBe('0.007623456165');
  });

  it('a market order cancelled in flight never executes', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(buy('B1', 2));
    expect(r.exchange.cancelNow(BTC, 'B1').status).toBe('cancelled');
    r.candle({ o: 50.37, h: 50.6, l: 50.3, c: 50.5, v: 400 });
    expect(r.fills).toHaveLength(0);
    expect(r.engine.balances('rig').find((b) => b.asset === 'USDT')?.free.toString()).toBe('10000');
  });
});

describe('resting limit orders', () => {
  const limitBuy = (id: string, quantity: string | number, price: string | number, postOnly = false) => ({
    clientOrderId: id,
    symbol: BTC,
    side: 'buy' as const,
    type: 'limit' as const,
    quantity: dec(quantity),
    price: dec(price),
    ...(postOnly ? { postOnly: true } : {}),
  });

  it('fill only when a print goes strictly through them, at the limit, as maker', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(limitBuy('L1', 1, 49));
    r.candle({ o: 50, h: 50.5, l: 49, c: 50.2, v: 400 }); // the low touches 49: not through
    expect(r.fills).toHaveLength(0);
    r.candle({ o: 50, h: 50.5, l: 48.9, c: 50.2, v: 400 });
    // 49 x 1 = 49, maker fee 0.02% = 0.0098, at the low print (+20 s).
    expect(r.fills.map(plain)).toEqual([{ id: 'L1', side: 'buy', price: '49', quantity: '1', fee: '0.0098', liquidity: 'maker', time: T0 + 2 * MIN + 20_000 }]);
  });

  it('take at most 10% of each print, in parts; a zero-volume candle fills nothing', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(limitBuy('L1', '2.5', 49));
    // Prints of 10: the low 48 and the close 48.5 go through 49, 1 each; the open and high (50) do not.
    r.candle({ o: 50, h: 50, l: 48, c: 48.5, v: 40 });
    r.candle({ o: 48.5, h: 48.5, l: 48.5, c: 48.5, v: 0 });
    r.candle({ o: 48.5, h: 48.5, l: 48.5, c: 48.5, v: 40 }); // the open print takes the last 0.5
    expect(r.fills.map((f) => [f.quantity.toString(), f.time])).toEqual([
      ['1', T0 + MIN + 20_000],
      ['1', T0 + MIN + 59_999],
      ['0.5', T0 + 3 * MIN + 1_000],
    ]);
    expect(r.updates.at(-1)).toMatchObject({ clientOrderId: 'L1', status: 'filled' });
  });

  it('share one print’s 10% among our orders, the best price first', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50.5, l: 49.8, c: 50.2, v: 400 });
    r.submit(limitBuy('L1', '0.6', '48.5'));
    r.submit(limitBuy('L2', '0.6', 49));
    r.candle({ o: 50, h: 50, l: 48, c: 50, v: 40 }); // one print through both: 1 to share
    expect(r.fills.map((f) => [f.clientOrderId, f.quantity.toString()])).toEqual([
      ['L2', '0.6'],
      ['L1', '0.4'],
    ]);
  });

  it('a post-only order that would take liquidity is refused (30041); one that rests is accepted', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 400 }); // book 49.99 / 50.01
    const crossing = r.submit(limitBuy('P1', 1, '50.01', true));
    expect(crossing.status).toBe('rejected');
    expect(crossing.reason).toMatch(/30041/);
    expect(r.submit(limitBuy('P2', 1, 50, true)).status).toBe('new');
  });

  it('a duplicate client order id is refused and the live order that owns it is left alone', () => {
    const r = engineRig();
    r.candle({ o: 50, h: 50, l: 50, c: 50, v: 400 });
    expect(r.submit(limitBuy('A', 1, 49)).status).toBe('new');
    const dup = r.submit(limitBuy('A', 2, 48));
    expect(dup.status).toBe('rejected');
    expect(dup.reason).toMatch(/30011/);
    expect(r.openOrders().map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([['A', '1', '49']]);
  });
});
