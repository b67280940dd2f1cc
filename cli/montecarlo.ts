/**
 * `npm run montecarlo -- --run <backtest dir> [--scenarios N] [--replays N] [--budget <seconds>]
 *   [--block-hours H] [--block-days D] [--seed S] [--workers W] [--out <dir>]`
 *
 * The Monte Carlo of a backtest run, in full: the run is rebuilt from its summary.json (data,
 * symbols, config) and replayed once, then 10,000 trade-order reshuffles, 10,000 block-bootstrap
 * paths and up to 10,000 resampled candle-block replays through the kernel on every core (bounded
 * by --budget; the output says how many ran). Writes montecarlo.json and montecarlo.html.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError } from '../services/core/errors.js';
import { parseConfig } from '../services/config/schema.js';
import { runBacktestSync } from '../services/backtest/engine.js';
import { WorkerPool } from '../services/adapters/workers/pool.js';
import { DEFAULT_SCENARIOS, monteCarlo, type MonteCarloReport, type ReplaySummary } from '../services/research/montecarlo/monteCarlo.js';
import { summarise, type PathStats } from '../services/research/montecarlo/paths.js';
import { monteCarloHtml } from '../services/research/report/researchHtml.js';
import { strategyFactory } from '../services/research/strategies.js';
import { escapeXml } from '../services/report/format.js';
import { parseFlags, UsageError } from './args.js';
import { loadSeries } from './loadSeries.js';
import { DEFAULT_STRATEGY, researchStrategyRef } from './strategy.js';
import { numberFlag, readJsonFile } from './optimizeSpec.js';
import type { ReplayTask } from './montecarloWorker.js';

export const MONTECARLO_USAGE = `usage: npm run montecarlo -- --run <backtest dir> [--scenarios N] [--replays N] [--budget <seconds>]
         [--block-hours H] [--block-days D] [--seed S] [--workers W] [--out <dir>]

  --run          a folder written by npm run backtest (its summary.json names the data and config)
  --scenarios    trade reshuffles and bootstrap paths (default 10,000 each)
  --replays      resampled candle-block replays through the kernel (default 10,000)
  --budget       seconds the replays may take in all (default 600); the output says how many ran
  --block-hours  candle block length (default 24); --block-days: bootstrap block (default cube root of the days)
  --seed         default: the run's own; --workers: default every core; --out: default the run folder`;

interface RunRecord {
  readonly data: string[];
  readonly symbols: string[];
  readonly configInput: Record<string, unknown> | null;
  readonly strategy?: string;
  readonly research?: { readonly seed?: number };
}

/** Parses the flags, rebuilds the run and writes the Monte Carlo. */
export async function montecarloCommand(argv: readonly string[], io: { log: (s: string) => void; err: (s: string) => void }): Promise<MonteCarloReport> {
  const parsed = parseFlags(
    argv,
    {
      run: { type: 'string' },
      scenarios: { type: 'string' },
      replays: { type: 'string' },
      budget: { type: 'string' },
      'block-hours': { type: 'string' },
      'block-days': { type: 'string' },
      seed: { type: 'string' },
      workers: { type: 'string' },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    false,
  );
  const v = parsed.values;
  if (v.help) {
    io.log(MONTECARLO_USAGE);
    throw new UsageError('');
  }
  if (!v.run) throw new UsageError('--run is required: a folder written by npm run backtest');
  const runDir = resolve(v.run);
  const summaryFile = join(runDir, 'summary.json');
  if (!existsSync(summaryFile)) throw new ConfigError(`--run: ${runDir} has no summary.json (expected a folder written by npm run backtest)`);
  const summary = readJsonFile(summaryFile, '--run') as { run?: RunRecord };
  const rec = summary.run;
  if (!rec || !Array.isArray(rec.data)) throw new ConfigError(`--run: ${summaryFile} has no "run" record (written by an older version: run the backtest again)`);
  const whole = (flag: string, s: string | undefined, def: number, min: number): number => {
    const x = numberFlag(flag, s) ?? def;
    if (!Number.isInteger(x) || x < min) throw new UsageError(`${flag}: expected an integer >= ${min}, got ${x}`);
    return x;
  };
  const scenarios = whole('--scenarios', v.scenarios, DEFAULT_SCENARIOS, 1);
  const replays = whole('--replays', v.replays, DEFAULT_SCENARIOS, 0);
  const budgetS = numberFlag('--budget', v.budget) ?? 600;
  if (!(budgetS > 0)) throw new UsageError(`--budget: expected seconds > 0, got ${budgetS}`);
  const blockHours = numberFlag('--block-hours', v['block-hours']) ?? 24;
  if (!(blockHours > 0)) throw new UsageError(`--block-hours: expected hours > 0, got ${blockHours}`);
  const blockDays = v['block-days'] === undefined ? undefined : whole('--block-days', v['block-days'], 1, 1);
  const seed = whole('--seed', v.seed, rec.research?.seed ?? 1, 0);
  const workers = whole('--workers', v.workers, availableParallelism(), 1);
  const outDir = resolve(v.out ?? runDir);

  const configInput = rec.configInput ?? {};
  const config = parseConfig(configInput, `config of ${summaryFile}`);
  // The run's strategy: a built-in, or the plug-in module the backtest recorded (loaded here and in each worker).
  const strategy = await researchStrategyRef(rec.strategy ?? DEFAULT_STRATEGY);
  const loaded = loadSeries(rec.data, rec.symbols);
  const result = runBacktestSync({ series: loaded.series, config, strategy: strategyFactory(strategy)(config) });
  io.err(`rebuilt the run: ${result.trades.length} trades over ${result.candles.toLocaleString('en-US')} candles; ${scenarios.toLocaleString('en-US')} reshuffles and bootstrap paths, up to ${replays.toLocaleString('en-US')} candle replays in ${budgetS} s on ${workers} worker(s)`);

  let replay: ReplaySummary | null = null;
  if (replays > 0) {
    const t0 = Date.now();
    const stats: PathStats[] = [];
    const chunk = 4;
    const pool = new WorkerPool<ReplayTask, PathStats[]>(new URL('./montecarloWorker.ts', import.meta.url), { size: workers });
    let next = 0;
    let last = t0;
    const runOne = async (): Promise<void> => {
      while (next < replays && Date.now() - t0 < budgetS * 1000) {
        const from = next;
        const to = Math.min(replays, from + chunk);
        next = to;
        const out = await pool.run({ data: rec.data, symbols: rec.symbols, config: configInput, strategy, blockMinutes: Math.round(blockHours * 60), seed, from, to });
        // Kept by scenario index, so a budget cut keeps a prefix-like set (whatever finished).
        out.forEach((s, k) => (stats[from + k] = s));
        if (!v.quiet && Date.now() - last > 5000) {
          last = Date.now();
          const done = stats.filter(Boolean).length;
          io.err(`montecarlo  ${done}/${replays} replays  ${(done / ((Date.now() - t0) / 1000)).toFixed(2)} replays/s`);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: workers }, runOne));
    } finally {
      await pool.close();
    }
    const done = stats.filter(Boolean);
    replay = { ...summarise(done), requested: replays, blockHours, budgetReached: done.length < replays };
  }
  const report = monteCarlo({ trades: result.trades, equity: result.equity, initialBalance: result.initialBalance.toNumber(), start: result.start, config, seed, scenarios, ...(blockDays ? { blockDays } : {}) }, replay);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'montecarlo.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(
    join(outDir, 'montecarlo.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Monte Carlo</title><style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:24px auto;padding:0 20px;color:#1e293b}table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #e2e8f0;text-align:left}td.n,th.n{text-align:right}.muted{color:#64748b}.note{background:#eff6ff;border:1px solid #bfdbfe;border-radius:8px;padding:10px 14px}</style></head><body><h1>Monte Carlo of ${escapeXml(runDir)}</h1>${monteCarloHtml(report)}</body></html>\n`,
  );
  const b = report.bootstrap;
  const r = report.reshuffle;
  io.log(
    [
      '',
      `Monte Carlo of ${runDir} (seed ${seed})`,
      `  bootstrap    return 5/50/95%: ${b.returnPct.p5.toFixed(2)} / ${b.returnPct.p50.toFixed(2)} / ${b.returnPct.p95.toFixed(2)}  max drawdown 95%: ${b.maxDrawdownPct.p95.toFixed(2)}%  risk of ruin ${(b.riskOfRuin.any * 100).toFixed(1)}% (${b.scenarios} paths)`,
      `  reshuffle    max drawdown 5/50/95%: ${r.maxDrawdownPct.p5.toFixed(2)} / ${r.maxDrawdownPct.p50.toFixed(2)} / ${r.maxDrawdownPct.p95.toFixed(2)}  longest losing streak 95%: ${r.longestLosingStreak.p95}  risk of ruin ${(r.riskOfRuin.any * 100).toFixed(1)}% (${r.scenarios} orders)`,
      replay
        ? `  replays      return 5/50/95%: ${replay.returnPct.p5.toFixed(2)} / ${replay.returnPct.p50.toFixed(2)} / ${replay.returnPct.p95.toFixed(2)}  risk of ruin ${(replay.riskOfRuin.any * 100).toFixed(1)}% (${replay.scenarios} of ${replay.requested}${replay.budgetReached ? ', budget reached' : ''})`
        : '  replays      none',
      `  written to   ${outDir}/{montecarlo.json, montecarlo.html}`,
    ].join('\n'),
  );
  return report;
}
