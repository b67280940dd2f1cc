/**
 * Event-driven backtest: replays 1m candles of one or many symbols, in time order, through the same
 * strategy, risk engine and executor that paper and live trading use, against SimExchange.
 * One portfolio and one risk engine are shared by every symbol.
 */
import { Dec } from '../core/money.js';
import { ConfigError, DataValidationError } from '../core/errors.js';
import type { Candle, SymbolId } from '../core/types.js';
import { splitSymbol } from '../core/types.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { Config } from '../config/schema.js';
import { SrStrategy, type EntryFunnel } from '../strategy/srStrategy.js';
import type { EnterIntent } from '../strategy/intents.js';
import { Executor } from '../execution/executor.js';
import type { MarketInfo } from '../execution/types.js';
import { Portfolio } from '../portfolio/portfolio.js';
import { RiskEngine } from '../risk/index.js';
import type { ClosedTrade, EquityPoint } from '../analytics/types.js';
import { SimExchange } from './simExchange.js';
import { inferPrecision } from './precision.js';

export interface SymbolSeries {
  readonly symbol: SymbolId;
  /** Closed 1m candles, validated and sorted (see services/candles). */
  readonly candles: readonly Candle[];
}

export interface BacktestInput {
  readonly series: readonly SymbolSeries[];
  readonly config: Config;
  /** Called every `progressEvery` candles with the count done so far. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly progressEvery?: number;
  /** Receives each decision (entries, rejections, exits) for a log; optional. */
  readonly onEvent?: (line: string) => void;
  /**
   * Asked before each entry the strategy proposes (the same contract as the live session's
   * entryGate): a reason string refuses it, counted in `rejections` under `entry_gate`. Exits and
   * stop moves always pass. Absent: every entry goes to the executor as before.
   */
  readonly entryGate?: (intent: EnterIntent, now: number) => string | undefined;
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
  /** Entries the risk engine or the exchange refused, by reason code. */
  readonly rejections: Record<string, number>;
  readonly funnel: EntryFunnel;
  /** Every order id the simulated exchange accepted, in order (for audits and tests). */
  readonly orderLog: readonly { time: number; clientOrderId: string; type: string; side: string }[];
}

/** Offsets within a minute of the four path points (see SimExchange's file comment). */
const PATH_OFFSETS = [1_000, 20_000, 40_000, 59_999] as const;

function marketFor(symbol: SymbolId, candles: readonly Candle[], cfg: Config): MarketInfo {
  const { base, quote } = splitSymbol(symbol);
  const { tickSize, stepSize } = inferPrecision(candles);
  return { symbol, base, quote, tickSize, stepSize, minNotional: Dec.from(cfg.backtest.marketMinNotional) };
}

