/** Rounding rules of the summary: money to 8 decimals, percents and ratios to 4. */

import type { Dec } from '../core/money.js';

/** Decimals kept for money figures in summary.json (the exact values are in trades.csv). */
export const MONEY_DECIMALS = 8;
/** Decimals kept for percents and ratios in summary.json. */
export const RATIO_DECIMALS = 4;

/** Rounds a float to `decimals` places (half away from zero as `toFixed` does), turning -0 into 0. */
export function roundTo(x: number, decimals: number): number {
  const r = Number(x.toFixed(decimals));
  return r === 0 ? 0 : r;
}

/** A Dec as a JSON number rounded (half to even) to 8 decimals. */
export function moneyNumber(d: Dec): number {
  const r = Number(d.toFixed(MONEY_DECIMALS));
  return r === 0 ? 0 : r;
}

/** A percent or ratio rounded to 4 decimals; null stays null. */
export function ratio(x: number | null): number | null {
  return x === null ? null : roundTo(x, RATIO_DECIMALS);
}
