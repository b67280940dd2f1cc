/**
 * The backtest: the trading kernel (services/kernel) driven over 1m candles of one or many symbols
 * on a simulated clock, against the one fill model, the matching engine, in process.
 *
 * Each minute, every symbol with a candle at that minute is walked along the shared candle path
 * (services/sim/candlePath.ts: open, low, high, close at +1 s, +20 s, +40 s, +59.999 s), symbol by
 * symbol at each point, exactly as the candle replay feeds paper trading: a print of a quarter of
 * the volume (the engine executes arrived market orders, then fills resting orders it goes
 * through; the kernel marks and checks stops), then the synthetic book (the kernel checks stops at
 * the bid). At the minute's end each symbol's closed candle goes to the kernel (strategy, risk,
 * executor). The executor's commands are carried out by a synchronous submitter after each step,
 * the same order the asynchronous submitter gives them in paper trading. Nothing allocates per
 * point unless an order of ours is involved.
 *
 * One portfolio and one risk engine are shared by every symbol. A symbol whose data ends has its
 * position closed at market at its last close (`end_of_data`).
 */
import { Dec } from '../core/money.js';
import { ConfigError, DataValidationError } from '../core/errors.js';
import type { Candle, SymbolId } from '../core/types.js';
import { splitSymbol } from '../core/types.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { Config } from '../config/schema.js';
import type { Strategy } from '../strategy/port.js';
import type { EnterIntent } from '../model/intents.js';
import type { MarketInfo } from '../model/orders.js';
import { SyncSubmitter } from '../execution/submitter.js';
import { Portfolio } from '../portfolio/portfolio.js';
import type { ClosedTrade, EquityPoint } from '../analytics/types.js';
import { TradingKernel } from '../kernel/kernel.js';
import { SimMatchingEngine, engineOptionsFromConfig } from '../sim/matchingEngine.js';
import { EngineExchange } from '../sim/engineExchange.js';
import { PATH_OFFSETS, SyntheticQuotes } from '../sim/candlePath.js';
import type { SimMarketSpec } from '../sim/types.js';
import { inferPrecision } from '../candles/precision.js';

export interface SymbolSeries {
  readonly symbol: SymbolId;
  /** Closed 1m candles, validated and sorted (see services/candles). */
  readonly candles: readonly Candle[];
}

export interface BacktestInput {
  readonly series: readonly SymbolSeries[];
  readonly config: Config;
  /** Default: the S/R strategy with the config. */
  readonly strategy?: Strategy;
  /** Called every `progressEvery` candles with the count done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly progressEvery?: number;
  /**
   * false: walk every path point even when nothing can trade (the fast path's reference; tests
   * prove the two give the same run). Default true.
   */
  readonly fastPath?: boolean;
  /** Receives each decision (signals, refusals, orders, fills, exits) for a log; optional. */
  readonly onEvent?: (line: string) => void;
  /**
   * Asked before each entry the strategy proposes (the live session's entry gate): a reason
   * refuses it, counted in `rejections` under `entry_gate`. Exits and stop moves always pass.
   */
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
  /** A model's confidence in an entry (the kernel's entryConfidence: risk.sizing.mode 'confidence' reads it). */
  readonly entryConfidence?: (intent: EnterIntent, now: number) => number | undefined;
  /**
   * Tick and lot sizes per symbol, instead of inferring them from the candles given. A run over
   * part of a file (a walk-forward fold, the look-ahead check's truncated copies) must use the
   * whole file's: a shorter span can show coarser prices and infer a coarser tick.
   */
  readonly precision?: Readonly<Record<string, { readonly tickSize: Dec; readonly stepSize: Dec }>>;
  /**
   * Every this many ms of market time, the levels the strategy acts on (Strategy.levels) are
   * recorded per symbol, for the report's price charts. Off (0) by default: it costs nothing then.
   */
  readonly levelSnapshotEveryMs?: number;
  /**
   * Called at every minute's end, after that minute's candles were decided, with the kernel: where
   * external signals (services/signals) enter a backtest, at the moment paper trading would route
   * them. Its commands run before the next minute, like the strategy's.
   */
  readonly atClose?: (kernel: TradingKernel, closeTime: number) => void;
  /**
   * History fed to the kernel before the run (kernel.warmUp: indicators, levels, the rolling
   * volume; nothing traded), per symbol, oldest first. The research tools start a span with the
   * day before it so that its first hours trade like the rest.
   */
  readonly warmUp?: readonly SymbolSeries[];
}

