/**
 * Fibonacci retracements of the window's swing.
 *
 * The *swing* is the move between the window's highest high and lowest low. After an up-swing
 * (the high came after the low) traders watch for pull-backs to `high - r * (high - low)`; after a
 * down-swing for bounces to `low + r * (high - low)`, for the ratios r (0.236, 0.382, 0.5, 0.618,
 * 0.786 by default).
 */

/** The window's swing. Indices are positions in the window, 0 = oldest. */
export interface Swing {
  readonly high: number;
  readonly low: number;
  readonly highIndex: number;
  readonly lowIndex: number;
  /** True when the move ended at the high (the high came after the low). */
  readonly up: boolean;
}

/**
 * Finds the swing of `n` candles. When the extreme price occurs more than once the LATEST
 * occurrence counts (the most recent test of the extreme is where the move ended). When the
 * high and low are the same candle, the swing is up if that candle closed in its upper half.
 * Returns null for an empty or flat window.
 *
 * The arrays may be a full ring buffer: with `start` > 0, the oldest candle is at `start` and
 * the order wraps around the end (so `n` must then be the arrays' length). Returned indices are
 * chronological positions (0 = oldest) either way.
 */
export function findSwing(high: ArrayLike<number>, low: ArrayLike<number>, close: ArrayLike<number>, n: number, start = 0): Swing | null {
  if (n <= 0) return null;
  let hi = -Infinity;
  let lo = Infinity;
  let hiIdx = -1;
  let loIdx = -1;
  let slot = start;
  for (let i = 0; i < n; i++) {
    const h = high[slot] as number;
    const l = low[slot] as number;
    if (h >= hi) {
      hi = h;
      hiIdx = i;
    }
    if (l <= lo) {
      lo = l;
      loIdx = i;
    }
    slot = slot + 1 === n ? 0 : slot + 1;
  }
  if (!(hi > lo)) return null;
  let up = hiIdx > loIdx;
  if (hiIdx === loIdx) {
    const s = (start + hiIdx) % n;
    up = (close[s] as number) >= (hi + lo) / 2;
  }
  return { high: hi, low: lo, highIndex: hiIdx, lowIndex: loIdx, up };
}

/** Retracement prices of a swing, one per ratio, in the order of `ratios`. */
export function fibRetracements(swing: Pick<Swing, 'high' | 'low' | 'up'>, ratios: readonly number[]): number[] {
  const range = swing.high - swing.low;
  return ratios.map((r) => (swing.up ? swing.high - r * range : swing.low + r * range));
}
