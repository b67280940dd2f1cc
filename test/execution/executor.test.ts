/**
 * The executor against the matching engine, driven like the backtest (test/helpers/engineRig.ts:
 * per candle the path open -> low -> high -> close, a print then the book at each point, commands
 * carried out after each step, decisions at the close).
 *
 * Common setup (the hand calculations below use it): BTCUSDT, tick 0.01, lot 0.001, minimum
 * notional 1; taker fee 0.05%, maker fee 0.02%; slippage 2 bps + 0.5 bps per % of the 60 s volume
 * before the fill; latency 250 ms; 10% of each print for resting orders. Cash 10,000 USDT. The real
 * risk engine with the default config (conservative: 1% risk, position capped at 10% of equity)
 * sizes an entry at 100 with a stop at 99: risk 100 / distance 1 = 100 BTC, capped at 1,000 USDT
 * -> exactly 10 BTC.
 *
 * The entry is decided at the close of the first candle (100) and reaches the matching 250 ms
 * later; the next market event is the next candle's open print, before which it executes against
 * the book in force: the close's, ask 100.01. The 60 s before the fill saw the first candle's four
 * prints, 1,000 BTC: 10 BTC = 1% -> 2 + 0.5 = 2.5 bps; 100.01 x 1.00025 = 100.0350025 -> up to
 * 100.04. Cost 1,000.4, taker fee 0.5002. Targets 101 / 102 / 103 with 0.33 / 0.33 / 0.34 of
 * 10 BTC = 3.3 / 3.3 / 3.4.
 */
import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import type { EnterIntent, ExitReason, Intent } from '../helpers/types.js';
import { BTC, MIN, T0, engineRig, fixedGate } from '../helpers/engineRig.js';

type Rig = ReturnType<typeof engineRig>;

let intentSeq = 0;
/** An entry intent at `price` with a stop and three targets (default: 99 and 101 / 102 / 103). */
function enter(price: number, stop: number, time: number, o: { id?: string; targets?: [number, number, number]; symbol?: SymbolId } = {}): EnterIntent {
  const [t1, t2, t3] = o.targets ?? [101, 102, 103];
  return {
    kind: 'enter',
    id: o.id ?? `I${++intentSeq}`,
    symbol: o.symbol ?? BTC,
    direction: 'long',
    time,
    price,
    stop,
    targets: [
      { label: 'primary', price: t1, fraction: 0.33 },
      { label: 'secondary', price: t2, fraction: 0.33 },
      { label: 'aggressive', price: t3, fraction: 0.34 },
    ],
    level: { price: 99.5, touches: 3, sources: ['extrema'] },
    oppositeLevel: null,
    reasons: ['test'],
    expiresAt: time + 240 * MIN,
  };
}

function exitIntent(positionId: string, reason: ExitReason, time: number): Intent {
  return { kind: 'exit', id: `${positionId}-exit`, symbol: BTC, positionId, time, reason, detail: 'test' };
}

/** Opens the standard position (see the file comment): 10 BTC at 100.04, targets 3.3 / 3.3 / 3.4. */
function opened(r: Rig, id = 'P'): void {
  const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
  r.handle([enter(100, 99, close, { id })]);
  r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
}

const trade = (t: ClosedTrade) => ({
  entryPrice: t.entryPrice.toString(),
  exitPrice: t.exitPrice.toString(),
  quantity: t.quantity.toString(),
  grossPnl: t.grossPnl.toString(),
  fees: t.fees.toString(),
  netPnl: t.netPnl.toString(),
  exitReason: t.exitReason,
  exits: t.exits,
});