/** The levels a strategy acted on at one moment (see BacktestInput.levelSnapshotEveryMs). */
export interface LevelSnapshot {
  readonly time: number;
  readonly prices: readonly number[];
}

export interface BacktestResult {
  readonly trades: ClosedTrade[];
  readonly equity: EquityPoint[];
  readonly initialBalance: Dec;
  readonly finalBalance: Dec;
  readonly fees: Dec;
  readonly candles: number;
  readonly symbols: SymbolId[];
  readonly firstOpen: Record<string, number>;
  readonly lastClose: Record<string, number>;
  readonly start: number;
  readonly end: number;
  /** Entries the risk engine, the entry gate or the exchange refused, by reason code. */
  readonly rejections: Record<string, number>;
  /** The strategy's entry funnel (counter -> count; see Strategy.funnel); empty when it keeps none. */
  readonly funnel: Record<string, number>;
  /** Every order the matching engine accepted, in order (for audits and tests). */
  readonly orderLog: readonly { time: number; clientOrderId: string; type: string; side: string }[];
  /** Symbols the market filters kept out at the end of the run, with the reason. */
  readonly filtered: Record<string, string>;
  /** Level snapshots per symbol (empty unless levelSnapshotEveryMs was given and the strategy has levels). */
  readonly levels: Record<string, LevelSnapshot[]>;
}

const ACCOUNT = 'backtest';
const LAST_OFFSET = PATH_OFFSETS[PATH_OFFSETS.length - 1] as number;

/** The simulated market of a symbol: tick and lot inferred from its candles, fees and minimum from the config. */
export function backtestMarket(symbol: SymbolId, candles: readonly Candle[], cfg: Config, precision?: { readonly tickSize: Dec; readonly stepSize: Dec }): SimMarketSpec {
  const { base, quote } = splitSymbol(symbol);
  const { tickSize, stepSize } = precision ?? inferPrecision(candles);
  const bt = cfg.backtest;
  return {
    symbol,
    base,
    quote,
    tickSize,
    stepSize,
    minQuantity: stepSize,
    minNotional: Dec.from(bt.marketMinNotional),
    makerFeePct: bt.makerFeePct,
    takerFeePct: bt.takerFeePct,
    status: 'online',
    apiTradable: true,
  };
}

function marketInfo(s: SimMarketSpec): MarketInfo {
  return { symbol: s.symbol, base: s.base, quote: s.quote, tickSize: s.tickSize, stepSize: s.stepSize, minNotional: s.minNotional };
}


