/**
 * Maker entries at a strategy's limit price, maker time exits, trailing stops and the trade plan,
 * with the executor against the matching engine (test/helpers/engineRig.ts: tick 0.01, lot 0.001,
 * maker 0.02%, taker 0.05%, slippage 2 bps + 0.5 bps per % of the 60 s volume, latency 250 ms, 10%
 * of each print for resting orders; the real risk engine with the default config unless stated).
 *
 * The standard market entry (as in executor.test.ts): decided at the close 100, filled 10 BTC at
 * 100.04 (ask 100.01 + 2.5 bps, rounded up), taker fee 0.5002; targets 101 / 102 / 103.
 */
import { describe, expect, it } from 'vitest';
import type { EnterIntent, Intent } from '../../services/model/intents.js';
import { BTC, MIN, T0, engineRig, fixedGate } from '../helpers/engineRig.js';

type Rig = ReturnType<typeof engineRig>;

function enter(price: number, stop: number, time: number, o: { id?: string; limitPrice?: number } = {}): EnterIntent {
  return {
    kind: 'enter',
    id: o.id ?? 'P',
    symbol: BTC,
    direction: 'long',
    time,
    price,
    ...(o.limitPrice !== undefined ? { limitPrice: o.limitPrice } : {}),
    stop,
    targets: [
      { label: 'primary', price: 101, fraction: 0.33 },
      { label: 'secondary', price: 102, fraction: 0.33 },
      { label: 'aggressive', price: 103, fraction: 0.34 },
    ],
    level: { price: 99.5, touches: 3, sources: ['extrema'] },
    oppositeLevel: null,
    reasons: ['test'],
    expiresAt: time + 240 * MIN,
  };
}

function opened(r: Rig): void {
  const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
  r.handle([enter(100, 99, close)]);
  r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
}

const timeExit = (time: number, maker?: { price: number; waitMs: number }): Intent => ({ kind: 'exit', id: 'P-time', symbol: BTC, positionId: 'P', time, reason: 'time', detail: 'test', ...(maker ? { maker } : {}) });

describe('maker entries resting at the level (entryOrderType maker, intent.limitPrice)', () => {
  const makerRig = () => engineRig({ executor: { entryOrderType: 'maker', limitEntryTimeoutMs: 3 * MIN } });

  it('rests a post-only buy at the limit price, sized from it, fills as maker, and books the plan', () => {
    const r = makerRig();
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { limitPrice: 99.5 })]);
    // Risk 1% of 10,000 over 99.5 - 99 = 0.5 is 200 BTC, capped at 10% of equity: 1,000 / 99.5 =
    // 10.0502... -> 10.05 on the lot.
    expect(r.openOrders().map((o) => [o.clientOrderId, o.type, o.price?.toString(), o.quantity.toString()])).toEqual([['PE', 'post_only', '99.5', '10.05']]);
    r.candle({ o: 100.2, h: 100.3, l: 99.4, c: 100.1 }); // the low print 99.4 goes through: 10% of 250 covers 10.05
    const entry = r.fills.find((f) => f.clientOrderId === 'PE');
    expect([entry?.price.toString(), entry?.quantity.toString(), entry?.liquidity, entry?.fee.toString()]).toEqual(['99.5', '10.05', 'maker', '0.199995']);
    // Time exit at the close 100.1: sold before the next open print at the close's bid 100.09,
    // 10.05 of the 1,000 BTC of the last 60 s = 1.005% -> 2.5025 bps: 100.09 x 0.99974975 =
    // 100.06495... -> 100.06. Proceeds 1,005.603, taker fee 0.5028015.
    r.handle([timeExit(r.now())]);
    r.candle({ o: 100.3, h: 100.4, l: 100.2, c: 100.3 });
    const [t] = r.closed();
    expect([t?.entryPrice.toString(), t?.exitPrice.toString(), t?.grossPnl.toString(), t?.fees.toString(), t?.netPnl.toString()]).toEqual(['99.5', '100.06', '5.628', '0.7027965', '4.9252035']);
    const p = t?.plan;
    // Initial risk (99.5 - 99) x 10.05 = 5.025; R = 4.9252035 / 5.025. No entry slippage (filled at
    // its limit); the exit sold 0.04 below its decision price (the last print, 100.1): 0.402.
    // Seen while open: the low print 99.4 and its bid 99.39, up to the high print 100.3.
    expect({
      stop: p?.stop.toString(),
      finalStop: p?.finalStop.toString(),
      targets: p?.targets.map((x) => x.toString()),
      initialRisk: p?.initialRisk.toString(),
      entryReference: p?.entryReference,
      entrySlippage: p?.entrySlippage.toString(),
      exitSlippage: p?.exitSlippage.toString(),
      entryFees: p?.entryFees.toString(),
      exitFees: p?.exitFees.toString(),
      high: p?.highPrice,
      low: p?.lowPrice,
    }).toEqual({ stop: '99', finalStop: '99', targets: ['101', '102', '103'], initialRisk: '5.025', entryReference: 99.5, entrySlippage: '0', exitSlippage: '0.402', entryFees: '0.199995', exitFees: '0.5028015', high: 100.3, low: 99.39 });
    expect(p?.rMultiple).toBeCloseTo(4.9252035 / 5.025, 12);
  });

  it('a maker entry that would take (at or above the ask) is refused by the venue: nothing is left', () => {
    const r = makerRig();
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { limitPrice: 100.01 })]); // the close's ask is 100.01
    expect(r.events.find((e) => e.type === 'entry_rejected')).toMatchObject({ reason: 'EXCHANGE_REJECTED' });
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.freeCash.eq(r.portfolio.cash)).toBe(true);
  });

  it('a maker entry not filled by its timeout expires, as a limit entry does', () => {
    const r = makerRig();
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { limitPrice: 99.5 })]);
    for (let i = 0; i < 4; i++) r.candle({ o: 100.2, h: 100.3, l: 99.6, c: 100.2 });
    expect(r.events.find((e) => e.type === 'entry_expired')).toMatchObject({ time: T0 + 4 * MIN + 1_000 });
    expect(r.executor.openCount).toBe(0);
  });
});

