/**
 * Drawdown: how far equity has fallen from its running peak (the highest equity seen so far).
 * Both functions are one pass, O(n).
 */

import type { EquityPoint } from './types.js';

/** A drawdown sample: percent below the running peak, <= 0 (0 at a new high). */
export interface DrawdownPoint {
  readonly time: number;
  readonly drawdownPct: number;
}

/**
 * Largest peak-to-trough fall of the series as a positive percent of the peak, e.g.
 * 100, 120, 90, 130, 104 gives 25 (120 -> 90). 0 for an empty or never-falling series.
 * Points before the first positive equity are ignored (a fall from a non-positive peak has no percent).
 */
export function maxDrawdownPct(points: readonly EquityPoint[]): number {
  let peak = -Infinity;
  let worst = 0;
  for (const p of points) {
    if (p.equity > peak) peak = p.equity;
    else if (peak > 0) {
      const dd = (peak - p.equity) / peak;
      if (dd > worst) worst = dd;
    }
  }
  return worst * 100;
}

/** The drawdown of every point, as a negative percent below the running peak (for the chart). */
export function drawdownSeries(points: readonly EquityPoint[]): DrawdownPoint[] {
  const out: DrawdownPoint[] = new Array<DrawdownPoint>(points.length);
  let peak = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (p.equity > peak) peak = p.equity;
    const dd = peak > 0 ? ((p.equity - peak) / peak) * 100 : 0;
    out[i] = { time: p.time, drawdownPct: dd === 0 ? 0 : dd };
  }
  return out;
}
