/**
 * The executor against the simulated exchange, driven like the backtest engine: per 1m candle
 * `sim.beginCandle`, four path ticks open -> low -> high -> close (1 s / 20 s / 40 s / 59.999 s),
 * each followed by `executor.onPrice`, then the strategy's intents at the candle's close.
 *
 * Common setup (used in the hand calculations below): BTCUSDT, tick 0.01, lot 0.001, minimum
 * notional 1; taker fee 0.05%, maker fee 0.02%, slippage 2 bps + 0.5 bps per % of candle volume,
 * latency 250 ms, 10% participation. Cash 10,000 USDT. The real risk engine with the default config
 * (conservative: 1% risk, position capped at 10% of equity) sizes an entry at 100 with a stop at 99:
 * risk 100 / distance 1 = 100 BTC = 10,000 USDT, capped at 1,000 USDT -> exactly 10 BTC.
 *
 * The entry is decided at the close of the first candle (price 100) and fills at the next open
 * 100.2: 10 of 1,000 volume = 1% -> 2 + 0.5 = 2.5 bps; 100.2 x 1.00025 = 100.22505 -> up to 100.23.
 * Cost 1,002.3, taker fee 1,002.3 x 0.0005 = 0.50115. Targets 101 / 102 / 103 with 0.33 / 0.33 /
 * 0.34 of 10 BTC = 3.3 / 3.3 / 3.4.
 */
import { describe, it, expect } from 'vitest';
import { SimExchange, type SimExchangeOptions } from '../../services/backtest/simExchange.js';
import { Executor, type ExecutorEvent, type RiskGate } from '../../services/execution/executor.js';
import type { ExchangePort, Fill, MarketInfo, OrderUpdate } from '../../services/execution/types.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import { RiskEngine } from '../../services/risk/index.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import type { EnterIntent, ExitReason, Intent } from '../../services/strategy/intents.js';
import type { ClosedTrade } from '../../services/analytics/types.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const OFFSETS = [1_000, 20_000, 40_000, 59_999] as const;
const BTC = symbolId('BTCUSDT');
const MARKET: MarketInfo = { symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: dec('0.01'), stepSize: dec('0.001'), minNotional: dec(1) };
const OPTS: SimExchangeOptions = { makerFeePct: 0.02, takerFeePct: 0.05, slippageBps: 2, impactBpsPerPctVolume: 0.5, latencyMs: 250, participationPct: 10 };

/** A risk gate that approves a fixed quantity, for tests that need to control the size. */
function fixedGate(quantity: string): RiskGate {
  return {
    evaluate: (p) => ({ kind: 'approved', quantity: dec(quantity), notional: dec(quantity).mul(p.entryPrice), riskAmount: Dec.ZERO, adjustments: [] }),
  };
}

interface Bar {
  o: number;
  h: number;
  l: number;
  c: number;
  v?: number;
}

/** Sim + portfolio + executor, with every fill, order update and executor event recorded. */
function rig(opts: { risk?: RiskGate; market?: MarketInfo } = {}) {
  const market = opts.market ?? MARKET;
  const sim = new SimExchange([market], OPTS);
  const fills: Fill[] = [];
  const updates: OrderUpdate[] = [];
  // Tap between the executor and the sim, so the test sees what the executor sees.
  const tap: ExchangePort = {
    market: (s) => sim.market(s),
    submit: (r) => sim.submit(r),
    cancel: (s, id) => sim.cancel(s, id),
    subscribe: (ev) =>
      sim.subscribe({
        onFill: (f) => {
          fills.push(f);
          ev.onFill(f);
        },
        onOrderUpdate: (u) => {
          updates.push(u);
          ev.onOrderUpdate(u);
        },
      }),
  };
  const portfolio = new Portfolio('USDT', dec(10_000));
  const executor = new Executor(tap, portfolio, opts.risk ?? new RiskEngine(parseConfig({})), { entryOrderType: 'market', limitEntryTimeoutMs: 3 * MIN });
  const events: ExecutorEvent[] = [];
  executor.on((e) => events.push(e));
  let next = T0;
  const sym = market.symbol;

  /** Plays one candle like the engine; returns its close time (when decisions are made). */
  const candle = async ({ o, h, l, c, v = 1000 }: Bar): Promise<number> => {
    const openTime = next;
    sim.beginCandle(sym, { openTime, open: o, high: h, low: l, close: c, volume: v });
    const path = [o, l, h, c];
    for (let j = 0; j < 4; j++) {
      const t = openTime + OFFSETS[j]!;
      sim.tick(sym, path[j]!, t);
      const pending = executor.onPrice(sym, path[j]!, t);
      if (pending) await pending;
    }
    next = openTime + MIN;
    sim.setTime(next);
    portfolio.mark(sym, c);
    return next;
  };
  const handle = (intents: Intent[]) => executor.handle(intents, next);
  const closed = (): ClosedTrade[] => events.flatMap((e) => (e.type === 'position_closed' ? [e.trade] : []));
  return { sim, fills, updates, portfolio, executor, events, candle, handle, closed, now: () => next, sym };
}

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

