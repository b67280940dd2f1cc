/**
 * Triple-barrier labels from the strategy's own exit plan (see services/strategy/srStrategy.ts).
 *
 * For a sample whose decision time is the close of candle i, a long is entered at that close and
 * the following candles are scanned until one of three barriers is touched:
 * - the target, `targetPct` above the entry (up = 1);
 * - the stop, `stopPct` below the entry (up = 0);
 * - the time limit, `horizonMinutes` after the decision (up = 0).
 * When one candle reaches both the target and the stop, the order inside the candle is unknown;
 * the label is the conservative one, the stop (up = 0).
 *
 * Barriers are in PERCENT of the entry by default, as the strategy sets them: its stop sits
 * `stopBeyondLevelPct` below a support that is itself within `proximityPct` below the entry, so
 * the stop distance is taken as stopBeyondLevelPct + proximityPct / 2 (the middle of the band);
 * the primary target is `minRewardRisk` times that risk, clamped to
 * [primaryTargetMinPct, primaryTargetMaxPct], and the time limit is `timeStopMinutes`. With the
 * standard defaults: stop 0.9%, target 1.8%, 240 minutes. An ATR mode (multiples of the
 * sample's ATR) is offered for experiments.
 *
 * Samples whose future is cut by the end of the data before any barrier is touched get no label
 * (NaN) and are excluded. A gap in the data does not extend the time limit: it is measured in time.
 */
import type { Config } from '../config/schema.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { Candle } from '../core/types.js';

/** Barrier settings of the labeller. */
export interface BarrierSpec {
  /** 'percent' (the strategy's way) or 'atr' (multiples of the sample's ATR). */
  readonly mode: 'percent' | 'atr';
  /** Target distance: percent of entry, or ATR multiples in 'atr' mode. */
  readonly target: number;
  /** Stop distance: percent of entry, or ATR multiples in 'atr' mode. */
  readonly stop: number;
  /** Time limit after the decision, minutes. */
  readonly horizonMinutes: number;
}

/** The percent barriers the strategy's exit config implies (see the file comment). */
export function barriersFromConfig(cfg: Pick<Config, 'entry' | 'exit'>): BarrierSpec {
  const x = cfg.exit;
  const stop = x.stopBeyondLevelPct + cfg.entry.proximityPct / 2;
  const target = Math.min(x.primaryTargetMaxPct, Math.max(x.primaryTargetMinPct, x.minRewardRisk * stop));
  return { mode: 'percent', target, stop, horizonMinutes: x.timeStopMinutes };
}

/** What happened to one sample. */
export type BarrierOutcome = 'target' | 'stop' | 'time' | 'none';

/** Labels of a candle series, one per candle (decision at its close). */
export interface SeriesLabels {
  /** 1 target first, 0 stop first or time limit, NaN when the data ends first. */
  readonly up: Float32Array;
  /** Barrier distances from the entry in units of the sample's ATR (NaN without an ATR). */
  readonly targetDistance: Float32Array;
  readonly stopDistance: Float32Array;
  readonly outcome: readonly BarrierOutcome[];
  /** Minutes from the decision to the barrier touched (the horizon for a time-out). */
  readonly minutesToExit: Float32Array;
}

/**
 * Labels every candle of `candles` (sorted, one per open time). `atr[i]` is the ATR at candle i's
 * close (NaN when unknown); it converts barrier distances to ATR units and is required in 'atr' mode.
 */
export function tripleBarrierLabels(candles: readonly Candle[], spec: BarrierSpec, atr?: ArrayLike<number>): SeriesLabels {
  if (!(spec.target > 0) || !(spec.stop > 0) || !(spec.horizonMinutes > 0)) throw new RangeError(`barriers must be positive: ${JSON.stringify(spec)}`);
  const n = candles.length;
  const up = new Float32Array(n).fill(NaN);
  const targetDistance = new Float32Array(n).fill(NaN);
  const stopDistance = new Float32Array(n).fill(NaN);
  const minutesToExit = new Float32Array(n).fill(NaN);
  const outcome: BarrierOutcome[] = new Array<BarrierOutcome>(n).fill('none');
  const horizonMs = spec.horizonMinutes * MINUTE_MS;
  for (let i = 0; i < n; i++) {
    const c = candles[i]!;
    const entry = c.close;
    const a = atr ? atr[i]! : NaN;
    let tgtDist: number;
    let stpDist: number;
    if (spec.mode === 'percent') {
      tgtDist = (entry * spec.target) / 100;
      stpDist = (entry * spec.stop) / 100;
    } else {
      if (!(a > 0)) continue;
      tgtDist = a * spec.target;
      stpDist = a * spec.stop;
    }
    if (a > 0) {
      targetDistance[i] = tgtDist / a;
      stopDistance[i] = stpDist / a;
    }
    const target = entry + tgtDist;
    const stop = entry - stpDist;
    const decision = c.openTime + MINUTE_MS;
    const deadline = decision + horizonMs;
    let j = i + 1;
    for (; j < n; j++) {
      const f = candles[j]!;
      // A candle that opens at or after the deadline is outside the holding period.
      if (f.openTime >= deadline) break;
      const hitStop = f.low <= stop;
      const hitTarget = f.high >= target;
      if (hitStop || hitTarget) {
        // Both in one candle: the order inside it is unknown, so the conservative outcome (stop).
        outcome[i] = hitStop ? 'stop' : 'target';
        up[i] = hitStop ? 0 : 1;
        minutesToExit[i] = (f.openTime + MINUTE_MS - decision) / MINUTE_MS;
        break;
      }
    }
    if (outcome[i] !== 'none') continue;
    // No barrier touched: a time-out if the data reaches the deadline, else unknown.
    const last = candles[n - 1];
    if (j < n || (last && last.openTime + MINUTE_MS >= deadline)) {
      outcome[i] = 'time';
      up[i] = 0;
      minutesToExit[i] = spec.horizonMinutes;
    }
  }
  return { up, targetDistance, stopDistance, outcome, minutesToExit };
}

/**
 * Sample weights that favour recent samples: weight halves every `halfLifeDays` of age, measured
 * from the latest time in `times`; normalised to mean 1 over the given samples.
 */
export function recencyWeights(times: ArrayLike<number>, halfLifeDays: number): Float32Array {
  const n = times.length;
  const w = new Float32Array(n);
  if (n === 0) return w;
  if (!(halfLifeDays > 0)) return w.fill(1);
  let latest = -Infinity;
  for (let i = 0; i < n; i++) if (times[i]! > latest) latest = times[i]!;
  const halfLifeMs = halfLifeDays * 86_400_000;
  let sum = 0;
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    raw[i] = Math.pow(0.5, (latest - times[i]!) / halfLifeMs);
    sum += raw[i]!;
  }
  const scale = n / sum;
  for (let i = 0; i < n; i++) w[i] = raw[i]! * scale;
  return w;
}
