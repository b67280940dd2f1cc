/**
 * Touch counting: how often the price came to a level within the lookback window.
 *
 * A candle *touches* a level at price p when its [low, high] range reaches into
 * [p * (1 - t), p * (1 + t)], with t = `tolerancePct` / 100. Each candle counts at most once, so a
 * level's touch count is the number of candles that traded at (or very near) it.
 */

/** Number of the first `n` candles whose range comes within `tolerancePct` percent of `price`. */
export function countTouches(price: number, high: ArrayLike<number>, low: ArrayLike<number>, n: number, tolerancePct: number): number {
  const t = tolerancePct / 100;
  const lower = price * (1 - t);
  const upper = price * (1 + t);
  let touches = 0;
  for (let i = 0; i < n; i++) {
    if ((low[i] as number) <= upper && (high[i] as number) >= lower) touches++;
  }
  return touches;
}

/**
 * `countTouches` for many levels at once: `out[k]` becomes the touch count of `prices[k]`, for
 * the first `m` prices, which must be sorted ascending. `out` is a caller-owned scratch buffer.
 *
 * The levels one candle touches form a contiguous run of the sorted prices (those with
 * p * (1 + t) >= low and p * (1 - t) <= high, both monotone in p), so each candle costs two
 * binary searches plus two writes to a difference array: O(n log m + m) instead of O(n * m).
 * The comparisons are the very expressions of `countTouches`, so both agree exactly at the edges.
 */
export function countTouchesSorted(
  prices: ArrayLike<number>,
  m: number,
  high: ArrayLike<number>,
  low: ArrayLike<number>,
  n: number,
  tolerancePct: number,
  out: Int32Array | Float64Array,
): void {
  const up = 1 + tolerancePct / 100;
  const down = 1 - tolerancePct / 100;
  out.fill(0, 0, m + 1);
  for (let i = 0; i < n; i++) {
    const l = low[i] as number;
    const h = high[i] as number;
    // First k with prices[k] * up >= l.
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((prices[mid] as number) * up >= l) hi = mid;
      else lo = mid + 1;
    }
    const from = lo;
    // First k with prices[k] * down > h: the run ends just before it.
    hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((prices[mid] as number) * down > h) hi = mid;
      else lo = mid + 1;
    }
    if (lo > from) {
      out[from] = (out[from] as number) + 1;
      out[lo] = (out[lo] as number) - 1;
    }
  }
  let run = 0;
  for (let k = 0; k < m; k++) {
    run += out[k] as number;
    out[k] = run;
  }
}