describe('maker time exits (an exit intent with maker)', () => {
  it('sells post-only at the ask, then the rest at market once the wait is over', () => {
    const r = engineRig({ engine: { impactBpsPerPctVolume: 0 } });
    opened(r);
    const decided = r.now(); // T0 + 2 min; the close 100.5 shows bid 100.49, ask 100.51
    r.handle([timeExit(decided, { price: 100.51, waitMs: 90_000 })]);
    expect(r.openOrders().map((o) => [o.clientOrderId, o.type, o.price?.toString(), o.quantity.toString()])).toEqual([['PX1', 'post_only', '100.51', '10']]);
    // Four prints above 100.51, 10 BTC each: 1 BTC each at 100.51 as maker.
    r.candle({ o: 100.6, h: 100.9, l: 100.55, c: 100.7, v: 40 });
    expect(r.fills.filter((f) => f.clientOrderId === 'PX1').map((f) => [f.quantity.toString(), f.liquidity])).toEqual([
      ['1', 'maker'],
      ['1', 'maker'],
      ['1', 'maker'],
      ['1', 'maker'],
    ]);
    // Nothing above the limit now; the wait ends at T0 + 3 min 30 s: the high print at +40 s cancels
    // PX1 and sends PX2 for the 6 left, executed on its arrival 250 ms later against the high's bid
    // 100.49: 2 bps (no impact here) -> 100.469902 -> 100.46.
    r.candle({ o: 100.5, h: 100.5, l: 100.3, c: 100.4, v: 40 });
    const px2 = r.fills.filter((f) => f.clientOrderId === 'PX2');
    expect(px2.map((f) => [f.price.toString(), f.quantity.toString(), f.liquidity, f.time])).toEqual([['100.46', '6', 'taker', T0 + 3 * MIN + 40_250]]);
    expect(r.updates.find((u) => u.clientOrderId === 'PX1' && u.status === 'cancelled')?.time).toBe(T0 + 3 * MIN + 40_000);
    // Proceeds 4 x 100.51 + 6 x 100.46 = 402.04 + 602.76 = 1,004.8; gross 4.4.
    // Fees: entry 0.5002, maker 402.04 x 0.02% = 0.080408, taker 602.76 x 0.05% = 0.30138: 0.881988.
    const [t] = r.closed();
    expect([t?.exitReason, t?.exits, t?.grossPnl.toString(), t?.fees.toString(), t?.netPnl.toString()]).toEqual(['time', 5, '4.4', '0.881988', '3.518012']);
    // Only the market part slipped: decided at the high print 100.5, sold at 100.46: 6 x 0.04.
    expect(t?.plan?.exitSlippage.toString()).toBe('0.24');
    expect(r.sent()).toEqual(['PE', 'PT1', 'PT2', 'PT3', 'PX1', 'PX2']);
  });

  it('a maker exit the venue refuses (at or below the bid) goes to market at once', () => {
    const r = engineRig();
    opened(r);
    r.handle([timeExit(r.now(), { price: 100.49, waitMs: 600_000 })]);
    expect(r.openOrders().map((o) => [o.clientOrderId, o.type])).toEqual([['PX2', 'market']]);
    r.candle({ o: 100.8, h: 101.5, l: 100.7, c: 101 });
    // As a plain time exit: the close's bid 100.49 less 2.5 bps -> 100.46.
    expect(r.closed()[0]).toMatchObject({ exitReason: 'time', exits: 1 });
    expect(r.closed()[0]?.exitPrice.toString()).toBe('100.46');
  });

  it('a stop crossed while the maker exit waits sells the rest at market at once', () => {
    const r = engineRig();
    opened(r);
    r.handle([timeExit(r.now(), { price: 100.51, waitMs: 600_000 })]);
    r.candle({ o: 100.4, h: 100.45, l: 98.5, c: 99 });
    // The low print 98.5 crosses the stop 99: PX1 cancelled, 10 sold at the low's bid 98.49 less 2.5 bps -> 98.46.
    expect(r.fills.filter((f) => f.clientOrderId.startsWith('PX')).map((f) => [f.clientOrderId, f.price.toString(), f.quantity.toString()])).toEqual([['PX2', '98.46', '10']]);
    expect(r.closed()[0]?.exitReason).toBe('time');
  });
});