/** Opens the standard position (see the file comment): 10 BTC at 100.23, targets 3.3 / 3.3 / 3.4. */
async function opened(r: ReturnType<typeof rig>, id = 'P') {
  const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
  await r.handle([enter(100, 99, close, { id })]);
  await r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
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
  it('opens at the next open and rests three targets of 3.3 / 3.3 / 3.4', async () => {
    const r = rig();
    await opened(r);
    const open = r.events.find((e) => e.type === 'position_opened');
    expect(open).toMatchObject({ positionId: 'P', time: T0 + MIN + 1_000 });
    if (open?.type !== 'position_opened') throw new Error('no position_opened');
    expect([open.price.toString(), open.quantity.toString()]).toEqual(['100.23', '10']);
    expect(r.sim.openOrders(BTC).map((o) => [o.clientOrderId, o.side, o.type, o.quantity.toString(), o.price?.toString()])).toEqual([
      ['PT1', 'sell', 'limit', '3.3', '101'],
      ['PT2', 'sell', 'limit', '3.3', '102'],
      ['PT3', 'sell', 'limit', '3.4', '103'],
    ]);
    // Cash 10,000 - 1,002.3 - 0.50115 = 8,997.19885; 10 BTC held; the reservation is released.
    expect(r.portfolio.cash.eq(dec('8997.19885'))).toBe(true);
    expect(r.portfolio.holding(BTC).eq(dec(10))).toBe(true);
    expect(r.portfolio.freeCash.eq(r.portfolio.cash)).toBe(true);
    expect(r.executor.position(BTC)).toMatchObject({ state: 'open', entryPrice: 100.23, stop: 99, breakevenMoved: false });
  });

  it('splits an awkward quantity with floor to the lot step; the last takes the remainder', async () => {
    const r = rig({ risk: fixedGate('7.777') });
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 99, close, { id: 'P' })]);
    await r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // 7.777 x 0.33 = 2.56641 -> 2.566 (twice); 7.777 - 5.132 = 2.645.
    expect(r.sim.openOrders(BTC).map((o) => o.quantity.toString())).toEqual(['2.566', '2.566', '2.645']);
  });

  it('folds a slice below the minimum notional into the next target', async () => {
    const r = rig({ risk: fixedGate('0.148'), market: { ...MARKET, minNotional: dec(5) } });
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 99, close, { id: 'P' })]);
    await r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // 0.148 x 0.33 = 0.04884 -> 0.048; 0.048 x 101 = 4.848 < 5: carried.
    // Second: 0.048 + 0.048 = 0.096 at 102 (9.792). Last: 0.148 - 0.096 = 0.052 at 103 (5.356 >= 5).
    expect(r.sim.openOrders(BTC).map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([
      ['PT1', '0.096', '102'],
      ['PT2', '0.052', '103'],
    ]);
  });

  it('folds a remainder below the minimum notional into the previous target, so no part is left without one', async () => {
    const r = rig({ risk: fixedGate('0.1'), market: { ...MARKET, minNotional: dec(5) } });
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 99, close, { id: 'P' })]);
    await r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // First 0.033 x 101 = 3.333 < 5: carried; second 0.066 x 102 = 6.732; the remainder 0.034 x 103
    // = 3.502 < 5 would be rejected by the venue, so it joins the second: 0.1 at 102.
    expect(r.sim.openOrders(BTC).map((o) => [o.clientOrderId, o.quantity.toString(), o.price?.toString()])).toEqual([['PT1', '0.1', '102']]);
    expect(r.updates.filter((u) => u.status === 'rejected')).toHaveLength(0);
  });

  it('closes with exits=3 and exact PnL when the targets fill one by one (a touch is not a fill)', async () => {
    const r = rig();
    await opened(r);
    await r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 }); // T1 at 101
    await r.candle({ o: 101.2, h: 102, l: 101.1, c: 101.9 }); // touches 102: nothing
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PT1']);
    await r.candle({ o: 101.9, h: 103.5, l: 101.8, c: 103.2 }); // T2 and T3
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PT1', 'PT2', 'PT3']);
    // Proceeds 3.3 x 101 + 3.3 x 102 + 3.4 x 103 = 333.3 + 336.6 + 350.2 = 1,020.1 (average 102.01).
    // Maker fees 0.06666 + 0.06732 + 0.07004 = 0.20402; with the entry's 0.50115: 0.70517.
    // Gross 1,020.1 - 1,002.3 = 17.8; net 17.8 - 0.70517 = 17.09483.
    const [t] = r.closed();
    expect(r.closed()).toHaveLength(1);
    expect(trade(t!)).toEqual({ entryPrice: '100.23', exitPrice: '102.01', quantity: '10', grossPnl: '17.8', fees: '0.70517', netPnl: '17.09483', exitReason: 'target', exits: 3 });
    expect([t!.entryTime, t!.exitTime]).toEqual([T0 + MIN + 1_000, T0 + 4 * MIN + 40_000]);
    expect(t!.returnPct).toBeCloseTo((17.09483 / 1002.3) * 100, 10);
    expect(r.portfolio.cash.eq(dec('10017.09483'))).toBe(true);
    expect(r.portfolio.holding(BTC).isZero()).toBe(true);
    expect(r.executor.position(BTC)).toBeUndefined();
    expect(r.sim.log.map((l) => l.clientOrderId)).toEqual(['PE', 'PT1', 'PT2', 'PT3']);
  });
});