describe('Executor: entry and scale-out targets', () => {
  it('enters at the book in force after the latency and rests three targets of 3.3 / 3.3 / 3.4', () => {
    const r = engineRig();
    opened(r);
    const open = r.events.find((e) => e.type === 'position_opened');
    expect(open).toMatchObject({ positionId: 'P', time: T0 + MIN + 250 });
    if (open?.type !== 'position_opened') throw new Error('no position_opened');
    expect([open.price.toString(), open.quantity.toString()]).toEqual(['100.04', '10']);
    expect(r.openOrders().map((o) => [o.clientOrderId, o.side, o.type, o.quantity.toString(), o.price?.toString()])).toEqual([
      ['PT1', 'sell', 'limit', '3.3', '101'],
      ['PT2', 'sell', 'limit', '3.3', '102'],
      ['PT3', 'sell', 'limit', '3.4', '103'],
    ]);
    // Cash 10,000 - 1,000.4 - 0.5002 = 8,999.0998; 10 BTC held; the reservation is released.
    expect(r.portfolio.cash.toString()).toBe('8999.0998');
    expect(r.portfolio.holding(BTC).eq(dec(10))).toBe(true);
    expect(r.portfolio.freeCash.eq(r.portfolio.cash)).toBe(true);
    expect(r.executor.position(BTC)).toMatchObject({ state: 'open', entryPrice: 100.04, stop: 99, breakevenMoved: false, quantity: 10, entryWorking: false });
  });

  it('splits an awkward quantity with floor to the lot step; the last takes the remainder', () => {
    const r = engineRig({ risk: fixedGate('7.777') });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // 7.777 x 0.33 = 2.56641 -> 2.566 (twice); 7.777 - 5.132 = 2.645.
    expect(r.openOrders().map((o) => o.quantity.toString())).toEqual(['2.566', '2.566', '2.645']);
  });

  it('folds a slice below the minimum notional into the next target', () => {
    const r = engineRig({ risk: fixedGate('0.148'), spec: { minNotional: dec(5) } });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // 0.148 x 0.33 = 0.04884 -> 0.048; 0.048 x 101 = 4.848 < 5: carried.
    // Second: 0.048 + 0.048 = 0.096 at 102 (9.792). Last: 0.148 - 0.096 = 0.052 at 103 (5.356 >= 5).
    expect(r.openOrders().map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([
      ['PT1', '0.096', '102'],
      ['PT2', '0.052', '103'],
    ]);
  });

  it('folds a remainder below the minimum notional into the previous target, so no part is left without one', () => {
    const r = engineRig({ risk: fixedGate('0.1'), spec: { minNotional: dec(5) } });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // First 0.033 x 101 = 3.333 < 5: carried; second 0.066 x 102 = 6.732; the remainder 0.034 x 103
    // = 3.502 < 5 would be refused by the venue, so it joins the second: 0.1 at 102.
    expect(r.openOrders().map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([['PT1', '0.1', '102']]);
    expect(r.updates.filter((u) => u.status === 'rejected')).toHaveLength(0);
  });

  it('closes with exits=3 and exact PnL when the targets fill one by one (a touch is not a fill)', () => {
    const r = engineRig();
    opened(r);
    r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 }); // T1 at 101 (the high print 101.5 goes through)
    r.candle({ o: 101.2, h: 102, l: 101.1, c: 101.9 }); // touches 102: nothing
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PT1']);
    r.candle({ o: 101.9, h: 103.5, l: 101.8, c: 103.2 }); // T2 and T3: 25 BTC of the 250 print may fill
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PT1', 'PT2', 'PT3']);
    // Proceeds 3.3 x 101 + 3.3 x 102 + 3.4 x 103 = 333.3 + 336.6 + 350.2 = 1,020.1 (average 102.01).
    // Maker fees 0.06666 + 0.06732 + 0.07004 = 0.20402; with the entry's 0.5002: 0.70422.
    // Gross 1,020.1 - 1,000.4 = 19.7; net 19.7 - 0.70422 = 18.99578.
    const [t] = r.closed();
    expect(r.closed()).toHaveLength(1);
    expect(trade(t!)).toEqual({ entryPrice: '100.04', exitPrice: '102.01', quantity: '10', grossPnl: '19.7', fees: '0.70422', netPnl: '18.99578', exitReason: 'target', exits: 3 });
    expect([t!.entryTime, t!.exitTime]).toEqual([T0 + MIN + 250, T0 + 4 * MIN + 40_000]);
    expect(t!.returnPct).toBeCloseTo((18.99578 / 1000.4) * 100, 10);
    expect(r.portfolio.cash.toString()).toBe('10018.99578');
    expect(r.portfolio.holding(BTC).isZero()).toBe(true);
    expect(r.executor.position(BTC)).toBeUndefined();
    expect(r.sent()).toEqual(['PE', 'PT1', 'PT2', 'PT3']);
  });
});

