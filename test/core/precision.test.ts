/**
 * Precision inference: the tick size (price step) and lot step (quantity step) the simulated
 * exchange uses when no exchange metadata is at hand, read off the decimals of the data itself.
 */
import { describe, expect, it } from 'vitest';
import { decimalsOf, inferPrecision } from '../../services/candles/precision.js';
import type { Candle } from '../../services/core/types.js';
import { dec } from '../../services/core/money.js';

describe('decimalsOf', () => {
  it.each([
    [0.1, 1],
    [26076.01, 2],
    [100, 0],
    [0, 0],
    [-0.25, 2],
    [0.000001, 6], // prints as "0.000001"
    [1e-7, 7], // prints as "1e-7"
    [1.23e-8, 10], // "1.23e-8": 8 from the exponent + 2 mantissa decimals
    [1.2e-7, 8],
    [5e-324, 324], // the smallest double
    [1e21, 0], // prints as "1e+21"
    [1.5e21, 0], // "1.5e+21" is a whole number, not 5 decimals
  ])('decimalsOf(%d) = %d', (n, want) => {
    expect(decimalsOf(n)).toBe(want);
  });
});

/** A candle with given prices (open = high = low = close) and volume; the time is irrelevant here. */
function candle(price: number, volume: number, i = 0): Candle {
  return { openTime: i * 60_000, open: price, high: price, low: price, close: price, volume };
}

describe('inferPrecision', () => {
  it('takes the finest price decimal of any OHLC field and the finest volume decimal', () => {
    const candles: Candle[] = [
      { openTime: 0, open: 26076.1, high: 26080, low: 26070.5, close: 26075, volume: 0.5 },
      // the low has 2 decimals -> tick 0.01; the volume has 3 -> step 0.001
      { openTime: 60_000, open: 26075, high: 26079.9, low: 26074.01, close: 26078, volume: 1.125 },
      { openTime: 120_000, open: 26078, high: 26078, low: 26077, close: 26077, volume: 3 },
    ];
    const { tickSize, stepSize } = inferPrecision(candles);
    expect(tickSize.eq(dec('0.01'))).toBe(true);
    expect(stepSize.eq(dec('0.001'))).toBe(true);
  });

  it('sees a decimal that only the close carries', () => {
    const c: Candle = { openTime: 0, open: 10, high: 11, low: 9, close: 10.0005, volume: 2 };
    const { tickSize, stepSize } = inferPrecision([c]);
    expect(tickSize.toString()).toBe('0.0001');
    expect(stepSize.toString()).toBe('1');
  });

  it('handles meme-coin prices written with exponents', () => {
    // PEPE-like: 1.23e-8 has 10 decimals -> tick 1e-10; volumes are whole tokens -> step 1
    const { tickSize, stepSize } = inferPrecision([candle(1.23e-8, 12_345_678), candle(1.2e-8, 5_000_000, 1)]);
    expect(tickSize.eq(dec('1e-10'))).toBe(true);
    expect(stepSize.eq(dec(1))).toBe(true);
  });

  it('caps the tick at 12 decimals and the lot step at 8 (MEXC finest)', () => {
    // 1.5e-13 has 14 decimals -> capped at 12; 0.123456789 has 9 -> capped at 8
    const { tickSize, stepSize } = inferPrecision([candle(1.5e-13, 0.123456789)]);
    expect(tickSize.raw).toBe(10n ** 6n); // 10^-12 × 10^18
    expect(stepSize.raw).toBe(10n ** 10n); // 10^-8 × 10^18
  });

  it('only looks at the first `sample` candles', () => {
    const candles = [candle(100.5, 1), candle(100.123, 0.0001, 1)];
    const first = inferPrecision(candles, 1);
    expect(first.tickSize.toString()).toBe('0.1');
    expect(first.stepSize.toString()).toBe('1');
    const both = inferPrecision(candles, 2);
    expect(both.tickSize.toString()).toBe('0.001');
    expect(both.stepSize.toString()).toBe('0.0001');
  });

  it('gives tick 1 and step 1 for no candles or whole numbers only', () => {
    expect(inferPrecision([]).tickSize.toString()).toBe('1');
    expect(inferPrecision([]).stepSize.toString()).toBe('1');
    const r = inferPrecision([candle(42_000, 7)]);
    expect(r.tickSize.eq(dec(1)) && r.stepSize.eq(dec(1))).toBe(true);
  });
});
