/**
 * The baseline model: logistic regression on the LAST step's scaled features, trained by
 * mini-batch gradient descent (Adam, L2 penalty, sample weights) in plain TypeScript, with early
 * stopping on the validation log loss. Deterministic for a seed: the seed sets the initial weights
 * and the order of the mini-batches. Deterministic predictions: uncertainty is 0.
 *
 * The regression heads (target/stop distance in ATR units) are the weighted training means: the
 * baseline does not model them.
 */
import { seededRandom, shuffleInPlace } from './random.js';
import type { LabelSet, ModelArtifact, Prediction, SequenceBatch, SignalModel } from './types.js';

export const BASELINE_KIND = 'logistic-baseline';

/** Training options of the baseline. */
export interface BaselineTrainOptions {
  readonly seed?: number;
  /** Most passes over the training set (default 40). */
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  /** L2 penalty on the weights (not the bias). */
  readonly l2?: number;
  /** Epochs without validation improvement before stopping (default 5). */
  readonly patience?: number;
  /** Called after each epoch (progress output). */
  readonly onEpoch?: (epoch: number, trainLoss: number, valLoss: number | null) => void;
}

/** What training did, for the report. */
export interface BaselineTrainInfo {
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly trainLoss: number;
  readonly validationLoss: number | null;
}

/** The content of a saved baseline's meta.json. */
export interface BaselineMeta {
  readonly kind: typeof BASELINE_KIND;
  readonly version: 1;
  readonly steps: number;
  readonly featureCount: number;
  readonly weights: number[];
  readonly bias: number;
  readonly targetDistance: number;
  readonly stopDistance: number;
  readonly info: BaselineTrainInfo | null;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** Logistic regression implementing SignalModel. */
export class LogisticBaseline implements SignalModel {
  readonly kind = BASELINE_KIND;

  private constructor(
    readonly steps: number,
    readonly featureCount: number,
    private readonly w: Float64Array,
    private bias: number,
    private targetDist: number,
    private stopDist: number,
    public info: BaselineTrainInfo | null,
  ) {}

  /** An untrained model for batches of `steps` x `featureCount` (weights 0: pUp = 0.5). */
  static create(steps: number, featureCount: number): LogisticBaseline {
    return new LogisticBaseline(steps, featureCount, new Float64Array(featureCount), 0, NaN, NaN, null);
  }

  /** Rebuilds a model from its saved meta.json (see loadBaseline). */
  static fromMeta(meta: BaselineMeta): LogisticBaseline {
    return new LogisticBaseline(meta.steps, meta.featureCount, Float64Array.from(meta.weights), meta.bias, meta.targetDistance ?? NaN, meta.stopDistance ?? NaN, meta.info);
  }

