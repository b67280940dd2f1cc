/**
 * From the optimiser's command line (or a job description, e.g. the Telegram bot's /optimize) to
 * a RunSpec: flags validated with messages that name the flag, the space file validated like the
 * config, the folds planned on the data's time range. The run id is a hash of the spec, so the
 * same command in the same --out folder resumes the same run, and a different one is refused.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { ConfigError } from '../services/core/errors.js';
import { planFolds, parseFoldScheme } from '../services/research/folds.js';
import { parseObjectives } from '../services/research/objectives.js';
import { SearchSpace } from '../services/research/space.js';
import type { RunSpec } from '../services/research/walkForward.js';
import type { SymbolSeries } from '../services/backtest/engine.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { UsageError } from './args.js';

/** What a run is asked for; every field but data/space/objective has a default. */
export interface OptimizeJob {
  readonly space: unknown;
  /** Space file name, for messages. */
  readonly spaceSource?: string;
  readonly objective: string;
  readonly baseConfig?: Record<string, unknown>;
  readonly trials?: number;
  readonly startup?: number;
  readonly batch?: number;
  readonly folds?: string;
  readonly trainDays?: number;
  readonly testDays?: number;
  readonly embargoDays?: number;
  readonly holdoutDays?: number;
  readonly warmupDays?: number;
  readonly seed?: number;
  readonly minTrades?: number;
  readonly neighbours?: number;
  readonly pboBlocks?: number;
  /** Strategy name (default: the space's). */
  readonly strategy?: string;
}

export const OPTIMIZE_DEFAULTS = { trials: 100, batch: 16, folds: 'rolling', trainDays: 10, testDays: 5, embargoDays: 1, holdoutDays: 5, warmupDays: 1, seed: 1, minTrades: 10, neighbours: 4, pboBlocks: 10 } as const;

/** Reads and parses a JSON file; ConfigError naming the flag and file. */
export function readJsonFile(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`${flag}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConfigError(`${flag}: ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function int(name: string, v: number | undefined, def: number, min: number): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min) throw new UsageError(`${name}: expected an integer >= ${min}, got ${String(v)}`);
  return x;
}

/** Parses a numeric flag value (days may be fractional); UsageError naming the flag. */
export function numberFlag(name: string, s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const x = Number(s);
  if (s.trim() === '' || !Number.isFinite(x)) throw new UsageError(`${name}: expected a number, got "${s}"`);
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
    if (b && b.openTime + MINUTE_MS > end) end = b.openTime + MINUTE_MS;
  }
  return { start, end };
}

/** Builds the run's spec; `data` are the labels of the data (file names or keys). */
export function buildRunSpec(job: OptimizeJob, range: { start: number; end: number }, data: readonly string[]): RunSpec {
  const objectives = parseObjectives(job.objective);
  const space = SearchSpace.parse(job.space, job.baseConfig ?? {}, job.spaceSource ? `space (${basename(job.spaceSource)})` : 'space');
  const trials = int('--trials', job.trials, OPTIMIZE_DEFAULTS.trials, 2);
  const startup = int('--startup', job.startup, Math.min(trials, Math.max(8, Math.round(trials / 4))), 1);
  if (startup > trials) throw new UsageError(`--startup: ${startup} exceeds --trials ${trials}`);
  const pboBlocks = int('--pbo-blocks', job.pboBlocks, OPTIMIZE_DEFAULTS.pboBlocks, 2);
  if (pboBlocks % 2 !== 0) throw new UsageError(`--pbo-blocks: expected an even number, got ${pboBlocks}`);
  const foldSettings = {
    scheme: job.folds ?? OPTIMIZE_DEFAULTS.folds,
    trainDays: job.trainDays ?? OPTIMIZE_DEFAULTS.trainDays,
    testDays: job.testDays ?? OPTIMIZE_DEFAULTS.testDays,
    embargoDays: job.embargoDays ?? OPTIMIZE_DEFAULTS.embargoDays,
    holdoutDays: job.holdoutDays ?? OPTIMIZE_DEFAULTS.holdoutDays,
    warmupDays: job.warmupDays ?? OPTIMIZE_DEFAULTS.warmupDays,
  };
  const plan = planFolds({ ...range, ...foldSettings, scheme: parseFoldScheme(foldSettings.scheme) });
  const body = {
    v: 1 as const,
    strategy: { name: job.strategy ?? space.spec.strategy },
    space: job.space as RunSpec['space'],
    baseConfig: job.baseConfig ?? {},
    objectives,
    minTrades: int('--min-trades', job.minTrades, OPTIMIZE_DEFAULTS.minTrades, 0),
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
  const runId = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 12);
  return { ...body, runId };
}
