/**
 * Streaming detector of regular RSI divergence: the "RSI divergence" confirmation of an entry.
 *
 * Terms:
 * - A swing low is a candle whose low is below the lows of the `wing` candles before it (strictly)
 *   and not above the lows of the `wing` candles after it; a swing high mirrors it with highs. On a
 *   flat bottom (equal lows) the first candle of the flat is the swing.
 * - A swing is only known once its right wing has closed: the swing at candle i is confirmed on the
 *   update of candle i + wing. Nothing is decided from candles that have not closed (no look-ahead).
 * - Regular bullish divergence: price makes a lower swing low while RSI makes a higher low at the
 *   same two candles; the selling is losing momentum, a sign of a bounce. Regular bearish
 *   divergence mirrors it: a higher swing high with a lower RSI high.
 *
 * Distances are counted in candles fed to `update`, not in time (a gap in the data is not seen).
 * Memory is fixed at construction (typed arrays); an update is O(wing), plus O(maxSwings) when a
 * swing is confirmed, and allocates nothing.
 */
import type { Candle } from '../core/types.js';
import { ConfigError } from '../core/errors.js';

/** Options of `RsiDivergenceDetector`; every field has a default. */
export interface RsiDivergenceOptions {
  /** Candles on each side of a swing (its "wings"); also the confirmation delay. Default 2, 1..20. */
  readonly wing?: number;
  /** Fewest candles between the two swings of a divergence. Default 5. */
  readonly minDistance?: number;
  /** Most candles between the two swings of a divergence. Default 60. */
  readonly maxDistance?: number;
  /** A divergence counts for this many candles, the confirming one included. Default 5. */
  readonly recentBars?: number;
  /** Swing lows (and, separately, swing highs) kept for comparison. Default 8, 2..64. */
  readonly maxSwings?: number;
}

/** The defaults of `RsiDivergenceOptions`. */
export const RSI_DIVERGENCE_DEFAULTS: Required<RsiDivergenceOptions> = {
  wing: 2,
  minDistance: 5,
  maxDistance: 60,
  recentBars: 5,
  maxSwings: 8,
};