describe('Executor: stops and exits', () => {
  it('after one target, a stop crossing cancels the other targets and sells the rest after the latency: exits=2, stop', () => {
    const r = engineRig();
    opened(r);
    r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 }); // T1: 3.3 at 101
    r.candle({ o: 100, h: 101.8, l: 98.5, c: 99.5 }); // the low print 98.5 crosses 99
    // The sell of 6.7 is sent at the low (+20 s) and executes before the high print, against the
    // low's book: bid 98.49. The 60 s before it saw 1,000 BTC: 0.67% -> 2.335 bps;
    // 98.49 x 0.9997665 = 98.467002585 -> down to 98.46. Proceeds 659.682, fee 0.329841.
    // The high 101.8 fills nothing: T2/T3 were cancelled.
    // Trade: proceeds 333.3 + 659.682 = 992.982; gross 992.982 - 1,000.4 = -7.418;
    // fees 0.5002 + 0.06666 + 0.329841 = 0.896701; net -8.314701.
    expect(r.fills.map((f) => [f.clientOrderId, f.price.toString(), f.quantity.toString()])).toEqual([
      ['PE', '100.04', '10'],
      ['PT1', '101', '3.3'],
      ['PX1', '98.46', '6.7'],
    ]);
    const [t] = r.closed();
    expect(trade(t!)).toMatchObject({ grossPnl: '-7.418', fees: '0.896701', netPnl: '-8.314701', exitReason: 'stop', exits: 2, quantity: '10' });
    expect(t!.exitTime).toBe(T0 + 3 * MIN + 20_250);
    expect(r.updates.filter((u) => u.status === 'cancelled').map((u) => u.clientOrderId)).toEqual(['PT2', 'PT3']);
    expect(r.events.find((e) => e.type === 'exit_started')).toMatchObject({ reason: 'stop' });
    expect(r.portfolio.cash.toString()).toBe('9991.685299'); // 10,000 - 8.314701
    expect(r.portfolio.holding(BTC).isZero()).toBe(true);
  });

  it('conservative intrabar rule: a candle covering both the stop and the first target stops out, the target never fills', () => {
    const r = engineRig();
    opened(r);
    r.candle({ o: 100.5, h: 101.5, l: 98.5, c: 100 }); // low 98.5 (stop 99) comes before the high 101.5 (T1 101)
    // 10 BTC at the low's bid 98.49, 1% -> 2.5 bps; 98.49 x 0.99975 = 98.4653775 -> 98.46;
    // proceeds 984.6, fee 0.4923. Net 984.6 - 1,000.4 - 0.5002 - 0.4923 = -16.7925.
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PX1']);
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '98.46', netPnl: '-16.7925', exitReason: 'stop', exits: 1 });
  });

  it('a stop pays the latency: a candle that opens below the stop sells at the open’s book, not at the stop', () => {
    const r = engineRig();
    opened(r);
    r.candle({ o: 98, h: 98.6, l: 97.5, c: 98.2 });
    // Triggered by the open print 98; executes before the low print, against the open's bid 97.99:
    // 97.99 x 0.99975 = 97.9655025 -> 97.96, at the trigger time + 250 ms.
    expect(r.fills.at(-1)).toMatchObject({ clientOrderId: 'PX1', time: T0 + 2 * MIN + 1_250 });
    expect(r.fills.at(-1)!.price.toString()).toBe('97.96');
    expect(r.closed()[0]!.exitReason).toBe('stop');
  });

  it('triggers a stop touched exactly, also at a price whose float conversion is inexact (590.33)', () => {
    const r = engineRig({ risk: fixedGate('1') });
    const close = r.candle({ o: 600, h: 600.5, l: 599.8, c: 600 });
    r.handle([enter(600, 590.33, close, { id: 'P', targets: [610, 620, 630] })]);
    r.candle({ o: 600, h: 600.5, l: 599.5, c: 600 });
    r.candle({ o: 595, h: 596, l: 590.33, c: 592 });
    // The low print 590.33 equals the stop. Sold at the low's bid 590.32: 1 of 1,000 = 0.1% ->
    // 2.05 bps; 590.32 x 0.999795 = 590.1989844 -> 590.19.
    expect(r.fills.at(-1)).toMatchObject({ clientOrderId: 'PX1', time: T0 + 2 * MIN + 20_250 });
    expect(r.fills.at(-1)!.price.toString()).toBe('590.19');
  });

  it('move_stop only moves up, marks breakeven, and a later crossing reports breakeven', () => {
    const r = engineRig();
    opened(r);
    const t = r.now();
    r.handle([
      { kind: 'move_stop', id: 'm1', symbol: BTC, positionId: 'P', time: t, stop: 100.33, reason: 'breakeven' },
      { kind: 'move_stop', id: 'm2', symbol: BTC, positionId: 'P', time: t, stop: 100, reason: 'breakeven' },
    ]);
    expect(r.events.filter((e) => e.type === 'stop_moved')).toEqual([{ type: 'stop_moved', time: t, positionId: 'P', symbol: BTC, stop: 100.33 }]);
    expect(r.executor.position(BTC)).toMatchObject({ stop: 100.33, breakevenMoved: true });
    r.candle({ o: 100.5, h: 100.9, l: 100.1, c: 100.4 });
    // The open's bid 100.49 is above 100.33; the low print 100.1 crosses it: sold at the low's bid
    // 100.09 x 0.99975 = 100.0649775 -> 100.06; proceeds 1,000.6, fee 0.5003.
    // Net 1,000.6 - 1,000.4 - 0.5002 - 0.5003 = -0.8005.
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '100.06', netPnl: '-0.8005', exitReason: 'breakeven', exits: 1 });
  });

  it('a time exit cancels the targets and sells the remainder after the latency', () => {
    const r = engineRig();
    opened(r);
    r.handle([exitIntent('P', 'time', r.now())]);
    expect(r.events.at(-1)).toMatchObject({ type: 'exit_started', reason: 'time' });
    expect(r.openOrders().map((o) => [o.clientOrderId, o.type, o.quantity.toString()])).toEqual([['PX1', 'market', '10']]);
    expect(r.executor.position(BTC)?.state).toBe('closing');
    r.candle({ o: 100.8, h: 101.5, l: 100.7, c: 101 });
    // Executes before the open print, at the previous close's bid 100.49: 100.49 x 0.99975 =
    // 100.4648775 -> 100.46; proceeds 1,004.6, fee 0.5023. Net 1,004.6 - 1,000.4 - 0.5002 - 0.5023
    // = 3.1975. The high 101.5 fills no (cancelled) target.
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PX1']);
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '100.46', netPnl: '3.1975', exitReason: 'time', exits: 1 });
    expect(r.closed()[0]!.exitTime).toBe(T0 + 2 * MIN + 250);
  });
});

