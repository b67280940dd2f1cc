/**
 * The ML filter as the hot path runs it: the streaming feature pipeline per symbol is fed every
 * closed 1m candle (warm-up included), and on each live candle the model serving now (through the
 * model watcher: a promoted model replaces it without a restart, and without losing the pipelines'
 * warm-up, since raw feature vectors are kept and scaled by the serving model's own scaler) predicts
 * for the decision at the candle's close. The session's entry gate then asks `gate`.
 *
 * Modes: `off` (never refuses; the runtime does not build this), `filter` (an entry needs effective
 * confidence of at least the threshold in its direction). Without a model yet, `filter` refuses
 * every entry: trading on a filter that cannot answer would be trading unfiltered by surprise.
 */
import type { Candle } from '../core/types.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { EnterIntent } from '../model/intents.js';
import { FEATURE_COUNT, FeaturePipeline, type FeatureOptions } from './features.js';
import { decideEntry, type FilterMode } from './filter.js';
import type { ModelBundle } from './modelBundle.js';
import type { Prediction } from './types.js';

/** The newest raw feature vectors kept per symbol: the longest sequence a model may ask for. */
export const MAX_KEPT_STEPS = 256;

export interface LiveMlFilterOptions {
  readonly mode: FilterMode;
  readonly threshold?: number;
  /** Runs `f` with the bundle serving now (ModelWatcher.use); undefined when there is none. */
  readonly use: <R>(f: (bundle: ModelBundle, version: string) => Promise<R> | R) => Promise<R | undefined>;
  readonly features?: FeatureOptions;
}

interface Stream {
  readonly pipeline: FeaturePipeline;
  readonly recent: Float64Array[];
  latest: { time: number; prediction: Prediction; version: string } | null;
}

export class LiveMlFilter {
  private readonly streams = new Map<string, Stream>();
  readonly stats = { predictions: 0, noModel: 0, refused: 0, allowed: 0 };

  constructor(private readonly opts: LiveMlFilterOptions) {}

  private stream(symbol: string): Stream {
    let s = this.streams.get(symbol);
    if (!s) {
      s = { pipeline: new FeaturePipeline(this.opts.features), recent: [], latest: null };
      this.streams.set(symbol, s);
    }
    return s;
  }

  /** Feeds a warm-up candle: features only, no prediction. */
  warm(symbol: string, candle: Candle): void {
    this.push(this.stream(symbol), candle);
  }

  private push(s: Stream, candle: Candle): boolean {
    const vec = s.pipeline.update(candle);
    if (!vec) {
      s.recent.length = 0;
      return false;
    }
    s.recent.push(vec);
    if (s.recent.length > MAX_KEPT_STEPS) s.recent.shift();
    return true;
  }

  /** Feeds a live closed candle and predicts for the decision at its close (when a model serves). */
  async observe(symbol: string, candle: Candle): Promise<Prediction | null> {
    const s = this.stream(symbol);
    if (!this.push(s, candle)) return null;
    const time = candle.openTime + MINUTE_MS;
    const out = await this.opts.use(async (bundle, version) => {
      const steps = bundle.model.steps;
      if (s.recent.length < steps || bundle.scaler.featureCount !== FEATURE_COUNT) return null;
      const x = new Float32Array(steps * FEATURE_COUNT);
      const from = s.recent.length - steps;
      for (let t = 0; t < steps; t++) bundle.scaler.transformInto(s.recent[from + t] as Float64Array, 0, x, t * FEATURE_COUNT);
      const [p] = await bundle.model.predict({ count: 1, steps, featureCount: FEATURE_COUNT, x, times: Float64Array.of(time) });
      return p ? { prediction: p, version } : null;
    });
    if (out === undefined) {
      this.stats.noModel++;
      return null;
    }
    if (!out) return null;
    this.stats.predictions++;
    s.latest = { time, prediction: out.prediction, version: out.version };
    return out.prediction;
  }

  /** The latest prediction for a symbol (for scoring external signals), or null before any. */
  latest(symbol: string): { readonly time: number; readonly prediction: Prediction; readonly version: string } | null {
    return this.streams.get(symbol)?.latest ?? null;
  }

  /** The session's entry gate: a reason refuses the entry. */
  readonly gate = (intent: EnterIntent): string | undefined => {
    const l = this.streams.get(intent.symbol)?.latest;
    const prediction = l && l.time === intent.time ? l.prediction : null;
    const d = decideEntry(prediction, intent.direction, { mode: this.opts.mode, ...(this.opts.threshold !== undefined ? { threshold: this.opts.threshold } : {}) });
    if (d.allow) this.stats.allowed++;
    else this.stats.refused++;
    return d.allow ? undefined : `${d.reason ?? 'ml: refused'}${l ? ` (model ${l.version})` : ''}`;
  };
}