function intOption(name: keyof RsiDivergenceOptions, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`RsiDivergenceDetector option ${name}: expected an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

/** A bounded ring of the latest swings of one kind (lows or highs): candle index, price, RSI (NaN when unknown). */
class SwingRing {
  readonly index: Float64Array;
  readonly price: Float64Array;
  readonly rsi: Float64Array;
  /** Swings ever pushed; the newest sits at (count - 1) % capacity. */
  count = 0;

  constructor(readonly capacity: number) {
    this.index = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
    this.rsi = new Float64Array(capacity);
  }

  push(index: number, price: number, rsi: number): void {
    const k = this.count % this.capacity;
    this.index[k] = index;
    this.price[k] = price;
    this.rsi[k] = rsi;
    this.count++;
  }
}

/**
 * Detects regular RSI divergences on a stream of closed candles. Feed every closed candle, in
 * order, with the RSI after it (null during the RSI's warm-up); then `bullish()` / `bearish()` say
 * whether a divergence was confirmed within the last `recentBars` candles.
 *
 * When a new swing low L is confirmed, the earlier kept swing lows P are scanned from newest to
 * oldest, up to `maxDistance` candles back: a bullish divergence is found when, for some P at least
 * `minDistance` candles before L, price(L) < price(P) and RSI(L) > RSI(P). The scan stops at the
 * first P whose price is at or below price(L): past it L is a higher low, not a lower one. So an
 * intermediate higher swing low (a small wiggle) does not hide the divergence with the low before
 * it, and an intermediate lower low prevents pairing across it. Swings whose RSI is unknown never
 * form a divergence. Swing highs and the bearish divergence are the mirror image.
 */
export class RsiDivergenceDetector {
  private readonly wing: number;
  private readonly minDistance: number;
  private readonly maxDistance: number;
  private readonly recentBars: number;
  /** Ring of the last 2 x wing + 1 candles' lows, highs and RSI (NaN when null). */
  private readonly size: number;
  private readonly lows: Float64Array;
  private readonly highs: Float64Array;
  private readonly rsis: Float64Array;
  private readonly swingLows: SwingRing;
  private readonly swingHighs: SwingRing;
  /** Candles fed so far; the latest candle's index is count - 1. */
  private count = 0;
  /** Index of the candle on which the last bullish (bearish) divergence was confirmed, -Infinity if none. */
  private bullishAt = Number.NEGATIVE_INFINITY;
  private bearishAt = Number.NEGATIVE_INFINITY;

  constructor(options: RsiDivergenceOptions = {}) {
    const o = { ...RSI_DIVERGENCE_DEFAULTS, ...options };
    this.wing = intOption('wing', o.wing, 1, 20);
    this.minDistance = intOption('minDistance', o.minDistance, 1, 10_000);
    this.maxDistance = intOption('maxDistance', o.maxDistance, this.minDistance, 10_000);
    this.recentBars = intOption('recentBars', o.recentBars, 1, 10_000);
    const maxSwings = intOption('maxSwings', o.maxSwings, 2, 64);
    this.size = 2 * this.wing + 1;
    this.lows = new Float64Array(this.size);
    this.highs = new Float64Array(this.size);
    this.rsis = new Float64Array(this.size);
    this.swingLows = new SwingRing(maxSwings);
    this.swingHighs = new SwingRing(maxSwings);
  }

  /** Feeds one closed candle and the RSI after it (null or NaN while the RSI is warming up). */
  update(candle: Candle, rsi: number | null): void {
    const n = this.count;
    const slot = n % this.size;
    this.lows[slot] = candle.low;
    this.highs[slot] = candle.high;
    this.rsis[slot] = rsi ?? Number.NaN;
    this.count = n + 1;
    const w = this.wing;
    if (n < 2 * w) return;
    // The candle `w` back now has both wings closed: decide whether it is a swing.
    const center = n - w;
    const cSlot = center % this.size;
    const cLow = this.lows[cSlot] as number;
    const cHigh = this.highs[cSlot] as number;
    let isLow = cLow === cLow; // false for NaN
    let isHigh = cHigh === cHigh;
    for (let i = center - w; i <= n && (isLow || isHigh); i++) {
      if (i === center) continue;
      const s = i % this.size;
      const low = this.lows[s] as number;
      const high = this.highs[s] as number;
      if (i < center) {
        if (!(cLow < low)) isLow = false;
        if (!(cHigh > high)) isHigh = false;
      } else {
        if (!(cLow <= low)) isLow = false;
        if (!(cHigh >= high)) isHigh = false;
      }
    }
    const cRsi = this.rsis[cSlot] as number;
    if (isLow) {
      if (this.diverges(this.swingLows, center, cLow, cRsi, -1)) this.bullishAt = n;
      this.swingLows.push(center, cLow, cRsi);
    }
    if (isHigh) {
      if (this.diverges(this.swingHighs, center, cHigh, cRsi, 1)) this.bearishAt = n;
      this.swingHighs.push(center, cHigh, cRsi);
    }
  }

  /**
   * Whether the new swing (index, price, rsi) diverges from an earlier kept swing of the ring.
   * `sign` is -1 for lows (price lower, RSI higher) and +1 for highs (price higher, RSI lower);
   * multiplying by it turns both into "price beyond, RSI not beyond".
   */
  private diverges(ring: SwingRing, index: number, price: number, rsi: number, sign: -1 | 1): boolean {
    if (rsi !== rsi) return false;
    const kept = ring.count < ring.capacity ? ring.count : ring.capacity;
    for (let back = 1; back <= kept; back++) {
      const k = (ring.count - back) % ring.capacity;
      const distance = index - (ring.index[k] as number);
      if (distance > this.maxDistance) return false;
      const p = ring.price[k] as number;
      // The new swing must go beyond every swing in between; one at or beyond it ends the scan.
      if (!(sign * price > sign * p)) return false;
      if (distance >= this.minDistance && sign * rsi < sign * (ring.rsi[k] as number)) return true;
    }
    return false;
  }

  /** True when a bullish divergence was confirmed on one of the last `recentBars` candles fed. */
  bullish(): boolean {
    return this.count - 1 - this.bullishAt < this.recentBars;
  }

  /** True when a bearish divergence was confirmed on one of the last `recentBars` candles fed. */
  bearish(): boolean {
    return this.count - 1 - this.bearishAt < this.recentBars;
  }
}