describe('Executor: every filled quantity is protected from its first fill', () => {
  /** A limit buy of 10 at 100 decided at the first close; prints of 10 BTC fill 1 BTC each when below 100. */
  function limitRig() {
    const r = engineRig({ risk: fixedGate('10'), executor: { entryOrderType: 'limit', limitEntryTimeoutMs: 3 * MIN } });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100, v: 40 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    return r;
  }

  it('a partly filled limit entry is open, with targets for what filled, and tops them up on the next fill', () => {
    const r = limitRig();
    r.candle({ o: 100.2, h: 100.3, l: 99.9, c: 100.1, v: 40 }); // the low print 99.9 < 100: 1 BTC (10% of 10)
    expect(r.executor.position(BTC)).toMatchObject({ state: 'open', quantity: 1, entryWorking: true, stop: 99 });
    expect(r.events.find((e) => e.type === 'position_opened')).toMatchObject({ time: T0 + MIN + 20_000 });
    // Targets for 1 BTC: 0.33 / 0.33 / 0.34 at 101 / 102 / 103 (each over the 1 USDT minimum).
    const targets = () => r.openOrders().filter((o) => o.side === 'sell').map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()]);
    expect(targets()).toEqual([
      ['PT1', '0.33', '101'],
      ['PT2', '0.33', '102'],
      ['PT3', '0.34', '103'],
    ]);
    r.candle({ o: 100.1, h: 100.2, l: 99.95, c: 100.1, v: 40 }); // another 1 BTC: 2 in all
    // For 2 BTC the plans want 0.66 / 0.66 / 0.68: the missing 0.33 / 0.33 / 0.34 are added.
    expect(targets()).toEqual([
      ['PT1', '0.33', '101'],
      ['PT2', '0.33', '102'],
      ['PT3', '0.34', '103'],
      ['PT4', '0.33', '101'],
      ['PT5', '0.33', '102'],
      ['PT6', '0.34', '103'],
    ]);
  });

  it('past its timeout the remainder of a partly filled entry is cancelled; what filled keeps its stop and targets', () => {
    const r = limitRig();
    r.candle({ o: 100.2, h: 100.3, l: 99.9, c: 100.1, v: 40 }); // 1 BTC
    r.candle({ o: 100.1, h: 100.3, l: 100.05, c: 100.2, v: 40 }); // nothing below 100
    r.candle({ o: 100.2, h: 100.3, l: 100.05, c: 100.2, v: 40 });
    // Sent at T0 + 1 min; the first price 3 min later (the open print of T0 + 4 min) cancels the rest.
    r.candle({ o: 100.2, h: 100.3, l: 99.9, c: 100.2, v: 40 });
    const done = r.events.find((e) => e.type === 'entry_completed');
    expect(done && done.type === 'entry_completed' && [done.time, done.quantity.toString(), done.requested.toString()]).toEqual([T0 + 4 * MIN + 1_000, '1', '10']);
    expect(r.fills.filter((f) => f.clientOrderId === 'PE')).toHaveLength(1); // the low 99.9 of T0 + 4 min came after the cancel
    expect(r.executor.position(BTC)).toMatchObject({ state: 'open', quantity: 1, entryWorking: false });
    expect(r.portfolio.freeCash.eq(r.portfolio.cash)).toBe(true); // the reservation went with the remainder
    // The stop still protects the 1 BTC: a crossing sells it.
    r.candle({ o: 99.5, h: 99.6, l: 98.8, c: 99, v: 40 });
    expect(r.closed()).toHaveLength(1);
    expect(r.closed()[0]).toMatchObject({ exitReason: 'stop' });
    expect(r.closed()[0]!.quantity.toString()).toBe('1');
  });

  it('a stop crossing while the entry is still working cancels its remainder and sells what filled', () => {
    const r = limitRig();
    r.candle({ o: 100.2, h: 100.3, l: 99.9, c: 100.1, v: 40 }); // 1 BTC, entry still working
    // The low print 98.8 goes through the limit (one more BTC, booked first) and crosses the stop 99.
    r.candle({ o: 100.1, h: 100.2, l: 98.8, c: 99, v: 40 });
    const order = r.events.map((e) => e.type).filter((t) => t === 'exit_started' || t === 'entry_completed' || t === 'position_closed');
    expect(order).toEqual(['exit_started', 'entry_completed', 'position_closed']);
    expect(r.updates.find((u) => u.clientOrderId === 'PE' && u.status === 'cancelled')).toBeDefined();
    const [t] = r.closed();
    expect(t!.quantity.toString()).toBe('2');
    expect(t!.exitReason).toBe('stop');
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.holding(BTC).isZero()).toBe(true);
  });

  it('a limit entry with nothing filled by its timeout expires', () => {
    const r = limitRig();
    for (let i = 0; i < 4; i++) r.candle({ o: 100.2, h: 100.3, l: 100.05, c: 100.2, v: 40 });
    expect(r.events.find((e) => e.type === 'entry_expired')).toMatchObject({ positionId: 'P', time: T0 + 4 * MIN + 1_000 });
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.freeCash.eq(r.portfolio.cash)).toBe(true);
  });
});

