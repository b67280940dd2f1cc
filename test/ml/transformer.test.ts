/**
 * The Transformer: output shapes and input checks; a tiny model learns a pattern that is separable
 * by construction on real candles (label = the sign of the last candle's return, which is one of
 * its inputs): training loss falls and validation AUC > 0.8; the save/load round trip gives the
 * same predictions bit for bit; Monte Carlo dropout gives a nonzero spread and a deterministic
 * pass gives zero; a prediction does not depend on which other samples share the batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { auc } from '../../services/ml/metrics.js';
import { ModelFormatError, ModelInputError } from '../../services/ml/modelErrors.js';
import { initTf, tf } from '../../services/ml/tf.js';
import { createTransformer, loadTransformer, type TrainableTransformer } from '../../services/ml/transformer.js';
import type { LabelSet, SequenceBatch } from '../../services/ml/types.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', import.meta.url));
const STEPS = 8;
const F = 3;

/** Per-candle inputs: standardised log return, range and log volume. */
function sequences(): { batch: SequenceBatch; labels: LabelSet } {
  const candles = loadCandleFile(FIXTURE).candles;
  const ret: number[] = [];
  const rng: number[] = [];
  const vol: number[] = [];
  for (let i = 1; i < candles.length; i++) {
    const c = candles[i]!;
    ret.push(Math.log(c.close / candles[i - 1]!.close));
    rng.push(Math.log(c.high / c.low));
    vol.push(Math.log1p(c.volume));
  }
  const z = (a: number[]): number[] => {
    const m = a.reduce((s, v) => s + v, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / a.length) || 1;
    return a.map((v) => (v - m) / sd);
  };
  const cols = [z(ret), z(rng), z(vol)];
  const samples: number[] = [];
  for (let i = STEPS - 1; i < ret.length; i++) if (ret[i] !== 0) samples.push(i); // flat candles have no sign
  const count = samples.length;
  const x = new Float32Array(count * STEPS * F);
  const up = new Float32Array(count);
  samples.forEach((end, j) => {
    for (let t = 0; t < STEPS; t++) for (let f = 0; f < F; f++) x[(j * STEPS + t) * F + f] = cols[f]![end - STEPS + 1 + t]!;
    up[j] = ret[end]! > 0 ? 1 : 0;
  });
  return {
    batch: { count, steps: STEPS, featureCount: F, x, times: Float64Array.from(samples, (i) => candles[i + 1]!.openTime + 60_000) },
    labels: { up, targetDistance: new Float32Array(count).fill(1.5), stopDistance: new Float32Array(count).fill(1), weight: new Float32Array(count).fill(1) },
  };
}

function slice(b: SequenceBatch, l: LabelSet, from: number, to: number): { batch: SequenceBatch; labels: LabelSet } {
  const per = b.steps * b.featureCount;
  return {
    batch: { count: to - from, steps: b.steps, featureCount: b.featureCount, x: b.x.slice(from * per, to * per), times: b.times.slice(from, to) },
    labels: { up: l.up.slice(from, to), targetDistance: l.targetDistance.slice(from, to), stopDistance: l.stopDistance.slice(from, to), weight: l.weight.slice(from, to) },
  };
}

const tiny = { steps: STEPS, featureCount: F, dModel: 16, heads: 2, layers: 1, ffDim: 32, patch: 2, seed: 7 };
let data: { batch: SequenceBatch; labels: LabelSet };
let trained: TrainableTransformer;
let history: { loss: number; valLogLoss?: number }[];
let valAuc: number;

beforeAll(async () => {
  await initTf();
  data = sequences();
  const n = Math.min(data.batch.count, 2600);
  const train = slice(data.batch, data.labels, 0, Math.floor(n * 0.7));
  const val = slice(data.batch, data.labels, Math.floor(n * 0.7), n);
  trained = createTransformer({ ...tiny, learningRate: 3e-3 });
  history = await trained.fit(train.batch, train.labels, { epochs: 6, batchSize: 64, validation: val, restoreBest: false });
  const preds = await trained.predict(val.batch);
  valAuc = auc(preds.map((p) => p.pUp), val.labels.up);
}, 60_000);

