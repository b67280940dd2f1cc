/** Exposure: the share of the run's time during which at least one position was open. */

import type { ClosedTrade } from './types.js';

/**
 * Milliseconds of [start, end] covered by the union of the trades' [entryTime, exitTime]
 * intervals: overlapping positions (several symbols at once) are counted once.
 * O(n log n) for the sort; called once per report.
 */
export function exposedMs(trades: readonly ClosedTrade[], start: number, end: number): number {
  const iv: [number, number][] = [];
  for (const t of trades) {
    const a = Math.max(t.entryTime, start);
    const b = Math.min(t.exitTime, end);
    if (b > a) iv.push([a, b]);
  }
  iv.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curA = 0;
  let curB = -Infinity;
  for (const [a, b] of iv) {
    if (a > curB) {
      if (curB > curA) total += curB - curA;
      curA = a;
      curB = b;
    } else if (b > curB) curB = b;
  }
  if (curB > curA) total += curB - curA;
  return total;
}

/** Percent of [start, end] with at least one position open; null when the span is empty. */
export function exposurePct(trades: readonly ClosedTrade[], start: number, end: number): number | null {
  if (!(end > start)) return null;
  return (exposedMs(trades, start, end) / (end - start)) * 100;
}
