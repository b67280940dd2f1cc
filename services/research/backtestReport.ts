/**
 * One backtest run and its report files (summary.json, trades.csv, equity.svg, report.html), as
 * text: `npm run backtest` (cli/backtest.ts) writes them to a folder, the backtest Lambda
 * (lambdas/backtest) to the artifact bucket. Loading the candles and writing the files is the
 * caller's; everything between is here, once, so both produce the same figures and pages.
 *
 * Every figure is net of the config's costs (fees, slippage, impact: the `backtest` section, kept
 * in the summary as `costs`), since they are charged by the one fill model as the run goes.
 */
import { computeSummary, type BacktestSummary } from '../analytics/index.js';
import { extendedSummary } from '../analytics/periods.js';
import type { Config } from '../config/schema.js';
import { createProgress, equityChartSvg, reportHtml, tradesToCsv } from '../report/index.js';
import { priceChartSvg } from '../report/priceChart.js';
import { computeBaselines, type BaselineReport } from './baselines/baselines.js';
import { monteCarlo, runReplays, type MonteCarloReport } from './montecarlo/monteCarlo.js';
import { baselinesHtml, monteCarloHtml } from './report/researchHtml.js';
import { strategyFactory } from './strategies.js';
import type { Strategy } from '../strategy/port.js';
import { runBacktest, type BacktestResult, type SymbolSeries } from '../backtest/engine.js';

/** The research sections of every report: baselines and Monte Carlo (services/research). */
export interface ResearchOptions {
  /** Random-entry baseline runs. */
  readonly baselineSeeds: number;
  /** Reshuffle and bootstrap scenarios. */
  readonly scenarios: number;
  /** Candle-block replays (full backtests), and the time they may take in all. */
  readonly replays: number;
  readonly replayBudgetMs: number;
  readonly blockHours: number;
  readonly seed: number;
}

export const DEFAULT_RESEARCH: ResearchOptions = { baselineSeeds: 20, scenarios: 10_000, replays: 20, replayBudgetMs: 60_000, blockHours: 24, seed: 1 };

/** A strategy other than the built-in S/R one: its name, where it came from, and a fresh instance per call. */
export interface ReportStrategy {
  readonly name: string;
  readonly source: string;
  readonly factory: (config: Config) => Strategy;
}

export interface BacktestReportInput {
  /** The candles, one time-ordered series per symbol (cli/loadSeries.ts). */
  readonly series: readonly SymbolSeries[];
  /** The loader's data-quality report, per file. */
  readonly quality: Record<string, Record<string, number | string | null>>;
  /** What the data was (paths or archive keys), kept in summary.json's `run`. */
  readonly dataLabels: readonly string[];
  /** The symbols asked for (empty: all in the data), kept in summary.json's `run`. */
  readonly only: readonly string[];
  readonly config: Config;
  /** The config as given (before parsing), kept in summary.json so npm run montecarlo can rebuild it. */
  readonly configInput?: Record<string, unknown>;
  /** Baselines and Monte Carlo; default DEFAULT_RESEARCH. */
  readonly research?: ResearchOptions;
  /** Default: the built-in S/R strategy. */
  readonly strategy?: ReportStrategy;
  /** Every decision (entries, skips, exits), when wanted. */
  readonly onEvent?: (line: string) => void;
  /** Progress and timing lines (stderr for the CLI, the log for the Lambda). */
  readonly err: (line: string) => void;
  /** No progress lines. */
  readonly quiet: boolean;
  /** Wall clock: run times, the replays' budget and the page's "generated at". */
  readonly now: () => number;
}

export type BacktestReportSummary = BacktestSummary &
  Record<string, unknown> & {
    readonly mode: string;
    readonly profile: string;
    readonly riskRejections: Record<string, number>;
    readonly filteredAtEnd: Record<string, string>;
    readonly baselines: BaselineReport;
    readonly monteCarlo: MonteCarloReport;
    readonly costs: Config['backtest'];
  };

/** The report files, by name, as text. */
export interface BacktestReportFiles {
  readonly 'summary.json': string;
  readonly 'trades.csv': string;
  readonly 'equity.svg': string;
  readonly 'report.html': string;
}

export interface BacktestReport {
  readonly summary: BacktestReportSummary;
  readonly result: BacktestResult;
  readonly files: BacktestReportFiles;
}

/** The content type of each report file (for an object store). */
export const REPORT_CONTENT_TYPES: Readonly<Record<keyof BacktestReportFiles, string>> = {
  'summary.json': 'application/json',
  'trades.csv': 'text/csv; charset=utf-8',
  'equity.svg': 'image/svg+xml',
  'report.html': 'text/html; charset=utf-8',
};

