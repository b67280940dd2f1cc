/**
 * Report periods and their UTC boundaries. Every period is a half-open interval [start, end) of
 * epoch ms; days start at 00:00 UTC, ISO weeks on Monday 00:00 UTC, months on the 1st 00:00 UTC.
 * Pure arithmetic: the caller passes the time.
 */
import { DataValidationError } from '../core/errors.js';
import { DAY_MS, isoWeekStart, utcDayStart } from '../risk/calendar.js';

export const REPORT_PERIODS = ['daily', 'weekly', 'monthly'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

/** One report period. */
export interface PeriodWindow {
  readonly period: ReportPeriod;
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive. */
  readonly end: number;
  /** The first day, yyyy-mm-dd: the archive key (`reports/<period>/<key>.html`). */
  readonly key: string;
  /** For people: "2025-03-03 (UTC day)", "ISO week 2025-W10 (Mon 2025-03-03 to Sun 2025-03-09, UTC)", "2025-03 (UTC month)". */
  readonly label: string;
  /** The UTC days covered, oldest first. */
  readonly days: readonly string[];
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** yyyy-mm-dd of a UTC time. */
export function dayOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

/** Epoch ms of 00:00 UTC of a yyyy-mm-dd day; DataValidationError when it is not a real day. */
export function parseDay(day: string): number {
  const t = Date.parse(`${day}T00:00:00Z`);
  if (!DAY_RE.test(day) || Number.isNaN(t) || dayOf(t) !== day) throw new DataValidationError(`expected a UTC day as yyyy-mm-dd, got "${day}"`);
  return t;
}

function isoWeekLabel(monday: number): string {
  // The ISO week-numbering year is the year of the week's Thursday.
  const thursday = monday + 3 * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week = Math.round((monday - isoWeekStart(jan4)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The period of kind `period` that contains `time`. */
export function periodContaining(period: ReportPeriod, time: number): PeriodWindow {
  let start: number;
  let end: number;
  let label: string;
  if (period === 'daily') {
    start = utcDayStart(time);
    end = start + DAY_MS;
    label = `${dayOf(start)} (UTC day)`;
  } else if (period === 'weekly') {
    start = isoWeekStart(time);
    end = start + 7 * DAY_MS;
    label = `ISO week ${isoWeekLabel(start)} (Mon ${dayOf(start)} to Sun ${dayOf(end - DAY_MS)}, UTC)`;
  } else {
    const d = new Date(time);
    start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    label = `${dayOf(start).slice(0, 7)} (UTC month)`;
  }
  const days: string[] = [];
  for (let t = start; t < end; t += DAY_MS) days.push(dayOf(t));
  return { period, start, end, key: dayOf(start), label, days };
}

/** The period given by a day inside it (`--date`), or the last complete one before `now`. */
export function reportWindow(period: ReportPeriod, date: string | undefined, now: number): PeriodWindow {
  if (date !== undefined) return periodContaining(period, parseDay(date));
  const current = periodContaining(period, now);
  return periodContaining(period, current.start - 1);
}

/** The UTC year [start, end). */
export function yearWindow(year: number): { start: number; end: number } {
  if (!Number.isInteger(year) || year < 2000 || year > 2200) throw new DataValidationError(`expected a year between 2000 and 2200, got ${year}`);
  return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
}
