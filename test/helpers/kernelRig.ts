/**
 * The trading kernel on the matching engine, driven the way the backtest drives it (the candle
 * path open -> low -> high -> close with a print and the synthetic book at each point, commands
 * carried out after each step, the closed candle to the kernel at the minute's end), for tests of
 * what goes through the kernel: external signals above all. The market is engineRig's BTCUSDT
 * (tick 0.01, lot 0.001, minimum 1 USDT, taker 0.05%, latency 250 ms) with 10,000 USDT; `markets`
 * replaces it with others (the first is `sym`, the symbol `candle` plays unless told another).
 *
 * The strategy proposes nothing unless one is given, so every entry in a test is the test's own.
 */
import { dec } from '../../services/core/money.js';
import type { Candle, SymbolId } from '../../services/core/types.js';
import { parseConfig, type Config, type ConfigInput } from '../../services/config/schema.js';
import { SyncSubmitter } from '../../services/execution/submitter.js';
import type { ExecutorEvent } from '../../services/execution/executor.js';
import { TradingKernel } from '../../services/kernel/kernel.js';
import type { EnterIntent } from '../../services/model/intents.js';
import { Portfolio } from '../../services/portfolio/portfolio.js';
import { PATH_OFFSETS, SyntheticQuotes } from '../../services/sim/candlePath.js';
import { EngineExchange } from '../../services/sim/engineExchange.js';
import { SimMatchingEngine } from '../../services/sim/matchingEngine.js';
import type { Strategy } from '../../services/strategy/port.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { ACCOUNT, BTC_SPEC, MIN, RIG_OPTIONS, T0, type Bar } from './engineRig.js';
import type { SimMarketSpec } from '../../services/sim/types.js';

export const NO_STRATEGY: Strategy = { name: 'none', onCandle: () => [] };

export interface KernelRigOptions {
  readonly config?: ConfigInput;
  readonly strategy?: Strategy;
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
  /** The markets (default BTC_SPEC alone). */
  readonly markets?: readonly SimMarketSpec[];
}

export function kernelRig(opts: KernelRigOptions = {}) {
  const config: Config = parseConfig(opts.config ?? {});
  const specs = opts.markets ?? [BTC_SPEC];
  const engine = new SimMatchingEngine(RIG_OPTIONS);
  for (const m of specs) engine.addMarket(m);
  engine.openAccount(ACCOUNT, { USDT: dec(10_000) }, T0);
  let clock = T0;
  let next = T0;
  const now = (): number => clock;
  const exchange = new EngineExchange(engine, ACCOUNT, specs.map((m) => ({ symbol: m.symbol, base: m.base, quote: m.quote, tickSize: m.tickSize, stepSize: m.stepSize, minNotional: m.minNotional })), now);
  const sink = new SyncSubmitter(exchange, now);
  const portfolio = new Portfolio('USDT', dec(10_000));
  const lines: string[] = [];
  const kernel = new TradingKernel({
    config,
    exchange,
    sink,
    portfolio,
    strategy: opts.strategy ?? NO_STRATEGY,
    log: (l) => lines.push(l),
    ...(opts.entryGate ? { entryGate: opts.entryGate } : {}),
  });
  const events: ExecutorEvent[] = [];
  kernel.executor.on((e) => events.push(e));
  const quotesBySymbol = new Map(specs.map((m) => [m.symbol, new SyntheticQuotes(m.tickSize, 0)]));
  const sym: SymbolId = (specs[0] as SimMarketSpec).symbol;

  /** Plays one whole candle of `symbol` (default `sym`) through the engine and the kernel; returns its close time. */
  const candle = ({ o, h, l, c, v = 1000 }: Bar, symbol: SymbolId = sym): number => {
    const quotes = quotesBySymbol.get(symbol) as SyntheticQuotes;
    const openTime = next;
    const path = [o, l, h, c];
    for (let j = 0; j < 4; j++) {
      const t = openTime + PATH_OFFSETS[j]!;
      clock = t;
      engine.trade(symbol, path[j]!, v / 4, t);
      kernel.onTrade(symbol, path[j]!, t);
      sink.flush();
      quotes.quote(path[j]!);
      engine.book(symbol, quotes.bid, v / 4, quotes.ask, v / 4, t);
      kernel.onBook(symbol, quotes.bid, v / 4, quotes.ask, v / 4, t);
      sink.flush();
    }
    next += MIN;
    clock = next;
    const bar: Candle = { openTime, open: o, high: h, low: l, close: c, volume: v };
    kernel.onCandle(symbol, bar, clock);
    sink.flush();
    return clock;
  };
  /** Lets the engine execute what arrived by `ms` from now (orders need the latency to pass). */
  const wait = (ms: number): void => {
    sink.flush();
    clock += ms;
    engine.advance(clock);
    sink.flush();
  };
  const closed = (): ClosedTrade[] => events.flatMap((e) => (e.type === 'position_closed' ? [e.trade] : []));
  return { kernel, engine, exchange, sink, portfolio, config, events, lines, candle, wait, closed, now, sym, orders: () => exchange.log };
}