describe('Executor: stops and exits', () => {
  it('after one target, a stop crossing cancels the other targets and sells the rest at the stop: exits=2, stop', async () => {
    const r = rig();
    await opened(r);
    await r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 }); // T1: 3.3 at 101
    await r.candle({ o: 100, h: 101.8, l: 98.5, c: 99.5 }); // low 98.5 crosses 99 (previous 100)
    // Remaining 6.7: 0.67% of volume -> 2 + 0.335 = 2.335 bps; 99 x 0.9997665 = 98.9768835 -> 98.97.
    // Proceeds 6.7 x 98.97 = 663.099, fee 0.3315495. The high 101.8 fills nothing: T2/T3 were cancelled.
    // Trade: proceeds 333.3 + 663.099 = 996.399; gross 996.399 - 1,002.3 = -5.901;
    // fees 0.50115 + 0.06666 + 0.3315495 = 0.8993595; net -6.8003595.
    expect(r.fills.map((f) => [f.clientOrderId, f.price.toString(), f.quantity.toString()])).toEqual([
      ['PE', '100.23', '10'],
      ['PT1', '101', '3.3'],
      ['PX1', '98.97', '6.7'],
    ]);
    const [t] = r.closed();
    expect(trade(t!)).toMatchObject({ grossPnl: '-5.901', fees: '0.8993595', netPnl: '-6.8003595', exitReason: 'stop', exits: 2, quantity: '10' });
    expect(t!.exitTime).toBe(T0 + 3 * MIN + 20_000);
    expect(r.updates.filter((u) => u.status === 'cancelled').map((u) => u.clientOrderId)).toEqual(['PT2', 'PT3']);
    expect(r.events.find((e) => e.type === 'exit_started')).toMatchObject({ reason: 'stop' });
    expect(r.portfolio.cash.eq(dec('9993.1996405'))).toBe(true); // 10,000 - 6.8003595
    expect(r.portfolio.holding(BTC).isZero()).toBe(true);
  });

  it('conservative intrabar rule: a candle covering both the stop and the first target stops out, the target never fills', async () => {
    const r = rig();
    await opened(r);
    await r.candle({ o: 100.5, h: 101.5, l: 98.5, c: 100 }); // low 98.5 (stop 99) is visited before high 101.5 (T1 101)
    // 10 BTC, 1% of volume -> 2.5 bps; 99 x 0.99975 = 98.97525 -> 98.97; proceeds 989.7, fee 0.49485.
    // Net 989.7 - 1,002.3 - 0.50115 - 0.49485 = -13.596.
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PX1']);
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '98.97', netPnl: '-13.596', exitReason: 'stop', exits: 1 });
  });

  it('a candle that opens below the stop sells at the open, not at the stop', async () => {
    const r = rig();
    await opened(r);
    await r.candle({ o: 98, h: 98.6, l: 97.5, c: 98.2 });
    // 98 x 0.99975 = 97.9755 -> 97.97, at the open tick.
    expect(r.fills.at(-1)).toMatchObject({ clientOrderId: 'PX1', time: T0 + 2 * MIN + 1_000 });
    expect(r.fills.at(-1)!.price.toString()).toBe('97.97');
    expect(r.closed()[0]!.exitReason).toBe('stop');
  });

  it('triggers a stop touched exactly, also at a price whose float conversion is inexact (590.33)', async () => {
    const r = rig({ risk: fixedGate('1') });
    const close = await r.candle({ o: 600, h: 600.5, l: 599.8, c: 600 });
    await r.handle([enter(600, 590.33, close, { id: 'P', targets: [610, 620, 630] })]);
    await r.candle({ o: 600, h: 600.5, l: 599.5, c: 600 });
    await r.candle({ o: 595, h: 596, l: 590.33, c: 592 });
    // Stop crossed continuously (595 -> 590.33): 1 of 1000 = 0.1% -> 2.05 bps;
    // 590.33 x 0.999795 = 590.20898235 -> 590.2.
    expect(r.fills.at(-1)).toMatchObject({ clientOrderId: 'PX1', time: T0 + 2 * MIN + 20_000 });
    expect(r.fills.at(-1)!.price.toString()).toBe('590.2');
  });

  it('move_stop only moves up, marks breakeven, and a later crossing reports breakeven', async () => {
    const r = rig();
    await opened(r);
    const t = r.now();
    await r.handle([
      { kind: 'move_stop', id: 'm1', symbol: BTC, positionId: 'P', time: t, stop: 100.33, reason: 'breakeven' },
      { kind: 'move_stop', id: 'm2', symbol: BTC, positionId: 'P', time: t, stop: 100, reason: 'breakeven' },
    ]);
    expect(r.events.filter((e) => e.type === 'stop_moved')).toEqual([{ type: 'stop_moved', time: t, positionId: 'P', symbol: BTC, stop: 100.33 }]);
    expect(r.executor.position(BTC)).toMatchObject({ stop: 100.33, breakevenMoved: true });
    await r.candle({ o: 100.5, h: 100.9, l: 100.1, c: 100.4 });
    // 100.5 -> 100.1 crosses 100.33: 100.33 x 0.99975 = 100.3049175 -> 100.3; proceeds 1,003, fee 0.5015.
    // Net 1,003 - 1,002.3 - 0.50115 - 0.5015 = -0.30265.
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '100.3', netPnl: '-0.30265', exitReason: 'breakeven', exits: 1 });
  });

  it('a time exit cancels the targets and sells the remainder at the next open', async () => {
    const r = rig();
    await opened(r);
    await r.handle([exitIntent('P', 'time', r.now())]);
    expect(r.events.at(-1)).toMatchObject({ type: 'exit_started', reason: 'time' });
    expect(r.sim.openOrders(BTC).map((o) => [o.clientOrderId, o.type, o.quantity.toString()])).toEqual([['PX1', 'market', '10']]);
    expect(r.executor.position(BTC)?.state).toBe('closing');
    await r.candle({ o: 100.8, h: 101.5, l: 100.7, c: 101 });
    // 100.8 x 0.99975 = 100.7748 -> 100.77; proceeds 1,007.7, fee 0.50385.
    // Net 1,007.7 - 1,002.3 - 0.50115 - 0.50385 = 4.395. The high 101.5 fills no (cancelled) target.
    expect(r.fills.map((f) => f.clientOrderId)).toEqual(['PE', 'PX1']);
    expect(trade(r.closed()[0]!)).toMatchObject({ exitPrice: '100.77', netPnl: '4.395', exitReason: 'time', exits: 1 });
    expect(r.closed()[0]!.exitTime).toBe(T0 + 2 * MIN + 1_000);
  });
});

