/**
 * Walk-forward evaluation: for each fold, the scaler is fitted on the fold's training rows only,
 * each model is trained (validation for early stopping) and predicts the fold's test span, which
 * no training step has seen. Metrics are computed on these out-of-sample predictions only, per fold
 * and pooled, next to a reference forecast (the training base rate) that any useful model must beat.
 * Then the strategy is backtested over the out-of-sample span twice, without and with the ML
 * filter (the model's predictions at each decision time, effective confidence >= threshold), net
 * of the fees and slippage the backtester charges.
 */
import { runBacktest } from '../backtest/engine.js';
import type { Config } from '../config/schema.js';
import { MINUTE_MS } from '../core/timeframes.js';
import { buildDataset, rowsIn, sampleRows, stackRows, walkForwardFolds, type Dataset, type Fold, type PreparedSeries } from './dataset.js';
import { FEATURE_NAMES } from './features.js';
import type { BarrierSpec } from './labels.js';
import { computeMetrics, type MetricSet } from './metrics.js';
import { gateFromPredictions } from './filter.js';
import { FeatureScaler } from './scaler.js';
import type { Prediction, SequenceBatch, SignalModel } from './types.js';

/** A model to evaluate: how to train a fresh one on a fold. */
export interface ModelSpec {
  readonly name: string;
  /** Keep every k-th training/validation sample for this model (default: EvaluateOptions.trainStride). */
  readonly trainStride?: number;
  train(train: Dataset, validation: Dataset, ctx: { fold: number; log: (line: string) => void }): Promise<SignalModel>;
}

/** Options of walkForwardEvaluate. */
export interface EvaluateOptions {
  readonly series: readonly PreparedSeries[];
  readonly models: readonly ModelSpec[];
  readonly barriers: BarrierSpec;
  readonly steps: number;
  readonly folds: number;
  readonly halfLifeDays?: number;
  /** Keep every k-th training/validation sample (labels of neighbouring minutes overlap heavily). Default 1. */
  readonly trainStride?: number;
  /** Strategy config for the with/without-filter backtests; no backtest when absent. */
  readonly config?: Config;
  readonly threshold?: number;
  /** 1m candles of history the strategy gets before the out-of-sample span (default 1440). */
  readonly backtestWarmupCandles?: number;
  readonly log?: (line: string) => void;
}

/** One out-of-sample prediction. */
export interface OosPrediction {
  readonly model: string;
  readonly symbol: string;
  readonly fold: number;
  readonly time: number;
  readonly pUp: number;
  readonly uncertainty: number;
  /** NaN when the sample has no label (end of data). */
  readonly up: number;
}

export interface FoldReport {
  readonly index: number;
  readonly ranges: Record<string, { train: [string, string]; validation: [string, string]; test: [string, string] }>;
  readonly trainSamples: number;
  readonly validationSamples: number;
  readonly testSamples: number;
  readonly trainPositiveRate: number;
  /** Metrics per model on this fold's test span; `reference` is the training base rate. */
  readonly metrics: Record<string, MetricSet>;
}

/** Backtest figures of one run over the out-of-sample span. */
export interface BacktestFigures {
  readonly trades: number;
  readonly wins: number;
  readonly winRate: number | null;
  readonly netPnl: number;
  readonly fees: number;
  readonly returnPct: number;
  readonly gatedEntries: number;
}

export interface EvaluationReport {
  readonly featureCount: number;
  readonly steps: number;
  readonly barriers: BarrierSpec;
  readonly embargoMinutes: number;
  readonly folds: readonly FoldReport[];
  /** Pooled over every fold's test span, per model, plus `reference`. */
  readonly pooled: Record<string, MetricSet>;
  /**
   * Per model: does it beat the reference out of sample? Pooled log loss and Brier below the
   * reference's, pooled AUC above 0.5 by 2 standard errors, and a lower log loss in most folds.
   */
  readonly beatsChance: Record<string, boolean>;
  /** Per symbol and model: the strategy over the out-of-sample span without and with the filter. */
  readonly backtest: Record<string, { span: [string, string]; withoutFilter: BacktestFigures; withFilter: Record<string, BacktestFigures> }> | null;
  readonly predictions: readonly OosPrediction[];
}

const iso = (t: number): string => new Date(t).toISOString();

/** Predicts in chunks so a large test span never builds one huge tensor. */
export async function predictInChunks(model: SignalModel, batch: SequenceBatch, chunk = 2048): Promise<Prediction[]> {
  const out: Prediction[] = [];
  const per = batch.steps * batch.featureCount;
  for (let a = 0; a < batch.count; a += chunk) {
    const b = Math.min(batch.count, a + chunk);
    const part: SequenceBatch = { count: b - a, steps: batch.steps, featureCount: batch.featureCount, x: batch.x.subarray(a * per, b * per), times: batch.times.subarray(a, b) };
    out.push(...(await model.predict(part)));
  }
  return out;
}

