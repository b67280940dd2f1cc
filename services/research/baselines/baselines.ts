/**
 * Baselines beside every result: the same run before costs (fees and slippage zeroed, the same
 * kernel otherwise), random entries with the strategy's own exits and sizing over N seeds (see
 * randomEntries.ts), and buy and hold; and one line that says whether the strategy beats random
 * entries and by how much, with an interval.
 */
import type { Config } from '../../config/schema.js';
import type { Candle } from '../../core/types.js';
import { runBacktestSync, type BacktestResult, type SymbolSeries } from '../../backtest/engine.js';
import { seededRandom } from '../../ml/random.js';
import { mixSeed } from '../walkForward.js';
import type { StrategyFactory } from '../strategies.js';
import { quantileSorted } from '../stats/moments.js';
import { eligibleMinutes, RandomEntryStrategy, RecordingStrategy } from './randomEntries.js';

export interface RunFigures {
  readonly netReturnPct: number;
  readonly trades: number;
  readonly fees: number;
  /** Mean net return per trade, percent of its notional (null without trades). */
  readonly meanTradePct: number | null;
}

export interface BaselineReport {
  /** The strategy itself (the recording run: the same figures as the report's). */
  readonly strategy: RunFigures;
  readonly beforeCosts: RunFigures & { readonly costsPct: number; readonly note: string };
  readonly randomEntries: {
    readonly seeds: number;
    readonly seed: number;
    /** Probability of a random entry per eligible minute (calibrated to the strategy's trade count). */
    readonly rate: number;
    readonly plans: number;
    readonly returnsPct: readonly number[];
    readonly tradesMean: number;
    /** Mean net return per trade over all random runs' trades, percent of notional. */
    readonly meanTradePct: number | null;
    readonly mean: number;
    readonly p5: number;
    readonly p50: number;
    readonly p95: number;
    /** Share of random runs the strategy did better than (ties count half). */
    readonly strategyPercentile: number;
    /** Strategy minus random: the mean difference and the 90% interval (strategy - p95 .. strategy - p5). */
    readonly edgePct: number;
    readonly edgeInterval: readonly [number, number];
    readonly beats: boolean;
  } | null;
  readonly buyAndHold: { readonly returnPct: number | null; readonly perSymbol: Readonly<Record<string, { readonly returnPct: number; readonly maxDrawdownPct: number }>> };
  readonly sentence: string;
}

/** Pilot runs that calibrate the random-entry rate to the strategy's trade count. */
const PILOT_RUNS = 4;

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
const pctOf = (r: BacktestResult): number => round(r.finalBalance.sub(r.initialBalance).div(r.initialBalance).toNumber() * 100);
const meanTrade = (r: BacktestResult): number | null => (r.trades.length ? round(r.trades.reduce((s, t) => s + t.returnPct, 0) / r.trades.length) : null);
const figures = (r: BacktestResult): RunFigures => ({ netReturnPct: pctOf(r), trades: r.trades.length, fees: round(r.fees.toNumber(), 2), meanTradePct: meanTrade(r) });

/** The config with every cost zeroed: fees, fixed slippage and market impact. */
export function withoutCosts(cfg: Config): Config {
  return { ...cfg, backtest: { ...cfg.backtest, makerFeePct: 0, takerFeePct: 0, slippageBps: 0, impactBpsPerPctVolume: 0 } };
}

/** Buy and hold of each symbol from its first open to its last close, with its worst fall on closes. */
export function buyAndHold(series: readonly SymbolSeries[]): BaselineReport['buyAndHold'] {
  const perSymbol: Record<string, { returnPct: number; maxDrawdownPct: number }> = {};
  let sum = 0;
  for (const s of series) {
    const first = (s.candles[0] as Candle).open;
    let peak = first;
    let worst = 0;
    for (const c of s.candles) {
      if (c.high > peak) peak = c.high;
      const dd = (peak - c.low) / peak;
      if (dd > worst) worst = dd;
    }
    const ret = ((s.candles[s.candles.length - 1] as Candle).close / first - 1) * 100;
    perSymbol[s.symbol] = { returnPct: round(ret), maxDrawdownPct: round(worst * 100) };
    sum += ret;
  }
  return { returnPct: series.length ? round(sum / series.length) : null, perSymbol };
}

export interface BaselineInput {
  readonly series: readonly SymbolSeries[];
  readonly config: Config;
  readonly factory: StrategyFactory;
  /** Random-entry runs (0: none). */
  readonly seeds: number;
  readonly seed: number;
}

const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;

