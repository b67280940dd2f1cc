import { describe, it, expect } from 'vitest';
import { DataValidationError } from '../../services/core/errors.js';
import { parseCandleCsv, parseIsoUtc, parseTimestamp, strictNumber } from '../../services/candles/index.js';

const H = 'open_time,open,high,low,close,volume';
// 2021-03-26T03:00:00Z, the first open time of the real 2021 BTCUSDT file.
const T0 = 1616727600000;
const M = 60_000;

/** Parses strictly and returns the error thrown (fails the test if nothing is thrown). */
function strictError(text: string): DataValidationError {
  try {
    parseCandleCsv(text, { source: 't.csv' });
  } catch (err) {
    expect(err).toBeInstanceOf(DataValidationError);
    return err as DataValidationError;
  }
  throw new Error('expected parseCandleCsv to throw');
}

describe('parseCandleCsv: strict validation, one rule at a time', () => {
  // Each case: a header, one good row (line 2), then the bad row on line 3.
  const good = `${T0},1,2,0.5,1.5,10`;
  const cases: Array<[string, string, string]> = [
    ['wrong column count', `${T0 + M},1,2,0.5,1.5`, 't.csv:3: 5 columns (expected 6: open_time,open,high,low,close,volume)'],
    ['too many columns', `${T0 + M},1,2,0.5,1.5,10,99`, 't.csv:3: 7 columns (expected 6: open_time,open,high,low,close,volume)'],
    ['non-numeric price', `${T0 + M},abc,2,0.5,1.5,10`, 't.csv:3: open "abc" is not a finite number (expected a decimal number such as 51696.7)'],
    ['NaN', `${T0 + M},1,NaN,0.5,1.5,10`, 't.csv:3: high "NaN" is not a finite number (expected a decimal number such as 51696.7)'],
    ['Infinity', `${T0 + M},1,2,Infinity,1.5,10`, 't.csv:3: low "Infinity" is not a finite number (expected a decimal number such as 51696.7)'],
    ['overflow to Infinity', `${T0 + M},1,2,0.5,1e999,10`, 't.csv:3: close "1e999" is not a finite number (expected a decimal number such as 51696.7)'],
    ['empty field', `${T0 + M},1,2,0.5,1.5,`, 't.csv:3: volume "" is not a finite number (expected a decimal number such as 51696.7)'],
    ['hex literal', `${T0 + M},0x10,2,0.5,1.5,10`, 't.csv:3: open "0x10" is not a finite number (expected a decimal number such as 51696.7)'],
    ['negative price', `${T0 + M},-1,2,0.5,1.5,10`, 't.csv:3: open -1 is negative (expected a price > 0)'],
    ['negative volume', `${T0 + M},1,2,0.5,1.5,-3`, 't.csv:3: volume -3 is negative (expected volume >= 0)'],
    ['zero price', `${T0 + M},1,2,0.5,0,10`, 't.csv:3: close is 0 (expected a price > 0)'],
    // high 0.9 < low 1.1: reported as such, not as "high below open".
    ['high < low', `${T0 + M},1,0.9,1.1,1,10`, 't.csv:3: high 0.9 is below low 1.1 (expected high >= low)'],
    // max(open 1, close 2) = 2 > high 1.5
    ['high < max(open, close)', `${T0 + M},1,1.5,0.5,2,10`, 't.csv:3: high 1.5 is below max(open, close) 2 (expected high >= open and high >= close)'],
    // min(open 1, close 1.5) = 1 < low 1.2
    ['low > min(open, close)', `${T0 + M},1,2,1.2,1.5,10`, 't.csv:3: low 1.2 is above min(open, close) 1 (expected low <= open and low <= close)'],
    ['bad timestamp', `yesterday,1,2,0.5,1.5,10`, 't.csv:3: open_time "yesterday" is not a timestamp (expected epoch ms, epoch seconds or ISO-8601 such as 2021-03-26T03:00:00Z)'],
    ['impossible date', `2021-02-30T00:00:00Z,1,2,0.5,1.5,10`, 't.csv:3: open_time "2021-02-30T00:00:00Z" is not a timestamp (expected epoch ms, epoch seconds or ISO-8601 such as 2021-03-26T03:00:00Z)'],
  ];
  for (const [name, row, message] of cases) {
    it(`rejects ${name} with a one-line message naming file and line`, () => {
      const err = strictError(`${H}\n${good}\n${row}\n`);
      expect(err.message).toBe(message);
      expect(err.message).not.toContain('\n');
    });
  }

  it('uses the header names of the file in messages', () => {
    const err = strictError(`Timestamp,Open,High,Low,Close,Volume\n${T0},1,2,0.5,abc,1\n`);
    expect(err.message).toBe('t.csv:2: Close "abc" is not a finite number (expected a decimal number such as 51696.7)');
  });

  it('counts physical lines, blank lines included, and handles CRLF', () => {
    const err = strictError(`${H}\r\n${good}\r\n\r\n${T0 + M},1,2,0.5,1.5,-1\r\n`);
    expect(err.message.startsWith('t.csv:4: volume -1 is negative')).toBe(true);
  });

  it('accepts a zero volume (a bar with no trades) and a zero-volume-only file', () => {
    const { candles, report } = parseCandleCsv(`${H}\n${T0},1,1,1,1,0\n`, { source: 't.csv' });
    expect(candles).toEqual([{ openTime: T0, open: 1, high: 1, low: 1, close: 1, volume: 0 }]);
    expect(report.zeroVolumeBars).toBe(1);
    expect(report.intervalMs).toBeNull(); // one candle: no step to infer from
  });
});

