import { describe, it, expect } from 'vitest';
import { createProgress, formatEta } from '../../services/report/index.js';

function fakeClock(start = 0): { now: () => number; set: (t: number) => void } {
  let t = start;
  return { now: () => t, set: (x) => (t = x) };
}

describe('createProgress', () => {
  it('writes at most one line per interval and a final line', () => {
    const clock = fakeClock(0);
    const lines: string[] = [];
    const p = createProgress({ total: 1000, label: 'backtest', write: (l) => lines.push(l), now: clock.now, intervalMs: 1000 });
    clock.set(500);
    p.update(100); // 500 ms since start < 1000: silent
    expect(lines).toHaveLength(0);
    clock.set(1000);
    p.update(300); // 300 in 1 s = 300 c/s; 700 left / 300 = 2.33 s -> rounded up to 3s
    clock.set(1500);
    p.update(500); // 500 ms since the last line: silent
    clock.set(2000);
    p.update(800); // 800 in 2 s = 400 c/s; 200 / 400 = 0.5 s -> 1s
    clock.set(2500);
    p.done(1000); // 1000 in 2.5 s = 400 c/s
    p.done(); // idempotent
    p.update(1000); // after done: silent
    expect(lines).toEqual([
      'backtest  30.0%  300/1,000 candles  300 c/s  eta 3s',
      'backtest  80.0%  800/1,000 candles  400 c/s  eta 1s',
      'backtest  100.0%  1,000/1,000 candles  400 c/s  done in 2.5s',
    ]);
  });

  it('groups thousands in large counts', () => {
    const clock = fakeClock(10_000);
    const lines: string[] = [];
    const p = createProgress({ total: 2_940_000, label: 'backtest', write: (l) => lines.push(l), now: clock.now, intervalMs: 1000 });
    clock.set(11_000);
    p.update(1_234_567);
    // 1,234,567 / 2,940,000 = 41.99 % -> 42.0%; rate 1,234,567 c/s; (2,940,000 - 1,234,567) / 1,234,567 = 1.38 s -> 2s
    expect(lines).toEqual(['backtest  42.0%  1,234,567/2,940,000 candles  1,234,567 c/s  eta 2s']);
  });

  it('omits percent and eta when the total is unknown', () => {
    const clock = fakeClock(0);
    const lines: string[] = [];
    const p = createProgress({ total: 0, label: 'load', unit: 'rows', rateUnit: 'rows/s', write: (l) => lines.push(l), now: clock.now, intervalMs: 200 });
    clock.set(200);
    p.update(50); // 50 rows in 0.2 s = 250 rows/s
    clock.set(400);
    p.done(); // last count 50 over 0.4 s = 125 rows/s
    expect(lines).toEqual(['load  50 rows  250 rows/s', 'load  50 rows  125 rows/s  done in 0.4s']);
  });
});

describe('formatEta', () => {
  it('formats seconds, minutes and hours', () => {
    expect(formatEta(0.2)).toBe('1s');
    expect(formatEta(65)).toBe('1m05s');
    expect(formatEta(3725)).toBe('1h02m'); // 62 min 5 s
    expect(formatEta(Infinity)).toBe('?');
  });
});
