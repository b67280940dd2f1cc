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
 * the first `m` prices, which must be sorted ascending. `out` is a caller-owned scratch buffer
 * of at least `m + 1` entries.
 *
 * The levels one candle touches form a contiguous run [from, to) of the sorted prices (those with
 * p * (1 + t) >= low and p * (1 - t) <= high, both monotone in p), so each candle adds one run to
 * a difference array. The run's ends are found by walking from the previous candle's ends:
 * consecutive candles sit at nearly the same price, so that is a step or two, O(n + m) overall
 * in practice (never worse than O(n * m)). The comparisons are the very expressions of
 * `countTouches`, so both agree exactly at the edges.
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
  let from = 0; // first k with prices[k] * up >= low
  let to = 0; // first k with prices[k] * down > high
  for (let i = 0; i < n; i++) {
    const l = low[i] as number;
    const h = high[i] as number;
    while (from > 0 && (prices[from - 1] as number) * up >= l) from--;
    while (from < m && (prices[from] as number) * up < l) from++;
    while (to > 0 && (prices[to - 1] as number) * down > h) to--;
    while (to < m && (prices[to] as number) * down <= h) to++;
    if (to > from) {
      out[from] = (out[from] as number) + 1;
      out[to] = (out[to] as number) - 1;
    }
  }
  let run = 0;
  for (let k = 0; k < m; k++) {
    run += out[k] as number;
    out[k] = run;
  }
}
