/**
 * Neighbourhood scores: a trial's objective averaged with that of its nearest neighbours in the
 * search space, so that a broad plateau (good parameters whose neighbours are good too) beats a
 * sharp peak (one lucky point whose neighbours are poor): the peak is what breaks out of sample,
 * where the market is never exactly the one the parameters were fitted to.
 *
 * Distances are Euclidean in the unit cube (numbers) with a choice dimension counting 0 when equal
 * and 1 when not. A trial without a defined objective (too few trades) counts as the worst defined
 * value among the trials: an unusable neighbour is evidence of fragility, not of nothing.
 */
import type { Dimension, Point } from './tpe.js';

function distance2(dims: readonly Dimension[], a: Point, b: Point): number {
  let s = 0;
  for (let d = 0; d < dims.length; d++) {
    const x = a[d] as number;
    const y = b[d] as number;
    if ((dims[d] as Dimension).kind === 'choice') s += x === y ? 0 : 1;
    else s += (x - y) * (x - y);
  }
  return s;
}

/**
 * For each point, the mean objective of itself and its `neighbours` nearest other points (fewer
 * when there are fewer). Null objectives count as the worst defined one; all null gives nulls.
 */
export function neighbourhoodScores(dims: readonly Dimension[], points: readonly Point[], objective: readonly (number | null)[], neighbours = 4): (number | null)[] {
  const defined = objective.filter((v): v is number => v !== null);
  if (defined.length === 0) return objective.map(() => null);
  const worst = Math.min(...defined);
  const value = objective.map((v) => v ?? worst);
  const n = points.length;
  const out: (number | null)[] = new Array<number | null>(n);
  const d2 = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (objective[i] === null) {
      out[i] = null;
      continue;
    }
    for (let j = 0; j < n; j++) {
      d2[j] = j === i ? Infinity : distance2(dims, points[i] as Point, points[j] as Point);
      order[j] = j;
    }
    const k = Math.min(neighbours, n - 1);
    // Partial selection of the k nearest (k is small).
    for (let a = 0; a < k; a++) {
      let m = a;
      for (let b = a + 1; b < n; b++) if ((d2[order[b] as number] as number) < (d2[order[m] as number] as number)) m = b;
      const t = order[a] as number;
      order[a] = order[m] as number;
      order[m] = t;
    }
    let s = value[i] as number;
    for (let a = 0; a < k; a++) s += value[order[a] as number] as number;
    out[i] = s / (k + 1);
  }
  return out;
}
