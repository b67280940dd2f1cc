/**
 * From a job description (the optimiser's flags, a Telegram /optimize job, an AWS run's job.json)
 * to a RunSpec: values validated with messages that name the setting, the space validated like the
 * config, the folds planned on the data's time range. The run id is a hash of the spec, so the
 * same job over the same data is the same run (resumed, never mixed with another).
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { SymbolSeries } from '../backtest/engine.js';
import { planFolds, parseFoldScheme } from './folds.js';
import { parseObjectives } from './objectives.js';
import { SearchSpace } from './space.js';
import type { RunSpec } from './walkForward.js';
import { mixSeed } from './walkForward.js';

/** What a run is asked for; every field but space and objective has a default. */
export const optimizeJobSchema = z.strictObject({
  space: z.unknown(),
  /** Space file name, for messages. */
  spaceSource: z.string().optional(),
  objective: z.string().min(1),
  baseConfig: z.record(z.string(), z.unknown()).optional(),
  trials: z.number().optional(),
  startup: z.number().optional(),
  batch: z.number().optional(),
  folds: z.string().optional(),
  trainDays: z.number().optional(),
  testDays: z.number().optional(),
  embargoDays: z.number().optional(),
  holdoutDays: z.number().optional(),
  warmupDays: z.number().optional(),
  seed: z.number().optional(),
  minTrades: z.number().optional(),
  neighbours: z.number().optional(),
  pboBlocks: z.number().optional(),
  /** Strategy name (default: the space's). */
  strategy: z.string().optional(),
  /** The plug-in module the strategy is loaded from (absolute path), when it is not a built-in. */
  strategyModule: z.string().optional(),
});
export type OptimizeJob = z.infer<typeof optimizeJobSchema>;

export const OPTIMIZE_DEFAULTS = { trials: 100, batch: 16, folds: 'rolling', trainDays: 10, testDays: 5, embargoDays: 1, holdoutDays: 5, warmupDays: 1, seed: 1, minTrades: 10, neighbours: 4, pboBlocks: 10 } as const;

function int(name: string, v: number | undefined, def: number, min: number): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min) throw new ConfigError(`${name}: expected an integer >= ${min}, got ${String(v)}`);
  return x;
}

/** The data's time range: the first open and the last close over every series. */
export function dataRange(series: readonly SymbolSeries[]): { start: number; end: number } {
  let start = Infinity;
  let end = -Infinity;
  for (const s of series) {
    const a = s.candles[0];
    const b = s.candles[s.candles.length - 1];
    if (a && a.openTime < start) start = a.openTime;
    if (b && (b).openTime + MINUTE_MS > end) end = b.openTime + MINUTE_MS;
  }
  return { start, end };
}

/** A 48-bit hex digest of text (two independent 32-bit mixes; an identity, not a security measure). */
export function digest(text: string): string {
  const codes: number[] = [];
  for (let i = 0; i < text.length; i++) codes.push(text.charCodeAt(i));
  let a = 0x2545f491;
  let b = 0x9e3779b9;
  for (let i = 0; i < codes.length; i += 64) {
    const chunk = codes.slice(i, i + 64);
    a = mixSeed(a, ...chunk);
    b = mixSeed(b ^ 0x5bd1e995, ...chunk, i);
  }
  return (a.toString(16).padStart(8, '0') + b.toString(16).padStart(8, '0')).slice(0, 12);
}

/** Builds the run's spec; `data` are the labels of the data (file names or keys). */
export function buildRunSpec(job: OptimizeJob, range: { start: number; end: number }, data: readonly string[]): RunSpec {
  const objectives = parseObjectives(job.objective);
  const space = SearchSpace.parse(job.space, job.baseConfig ?? {}, job.spaceSource ? `space (${job.spaceSource.split('/').pop() ?? job.spaceSource})` : 'space');
  const trials = int('--trials', job.trials, OPTIMIZE_DEFAULTS.trials, 2);
  const startup = int('--startup', job.startup, Math.min(trials, Math.max(8, Math.round(trials / 4))), 1);
  if (startup > trials) throw new ConfigError(`--startup: ${startup} exceeds --trials ${trials}`);
  const pboBlocks = int('--pbo-blocks', job.pboBlocks, OPTIMIZE_DEFAULTS.pboBlocks, 2);
  if (pboBlocks % 2 !== 0) throw new ConfigError(`--pbo-blocks: expected an even number, got ${pboBlocks}`);
  // A flag wins, then the space's own defaults (its strategy's needs), then the optimiser's.
  const sd = space.spec.defaults;
  const foldSettings = {
    scheme: job.folds ?? OPTIMIZE_DEFAULTS.folds,
    trainDays: job.trainDays ?? sd.trainDays ?? OPTIMIZE_DEFAULTS.trainDays,
    testDays: job.testDays ?? sd.testDays ?? OPTIMIZE_DEFAULTS.testDays,
    embargoDays: job.embargoDays ?? sd.embargoDays ?? OPTIMIZE_DEFAULTS.embargoDays,
    holdoutDays: job.holdoutDays ?? sd.holdoutDays ?? OPTIMIZE_DEFAULTS.holdoutDays,
    warmupDays: job.warmupDays ?? sd.warmupDays ?? OPTIMIZE_DEFAULTS.warmupDays,
  };
  const plan = planFolds({ ...range, ...foldSettings, scheme: parseFoldScheme(foldSettings.scheme) });
  const body = {
    v: 1 as const,
    strategy: { name: job.strategy ?? space.spec.strategy, ...(job.strategyModule ? { module: job.strategyModule } : {}) },
    space: job.space as RunSpec['space'],
    baseConfig: job.baseConfig ?? {},
    objectives,
    minTrades: int('--min-trades', job.minTrades, sd.minTrades ?? OPTIMIZE_DEFAULTS.minTrades, 0),
    trialsPerFold: trials,
    startupTrials: startup,
    batchSize: int('--batch', job.batch, OPTIMIZE_DEFAULTS.batch, 1),
    seed: int('--seed', job.seed, OPTIMIZE_DEFAULTS.seed, 0),
    neighbours: int('--neighbours', job.neighbours, OPTIMIZE_DEFAULTS.neighbours, 0),
    pboBlocks,
    plan,
    foldSettings,
    data: [...data],
  };
  return { ...body, runId: digest(JSON.stringify(body)) };
}
