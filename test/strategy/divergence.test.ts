import { describe, it, expect } from 'vitest';
import type { Candle } from '../../services/core/types.js';
import { ConfigError } from '../../services/core/errors.js';
import { RsiDivergenceDetector, type RsiDivergenceOptions } from '../../services/strategy/divergence.js';

/** A candle with the given low; its high is low + 1 (so swing highs follow the same shape). */
function fromLow(low: number, i: number): Candle {
  return { openTime: i * 60_000, open: low + 0.5, high: low + 1, low, close: low + 0.5, volume: 1 };
}
/** A candle with the given high; its low is high - 1. */
function fromHigh(high: number, i: number): Candle {
  return fromLow(high - 1, i);
}

/** Feeds the series and returns [bullish(), bearish()] after each update. */
function run(
  candles: readonly Candle[],
  rsi: readonly (number | null)[],
  options?: RsiDivergenceOptions,
): { bull: boolean[]; bear: boolean[] } {
  const d = new RsiDivergenceDetector(options);
  const bull: boolean[] = [];
  const bear: boolean[] = [];
  candles.forEach((c, i) => {
    d.update(c, rsi[i] ?? null);
    bull.push(d.bullish());
    bear.push(d.bearish());
  });
  return { bull, bear };
}

/** Indices at which the flags are true. */
const trueAt = (flags: readonly boolean[]): number[] => flags.flatMap((f, i) => (f ? [i] : []));

// Series A: two swing lows, price 100 (index 3) then 98 (index 9), RSI 30 then 35.
//   index: 0    1    2    3    4    5    6    7    8    9   10   11   12   13   14   15   16
const LOWS_A = [105, 104, 102, 100, 102, 104, 105, 104, 101, 98, 100, 102, 103, 104, 105, 106, 107];
const RSI_A = [50, 45, 40, 30, 40, 45, 50, 45, 40, 35, 40, 45, 50, 52, 54, 56, 58];
// With wing 2: index 3 is a swing low (104, 102 | 100 | 102, 104), and so is index 9
// (104, 101 | 98 | 100, 102). Index 9 is confirmed when index 11 closes. Distance 9 - 3 = 6, in 5..60.
// 98 < 100 and 35 > 30 -> bullish divergence on update 11, visible for recentBars = 5 updates:
// 11, 12, 13, 14, 15 (ages 0..4), gone on 16.
// The only swing high is index 6 (high 106): one swing high, so never bearish.
const CANDLES_A = LOWS_A.map(fromLow);