  /**
   * Trains on `train` (rows with a NaN label are skipped), early-stopping on `validation` when
   * given. Returns the training summary; the model keeps the best-validation weights.
   */
  fit(train: { batch: SequenceBatch; labels: LabelSet }, validation: { batch: SequenceBatch; labels: LabelSet } | null, opts: BaselineTrainOptions = {}): BaselineTrainInfo {
    this.check(train.batch);
    if (validation) this.check(validation.batch);
    const rand = seededRandom(opts.seed ?? 1);
    const f = this.featureCount;
    const epochs = opts.epochs ?? 40;
    const bs = opts.batchSize ?? 256;
    const lr = opts.learningRate ?? 0.005;
    const l2 = opts.l2 ?? 1e-3;
    const patience = opts.patience ?? 5;
    const { up, weight } = train.labels;
    const idx: number[] = [];
    for (let i = 0; i < train.batch.count; i++) if (!Number.isNaN(up[i]!)) idx.push(i);
    if (idx.length === 0) throw new RangeError('LogisticBaseline.fit: no labelled training samples');
    // Heads: weighted means of the barrier distances; bias starts at the log-odds of the base rate.
    let wsum = 0;
    let pos = 0;
    let td = 0;
    let sd = 0;
    for (const i of idx) {
      const wi = weight[i]!;
      wsum += wi;
      pos += wi * up[i]!;
      const t = train.labels.targetDistance[i]!;
      const s = train.labels.stopDistance[i]!;
      if (Number.isFinite(t)) td += wi * t;
      if (Number.isFinite(s)) sd += wi * s;
    }
    this.targetDist = td / wsum;
    this.stopDist = sd / wsum;
    const base = Math.min(Math.max(pos / wsum, 1e-4), 1 - 1e-4);
    this.bias = Math.log(base / (1 - base));
    for (let j = 0; j < f; j++) this.w[j] = (rand() - 0.5) * 0.01;

    // Adam state.
    const mW = new Float64Array(f);
    const vW = new Float64Array(f);
    let mB = 0;
    let vB = 0;
    const b1 = 0.9;
    const b2 = 0.999;
    let step = 0;
    const grad = new Float64Array(f);
    const order = Int32Array.from(idx);
    let best = { loss: Infinity, epoch: -1, w: new Float64Array(this.w), b: this.bias };
    let since = 0;
    let done = 0;
    for (let ep = 0; ep < epochs; ep++) {
      shuffleInPlace(order, rand);
      for (let s0 = 0; s0 < order.length; s0 += bs) {
        const s1 = Math.min(order.length, s0 + bs);
        grad.fill(0);
        let gB = 0;
        let wb = 0;
        for (let k = s0; k < s1; k++) {
          const i = order[k]!;
          const off = this.lastStepOffset(train.batch, i);
          const p = sigmoid(this.logit(train.batch.x, off));
          const e = (p - up[i]!) * weight[i]!;
          for (let j = 0; j < f; j++) grad[j] = grad[j]! + e * train.batch.x[off + j]!;
          gB += e;
          wb += weight[i]!;
        }
        step++;
        const c1 = 1 - Math.pow(b1, step);
        const c2 = 1 - Math.pow(b2, step);
        for (let j = 0; j < f; j++) {
          const g = grad[j]! / wb + l2 * this.w[j]!;
          mW[j] = b1 * mW[j]! + (1 - b1) * g;
          vW[j] = b2 * vW[j]! + (1 - b2) * g * g;
          this.w[j] = this.w[j]! - (lr * (mW[j]! / c1)) / (Math.sqrt(vW[j]! / c2) + 1e-8);
        }
        const g = gB / wb;
        mB = b1 * mB + (1 - b1) * g;
        vB = b2 * vB + (1 - b2) * g * g;
        this.bias -= (lr * (mB / c1)) / (Math.sqrt(vB / c2) + 1e-8);
      }
      done = ep + 1;
      const lastTrain = this.loss(train.batch, train.labels);
      const lastVal = validation ? this.loss(validation.batch, validation.labels) : null;
      opts.onEpoch?.(done, lastTrain, lastVal);
      const monitored = lastVal ?? lastTrain;
      if (monitored < best.loss - 1e-6) {
        best = { loss: monitored, epoch: done, w: new Float64Array(this.w), b: this.bias };
        since = 0;
      } else if (++since >= patience) break;
    }
    this.w.set(best.w);
    this.bias = best.b;
    this.info = {
      epochs: done,
      bestEpoch: best.epoch,
      trainLoss: this.loss(train.batch, train.labels),
      validationLoss: validation ? this.loss(validation.batch, validation.labels) : null,
    };
    return this.info;
  }

  /**
   * Fits once per L2 penalty of `grid` and keeps the one with the lowest validation log loss (the
   * test data is never looked at). Returns the chosen penalty with the training summary.
   */
  fitSelectingL2(train: { batch: SequenceBatch; labels: LabelSet }, validation: { batch: SequenceBatch; labels: LabelSet }, grid: readonly number[], opts: BaselineTrainOptions = {}): BaselineTrainInfo & { l2: number } {
    if (grid.length === 0) throw new RangeError('fitSelectingL2: empty grid');
    let best: { l2: number; loss: number } | null = null;
    for (const l2 of grid) {
      const info = this.fit(train, validation, { ...opts, l2, onEpoch: undefined });
      const loss = info.validationLoss ?? Infinity;
      if (best === null || loss < best.loss) best = { l2, loss };
    }
    const info = this.fit(train, validation, { ...opts, l2: best!.l2 });
    return { ...info, l2: best!.l2 };
  }