describe('Executor: rejections and client order ids', () => {
  it('an entry the risk engine rejects emits entry_rejected with its reason code and sends nothing', async () => {
    const r = rig();
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 101, close, { id: 'P' })]); // stop above the entry of a long
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ type: 'entry_rejected', reason: 'INVALID_STOP' });
    expect(r.sim.log).toHaveLength(0);
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.freeCash.eq(dec(10_000))).toBe(true);
  });

  it('a second entry on a symbol with a position is ALREADY_IN_POSITION', async () => {
    const r = rig();
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 99, close, { id: 'A' }), enter(100, 99, close, { id: 'B' })]);
    expect(r.events.map((e) => e.type)).toEqual(['entry_submitted', 'entry_rejected']);
    expect(r.events[1]).toMatchObject({ reason: 'ALREADY_IN_POSITION' });
    expect(r.sim.log.map((l) => l.clientOrderId)).toEqual(['AE']);
  });

  it('derives client order ids from the intent: the same intents give the same ids, never one twice', async () => {
    const run = async () => {
      const r = rig();
      await opened(r, 'S-1');
      await r.candle({ o: 100.5, h: 101.5, l: 100.4, c: 101.2 });
      await r.candle({ o: 100, h: 101.8, l: 98.5, c: 99.5 });
      return r.sim.log.map((l) => l.clientOrderId);
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(['S-1E', 'S-1T1', 'S-1T2', 'S-1T3', 'S-1X1']);
    expect(b).toEqual(a);
    expect(new Set(a).size).toBe(a.length);
  });
});