/** Runs the baselines (2 + 2 pilots + seeds full backtests). */
export function computeBaselines(input: BaselineInput): BaselineReport {
  const recorder = new RecordingStrategy(input.factory(input.config));
  const main = runBacktestSync({ series: input.series, config: input.config, strategy: recorder });
  const strategy = figures(main);
  const free = runBacktestSync({ series: input.series, config: withoutCosts(input.config), strategy: input.factory(withoutCosts(input.config)) });
  const beforeCosts = {
    ...figures(free),
    costsPct: round(figures(free).netReturnPct - strategy.netReturnPct),
    note: 'the same run with fees, slippage and impact at zero; entries can differ where costs changed the balance, and so the sizing',
  };
  const funnel = recorder.funnel;
  const eligible = funnel?.evaluated !== undefined ? eligibleMinutes(funnel) : main.candles;
  let rate = eligible > 0 ? recorder.signals / eligible : 0;
  let random: BaselineReport['randomEntries'] = null;
  if (input.seeds > 0 && recorder.plans.length > 0) {
    // Pilot runs (their own seeds) scale the rate towards the strategy's trade count; trades grow
    // less than in proportion to the rate (a position blocks entries), hence the exponent.
    for (let j = 0; j < PILOT_RUNS; j++) {
      const pilot = runBacktestSync({ series: input.series, config: input.config, strategy: new RandomEntryStrategy(input.factory(input.config), recorder.plans, rate, seededRandom(mixSeed(input.seed, 0x4b, j))) });
      rate = Math.min(1, rate * (Math.max(1, strategy.trades) / Math.max(1, pilot.trades.length)) ** 1.5);
    }
    const returns: number[] = [];
    let trades = 0;
    let tradeSum = 0;
    for (let k = 0; k < input.seeds; k++) {
      const strat = new RandomEntryStrategy(input.factory(input.config), recorder.plans, rate, seededRandom(mixSeed(input.seed, 0x4a, k)));
      const r = runBacktestSync({ series: input.series, config: input.config, strategy: strat });
      returns.push(pctOf(r));
      trades += r.trades.length;
      for (const t of r.trades) tradeSum += t.returnPct;
    }
    const sorted = [...returns].sort((a, b) => a - b);
    const s = strategy.netReturnPct;
    const below = returns.filter((x) => x < s).length + returns.filter((x) => x === s).length / 2;
    const p5 = round(quantileSorted(sorted, 0.05));
    const p95 = round(quantileSorted(sorted, 0.95));
    const mean = round(returns.reduce((a, b) => a + b, 0) / returns.length);
    random = {
      seeds: input.seeds,
      seed: input.seed,
      rate: round(rate, 6),
      plans: recorder.plans.length,
      returnsPct: returns,
      tradesMean: round(trades / input.seeds, 1),
      meanTradePct: trades ? round(tradeSum / trades) : null,
      mean,
      p5,
      p50: round(quantileSorted(sorted, 0.5)),
      p95,
      strategyPercentile: round(below / returns.length),
      edgePct: round(s - mean),
      edgeInterval: [round(s - p95), round(s - p5)],
      beats: s > p95,
    };
  }
  const bh = buyAndHold(input.series);
  return { strategy, beforeCosts, randomEntries: random, buyAndHold: bh, sentence: sentence(strategy, beforeCosts, random, bh.returnPct) };
}

function sentence(s: RunFigures, free: BaselineReport['beforeCosts'], r: BaselineReport['randomEntries'], bh: number | null): string {
  const costs = `before costs it made ${signed(free.netReturnPct)} (costs took ${free.costsPct.toFixed(2)} points)`;
  const hold = bh === null ? '' : `; buy and hold made ${signed(bh)}`;
  if (!r) return `No random-entry baseline (${s.trades === 0 ? 'the strategy made no entries to copy' : 'no seeds asked for'}); ${costs}${hold}.`;
  const range = `random entries with the same exits and sizing made ${signed(r.p50)} (median of ${r.seeds} seeds, 90% between ${signed(r.p5)} and ${signed(r.p95)})`;
  const edge = `${r.edgePct >= 0 ? '+' : ''}${r.edgePct.toFixed(2)} points (90% interval ${r.edgeInterval[0].toFixed(2)} to ${r.edgeInterval[1].toFixed(2)}; per trade ${s.meanTradePct?.toFixed(3) ?? 'n/a'}% against ${r.meanTradePct?.toFixed(3) ?? 'n/a'}%, ${s.trades} trades against ${r.tradesMean.toFixed(0)} on average)`;
  const verdict = r.beats
    ? `The strategy beats random entries: ${signed(s.netReturnPct)} against ${range}, an edge of ${edge}`
    : `The strategy does not beat random entries: ${signed(s.netReturnPct)} against ${range}; its edge is ${edge}, at the ${(r.strategyPercentile * 100).toFixed(0)}th percentile of the random runs`;
  return `${verdict}; ${costs}${hold}.`;
}
