import { describe, it, expect } from 'vitest';
import type { Candle } from '../../services/core/types.js';
import { bearishReversalPattern, bullishReversalPattern, isDoji } from '../../services/strategy/patterns.js';

/** A candle from O, H, L, C (time and volume do not matter to the patterns). */
function k(open: number, high: number, low: number, close: number): Candle {
  return { openTime: 0, open, high, low, close, volume: 1 };
}

// A neutral previous candle: bullish, so it can never be the bearish half of a bullish engulfing,
// and used with bullish `cur` candles that are never bearish engulfings either.
const UP = k(100, 100.5, 99.5, 100.2);
// A neutral previous candle for the bearish checks: bearish, so no bearish engulfing can form.
const DOWN = k(100.2, 100.5, 99.5, 100);

describe('isDoji', () => {
  it('is true when the body is at most 10% of the range', () => {
    // O=100 C=100.05 H=100.5 L=99.5: body 0.05, range 1.0 -> 5% -> doji
    expect(isDoji(k(100, 100.5, 99.5, 100.05))).toBe(true);
    // body exactly 10%: O=100 C=100.1, range 1.0 -> doji (threshold is inclusive)
    expect(isDoji(k(100, 100.5, 99.5, 100.1))).toBe(true);
  });
  it('is false when the body is larger than 10% of the range', () => {
    // O=100 C=100.2 H=100.5 L=99.5: body 0.2 = 20% of 1.0
    expect(isDoji(k(100, 100.5, 99.5, 100.2))).toBe(false);
  });
  it('is false for a zero-range candle', () => {
    expect(isDoji(k(100, 100, 100, 100))).toBe(false);
  });
});

describe('bullishReversalPattern', () => {
  it('hammer: small body in the top third, long lower wick, short upper wick', () => {
    // O=100.8 H=101 L=98 C=100.9: range 3, body 0.1, upper wick 0.1, lower wick 2.8.
    // upper+body = 0.2 <= 1 (range/3); lower 2.8 >= 0.2 (2 x body); upper 0.1 <= 0.1 (body) -> hammer
    expect(bullishReversalPattern(UP, k(100.8, 101, 98, 100.9))).toBe('hammer');
    // A red hammer: O=100.9 C=100.8, same wicks -> hammer (colour does not matter)
    expect(bullishReversalPattern(UP, k(100.9, 101, 98, 100.8))).toBe('hammer');
    // A dragonfly doji with no upper wick: O=C=H=101, L=98: body 0, upper 0 <= 0, lower 3 >= 0 -> hammer
    expect(bullishReversalPattern(UP, k(101, 101, 98, 101))).toBe('hammer');
  });

  it('a hammer shape whose upper wick is longer than its body is only a pin bar', () => {
    // O=100.5 H=101 L=98 C=100.6: body 0.1, upper wick 0.4 > 0.1 -> not a hammer;
    // lower wick 2.5 >= 2/3 x 3 = 2 -> bullish pin bar
    expect(bullishReversalPattern(UP, k(100.5, 101, 98, 100.6))).toBe('bullish_pin_bar');
  });

  it('bullish pin bar: lower wick at least 2/3 of the range, whatever the upper wick', () => {
    // O=100 H=100.5 L=97 C=99.8 (red): range 3.5, body 0.2, upper 0.5, lower 2.8;
    // hammer fails (upper 0.5 > body 0.2); 2.8 >= 2/3 x 3.5 = 2.333 -> pin bar
    expect(bullishReversalPattern(UP, k(100, 100.5, 97, 99.8))).toBe('bullish_pin_bar');
    // Exactly on the threshold: O=99.1 H=100.1 L=97.1 C=99.3: range 3, body 0.2, upper 0.8 > body
    // (no hammer), lower wick 2 = 2/3 x 3 -> pin bar (the threshold is inclusive)
    expect(bullishReversalPattern(UP, k(99.1, 100.1, 97.1, 99.3))).toBe('bullish_pin_bar');
    // On the threshold in decimals, but not in floats: L=42.933 H=43.707 O=43.449 C=43.5:
    // range 0.774, lower wick 0.516 = 2/3 x 0.774 exactly; in floats 43.449 - 42.933 = 0.5159999999999982
    // < (2/3) x (43.707 - 42.933) = 0.5160000000000006, so only the float tolerance keeps it a pin bar.
    // (upper 0.207 > body 0.051 -> no hammer)
    expect(bullishReversalPattern(UP, k(43.449, 43.707, 42.933, 43.5))).toBe('bullish_pin_bar');
    // O=100 H=100.2 L=97 C=99: range 3.2, body 1, upper 0.2: upper+body 1.2 > 3.2/3 = 1.067 -> no hammer;
    // lower 2 < 2/3 x 3.2 = 2.133 -> no pin bar
    expect(bullishReversalPattern(UP, k(100, 100.2, 97, 99))).toBeNull();
  });

  it('near misses: body outside the top third or lower wick too short', () => {
    // O=99.5 H=101 L=98 C=99.9: range 3, lower wick 1.5 = 50% of range, body 0.4, upper 1.1:
    // upper+body 1.5 > 1 -> no hammer; 1.5 < 2 -> no pin bar
    expect(bullishReversalPattern(UP, k(99.5, 101, 98, 99.9))).toBeNull();
    // O=100 H=101 L=98 C=100.8 (green): body 0.8, upper 0.2, lower 2: upper+body = 1.0 <= 1 ok,
    // lower 2 >= 1.6 ok, upper 0.2 <= 0.8 ok -> hammer (the edge of the top third)...
    expect(bullishReversalPattern(UP, k(100, 101, 98, 100.8))).toBe('hammer');
    // ...and with the open 0.1 lower (O=99.9): body 0.9, upper+body 1.1 > 1 -> no hammer;
    // lower wick 1.9 < 2 -> no pin bar
    expect(bullishReversalPattern(UP, k(99.9, 101, 98, 100.8))).toBeNull();
    // A plain big green candle: O=98.1 H=101 L=98 C=100.9 -> nothing
    expect(bullishReversalPattern(UP, k(98.1, 101, 98, 100.9))).toBeNull();
  });

  it('bullish engulfing: a green body covering the previous red body', () => {
    const prev = k(101, 101.2, 99.8, 100); // red, body 100..101 (size 1)
    // cur O=100 C=101.5 H=101.6 L=99.9: green, open 100 <= prev close 100, close 101.5 >= prev open 101,
    // body 1.5 > 1 -> engulfing (open == previous close, as on a 24/7 market)
    expect(bullishReversalPattern(prev, k(100, 101.6, 99.9, 101.5))).toBe('bullish_engulfing');
    // cur O=99.8 C=101.1: opens below and closes above the previous body -> engulfing
    expect(bullishReversalPattern(prev, k(99.8, 101.2, 99.7, 101.1))).toBe('bullish_engulfing');
  });

  it('engulfing near misses', () => {
    const prev = k(101, 101.2, 99.8, 100); // red body 100..101
    // close 100.9 < prev open 101: body does not cover; shape: range 1.1, lower wick 0.1 -> nothing
    expect(bullishReversalPattern(prev, k(100, 101, 99.9, 100.9))).toBeNull();
    // same body as prev (100..101, size 1 not > 1): not engulfing; range 1.4, lower wick 0.2 -> nothing
    expect(bullishReversalPattern(prev, k(100, 101.2, 99.8, 101))).toBeNull();
    // opens above prev close (100.1 > 100): not engulfing; range 1.7, lower wick 0.2 -> nothing
    expect(bullishReversalPattern(prev, k(100.1, 101.6, 99.9, 101.5))).toBeNull();
    // prev green (100 -> 101): no engulfing whatever cur is
    expect(bullishReversalPattern(k(100, 101.2, 99.8, 101), k(99.5, 101.6, 99.4, 101.5))).toBeNull();
  });

  it('engulfing wins over a hammer shape', () => {
    // prev red O=100.85 C=100.8 (tiny body); cur is the hammer O=100.8 H=101 L=98 C=100.9:
    // 100.8 <= 100.8, 100.9 >= 100.85, body 0.1 > 0.05 -> engulfing, checked first
    expect(bullishReversalPattern(k(100.85, 100.9, 100.7, 100.8), k(100.8, 101, 98, 100.9))).toBe('bullish_engulfing');
  });

  it('zero-range candles never match', () => {
    expect(bullishReversalPattern(UP, k(100, 100, 100, 100))).toBeNull();
    // even after a red candle whose body it would "cover" at a single price
    expect(bullishReversalPattern(k(100, 100, 100, 100), k(100, 100, 100, 100))).toBeNull();
    // a zero-range prev does not block a hammer on cur
    expect(bullishReversalPattern(k(100, 100, 100, 100), k(100.8, 101, 98, 100.9))).toBe('hammer');
    // NaN prices never match
    expect(bullishReversalPattern(UP, k(100.8, Number.NaN, 98, 100.9))).toBeNull();
  });
});

