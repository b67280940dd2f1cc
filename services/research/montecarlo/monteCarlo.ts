/**
 * The Monte Carlo section of a backtest: trade-order reshuffling, a block bootstrap of daily
 * returns, and resampled candle blocks replayed through the kernel, each scored on the same path
 * statistics (paths.ts), with the real run's own figures beside them. Scenario i of each method
 * has its own seed (derived from the run's seed and i), so the first k scenarios are the same
 * whatever the total, and a time-bounded replay says how many it ran.
 */
import type { Config } from '../../config/schema.js';
import type { ClosedTrade, EquityPoint } from '../../analytics/types.js';
import { dailyReturns } from '../../analytics/returns.js';
import { runBacktestSync, type SymbolSeries } from '../../backtest/engine.js';
import type { StrategyFactory } from '../strategies.js';
import { bootstrapScenario, defaultBlockDays } from './bootstrap.js';
import { resampleBlocks } from './candleBlocks.js';
import { pathStats, riskLimitsOf, summarise, type PathStats, type RiskLimits, type ScenarioSummary } from './paths.js';
import { reshuffleScenario, type TradeResult } from './reshuffle.js';

export const DEFAULT_SCENARIOS = 10_000;

/** The trades as reshuffling needs them: in exit order, each return on the realised balance before it. */
export function tradeResults(trades: readonly ClosedTrade[], initial: number): TradeResult[] {
  const sorted = [...trades].sort((a, b) => a.exitTime - b.exitTime);
  let balance = initial;
  return sorted.map((t) => {
    const pnl = t.netPnl.toNumber();
    const r = balance > 0 ? pnl / balance : 0;
    balance += pnl;
    return { exitTime: t.exitTime, equityReturn: r, stop: t.exitReason === 'stop' };
  });
}

/** Path statistics of a backtest result (its minute equity and its trades). */
export function observedStats(equity: readonly EquityPoint[], trades: readonly ClosedTrade[], initial: number, start: number, limits: RiskLimits): PathStats {
  const times = new Float64Array(equity.length + 1);
  const values = new Float64Array(equity.length + 1);
  times[0] = start;
  values[0] = initial;
  equity.forEach((p, k) => {
    times[k + 1] = p.time;
    values[k + 1] = p.equity;
  });
  const sorted = [...trades].sort((a, b) => a.exitTime - b.exitTime);
  return pathStats(
    times,
    values,
    sorted.map((t) => t.netPnl.toNumber()),
    sorted.map((t) => t.exitReason === 'stop'),
    limits,
  );
}

export interface ReplaySummary extends ScenarioSummary {
  readonly requested: number;
  readonly blockHours: number;
  /** True when the time budget stopped the replays before `requested`. */
  readonly budgetReached: boolean;
}

export interface MonteCarloReport {
  readonly seed: number;
  readonly limits: RiskLimits;
  readonly observed: PathStats;
  readonly reshuffle: ScenarioSummary & { readonly note: string };
  readonly bootstrap: ScenarioSummary & { readonly blockDays: number; readonly days: number };
  readonly candleReplay: ReplaySummary | null;
}

export interface MonteCarloInput {
  readonly trades: readonly ClosedTrade[];
  readonly equity: readonly EquityPoint[];
  readonly initialBalance: number;
  readonly start: number;
  readonly config: Config;
  readonly seed: number;
  /** Reshuffle and bootstrap scenarios (default 10,000). */
  readonly scenarios?: number;
  readonly blockDays?: number;
}

/** Reshuffling and the bootstrap (cheap: milliseconds for 10,000 scenarios); the replay is added by the caller. */
export function monteCarlo(input: MonteCarloInput, replay: ReplaySummary | null = null): MonteCarloReport {
  const n = input.scenarios ?? DEFAULT_SCENARIOS;
  const limits = riskLimitsOf(input.config);
  const trades = tradeResults(input.trades, input.initialBalance);
  const reshuffled: PathStats[] = [];
  if (trades.length > 0) for (let i = 0; i < n; i++) reshuffled.push(reshuffleScenario(trades, input.start, input.initialBalance, limits, input.seed, i));
  const daily = dailyReturns([{ time: input.start, equity: input.initialBalance }, ...input.equity]);
  const block = input.blockDays ?? defaultBlockDays(daily.length);
  const boot: PathStats[] = [];
  if (daily.length > 0) for (let i = 0; i < n; i++) boot.push(bootstrapScenario(daily, block, input.start, input.initialBalance, limits, input.seed, i));
  return {
    seed: input.seed,
    limits,
    observed: observedStats(input.equity, input.trades, input.initialBalance, input.start, limits),
    reshuffle: { ...summarise(reshuffled), note: 'the same trades in random orders: the return is the same in every order; drawdown, time under water, streaks and limits are not' },
    bootstrap: { ...summarise(boot), blockDays: block, days: daily.length },
    candleReplay: replay,
  };
}

/** One replay: scenario i's resampled candles through the whole kernel, scored like the real run. */
export function replayScenario(series: readonly SymbolSeries[], config: Config, factory: StrategyFactory, blockMinutes: number, seed: number, i: number): PathStats {
  const resampled = resampleBlocks(series, blockMinutes, seed, i);
  const r = runBacktestSync({ series: resampled, config, strategy: factory(config) });
  return observedStats(r.equity, r.trades, r.initialBalance.toNumber(), r.start, riskLimitsOf(config));
}

/**
 * Runs replays 0, 1, ... in this thread until `count` are done or `budgetMs` has passed (the
 * clock is passed in); at least one runs.
 */
export function runReplays(series: readonly SymbolSeries[], config: Config, factory: StrategyFactory, o: { count: number; budgetMs: number; blockHours: number; seed: number; now: () => number }): ReplaySummary {
  const t0 = o.now();
  const stats: PathStats[] = [];
  for (let i = 0; i < o.count; i++) {
    if (i > 0 && o.now() - t0 >= o.budgetMs) break;
    stats.push(replayScenario(series, config, factory, Math.round(o.blockHours * 60), o.seed, i));
  }
  return { ...summarise(stats), requested: o.count, blockHours: o.blockHours, budgetReached: stats.length < o.count };
}
