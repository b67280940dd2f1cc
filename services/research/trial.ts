/**
 * One trial: a config evaluated by a full kernel backtest over one span of the data. This is the
 * code every worker runs, a local worker thread and an AWS Lambda alike: a task in (plain JSON),
 * an outcome out (plain JSON), nothing else shared.
 *
 * The span's candles are sliced from the series (binary search on open times); the day before it
 * (the warm-up) is fed to the kernel first. The outcome keeps the span's figures (for objectives
 * and reports) and its hourly equity returns (for the deflated Sharpe ratio, CSCV and the
 * stitched out-of-sample curve).
 */
import type { Candle } from '../core/types.js';
import { Dec } from '../core/money.js';
import { DAY_MS } from '../core/timeframes.js';
import { parseConfig, type Config } from '../config/schema.js';
import { runBacktestSync, type BacktestResult, type SymbolSeries } from '../backtest/engine.js';
import { computeSummary } from '../analytics/index.js';
import type { EquityPoint } from '../analytics/types.js';
import type { SpanMetrics } from './objectives.js';
import { ConfigError } from '../core/errors.js';
import type { Strategy } from '../strategy/port.js';
import { strategyFactory, type StrategyRef } from './strategies.js';
import type { ParamValues } from './space.js';
import type { Span } from './folds.js';

export const HOUR_MS = 3_600_000;

/** What a trial is run for: the search (in sample), a fold's out-of-sample test, the hold-out, or the untuned config on either. */
export type TrialPhase = 'search' | 'oos' | 'holdout' | 'base-oos' | 'base-holdout';

export interface TrialTask {
  readonly runId: string;
  /** Unique within the run (see walkForward.ts for the numbering). */
  readonly trial: number;
  readonly fold: number;
  readonly phase: TrialPhase;
  readonly values: ParamValues;
  /** The full config input (validated again in the worker). */
  readonly config: Record<string, unknown>;
  readonly strategy: StrategyRef;
  readonly span: Span;
  readonly warmupMs: number;
}

export type TrialStatus = 'ok' | 'invalid' | 'error';

export interface TrialOutcome {
  readonly v: 1;
  readonly runId: string;
  readonly trial: number;
  readonly fold: number;
  readonly phase: TrialPhase;
  readonly values: ParamValues;
  readonly status: TrialStatus;
  /** Why the trial is invalid or failed. */
  readonly reason?: string;
  /** The same values as an earlier trial of the fold: its outcome is reused, not run again. */
  readonly duplicateOf?: number;
  readonly metrics: SpanMetrics | null;
  /** Hourly simple returns of account equity over the span (rounded to 1e-8). */
  readonly returns: readonly number[];
  /** Wall time of the backtest in its worker, ms. */
  readonly elapsedMs: number;
}