/** Runs the backtest to the end of the data and returns trades, the equity curve and counters. */
export function runBacktest(input: BacktestInput): Promise<BacktestResult> {
  try {
    return Promise.resolve(runBacktestSync(input));
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** The same as `runBacktest`, synchronously (worker threads and benchmarks). */
export function runBacktestSync(input: BacktestInput): BacktestResult {
  const { config: cfg } = input;
  const series = input.series.filter((s) => s.candles.length > 0);
  if (series.length === 0) throw new DataValidationError('no candles to backtest');
  const symbols = series.map((s) => s.symbol);
  if (new Set(symbols).size !== symbols.length) throw new DataValidationError(`a symbol appears twice: ${symbols.join(', ')}`);
  const maxPairs = cfg.modeSettings.maxPairs;
  if (symbols.length > maxPairs)
    throw new ConfigError(`mode ${cfg.mode} trades at most ${maxPairs} pairs, the data has ${symbols.length} (${symbols.join(', ')}): choose some with --symbols`);

  const bt = cfg.backtest;
  const start = Math.min(...series.map((s) => (s.candles[0] as Candle).openTime));
  // The simulated clock in an object's field: a `let` that closures capture lives in a context
  // slot, where every store of a timestamp (not a small integer) allocates a number box.
  const clk = { now: start };
  const now = (): number => clk.now;
  const specs = series.map((s) => backtestMarket(s.symbol, s.candles, cfg, input.precision?.[s.symbol]));
  const engine = new SimMatchingEngine(engineOptionsFromConfig(bt));
  for (const spec of specs) engine.addMarket(spec);
  const initialBalance = Dec.from(bt.initialBalance);
  engine.openAccount(ACCOUNT, { [bt.quoteAsset]: initialBalance }, start);
  const exchange = new EngineExchange(engine, ACCOUNT, specs.map(marketInfo), now);
  const sink = new SyncSubmitter(exchange, now);
  const portfolio = new Portfolio(bt.quoteAsset, initialBalance);
  const kernel = new TradingKernel({
    config: cfg,
    exchange,
    sink,
    portfolio,
    ...(input.strategy ? { strategy: input.strategy } : {}),
    ...(input.onEvent ? { log: input.onEvent } : {}),
    ...(input.entryGate ? { entryGate: input.entryGate } : {}),
    ...(input.entryConfidence ? { entryConfidence: input.entryConfidence } : {}),
  });
  const snapEvery = input.levelSnapshotEveryMs ?? 0;
  const fastPath = input.fastPath !== false;
  const levelsOf = kernel.strategy.levels?.bind(kernel.strategy);
  const snapshots: Record<string, LevelSnapshot[]> = {};
  const nextSnap = new Float64Array(series.length).fill(-Infinity);
  const snapping = snapEvery > 0 && levelsOf !== undefined;
  if (snapping) for (const s of series) snapshots[s.symbol] = [];
  for (const w of input.warmUp ?? []) kernel.warmUp(w.symbol, w.candles);
  const trades: ClosedTrade[] = [];
  kernel.executor.on((e) => {
    if (e.type === 'position_closed') trades.push(e.trade);
  });
  // The replay's synthetic book: one tick either side (the replay's default spread).
  const quotes = specs.map((s) => new SyntheticQuotes(s.tickSize, 0));

  const n = series.length;
  const idx = new Int32Array(n);
  const symbolsOf = series.map((s) => s.symbol);
  const candlesOf = series.map((s) => s.candles);
  const total = series.reduce((k, s) => k + s.candles.length, 0);
  const every = input.progressEvery ?? 50_000;
  const firstOpen: Record<string, number> = {};
  const lastClose: Record<string, number> = {};
  for (const s of series) {
    firstOpen[s.symbol] = (s.candles[0] as Candle).open;
    lastClose[s.symbol] = (s.candles[s.candles.length - 1] as Candle).close;
  }
  // The equity curve, one point per minute, in typed arrays while running (no object per minute).
  let eqTimes = new Float64Array(1024);
  let eqValues = new Float64Array(1024);
  let eqCount = 0;
  const sample = (time: number, value: number): void => {
    if (eqCount === eqTimes.length) {
      const t = new Float64Array(eqCount * 2);
      t.set(eqTimes);
      eqTimes = t;
      const v = new Float64Array(eqCount * 2);
      v.set(eqValues);
      eqValues = v;
    }
    eqTimes[eqCount] = time;
    eqValues[eqCount++] = value;
  };
  const members = new Int32Array(n);
  let count = 0;
  let done = 0;
  let nextProgress = every;
  let minute = -1;
  let end = start;

  /** Closes the symbol's position (if any) at market: the exit arrives after the latency, at the close's book. */
  const liquidate = (sym: SymbolId, closeTime: number): void => {
    const p = kernel.executor.position(sym);
    if (!p) return;
    kernel.executor.decide([{ kind: 'exit', id: `${p.id}-eod`, symbol: sym, positionId: p.id, time: closeTime, reason: 'end_of_data', detail: 'end of data' }], closeTime);
    sink.flush();
    clk.now = closeTime + bt.latencyMs;
    engine.advance(clk.now);
    sink.flush();
  };

  for (;;) {
    // The next minute across symbols, and the symbols with a candle at it (k is small: a scan).
    let t = Infinity;
    for (let i = 0; i < n; i++) {
      const c = (candlesOf[i] as readonly Candle[])[idx[i] as number];
      if (c !== undefined && c.openTime < t) t = c.openTime;
    }
    if (t === Infinity) break;
    count = 0;
    for (let i = 0; i < n; i++) {
      const c = (candlesOf[i] as readonly Candle[])[idx[i] as number];
      if (c !== undefined && c.openTime === t) members[count++] = i;
    }
    if (t !== minute) {
      if (minute >= 0) sample(minute + MINUTE_MS, portfolio.equityNumber());
      minute = t;
    }
    // The fast path: when nothing can trade on any symbol of the minute (no order working in the
    // engine, nothing the executor watches), the path's points only move the market state, so
    // each symbol's whole path is one call (the same end state as the points, tested).
    let quiet = fastPath;
    for (let k = 0; k < count && quiet; k++) {
      const sym = symbolsOf[members[k] as number] as SymbolId;
      quiet = kernel.isQuiet(sym) && engine.isQuiet(sym);
    }
    if (quiet && !sink.pending) {
      // Objects only in these calls: a number argument that is not a small integer is boxed.
      for (let k = 0; k < count; k++) {
        const m = members[k] as number;
        const sym = symbolsOf[m] as SymbolId;
        const c = (candlesOf[m] as readonly Candle[])[idx[m] as number] as Candle;
        const q = quotes[m] as SyntheticQuotes;
        q.quote(c.close);
        engine.quietCandle(sym, c, PATH_OFFSETS, q);
        kernel.quietPath(sym, c, q, LAST_OFFSET);
      }
    } else {
      for (let j = 0; j < 4; j++) {
        const time = t + (PATH_OFFSETS[j] as number);
        clk.now = time;
        for (let k = 0; k < count; k++) {
          const m = members[k] as number;
          const sym = symbolsOf[m] as SymbolId;
          const c = (candlesOf[m] as readonly Candle[])[idx[m] as number] as Candle;
          const price = j === 0 ? c.open : j === 1 ? c.low : j === 2 ? c.high : c.close;
          const size = c.volume / 4;
          engine.trade(sym, price, size, time);
          kernel.onTrade(sym, price, time);
          if (sink.pending) sink.flush();
          const q = quotes[m] as SyntheticQuotes;
          q.quote(price);
          engine.book(sym, q.bid, size, q.ask, size, time);
          kernel.onBook(sym, q.bid, size, q.ask, size, time);
          if (sink.pending) sink.flush();
        }
      }
    }
    const closeTime = t + MINUTE_MS;
    clk.now = closeTime;
    end = closeTime;
    for (let k = 0; k < count; k++) {
      const m = members[k] as number;
      const sym = symbolsOf[m] as SymbolId;
      const list = candlesOf[m] as readonly Candle[];
      kernel.onCandle(sym, list[idx[m] as number] as Candle, closeTime);
      if (sink.pending) sink.flush();
      if (snapping && closeTime >= (nextSnap[m] as number)) {
        nextSnap[m] = closeTime + snapEvery;
        (snapshots[sym] as LevelSnapshot[]).push({ time: closeTime, prices: [...levelsOf(sym)] });
      }
      idx[m] = (idx[m] as number) + 1;
      // A symbol whose data ends is liquidated at its last close: a position must not sit open
      // across time the run has no prices for (symbols of different windows in one run).
      if (idx[m] === list.length) {
        liquidate(sym, closeTime);
        clk.now = closeTime;
      }
    }
    if (input.atClose) {
      input.atClose(kernel, closeTime);
      if (sink.pending) sink.flush();
    }
    done += count;
    if (input.onProgress && done >= nextProgress) {
      nextProgress += every;
      input.onProgress(done, total);
    }
  }

  sample(end, portfolio.equityNumber());
  input.onProgress?.(done, total);
  const equity: EquityPoint[] = new Array<EquityPoint>(eqCount);
  for (let i = 0; i < eqCount; i++) equity[i] = { time: eqTimes[i] as number, equity: eqValues[i] as number };

  const filtered: Record<string, string> = {};
  for (const [s, f] of kernel.filtered) filtered[s] = f.reason;
  return {
    trades,
    equity,
    initialBalance,
    finalBalance: portfolio.equity(),
    fees: portfolio.fees,
    candles: done,
    symbols,
    firstOpen,
    lastClose,
    start,
    end,
    rejections: { ...kernel.rejections },
    funnel: { ...(kernel.strategy.funnel ?? {}) },
    orderLog: exchange.log,
    filtered,
    levels: snapshots,
  };
}