  /** Weighted mean log loss over the labelled samples. */
  loss(batch: SequenceBatch, labels: LabelSet): number {
    let s = 0;
    let wsum = 0;
    for (let i = 0; i < batch.count; i++) {
      const y = labels.up[i]!;
      if (Number.isNaN(y)) continue;
      const p = Math.min(Math.max(sigmoid(this.logit(batch.x, this.lastStepOffset(batch, i))), 1e-12), 1 - 1e-12);
      const w = labels.weight[i]!;
      s -= w * (y * Math.log(p) + (1 - y) * Math.log(1 - p));
      wsum += w;
    }
    return wsum > 0 ? s / wsum : NaN;
  }

  /** pUp for each sample (synchronous; `predict` wraps it). */
  predictSync(batch: SequenceBatch): Prediction[] {
    this.check(batch);
    const out: Prediction[] = [];
    for (let i = 0; i < batch.count; i++) {
      out.push({ pUp: sigmoid(this.logit(batch.x, this.lastStepOffset(batch, i))), uncertainty: 0, targetDistance: this.targetDist, stopDistance: this.stopDist });
    }
    return out;
  }

  predict(batch: SequenceBatch): Promise<Prediction[]> {
    try {
      return Promise.resolve(this.predictSync(batch));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  save(): Promise<ModelArtifact> {
    const meta: BaselineMeta = {
      kind: BASELINE_KIND,
      version: 1,
      steps: this.steps,
      featureCount: this.featureCount,
      weights: [...this.w],
      bias: this.bias,
      targetDistance: this.targetDist,
      stopDistance: this.stopDist,
      info: this.info,
    };
    // JSON writes the shortest decimal that round-trips a double, so loading gives the same weights.
    const json = JSON.stringify(meta, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
    return Promise.resolve({ kind: BASELINE_KIND, files: { 'meta.json': new TextEncoder().encode(json) } });
  }

  dispose(): void {
    // Nothing to release: plain arrays.
  }

  private check(batch: SequenceBatch): void {
    if (batch.featureCount !== this.featureCount) throw new RangeError(`baseline expects ${this.featureCount} features, batch has ${batch.featureCount}`);
    if (batch.x.length !== batch.count * batch.steps * batch.featureCount) throw new RangeError('SequenceBatch.x has the wrong length');
  }

  private lastStepOffset(batch: SequenceBatch, i: number): number {
    return (i * batch.steps + batch.steps - 1) * batch.featureCount;
  }

  private logit(x: Float32Array, off: number): number {
    let z = this.bias;
    for (let j = 0; j < this.featureCount; j++) z += this.w[j]! * x[off + j]!;
    return z;
  }
}

/** Loads a baseline saved by `save()`. */
export function loadBaseline(artifact: ModelArtifact): LogisticBaseline {
  if (artifact.kind !== BASELINE_KIND) throw new RangeError(`not a ${BASELINE_KIND} artifact: ${artifact.kind}`);
  const file = artifact.files['meta.json'];
  if (!file) throw new RangeError(`${BASELINE_KIND} artifact has no meta.json`);
  const meta = JSON.parse(new TextDecoder().decode(file)) as BaselineMeta;
  if (meta.kind !== BASELINE_KIND || meta.version !== 1) throw new RangeError(`meta.json: unknown ${String(meta.kind)} v${String(meta.version)}`);
  if (meta.weights.length !== meta.featureCount) throw new RangeError(`meta.json: ${meta.weights.length} weights for ${meta.featureCount} features`);
  return LogisticBaseline.fromMeta(meta);
}