describe('bearishReversalPattern', () => {
  it('shooting star: small body in the bottom third, long upper wick, short lower wick', () => {
    // O=98.2 H=101 L=98 C=98.1: range 3, body 0.1, lower wick 0.1, upper wick 2.8 -> shooting star
    expect(bearishReversalPattern(DOWN, k(98.2, 101, 98, 98.1))).toBe('shooting_star');
    // green version O=98.1 C=98.2 -> shooting star
    expect(bearishReversalPattern(DOWN, k(98.1, 101, 98, 98.2))).toBe('shooting_star');
  });

  it('bearish pin bar: upper wick at least 2/3 of the range', () => {
    // O=98.5 H=101 L=98 C=98.4: body 0.1, lower wick 0.4 > body -> no star; upper 2.5 >= 2 -> pin bar
    expect(bearishReversalPattern(DOWN, k(98.5, 101, 98, 98.4))).toBe('bearish_pin_bar');
  });

  it('near misses', () => {
    // O=100.5 H=101 L=98 C=100.1: upper wick 0.5, lower 2.1 -> neither star nor bearish pin bar
    expect(bearishReversalPattern(DOWN, k(100.5, 101, 98, 100.1))).toBeNull();
    // the hammer is not a bearish pattern
    expect(bearishReversalPattern(DOWN, k(100.8, 101, 98, 100.9))).toBeNull();
    // the shooting star is not a bullish pattern
    expect(bullishReversalPattern(UP, k(98.2, 101, 98, 98.1))).toBeNull();
  });

  it('bearish engulfing: a red body covering the previous green body', () => {
    const prev = k(100, 101.2, 99.8, 101); // green body 100..101
    // cur O=101 C=99.5 H=101.1 L=99.4: open 101 >= 101, close 99.5 <= 100, body 1.5 > 1 -> engulfing
    expect(bearishReversalPattern(prev, k(101, 101.1, 99.4, 99.5))).toBe('bearish_engulfing');
    // close 100.1 > prev open 100: no cover; range 1.2, upper wick 0.1 -> nothing
    expect(bearishReversalPattern(prev, k(101, 101.1, 99.9, 100.1))).toBeNull();
    // prev red: no engulfing
    expect(bearishReversalPattern(k(101, 101.2, 99.8, 100), k(101, 101.1, 99.4, 99.5))).toBeNull();
  });

  it('zero-range candles never match', () => {
    expect(bearishReversalPattern(DOWN, k(50, 50, 50, 50))).toBeNull();
  });
});
