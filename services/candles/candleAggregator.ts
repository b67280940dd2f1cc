/**
 * Streaming aggregation of closed candles into higher timeframes (1m -> 3m, 5m, 15m, 1h, 4h).
 *
 * A bucket is the span of one higher-timeframe candle, aligned to the UTC epoch (`bucketStart`):
 * the 5m buckets start at :00, :05, ...; the 4h buckets at 00:00, 04:00, ... UTC. Its candle has
 * open = first open, close = last close, high = max high, low = min low, volume = sum of volumes.
 *
 * When a bucket closes (is emitted):
 * - when its last constituent bar arrives (the 1m candle opening at 03:04 closes the 03:00 5m bucket);
 * - or, across a gap, when a bar of a later bucket arrives: the bucket so far is emitted before the
 *   new bar is counted, since no more bars can come for it.
 * - `flush()` emits whatever is still open (end of a backtest).
 *
 * `partial` is true when the emitted candle has fewer constituent bars than its timeframe holds:
 * the data started inside the bucket (a series starting at 03:02 gives a 03:00 5m candle of three
 * bars, emitted at 03:04 with partial: true), a gap fell inside it, or it was flushed early.
 * Gaps are never filled with invented bars; `partial` lets a consumer skip or down-weight such
 * candles (e.g. a partial bar's volume is not comparable to a full bar's).
 */