/** Index of the first candle opening at or after `t`. */
function lowerBound(candles: readonly Candle[], t: number): number {
  let lo = 0;
  let hi = candles.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((candles[mid] as Candle).openTime < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The candles of each series within [start, end) (by open time); series without any are left out. */
export function sliceSeries(series: readonly SymbolSeries[], start: number, end: number): SymbolSeries[] {
  const out: SymbolSeries[] = [];
  for (const s of series) {
    const a = lowerBound(s.candles, start);
    const b = lowerBound(s.candles, end);
    if (b > a) out.push({ symbol: s.symbol, candles: s.candles.slice(a, b) });
  }
  return out;
}

/**
 * Hourly simple returns of an equity series over [start, end): the equity at each hour's end is
 * the last sample at or before it (carried forward over gaps), starting from `initial`.
 */
export function hourlyReturns(equity: readonly EquityPoint[], start: number, end: number, initial: number): number[] {
  const hours = Math.max(1, Math.round((end - start) / HOUR_MS));
  const out = new Array<number>(hours);
  let prev = initial;
  let cur = initial;
  let i = 0;
  for (let h = 1; h <= hours; h++) {
    const t = Math.min(start + h * HOUR_MS, end);
    while (i < equity.length && (equity[i] as EquityPoint).time <= t) cur = (equity[i++] as EquityPoint).equity;
    out[h - 1] = prev > 0 ? Math.round((cur / prev - 1) * 1e8) / 1e8 : 0;
    prev = cur;
  }
  return out;
}

/** The span figures of a backtest result (the same definitions as summary.json). */
export function spanMetrics(r: BacktestResult, span: Span): SpanMetrics {
  const s = computeSummary({
    initialBalance: r.initialBalance,
    finalBalance: r.finalBalance,
    candles: r.candles,
    symbols: r.symbols,
    startTime: span.start,
    endTime: span.end,
    elapsedMs: 0,
    buyAndHold: [],
    trades: r.trades,
    equity: r.equity,
  });
  const days = (span.end - span.start) / DAY_MS;
  return {
    days,
    trades: s.trades,
    netReturnPct: s.netReturnPct,
    maxDrawdownPct: s.maxDrawdownPct,
    sharpe: s.sharpe,
    sortino: s.sortino,
    calmar: s.maxDrawdownPct > 0 && days > 0 ? Math.round(((s.netReturnPct * 365) / days / s.maxDrawdownPct) * 1e4) / 1e4 : null,
    profitFactor: s.profitFactor,
    winRate: s.winRate,
    fees: s.fees,
  };
}

/** Runs the backtest of a config over a span with its warm-up (synchronous: workers and tests). */
export function backtestSpan(series: readonly SymbolSeries[], config: Config, strategy: Strategy, span: Span, warmupMs: number): BacktestResult | null {
  const run = sliceSeries(series, span.start, span.end);
  if (run.length === 0) return null;
  const warmUp = sliceSeries(series, span.start - warmupMs, span.start);
  return runBacktestSync({ series: run, config, strategy, warmUp });
}

/** A clock in ms for the trial's duration, passed in (the core reads none). */
export type Clock = () => number;

/** Evaluates one trial task against the loaded series. Never throws for a bad config or data: the outcome says why. */
export function evaluateTrial(task: TrialTask, series: readonly SymbolSeries[], clock: Clock = () => 0): TrialOutcome {
  const head = { v: 1 as const, runId: task.runId, trial: task.trial, fold: task.fold, phase: task.phase, values: task.values };
  let config: Config;
  try {
    config = parseConfig(task.config, 'trial config');
  } catch (e) {
    return { ...head, status: 'invalid', reason: (e as Error).message, metrics: null, returns: [], elapsedMs: 0 };
  }
  const c0 = clock();
  let strategy: Strategy;
  try {
    // An unknown strategy is a failure of the run (below); parameters its module refuses make the point invalid.
    const factory = strategyFactory(task.strategy);
    try {
      strategy = factory(config);
    } catch (e) {
      if (e instanceof ConfigError) return { ...head, status: 'invalid', reason: e.message, metrics: null, returns: [], elapsedMs: 0 };
      throw e;
    }
    const r = backtestSpan(series, config, strategy, task.span, task.warmupMs);
    const initial = Dec.from(config.backtest.initialBalance).toNumber();
    if (!r) return { ...head, status: 'error', reason: 'no candles in the span', metrics: null, returns: [], elapsedMs: Math.round(clock() - c0) };
    return { ...head, status: 'ok', metrics: spanMetrics(r, task.span), returns: hourlyReturns(r.equity, task.span.start, task.span.end, initial), elapsedMs: Math.round(clock() - c0) };
  } catch (e) {
    return { ...head, status: 'error', reason: e instanceof Error ? `${e.name}: ${e.message}` : String(e), metrics: null, returns: [], elapsedMs: Math.round(clock() - c0) };
  }
}

/** Trials to run together on one worker (a worker thread's task, a Lambda's Distributed Map batch). */
export interface TrialBatch {
  readonly runId: string;
  /** Where the candles are: local paths for a worker thread, object keys for a Lambda (see its handler). */
  readonly data: readonly string[];
  /** Only these symbols of the data (empty: all). */
  readonly symbols: readonly string[];
  readonly tasks: readonly TrialTask[];
}

/** Evaluates every task of a batch against the series its data holds. */
export function evaluateBatch(batch: TrialBatch, series: readonly SymbolSeries[], clock: Clock = () => 0): TrialOutcome[] {
  return batch.tasks.map((t) => evaluateTrial(t, series, clock));
}