describe('parseCandleCsv: empty input', () => {
  it('throws for an empty file, a blank file and a header-only file, even in repair mode', () => {
    for (const text of ['', '\n\n  \n', `${H}\n`, `${H}\r\n\r\n`]) {
      expect(() => parseCandleCsv(text, { source: 'e.csv', repair: true })).toThrow(DataValidationError);
      expect(() => parseCandleCsv(text, { source: 'e.csv', repair: true })).toThrow(/^e\.csv: no data rows/);
    }
  });

  it('throws when repair drops every row', () => {
    const text = `${H}\n${T0},1,2,0.5,1.5,-1\n${T0 + M},0,0,0,0,1\n`;
    expect(() => parseCandleCsv(text, { source: 'e.csv', repair: true })).toThrow('e.csv: no valid candles: all 2 data rows were dropped (negative 1, zeroPrice 1)');
  });
});

describe('parseCandleCsv: repair mode counts', () => {
  // Line numbers on the left; expected effect on the right.
  const text = [
    H, //                                  1 header
    `${T0},10,12,9,11,1`, //               2 A, kept
    `${T0 + 2 * M},11,13,10,12,2`, //      3 C, kept
    `${T0 + M},12,14,11,13,3`, //          4 B, kept; 60000 < 120000 seen before: reordered #1
    `${T0 + M},99,99,99,99,99`, //         5 B' same time as B: reordered #2, duplicate #1 (B, first in file, wins)
    `${T0 + 3 * M},1,2,0.5`, //            6 columnCount
    `not-a-time,1,2,0.5,1.5,1`, //         7 badTime
    `${T0 + 3 * M},NaN,2,0.5,1.5,1`, //    8 nonNumeric
    `${T0 + 3 * M},1,Infinity,0.5,1,1`, // 9 nonNumeric
    `${T0 + 3 * M},1,2,0.5,1.5,-1`, //     10 negative
    `${T0 + 3 * M},0,2,0.5,1.5,1`, //      11 zeroPrice
    `${T0 + 3 * M},1,0.9,1.1,1,1`, //      12 highBelowLow
    `${T0 + 3 * M},1,1.5,0.5,2,1`, //      13 highBelowOpenClose
    `${T0 + 3 * M},1,2,1.2,1.5,1`, //      14 lowAboveOpenClose
    `${T0 + 5 * M},20,21,19,20,0`, //      15 E, kept, zero volume; after C (T0+2M) bars T0+3M and T0+4M are missing
    ``, //                                 16 blank, not a row
    `${T0 + 2 * M},11,13,10,12,2`, //      17 C again: reordered #3 (120000 < 300000), duplicate #2
  ].join('\n');

  it('drops bad rows by reason, sorts, de-duplicates and reports', () => {
    const { candles, report } = parseCandleCsv(text, { source: 'r.csv', repair: true });
    // Rows: lines 2-15 and 17 = 15 data rows. Dropped: lines 6-14 = 9. Valid: 6, minus 2 duplicates = 4.
    expect(report).toEqual({
      source: 'r.csv',
      rows: 15,
      candles: 4,
      dropped: {
        columnCount: 1,
        badTime: 1,
        nonNumeric: 2,
        negative: 1,
        zeroPrice: 1,
        outOfRange: 0,
        highBelowLow: 1,
        highBelowOpenClose: 1,
        lowAboveOpenClose: 1,
        strayTime: 0,
      },
      droppedTotal: 9,
      duplicates: 2,
      reordered: 3,
      // Steps between kept candles: 60000, 60000, 180000 -> interval 60000; one gap of 2 bars.
      gaps: 1,
      missingBars: 2,
      zeroVolumeBars: 1,
      firstOpenTime: T0,
      lastOpenTime: T0 + 5 * M,
      intervalMs: 60000,
    });
    expect(candles.map((c) => c.openTime)).toEqual([T0, T0 + M, T0 + 2 * M, T0 + 5 * M]);
    // The first B (line 4) is kept, not B' (line 5).
    expect(candles[1]).toEqual({ openTime: T0 + M, open: 12, high: 14, low: 11, close: 13, volume: 3 });
  });

  it('strict mode stops at the first bad row (line 6)', () => {
    expect(() => parseCandleCsv(text, { source: 'r.csv' })).toThrow('r.csv:6: 4 columns (expected 6: open_time,open,high,low,close,volume)');
  });

  it('strict mode still sorts and de-duplicates valid rows', () => {
    const { candles, report } = parseCandleCsv(`${H}\n${T0 + M},2,2,2,2,1\n${T0},1,1,1,1,1\n${T0},5,5,5,5,5\n`, { source: 's.csv' });
    expect(candles.map((c) => c.open)).toEqual([1, 2]);
    // line 3 (T0) after T0+M: reordered; line 4 (T0) too, and it repeats line 3's time: duplicate.
    expect(report.reordered).toBe(2);
    expect(report.duplicates).toBe(1);
  });

  it('uses a given interval instead of inferring one', () => {
    // With a 30 s interval each of the two 60 s steps hides one missing bar and the 180 s step
    // hides 180/30 - 1 = 5: 3 gaps, 1 + 1 + 5 = 7 missing bars.
    const { report } = parseCandleCsv(text, { source: 'r.csv', repair: true, intervalMs: 30_000 });
    expect(report.gaps).toBe(3);
    expect(report.missingBars).toBe(1 + 1 + 5);
  });
});