describe('trailing stops (move_stop reason trail)', () => {
  it('moves the stop up as a trail (not breakeven), reports trail on the crossing, keeps the initial stop in the plan', () => {
    const r = engineRig();
    opened(r);
    const t = r.now();
    r.handle([{ kind: 'move_stop', id: 'tr1', symbol: BTC, positionId: 'P', time: t, stop: 100.2, reason: 'trail' }]);
    r.handle([{ kind: 'move_stop', id: 'tr2', symbol: BTC, positionId: 'P', time: t, stop: 100.1, reason: 'trail' }]); // lower: ignored
    expect(r.executor.position(BTC)).toMatchObject({ stop: 100.2, breakevenMoved: false });
    r.candle({ o: 100.5, h: 100.9, l: 100.1, c: 100.4 }); // the low print 100.1 crosses 100.2
    const [tr] = r.closed();
    expect(tr?.exitReason).toBe('trail');
    expect([tr?.plan?.stop.toString(), tr?.plan?.finalStop.toString()]).toEqual(['99', '100.2']);
  });
});

describe('the trade plan of a market entry scaled out at its targets', () => {
  it('initial risk, R, excursions, fees by side and slippage against the decision price', () => {
    const r = engineRig();
    opened(r);
    r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 });
    r.candle({ o: 101.2, h: 102, l: 101.1, c: 101.9 });
    r.candle({ o: 101.9, h: 103.5, l: 101.8, c: 103.2 });
    // As in executor.test.ts: net 18.99578, entry fee 0.5002, target fees 0.20402.
    const t = r.closed()[0];
    const p = t?.plan;
    // Initial risk (100.04 - 99) x 10 = 10.4. The entry paid 0.04 over the decision price 100 on 10 BTC.
    // The highest price seen while open is the 102 print (the 103.5 print fills the last targets and
    // closes the trade before the executor is shown it); the lowest, the fill itself.
    expect([p?.initialRisk.toString(), p?.entrySlippage.toString(), p?.exitSlippage.toString(), p?.entryFees.toString(), p?.exitFees.toString()]).toEqual(['10.4', '0.4', '0', '0.5002', '0.20402']);
    expect(p?.rMultiple).toBeCloseTo(18.99578 / 10.4, 12);
    expect([p?.highPrice, p?.lowPrice]).toEqual([102, 100.04]);
  });

  it('a fixed-size trade with a stop at the entry has no R (zero risk is not divided by)', () => {
    const r = engineRig({ risk: fixedGate('1') });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 100.04, close)]); // the fill at 100.04 equals the stop: risk 0
    r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    r.handle([timeExit(r.now())]);
    r.candle({ o: 100.5, h: 100.6, l: 100.4, c: 100.5 });
    expect(r.closed()[0]?.plan?.rMultiple).toBeNull();
  });
});
