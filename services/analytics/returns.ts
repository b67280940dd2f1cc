/**
 * Risk-adjusted return ratios from daily returns.
 *
 * The equity series may be sampled at any spacing, so it is first resampled to UTC day ends: the
 * equity at the instant a UTC day ends is the last sample taken at or before that instant (a sample
 * at exactly 00:00 closes the previous day). Days without samples carry the previous close forward
 * (a 0% day: crypto markets trade every day, so a quiet day is a real day). The run's last,
 * possibly partial, day ends at the last sample.
 *
 * Ratios are annualised with sqrt(365) (crypto trades all year) and use a risk-free rate of 0.
 */

import type { EquityPoint } from './types.js';
import { DAY_MS } from '../core/timeframes.js';

export { DAY_MS };
/** Trading days per year for annualisation: crypto trades every calendar day. */
export const DAYS_PER_YEAR = 365;

/**
 * Equity at the run's start followed by the equity at each UTC day end the run crosses, the last
 * one being the final sample (see the module comment). Empty for an empty series.
 * Example: samples at Jan 1 00:00 = 100, Jan 1 12:00 = 110, Jan 3 06:00 = 99 give
 * [100, 110 (Jan 1 close), 110 (Jan 2, no samples), 99 (Jan 3, partial)].
 */
export function dailyCloses(points: readonly EquityPoint[]): number[] {
  const first = points[0];
  const last = points[points.length - 1];
  if (first === undefined || last === undefined) return [];
  const closes = [first.equity];
  // Day ends strictly after the first sample, up to the first day end at or after the last sample.
  const firstEnd = Math.floor(first.time / DAY_MS) + 1;
  const lastEnd = Math.ceil(last.time / DAY_MS);
  let i = 0;
  for (let k = firstEnd; k <= lastEnd; k++) {
    const endTime = k * DAY_MS;
    while (i + 1 < points.length && points[i + 1]!.time <= endTime) i++;
    closes.push(points[i]!.equity);
  }
  return closes;
}

/** Simple daily returns (close / previous close - 1) of `dailyCloses`. A non-positive previous close gives no return. */
export function dailyReturns(points: readonly EquityPoint[]): number[] {
  const closes = dailyCloses(points);
  const out: number[] = [];
  for (let k = 1; k < closes.length; k++) {
    const prev = closes[k - 1]!;
    if (prev > 0) out.push(closes[k]! / prev - 1);
  }
  return out;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/**
 * Annualised Sharpe ratio: mean / sample standard deviation (n - 1) x sqrt(periodsPerYear),
 * risk-free rate 0. Null with fewer than 2 returns or a zero deviation (the ratio is undefined).
 */
export function sharpeRatio(returns: readonly number[], periodsPerYear: number = DAYS_PER_YEAR): number | null {
  if (returns.length < 2) return null;
  const m = mean(returns);
  let ss = 0;
  for (const r of returns) ss += (r - m) ** 2;
  const sd = Math.sqrt(ss / (returns.length - 1));
  if (!(sd > 0)) return null;
  return (m / sd) * Math.sqrt(periodsPerYear);
}

/**
 * Annualised Sortino ratio: mean / downside deviation x sqrt(periodsPerYear), target 0, where the
 * downside deviation is sqrt(sum of min(r, 0)^2 / n) over all n returns (Sortino and Price).
 * Null with fewer than 2 returns or no negative return (the ratio would be infinite).
 */
export function sortinoRatio(returns: readonly number[], periodsPerYear: number = DAYS_PER_YEAR): number | null {
  if (returns.length < 2) return null;
  let ss = 0;
  for (const r of returns) if (r < 0) ss += r * r;
  const dd = Math.sqrt(ss / returns.length);
  if (!(dd > 0)) return null;
  return (mean(returns) / dd) * Math.sqrt(periodsPerYear);
}
