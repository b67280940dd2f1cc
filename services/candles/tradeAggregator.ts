/**
 * Streaming aggregation of public trades (ticks) into candles (30s, 1m, ...), aligned to the UTC
 * epoch like every other bucket (see candleAggregator.ts).
 *
 * Unlike bars, trades give no sign that a bucket is complete, so a bucket closes:
 * - when a trade of a later bucket arrives (the usual case in a busy market);
 * - when `advanceTo(time)` is called with a time at or after the bucket's end (the hot path calls
 *   it from its clock so a quiet minute still closes without waiting for the next trade);
 * - on `flush()`.
 * A bucket with no trades produces no candle: no price was traded, so there is nothing to report.
 *
 * Late trades: once a bucket of any timeframe has closed, a trade older than its end is dropped
 * and counted in `lateTrades`, in every timeframe, so a 1m candle always summarises exactly the
 * trades of its two 30s candles. A trade slightly out of order inside the open buckets is fine:
 * open and close follow trade time, not arrival order.
 */
import { bucketStart, timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { Trade } from '../core/types.js';
import { NO_CANDLES, type ClosedCandle } from './candleAggregator.js';
import { ConfigError } from '../core/errors.js';

/** Mutable state of one timeframe's open bucket. */
class TradeBucket {
  active = false;
  start = 0;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
  volume = 0;
  /** Times of the trades that set `open` and `close`. */
  firstTime = 0;
  lastTime = 0;
  constructor(
    readonly tf: Timeframe,
    readonly ms: number,
  ) {}

  add(t: Trade): void {
    if (!this.active) {
      this.active = true;
      this.start = bucketStart(t.time, this.tf);
      this.open = this.high = this.low = this.close = t.price;
      this.volume = t.quantity;
      this.firstTime = this.lastTime = t.time;
      return;
    }
    if (t.price > this.high) this.high = t.price;
    if (t.price < this.low) this.low = t.price;
    this.volume += t.quantity;
    // Equal times keep arrival order: the later-arriving trade is the later trade.
    if (t.time >= this.lastTime) {
      this.close = t.price;
      this.lastTime = t.time;
    }
    if (t.time < this.firstTime) {
      this.open = t.price;
      this.firstTime = t.time;
    }
  }

  emit(partial: boolean): ClosedCandle {
    this.active = false;
    return { tf: this.tf, candle: { openTime: this.start, open: this.open, high: this.high, low: this.low, close: this.close, volume: this.volume, partial } };
  }
}

/**
 * Builds candles of several timeframes from a stream of trades. Per trade the work is
 * O(number of timeframes) and nothing is allocated unless a candle closes.
 *
 * ```ts
 * const agg = new TradeAggregator(['30s', '1m']);
 * for (const { tf, candle } of agg.push(trade)) ...
 * ```
 */
export class TradeAggregator {
  /** Timeframes, shortest first (the order in which closes are emitted). */
  readonly timeframes: readonly Timeframe[];
  /** Trades dropped because they arrived after their bucket had closed. */
  lateTrades = 0;
  private readonly buckets: TradeBucket[];
  private readonly startTime: number;
  /** Trades older than this belong to a bucket that has already been emitted. */
  private closedUntil = -Infinity;

  /**
   * `startTime`: when the feed started. A bucket that began before it missed the earlier trades, so
   * its candle is flagged `partial`. Without it no candle is flagged (the caller knows the data is whole).
   */
  constructor(timeframes: readonly Timeframe[] = ['30s', '1m'], opts: { startTime?: number } = {}) {
    const unique = [...new Set(timeframes)].sort((a, b) => timeframeMs(a) - timeframeMs(b));
    if (unique.length === 0) throw new ConfigError('TradeAggregator needs at least one timeframe (expected e.g. ["30s", "1m"])');
    this.timeframes = unique;
    this.buckets = unique.map((tf) => new TradeBucket(tf, timeframeMs(tf)));
    this.startTime = opts.startTime ?? -Infinity;
  }

  /** Adds one trade; returns the candles closed by it (shared NO_CANDLES when none). */
  push(t: Trade): readonly ClosedCandle[] {
    if (t.time < this.closedUntil) {
      this.lateTrades++;
      return NO_CANDLES;
    }
    const out = this.closeBefore(t.time);
    for (let i = 0; i < this.buckets.length; i++) this.buckets[i]!.add(t);
    return out;
  }

  /** Closes every bucket that ends at or before `time` (epoch ms, from the caller's clock). */
  advanceTo(time: number): readonly ClosedCandle[] {
    return this.closeBefore(time);
  }

  /** Emits all open buckets (flagged partial only per the `startTime` rule) and resets them. */
  flush(): ClosedCandle[] {
    const out: ClosedCandle[] = [];
    for (const b of this.buckets) if (b.active) out.push(this.emit(b));
    return out;
  }

  private closeBefore(time: number): readonly ClosedCandle[] {
    let out: ClosedCandle[] | null = null;
    for (let i = 0; i < this.buckets.length; i++) {
      const b = this.buckets[i]!;
      if (b.active && time >= b.start + b.ms) (out ??= []).push(this.emit(b));
    }
    return out ?? NO_CANDLES;
  }

  private emit(b: TradeBucket): ClosedCandle {
    const end = b.start + b.ms;
    if (end > this.closedUntil) this.closedUntil = end;
    return b.emit(b.start < this.startTime);
  }
}
