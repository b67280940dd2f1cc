/**
 * The ML filter: the decision rule by hand; the hot-path filter (streaming features, candle by
 * candle) predicts exactly what the training path (batch features, dataset, model) predicts at the
 * same decision times; and the backtester's optional entryGate (absent = unchanged behaviour,
 * allow-all = identical run, refuse-all = no trade, every refusal counted).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSeries } from '../../cli/loadSeries.js';
import { runBacktest, type SymbolSeries } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { LogisticBaseline } from '../../services/ml/baseline.js';
import { buildDataset, prepareSeries, sampleRows, stackRows } from '../../services/ml/dataset.js';
import { FEATURE_NAMES } from '../../services/ml/features.js';
import { decideEntry, gateFromPredictions, MlFilter } from '../../services/ml/filter.js';
import { FeatureScaler } from '../../services/ml/scaler.js';
import type { Prediction } from '../../services/ml/types.js';
import type { EnterIntent } from '../../services/model/intents.js';
import type { SymbolId } from '../../services/core/types.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/candles/BTCUSDT', import.meta.url));
let btc: SymbolSeries;
beforeAll(() => {
  btc = loadSeries([FIXTURES]).series[0]!;
});

const pred = (pUp: number, uncertainty = 0): Prediction => ({ pUp, uncertainty, targetDistance: 2, stopDistance: 1 });

describe('decideEntry', () => {
  it('off: always allows at full size', () => {
    expect(decideEntry(null, 'long', { mode: 'off' })).toMatchObject({ allow: true, sizeMultiplier: 1 });
    expect(decideEntry(pred(0.1), 'long', { mode: 'off' })).toMatchObject({ allow: true, sizeMultiplier: 1 });
  });

  it('filter: effective confidence in the direction >= 0.70', () => {
    expect(decideEntry(pred(0.7), 'long', { mode: 'filter' }).allow).toBe(true);
    expect(decideEntry(pred(0.69), 'long', { mode: 'filter' }).allow).toBe(false);
    // 0.8 x (1 - 0.2) = 0.64 < 0.70.
    const d = decideEntry(pred(0.8, 0.2), 'long', { mode: 'filter' });
    expect(d.allow).toBe(false);
    expect(d.confidence).toBeCloseTo(0.64, 12);
    expect(d.reason).toMatch(/0\.640 < 0\.70/);
    // Short: 1 - 0.2 = 0.8.
    expect(decideEntry(pred(0.2), 'short', { mode: 'filter' }).allow).toBe(true);
    expect(decideEntry(null, 'long', { mode: 'filter' })).toMatchObject({ allow: false, reason: expect.stringMatching(/no prediction/) as unknown });
  });

  it('sizing: 0 at 0.5, linear to 1 at the threshold', () => {
    expect(decideEntry(pred(0.6), 'long', { mode: 'sizing' }).sizeMultiplier).toBeCloseTo(0.5, 12);
    expect(decideEntry(pred(0.9), 'long', { mode: 'sizing' }).sizeMultiplier).toBe(1);
    expect(decideEntry(pred(0.5), 'long', { mode: 'sizing' }).allow).toBe(false);
  });
});

describe('MlFilter (hot path) against the training path', () => {
  it('predicts exactly the batch predictions at every decision time', async () => {
    const steps = 4;
    const s = prepareSeries(btc.symbol, btc.candles, { mode: 'percent', target: 0.5, stop: 0.3, horizonMinutes: 60 });
    const rows = sampleRows(s, steps);
    const trainRows = rows.slice(0, 800);
    const st = stackRows([s], [trainRows]);
    const scaler = FeatureScaler.fit(st.values, FEATURE_NAMES, st.rows);
    const model = LogisticBaseline.create(steps, FEATURE_NAMES.length);
    model.fit(buildDataset([s], [trainRows], { steps, scaler }), null, { seed: 1, epochs: 3 });

    const all = sampleRows(s, steps, false);
    const ds = buildDataset([s], [all], { steps, scaler });
    const batchPreds = await model.predict(ds.batch);

    const filter = new MlFilter({ model, scaler, mode: 'filter' });
    const live = new Map<number, number>();
    for (const c of btc.candles) {
      const p = await filter.observe(btc.symbol, c);
      if (p) live.set(c.openTime + 60_000, p.pUp);
    }
    expect(live.size).toBe(all.length);
    batchPreds.forEach((p, i) => expect(live.get(ds.batch.times[i]!)).toBe(p.pUp));
    // The gate reads the prediction made at the intent's decision time.
    const lastTime = ds.batch.times[ds.batch.count - 1]!;
    const intent = { kind: 'enter', symbol: btc.symbol, direction: 'long', time: lastTime } as unknown as EnterIntent;
    const expected = decideEntry(batchPreds[batchPreds.length - 1]!, 'long', { mode: 'filter' });
    expect(filter.gate(intent, lastTime)).toBe(expected.reason);
    expect(filter.gate({ ...intent, time: lastTime - 60_000 }, lastTime)).toMatch(/no prediction/);
  });
});

describe('backtest entryGate', () => {
  it('allow-all gives the same run as no gate; refuse-all trades nothing and counts every entry', async () => {
    const config = parseConfig({});
    const plain = await runBacktest({ series: [btc], config });
    expect(plain.funnel.signals).toBeGreaterThan(0);
    expect(plain.rejections.entry_gate).toBeUndefined();
    const open = await runBacktest({ series: [btc], config, entryGate: () => undefined });
    expect(open.orderLog).toEqual(plain.orderLog);
    expect(open.finalBalance.toString()).toBe(plain.finalBalance.toString());
    const seen: number[] = [];
    const shut = await runBacktest({
      series: [btc],
      config,
      entryGate: (it, now) => {
        expect(it.time).toBe(now);
        seen.push(now);
        return 'closed';
      },
    });
    expect(shut.trades).toHaveLength(0);
    expect(shut.orderLog).toHaveLength(0);
    expect(shut.rejections.entry_gate).toBe(seen.length);
    expect(seen.length).toBe(shut.funnel.signals);
  });

  it('gateFromPredictions refuses outside the window and applies the filter inside it', () => {
    const sym = 'BTCUSDT' as SymbolId;
    const table = new Map([[sym, new Map([[1000, pred(0.8)], [2000, pred(0.4)]])]]);
    const gate = gateFromPredictions(table, { mode: 'filter' }, { from: 1000, to: 3000 });
    const at = (time: number) => gate({ kind: 'enter', symbol: sym, direction: 'long', time } as unknown as EnterIntent, time);
    expect(at(1000)).toBeUndefined();
    expect(at(2000)).toMatch(/confidence 0\.400/);
    expect(at(500)).toMatch(/outside/);
    expect(at(2500)).toMatch(/no prediction/);
  });
});
