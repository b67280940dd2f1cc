/**
 * The feature pipeline on real candles (the BTCUSDT April 2021 and PEPEUSDT May 2026 fixtures):
 * - the live path (one candle at a time through FeaturePipeline) and the training path
 *   (computeFeatures over the array) give bit-identical vectors;
 * - no look-ahead: altering every candle after index t leaves every vector up to t unchanged
 *   (checked for many t), while vectors after t do change (so the check can fail);
 * - warm-up: no vector before it, finite vectors after it;
 * - scale-free: the same market at a millionth of the price and a thousand times the volume gives
 *   the same features (the reason BTC and PEPE can share a model).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSeries } from '../../cli/loadSeries.js';
import type { Candle } from '../../services/core/types.js';
import { computeFeatures, DEFAULT_WARMUP_CANDLES, FEATURE_COUNT, FEATURE_NAMES, FeaturePipeline } from '../../services/ml/features.js';
import { seededRandom } from '../../services/ml/random.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/candles', import.meta.url));
let btc: readonly Candle[];
let pepe: readonly Candle[];

beforeAll(() => {
  const s = loadSeries([FIXTURES]).series;
  btc = s.find((x) => x.symbol === 'BTCUSDT')!.candles;
  pepe = s.find((x) => x.symbol === 'PEPEUSDT')!.candles;
});

function row(m: { values: Float64Array }, r: number): Float64Array {
  return m.values.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT);
}

describe('feature list', () => {
  it('has about 90+ uniquely named features, one value per name', () => {
    expect(FEATURE_COUNT).toBe(FEATURE_NAMES.length);
    expect(FEATURE_COUNT).toBeGreaterThanOrEqual(85);
    expect(new Set(FEATURE_NAMES).size).toBe(FEATURE_COUNT);
    for (const must of ['rsi_14', 'macd_hist', 'bb20_pctb', 'bb20_width', 'ichi_kijun_dist', 'ichi_cloud_pos', 'atr14_pct', 'adx_14', 'pdi_14', 'mdi_14', 'volume_z_20', 'rel_volume_20', 'obv_slope_10', 'ret_60', 'body_0', 'upper_wick_0', 'sup_dist_15m', 'res_dist_15m', 'sup_touches_15m', 'hour_sin', 'hour_cos']) {
      expect(FEATURE_NAMES).toContain(must);
    }
  });
});

describe('live and training paths', () => {
  it('give identical vectors for the same candles (BTC and PEPE)', () => {
    for (const candles of [btc, pepe]) {
      const batch = computeFeatures(candles);
      const live = new FeaturePipeline();
      let compared = 0;
      candles.forEach((c, r) => {
        const v = live.update(c);
        if (v === null) {
          expect(batch.ready[r]).toBe(0);
          return;
        }
        expect(batch.ready[r]).toBe(1);
        expect(Array.from(v)).toEqual(Array.from(row(batch, r)));
        compared++;
      });
      expect(compared).toBe(candles.length - DEFAULT_WARMUP_CANDLES);
    }
  });
});

describe('warm-up', () => {
  it('emits nothing during the warm-up and only finite values after it', () => {
    for (const candles of [btc, pepe]) {
      const m = computeFeatures(candles);
      let wrongReady = 0;
      let bad = 0;
      for (let r = 0; r < m.rows; r++) {
        if (m.ready[r] !== (r >= DEFAULT_WARMUP_CANDLES ? 1 : 0)) wrongReady++;
        if (!m.ready[r]) continue;
        for (const x of row(m, r)) if (!Number.isFinite(x)) bad++;
      }
      expect(wrongReady).toBe(0);
      expect(bad).toBe(0);
    }
  });

  it('survives a multi-hour gap in the data with finite vectors', () => {
    const gapped = [...btc.slice(0, 1500), ...btc.slice(1800)];
    const m = computeFeatures(gapped);
    const gapRow = 1500;
    const minutes = (gapped[gapRow]!.openTime - gapped[gapRow - 1]!.openTime) / 60_000;
    expect(minutes).toBeGreaterThanOrEqual(301);
    expect(row(m, gapRow)[FEATURE_NAMES.indexOf('minutes_since_prev')]).toBeCloseTo(Math.log(minutes), 9);
    let bad = 0;
    for (let r = DEFAULT_WARMUP_CANDLES; r < m.rows; r++) for (const x of row(m, r)) if (!Number.isFinite(x)) bad++;
    expect(bad).toBe(0);
  });
});

describe('no look-ahead', () => {
  it('vectors up to t do not change when every candle after t is altered (many t)', () => {
    const candles = btc.slice(0, 1600);
    const base = computeFeatures(candles);
    const rand = seededRandom(7);
    const ts = [0, 5, 400, 799, 800, 801, 850, 1000, 1100, 1234, 1350, 1500, 1590];
    for (const t of ts) {
      // A different future: prices scaled by a random walk, volumes shuffled by a random factor.
      let f = 1;
      const altered = candles.map((c, i) => {
        if (i <= t) return c;
        f *= 1 + (rand() - 0.5) * 0.01;
        const v = rand() * 3;
        return { openTime: c.openTime, open: c.open * f, high: c.high * f * 1.001, low: c.low * f * 0.999, close: c.close * f, volume: c.volume * v };
      });
      const m = computeFeatures(altered);
      for (let r = 0; r <= t; r++) {
        expect(m.ready[r]).toBe(base.ready[r]);
        if (base.ready[r]) expect(Array.from(row(m, r))).toEqual(Array.from(row(base, r)));
      }
      // The check has teeth: the first ready row after t differs.
      const next = Math.max(t + 1, DEFAULT_WARMUP_CANDLES);
      if (next < candles.length) expect(Array.from(row(m, next))).not.toEqual(Array.from(row(base, next)));
    }
  });
});

describe('scale-free', () => {
  it('a millionth of the price and 1000x the volume give the same features', () => {
    const candles = btc.slice(0, 1400);
    const k = 1e-6;
    const scaled = candles.map((c) => ({ openTime: c.openTime, open: c.open * k, high: c.high * k, low: c.low * k, close: c.close * k, volume: c.volume * 1000 }));
    const a = computeFeatures(candles);
    const b = computeFeatures(scaled);
    const zScoreCols = new Set(['volume_z_20', 'volume_z_60'].map((n) => FEATURE_NAMES.indexOf(n)));
    for (let r = DEFAULT_WARMUP_CANDLES; r < a.rows; r++) {
      const x = row(a, r);
      const y = row(b, r);
      for (let j = 0; j < FEATURE_COUNT; j++) {
        // z-scores of log1p(volume) are only approximately invariant (log1p, not log).
        const tol = zScoreCols.has(j) ? 0.05 + 0.05 * Math.abs(x[j]!) : 1e-6 + 1e-6 * Math.abs(x[j]!);
        if (Math.abs(x[j]! - y[j]!) > tol) throw new Error(`row ${r} ${FEATURE_NAMES[j]}: ${x[j]} vs ${y[j]}`);
      }
    }
  });

  it('rejects candles out of time order', () => {
    const p = new FeaturePipeline();
    p.update(btc[1]!);
    expect(() => p.update(btc[0]!)).toThrow(/not after/);
  });
});