/** Runs the backtest over `series` and builds the report files (see the file comment). */
export async function buildBacktestReport(o: BacktestReportInput): Promise<BacktestReport> {
  // Made before the run so a strategy's bad parameters stop it before any work.
  const strategy = o.strategy ? o.strategy.factory(o.config) : undefined;
  const total = o.series.reduce((n, s) => n + s.candles.length, 0);
  const progress = o.quiet ? null : createProgress({ total, label: 'backtest', write: (l) => o.err(l), now: o.now, intervalMs: 1000 });
  // Levels for the price charts: about 300 snapshots over the run, at least 15 minutes apart.
  const first = Math.min(...o.series.map((s) => s.candles[0]?.openTime ?? Infinity));
  const last = Math.max(...o.series.map((s) => s.candles[s.candles.length - 1]?.openTime ?? -Infinity));
  const levelSnapshotEveryMs = Math.max(15 * 60_000, Math.ceil((last - first) / 300 / 60_000) * 60_000);
  const t1 = o.now();
  const result = await runBacktest({
    levelSnapshotEveryMs,
    series: o.series,
    config: o.config,
    ...(strategy ? { strategy } : {}),
    progressEvery: 10_000,
    onProgress: (done) => progress?.update(done),
    ...(o.onEvent ? { onEvent: o.onEvent } : {}),
  });
  progress?.done(result.candles);
  const elapsedMs = o.now() - t1;
  const base = computeSummary({
    initialBalance: result.initialBalance,
    finalBalance: result.finalBalance,
    candles: result.candles,
    symbols: result.symbols,
    startTime: result.start,
    endTime: result.end,
    elapsedMs,
    buyAndHold: result.symbols.map((s) => ({ symbol: s, firstOpen: result.firstOpen[s] as number, lastClose: result.lastClose[s] as number })),
    trades: result.trades,
    equity: result.equity,
  });
  const extended = extendedSummary({
    equity: result.equity,
    trades: result.trades,
    initial: result.initialBalance.toNumber(),
    final: result.finalBalance.toNumber(),
    start: result.start,
    end: result.end,
  });
  const rs = o.research ?? DEFAULT_RESEARCH;
  const research = researchSections(o.series, o.config, result, rs, o.err, o.quiet, o.strategy?.factory, o.now);
  const summary: BacktestReportSummary = {
    ...base,
    ...extended,
    mode: o.config.mode,
    profile: o.config.risk.profile,
    strategy: o.strategy?.name ?? 'sr',
    costs: { ...o.config.backtest },
    riskRejections: result.rejections,
    entryFunnel: result.funnel,
    /** Symbols the market filters (24h quote volume, spread) still kept out at the end, with the reason. */
    filteredAtEnd: result.filtered,
    dataQuality: o.quality,
    baselines: research.baselines,
    monteCarlo: research.monteCarlo,
    run: { data: [...o.dataLabels], symbols: [...o.only], configInput: o.configInput ?? null, strategy: o.strategy?.source ?? 'sr', research: rs },
  };
  const svg = equityChartSvg(result.equity, { title: `Equity and drawdown: ${result.symbols.join(', ')} (${o.config.mode}, ${o.config.risk.profile})`, currency: o.config.backtest.quoteAsset });
  const html = reportHtml(base, svg, result.trades, {
    mode: o.config.mode,
    profile: o.config.risk.profile,
    costs: o.config.backtest,
    dataQuality: o.quality,
    generatedAt: o.now(),
    extras: {
      extended,
      funnel: result.funnel,
      rejections: result.rejections,
      strategy: o.strategy?.name ?? 'sr',
      priceCharts: o.series.map((s) => ({
        symbol: s.symbol,
        svg: priceChartSvg({ symbol: s.symbol, candles: s.candles, trades: result.trades, levels: result.levels[s.symbol] ?? [] }),
      })),
    },
    sections: baselinesHtml(research.baselines) + monteCarloHtml(research.monteCarlo),
  });
  return {
    summary,
    result,
    files: { 'summary.json': JSON.stringify(summary, null, 2) + '\n', 'trades.csv': tradesToCsv(result.trades), 'equity.svg': svg, 'report.html': html },
  };
}

/** Baselines and Monte Carlo of a run (the replays bounded by count and time). */
export function researchSections(
  series: Parameters<typeof computeBaselines>[0]['series'],
  config: Config,
  result: BacktestResult,
  o: ResearchOptions,
  err: (l: string) => void,
  quiet: boolean,
  /** The run's own strategy (the built-in S/R when undefined): the baselines keep its exits, the replays run it. */
  factory: ((config: Config) => Strategy) | undefined,
  /** Wall clock of the replays' budget. */
  now: () => number,
): { baselines: BaselineReport; monteCarlo: MonteCarloReport } {
  const t0 = now();
  factory ??= strategyFactory({ name: 'sr' });
  const baselines = computeBaselines({ series, config, factory, seeds: o.baselineSeeds, seed: o.seed });
  const replay = o.replays > 0 ? runReplays(series, config, factory, { count: o.replays, budgetMs: o.replayBudgetMs, blockHours: o.blockHours, seed: o.seed, now }) : null;
  const mc = monteCarlo({ trades: result.trades, equity: result.equity, initialBalance: result.initialBalance.toNumber(), start: result.start, config, seed: o.seed, scenarios: o.scenarios }, replay);
  if (!quiet) err(`baselines (${o.baselineSeeds} random-entry seeds) and Monte Carlo (${o.scenarios.toLocaleString('en-US')} scenarios, ${replay?.scenarios ?? 0} candle replays) in ${now() - t0} ms`);
  return { baselines, monteCarlo: mc };
}
