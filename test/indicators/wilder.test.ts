/**
 * The O(1) RSI and ADX against trading-signals (the reference implementation the strategy used
 * before): value for value, exactly equal floats, on 3,000 real BTCUSDT and PEPEUSDT 1m candles and
 * on 5m candles aggregated from them, for several periods.
 */
import { describe, expect, it } from 'vitest';
import { ADX, RSI } from 'trading-signals';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CandleAggregator } from '../../services/candles/index.js';
import type { Candle } from '../../services/core/types.js';
import { Adx, Rsi, WilderAverage } from '../../services/indicators/wilder.js';

const series: [string, Candle[]][] = [
  ['BTCUSDT 1m', loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles],
  ['PEPEUSDT 1m', loadCandleFile('test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz', { repair: true }).candles],
];
const agg = new CandleAggregator('1m', ['5m']);
const fives: Candle[] = [];
for (const c of series[0]![1]) for (const closed of agg.push(c)) fives.push(closed.candle);
series.push(['BTCUSDT 5m', fives]);

describe('Wilder indicators equal trading-signals exactly', () => {
  for (const [name, candles] of series) {
    for (const period of [2, 14, 21]) {
      it(`${name}, period ${period}: RSI, ADX, +DI and -DI`, () => {
        const rsiRef = new RSI(period);
        const adxRef = new ADX(period);
        const rsi = new Rsi(period);
        const adx = new Adx(period);
        let rsiValues = 0;
        let adxValues = 0;
        for (const c of candles) {
          expect(rsi.update(c.close)).toBe(rsiRef.update(c.close, false));
          const want = adxRef.update(c, false);
          expect(adx.update(c)).toBe(want);
          if (want !== null) {
            adxValues++;
            expect(adx.pdi).toBe(adxRef.pdi);
            expect(adx.mdi).toBe(adxRef.mdi);
          }
          if (rsiRef.getResult() !== null) rsiValues++;
        }
        expect(rsiValues).toBeGreaterThan(candles.length - period - 2);
        expect(adxValues).toBeGreaterThan(candles.length - 2 * period - 1);
      });
    }
  }

  it('Wilder’s average: the mean of the first n, then (x - avg) / n + avg', () => {
    const w = new WilderAverage(3);
    expect(w.update(3)).toBeUndefined();
    expect(w.update(6)).toBeUndefined();
    expect(w.update(9)).toBe(6);
    expect(w.update(12)).toBe(8); // (12 - 6) / 3 + 6
    expect(() => new WilderAverage(0)).toThrow(RangeError);
  });
});
