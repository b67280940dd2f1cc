/**
 * One backtest benchmark scenario, in its own process so that its peak memory is its own:
 *   node --import tsx bench/scenario.ts kernel <mode> <runs> <file ...>   the full kernel, warm runs
 *   node --import tsx bench/scenario.ts bare <runs> <file>                parse + indicators only
 *   node --import tsx bench/scenario.ts parallel <workers> <tasks> <file> N backtests over worker threads
 * Prints one JSON line. Rates are candles per CPU second of the whole process (the kernel is
 * single-threaded; the process's CPU time also counts the JIT's and the GC's helper threads, so it is
 * a conservative per-core rate, and less disturbed by other processes than wall time), with
 * wall-time rates beside them.
 *
 * Warm means after the JIT has settled: measured per run, V8 takes about ten runs of a 50,000-candle
 * backtest (half a million candles) to reach its steady speed (the rate climbed from 141k to 520k
 * c/s over the first ten runs, then stayed there). So every scenario first does WARMUP_RUNS runs,
 * reported as `warmUp` (the first of them as `first`, the cold start), and then `<runs>` measured
 * runs, whose median and best are the warm figures.
 */
import { loadSeries } from '../cli/loadSeries.js';
import { loadCandleFile } from '../services/adapters/candleFiles.js';
import { runBacktestSync } from '../services/backtest/engine.js';
import { CandleAggregator } from '../services/candles/index.js';
import { parseConfig } from '../services/config/schema.js';
import { Adx, Rsi } from '../services/indicators/wilder.js';
import { RollingMean } from '../services/indicators/rollingMean.js';
import { WorkerPool } from '../services/adapters/workers/pool.js';
import type { BacktestTask, BacktestTaskResult } from '../cli/backtestWorker.js';
import type { Candle } from '../services/core/types.js';

const [kind = 'kernel', ...rest] = process.argv.slice(2);

function cpuMs(f: () => void): { cpu: number; wall: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  const c = process.cpuUsage(c0);
  return { cpu: (c.user + c.system) / 1000, wall: performance.now() - t0 };
}

/** Runs before the measured ones, while the JIT settles (see the file comment). */
export const WARMUP_RUNS = 10;

/** `rates`: the warm-up runs, then the measured ones. */
function stats(rates: number[]): { first: number; warmUp: number[]; median: number; best: number } {
  const warm = rates.slice(WARMUP_RUNS).sort((a, b) => a - b);
  return {
    first: Math.round(rates[0] as number),
    warmUp: rates.slice(0, WARMUP_RUNS).map(Math.round),
    median: Math.round(warm[Math.floor(warm.length / 2)] as number),
    best: Math.round(warm[warm.length - 1] as number),
  };
}

const memory = () => ({ peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10, heapUsedMb: Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10 });

/** The indicator work the S/R strategy does per 1m candle, and nothing else. */
function indicatorLoop(candles: readonly Candle[]): number {
  const cfg = parseConfig({});
  const agg = new CandleAggregator('1m', ['5m', '15m']);
  const rsi = new Rsi(cfg.indicators.rsiPeriod);
  const vol = new RollingMean(cfg.indicators.volumePeriod);
  const adx = { '5m': new Adx(cfg.indicators.adxPeriod), '15m': new Adx(cfg.indicators.adxPeriod) } as Record<string, Adx>;
  let sink = 0;
  for (const c of candles) {
    for (const closed of agg.push(c)) sink += adx[closed.tf]?.update(closed.candle) ?? 0;
    sink += rsi.update(c.close) ?? 0;
    sink += vol.update(c.volume) ?? 0;
  }
  return sink;
}

if (kind === 'kernel') {
  const [mode = 'standard', runsArg = '6', ...files] = rest;
  const loaded = loadSeries(files);
  const config = parseConfig({ mode });
  const cpuRates: number[] = [];
  const wallRates: number[] = [];
  let trades = 0;
  let candles = 0;
  for (let i = 0; i < WARMUP_RUNS + Number(runsArg); i++) {
    let r: ReturnType<typeof runBacktestSync> | undefined;
    const t = cpuMs(() => (r = runBacktestSync({ series: loaded.series, config })));
    candles = r?.candles ?? 0;
    trades = r?.trades.length ?? 0;
    cpuRates.push(candles / (t.cpu / 1000));
    wallRates.push(candles / (t.wall / 1000));
  }
  console.log(JSON.stringify({ kind, mode, symbols: loaded.series.map((s) => s.symbol), candles, warmUpRuns: WARMUP_RUNS, runs: cpuRates.length - WARMUP_RUNS, trades, candlesPerCpuSecond: stats(cpuRates), candlesPerWallSecond: stats(wallRates), ...memory() }));
} else if (kind === 'bare') {
  const [runsArg = '6', file = ''] = rest;
  const withParse: number[] = [];
  const indicatorsOnly: number[] = [];
  let n = 0;
  let candles: readonly Candle[] = [];
  for (let i = 0; i < WARMUP_RUNS + Number(runsArg); i++) {
    const t = cpuMs(() => {
      candles = loadCandleFile(file, { repair: true }).candles;
      indicatorLoop(candles);
    });
    n = candles.length;
    withParse.push(n / (t.cpu / 1000));
    const u = cpuMs(() => indicatorLoop(candles));
    indicatorsOnly.push(n / (u.cpu / 1000));
  }
  console.log(JSON.stringify({ kind, candles: n, warmUpRuns: WARMUP_RUNS, runs: withParse.length - WARMUP_RUNS, parseAndIndicatorsPerCpuSecond: stats(withParse), indicatorsOnlyPerCpuSecond: stats(indicatorsOnly), ...memory() }));
} else if (kind === 'parallel') {
  const [workersArg = '1', tasksArg = '8', file = ''] = rest;
  const workers = Number(workersArg);
  const pool = new WorkerPool<BacktestTask, BacktestTaskResult>(new URL('../cli/backtestWorker.ts', import.meta.url), { size: workers });
  const task: BacktestTask = { data: [file], config: {} };
  // Warm-up: every worker loads the file and runs until its JIT has settled (WARMUP_RUNS each), so
  // one worker is not measured warmer than two (it would run twice the tasks while still warming).
  await Promise.all(Array.from({ length: workers * WARMUP_RUNS }, () => pool.run(task)));
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: Number(tasksArg) }, () => pool.run(task)));
  const wall = performance.now() - t0;
  await pool.close();
  const candles = results.reduce((a, r) => a + r.candles, 0);
  console.log(JSON.stringify({ kind, workers, warmUpTasks: workers * WARMUP_RUNS, backtests: results.length, candles, wallMs: Math.round(wall), candlesPerWallSecond: Math.round(candles / (wall / 1000)), sameResult: new Set(results.map((r) => r.finalBalance)).size === 1 }));
}
