/**
 * Walk-forward folds: which spans each fold optimises on (in sample) and evaluates on (out of
 * sample), with an embargo between them, and the final hold-out span the search never sees.
 *
 *   |warm-up| train (in sample) |embargo| test (out of sample) |           ...           | hold-out |
 *
 * Rolling: every fold's training span has the same length and slides forward by the test length,
 * so the test spans tile the time after the first training span. Anchored (anchored:k): every
 * training span starts at the beginning and grows; k folds. The embargo keeps the last trades
 * and indicator state of a training span from leaking into its test span (a position opened
 * before the cut would otherwise be scored on both sides). The warm-up is the history fed to
 * indicators and levels before a span starts (nothing is traded in it): it lies before each span,
 * so the first training span starts one warm-up after the data starts.
 *
 * The final fold trains on the span just before the hold-out (ending an embargo before it) and is
 * tested on the hold-out, once, after everything else: it is what deploying the procedure's
 * choice would have earned.
 */
import { ConfigError } from '../core/errors.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';

export type FoldScheme = { readonly kind: 'rolling' } | { readonly kind: 'anchored'; readonly folds: number };

export interface FoldPlanInput {
  /** First candle's open time and last candle's close time, epoch ms. */
  readonly start: number;
  readonly end: number;
  readonly scheme: FoldScheme;
  readonly trainDays: number;
  readonly testDays: number;
  readonly embargoDays: number;
  readonly holdoutDays: number;
  readonly warmupDays: number;
}

export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface Fold {
  /** 0.. for walk-forward folds; the final (hold-out) fold is `final: true`. */
  readonly index: number;
  readonly final: boolean;
  readonly train: Span;
  readonly test: Span;
}

export interface FoldPlan {
  readonly folds: readonly Fold[];
  /** The fold tested on the hold-out, or null without a hold-out. */
  readonly final: Fold | null;
  readonly holdout: Span | null;
  readonly warmupMs: number;
}

/** Parses `rolling` or `anchored:<k>`. */
export function parseFoldScheme(s: string): FoldScheme {
  if (s === 'rolling') return { kind: 'rolling' };
  const m = /^anchored:(\d+)$/.exec(s);
  if (m && Number(m[1]) >= 1) return { kind: 'anchored', folds: Number(m[1]) };
  throw new ConfigError(`--folds: expected rolling or anchored:<k> with k >= 1, got "${s}"`);
}

/** Rounds down to a whole minute, so spans align with candles. */
const minute = (t: number): number => Math.floor(t / MINUTE_MS) * MINUTE_MS;

/** Plans the folds; throws ConfigError saying what the data would need when it is too short. */
export function planFolds(p: FoldPlanInput): FoldPlan {
  for (const [k, v] of [
    ['--train', p.trainDays],
    ['--test', p.testDays],
  ] as const)
    if (!(v > 0)) throw new ConfigError(`${k}: expected a positive number of days, got ${v}`);
  for (const [k, v] of [
    ['--embargo', p.embargoDays],
    ['--holdout', p.holdoutDays],
    ['--warmup', p.warmupDays],
  ] as const)
    if (!(v >= 0)) throw new ConfigError(`${k}: expected a number of days >= 0, got ${v}`);
  const train = p.trainDays * DAY_MS;
  const test = p.testDays * DAY_MS;
  const embargo = p.embargoDays * DAY_MS;
  const warm = minute(p.warmupDays * DAY_MS);
  const holdout = p.holdoutDays * DAY_MS;
  const first = p.start + warm;
  const holdoutStart = holdout > 0 ? minute(p.end - holdout) : p.end;
  const need = (n: number): string =>
    `the data spans ${((p.end - p.start) / DAY_MS).toFixed(2)} days; warm-up ${p.warmupDays} + ${n} x (train ${p.trainDays}${p.scheme.kind === 'rolling' ? '' : ' (first)'} + embargo ${p.embargoDays} + test ${p.testDays}) + hold-out ${p.holdoutDays} days do not fit`;
  const folds: Fold[] = [];
  if (p.scheme.kind === 'rolling') {
    for (let i = 0; ; i++) {
      const trainStart = minute(first + i * test);
      const trainEnd = minute(trainStart + train);
      const testStart = minute(trainEnd + embargo);
      const testEnd = minute(testStart + test);
      if (testEnd > holdoutStart) break;
      folds.push({ index: i, final: false, train: { start: trainStart, end: trainEnd }, test: { start: testStart, end: testEnd } });
    }
    if (folds.length === 0) throw new ConfigError(need(1));
  } else {
    for (let i = 0; i < p.scheme.folds; i++) {
      const trainEnd = minute(first + train + i * test);
      const testStart = minute(trainEnd + embargo);
      const testEnd = minute(testStart + test);
      if (testEnd > holdoutStart) throw new ConfigError(need(p.scheme.folds));
      folds.push({ index: i, final: false, train: { start: first, end: trainEnd }, test: { start: testStart, end: testEnd } });
    }
  }
  let final: Fold | null = null;
  if (holdout > 0) {
    const trainEnd = minute(holdoutStart - embargo);
    const trainStart = p.scheme.kind === 'rolling' ? minute(trainEnd - train) : first;
    if (trainStart < first) throw new ConfigError(need(1));
    final = { index: folds.length, final: true, train: { start: trainStart, end: trainEnd }, test: { start: holdoutStart, end: minute(p.end) } };
  }
  return { folds, final, holdout: final ? final.test : null, warmupMs: warm };
}
