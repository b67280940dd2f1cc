/**
 * The retrain job (run by the retrain Lambda, hourly and on retrain requests): loads the recent
 * window of closed 1m candles from the candle archive, trains a candidate Transformer (fresh, or
 * fine-tuned from the live one), shadow-evaluates candidate and live model on the most recent
 * held-out span, stores the candidate, promotes it when the promotion rule says so, and writes the
 * evaluation next to the models.
 *
 * Time split of the window [start, end) of labelled decision times:
 *
 *   | train ............ | embargo | validation | embargo | held-out (most recent) |
 *
 * The validation part only stops training early; the held-out part is seen by no training step of
 * the candidate (the live model was trained earlier, so it may have seen part of it only if it was
 * trained on a later window, which cannot happen: windows only move forward). Embargoes are one
 * label horizon plus a minute, so no label window crosses a boundary.
 *
 * Coalescing: a retrain records when it started (`models/<kind>/last-retrain.json`). A request made
 * before the last retrain started is covered by it (`skipped`); a request arriving within
 * `minIntervalMs` of the last start is `deferred` (the Lambda hands the messages back to the queue,
 * so a burst of requests becomes one retrain a little later). Concurrent runs are prevented by the
 * Lambda's reserved concurrency of 1.
 */
import { runBacktest } from '../backtest/engine.js';
import type { Config } from '../config/schema.js';
import { DomainError } from '../core/errors.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { Candle, SymbolId } from '../core/types.js';
import { symbolId } from '../core/types.js';
import { utcDay, type CandleArchive } from './archive.js';
import { buildDataset, finalSplit, prepareSeries, rowsIn, sampleRows, stackRows, type PreparedSeries, type TimeRange } from './dataset.js';
import { predictInChunks } from './evaluate.js';
import { FEATURE_NAMES } from './features.js';
import { gateFromPredictions } from './filter.js';
import type { BarrierSpec } from './labels.js';
import { bundleFromArtifact, withScaler, type ModelBundle } from './modelBundle.js';
import { chanceLogLoss, decidePromotion, DEFAULT_PROMOTION_RULE, predictionLogLoss, type PromotionDecision, type PromotionRule, type ShadowScore } from './promotion.js';
import { versionAt, type ModelRegistry } from './registry.js';
import { FeatureScaler } from './scaler.js';
import { createTransformer, loadTransformer, TRANSFORMER_KIND, type EpochReport, type TrainableTransformer, type TransformerOptions } from './transformer.js';
import type { Prediction } from './types.js';

/** What the job needs from the outside world. */
export interface RetrainDeps {
  readonly archive: Pick<CandleArchive, 'readDay'>;
  readonly registry: ModelRegistry;
  /** Epoch ms now (the clock is passed in). */
  readonly clock: () => number;
  readonly log?: (line: string) => void;
}

/** Settings of a retrain (the Lambda reads them from its validated config). */
export interface RetrainSettings {
  readonly symbols: readonly string[];
  /** Days of candles to learn from (the most recent). */
  readonly windowDays: number;
  /** Most recent share of the labelled span kept for the shadow evaluation. */
  readonly heldOutFraction: number;
  /** Share of the remaining span used for early stopping. */
  readonly validationFraction: number;
  readonly barriers: BarrierSpec;
  readonly steps: number;
  readonly halfLifeDays?: number;
  /** Upper bound on training samples: the stride grows until the training set fits (neighbouring minutes' labels overlap heavily anyway). */
  readonly maxTrainSamples: number;
  /** Model size and training hyper-parameters (the defaults are sized for the Lambda, see transformer.ts). */
  readonly model?: Partial<Omit<TransformerOptions, 'steps' | 'featureCount'>>;
  readonly epochs: number;
  readonly batchSize: number;
  readonly patience: number;
  /** Training stops after the epoch that crosses this budget (the Lambda has 15 minutes in all). */
  readonly trainBudgetMs: number;
  /** 'fine-tune' starts from the live Transformer's weights and scaler when it has the same input shape; otherwise a fresh model. */
  readonly mode: 'retrain' | 'fine-tune';
  readonly rule: PromotionRule;
  /** Effective confidence the filter needs in the trading check. */
  readonly threshold: number;
  /** Strategy config for the held-out backtests; without it the trading check is skipped (both PnL 0) and the evaluation says so. */
  readonly config?: Config;
  /** Shortest time between two retrain starts. */
  readonly minIntervalMs: number;
  /** 1m candles of history the backtest gets before the held-out span. */
  readonly backtestWarmupCandles: number;
}

