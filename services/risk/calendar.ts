/**
 * UTC calendar boundaries the risk limits reset on: the day (00:00 UTC), the ISO week (Monday
 * 00:00 UTC) and the month (the 1st, 00:00 UTC). Pure arithmetic on epoch milliseconds; no time
 * zones (the month uses Date.UTC arithmetic only, which has no zone either).
 */

import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';

export { DAY_MS, MINUTE_MS };
/** Milliseconds in a week. */
export const WEEK_MS = 7 * DAY_MS;
/** The epoch (1970-01-01) was a Thursday, 3 days after the Monday that starts its ISO week. */
const EPOCH_DAYS_AFTER_MONDAY = 3;

/** Non-negative remainder, so times before 1970 land in the right bucket too. */
function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/** Epoch ms of 00:00 UTC of the day containing `time`. */
export function utcDayStart(time: number): number {
  return time - mod(time, DAY_MS);
}

/** Epoch ms of Monday 00:00 UTC of the ISO week containing `time`. */
export function isoWeekStart(time: number): number {
  return time - mod(time + EPOCH_DAYS_AFTER_MONDAY * DAY_MS, WEEK_MS);
}

/** Epoch ms of the 1st of the UTC month containing `time`, 00:00 UTC. */
export function utcMonthStart(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Epoch ms of the 1st of the UTC month after the one containing `time`. */
export function nextUtcMonthStart(time: number): number {
  const d = new Date(time);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