describe('Transformer', () => {
  it('has the chosen default size and rejects invalid options', () => {
    const m = createTransformer({ steps: 32, featureCount: 90 });
    expect(m.config).toMatchObject({ dModel: 16, heads: 2, layers: 2, patch: 4, mcSamples: 15, mcDropout: true });
    expect(m.parameterCount).toBeGreaterThan(5_000);
    m.dispose();
    expect(() => createTransformer({ steps: 8, featureCount: 3, dModel: 10, heads: 4 })).toThrow(ModelInputError);
  });

  it('answers one prediction per sample with a probability, a spread in [0, 1] and positive distances', async () => {
    const m = createTransformer(tiny);
    const b = slice(data.batch, data.labels, 0, 5).batch;
    const preds = await m.predict(b);
    expect(preds).toHaveLength(5);
    for (const p of preds) {
      expect(p.pUp).toBeGreaterThan(0);
      expect(p.pUp).toBeLessThan(1);
      expect(p.uncertainty).toBeGreaterThanOrEqual(0);
      expect(p.uncertainty).toBeLessThanOrEqual(1);
      expect(p.targetDistance).toBeGreaterThan(0);
      expect(p.stopDistance).toBeGreaterThan(0);
    }
    await expect(m.predict({ ...b, featureCount: 4, x: new Float32Array(5 * STEPS * 4) })).rejects.toThrow(ModelInputError);
    const bad = b.x.slice();
    bad[3] = Number.NaN;
    await expect(m.predict({ ...b, x: bad })).rejects.toThrow(/not finite/);
    m.dispose();
  });

  it('learns the sign of the last return on real candles: loss falls and validation AUC > 0.8', () => {
    expect(history).toHaveLength(6);
    expect(history[5]!.loss).toBeLessThan(history[0]!.loss);
    expect(history[5]!.valLogLoss!).toBeLessThan(Math.log(2) - 0.1);
    expect(valAuc).toBeGreaterThan(0.8);
  });

  it('gives identical predictions after a save/load round trip (Monte Carlo and deterministic)', async () => {
    const b = slice(data.batch, data.labels, 100, 140).batch;
    const artifact = await trained.save();
    expect(Object.keys(artifact.files).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadTransformer(artifact);
    expect(await loaded.predict(b)).toEqual(await trained.predict(b));
    const detA = await loadTransformer(artifact, { mcDropout: false });
    const detB = await loadTransformer(await loaded.save(), { mcDropout: false });
    expect(await detB.predict(b)).toEqual(await detA.predict(b));
    for (const m of [loaded, detA, detB]) m.dispose();
  });

  it('Monte Carlo dropout spreads the copies; a deterministic pass has zero uncertainty', async () => {
    const b = slice(data.batch, data.labels, 200, 260).batch;
    const mc = await trained.predict(b);
    expect(Math.max(...mc.map((p) => p.uncertainty))).toBeGreaterThan(0.005);
    const det = await loadTransformer(await trained.save(), { mcDropout: false });
    const d = await det.predict(b);
    expect(d.every((p) => p.uncertainty === 0)).toBe(true);
    // The Monte Carlo mean is not the deterministic pass (the copies really differ).
    expect(mc.some((p, i) => Math.abs(p.pUp - d[i]!.pUp) > 1e-4)).toBe(true);
    det.dispose();
  });

  it('predicts a sample the same alone as inside a batch, and the same on every call', async () => {
    const b = slice(data.batch, data.labels, 300, 320).batch;
    const all = await trained.predict(b);
    const alone = await trained.predict(slice(data.batch, data.labels, 307, 308).batch);
    expect(alone[0]!.pUp).toBeCloseTo(all[7]!.pUp, 5);
    expect(alone[0]!.uncertainty).toBeCloseTo(all[7]!.uncertainty, 5);
    expect(await trained.predict(b)).toEqual(all);
  });

  it('zero-weight samples do not teach: a model trained with only the flipped half weighted 0 still learns', async () => {
    const n = 1200;
    const train = slice(data.batch, data.labels, 0, n);
    const up = train.labels.up.slice();
    const weight = new Float32Array(n).fill(1);
    for (let i = 0; i < n; i += 2) {
      up[i] = 1 - up[i]!; // wrong labels ...
      weight[i] = 0; // ... that weigh nothing
    }
    const m = createTransformer({ ...tiny, learningRate: 3e-3 });
    await m.fit(train.batch, { ...train.labels, up, weight }, { epochs: 4, batchSize: 64 });
    const val = slice(data.batch, data.labels, 1800, 2400);
    const preds = await m.predict(val.batch);
    expect(auc(preds.map((p) => p.pUp), val.labels.up)).toBeGreaterThan(0.75);
    m.dispose();
  });

  it('is deterministic for a seed: two models trained alike predict alike, another seed differs', async () => {
    const train = slice(data.batch, data.labels, 0, 300);
    const b = slice(data.batch, data.labels, 400, 420).batch;
    const run = async (seed: number) => {
      const m = createTransformer({ ...tiny, seed });
      await m.fit(train.batch, train.labels, { epochs: 1, batchSize: 32 });
      const p = await m.predict(b);
      m.dispose();
      return p;
    };
    const a1 = await run(11);
    expect(await run(11)).toEqual(a1);
    expect((await run(12))[0]!.pUp).not.toBe(a1[0]!.pUp);
  });

  it('rejects an artifact whose weights do not fit its configuration, and frees its tensors', async () => {
    const artifact = await trained.save();
    const before = tf.memory().numTensors;
    const cut = { kind: artifact.kind, files: { ...artifact.files, 'weights.bin': artifact.files['weights.bin']!.slice(0, 400) } };
    await expect(loadTransformer(cut)).rejects.toThrow(ModelFormatError);
    await expect(loadTransformer({ kind: 'transformer', files: { 'weights.bin': new Uint8Array(4) } })).rejects.toThrow(ModelFormatError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not leak tensors across fit and predict', async () => {
    const m = createTransformer(tiny);
    const small = slice(data.batch, data.labels, 0, 100);
    await m.predict(small.batch);
    const before = tf.memory().numTensors;
    await m.fit(small.batch, small.labels, { epochs: 1, batchSize: 32, validation: slice(data.batch, data.labels, 100, 150) });
    await m.predict(small.batch);
    expect(tf.memory().numTensors).toBe(before);
    m.dispose();
  });
});