export const DEFAULT_RETRAIN_SETTINGS: Omit<RetrainSettings, 'symbols' | 'barriers'> = {
  windowDays: 14,
  heldOutFraction: 0.2,
  validationFraction: 0.2,
  steps: 32,
  halfLifeDays: 7,
  maxTrainSamples: 20_000,
  epochs: 12,
  batchSize: 128,
  patience: 3,
  trainBudgetMs: 8 * 60_000,
  mode: 'retrain',
  rule: DEFAULT_PROMOTION_RULE,
  threshold: 0.7,
  minIntervalMs: 30 * 60_000,
  backtestWarmupCandles: 1440,
};

/** Why the job runs. */
export interface RetrainTrigger {
  readonly source: 'schedule' | 'queue' | 'manual';
  readonly reasons: readonly string[];
  /** Latest request time (queue) or the schedule's time. */
  readonly requestedAt: number;
}

export type RetrainResult =
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'deferred'; readonly reason: string }
  | {
      readonly status: 'done';
      readonly version: string;
      readonly uri: string;
      readonly promoted: boolean;
      readonly decision: PromotionDecision;
      readonly evaluationKey: string;
      readonly epochs: readonly EpochReport[];
    };

interface LastRetrain {
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly version?: string;
  readonly promoted?: boolean;
}

const lastRetrainKey = (kind: string): string => `models/${kind}/last-retrain.json`;