import { ConfigError, DataValidationError } from '../core/errors.js';
import { bucketStart, timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { Candle } from '../core/types.js';
import { Dec } from '../core/money.js';
import { isoTime } from './csvReader.js';

/** Options of a CandleAggregator. */
export interface CandleAggregatorOptions {
  /**
   * Sum volumes as exact decimals (each volume read as the decimal it prints as), so five volumes
   * of 6 decimals add up to the decimal a person would write; for a venue that must print volumes
   * as the exchange does (the simulator). Default false: a float sum, which a backtest's speed needs
   * and whose last-bit error no decision depends on.
   */
  readonly exactVolume?: boolean;
}

/** A candle built from smaller bars or trades. `partial`: some of its constituent bars were missing. */
export interface AggregatedCandle extends Candle {
  readonly partial: boolean;
}

/** One candle emitted by an aggregator, with its timeframe. */
export interface ClosedCandle {
  readonly tf: Timeframe;
  readonly candle: AggregatedCandle;
}

/** Returned by `push` when nothing closed: shared, frozen, so a push allocates nothing then. */
export const NO_CANDLES: readonly ClosedCandle[] = Object.freeze([]);

/** Mutable state of the bucket being built for one target timeframe. */
class Bucket {
  active = false;
  start = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  /** Constituent bars (or trades) seen. */
  count = 0;
  constructor(
    readonly tf: Timeframe,
    readonly ms: number,
    /** Constituent bars a complete bucket has; 0 when not applicable (trades). */
    readonly expected: number,
    readonly exactVolume = false,
  ) {}

  /** Starts the bucket containing a bar. */
  begin(start: number, open: number, high: number, low: number, close: number, volume: number): void {
    this.active = true;
    this.start = start;
    this.open = open;
    this.high = high;
    this.low = low;
    this.close = close;
    this.volume = volume;
    this.count = 1;
  }

  /** Adds a later bar to the bucket. */
  add(high: number, low: number, close: number, volume: number): void {
    if (high > this.high) this.high = high;
    if (low < this.low) this.low = low;
    this.close = close;
    this.volume = this.exactVolume ? Dec.from(this.volume).add(Dec.from(volume)).toNumber() : this.volume + volume;
    this.count++;
  }

  /** Emits the bucket's candle and deactivates it. */
  emit(partial: boolean): ClosedCandle {
    this.active = false;
    return {
      tf: this.tf,
      candle: { openTime: this.start, open: this.open, high: this.high, low: this.low, close: this.close, volume: this.volume, partial },
    };
  }
}

/**
 * Turns a stream of closed candles of one timeframe (normally 1m) into closed candles of higher
 * timeframes. Input must be in strictly increasing open-time order and aligned to its timeframe;
 * gaps are allowed. Work per push is O(number of targets) and allocates only when a candle closes.
 *
 * ```ts
 * const agg = new CandleAggregator('1m', ['5m', '15m']);
 * for (const { tf, candle } of agg.push(oneMinuteCandle)) ...
 * ```
 */
export class CandleAggregator {
  readonly inputMs: number;
  /** Target timeframes, shortest first (the order in which closes are emitted). */
  readonly targets: readonly Timeframe[];
  private readonly buckets: Bucket[];
  private last = -Infinity;

  /** Throws ConfigError when a target's duration is not a multiple of the input's. */
  constructor(
    readonly inputTf: Timeframe,
    targets: readonly Timeframe[],
    options: CandleAggregatorOptions = {},
  ) {
    this.inputMs = timeframeMs(inputTf);
    const unique = [...new Set(targets)].sort((a, b) => timeframeMs(a) - timeframeMs(b));
    if (unique.length === 0) throw new ConfigError(`CandleAggregator needs at least one target timeframe (input ${inputTf})`);
    for (const tf of unique) {
      const ms = timeframeMs(tf);
      if (ms < this.inputMs || ms % this.inputMs !== 0) {
        throw new ConfigError(`cannot aggregate ${inputTf} candles into ${tf}: expected a timeframe whose duration is a multiple of ${inputTf} (${this.inputMs} ms)`);
      }
    }
    this.targets = unique;
    this.buckets = unique.map((tf) => new Bucket(tf, timeframeMs(tf), timeframeMs(tf) / this.inputMs, options.exactVolume === true));
  }

  /**
   * Adds one closed input candle; returns the candles it closed, ordered by end time then
   * timeframe (a bucket closed by a gap ends before the one this candle completes). Returns the
   * shared NO_CANDLES when nothing closed. Throws DataValidationError for a candle that is not
   * after the previous one or not aligned to the input timeframe.
   */
  push(c: Candle): readonly ClosedCandle[] {
    const t = c.openTime;
    if (t <= this.last) {
      throw new DataValidationError(`CandleAggregator: ${this.inputTf} candle at ${isoTime(t)} is not after the previous one at ${isoTime(this.last)} (expected strictly increasing open times)`);
    }
    if (t % this.inputMs !== 0) {
      throw new DataValidationError(`CandleAggregator: candle at ${isoTime(t)} is not aligned to ${this.inputTf} (expected an open time that is a multiple of ${this.inputMs} ms)`);
    }
    this.last = t;
    const buckets = this.buckets;
    let out: ClosedCandle[] | null = null;
    // Pass 1: buckets left open by a gap end before this candle; emit them first.
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (b.active && t >= b.start + b.ms) (out ??= []).push(b.emit(true));
    }
    // Pass 2: count the candle, and emit buckets it completes.
    const end = t + this.inputMs;
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i]!;
      if (b.active) b.add(c.high, c.low, c.close, c.volume);
      else b.begin(bucketStart(t, b.tf), c.open, c.high, c.low, c.close, c.volume);
      if (end === b.start + b.ms) (out ??= []).push(b.emit(b.count < b.expected));
    }
    return out ?? NO_CANDLES;
  }

  /** Emits the buckets still open (each flagged partial, since its last bar never came) and resets them. */
  flush(): ClosedCandle[] {
    const out: ClosedCandle[] = [];
    for (const b of this.buckets) if (b.active) out.push(b.emit(true));
    return out;
  }
}

/**
 * Aggregates a whole series (sorted, one candle per open time) from one timeframe to another.
 * By default only closed buckets are returned: a trailing bucket still waiting for bars is left out,
 * as it would be in a live stream; `includeOpen: true` appends it (flagged partial).
 */
export function aggregateCandles(candles: readonly Candle[], fromTf: Timeframe, toTf: Timeframe, opts: { includeOpen?: boolean } & CandleAggregatorOptions = {}): AggregatedCandle[] {
  const agg = new CandleAggregator(fromTf, [toTf], opts);
  const out: AggregatedCandle[] = [];
  for (const c of candles) {
    const closed = agg.push(c);
    for (let i = 0; i < closed.length; i++) out.push(closed[i]!.candle);
  }
  if (opts.includeOpen) for (const cc of agg.flush()) out.push(cc.candle);
  return out;
}
