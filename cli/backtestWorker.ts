/**
 * A worker that runs whole backtests: a task names candle files (loaded once per worker and kept,
 * so many backtests of the same data parse it once) and a config, and gets the headline figures
 * back. Used by `npm run bench` (N independent backtests over the cores) and the research engine.
 */
import { loadSeries } from './loadSeries.js';
import { runBacktestSync, type SymbolSeries } from '../services/backtest/engine.js';
import { parseConfig } from '../services/config/schema.js';
import { serveTasks } from '../services/adapters/workers/worker.js';

export interface BacktestTask {
  /** Candle files or folders, as for `npm run backtest -- --data`. */
  readonly data: readonly string[];
  /** Config input (validated in the worker). */
  readonly config: unknown;
}

export interface BacktestTaskResult {
  readonly candles: number;
  readonly trades: number;
  readonly finalBalance: string;
  readonly netPnl: string;
  /** CPU time of the backtest itself (not the loading), ms. */
  readonly cpuMs: number;
}

const loaded = new Map<string, readonly SymbolSeries[]>();

serveTasks<BacktestTask, BacktestTaskResult>((task) => {
  const key = task.data.join('\n');
  let series = loaded.get(key);
  if (!series) {
    series = loadSeries([...task.data]).series;
    loaded.set(key, series);
  }
  const config = parseConfig(task.config);
  const c0 = process.cpuUsage();
  const r = runBacktestSync({ series, config });
  const c = process.cpuUsage(c0);
  return {
    candles: r.candles,
    trades: r.trades.length,
    finalBalance: r.finalBalance.toString(),
    netPnl: r.finalBalance.sub(r.initialBalance).toString(),
    cpuMs: (c.user + c.system) / 1000,
  };
});