describe('RsiDivergenceDetector: bullish', () => {
  it('confirms a lower price low with a higher RSI low exactly `wing` candles after the second low', () => {
    const { bull, bear } = run(CANDLES_A, RSI_A);
    expect(trueAt(bull)).toEqual([11, 12, 13, 14, 15]);
    expect(trueAt(bear)).toEqual([]);
  });

  it('with wing 3 the confirmation comes one candle later', () => {
    // wing 3: index 3 has 105, 104, 102 | 100 | 102, 104, 105; index 9 has 105, 104, 101 | 98 | 100, 102, 103.
    // Index 9 is confirmed on update 9 + 3 = 12; visible on 12..16.
    const { bull } = run(CANDLES_A, RSI_A, { wing: 3 });
    expect(trueAt(bull)).toEqual([12, 13, 14, 15, 16]);
  });

  it('no divergence when RSI also makes a lower low (or an equal one)', () => {
    const lower = [...RSI_A];
    lower[9] = 25; // 25 < 30: price and RSI agree
    expect(trueAt(run(CANDLES_A, lower).bull)).toEqual([]);
    const equal = [...RSI_A];
    equal[9] = 30; // 30 is not higher than 30
    expect(trueAt(run(CANDLES_A, equal).bull)).toEqual([]);
  });

  it('expires after recentBars candles', () => {
    expect(trueAt(run(CANDLES_A, RSI_A, { recentBars: 1 }).bull)).toEqual([11]);
    expect(trueAt(run(CANDLES_A, RSI_A, { recentBars: 3 }).bull)).toEqual([11, 12, 13]);
  });

  it('respects the distance window (6 candles here)', () => {
    expect(trueAt(run(CANDLES_A, RSI_A, { maxDistance: 6 }).bull)).toEqual([11, 12, 13, 14, 15]);
    expect(trueAt(run(CANDLES_A, RSI_A, { maxDistance: 5 }).bull)).toEqual([]);
    expect(trueAt(run(CANDLES_A, RSI_A, { minDistance: 6 }).bull)).toEqual([11, 12, 13, 14, 15]);
    expect(trueAt(run(CANDLES_A, RSI_A, { minDistance: 7 }).bull)).toEqual([]);
  });

  it('a swing with unknown RSI (warm-up) never forms a divergence', () => {
    const r1: (number | null)[] = [...RSI_A];
    r1[3] = null;
    expect(trueAt(run(CANDLES_A, r1).bull)).toEqual([]);
    const r2: (number | null)[] = [...RSI_A];
    r2[9] = Number.NaN;
    expect(trueAt(run(CANDLES_A, r2).bull)).toEqual([]);
  });

  it('does not look ahead: a low is not a swing until its right wing has closed', () => {
    // Same as A up to index 10, but index 11 undercuts index 9, so 9 never becomes a swing low
    // (its right wing 100, 97 has a lower low). Index 11 (97) becomes one: left 98, 100, right 99, 101,
    // confirmed on update 13; distance from index 3 is 8; 97 < 100 and RSI 36 > 30 -> bullish on 13..17.
    //               0    1    2    3    4    5    6    7    8   9   10  11  12   13   14   15   16   17   18
    const lows = [105, 104, 102, 100, 102, 104, 105, 104, 101, 98, 100, 97, 99, 101, 103, 104, 105, 106, 107];
    const rsi = [50, 45, 40, 30, 40, 45, 50, 45, 40, 35, 40, 36, 40, 45, 50, 52, 54, 56, 58];
    const { bull } = run(lows.map(fromLow), rsi);
    expect(trueAt(bull)).toEqual([13, 14, 15, 16, 17]);
    // Up to update 10 the two series are identical, and so are the answers: nothing was decided
    // about index 9 before its second right-wing candle (index 11) closed.
    expect(run(CANDLES_A, RSI_A).bull.slice(0, 11)).toEqual(bull.slice(0, 11));
  });

  it('on a flat bottom the first candle of the flat is the swing', () => {
    // Indices 3 and 4 both have low 100 (RSI 30 and 36). Index 3 is below its left wing strictly
    // (104, 102) and not above its right wing (100, 104): a swing. Index 4 is not strictly below
    // index 3, so it is not. Index 9 (98, RSI 35) pairs with index 3: 35 > 30 -> bullish on 11..15.
    // (Were index 4 the swing, 35 < 36 would give none.)
    const lows = [105, 104, 102, 100, 100, 104, 105, 104, 101, 98, 100, 102, 103, 104, 105, 106, 107];
    const rsi = [50, 45, 40, 30, 36, 45, 50, 45, 40, 35, 40, 45, 50, 52, 54, 56, 58];
    expect(trueAt(run(lows.map(fromLow), rsi).bull)).toEqual([11, 12, 13, 14, 15]);
  });

  it('an intermediate higher swing low does not hide the divergence with the low before it', () => {
    //               0    1    2    3    4    5    6    7    8    9   10   11   12   13  14   15   16   17   18   19
    const lows = [105, 104, 102, 100, 102, 104, 105, 103, 101, 103, 105, 106, 104, 101, 98, 100, 102, 103, 104, 105];
    const rsi = [50, 45, 40, 30, 40, 45, 50, 45, 40, 45, 50, 55, 45, 40, 35, 40, 45, 50, 52, 54];
    // Swing lows: 3 (100, RSI 30), 8 (101, RSI 40: 105, 103 | 101 | 103, 105), 14 (98, RSI 35), the last
    // confirmed on update 16. Against 8: 98 < 101 but 35 < 40, no; 101 > 98, so the scan goes on to 3:
    // distance 11, 98 < 100 and 35 > 30 -> bullish on 16..19.
    // Swing highs 6 (106, RSI 50) and 11 (107, RSI 55): higher high with higher RSI -> no bearish.
    const { bull, bear } = run(lows.map(fromLow), rsi);
    expect(trueAt(bull)).toEqual([16, 17, 18, 19]);
    expect(trueAt(bear)).toEqual([]);
  });

  it('an intermediate lower swing low prevents pairing across it', () => {
    //               0    1    2    3    4    5    6    7   8    9   10   11   12   13  14   15   16   17   18   19
    const lows = [105, 104, 102, 100, 102, 104, 105, 100, 95, 100, 103, 106, 104, 101, 98, 100, 102, 103, 104, 105];
    const rsi = [50, 45, 40, 30, 40, 45, 50, 45, 28, 45, 50, 55, 45, 40, 35, 40, 45, 50, 52, 54];
    // Swing lows: 3 (100, RSI 30), 8 (95, RSI 28), 14 (98, RSI 35). 8 vs 3: 95 < 100 but 28 < 30, no.
    // 14 vs 8: 98 is not below 95 -> the scan stops; pairing 14 with 3 (98 < 100, 35 > 30) would
    // draw the line through the lower low at 8, so no divergence.
    expect(trueAt(run(lows.map(fromLow), rsi).bull)).toEqual([]);
  });

  it('keeps working after its swing ring wraps around (50 swings, 8 kept)', () => {
    // A sawtooth: cycle j covers indices 6j..6j+5 with lows base + [4, 2, 0, 2, 4, 6], base = 200 - j.
    // The trough 6j+2 is a swing low (base+4, base+2 | base | base+2, base+4) with RSI 20 + j/10, so
    // each trough is 1 lower in price and 0.1 higher in RSI than the one 6 candles before: a bullish
    // divergence confirmed on 6j+4 for every j >= 1. Peaks 6j+5 are lower and lower: never bearish.
    const cycles = 50;
    const offsets = [4, 2, 0, 2, 4, 6];
    const candles: Candle[] = [];
    const rsi: number[] = [];
    for (let j = 0; j < cycles; j++) {
      offsets.forEach((off, k) => {
        candles.push(fromLow(200 - j + off, 6 * j + k));
        rsi.push(k === 2 ? 20 + j / 10 : 50);
      });
    }
    const { bull, bear } = run(candles, rsi);
    // Confirmed on 6j+4 (j >= 1), visible for 5 updates: 6j+4 .. 6j+8. The next confirmation is on
    // 6j+10, so from index 10 on every index is covered except 6j+9, i.e. those with i % 6 === 3.
    const expected: number[] = [];
    for (let i = 10; i < candles.length; i++) if (i % 6 !== 3) expected.push(i);
    expect(trueAt(bull)).toEqual(expected);
    expect(trueAt(bear)).toEqual([]);
    // The last trough (j = 49, index 296) with an RSI below every earlier trough: no divergence with
    // any kept swing, so after update 299 the last one (confirmed on 292, age 7) has expired.
    rsi[296] = 0;
    const last = run(candles, rsi).bull;
    expect(last[298]).toBe(false);
    expect(last[299]).toBe(false);
    expect(last[295]).toBe(true); // 292 + 3: the divergence of trough 48 is still recent
  });
});

