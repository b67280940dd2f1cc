/**
 * `npm run backtest -- --data <file or folder ...> --out <dir> [--mode standard|hf]
 *   [--profile conservative|moderate|aggressive] [--config <file>] [--symbols A,B]
 *   [--strategy sr|breakout|<module>] [--log]`
 *
 * Replays real 1m candles through the strategy, risk engine and executor against the simulated
 * exchange, and writes summary.json, trades.csv, equity.svg and report.html to <dir>.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BacktestResult } from '../services/backtest/engine.js';
import { buildBacktestReport, DEFAULT_RESEARCH, type ResearchOptions } from '../services/research/backtestReport.js';
import type { BacktestSummary } from '../services/analytics/index.js';
import type { Config } from '../services/config/schema.js';
import type { BaselineReport } from '../services/research/baselines/baselines.js';
import type { MonteCarloReport } from '../services/research/montecarlo/monteCarlo.js';
import { parseConfig } from '../services/config/schema.js';
import { ConfigError } from '../services/core/errors.js';
import { loadConfigInput, UsageError, parseFlags } from './args.js';
import { loadSeries } from './loadSeries.js';
import { loadStrategy, type LoadedStrategy } from './strategy.js';

export const BACKTEST_USAGE = `usage: npm run backtest -- --data <file or folder ...> --out <dir>
         [--mode standard|hf] [--profile conservative|moderate|aggressive]
         [--config <file.json>] [--symbols BTCUSDT,ETHUSDT] [--strategy sr|breakout|<module.ts>] [--log] [--quiet]
         [--baseline-seeds N] [--mc-scenarios N] [--mc-replays N] [--seed S]

  --data     candle files (.csv or .csv.gz, open_time,open,high,low,close,volume) or folders of them;
             the symbol comes from the file or folder name (e.g. .../BTCUSDT/1m-2025-03.csv.gz),
             or is given explicitly: BTCUSDT=path/to/candles.csv
  --out      folder for summary.json, trades.csv, equity.svg and report.html (created if missing)
  --mode     standard (1m/5m/15m) or hf (1m/3m/5m); default standard
  --profile  risk profile; default conservative
  --config   JSON file with config overrides (see README: Configuration)
  --symbols  only these symbols from the data
  --strategy a built-in strategy (sr, the default; breakout) or the path of a strategy module
             (services/strategy/README.md); its parameters come from the config's strategyParams
  --log      print every decision (entries, skips, exits)
  --quiet    no progress lines
  --baseline-seeds  random-entry baseline runs (default 20; 0 = none)
  --mc-scenarios    Monte Carlo reshuffle and bootstrap scenarios (default 10,000)
  --mc-replays      resampled candle-block replays through the kernel (default 20, at most 60 s;
                    npm run montecarlo -- --run <out> runs 10,000)
  --seed            seed of the baselines and the Monte Carlo (default 1)`;

export interface BacktestRun {
  summary: BacktestSummary & Record<string, unknown>;
  result: BacktestResult;
  outDir: string;
}

/** Parses argv (without node and script), runs the backtest and writes the report files. */
export async function backtestCommand(argv: readonly string[], out: { log: (s: string) => void; err: (s: string) => void }): Promise<BacktestRun> {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        data: { type: 'string', multiple: true },
        out: { type: 'string' },
        mode: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        symbols: { type: 'string' },
        strategy: { type: 'string' },
        log: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        'baseline-seeds': { type: 'string' },
        'mc-scenarios': { type: 'string' },
        'mc-replays': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.log(BACKTEST_USAGE);
    throw new UsageError('');
  }
  // `--data a b c` is accepted: the positionals after it are more data paths.
  const data = [...(v.data ?? []), ...parsed.positionals];
  if (data.length === 0) throw new UsageError('--data is required: one or more candle files or folders');
  if (!v.out) throw new UsageError('--out is required: the folder for the report files');
  const configInput = loadConfigInput(v.config, { mode: v.mode, profile: v.profile });
  const config = parseConfig(configInput, v.config ? `config (${v.config})` : 'config');
  const only = (v.symbols ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const count = (flag: string, s: string | undefined, def: number): number => {
    if (s === undefined) return def;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: expected an integer >= 0, got "${s}"`);
    return n;
  };
  const research: ResearchOptions = {
    ...DEFAULT_RESEARCH,
    baselineSeeds: count('--baseline-seeds', v['baseline-seeds'], DEFAULT_RESEARCH.baselineSeeds),
    scenarios: count('--mc-scenarios', v['mc-scenarios'], DEFAULT_RESEARCH.scenarios),
    replays: count('--mc-replays', v['mc-replays'], DEFAULT_RESEARCH.replays),
    seed: count('--seed', v.seed, DEFAULT_RESEARCH.seed),
  };
  const strategy = await loadStrategy(v.strategy);
  return runAndWrite({ data, outDir: resolve(v.out), config, configInput, only: only.length ? only : config.symbols, log: v.log, quiet: v.quiet, research, strategy }, out);
}

// The run and its files are built in services/research/backtestReport.ts (the backtest Lambda builds them too).
export { DEFAULT_RESEARCH, researchSections, type ResearchOptions } from '../services/research/backtestReport.js';

export interface RunOptions {
  data: string[];
  outDir: string;
  config: Config;
  /** The config as given (before parsing), kept in summary.json so npm run montecarlo can rebuild it. */
  configInput?: Record<string, unknown>;
  /** Baselines and Monte Carlo; default DEFAULT_RESEARCH. */
  research?: ResearchOptions;
  only: readonly string[];
  log: boolean;
  quiet: boolean;
  /** Default: the built-in S/R strategy. */
  strategy?: LoadedStrategy;
}

/**
 * Makes sure the report folder can be written before anything runs: `--out` naming a file, or a
 * folder that cannot be created or written, used to fail only after the whole run, with a stack.
 */
export function checkOutDir(outDir: string): void {
  try {
    mkdirSync(outDir, { recursive: true });
    const probe = join(outDir, `.write-probe-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'is a file, or lies under one' : `cannot be written (${code ?? String(e)})`;
    throw new ConfigError(`--out ${outDir} ${why} (expected a folder for summary.json, trades.csv, equity.svg and report.html)`, { cause: e });
  }
}

