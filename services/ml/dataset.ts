/**
 * Dataset builder: candles -> feature matrix (the streaming pipeline run over the series) ->
 * triple-barrier labels -> samples of the last `steps` scaled feature vectors (a SequenceBatch)
 * with their LabelSet, and walk-forward splits by time with an embargo between train, validation
 * and test so that no label window of one part overlaps the next part.
 */
import type { Candle, SymbolId } from '../core/types.js';
import { computeFeatures, FEATURE_NAMES, type FeatureMatrix, type FeatureOptions } from './features.js';
import { recencyWeights, tripleBarrierLabels, type BarrierSpec, type SeriesLabels } from './labels.js';
import type { FeatureScaler } from './scaler.js';
import type { LabelSet, SequenceBatch } from './types.js';

const ATR_FEATURE = FEATURE_NAMES.indexOf('atr14_pct');

/** One symbol's candles with their features and labels, row i = candle i. */
export interface PreparedSeries {
  readonly symbol: SymbolId;
  readonly candles: readonly Candle[];
  readonly features: FeatureMatrix;
  readonly labels: SeriesLabels;
}

/** Computes features and labels of one series. */
export function prepareSeries(symbol: SymbolId, candles: readonly Candle[], barriers: BarrierSpec, features: FeatureOptions = {}): PreparedSeries {
  const fm = computeFeatures(candles, features);
  const atr = new Float64Array(candles.length);
  for (let i = 0; i < candles.length; i++) {
    atr[i] = fm.ready[i] ? (fm.values[i * fm.featureCount + ATR_FEATURE]! * candles[i]!.close) / 100 : NaN;
  }
  return { symbol, candles, features: fm, labels: tripleBarrierLabels(candles, barriers, atr) };
}

/**
 * Rows usable as samples: the `steps` rows ending at the row all hold feature vectors (so the
 * warm-up is excluded), and (when `labelled`) the row has a label. Ascending.
 */
export function sampleRows(s: PreparedSeries, steps: number, labelled = true): number[] {
  const out: number[] = [];
  let run = 0; // consecutive ready rows ending here
  for (let i = 0; i < s.features.rows; i++) {
    run = s.features.ready[i] ? run + 1 : 0;
    if (run < steps) continue;
    if (labelled && Number.isNaN(s.labels.up[i]!)) continue;
    out.push(i);
  }
  return out;
}

/** Half-open time range [from, to) of decision times. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/** One walk-forward fold of one series. */
export interface Fold {
  readonly index: number;
  readonly train: TimeRange;
  readonly validation: TimeRange;
  readonly test: TimeRange;
}

/** Options of walkForwardFolds. */
export interface WalkForwardOptions {
  /** Number of test folds (default 3). */
  readonly folds?: number;
  /** Gap between consecutive parts, ms; must be at least the label horizon. */
  readonly embargoMs: number;
  /** Share of each fold's pre-test span used for validation (default 0.2). */
  readonly validationFraction?: number;
  /** Chunks of the span given to the first training set (default 1: as long as one test fold). */
  readonly initialChunks?: number;
}

/**
 * Expanding-window walk-forward over the span [start, end) of decision times: the span is cut into
 * `initialChunks + folds` equal chunks; fold k tests on chunk `initialChunks + k` and learns from
 * everything before it, the last `validationFraction` of that being validation. An embargo of
 * `embargoMs` separates train from validation and validation from test: a sample's label looks at
 * most one horizon ahead, so with embargo >= horizon no label of one part sees the next part.
 */
export function walkForwardFolds(start: number, end: number, opts: WalkForwardOptions): Fold[] {
  const folds = opts.folds ?? 3;
  const initial = opts.initialChunks ?? 1;
  const vf = opts.validationFraction ?? 0.2;
  const e = opts.embargoMs;
  if (!(folds >= 1) || !(initial >= 1)) throw new RangeError('walkForwardFolds: folds and initialChunks must be >= 1');
  if (!(e >= 0)) throw new RangeError('walkForwardFolds: embargoMs must be >= 0');
  const chunk = (end - start) / (initial + folds);
  const out: Fold[] = [];
  for (let k = 0; k < folds; k++) {
    const testFrom = start + chunk * (initial + k);
    const testTo = k === folds - 1 ? end : start + chunk * (initial + k + 1);
    const preEnd = testFrom - e; // validation ends here
    const valLen = (preEnd - start) * vf;
    const valFrom = preEnd - valLen;
    const trainTo = valFrom - e;
    if (!(trainTo > start) || !(valFrom < preEnd)) {
      throw new RangeError(`walkForwardFolds: fold ${k} has no room for training: span ${(end - start) / 3_600_000} h, ${folds} folds, embargo ${e / 60_000} min`);
    }
    out.push({ index: k, train: { from: start, to: trainTo }, validation: { from: valFrom, to: preEnd }, test: { from: testFrom, to: testTo } });
  }
  return out;
}