describe('RsiDivergenceDetector: bearish', () => {
  // Mirror of A with highs: swing highs 100 (index 3, RSI 70) then 102 (index 9, RSI 65).
  //   index: 0   1   2    3   4   5   6   7   8    9   10  11  12  13  14  15  16
  const HIGHS_B = [95, 96, 98, 100, 98, 96, 95, 96, 99, 102, 100, 98, 97, 96, 95, 94, 93];
  const RSI_B = [50, 55, 60, 70, 60, 55, 50, 55, 60, 65, 60, 55, 50, 48, 46, 44, 42];
  // Index 3: 96, 98 | 100 | 98, 96; index 9: 96, 99 | 102 | 100, 98, confirmed on update 11.
  // 102 > 100 and 65 < 70 -> bearish on 11..15. The only swing low is index 6 (low 94): never bullish.
  const CANDLES_B = HIGHS_B.map(fromHigh);

  it('confirms a higher price high with a lower RSI high exactly `wing` candles after it', () => {
    const { bull, bear } = run(CANDLES_B, RSI_B);
    expect(trueAt(bear)).toEqual([11, 12, 13, 14, 15]);
    expect(trueAt(bull)).toEqual([]);
  });

  it('no divergence when RSI also makes a higher high', () => {
    const higher = [...RSI_B];
    higher[9] = 75;
    expect(trueAt(run(CANDLES_B, higher).bear)).toEqual([]);
  });

  it('expires after recentBars candles', () => {
    expect(trueAt(run(CANDLES_B, RSI_B, { recentBars: 2 }).bear)).toEqual([11, 12]);
  });
});

describe('RsiDivergenceDetector: options', () => {
  it('rejects invalid options with a ConfigError naming the option', () => {
    expect(() => new RsiDivergenceDetector({ wing: 0 })).toThrow(ConfigError);
    expect(() => new RsiDivergenceDetector({ wing: 1.5 })).toThrow(/wing/);
    expect(() => new RsiDivergenceDetector({ minDistance: 10, maxDistance: 5 })).toThrow(/maxDistance/);
    expect(() => new RsiDivergenceDetector({ recentBars: 0 })).toThrow(/recentBars/);
    expect(() => new RsiDivergenceDetector({ maxSwings: 1 })).toThrow(/maxSwings/);
  });
});