/** Loads, runs and writes; shared by `npm run backtest` and `npm start`. */
export async function runAndWrite(o: RunOptions, out: { log: (s: string) => void; err: (s: string) => void }): Promise<BacktestRun> {
  checkOutDir(o.outDir);
  const t0 = Date.now();
  const loaded = loadSeries(o.data, o.only);
  const total = loaded.series.reduce((n, s) => n + s.candles.length, 0);
  out.err(`loaded ${loaded.files.length} file(s), ${total.toLocaleString('en-US')} candles of ${loaded.series.map((s) => s.symbol).join(', ')} in ${Date.now() - t0} ms`);
  const { summary, result, files } = await buildBacktestReport({
    series: loaded.series,
    quality: loaded.quality,
    dataLabels: o.data.map((d) => resolve(d)),
    only: o.only,
    config: o.config,
    ...(o.configInput ? { configInput: o.configInput } : {}),
    ...(o.research ? { research: o.research } : {}),
    ...(o.strategy ? { strategy: o.strategy } : {}),
    ...(o.log ? { onEvent: (line: string) => out.log(line) } : {}),
    err: (l) => out.err(l),
    quiet: o.quiet,
    now: () => Date.now(),
  });
  mkdirSync(o.outDir, { recursive: true });
  for (const name of ['summary.json', 'trades.csv', 'equity.svg', 'report.html'] as const) writeFileSync(join(o.outDir, name), files[name]);
  out.log(formatSummary(summary, o.outDir));
  return { summary, result, outDir: o.outDir };
}

const pct = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(2)}%`);
const num = (x: number | null, d = 2): string => (x === null ? 'n/a' : x.toFixed(d));

/** The human-readable block printed at the end of a run. */
export function formatSummary(
  s: BacktestSummary & {
    mode: string;
    profile: string;
    riskRejections: Record<string, number>;
    filteredAtEnd?: Record<string, string>;
    baselines?: BaselineReport;
    monteCarlo?: MonteCarloReport;
  },
  outDir: string,
): string {
  const rej = Object.entries(s.riskRejections)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return [
    '',
    `Backtest ${s.symbols.join(', ')}  ${s.start.slice(0, 10)} .. ${s.end.slice(0, 10)}  mode ${s.mode}, profile ${s.profile}`,
    `  balance      ${s.initialBalance.toFixed(2)} -> ${s.finalBalance.toFixed(2)}  net ${s.netPnl.toFixed(2)} (${pct(s.netReturnPct)}) after ${s.fees.toFixed(2)} fees`,
    `  trades       ${s.trades}  win rate ${pct(s.winRate)}  profit factor ${num(s.profitFactor)}  ${num(s.tradesPerDay)}/day`,
    `  risk         max drawdown ${pct(s.maxDrawdownPct)}  sharpe ${num(s.sharpe)}  sortino ${num(s.sortino)}  exposure ${pct(s.exposurePct)}`,
    `  buy & hold   ${pct(s.buyAndHoldReturnPct)}`,
    ...(s.baselines ? [`  baselines    ${s.baselines.sentence}`] : []),
    ...(s.monteCarlo
      ? [
          `  monte carlo  bootstrap return 5/50/95%: ${s.monteCarlo.bootstrap.returnPct.p5.toFixed(2)} / ${s.monteCarlo.bootstrap.returnPct.p50.toFixed(2)} / ${s.monteCarlo.bootstrap.returnPct.p95.toFixed(2)}; ` +
            `reshuffled max drawdown 95%: ${s.monteCarlo.reshuffle.maxDrawdownPct.p95.toFixed(2)}%; risk of ruin (any limit) ${(s.monteCarlo.bootstrap.riskOfRuin.any * 100).toFixed(1)}%`,
        ]
      : []),
    `  refused      ${rej || 'none'}`,
    ...Object.entries(s.filteredAtEnd ?? {}).map(([sym, why]) => `  filtered     ${sym}: ${why}`),
    `  speed        ${s.candles.toLocaleString('en-US')} candles in ${s.elapsedMs} ms (${(s.candlesPerSecond ?? 0).toLocaleString('en-US')} candles/s)`,
    `  written to   ${outDir}/{summary.json, trades.csv, equity.svg, report.html}`,
  ].join('\n');
}
