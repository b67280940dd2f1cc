/**
 * Dataset builder: walk-forward folds keep train < validation < test in time with an embargo of at
 * least the label horizon (no label window reaches into the next part), the scaler is fitted on
 * the training rows only, and the batch layout is x[(i*steps + t)*F + f] = scaled feature f of the
 * candle t steps into sample i's window (oldest first).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSeries } from '../../cli/loadSeries.js';
import { MINUTE_MS } from '../../services/core/timeframes.js';
import { buildDataset, finalSplit, prepareSeries, rowsIn, sampleRows, stackRows, walkForwardFolds, type PreparedSeries } from '../../services/ml/dataset.js';
import { DEFAULT_WARMUP_CANDLES, FEATURE_COUNT, FEATURE_NAMES } from '../../services/ml/features.js';
import { FeatureScaler } from '../../services/ml/scaler.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/candles/BTCUSDT', import.meta.url));
const HORIZON = 60;
let s: PreparedSeries;

beforeAll(() => {
  const series = loadSeries([FIXTURES]).series[0]!;
  s = prepareSeries(series.symbol, series.candles, { mode: 'percent', target: 0.5, stop: 0.3, horizonMinutes: HORIZON });
});

describe('walk-forward folds', () => {
  it('are ordered in time with an embargo between parts, and test chunks tile the end of the span', () => {
    const start = 0;
    const end = 10_000 * MINUTE_MS;
    const embargoMs = (HORIZON + 1) * MINUTE_MS;
    const folds = walkForwardFolds(start, end, { folds: 4, embargoMs });
    expect(folds).toHaveLength(4);
    for (const f of folds) {
      expect(f.train.from).toBe(start);
      expect(f.validation.from - f.train.to).toBeGreaterThanOrEqual(embargoMs);
      expect(f.test.from - f.validation.to).toBeGreaterThanOrEqual(embargoMs);
      expect(f.train.to).toBeGreaterThan(f.train.from);
    }
    // 5 chunks of 2000 minutes: tests are chunks 1..4.
    expect(folds[0]!.test.from).toBe(2000 * MINUTE_MS);
    for (let i = 1; i < 4; i++) expect(folds[i]!.test.from).toBe(folds[i - 1]!.test.to);
    expect(folds[3]!.test.to).toBe(end);
    expect(() => walkForwardFolds(0, 100 * MINUTE_MS, { folds: 4, embargoMs })).toThrow(/no room/);
  });

  it('no training label window reaches the validation or test part (real labels)', () => {
    const rows = sampleRows(s, 8);
    const t = (r: number): number => s.features.times[r]!;
    const folds = walkForwardFolds(t(rows[0]!), t(rows[rows.length - 1]!) + 1, { folds: 2, embargoMs: (HORIZON + 1) * MINUTE_MS });
    for (const f of folds) {
      const train = rowsIn(s, rows, f.train);
      const val = rowsIn(s, rows, f.validation);
      const test = rowsIn(s, rows, f.test);
      expect(train.length).toBeGreaterThan(0);
      expect(val.length).toBeGreaterThan(0);
      expect(test.length).toBeGreaterThan(0);
      // A label at decision time d looks at candles opening before d + horizon.
      const lastTrainLabelEnd = t(train[train.length - 1]!) + HORIZON * MINUTE_MS;
      expect(lastTrainLabelEnd).toBeLessThanOrEqual(t(val[0]!));
      expect(t(val[val.length - 1]!) + HORIZON * MINUTE_MS).toBeLessThanOrEqual(t(test[0]!));
    }
  });

  it('final split keeps an embargo before the validation tail', () => {
    const f = finalSplit(0, 1000, 50, 0.2);
    expect(f.validation).toEqual({ from: 800, to: 1000 });
    expect(f.train).toEqual({ from: 0, to: 750 });
  });
});

describe('samples and batches', () => {
  it('exclude the warm-up and unlabelled rows', () => {
    const steps = 8;
    const rows = sampleRows(s, steps);
    expect(rows[0]).toBe(DEFAULT_WARMUP_CANDLES + steps - 1);
    for (const r of rows) expect(Number.isNaN(s.labels.up[r]!)).toBe(false);
    // The last HORIZON-ish candles have no label.
    expect(rows[rows.length - 1]!).toBeLessThan(s.candles.length - 1);
    const unlabelled = sampleRows(s, steps, false);
    expect(unlabelled[unlabelled.length - 1]).toBe(s.candles.length - 1);
  });

  it('scaler is fitted on training rows only, and the layout is oldest step first', () => {
    const steps = 4;
    const rows = sampleRows(s, steps);
    const train = rows.slice(0, 500);
    const st = stackRows([s], [train]);
    const scaler = FeatureScaler.fit(st.values, FEATURE_NAMES, st.rows);
    const j = FEATURE_NAMES.indexOf('rsi_14');
    let mean = 0;
    for (const r of train) mean += s.features.values[r * FEATURE_COUNT + j]!;
    mean /= train.length;
    expect(scaler.mean[j]).toBeCloseTo(mean, 9);
    let allMean = 0;
    for (const r of rows) allMean += s.features.values[r * FEATURE_COUNT + j]!;
    allMean /= rows.length;
    expect(Math.abs(scaler.mean[j]! - allMean)).toBeGreaterThan(1e-6);

    const picked = [rows[10]!, rows[200]!];
    const ds = buildDataset([s], [picked], { steps, scaler, halfLifeDays: 1 });
    expect(ds.batch.count).toBe(2);
    expect(ds.batch.x.length).toBe(2 * steps * FEATURE_COUNT);
    for (let i = 0; i < 2; i++) {
      for (let t = 0; t < steps; t++) {
        const r = picked[i]! - steps + 1 + t;
        for (const f of [0, j, FEATURE_COUNT - 1]) {
          const raw = s.features.values[r * FEATURE_COUNT + f]!;
          const z = Math.max(-5, Math.min(5, (raw - scaler.mean[f]!) / scaler.std[f]!));
          expect(ds.batch.x[(i * steps + t) * FEATURE_COUNT + f]).toBeCloseTo(z, 5);
        }
      }
      expect(ds.batch.times[i]).toBe(s.features.times[picked[i]!]);
      expect(ds.labels.up[i]).toBe(s.labels.up[picked[i]!]);
    }
    // Recent samples weigh more; weights average 1.
    expect(ds.labels.weight[1]!).toBeGreaterThan(ds.labels.weight[0]!);
    expect((ds.labels.weight[0]! + ds.labels.weight[1]!) / 2).toBeCloseTo(1, 5);
  });

  it('scaler JSON round trip gives the same scaled values; clipping holds', () => {
    const rows = sampleRows(s, 1).slice(0, 300);
    const st = stackRows([s], [rows]);
    const a = FeatureScaler.fit(st.values, FEATURE_NAMES, st.rows, 3);
    const b = FeatureScaler.fromJSON(JSON.parse(JSON.stringify(a.toJSON())) as ReturnType<FeatureScaler['toJSON']>);
    const xa = new Float32Array(FEATURE_COUNT);
    const xb = new Float32Array(FEATURE_COUNT);
    const last = sampleRows(s, 1).at(-1)!;
    a.transformInto(s.features.values, last * FEATURE_COUNT, xa, 0);
    b.transformInto(s.features.values, last * FEATURE_COUNT, xb, 0);
    expect(Array.from(xb)).toEqual(Array.from(xa));
    for (const v of xa) expect(Math.abs(v)).toBeLessThanOrEqual(3);
  });
});
