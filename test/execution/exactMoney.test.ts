/**
 * Exact money over many trades: 2,000 round trips through the matching engine + Executor + Portfolio with
 * awkward numbers (a 0.1 + 0.2 = 0.30000000000000004 price level with a 0.0001 tick, a PEPE-like
 * 0.00000123 price with a 10-decimal tick and ~12 million units), partial fills, gaps, stops,
 * breakeven moves, targets and time exits.
 *
 * The invariant is plain bookkeeping: every quote unit that left or entered the account belongs to
 * exactly one trade, so cash = initial + the sum of the trades' net PnL, and fees paid = the sum of
 * the trades' fees, to the last 10^-18 (Dec.eq), and each trade's net PnL equals what its own fills
 * say (sells - buys - fees), recomputed here from the fills the exchange reported.
 *
 * Why exactness is worth a test: summing the same fills as floats (price x quantity and fees as
 * `number`) ends at 9982.214901902016 where the exact cash is 9982.21490190204099, 2.4e-11 off
 * after these 2,000 trips, and the drift grows with the number of trades. An equality on Dec catches
 * a single misplaced rounding anywhere in the chain; a float tolerance would hide it.
 */
import { describe, it, expect } from 'vitest';
import { Executor, type ExecutorEvent, type RiskGate } from '../../services/execution/executor.js';
import type { Fill, MarketInfo, OrderUpdate } from '../../services/model/orders.js';
import { SyncSubmitter, type SyncExchangePort } from '../../services/execution/submitter.js';
import { SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import { EngineExchange } from '../../services/sim/engineExchange.js';
import { PATH_OFFSETS, SyntheticQuotes } from '../../services/sim/candlePath.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import type { EnterIntent } from '../../services/model/intents.js';
import type { ClosedTrade } from '../../services/analytics/types.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const PEPE = symbolId('PEPEUSDT');
const OP = symbolId('OPUSDT');
// Minimum notionals far below any slice, so that no order is refused and every trip closes.
const MARKETS: MarketInfo[] = [
  { symbol: PEPE, base: 'PEPE', quote: 'USDT', tickSize: dec('0.0000000001'), stepSize: dec(1), minNotional: dec('0.000001') },
  { symbol: OP, base: 'OP', quote: 'USDT', tickSize: dec('0.0001'), stepSize: dec('0.01'), minNotional: dec('0.000001') },
];
const TRIPS = 2_000;
const INITIAL = dec('10000');

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG): the core takes no Math.random. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('exact money over 2,000 round trips', () => {
  it('cash = initial + sum of net PnL and fees = sum of trade fees, exactly', () => {
    const rnd = lcg(20240101);
    const engine = new SimMatchingEngine({ slippageBps: 2, impactBpsPerPctVolume: 0.5, participationPct: 10, latencyMs: 250 });
    for (const m of MARKETS) engine.addMarket({ ...m, minQuantity: m.stepSize, makerFeePct: 0.02, takerFeePct: 0.05, status: 'online', apiTradable: true });
    engine.openAccount('acct', { USDT: INITIAL }, T0);
    let now = T0;
    const exchange = new EngineExchange(engine, 'acct', MARKETS, () => now);
    const fills: Fill[] = [];
    const updates: OrderUpdate[] = [];
    const tap: SyncExchangePort = {
      market: (s) => exchange.market(s),
      submitNow: (r) => exchange.submitNow(r),
      cancelNow: (s, id) => exchange.cancelNow(s, id),
      submit: (r) => exchange.submit(r),
      cancel: (s, id) => exchange.cancel(s, id),
      subscribe: (ev) =>
        exchange.subscribe({
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
    const sink = new SyncSubmitter(tap, () => now);
    let quantity = Dec.ZERO;
    const gate: RiskGate = { evaluate: (p) => ({ kind: 'approved', quantity, notional: quantity.mul(p.entryPrice), riskAmount: Dec.ZERO, adjustments: [] }) };
    const portfolio = new Portfolio('USDT', INITIAL);
    const executor = new Executor(tap, portfolio, gate, { entryOrderType: 'market', limitEntryTimeoutMs: 3 * MIN }, sink);
    const quotes = new Map(MARKETS.map((m) => [m.symbol, new SyntheticQuotes(m.tickSize, 0)]));
    const trades: ClosedTrade[] = [];
    executor.on((e: ExecutorEvent) => {
      if (e.type === 'position_closed') trades.push(e.trade);
    });

    const last = new Map<SymbolId, number>();
    /** One candle walked like the backtest walks it (services/backtest/engine.ts). */
    const candle = (sym: SymbolId, o: number, h: number, l: number, c: number, v: number): void => {
      const path = [o, l, h, c];
      const q = quotes.get(sym)!;
      for (let j = 0; j < 4; j++) {
        const t = now + PATH_OFFSETS[j]!;
        const start = now;
        now = t;
        engine.trade(sym, path[j]!, v / 4, t);
        portfolio.mark(sym, path[j]!);
        executor.onPrice(sym, path[j]!, t);
        sink.flush();
        q.quote(path[j]!);
        engine.book(sym, q.bid, v / 4, q.ask, v / 4, t);
        executor.onPrice(sym, q.bid, t);
        sink.flush();
        now = start;
      }
      now += MIN;
      portfolio.mark(sym, c);
      last.set(sym, c);
    };

    for (let k = 0; k < TRIPS; k++) {
      const pepe = k % 2 === 0;
      const sym = pepe ? PEPE : OP;
      // Awkward decision prices: float sums that are not the decimals they look like.
      const price = pepe ? 0.00000123 + Math.floor(rnd() * 500) * 1e-10 : 0.1 + 0.2 + Math.floor(rnd() * 2000) * 0.0001;
      quantity = pepe ? dec(12_345_678 + Math.floor(rnd() * 100_000)) : dec(3_333 + Math.floor(rnd() * 5_000)).div(dec(100));
      const qty = quantity.toNumber();
      candle(sym, price, price, price, price, qty * 100);
      const id = `K${k}`;
      const intent: EnterIntent = {
        kind: 'enter',
        id,
        symbol: sym,
        direction: 'long',
        time: now,
        price,
        stop: price * 0.99,
        targets: [
          { label: 'primary', price: price * 1.01, fraction: 0.33 },
          { label: 'secondary', price: price * 1.02, fraction: 0.33 },
          { label: 'aggressive', price: price * 1.03, fraction: 0.34 },
        ],
        level: { price: price * 0.995, touches: 3, sources: ['extrema'] },
        oppositeLevel: null,
        reasons: [],
        expiresAt: now + 6 * MIN,
      };
      executor.decide([intent], now);
      sink.flush();
      // A random walk of up to six candles: some gap down, volumes from zero (limit orders fill
      // nothing) to plenty, so targets fill whole, partially over candles, or not at all.
      let moved = false;
      for (let i = 0; i < 6 && executor.position(sym); i++) {
        const prev = last.get(sym)!;
        const o = rnd() < 0.08 ? prev * 0.985 : prev;
        const h = o * (1 + rnd() * 0.025);
        const l = o * (1 - rnd() * 0.012);
        const c = l + (h - l) * rnd();
        const vols = [0, qty * 2, qty * 6, qty * 100];
        candle(sym, o, h, l, c, vols[Math.floor(rnd() * vols.length)]!);
        const pos = executor.position(sym);
        if (pos?.state === 'open' && !moved && c > pos.entryPrice * 1.01 && rnd() < 0.7) {
          moved = true;
          executor.decide([{ kind: 'move_stop', id: `${id}M`, symbol: sym, positionId: id, time: now, stop: pos.entryPrice * 1.001, reason: 'breakeven' }], now);
          sink.flush();
        }
      }
      if (executor.position(sym)) {
        executor.decide([{ kind: 'exit', id: `${id}X`, symbol: sym, positionId: id, time: now, reason: 'time', detail: 'time stop' }], now);
        sink.flush();
        const p = last.get(sym)!;
        candle(sym, p, p, p, p, qty);
      }
      expect(executor.position(sym), `trip ${k} still open`).toBeUndefined();
      expect(engine.openOrders('acct', sym), `trip ${k} left orders`).toHaveLength(0);
    }

    expect(trades).toHaveLength(TRIPS);
    // The walk did exercise every path (otherwise the exactness below would prove less).
    const reasons = new Set(trades.map((t) => t.exitReason));
    expect([...reasons].sort()).toEqual(['breakeven', 'stop', 'target', 'time']);
    for (const n of [1, 2, 3]) expect(trades.some((t) => t.exits === n)).toBe(true);
    expect(trades.some((t) => t.exits >= 4)).toBe(true); // a target filled partially over candles
    expect(updates.some((u) => u.status === 'partially_filled')).toBe(true);

    // The invariant, exactly.
    const sumNet = Dec.sum(trades.map((t) => t.netPnl));
    const sumFees = Dec.sum(trades.map((t) => t.fees));
    expect(portfolio.cash.eq(INITIAL.add(sumNet))).toBe(true);
    expect(portfolio.fees.eq(sumFees)).toBe(true);
    expect(sumFees.eq(Dec.sum(fills.map((f) => f.fee)))).toBe(true);
    expect(portfolio.holding(PEPE).isZero()).toBe(true);
    expect(portfolio.holding(OP).isZero()).toBe(true);

    // Each trade against its own fills: net = sells - buys - fees, quantity = bought = sold.
    const byTrade = new Map<string, { buy: Dec; sell: Dec; fee: Dec; bought: Dec; sold: Dec }>();
    for (const f of fills) {
      const m = /^(K\d+)(E|T\d+|X\d+)$/.exec(f.clientOrderId);
      if (!m) throw new Error(`unexpected client order id ${f.clientOrderId}`);
      const a = byTrade.get(m[1]!) ?? { buy: Dec.ZERO, sell: Dec.ZERO, fee: Dec.ZERO, bought: Dec.ZERO, sold: Dec.ZERO };
      const notional = f.price.mul(f.quantity);
      if (f.side === 'buy') {
        a.buy = a.buy.add(notional);
        a.bought = a.bought.add(f.quantity);
      } else {
        a.sell = a.sell.add(notional);
        a.sold = a.sold.add(f.quantity);
      }
      a.fee = a.fee.add(f.fee);
      byTrade.set(m[1]!, a);
    }
    for (const t of trades) {
      const a = byTrade.get(t.id)!;
      expect(t.netPnl.eq(a.sell.sub(a.buy).sub(a.fee)), `trade ${t.id}`).toBe(true);
      expect(t.fees.eq(a.fee), `trade ${t.id}`).toBe(true);
      expect(t.quantity.eq(a.bought) && a.sold.eq(a.bought), `trade ${t.id}`).toBe(true);
    }

    // No client order id was ever submitted twice.
    const ids = exchange.log.map((l) => l.clientOrderId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