function stride(rows: number[], k: number): number[] {
  return k > 1 ? rows.filter((_, i) => i % k === 0) : rows;
}

/** Runs the walk-forward evaluation (see the file comment). */
export async function walkForwardEvaluate(o: EvaluateOptions): Promise<EvaluationReport> {
  const log = o.log ?? (() => undefined);
  const steps = o.steps;
  // Embargo: one label horizon plus one candle, so no training label window reaches the next part.
  const embargoMs = (o.barriers.horizonMinutes + 1) * MINUTE_MS;
  const labelled = o.series.map((s) => sampleRows(s, steps, true));
  const all = o.series.map((s) => sampleRows(s, steps, false));
  const foldsBySeries: Fold[][] = o.series.map((s, si) => {
    const rows = labelled[si]!;
    if (rows.length === 0) throw new RangeError(`${s.symbol}: no labelled samples after the warm-up (series too short?)`);
    const start = s.features.times[rows[0]!]!;
    const end = s.features.times[rows[rows.length - 1]!]! + 1;
    return walkForwardFolds(start, end, { folds: o.folds, embargoMs });
  });
  const predictions: OosPrediction[] = [];
  const predTables = new Map<string, Map<string, Map<number, Prediction>>>(); // model -> symbol -> time -> prediction
  const foldReports: FoldReport[] = [];
  const trainStride = o.trainStride ?? 1;

  for (let k = 0; k < o.folds; k++) {
    const ranges: FoldReport['ranges'] = {};
    const trainAll = o.series.map((s, si) => rowsIn(s, labelled[si]!, foldsBySeries[si]![k]!.train));
    const valAll = o.series.map((s, si) => rowsIn(s, labelled[si]!, foldsBySeries[si]![k]!.validation));
    const testParts = o.series.map((s, si) => rowsIn(s, all[si]!, foldsBySeries[si]![k]!.test));
    o.series.forEach((s, si) => {
      const f = foldsBySeries[si]![k]!;
      ranges[s.symbol] = { train: [iso(f.train.from), iso(f.train.to)], validation: [iso(f.validation.from), iso(f.validation.to)], test: [iso(f.test.from), iso(f.test.to)] };
    });
    // The scaler and the reference see every training row, whatever a model's stride.
    const stacked = stackRows(o.series, trainAll);
    const scaler = FeatureScaler.fit(stacked.values, FEATURE_NAMES, stacked.rows);
    const build = { steps, scaler, ...(o.halfLifeDays ? { halfLifeDays: o.halfLifeDays } : {}) };
    // Training and validation sets per stride, built when a model first asks for one.
    const sets = new Map<number, { train: Dataset; validation: Dataset }>();
    const setsFor = (k2: number): { train: Dataset; validation: Dataset } => {
      let d = sets.get(k2);
      if (!d) {
        d = {
          train: buildDataset(o.series, trainAll.map((r) => stride(r, k2)), build),
          validation: buildDataset(o.series, valAll.map((r) => stride(r, k2)), { steps, scaler }),
        };
        sets.set(k2, d);
      }
      return d;
    };
    const test = buildDataset(o.series, testParts, { steps, scaler });
    let pos = 0;
    let n = 0;
    o.series.forEach((s, si) => {
      for (const r of trainAll[si]!) {
        pos += s.labels.up[r]!;
        n++;
      }
    });
    const valCount = valAll.reduce((a, r) => a + r.length, 0);
    // Laplace-smoothed, so a fold whose training set has no positive does not forecast exactly 0.
    const baseRate = (pos + 1) / (n + 2);
    log(`fold ${k + 1}/${o.folds}: train ${n}, validation ${valCount}, test ${test.batch.count} samples (base rate ${(baseRate * 100).toFixed(1)}%)`);
    const y = test.labels.up;
    const metrics: Record<string, MetricSet> = { reference: computeMetrics(new Float64Array(test.batch.count).fill(baseRate), y) };
    for (const spec of o.models) {
      const { train, validation } = setsFor(spec.trainStride ?? trainStride);
      const model = await spec.train(train, validation, { fold: k, log });
      const preds = await predictInChunks(model, test.batch);
      model.dispose();
      const p = Float64Array.from(preds, (q) => q.pUp);
      const u = Float64Array.from(preds, (q) => q.uncertainty);
      metrics[spec.name] = computeMetrics(p, y, u);
      let table = predTables.get(spec.name);
      if (!table) predTables.set(spec.name, (table = new Map<string, Map<number, Prediction>>()));
      preds.forEach((q, j) => {
        const ref = test.refs[j]!;
        const symbol = o.series[ref.series]!.symbol;
        predictions.push({ model: spec.name, symbol, fold: k, time: test.batch.times[j]!, pUp: q.pUp, uncertainty: q.uncertainty, up: y[j]! });
        let bySym = table.get(symbol);
        if (!bySym) table.set(symbol, (bySym = new Map<number, Prediction>()));
        bySym.set(test.batch.times[j]!, q);
      });
      const m = metrics[spec.name]!;
      log(`  ${spec.name}: log loss ${m.logLoss.toFixed(4)} (reference ${metrics.reference!.logLoss.toFixed(4)}), AUC ${m.auc.toFixed(3)}, Brier ${m.brier.toFixed(4)}`);
    }
    foldReports.push({
      index: k,
      ranges,
      trainSamples: n,
      validationSamples: valCount,
      testSamples: test.batch.count,
      trainPositiveRate: baseRate,
      metrics,
    });
  }

  // Pooled out-of-sample metrics: the reference uses each fold's own training base rate.
  const pooled: Record<string, MetricSet> = {};
  const beatsChance: Record<string, boolean> = {};
  const refP: number[] = [];
  const refY: number[] = [];
  for (const spec of o.models) {
    const mine = predictions.filter((q) => q.model === spec.name);
    pooled[spec.name] = computeMetrics(
      mine.map((q) => q.pUp),
      mine.map((q) => q.up),
      mine.map((q) => q.uncertainty),
    );
    if (refP.length === 0) {
      for (const q of mine) {
        refP.push(foldReports[q.fold]!.trainPositiveRate);
        refY.push(q.up);
      }
    }
  }
  pooled.reference = computeMetrics(refP, refY);
  for (const spec of o.models) {
    const m = pooled[spec.name]!;
    // Pooled AUC mixes folds with different base rates, so the rule also asks for a better Brier
    // score and a lower log loss than the reference in a majority of the folds.
    const foldWins = foldReports.filter((f) => f.metrics[spec.name]!.logLoss < f.metrics.reference!.logLoss).length;
    beatsChance[spec.name] = m.logLoss < pooled.reference.logLoss && m.brier < pooled.reference.brier && m.auc - 2 * m.aucStdErr > 0.5 && foldWins * 2 > foldReports.length;
  }

  let backtest: EvaluationReport['backtest'] = null;
  if (o.config) {
    backtest = {};
    const warm = o.backtestWarmupCandles ?? 1440;
    for (let si = 0; si < o.series.length; si++) {
      const s = o.series[si]!;
      const folds = foldsBySeries[si]!;
      const window = { from: folds[0]!.test.from, to: folds[folds.length - 1]!.test.to };
      const firstIdx = s.candles.findIndex((c) => c.openTime + MINUTE_MS >= window.from);
      const candles = s.candles.slice(Math.max(0, firstIdx - warm));
      const run = async (gate: ReturnType<typeof gateFromPredictions>): Promise<BacktestFigures> => {
        const r = await runBacktest({ series: [{ symbol: s.symbol, candles }], config: o.config!, entryGate: gate });
        const wins = r.trades.filter((t) => t.netPnl.isPositive()).length;
        const net = r.finalBalance.sub(r.initialBalance).toNumber();
        return {
          trades: r.trades.length,
          wins,
          winRate: r.trades.length > 0 ? wins / r.trades.length : null,
          netPnl: net,
          fees: r.fees.toNumber(),
          returnPct: (net / r.initialBalance.toNumber()) * 100,
          gatedEntries: r.rejections.entry_gate ?? 0,
        };
      };
      const empty = new Map<string, Map<number, Prediction>>();
      const withoutFilter = await run(gateFromPredictions(empty, { mode: 'off' }, window));
      const withFilter: Record<string, BacktestFigures> = {};
      for (const spec of o.models) {
        withFilter[spec.name] = await run(gateFromPredictions(predTables.get(spec.name) ?? empty, { mode: 'filter', threshold: o.threshold ?? 0.7 }, window));
      }
      backtest[s.symbol] = { span: [iso(window.from), iso(window.to)], withoutFilter, withFilter };
      log(`backtest ${s.symbol} ${iso(window.from).slice(0, 16)}..${iso(window.to).slice(0, 16)}: without filter ${withoutFilter.trades} trades, net ${withoutFilter.netPnl.toFixed(2)}; ${Object.entries(withFilter).map(([n, f]) => `${n} filter ${f.trades} trades, net ${f.netPnl.toFixed(2)}`).join('; ')}`);
    }
  }

  return {
    featureCount: FEATURE_NAMES.length,
    steps,
    barriers: o.barriers,
    embargoMinutes: embargoMs / MINUTE_MS,
    folds: foldReports,
    pooled,
    beatsChance,
    backtest,
    predictions,
  };
}
