/**
 * The ML entry filter: asks a SignalModel about each entry the strategy proposes.
 *
 * Modes:
 * - `off`: every entry passes (the default while no model beats chance out of sample);
 * - `filter`: an entry passes only when the effective confidence in its direction
 *   (confidence x (1 - uncertainty), see types.ts) is at least `threshold` (0.70);
 * - `sizing`: every entry with some edge passes, with a size multiplier that grows linearly from
 *   0 at confidence 0.5 to 1 at `threshold` (an entry at 0 is refused).
 *
 * The model needs the features at decision time, so the filter owns a streaming FeaturePipeline
 * per symbol, fed the same closed 1m candles as the strategy (`observe`), and keeps the last
 * `steps` vectors. `gate` has the entryGate signature of the live session and the backtester: it
 * reads the prediction made at the intent's decision time (the close of the candle the strategy
 * just saw), and refuses when there is none.
 */
import { MINUTE_MS } from '../core/timeframes.js';
import type { Candle, Direction } from '../core/types.js';
import type { EnterIntent } from '../model/intents.js';
import { FEATURE_COUNT, FEATURE_NAMES, FeaturePipeline, type FeatureOptions } from './features.js';
import type { FeatureScaler } from './scaler.js';
import { effectiveConfidence, type Prediction, type SignalModel } from './types.js';

export const FILTER_MODES = ['off', 'filter', 'sizing'] as const;
export type FilterMode = (typeof FILTER_MODES)[number];

/** Settings of the filter. */
export interface FilterSettings {
  readonly mode: FilterMode;
  /** Effective confidence an entry needs (default 0.70). */
  readonly threshold?: number;
}

/** The filter's answer for one entry. */
export interface FilterDecision {
  readonly allow: boolean;
  /** Why an entry is refused (undefined when allowed). */
  readonly reason?: string;
  /** Size multiplier in [0, 1] (1 in `off` and `filter` modes). */
  readonly sizeMultiplier: number;
  /** Effective confidence in the entry's direction, null without a prediction. */
  readonly confidence: number | null;
}

/** Decides on one entry from the prediction made at its decision time (pure). */
export function decideEntry(prediction: Prediction | null, direction: Direction, settings: FilterSettings): FilterDecision {
  if (settings.mode === 'off') return { allow: true, sizeMultiplier: 1, confidence: prediction ? effectiveConfidence(prediction, direction) : null };
  const threshold = settings.threshold ?? 0.7;
  if (!prediction) return { allow: false, reason: 'ml: no prediction at decision time', sizeMultiplier: 0, confidence: null };
  const conf = effectiveConfidence(prediction, direction);
  if (settings.mode === 'filter') {
    return conf >= threshold
      ? { allow: true, sizeMultiplier: 1, confidence: conf }
      : { allow: false, reason: `ml: ${direction} confidence ${conf.toFixed(3)} < ${threshold.toFixed(2)}`, sizeMultiplier: 0, confidence: conf };
  }
  const m = Math.min(1, Math.max(0, (conf - 0.5) / (threshold - 0.5)));
  return m > 0
    ? { allow: true, sizeMultiplier: m, confidence: conf }
    : { allow: false, reason: `ml: ${direction} confidence ${conf.toFixed(3)} <= 0.50`, sizeMultiplier: 0, confidence: conf };
}

interface SymbolStream {
  readonly pipeline: FeaturePipeline;
  /** The last `steps` raw vectors, oldest first. */
  readonly recent: Float64Array[];
  latest: { time: number; prediction: Prediction } | null;
}

/** Options of MlFilter. */
export interface MlFilterOptions extends FilterSettings {
  readonly model: SignalModel;
  readonly scaler: FeatureScaler;
  readonly features?: FeatureOptions;
}

/** The streaming filter of the hot path (one instance for many symbols). */
export class MlFilter {
  private readonly streams = new Map<string, SymbolStream>();

  constructor(private readonly opts: MlFilterOptions) {
    const names = opts.scaler.featureNames;
    if (names.length !== FEATURE_COUNT || names.some((n, i) => n !== FEATURE_NAMES[i])) {
      throw new RangeError('MlFilter: the scaler was fitted on a different feature list than this build computes; retrain the model');
    }
    if (opts.model.featureCount !== FEATURE_COUNT) throw new RangeError(`MlFilter: the model takes ${opts.model.featureCount} features, the pipeline gives ${FEATURE_COUNT}`);
  }

  get mode(): FilterMode {
    return this.opts.mode;
  }

  /**
   * Feeds one closed 1m candle of `symbol` and, once `steps` vectors are ready, predicts for the
   * decision at its close. Returns the prediction (null during the warm-up).
   */
  async observe(symbol: string, candle: Candle): Promise<Prediction | null> {
    let s = this.streams.get(symbol);
    if (!s) {
      s = { pipeline: new FeaturePipeline(this.opts.features), recent: [], latest: null };
      this.streams.set(symbol, s);
    }
    const vec = s.pipeline.update(candle);
    if (!vec) {
      s.recent.length = 0;
      return null;
    }
    const steps = this.opts.model.steps;
    s.recent.push(vec);
    if (s.recent.length > steps) s.recent.shift();
    if (s.recent.length < steps) return null;
    const f = FEATURE_COUNT;
    const x = new Float32Array(steps * f);
    s.recent.forEach((v, t) => this.opts.scaler.transformInto(v, 0, x, t * f));
    const time = candle.openTime + MINUTE_MS;
    const [prediction] = await this.opts.model.predict({ count: 1, steps, featureCount: f, x, times: Float64Array.of(time) });
    if (!prediction) return null;
    s.latest = { time, prediction };
    return prediction;
  }

  /** The prediction made at `time` for `symbol`, if it is the latest one. */
  predictionAt(symbol: string, time: number): Prediction | null {
    const l = this.streams.get(symbol)?.latest;
    return l && l.time === time ? l.prediction : null;
  }

  /** The decision on an entry, from the prediction at its decision time. */
  decide(intent: EnterIntent): FilterDecision {
    return decideEntry(this.predictionAt(intent.symbol, intent.time), intent.direction, this.opts);
  }

  /** entryGate for the live session and the backtester: a reason refuses the entry. */
  readonly gate = (intent: EnterIntent, _now: number): string | undefined => {
    const d = this.decide(intent);
    return d.allow ? undefined : d.reason;
  };
}

/**
 * An entryGate from predictions computed beforehand (keyed by symbol, then decision time): the
 * walk-forward evaluation predicts out-of-sample in batch, then replays the backtest with this.
 * `window` restricts entries to [from, to) (the out-of-sample span); outside it every entry is refused.
 */
export function gateFromPredictions(
  predictions: ReadonlyMap<string, ReadonlyMap<number, Prediction>>,
  settings: FilterSettings,
  window?: { from: number; to: number },
): (intent: EnterIntent, now: number) => string | undefined {
  return (intent) => {
    if (window && (intent.time < window.from || intent.time >= window.to)) return 'outside the evaluated span';
    const d = decideEntry(predictions.get(intent.symbol)?.get(intent.time) ?? null, intent.direction, settings);
    return d.allow ? undefined : d.reason;
  };
}