/** Runs one retrain (see the file comment). Throws on infrastructure failures (the caller retries). */
export async function runRetrain(deps: RetrainDeps, settings: RetrainSettings, trigger: RetrainTrigger): Promise<RetrainResult> {
  const log = deps.log ?? (() => undefined);
  const { registry } = deps;
  const startedAt = deps.clock();

  const last = (await registry.readJson(lastRetrainKey(TRANSFORMER_KIND))) as LastRetrain | undefined;
  if (last !== undefined && typeof last.startedAt === 'number') {
    if (trigger.source === 'queue' && trigger.requestedAt <= last.startedAt) {
      return { status: 'skipped', reason: `requested at ${new Date(trigger.requestedAt).toISOString()}, covered by the retrain started at ${new Date(last.startedAt).toISOString()}` };
    }
    if (trigger.source !== 'manual' && startedAt - last.startedAt < settings.minIntervalMs) {
      const reason = `the last retrain started ${Math.round((startedAt - last.startedAt) / 60_000)} min ago (minimum interval ${settings.minIntervalMs / 60_000} min)`;
      return trigger.source === 'queue' ? { status: 'deferred', reason } : { status: 'skipped', reason };
    }
  }
  await registry.writeJson(lastRetrainKey(TRANSFORMER_KIND), { startedAt } satisfies LastRetrain);

  // 1. Data: the window's closed candles, per symbol.
  const from = startedAt - settings.windowDays * DAY_MS;
  const series: PreparedSeries[] = [];
  for (const s of settings.symbols) {
    const candles = await loadWindow(deps.archive, s, from, startedAt);
    if (candles.length === 0) {
      log(`retrain: no archived candles for ${s} in the window; skipped`);
      continue;
    }
    series.push(prepareSeries(symbolId(s), candles, settings.barriers));
  }
  const embargoMs = (settings.barriers.horizonMinutes + 1) * MINUTE_MS;
  const steps = settings.steps;
  const labelled = series.map((s) => sampleRows(s, steps, true));
  // Span of labelled decision times (a loop: spreading ~100k times into Math.min would overflow the stack).
  let start = Number.POSITIVE_INFINITY;
  let latest = Number.NEGATIVE_INFINITY;
  series.forEach((s, si) => {
    for (const r of labelled[si] ?? []) {
      const t = s.features.times[r] as number;
      if (t < start) start = t;
      if (t > latest) latest = t;
    }
  });
  if (!Number.isFinite(start)) throw new RetrainDataError(`no labelled samples in the ${settings.windowDays}-day window of ${settings.symbols.join(', ')}`);
  const end = latest + 1;
  const heldOut: TimeRange = { from: end - (end - start) * settings.heldOutFraction, to: end };
  let split: { train: TimeRange; validation: TimeRange };
  try {
    split = finalSplit(start, heldOut.from - embargoMs, embargoMs, settings.validationFraction);
  } catch (err) {
    throw new RetrainDataError(`the window is too short to split: ${(err as Error).message}`, { cause: err });
  }

  // 2. The live model, if any (also the starting point of a fine-tune).
  const pointer = await registry.current();
  let live: ModelBundle | undefined;
  if (pointer !== undefined) live = await bundleFromArtifact(await registry.readArtifact(pointer.current.uri));

  let candidate: TrainableTransformer | undefined;
  let candidateBundle: ModelBundle | undefined;
  try {
    // 3. Scaler and datasets. A fine-tune keeps the live scaler (its weights expect that scaling).
    let trainParts = series.map((s, si) => rowsIn(s, labelled[si] ?? [], split.train));
    const total = trainParts.reduce((n, p) => n + p.length, 0);
    const stride = Math.max(1, Math.ceil(total / settings.maxTrainSamples));
    // Keep the most recent sample of each stride group (recent data matters most).
    trainParts = trainParts.map((p) => p.filter((_, i) => (p.length - 1 - i) % stride === 0));
    const valParts = series.map((s, si) => rowsIn(s, labelled[si] ?? [], split.validation).filter((_, i) => i % stride === 0));
    const fineTune = settings.mode === 'fine-tune' && live !== undefined && live.model.kind === TRANSFORMER_KIND && live.model.steps === steps && live.model.featureCount === FEATURE_NAMES.length;
    const scaler = fineTune && live !== undefined ? live.scaler : fitScaler(series, trainParts);
    const halfLife = settings.halfLifeDays !== undefined ? { halfLifeDays: settings.halfLifeDays } : {};
    const train = buildDataset(series, trainParts, { steps, scaler, ...halfLife });
    const validation = buildDataset(series, valParts, { steps, scaler });
    if (train.batch.count === 0 || validation.batch.count === 0) throw new RetrainDataError(`too few samples: ${train.batch.count} training, ${validation.batch.count} validation`);
    log(`retrain: ${series.map((s) => s.symbol).join(', ')}; train ${train.batch.count} (stride ${stride}), validation ${validation.batch.count}; held-out from ${new Date(heldOut.from).toISOString()}`);

    // 4. Train the candidate.
    if (fineTune && pointer !== undefined) {
      candidate = await loadTransformer(await registry.readArtifact(pointer.current.uri));
    } else {
      candidate = createTransformer({ ...settings.model, steps, featureCount: FEATURE_NAMES.length });
    }
    const trainStart = deps.clock();
    const epochs = await candidate.fit(train.batch, train.labels, {
      epochs: settings.epochs,
      batchSize: settings.batchSize,
      validation: { batch: validation.batch, labels: validation.labels },
      patience: settings.patience,
      clock: deps.clock,
      shouldStop: () => deps.clock() - trainStart > settings.trainBudgetMs,
      onEpoch: (r) => log(`retrain: epoch ${r.epoch} loss ${r.loss.toFixed(4)} validation log loss ${r.valLogLoss?.toFixed(4) ?? '-'} (${r.seconds.toFixed(1)} s)`),
    });
    const artifact = withScaler(await candidate.save(), scaler);
    candidateBundle = { model: candidate, scaler, dispose: () => candidate?.dispose() };

    // 5. Shadow evaluation on the held-out span.
    const baseRate = weightedMean(train.labels.up);
    const candScore = await shadowScore(candidateBundle, series, heldOut, settings);
    const liveScore = live !== undefined ? await shadowScore(live, series, heldOut, settings) : undefined;
    const chance = chanceLogLoss(baseRate, candScore.labels);
    const decision = decidePromotion(candScore.score, liveScore?.score, chance, settings.rule);
    log(`retrain: ${decision.promote ? 'PROMOTE' : 'keep'}: ${decision.reason}`);

    // 6. Store, promote, record.
    const version = versionAt(startedAt);
    const stored = await registry.save(artifact, version, deps.clock());
    if (decision.promote) await registry.promote(stored, deps.clock());
    const finishedAt = deps.clock();
    const evaluationKey = `evaluations/${TRANSFORMER_KIND}/${version}.json`;
    await registry.writeJson(evaluationKey, {
      version,
      uri: stored.uri,
      trigger,
      startedAt,
      finishedAt,
      data: {
        symbols: series.map((s) => s.symbol),
        train: split.train,
        validation: split.validation,
        heldOut,
        trainSamples: train.batch.count,
        validationSamples: validation.batch.count,
        heldOutSamples: candScore.score.samples,
        stride,
      },
      training: { mode: fineTune ? 'fine-tune' : 'retrain', parameters: candidate.parameterCount, config: candidate.config, epochs },
      tradingCheck: settings.config !== undefined ? 'filtered backtest on the held-out span' : 'skipped: no strategy config (both PnL 0)',
      live: pointer?.current ?? null,
      decision,
      promoted: decision.promote,
    });
    await registry.writeJson(lastRetrainKey(TRANSFORMER_KIND), { startedAt, finishedAt, version, promoted: decision.promote } satisfies LastRetrain);
    return { status: 'done', version, uri: stored.uri, promoted: decision.promote, decision, evaluationKey, epochs };
  } finally {
    live?.dispose();
    candidate?.dispose();
  }
}

