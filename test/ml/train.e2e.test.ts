/**
 * End to end: `npm run train` on the real BTCUSDT fixture (3000 1m candles, April 2021) trains the
 * baseline through the walk-forward and writes the model, the scaler and the report. The report's
 * figures are re-derived here from the written out-of-sample predictions (so they are computed, not
 * constants), every prediction lies in its fold's test span, and the written model and scaler load
 * into the hot-path filter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainCommand, type TrainRun } from '../../cli/train.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { loadBaseline } from '../../services/ml/baseline.js';
import { FEATURE_COUNT } from '../../services/ml/features.js';
import { MlFilter } from '../../services/ml/filter.js';
import { FeatureScaler, type ScalerJson } from '../../services/ml/scaler.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/candles/BTCUSDT', import.meta.url));
let out: string;
let run: TrainRun;
const lines: string[] = [];

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'ml-train-'));
  run = await trainCommand(['--data', FIXTURE, '--out', out, '--model', 'baseline', '--folds', '2', '--steps', '8', '--epochs', '6'], { log: (s) => lines.push(s), err: (s) => lines.push(s) });
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

interface Row {
  model: string;
  fold: number;
  time: number;
  p: number;
  up: number;
}
function readPredictions(): Row[] {
  const [head, ...rows] = readFileSync(join(out, 'predictions.csv'), 'utf8').trim().split('\n');
  expect(head).toBe('model,symbol,fold,time,p_up,uncertainty,up');
  return rows.map((r) => {
    const f = r.split(',');
    return { model: f[0]!, fold: Number(f[2]), time: Number(f[3]), p: Number(f[4]), up: f[6] === '' ? NaN : Number(f[6]) };
  });
}

/** AUC by brute force over every (positive, negative) pair: an independent formula from metrics.ts. */
function pairAuc(rows: Row[]): number {
  const pos = rows.filter((r) => r.up === 1).map((r) => r.p);
  const neg = rows.filter((r) => r.up === 0).map((r) => r.p);
  let s = 0;
  for (const a of pos) for (const b of neg) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

describe('npm run train (baseline, real fixture)', () => {
  it('writes the model, scaler, features, report and predictions', () => {
    for (const f of ['scaler.json', 'features.json', 'baseline/meta.json', 'evaluation.json', 'evaluation.html', 'predictions.csv']) expect(existsSync(join(out, f))).toBe(true);
    expect(run.models).toEqual(['baseline']);
    expect(lines.some((l) => l.includes('fold 2/2'))).toBe(true);
  });

  it("the report's metrics are re-derived from the written predictions", () => {
    const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as {
      featureCount: number;
      pooled: Record<string, { samples: number; logLoss: number; brier: number; auc: number; accuracy: number }>;
      folds: { metrics: Record<string, { samples: number; auc: number; logLoss: number }>; trainPositiveRate: number; ranges: Record<string, { train: [string, string]; test: [string, string] }> }[];
      predictionCount: number;
      embargoMinutes: number;
      backtest: Record<string, { withoutFilter: { trades: number; netPnl: number }; withFilter: Record<string, { trades: number }> }>;
    };
    expect(ev.featureCount).toBe(FEATURE_COUNT);
    const rows = readPredictions();
    expect(rows).toHaveLength(ev.predictionCount);
    const labelled = rows.filter((r) => !Number.isNaN(r.up));
    const m = ev.pooled.baseline!;
    expect(m.samples).toBe(labelled.length);
    const ll = -labelled.reduce((s, r) => s + (r.up === 1 ? Math.log(r.p) : Math.log(1 - r.p)), 0) / labelled.length;
    const brier = labelled.reduce((s, r) => s + (r.p - r.up) ** 2, 0) / labelled.length;
    const acc = labelled.filter((r) => (r.p >= 0.5 ? 1 : 0) === r.up).length / labelled.length;
    expect(m.logLoss).toBeCloseTo(ll, 9);
    expect(m.brier).toBeCloseTo(brier, 9);
    expect(m.accuracy).toBeCloseTo(acc, 12);
    expect(m.auc).toBeCloseTo(pairAuc(labelled), 9);
    // Per fold too.
    ev.folds.forEach((f, k) => {
      const mine = labelled.filter((r) => r.fold === k);
      expect(f.metrics.baseline!.samples).toBe(mine.length);
      expect(f.metrics.baseline!.auc).toBeCloseTo(pairAuc(mine), 9);
      // The reference forecasts the fold's training base rate.
      const ref = -mine.reduce((s, r) => s + (r.up === 1 ? Math.log(f.trainPositiveRate) : Math.log(1 - f.trainPositiveRate)), 0) / mine.length;
      expect(f.metrics.reference!.logLoss).toBeCloseTo(ref, 9);
    });
    // Predictions vary (a model, not a constant).
    const ps = labelled.map((r) => r.p);
    expect(Math.max(...ps) - Math.min(...ps)).toBeGreaterThan(0.01);
    // The backtests ran.
    const bt = ev.backtest.BTCUSDT!;
    expect(typeof bt.withoutFilter.netPnl).toBe('number');
    expect(bt.withFilter.baseline!.trades).toBeLessThanOrEqual(bt.withoutFilter.trades + 5);
  });

  it('every prediction is out of sample: inside its fold test span, after training plus the embargo', () => {
    const ev = JSON.parse(readFileSync(join(out, 'evaluation.json'), 'utf8')) as { embargoMinutes: number; folds: { ranges: Record<string, { train: [string, string]; validation: [string, string]; test: [string, string] }> }[] };
    expect(ev.embargoMinutes).toBe(241);
    for (const r of readPredictions()) {
      const rg = ev.folds[r.fold]!.ranges.BTCUSDT!;
      expect(r.time).toBeGreaterThanOrEqual(Date.parse(rg.test[0]));
      expect(r.time).toBeLessThan(Date.parse(rg.test[1]));
      expect(r.time - Date.parse(rg.validation[1])).toBeGreaterThanOrEqual(ev.embargoMinutes * 60_000);
    }
  });

  it('the written model and scaler load into the hot-path filter', async () => {
    const model = loadBaseline({ kind: 'logistic-baseline', files: { 'meta.json': new Uint8Array(readFileSync(join(out, 'baseline/meta.json'))) } });
    const scaler = FeatureScaler.fromJSON(JSON.parse(readFileSync(join(out, 'scaler.json'), 'utf8')) as ScalerJson);
    expect(model.steps).toBe(8);
    const filter = new MlFilter({ model, scaler, mode: 'filter' });
    const candles = loadSeries([FIXTURE]).series[0]!.candles;
    let n = 0;
    for (const c of candles) {
      const p = await filter.observe('BTCUSDT', c);
      if (p) {
        n++;
        expect(p.pUp).toBeGreaterThan(0);
        expect(p.pUp).toBeLessThan(1);
      }
    }
    expect(n).toBeGreaterThan(2000);
    const html = readFileSync(join(out, 'evaluation.html'), 'utf8');
    expect(html).toContain('Pooled out-of-sample metrics');
  });

  it('rejects an unknown model and missing flags with a usage error', async () => {
    const io = { log: () => undefined, err: () => undefined };
    await expect(trainCommand(['--data', FIXTURE, '--out', out, '--model', 'gpt'], io)).rejects.toThrow(/--model must be/);
    await expect(trainCommand(['--out', out], io)).rejects.toThrow(/--data is required/);
  });
});
