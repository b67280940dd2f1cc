/** The rolling mean against trading-signals' SMA (the reference) on real volumes, and its edges. */
import { describe, expect, it } from 'vitest';
import { SMA } from 'trading-signals';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { RollingMean } from '../../services/indicators/rollingMean.js';

describe('RollingMean', () => {
  it('equals trading-signals’ SMA over 3,000 real BTCUSDT volumes (periods 1, 5, 20), to 1e-12 relative', () => {
    const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
    for (const period of [1, 5, 20]) {
      const ref = new SMA(period);
      const mean = new RollingMean(period);
      let compared = 0;
      for (const c of candles) {
        const want = ref.update(c.volume, false);
        const got = mean.update(c.volume);
        if (want === null) {
          expect(got).toBeNull();
          continue;
        }
        expect(got).not.toBeNull();
        expect(Math.abs((got as number) - want)).toBeLessThanOrEqual(Math.abs(want) * 1e-12);
        compared++;
      }
      expect(compared).toBe(candles.length - period + 1);
    }
  });

  it('is null until the window is full, then the mean of exactly the last period values', () => {
    const m = new RollingMean(3);
    expect(m.update(1)).toBeNull();
    expect(m.update(2)).toBeNull();
    expect(m.update(3)).toBe(2);
    expect(m.update(10)).toBe(5); // (2 + 3 + 10) / 3
    expect(m.update(0)).toBe(13 / 3);
    expect(() => new RollingMean(0)).toThrow(RangeError);
  });
});