describe('parseCandleCsv: headers and timestamp formats', () => {
  it('accepts no header', () => {
    const { candles } = parseCandleCsv(`${T0},1,2,0.5,1.5,10\n${T0 + M},1.5,2,1,1,3\n`, { source: 'n.csv' });
    expect(candles).toEqual([
      { openTime: T0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
      { openTime: T0 + M, open: 1.5, high: 2, low: 1, close: 1, volume: 3 },
    ]);
  });

  it('finds columns by name in any order, ignores extra columns and case, strips a BOM', () => {
    const text = `\uFEFFVolume,Close,Low,High,Open,Time,trades\n10,1.5,0.5,2,1,${T0},42\n`;
    const { candles } = parseCandleCsv(text, { source: 'h.csv' });
    expect(candles).toEqual([{ openTime: T0, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }]);
  });

  it('rejects a header without a required column', () => {
    expect(() => parseCandleCsv(`timestamp,open,high,low,close\n${T0},1,2,0.5,1.5\n`, { source: 'h.csv' })).toThrow(
      'h.csv:1: header "timestamp,open,high,low,close" has no volume column (expected volume; full header open_time,open,high,low,close,volume)',
    );
  });

  it('reads a headerless first row with a broken time as a bad row, not as a header', () => {
    expect(() => parseCandleCsv(`garbage,1,2,0.5,1.5,10\n`, { source: 'h.csv' })).toThrow('h.csv:1: open_time "garbage" is not a timestamp');
  });

  it('reads ISO-8601 times as UTC, with or without a zone', () => {
    const text = [
      `time,open,high,low,close,volume`,
      `2021-03-26T03:00:00Z,1,1,1,1,1`, // T0
      `2021-03-26T03:01:00.000+00:00,1,1,1,1,1`, // T0 + 1 min
      `2021-03-26 05:02:00+02:00,1,1,1,1,1`, // 05:02 at UTC+2 is 03:02Z: T0 + 2 min
      `2021-03-26T03:03:00,1,1,1,1,1`, // no zone: UTC, T0 + 3 min
      `2021-03-25T22:04:00-0500,1,1,1,1,1`, // 22:04 at UTC-5 is 03:04Z next day: T0 + 4 min
    ].join('\n');
    const { candles } = parseCandleCsv(text, { source: 'iso.csv' });
    expect(candles.map((c) => c.openTime)).toEqual([T0, T0 + M, T0 + 2 * M, T0 + 3 * M, T0 + 4 * M]);
  });

  it('tells epoch seconds, milliseconds and microseconds apart by magnitude', () => {
    const text = `1616727600,1,1,1,1,1\n${T0 + M},1,1,1,1,1\n${(T0 + 2 * M) * 1000},1,1,1,1,1\n`;
    const { candles } = parseCandleCsv(text, { source: 'e.csv' });
    expect(candles.map((c) => c.openTime)).toEqual([T0, T0 + M, T0 + 2 * M]);
  });

  it('exposes the timestamp and number helpers', () => {
    expect(parseTimestamp('1616727600')).toBe(T0);
    expect(parseTimestamp('-5')).toBeNaN();
    expect(parseIsoUtc('2021-03-26')).toBe(Date.UTC(2021, 2, 26));
    expect(parseIsoUtc('2021-13-01T00:00:00Z')).toBeNaN();
    expect(parseIsoUtc('2021-03-26T24:00:00Z')).toBeNaN();
    expect(strictNumber('1e-7')).toBe(1e-7);
    expect(strictNumber(' ')).toBeNaN();
    expect(strictNumber('12abc')).toBeNaN();
  });

  it('parses tiny prices exactly as Number() does (PEPE trades below 0.00001)', () => {
    const text = `${T0},0.000003748,0.00000375,0.000003748,0.00000375,816699244\n`;
    const [c] = parseCandleCsv(text, { source: 'p.csv' }).candles;
    expect(c).toEqual({ openTime: T0, open: Number('0.000003748'), high: Number('0.00000375'), low: Number('0.000003748'), close: Number('0.00000375'), volume: 816699244 });
  });
});

describe('parseCandleCsv: speed', () => {
  it('parses 50,000 rows in well under 100 ms', () => {
    const lines = [H];
    let p = 50_000;
    for (let i = 0; i < 50_000; i++) {
      // A deterministic zig-zag; prices with two decimals like real BTC rows.
      const o = p;
      p = o + ((i % 7) - 3) * 1.25;
      lines.push(`${T0 + i * M},${o.toFixed(2)},${(Math.max(o, p) + 2).toFixed(2)},${(Math.min(o, p) - 2).toFixed(2)},${p.toFixed(2)},${(i % 13) + 0.123456}`);
    }
    const text = lines.join('\r\n');
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      const { report } = parseCandleCsv(text, { source: 'big.csv' });
      best = Math.min(best, performance.now() - t);
      expect(report.candles).toBe(50_000);
    }
    expect(best).toBeLessThan(100);
  });
});
