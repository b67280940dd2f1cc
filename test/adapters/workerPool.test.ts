/**
 * The worker-thread pool: backtests run in workers give exactly what the same backtest gives in
 * process; a failing task rejects only itself; a closed pool refuses work.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool, WorkerTaskError } from '../../services/adapters/workers/pool.js';
import type { BacktestTask, BacktestTaskResult } from '../../cli/backtestWorker.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { runBacktestSync } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';

const DATA = ['test/fixtures/candles/BTCUSDT'];
const pool = new WorkerPool<BacktestTask, BacktestTaskResult>(new URL('../../cli/backtestWorker.ts', import.meta.url), { size: 2 });
afterAll(() => pool.close());

describe('WorkerPool', () => {
  it('runs backtests on two workers with the in-process result, and survives a failing task', async () => {
    const local = runBacktestSync({ series: loadSeries(DATA).series, config: parseConfig({ mode: 'hf' }) });
    const tasks: BacktestTask[] = [{ data: DATA, config: {} }, { data: DATA, config: { mode: 'hf' } }, { data: DATA, config: { mode: 'nope' } }, { data: DATA, config: { mode: 'hf' } }];
    const settled = await Promise.allSettled(tasks.map((t) => pool.run(t)));
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const hf = settled[1] as PromiseFulfilledResult<BacktestTaskResult>;
    expect(hf.value).toMatchObject({ candles: local.candles, trades: local.trades.length, finalBalance: local.finalBalance.toString() });
    expect((settled[3] as PromiseFulfilledResult<BacktestTaskResult>).value.finalBalance).toBe(local.finalBalance.toString());
    const err = (settled[2] as PromiseRejectedResult).reason as Error;
    expect(err).toBeInstanceOf(WorkerTaskError);
    expect(err.message).toMatch(/ConfigError: invalid config: mode/);
  }, 60_000);

  it('refuses work once closed', async () => {
    const p = new WorkerPool<BacktestTask, BacktestTaskResult>(new URL('../../cli/backtestWorker.ts', import.meta.url), { size: 1 });
    await p.close();
    await expect(p.run({ data: DATA, config: {} })).rejects.toThrow(/closed/);
  });
});
