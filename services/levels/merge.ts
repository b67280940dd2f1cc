/**
 * Merging of level candidates that sit at nearly the same price.
 *
 * Candidates are sorted by price and grouped: a candidate joins the current group while it is
 * within `tolerancePct` percent of the group's LOWEST price (its anchor), so no merged level
 * spans more than the tolerance. (Chaining on consecutive gaps instead would let a dense cluster
 * of candidates in a quiet market collapse a whole 0.5% range into a single level.)
 *
 * A merged level's price is the touch-weighted mean of its candidates (the plain mean when none
 * has touches), its sources the union, and its touches the MAXIMUM of the candidates' counts:
 * recounting at the mean price could drop the touches of candidates at the group's edges, and
 * summing would count the same candles twice.
 */
import type { LevelCandidate } from './types.js';

/** Merges candidates closer than `tolerancePct` percent; the result is sorted by price. */
export function mergeCandidates(candidates: readonly LevelCandidate[], tolerancePct: number): LevelCandidate[] {
  const sorted = candidates.slice().sort((a, b) => a.price - b.price);
  const m = sorted.length;
  const price = new Float64Array(m);
  const mask = new Int32Array(m);
  const touches = new Float64Array(m);
  sorted.forEach((c, k) => {
    price[k] = c.price;
    mask[k] = c.sourceMask;
    touches[k] = c.touches;
  });
  return mergeSorted(price, mask, touches, m, tolerancePct);
}

/**
 * `mergeCandidates` over parallel arrays already sorted by price (the first `m` entries): the
 * allocation-light form the tracker uses.
 */
export function mergeSorted(
  price: ArrayLike<number>,
  mask: ArrayLike<number>,
  touches: ArrayLike<number>,
  m: number,
  tolerancePct: number,
): LevelCandidate[] {
  const tol = tolerancePct / 100;
  const out: LevelCandidate[] = [];
  let i = 0;
  while (i < m) {
    const anchor = price[i] as number;
    const limit = anchor + Math.abs(anchor) * tol;
    // Means are taken of the offsets from the anchor: exact for a group of one, and no
    // precision is lost to the magnitude of the price.
    let weighted = 0;
    let weights = 0;
    let plain = 0;
    let bits = 0;
    let best = 0;
    let j = i;
    for (; j < m; j++) {
      const p = price[j] as number;
      if (j > i && !(p < limit)) break;
      const t = touches[j] as number;
      weighted += t * (p - anchor);
      weights += t;
      plain += p - anchor;
      bits |= mask[j] as number;
      if (t > best) best = t;
    }
    out.push({ price: anchor + (weights > 0 ? weighted / weights : plain / (j - i)), sourceMask: bits, touches: best });
    i = j;
  }
  return out;
}