/** Rows of `rows` whose decision time lies in `r`. */
export function rowsIn(s: PreparedSeries, rows: readonly number[], r: TimeRange): number[] {
  return rows.filter((i) => {
    const t = s.features.times[i]!;
    return t >= r.from && t < r.to;
  });
}

/** Which series and row each sample of a batch came from. */
export interface SampleRef {
  readonly series: number;
  readonly row: number;
}

/** A batch with its labels and provenance. */
export interface Dataset {
  readonly batch: SequenceBatch;
  readonly labels: LabelSet;
  readonly refs: readonly SampleRef[];
}

/** Options of buildDataset. */
export interface BuildOptions {
  readonly steps: number;
  readonly scaler: FeatureScaler;
  /** Recency half-life of the sample weights, days; 0 or absent = all weights 1. */
  readonly halfLifeDays?: number;
}

/**
 * Builds a batch from `parts` (rows of each prepared series), ordered by series then row.
 * Sample j's steps are rows row-steps+1..row, scaled; labels NaN-free only if the rows are labelled.
 */
export function buildDataset(series: readonly PreparedSeries[], parts: readonly (readonly number[])[], opts: BuildOptions): Dataset {
  const { steps, scaler } = opts;
  const f = scaler.featureCount;
  const refs: SampleRef[] = [];
  parts.forEach((rows, si) => {
    for (const row of rows) refs.push({ series: si, row });
  });
  const count = refs.length;
  const x = new Float32Array(count * steps * f);
  const times = new Float64Array(count);
  const up = new Float32Array(count);
  const targetDistance = new Float32Array(count);
  const stopDistance = new Float32Array(count);
  for (let j = 0; j < count; j++) {
    const { series: si, row } = refs[j]!;
    const s = series[si]!;
    if (s.features.featureCount !== f) throw new RangeError(`series ${s.symbol}: ${s.features.featureCount} features, scaler has ${f}`);
    if (row - steps + 1 < 0) throw new RangeError(`row ${row} has fewer than ${steps} steps of history`);
    for (let t = 0; t < steps; t++) {
      const r = row - steps + 1 + t;
      if (!s.features.ready[r]) throw new RangeError(`${s.symbol} row ${r} is in the warm-up; use sampleRows`);
      scaler.transformInto(s.features.values, r * f, x, (j * steps + t) * f);
    }
    times[j] = s.features.times[row]!;
    up[j] = s.labels.up[row]!;
    targetDistance[j] = s.labels.targetDistance[row]!;
    stopDistance[j] = s.labels.stopDistance[row]!;
  }
  const weight = opts.halfLifeDays ? recencyWeights(times, opts.halfLifeDays) : new Float32Array(count).fill(1);
  return { batch: { count, steps, featureCount: f, x, times }, labels: { up, targetDistance, stopDistance, weight }, refs };
}

/** The raw (unscaled) feature rows of `parts`, for fitting a scaler: indices into a concatenated matrix. */
export function stackRows(series: readonly PreparedSeries[], parts: readonly (readonly number[])[]): { values: Float64Array; rows: Int32Array } {
  const f = FEATURE_NAMES.length;
  const total = parts.reduce((n, p) => n + p.length, 0);
  const values = new Float64Array(total * f);
  let k = 0;
  parts.forEach((rows, si) => {
    const s = series[si]!;
    for (const r of rows) values.set(s.features.values.subarray(r * f, (r + 1) * f), (k++) * f);
  });
  return { values, rows: Int32Array.from({ length: total }, (_, i) => i) };
}

/**
 * The split of the final model, trained on all the data: training is [start, end) minus the last
 * `validationFraction` of the span, which is the early-stopping validation, after an embargo.
 */
export function finalSplit(start: number, end: number, embargoMs: number, validationFraction = 0.2): { train: TimeRange; validation: TimeRange } {
  const valFrom = end - (end - start) * validationFraction;
  const trainTo = valFrom - embargoMs;
  if (!(trainTo > start)) throw new RangeError(`finalSplit: span of ${(end - start) / 3_600_000} h leaves no training data after a ${embargoMs / 60_000} min embargo`);
  return { train: { from: start, to: trainTo }, validation: { from: valFrom, to: end } };
}
