/** Axis helpers for the charts: "nice" value ticks and calendar-aligned UTC time ticks. */

import { DAY_MS } from '../analytics/returns.js';

/** The step among 1, 2, 2.5, 5 and 10 times a power of ten nearest to `raw` (about the same tick count asked for). */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const m = f < 1.5 ? 1 : f < 2.25 ? 2 : f < 3.5 ? 2.5 : f < 7.5 ? 5 : 10;
  return m * p;
}

/** A value axis: domain snapped outwards to multiples of `step`, and the ticks inside it. */
export interface ValueAxis {
  readonly min: number;
  readonly max: number;
  readonly step: number;
  readonly ticks: readonly number[];
  /** Decimals needed to print the ticks exactly. */
  readonly decimals: number;
}

/** About `count` nice ticks covering [lo, hi]; a flat range is widened so the axis is never empty. */
export function valueAxis(lo: number, hi: number, count: number): ValueAxis {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.01 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep((hi - lo) / Math.max(1, count));
  const min = Math.floor(lo / step + 1e-9) * step;
  const max = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(roundClean(min + k * step, step));
  let decimals = 0;
  while (decimals < 10 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  return { min, max, step, ticks, decimals };
}

/** Removes float noise such as 0.30000000000000004 from a tick. */
function roundClean(x: number, step: number): number {
  const r = Math.round(x / step) * step;
  const v = Number(r.toPrecision(12));
  return v === 0 ? 0 : v;
}

const MIN = 60_000;
const HOUR = 3_600_000;
/** Fixed-length time steps, smallest first; beyond a week, calendar months are used. */
const FIXED_STEPS = [
  MIN, 5 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS,
];
const MONTH_STEPS = [1, 2, 3, 6, 12, 24, 60, 120];
/** 1970-01-01 was a Thursday; weekly and fortnightly ticks fall on Mondays, 4 days later. */
const MONDAY_OFFSET = 4 * DAY_MS;

/** A time tick and its label. */
export interface TimeTick {
  readonly time: number;
  readonly label: string;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * At most about `maxTicks` UTC time ticks in [t0, t1], on round instants (hours, midnights,
 * Mondays, first of a month). Labels: "HH:mm" within one day, "MM-DD HH:mm" for sub-day steps
 * over several days, "YYYY-MM-DD" for day steps, "YYYY-MM" for month steps.
 */
export function timeTicks(t0: number, t1: number, maxTicks: number): TimeTick[] {
  const span = t1 - t0;
  if (!(span > 0)) return [{ time: t0, label: fmtDay(t0) }];
  const target = Math.max(1, maxTicks);
  const fixed = FIXED_STEPS.find((s) => span / s <= target);
  const ticks: TimeTick[] = [];
  if (fixed !== undefined) {
    const offset = fixed >= 7 * DAY_MS ? MONDAY_OFFSET : 0;
    const multiDay = span > DAY_MS || Math.floor(t0 / DAY_MS) !== Math.floor(t1 / DAY_MS);
    for (let t = Math.ceil((t0 - offset) / fixed) * fixed + offset; t <= t1; t += fixed) {
      const d = new Date(t);
      let label: string;
      if (fixed >= DAY_MS) label = fmtDay(t);
      else {
        const hm = `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
        label = multiDay ? `${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${hm}` : hm;
      }
      ticks.push({ time: t, label });
    }
    return ticks;
  }
  const months = MONTH_STEPS.find((m) => span / (m * 30.44 * DAY_MS) <= target) ?? MONTH_STEPS[MONTH_STEPS.length - 1]!;
  const d0 = new Date(t0);
  // Month index since year 0, rounded up to a multiple of the step so ticks fall on Jan/Apr/Jul/Oct etc.
  let idx = d0.getUTCFullYear() * 12 + d0.getUTCMonth();
  if (Date.UTC(Math.floor(idx / 12), idx % 12, 1) < t0) idx++;
  idx = Math.ceil(idx / months) * months;
  for (;;) {
    const t = Date.UTC(Math.floor(idx / 12), idx % 12, 1);
    if (t > t1) break;
    ticks.push({ time: t, label: `${Math.floor(idx / 12)}-${pad2((idx % 12) + 1)}` });
    idx += months;
  }
  return ticks;
}

function fmtDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}
