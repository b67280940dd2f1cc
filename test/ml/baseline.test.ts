/**
 * The logistic baseline: it learns a rule that is in the data (a synthetic problem whose answer is
 * known), training is deterministic for a seed, it reads only the last step, and a save/load round
 * trip gives identical predictions.
 */
import { describe, expect, it } from 'vitest';
import { LogisticBaseline, loadBaseline } from '../../services/ml/baseline.js';
import { auc } from '../../services/ml/metrics.js';
import { seededRandom } from '../../services/ml/random.js';
import type { LabelSet, SequenceBatch } from '../../services/ml/types.js';

const F = 6;
const STEPS = 3;

/** up = 1 with probability sigmoid(2 x0 - 1.5 x3) of the LAST step; other steps are noise. */
function synthetic(count: number, seed: number): { batch: SequenceBatch; labels: LabelSet; trueP: Float64Array } {
  const r = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const x = new Float32Array(count * STEPS * F);
  for (let i = 0; i < x.length; i++) x[i] = gauss();
  const up = new Float32Array(count);
  const trueP = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const off = (i * STEPS + STEPS - 1) * F;
    const z = 2 * x[off]! - 1.5 * x[off + 3]!;
    trueP[i] = 1 / (1 + Math.exp(-z));
    up[i] = r() < trueP[i]! ? 1 : 0;
  }
  const times = Float64Array.from({ length: count }, (_, i) => i * 60_000);
  return {
    batch: { count, steps: STEPS, featureCount: F, x, times },
    labels: { up, targetDistance: new Float32Array(count).fill(3), stopDistance: new Float32Array(count).fill(1.5), weight: new Float32Array(count).fill(1) },
    trueP,
  };
}

describe('LogisticBaseline', () => {
  const train = synthetic(3000, 1);
  const val = synthetic(1000, 2);
  const test = synthetic(2000, 3);

  it('learns the rule: out-of-sample AUC near that of the true probabilities, weights of the right sign', async () => {
    const m = LogisticBaseline.create(STEPS, F);
    m.fit(train, val, { seed: 5 });
    const p = (await m.predict(test.batch)).map((q) => q.pUp);
    const a = auc(p, test.labels.up);
    const best = auc(Array.from(test.trueP), test.labels.up);
    expect(a).toBeGreaterThan(best - 0.02);
    const meta = JSON.parse(new TextDecoder().decode((await m.save()).files['meta.json'])) as { weights: number[] };
    expect(meta.weights[0]!).toBeGreaterThan(1);
    expect(meta.weights[3]!).toBeLessThan(-0.8);
    expect(Math.abs(meta.weights[1]!)).toBeLessThan(0.3);
    // Heads: the weighted mean barrier distances; uncertainty 0.
    const q = (await m.predict(test.batch))[0]!;
    expect(q.uncertainty).toBe(0);
    expect(q.targetDistance).toBeCloseTo(3, 5);
    expect(q.stopDistance).toBeCloseTo(1.5, 5);
  });

  it('is deterministic for a seed and depends on it', async () => {
    const a = LogisticBaseline.create(STEPS, F);
    const b = LogisticBaseline.create(STEPS, F);
    const c = LogisticBaseline.create(STEPS, F);
    a.fit(train, val, { seed: 9, epochs: 3 });
    b.fit(train, val, { seed: 9, epochs: 3 });
    c.fit(train, val, { seed: 10, epochs: 3 });
    const pa = (await a.predict(test.batch)).map((q) => q.pUp);
    expect((await b.predict(test.batch)).map((q) => q.pUp)).toEqual(pa);
    expect((await c.predict(test.batch)).map((q) => q.pUp)).not.toEqual(pa);
  });

  it('reads only the last step', async () => {
    const m = LogisticBaseline.create(STEPS, F);
    m.fit(train, null, { seed: 1, epochs: 2 });
    const x2 = new Float32Array(test.batch.x);
    for (let i = 0; i < test.batch.count; i++) for (let t = 0; t < STEPS - 1; t++) for (let f = 0; f < F; f++) x2[(i * STEPS + t) * F + f] = 99;
    const a = await m.predict(test.batch);
    const b = await m.predict({ ...test.batch, x: x2 });
    expect(b).toEqual(a);
  });

  it('save/load round trip gives identical predictions', async () => {
    const m = LogisticBaseline.create(STEPS, F);
    m.fit(train, val, { seed: 3 });
    const art = await m.save();
    expect(art.kind).toBe('logistic-baseline');
    const loaded = loadBaseline(art);
    expect(loaded.steps).toBe(STEPS);
    expect(loaded.featureCount).toBe(F);
    expect(await loaded.predict(test.batch)).toEqual(await m.predict(test.batch));
  });

  it('rejects a batch of the wrong width and an artifact of another kind', async () => {
    const m = LogisticBaseline.create(STEPS, F);
    await expect(m.predict({ ...test.batch, featureCount: F + 1 })).rejects.toThrow(/features/);
    expect(() => loadBaseline({ kind: 'transformer', files: {} })).toThrow(/not a logistic-baseline/);
  });
});
