/**
 * Gaps in a candle series and the series' bar interval.
 *
 * A gap is a stretch of time where the exchange published no candle (an outage or maintenance:
 * Binance had several multi-hour ones in 2021). Gaps are reported, never filled: a synthetic
 * candle would be a price nobody traded at, and indicators would treat it as real.
 */
import type { Candle } from '../core/types.js';

/** One gap: bars with open times in `[from, to)` are missing. */
export interface Gap {
  /** Open time of the first missing bar (the last candle before the gap plus one interval). */
  readonly from: number;
  /** Open time of the first candle after the gap (exclusive end of the missing range). */
  readonly to: number;
  /** Number of missing bars, `(to - from) / intervalMs`, rounded for misaligned data. */
  readonly missingBars: number;
}

/**
 * Lists the gaps of a series sorted by open time: every place where two consecutive candles are
 * more than one interval apart. A step that is not a whole number of intervals is rounded to the
 * nearest (a step of 1.4 intervals is no gap, 2 intervals is one missing bar).
 */
export function detectGaps(candles: readonly Candle[], intervalMs: number): Gap[] {
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${intervalMs}`);
  const gaps: Gap[] = [];
  for (let i = 1; i < candles.length; i++) {
    const prev = candles[i - 1]!.openTime;
    const next = candles[i]!.openTime;
    const missingBars = Math.round((next - prev) / intervalMs) - 1;
    if (missingBars >= 1) gaps.push({ from: prev + intervalMs, to: next, missingBars });
  }
  return gaps;
}

/**
 * The bar interval of a sorted series: the most frequent step between consecutive open times
 * (ties go to the smaller step). Gaps and a few misaligned bars do not change it. Null when the
 * series has fewer than two candles.
 */
export function inferIntervalMs(candles: readonly Candle[]): number | null {
  if (candles.length < 2) return null;
  const counts = new Map<number, number>();
  // Almost every step is the same, so remember it and only touch the map for other steps.
  const common = candles[1]!.openTime - candles[0]!.openTime;
  let commonCount = 0;
  for (let i = 1; i < candles.length; i++) {
    const step = candles[i]!.openTime - candles[i - 1]!.openTime;
    if (step === common) commonCount++;
    else if (step > 0) counts.set(step, (counts.get(step) ?? 0) + 1);
  }
  counts.set(common, commonCount);
  let best = -1;
  let bestCount = 0;
  for (const [step, n] of counts) {
    if (step <= 0) continue;
    if (n > bestCount || (n === bestCount && step < best)) {
      best = step;
      bestCount = n;
    }
  }
  return best > 0 ? best : null;
}