describe('Executor: rejections and client order ids', () => {
  it('an entry the risk engine rejects emits entry_rejected with its reason code and sends nothing', () => {
    const r = engineRig();
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 101, close, { id: 'P' })]); // stop above the entry of a long
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ type: 'entry_rejected', reason: 'INVALID_STOP' });
    expect(r.sent()).toHaveLength(0);
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.freeCash.eq(dec(10_000))).toBe(true);
  });

  it('a second entry on a symbol with a position is ALREADY_IN_POSITION', () => {
    const r = engineRig();
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'A' }), enter(100, 99, close, { id: 'B' })]);
    expect(r.events.map((e) => e.type)).toEqual(['entry_submitted', 'entry_rejected']);
    expect(r.events[1]).toMatchObject({ reason: 'ALREADY_IN_POSITION' });
    expect(r.sent()).toEqual(['AE']);
  });

  it('an entry the venue refuses is rejected with the venue’s reason and leaves nothing behind', () => {
    // A notional over the market's maximum: the engine refuses it (30003).
    const r = engineRig({ risk: fixedGate('5'), spec: { maxNotional: dec(100) } });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    const rej = r.events.find((e) => e.type === 'entry_rejected');
    expect(rej).toMatchObject({ reason: 'EXCHANGE_REJECTED' });
    expect(rej && rej.type === 'entry_rejected' && rej.detail).toMatch(/30003/);
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.freeCash.eq(dec(10_000))).toBe(true);
  });

  it('derives client order ids from the intent: the same intents give the same ids, never one twice', () => {
    const run = () => {
      const r = engineRig();
      opened(r, 'S-1');
      r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 });
      r.candle({ o: 100, h: 101.8, l: 98.5, c: 99.5 });
      return r.sent();
    };
    const a = run();
    const b = run();
    expect(a).toEqual(['S-1E', 'S-1T1', 'S-1T2', 'S-1T3', 'S-1X1']);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
  });

  it('an intent id too long for a client id gets the hashed form (at most 32 characters) in every role', () => {
    const r = engineRig();
    opened(r, 'VERYLONGSYMBOLNAMEUSDTL' + 'x'.repeat(20));
    r.candle({ o: 100, h: 100.2, l: 98.5, c: 99 });
    const ids = r.sent();
    expect(ids).toHaveLength(5);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(32);
      expect(id).toMatch(/^[A-Za-z0-9]*_[0-9a-f]{16}[ETX]\d*$/);
    }
  });
});