describe('Executor: dust and bounded memory', () => {
  it('writes off a remainder below the minimum order value instead of retrying a sell no venue accepts', async () => {
    const r = rig({ risk: fixedGate('0.1'), market: { ...MARKET, minNotional: dec(5) } });
    const close = await r.candle({ o: 100, h: 100.5, l: 99.8, c: 100 });
    await r.handle([enter(100, 99, close, { id: 'P' })]);
    // Entry at the next open 100.2: 0.1 of 1,000 volume = 0.01% -> 2.005 bps -> 100.22009 -> 100.23.
    await r.candle({ o: 100.2, h: 100.6, l: 100.1, c: 100.5 });
    // One target of 0.1 at 102 (see the folding test). Volume 0.96 x 10% = 0.096 fills at 102.
    await r.candle({ o: 100.5, h: 102.5, l: 100.4, c: 101, v: 0.96 });
    // The stop at 99 is crossed; 0.004 BTC is left, worth 0.004 x 101 = 0.404 < 5: no sell is sent.
    await r.candle({ o: 100, h: 100.2, l: 98.5, c: 99 });
    expect(r.sim.log.map((l) => l.clientOrderId)).toEqual(['PE', 'PT1']);
    const [t] = r.closed();
    // net = 0.096 x 102 - 0.1 x 100.23 - 0.1 x 100.23 x 0.0005 - 9.792 x 0.0002
    //     = 9.792 - 10.023 - 0.0050115 - 0.0019584 = -0.2379699
    expect(t && trade(t)).toMatchObject({ quantity: '0.1', netPnl: '-0.2379699', exitReason: 'stop', exits: 1 });
    expect(r.executor.openCount).toBe(0);
    expect(r.portfolio.holding(BTC).toString()).toBe('0.004');
  });

  it('forgets the orders of closed positions', async () => {
    const r = rig();
    for (let i = 0; i < 5; i++) {
      await opened(r, `P${i}`);
      // Every target trades through: 101, 102 and 103 all below the high 103.5.
      await r.candle({ o: 100.5, h: 103.5, l: 100.4, c: 103 });
      expect(r.executor.openCount).toBe(0);
    }
    expect(r.closed()).toHaveLength(5);
    expect(r.executor.trackedOrders).toBe(0);
  });
});