/** Data problems that retrying now will not fix (too little data in the window). */
export class RetrainDataError extends DomainError {
  override readonly name: string = 'RetrainDataError';
}

async function loadWindow(archive: Pick<CandleArchive, 'readDay'>, symbol: string, from: number, to: number): Promise<Candle[]> {
  const out: Candle[] = [];
  for (let t = from - (from % DAY_MS); t < to; t += DAY_MS) {
    for (const c of await archive.readDay(symbol, utcDay(t))) {
      // Closed candles of the window only.
      if (c.openTime >= from && c.openTime + MINUTE_MS <= to) out.push(c);
    }
  }
  return out;
}

function fitScaler(series: readonly PreparedSeries[], parts: readonly (readonly number[])[]): FeatureScaler {
  const stacked = stackRows(series, parts);
  return FeatureScaler.fit(stacked.values, FEATURE_NAMES, stacked.rows);
}

function weightedMean(up: Float32Array): number {
  let s = 0;
  for (const v of up) s += v;
  // Laplace-smoothed, as the evaluation's reference forecast.
  return (s + 1) / (up.length + 2);
}

/** One model on the held-out span: log loss on the labelled samples, and the filtered backtest's net PnL. */
async function shadowScore(
  bundle: ModelBundle,
  series: readonly PreparedSeries[],
  span: TimeRange,
  settings: RetrainSettings,
): Promise<{ score: ShadowScore; labels: Float32Array }> {
  const steps = bundle.model.steps;
  // The same decisions for every model: labelled samples in the span (each model scales with its own scaler).
  const parts = series.map((s) => rowsIn(s, sampleRows(s, steps, true), span));
  const ds = buildDataset(series, parts, { steps, scaler: bundle.scaler });
  const preds = await predictInChunks(bundle.model, ds.batch);
  const { logLoss, samples } = predictionLogLoss(preds, ds.labels.up);
  let netPnl = 0;
  let trades = 0;
  if (settings.config !== undefined) {
    const table = new Map<string, Map<number, Prediction>>();
    preds.forEach((p, j) => {
      const ref = ds.refs[j];
      if (ref === undefined) return;
      const sym: SymbolId = (series[ref.series] as PreparedSeries).symbol;
      let m = table.get(sym);
      if (m === undefined) table.set(sym, (m = new Map<number, Prediction>()));
      m.set(ds.batch.times[j] as number, p);
    });
    for (const s of series) {
      const firstIdx = s.candles.findIndex((c) => c.openTime + MINUTE_MS >= span.from);
      if (firstIdx < 0) continue;
      const candles = s.candles.slice(Math.max(0, firstIdx - settings.backtestWarmupCandles));
      const r = await runBacktest({
        series: [{ symbol: s.symbol, candles }],
        config: settings.config,
        entryGate: gateFromPredictions(table, { mode: 'filter', threshold: settings.threshold }, span),
      });
      netPnl += r.finalBalance.sub(r.initialBalance).toNumber();
      trades += r.trades.length;
    }
  }
  return { score: { logLoss, netPnl, trades, samples }, labels: ds.labels.up };
}
