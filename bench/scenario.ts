/**
 * One benchmark scenario, run in its own process so that its peak memory is its own:
 *   node --import tsx bench/scenario.ts <mode> <file ...>
 * Prints one JSON line: candles, runs, candles per second (first run and best warm run), trades,
 * and the process's peak resident memory.
 */
import { loadSeries } from '../cli/loadSeries.js';
import { runBacktest } from '../services/backtest/engine.js';
import { parseConfig } from '../services/config/schema.js';

const [mode = 'standard', ...files] = process.argv.slice(2);
const RUNS = 4;
const loaded = loadSeries(files);
const config = parseConfig({ mode });
const rates: number[] = [];
let trades = 0;
let candles = 0;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const r = await runBacktest({ series: loaded.series, config });
  const ms = performance.now() - t0;
  rates.push(r.candles / (ms / 1000));
  trades = r.trades.length;
  candles = r.candles;
}
const warm = rates.slice(1);
console.log(
  JSON.stringify({
    mode,
    symbols: loaded.series.map((s) => s.symbol),
    files,
    candles,
    runs: RUNS,
    candlesPerSecondFirstRun: Math.round(rates[0] as number),
    candlesPerSecondBestWarm: Math.round(Math.max(...warm)),
    candlesPerSecondMedianWarm: Math.round([...warm].sort((a, b) => a - b)[Math.floor(warm.length / 2)] as number),
    trades,
    peakRssMb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
    heapUsedMb: Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10,
  }),
);
