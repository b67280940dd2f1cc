/**
 * The regime classifier: the rule table, then the classifier on candles whose ATR and ADX can be
 * worked out by hand (Wilder's ATR of a constant true range is that range; a zero-range candle
 * scales it by 13/14; one true range of 30 after ranges of 1 gives (13 x 1 + 30) / 14).
 */
import { describe, expect, it } from 'vitest';
import type { Candle } from '../../services/core/types.js';
import { RegimeClassifier, classify } from '../../services/strategy/regime.js';

const CFG = { timeframe: null, trendAdx: 25, volatileRatio: 1.5, quietRatio: 0.67, lookback: 50 };
const IND = { atrPeriod: 14, adxPeriod: 14 };

describe('classify', () => {
  it('volatility first, then trend; boundaries inclusive', () => {
    expect(classify(1.5, 1, 10, CFG)).toBe('volatile');
    expect(classify(1.49, 1, 40, CFG)).toBe('trending');
    expect(classify(0.67, 1, 40, CFG)).toBe('quiet');
    expect(classify(0.68, 1, 25, CFG)).toBe('trending');
    expect(classify(1, 1, 24.99, CFG)).toBe('ranging');
  });
});

describe('RegimeClassifier', () => {
  let t = 0;
  const flat = (): Candle => ({ openTime: t++, open: 100, high: 100.5, low: 99.5, close: 100, volume: 1 });
  const still = (): Candle => ({ openTime: t++, open: 100, high: 100, low: 100, close: 100, volume: 1 });

  it('null until ATR, ADX and 50 ATRs of history exist: the 64th candle is the first classified', () => {
    const r = new RegimeClassifier(CFG, IND);
    // ATR(14) first exists at candle 14 (index 13); the mean of the 50 ATRs before a candle at index 63.
    for (let i = 0; i < 63; i++) expect(r.update(flat())).toBeNull();
    expect(r.update(flat())).toBe('ranging'); // true range 1 every candle, no directional move: ADX 0
    expect(r.lastAtr).toBe(1);
    expect(r.lastAdx).toBe(0);
  });

  it('quiet: the sixth candle without range after a history of ranges of 1', () => {
    const r = new RegimeClassifier(CFG, IND);
    for (let i = 0; i < 80; i++) r.update(flat());
    // ATR after n still candles: (13/14)^n. At n = 5: 0.6904 against 0.67 x mean 0.98670 = 0.66109: not
    // yet; at n = 6: 0.64105 against 0.67 x 0.98051 = 0.65694: quiet.
    const got = [1, 2, 3, 4, 5, 6].map(() => r.update(still()));
    expect(got).toEqual(['ranging', 'ranging', 'ranging', 'ranging', 'ranging', 'quiet']);
    expect(r.lastAtr).toBeCloseTo((13 / 14) ** 6, 12);
  });

  it('volatile: one true range of 30 lifts the ATR to 43/14 = 3.07 >= 1.5 x 1', () => {
    const r = new RegimeClassifier(CFG, IND);
    for (let i = 0; i < 80; i++) r.update(flat());
    expect(r.update({ openTime: t++, open: 100, high: 115, low: 85, close: 100, volume: 1 })).toBe('volatile');
    expect(r.lastAtr).toBeCloseTo(43 / 14, 12);
  });

  it('trending: a steady climb of half a range per candle (true range 1, ADX towards 100)', () => {
    const r = new RegimeClassifier(CFG, IND);
    let last = null;
    for (let i = 0; i < 80; i++) last = r.update({ openTime: t++, open: 100 + 0.5 * i + 0.5, high: 101 + 0.5 * i, low: 100 + 0.5 * i, close: 100 + 0.5 * i + 0.5, volume: 1 });
    expect(last).toBe('trending');
    expect(r.lastAtr).toBeCloseTo(1, 12);
    expect(r.lastAdx).toBeGreaterThan(90);
  });
});
