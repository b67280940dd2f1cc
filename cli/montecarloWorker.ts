/**
 * The worker thread of `npm run montecarlo`: replays scenarios [from, to) of resampled candle
 * blocks through the kernel (services/research/montecarlo) against data it loads once.
 */
import { loadSeries } from './loadSeries.js';
import type { SymbolSeries } from '../services/backtest/engine.js';
import { parseConfig } from '../services/config/schema.js';
import { replayScenario } from '../services/research/montecarlo/monteCarlo.js';
import type { PathStats } from '../services/research/montecarlo/paths.js';
import { strategyFactory, type StrategyRef } from '../services/research/strategies.js';
import { serveTasks } from '../services/adapters/workers/worker.js';
import { ensureStrategies } from './strategy.js';

export interface ReplayTask {
  readonly data: readonly string[];
  readonly symbols: readonly string[];
  readonly config: Record<string, unknown>;
  /** A built-in's name, or a plug-in's name and module path (imported once per worker). */
  readonly strategy: StrategyRef;
  readonly blockMinutes: number;
  readonly seed: number;
  readonly from: number;
  readonly to: number;
}

let loaded: { key: string; series: readonly SymbolSeries[] } | null = null;

serveTasks<ReplayTask, PathStats[]>(async (t) => {
  await ensureStrategies([t.strategy]);
  const key = `${t.data.join('\n')}|${t.symbols.join(',')}`;
  if (loaded?.key !== key) loaded = { key, series: loadSeries([...t.data], [...t.symbols]).series };
  const config = parseConfig(t.config);
  const factory = strategyFactory(t.strategy);
  const out: PathStats[] = [];
  for (let i = t.from; i < t.to; i++) out.push(replayScenario(loaded.series, config, factory, t.blockMinutes, t.seed, i));
  return out;
});
