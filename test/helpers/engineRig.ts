/**
 * The matching engine driven the way the backtest drives it (services/backtest/engine.ts), for
 * unit tests of the fill rules and the executor: per 1m candle the path open -> low -> high ->
 * close at +1 s / +20 s / +40 s / +59.999 s, at each point a print of a quarter of the volume, then
 * the synthetic book one tick either side; the executor checks its stops after the print (at the
 * price) and after the book (at the bid); commands run after each step; decisions at the close.
 *
 * Common setup: BTCUSDT, tick 0.01, lot 0.001, minimum notional 1 USDT; maker fee 0.02%, taker
 * 0.05%; slippage 2 bps + 0.5 bps per % of the 60 s volume before the fill, at most 100; latency
 * 250 ms; 10% participation per print. 10,000 USDT.
 */
import { Dec, dec } from '../../services/core/money.js';
import { symbolId, type Candle, type SymbolId } from '../../services/core/types.js';
import { Executor, type ExecutorEvent, type ExecutorOptions, type RiskGate } from '../../services/execution/executor.js';
import { SyncSubmitter, type SyncExchangePort } from '../../services/execution/submitter.js';
import type { Fill, Intent, OrderUpdate } from './types.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import { RiskEngine } from '../../services/risk/index.js';
import { parseConfig } from '../../services/config/schema.js';
import { SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import { EngineExchange } from '../../services/sim/engineExchange.js';
import { PATH_OFFSETS, SyntheticQuotes } from '../../services/sim/candlePath.js';
import type { EngineOptions, SimMarketSpec } from '../../services/sim/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';

export const T0 = Date.UTC(2024, 0, 1);
export const MIN = 60_000;
export const BTC = symbolId('BTCUSDT');
export const ACCOUNT = 'rig';

export const BTC_SPEC: SimMarketSpec = {
  symbol: BTC,
  base: 'BTC',
  quote: 'USDT',
  tickSize: dec('0.01'),
  stepSize: dec('0.001'),
  minQuantity: dec('0.001'),
  minNotional: dec(1),
  makerFeePct: 0.02,
  takerFeePct: 0.05,
  status: 'online',
  apiTradable: true,
};

export const RIG_OPTIONS: EngineOptions = { slippageBps: 2, impactBpsPerPctVolume: 0.5, participationPct: 10, latencyMs: 250 };

export interface Bar {
  o: number;
  h: number;
  l: number;
  c: number;
  v?: number;
}

/** A risk gate that approves a fixed quantity, for tests that need to control the size. */
export function fixedGate(quantity: string): RiskGate {
  return {
    evaluate: (p) => ({ kind: 'approved', quantity: dec(quantity), notional: dec(quantity).mul(p.entryPrice), riskAmount: Dec.ZERO, adjustments: [] }),
  };
}

export interface RigOptions {
  readonly spec?: Partial<SimMarketSpec>;
  readonly engine?: Partial<EngineOptions>;
  readonly risk?: RiskGate;
  readonly executor?: Partial<ExecutorOptions>;
}

export function engineRig(opts: RigOptions = {}) {
  const spec: SimMarketSpec = { ...BTC_SPEC, ...opts.spec };
  const engine = new SimMatchingEngine({ ...RIG_OPTIONS, ...opts.engine });
  engine.addMarket(spec);
  engine.openAccount(ACCOUNT, { USDT: dec(10_000) }, T0);
  let clock = T0;
  let next = T0;
  const now = (): number => clock;
  const exchange = new EngineExchange(engine, ACCOUNT, [{ symbol: spec.symbol, base: spec.base, quote: spec.quote, tickSize: spec.tickSize, stepSize: spec.stepSize, minNotional: spec.minNotional }], now);
  const fills: Fill[] = [];
  const updates: OrderUpdate[] = [];
  // Between the executor and the engine, so the test sees what the executor sees.
  const tap: SyncExchangePort = {
    market: (s) => exchange.market(s),
    submitNow: (r) => exchange.submitNow(r),
    cancelNow: (s, id) => exchange.cancelNow(s, id),
    holdingNow: (s, since) => exchange.holdingNow(s, since),
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
  const sink = new SyncSubmitter(tap, now);
  const portfolio = new Portfolio('USDT', dec(10_000));
  const executor = new Executor(tap, portfolio, opts.risk ?? new RiskEngine(parseConfig({})), { entryOrderType: 'market', limitEntryTimeoutMs: 3 * MIN, ...opts.executor }, sink);
  const events: ExecutorEvent[] = [];
  executor.on((e) => events.push(e));
  const quotes = new SyntheticQuotes(spec.tickSize, 0);
  const sym: SymbolId = spec.symbol;

  /** Plays the first `points` path points of a candle (all four by default). */
  const play = ({ o, h, l, c, v = 1000 }: Bar, points = 4): Candle => {
    const openTime = next;
    const path = [o, l, h, c];
    for (let j = 0; j < points; j++) {
      const t = openTime + PATH_OFFSETS[j]!;
      clock = t;
      engine.trade(sym, path[j]!, v / 4, t);
      portfolio.mark(sym, path[j]!);
      executor.onPrice(sym, path[j]!, t);
      sink.flush();
      quotes.quote(path[j]!);
      engine.book(sym, quotes.bid, v / 4, quotes.ask, v / 4, t);
      executor.onPrice(sym, quotes.bid, t);
      sink.flush();
    }
    return { openTime, open: o, high: h, low: l, close: c, volume: v };
  };
  /** Plays one whole candle; returns its close time (when decisions are made). */
  const candle = (bar: Bar): number => {
    play(bar);
    next += MIN;
    clock = next;
    return next;
  };
  const handle = (intents: Intent[]): void => {
    executor.decide(intents, clock);
    sink.flush();
  };
  /** Places an order directly (no executor), at the clock. */
  const submit = (r: Parameters<SyncExchangePort['submitNow']>[0]) => exchange.submitNow(r);
  const closed = (): ClosedTrade[] => events.flatMap((e) => (e.type === 'position_closed' ? [e.trade] : []));
  /** Client order ids the engine accepted, in order. */
  const sent = (): string[] => exchange.log.map((l) => l.clientOrderId);
  const openOrders = () => engine.openOrders(ACCOUNT, sym);
  return { engine, exchange, fills, updates, portfolio, executor, events, play, candle, handle, submit, closed, sent, openOrders, now: () => clock, sym };
}
