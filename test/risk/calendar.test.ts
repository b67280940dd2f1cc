import { describe, it, expect } from 'vitest';
import { isoWeekStart, utcDayStart } from '../../services/risk/index.js';

describe('UTC calendar', () => {
  it('a day starts at 00:00 UTC', () => {
    expect(utcDayStart(Date.UTC(2024, 0, 1, 13, 5, 7, 9))).toBe(Date.UTC(2024, 0, 1));
    expect(utcDayStart(Date.UTC(2024, 0, 1))).toBe(Date.UTC(2024, 0, 1));
    expect(utcDayStart(Date.UTC(2024, 0, 1) - 1)).toBe(Date.UTC(2023, 11, 31));
    // Before the epoch: 1969-12-31 12:00 belongs to 1969-12-31.
    expect(utcDayStart(Date.UTC(1969, 11, 31, 12))).toBe(Date.UTC(1969, 11, 31));
  });

  it('a week starts on Monday 00:00 UTC (ISO)', () => {
    // 2024-01-01 was a Monday; 2024-01-03 a Wednesday; 2024-01-07 a Sunday.
    expect(isoWeekStart(Date.UTC(2024, 0, 1))).toBe(Date.UTC(2024, 0, 1));
    expect(isoWeekStart(Date.UTC(2024, 0, 3, 15))).toBe(Date.UTC(2024, 0, 1));
    expect(isoWeekStart(Date.UTC(2024, 0, 8) - 1)).toBe(Date.UTC(2024, 0, 1));
    expect(isoWeekStart(Date.UTC(2024, 0, 8))).toBe(Date.UTC(2024, 0, 8));
    // The epoch, Thursday 1970-01-01, is in the week of Monday 1969-12-29.
    expect(isoWeekStart(0)).toBe(Date.UTC(1969, 11, 29));
    // A week across a year end: Sunday 2025-01-05 -> Monday 2024-12-30.
    expect(isoWeekStart(Date.UTC(2025, 0, 5, 23))).toBe(Date.UTC(2024, 11, 30));
  });
});
