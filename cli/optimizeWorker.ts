/**
 * The worker thread of `npm run optimize`: evaluates batches of trials (services/research/trial.ts)
 * against candle files it loads once and keeps, so thousands of trials over the same data parse
 * it once per worker. The AWS Lambda worker (lambdas/optimize-worker) runs the same evaluateBatch
 * on the same batch format. A trial whose strategy is a plug-in module (`--strategy <module>`)
 * carries the module's path; the worker imports it before its first trial.
 */
import { performance } from 'node:perf_hooks';
import { loadSeries } from './loadSeries.js';
import type { SymbolSeries } from '../services/backtest/engine.js';
import { evaluateBatch, type TrialBatch, type TrialOutcome } from '../services/research/trial.js';
import { serveTasks } from '../services/adapters/workers/worker.js';
import { ensureStrategies } from './strategy.js';

/** Loaded data by paths and symbols; a worker serves one run, so this holds one entry, two at most. */
const loaded = new Map<string, readonly SymbolSeries[]>();
const MAX_LOADED = 2;

serveTasks<TrialBatch, TrialOutcome[]>(async (batch) => {
  // A plug-in strategy (its module path is in the task) is imported once per worker.
  await ensureStrategies(batch.tasks.map((t) => t.strategy));
  const key = `${batch.data.join('\n')}|${batch.symbols.join(',')}`;
  let series = loaded.get(key);
  if (!series) {
    series = loadSeries([...batch.data], [...batch.symbols]).series;
    if (loaded.size >= MAX_LOADED) loaded.delete(loaded.keys().next().value as string);
    loaded.set(key, series);
  }
  return evaluateBatch(batch, series, () => performance.now());
});