describe('Executor: dust and bounded memory', () => {
  it('writes off a remainder below the minimum order value instead of retrying a sell no venue accepts', () => {
    const r = engineRig({ risk: fixedGate('0.1'), spec: { minNotional: dec(5) } });
    const close = r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    r.handle([enter(100, 99, close, { id: 'P' })]);
    // Entry at the close's ask 100.01: 0.1 of 1,000 = 0.01% -> 2.005 bps -> 100.03005... -> 100.04.
    r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // One target of 0.1 at 102 (see the folding test). Prints of 0.96: 10% = 0.096 fills at 102.
    r.candle({ o: 100.5, h: 102.5, l: 100.4, c: 101, v: 3.84 });
    // The stop at 99 is crossed; 0.004 BTC is left, worth 0.004 x 98.5 = 0.394 < 5: no sell is sent.
    r.candle({ o: 100, h: 100.2, l: 98.5, c: 99 });
    expect(r.sent()).toEqual(['PE', 'PT1']);
    const [t] = r.closed();
    // net = 0.096 x 102 - 0.1 x 100.04 - 10.004 x 0.0005 - 9.792 x 0.0002
    //     = 9.792 - 10.004 - 0.005002 - 0.0019584 = -0.2189604
    expect(t && trade(t)).toMatchObject({ quantity: '0.1', netPnl: '-0.2189604', exitReason: 'stop', exits: 1 });
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.holding(BTC).toString()).toBe('0.004');
  });

  it('forgets the orders of closed positions', () => {
    const r = engineRig();
    for (let i = 0; i < 5; i++) {
      opened(r, `P${i}`);
      // Every target trades through: 101, 102 and 103 all below the high 103.5.
      r.candle({ o: 100.5, h: 103.5, l: 100.4, c: 103 });
      expect(r.executor.openCount).toBe(0);
    }
    expect(r.closed()).toHaveLength(5);
    expect(r.executor.trackedOrders).toBe(0);
  });
});
