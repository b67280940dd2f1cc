/**
 * Downsampling of a time series for charts. Plain decimation (every k-th point) would hide a
 * short, deep drawdown; instead the series is cut into buckets and each bucket keeps its minimum
 * and its maximum (in time order), so every extreme survives. O(n).
 */

/** A chart sample. */
export interface XY {
  readonly x: number;
  readonly y: number;
}

/**
 * At most `maxPoints` (>= 4) points of `points`: the first and last points, and the minimum and
 * maximum of each of floor((maxPoints - 2) / 2) equal-count buckets over the points between them.
 * A series that already fits is returned as is (same array).
 */
export function downsampleMinMax<T extends XY>(points: readonly T[], maxPoints: number): readonly T[] {
  const n = points.length;
  if (n <= maxPoints) return points;
  if (!(maxPoints >= 4)) throw new RangeError(`downsampleMinMax: maxPoints must be >= 4, got ${maxPoints}`);
  const buckets = Math.floor((maxPoints - 2) / 2);
  const inner = n - 2;
  const out: T[] = [points[0]!];
  for (let b = 0; b < buckets; b++) {
    const from = 1 + Math.floor((b * inner) / buckets);
    const to = 1 + Math.floor(((b + 1) * inner) / buckets);
    if (to <= from) continue;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      const y = points[i]!.y;
      if (y < points[lo]!.y) lo = i;
      if (y > points[hi]!.y) hi = i;
    }
    if (lo === hi) out.push(points[lo]!);
    else if (lo < hi) out.push(points[lo]!, points[hi]!);
    else out.push(points[hi]!, points[lo]!);
  }
  out.push(points[n - 1]!);
  return out;
}