/** Runs the backtest to the end of the data and returns trades, the equity curve and counters. */
export async function runBacktest(input: BacktestInput): Promise<BacktestResult> {
  const { config: cfg } = input;
  const series = input.series.filter((s) => s.candles.length > 0);
  if (series.length === 0) throw new DataValidationError('no candles to backtest');
  const symbols = series.map((s) => s.symbol);
  if (new Set(symbols).size !== symbols.length) throw new DataValidationError(`a symbol appears twice: ${symbols.join(', ')}`);
  const maxPairs = cfg.modeSettings.maxPairs;
  if (symbols.length > maxPairs)
    throw new ConfigError(`mode ${cfg.mode} trades at most ${maxPairs} pairs, the data has ${symbols.length} (${symbols.join(', ')}): choose some with --symbols`);

  const bt = cfg.backtest;
  const sim = new SimExchange(
    series.map((s) => marketFor(s.symbol, s.candles, cfg)),
    bt,
  );
  const initialBalance = Dec.from(bt.initialBalance);
  const portfolio = new Portfolio(bt.quoteAsset, initialBalance);
  const risk = new RiskEngine(cfg);
  const executor = new Executor(sim, portfolio, risk, {
    entryOrderType: cfg.entry.orderType,
    limitEntryTimeoutMs: cfg.entry.limitTimeoutCandles * MINUTE_MS,
  });
  const strategy = new SrStrategy(cfg);

  const trades: ClosedTrade[] = [];
  const rejections: Record<string, number> = {};
  const log = input.onEvent;
  executor.on((e) => {
    switch (e.type) {
      case 'position_closed':
        trades.push(e.trade);
        risk.onTradeClosed({ symbol: e.trade.symbol as SymbolId, time: e.time, pnl: e.trade.netPnl, exitReason: e.reason, equityAfter: portfolio.equity() });
        log?.(`${iso(e.time)} CLOSE ${e.trade.symbol} ${e.trade.exitReason} net ${e.trade.netPnl.toFixed(2)} (${e.trade.returnPct.toFixed(2)}%)`);
        break;
      case 'entry_rejected':
        rejections[e.reason] = (rejections[e.reason] ?? 0) + 1;
        log?.(`${iso(e.time)} SKIP  ${e.intent.symbol} ${e.reason}: ${e.detail}`);
        break;
      case 'position_opened':
        log?.(`${iso(e.time)} OPEN  ${e.symbol} ${e.quantity.toString()} @ ${e.price.toString()}`);
        break;
      case 'stop_moved':
        log?.(`${iso(e.time)} STOP  ${e.symbol} moved to ${e.stop}`);
        break;
      default:
        break;
    }
  });

  const idx = series.map(() => 0);
  const total = series.reduce((n, s) => n + s.candles.length, 0);
  const every = input.progressEvery ?? 50_000;
  const firstOpen: Record<string, number> = {};
  const lastClose: Record<string, number> = {};
  for (const s of series) {
    firstOpen[s.symbol] = (s.candles[0] as Candle).open;
    lastClose[s.symbol] = (s.candles[s.candles.length - 1] as Candle).close;
  }
  const equity: EquityPoint[] = [];
  let done = 0;
  let minute = -1;
  let lastDay = -1;
  const start = Math.min(...series.map((s) => (s.candles[0] as Candle).openTime));
  let end = start;

  /** Closes the symbol's position (if any) at market on a final tick at its last close. */
  const liquidate = async (sym: SymbolId, last: Candle): Promise<void> => {
    const p = executor.position(sym);
    if (!p) return;
    const t = last.openTime + MINUTE_MS;
    await executor.exit(p.id, 'end_of_data', 'end of data', t);
    sim.beginCandle(sym, last);
    sim.tick(sym, last.close, t + bt.latencyMs);
    portfolio.mark(sym, last.close);
  };

  for (;;) {
    // Next candle in time order across symbols (k is small, a linear scan beats a heap here).
    let k = -1;
    let t = Infinity;
    for (let i = 0; i < series.length; i++) {
      const c = (series[i] as SymbolSeries).candles[idx[i] as number];
      if (c && c.openTime < t) {
        t = c.openTime;
        k = i;
      }
    }
    if (k < 0) break;
    const s = series[k] as SymbolSeries;
    const c = s.candles[idx[k] as number] as Candle;
    idx[k] = (idx[k] as number) + 1;
    const sym = s.symbol;

    if (c.openTime !== minute) {
      if (minute >= 0) equity.push({ time: minute + MINUTE_MS, equity: portfolio.equityNumber() });
      minute = c.openTime;
    }

    sim.beginCandle(sym, c);
    for (let j = 0; j < 4; j++) {
      const price = j === 0 ? c.open : j === 1 ? c.low : j === 2 ? c.high : c.close;
      const time = c.openTime + (PATH_OFFSETS[j] as number);
      sim.tick(sym, price, time);
      const pending = executor.onPrice(sym, price, time);
      if (pending) await pending;
    }
    const closeTime = c.openTime + MINUTE_MS;
    end = closeTime;
    sim.setTime(closeTime);
    portfolio.mark(sym, c.close);
    // The risk engine needs the time for day and week roll-over; valuing the portfolio exactly
    // is costly, so it is told once per UTC day (evaluate() also rolls the day by itself).
    const day = Math.floor(closeTime / DAY_MS);
    if (day !== lastDay) {
      lastDay = day;
      risk.onTime(closeTime, portfolio.equity());
    }
    risk.onPrice(sym, closeTime, c.close);
    let intents = strategy.onCandle(sym, c, executor.position(sym));
    const gate = input.entryGate;
    if (gate && intents.length > 0) {
      intents = intents.filter((it) => {
        if (it.kind !== 'enter') return true;
        const refused = gate(it, closeTime);
        if (refused === undefined) return true;
        rejections.entry_gate = (rejections.entry_gate ?? 0) + 1;
        log?.(`${iso(closeTime)} SKIP  ${it.symbol} entry_gate: ${refused}`);
        return false;
      });
    }
    if (intents.length > 0) {
      for (const it of intents) if (it.kind === 'enter') log?.(`${iso(closeTime)} ENTER ${it.symbol} @ ${it.price} stop ${it.stop.toPrecision(8)}: ${it.reasons.join(', ')}`);
      await executor.handle(intents, closeTime);
    }
    // A symbol whose data ends is liquidated at its last close: a position must not sit open
    // across time the run has no prices for (symbols of different windows in one run).
    if (idx[k] === s.candles.length) await liquidate(sym, c);
    done++;
    if (input.onProgress && done % every === 0) input.onProgress(done, total);
  }

  equity.push({ time: end, equity: portfolio.equityNumber() });
  input.onProgress?.(done, total);

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
    rejections,
    funnel: { ...strategy.funnel },
    orderLog: sim.log,
  };
}

function iso(t: number): string {
  return new Date(t).toISOString().slice(0, 16).replace('T', ' ');
}
