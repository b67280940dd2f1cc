/**
 * The signal model: a small Transformer encoder over the last `steps` candles' feature vectors,
 * written with raw tfjs ops (tfjs-layers has no multi-head attention, and owning the forward pass
 * lets Monte Carlo dropout, the dropout noise shapes and serialisation be exactly what we need).
 *
 *   x [N, steps, F] -> patches of `patch` candles -> input projection [N, T = steps/patch, d]
 *     + sinusoidal positions
 *     -> L x pre-norm encoder block:  h += Drop(MHA(LN(h)));  h += Drop(FFN(LN(h)))
 *        (LN without gain/bias: the projection after each norm absorbs them; fewer kernels)
 *     -> LN -> attention pooling (a learned query, plus a learned recency bias that favours the
 *        latest candles) concatenated with the last token's state
 *     -> ReLU hidden layer -> Drop -> heads: sigmoid(pUp logit), softplus(target), softplus(stop)
 *
 * Dropout is "variational": one mask per sample (per Monte Carlo copy at inference) shared over
 * all time steps, so a feature channel is dropped for the whole sequence. It regularises at least as
 * well for sequences, and the random draw is tiny (N x d, not N x T x d), which keeps the hot path's
 * Monte Carlo inference cheap.
 *
 * Monte Carlo dropout: `mcSamples` (15) copies of each sample go through ONE forward pass with
 * dropout active; pUp is the mean of the copies, uncertainty = min(1, 2 x std of the copies' pUp).
 * Why 2 x std: a probability's standard deviation is at most 0.5 (copies split between 0 and 1), so
 * 2 x std is the spread as a fraction of the largest possible one — 0 when every copy agrees, 1 when
 * the sub-networks are split at the extremes — and it needs no calibration set. The masks are drawn
 * from a fixed seed per copy and shared by every sample in the call, so a prediction depends only on
 * the input (the same decision in a backtest, in paper trading and after a reload), and never on
 * which other samples share the batch.
 *
 * Tokens are patches of `patch` (4) consecutive candles, so 32 candles are 8 tokens: attention
 * cost grows with tokens squared, and on the wasm backend the batched matmul of attention dominated
 * at 32 tokens (about 10x the cost at 8). Patching is also what PatchTST found to work better for
 * time series than one token per step.
 *
 * Size — measured here (2 shared vCPUs under a load average of ~10, wasm backend, single thread;
 * bench/ml.ts): d_model 16, 2 heads, 2 layers, FFN 32, patch 4 (~12.6k weights at 116 features):
 * - training: 20,000 samples x 32 steps x 116 features, batch 128: ~30 s wall / ~15 s CPU per
 *   epoch, RSS ~0.5 GB. A Lambda retrain of 12 epochs (early-stopped, and cut by the job's
 *   time budget) stays far inside 15 minutes and 10 GB.
 * - inference: ~1.3-2.8 ms of CPU per decision with 15 Monte Carlo copies (p50 1-2.5 ms).
 * d_model 32 / 4 heads / FFN 64 cost ~2x CPU per decision (~5 ms, over the hot-path budget) and
 * ~1.5x per epoch; 1 token per candle (patch 1) cost ~4-5x. On a few tens of thousands of noisy
 * labels a bigger encoder mostly memorises faster; the limit here is latency, then data.
 */
import { z } from 'zod';
import { seededRandom as mulberry32 } from './random.js';
import { ModelFormatError, ModelInputError } from './modelErrors.js';
import { tf } from './tf.js';
import type { LabelSet, ModelArtifact, Prediction, SequenceBatch, SignalModel } from './types.js';

/** The model kind in artifacts and in the store's folder names. */
export const TRANSFORMER_KIND = 'transformer';
const FORMAT = 'mexc-sr-transformer/1';

const configSchema = z
  .object({
    steps: z.number().int().min(1).max(1024),
    featureCount: z.number().int().min(1).max(4096),
    /** Consecutive candles per token (patch): steps / patch tokens attend to each other. */
    patch: z.number().int().min(1).max(64),
    /** Width of the token representation. */
    dModel: z.number().int().min(4).max(512),
    heads: z.number().int().min(1).max(16),
    layers: z.number().int().min(1).max(12),
    /** Hidden width of the feed-forward blocks. */
    ffDim: z.number().int().min(4).max(4096),
    /** Dropout rate (training and Monte Carlo inference). */
    dropout: z.number().min(0).max(0.9),
    /** Label smoothing ε: targets become y(1-ε) + ε/2. */
    labelSmoothing: z.number().min(0).max(0.5),
    /** Weight of each regression (Huber) loss next to the classification loss. */
    regressionWeight: z.number().min(0).max(10),
    learningRate: z.number().positive().max(1),
    /** Gradients are clipped to this global norm. */
    clipNorm: z.number().positive(),
    /** Monte Carlo copies per prediction (1 = a single pass). */
    mcSamples: z.number().int().min(1).max(100),
    /** Keep dropout active at inference (Monte Carlo dropout); false gives a deterministic pass and uncertainty 0. */
    mcDropout: z.boolean(),
    /** Seeds weight initialisation, shuffling, training dropout and the Monte Carlo masks. */
    seed: z.number().int().min(0).max(2 ** 31 - 1),
  })
  .strict()
  .refine((c) => c.dModel % c.heads === 0, { message: 'dModel must be a multiple of heads', path: ['heads'] });

/** Every hyper-parameter of the model (saved with it). */
export type TransformerConfig = z.infer<typeof configSchema>;

/** Defaults: the size chosen for the Lambda retrain budget (see the file comment). */
export const TRANSFORMER_DEFAULTS: Omit<TransformerConfig, 'steps' | 'featureCount'> = {
  patch: 4,
  dModel: 16,
  heads: 2,
  layers: 2,
  ffDim: 32,
  dropout: 0.1,
  labelSmoothing: 0.05,
  regressionWeight: 0.05,
  learningRate: 1e-3,
  clipNorm: 1,
  mcSamples: 15,
  mcDropout: true,
  seed: 1,
};

/** Options of createTransformer: the input shape, anything else defaults to TRANSFORMER_DEFAULTS. */
export type TransformerOptions = Pick<TransformerConfig, 'steps' | 'featureCount'> & Partial<Omit<TransformerConfig, 'steps' | 'featureCount'>>;

/** What a fit reports after each epoch. */
export interface EpochReport {
  /** 1-based. */
  readonly epoch: number;
  /** Mean training loss (smoothed BCE + regression terms) over the epoch's batches. */
  readonly loss: number;
  /** Weighted log loss (no smoothing, no dropout) on the validation set, when given. */
  readonly valLogLoss?: number;
  readonly seconds: number;
}

/** Options of fit. */
export interface FitOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Held-out data; with it, the weights of the epoch with the lowest validation log loss are kept (unless restoreBest is false). */
  readonly validation?: { readonly batch: SequenceBatch; readonly labels: LabelSet };
  readonly restoreBest?: boolean;
  /** Stop after this many epochs without a better validation log loss. */
  readonly patience?: number;
  readonly onEpoch?: (report: EpochReport) => void | Promise<void>;
  /** Checked after every epoch: true ends training early (e.g. the Lambda's time budget is spent). */
  readonly shouldStop?: () => boolean;
  /** Reads elapsed time (the clock is passed in; only used for EpochReport.seconds). Default: none (seconds = 0). */
  readonly clock?: () => number;
}

/** A Transformer that can be trained, and used as a SignalModel. */
export interface TrainableTransformer extends SignalModel {
  readonly config: TransformerConfig;
  /** Number of trainable weights. */
  readonly parameterCount: number;
  /** Trains in place; returns the per-epoch reports. */
  fit(batch: SequenceBatch, labels: LabelSet, opts: FitOptions): Promise<EpochReport[]>;
}

interface Param {
  readonly name: string;
  readonly v: tf.Variable;
}

interface LayerParams {
  qW: tf.Variable;
  qB: tf.Variable;
  kW: tf.Variable;
  kB: tf.Variable;
  vW: tf.Variable;
  vB: tf.Variable;
  oW: tf.Variable;
  oB: tf.Variable;
  ff1W: tf.Variable;
  ff1B: tf.Variable;
  ff2W: tf.Variable;
  ff2B: tf.Variable;
}

/** How dropout behaves in one forward pass. */
interface DropCtx {
  readonly active: boolean;
  /** Monte Carlo copies laid out copy-major in the batch (one fixed mask per copy, shared by its samples); 0 in training. */
  readonly copies: number;
  /** Draws the training masks (one per sample); unused for Monte Carlo passes. */
  readonly rng: () => number;
  /** Index of the next dropout site in the pass (each site has its own Monte Carlo masks). */
  site: number;
}

const LN_EPS = 1e-5;

class Transformer implements TrainableTransformer {
  readonly kind = TRANSFORMER_KIND;
  readonly config: TransformerConfig;
  readonly parameterCount: number;
  private readonly params: Param[] = [];
  private readonly posEnc: tf.Tensor2D;
  private readonly ramp: tf.Tensor1D;
  private readonly inW: tf.Variable;
  private readonly inB: tf.Variable;
  private readonly blocks: LayerParams[] = [];
  private readonly poolQ: tf.Variable;
  private readonly poolK: tf.Variable;
  private readonly recency: tf.Variable;
  private readonly hidW: tf.Variable;
  private readonly hidB: tf.Variable;
  private readonly headW: tf.Variable;
  private readonly headB: tf.Variable;
  private trainedEpochs = 0;
  private disposed = false;
  /** Monte Carlo dropout masks by copies, site and rank (fixed from the seed; see drop). */
  private readonly mcMasks = new Map<string, tf.Tensor>();
  /** Tokens per sample: ceil(steps / patch). */
  private readonly tokens: number;

  constructor(config: TransformerConfig, trainedEpochs = 0) {
    this.config = config;
    this.trainedEpochs = trainedEpochs;
    const { featureCount: F, dModel: d, ffDim, layers, patch } = config;
    const T = Math.ceil(config.steps / patch);
    this.tokens = T;
    const rng = mulberry32(config.seed);
    const glorot = (name: string, rows: number, cols: number, scale = 1): tf.Variable => {
      const limit = Math.sqrt(6 / (rows + cols)) * scale;
      const a = new Float32Array(rows * cols);
      for (let i = 0; i < a.length; i++) a[i] = (rng() * 2 - 1) * limit;
      return this.add(name, tf.tensor2d(a, [rows, cols]));
    };
    const fill = (name: string, n: number, value: number): tf.Variable => this.add(name, tf.fill([n], value));
    // Residual branches' output projections start smaller so the stack begins near the identity.
    const residualScale = 1 / Math.sqrt(2 * layers);
    this.inW = glorot('in/W', patch * F, d);
    this.inB = fill('in/b', d, 0);
    for (let l = 0; l < layers; l++) {
      this.blocks.push({
        qW: glorot(`L${l}/q/W`, d, d),
        qB: fill(`L${l}/q/b`, d, 0),
        kW: glorot(`L${l}/k/W`, d, d),
        kB: fill(`L${l}/k/b`, d, 0),
        vW: glorot(`L${l}/v/W`, d, d),
        vB: fill(`L${l}/v/b`, d, 0),
        oW: glorot(`L${l}/o/W`, d, d, residualScale),
        oB: fill(`L${l}/o/b`, d, 0),
        ff1W: glorot(`L${l}/ff1/W`, d, ffDim),
        ff1B: fill(`L${l}/ff1/b`, ffDim, 0),
        ff2W: glorot(`L${l}/ff2/W`, ffDim, d, residualScale),
        ff2B: fill(`L${l}/ff2/b`, d, 0),
      });
    }
    const q = new Float32Array(d);
    for (let i = 0; i < d; i++) q[i] = (rng() * 2 - 1) * 0.1;
    this.poolQ = this.add('pool/q', tf.tensor1d(q));
    this.poolK = glorot('pool/K', d, d);
    // softplus(1.8546) = 2: the oldest step starts 2 logits behind the newest one in the pooling.
    this.recency = this.add('pool/recency', tf.tensor1d([1.8546]));
    this.hidW = glorot('head/hidden/W', 2 * d, d);
    this.hidB = fill('head/hidden/b', d, 0);
    this.headW = glorot('head/out/W', d, 3, 0.5);
    // Distances start near 1 ATR: softplus(0.5413) = 1.
    this.headB = this.add('head/out/b', tf.tensor1d([0, 0.5413, 0.5413]));
    this.parameterCount = this.params.reduce((s, p) => s + p.v.size, 0);

    const pe = new Float32Array(T * d);
    for (let t = 0; t < T; t++) {
      for (let i = 0; i < d; i += 2) {
        const angle = t / Math.pow(10_000, i / d);
        pe[t * d + i] = Math.sin(angle);
        if (i + 1 < d) pe[t * d + i + 1] = Math.cos(angle);
      }
    }
    this.posEnc = tf.tensor2d(pe, [T, d]);
    // -1 for the oldest step .. 0 for the newest: multiplied by the learned recency strength.
    const ramp = new Float32Array(T);
    for (let t = 0; t < T; t++) ramp[t] = T === 1 ? 0 : (t - (T - 1)) / (T - 1);
    this.ramp = tf.tensor1d(ramp);
  }

  get steps(): number {
    return this.config.steps;
  }

  get featureCount(): number {
    return this.config.featureCount;
  }

  private add(name: string, init: tf.Tensor): tf.Variable {
    const v = tf.variable(init, true);
    init.dispose();
    this.params.push({ name, v });
    return v;
  }

  // -------------------------------------------------------------------------------------------
  // Forward pass
  // -------------------------------------------------------------------------------------------

  /**
   * Dropout by multiplying with a mask of shape [samples or copies, 1.., d] (one mask per sample
   * shared over time). Masks are drawn in JS (cheaper than tf.dropout's kernels on wasm): from the
   * training generator, or, for Monte Carlo passes, fixed per copy and dropout site (drawn once from
   * the seed and cached), so predictions are reproducible.
   */
  /**
   * Dropout on h [G*R, d] viewed as [G, R, d]: one mask per group, shared by its R rows. Training:
   * G = samples, R = tokens (a mask per sample, shared over time). Monte Carlo: G = copies,
   * R = samples x tokens (a fixed mask per copy and site, shared by every sample).
   */
  private drop(h: tf.Tensor2D, ctx: DropCtx, groups: number): tf.Tensor2D {
    const rate = this.config.dropout;
    if (!ctx.active || rate === 0) return h;
    const [rows, d] = h.shape;
    const site = ctx.site++;
    const mask = ctx.copies > 0 ? this.mcMask(groups, site) : tf.tensor3d(dropMask(groups * d, rate, ctx.rng), [groups, 1, d]);
    return h.reshape([groups, rows / groups, d]).mul(mask).reshape([rows, d]);
  }

  /** The fixed Monte Carlo mask [S, 1, d] of a dropout site (drawn once from the seed, then cached). */
  private mcMask(S: number, site: number): tf.Tensor {
    const key = `${S}:${site}`;
    let mask = this.mcMasks.get(key);
    if (mask === undefined) {
      const d = this.config.dModel;
      const rng = mulberry32((this.config.seed * 1009 + site * 9176 + 17) >>> 0);
      mask = tf.keep(tf.tensor3d(dropMask(S * d, this.config.dropout, rng), [S, 1, d]));
      this.mcMasks.set(key, mask);
    }
    return mask;
  }

  /** Layer norm over the last axis, without gain and bias: the linear projection after every norm absorbs them. */
  private layerNorm(h: tf.Tensor2D): tf.Tensor2D {
    const c = h.sub(h.mean(-1, true));
    return c.mul(tf.rsqrt(c.square().mean(-1, true).add(LN_EPS)));
  }

  /** Multi-head self-attention over a [n*T, d] block of n sequences of T tokens. */
  private attention(a: tf.Tensor2D, p: LayerParams, n: number): tf.Tensor2D {
    const { dModel: d, heads: H } = this.config;
    const T = this.tokens;
    const dh = d / H;
    // [n*T, d] -> [n*H, T, dh]: heads become batch entries of one batched matmul.
    const proj = (W: tf.Variable, b: tf.Variable): tf.Tensor3D => dense(a, W, b).reshape([n, T, H, dh]).transpose([0, 2, 1, 3]).reshape([n * H, T, dh]);
    const q = proj(p.qW, p.qB);
    const k = proj(p.kW, p.kB);
    const v = proj(p.vW, p.vB);
    const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(dh));
    const ctx = tf.matMul(tf.softmax(scores), v).reshape([n, H, T, dh]).transpose([0, 2, 1, 3]).reshape<tf.Tensor2D>([n * T, d]);
    return dense(ctx, p.oW, p.oB);
  }

  /**
   * x [n, T, F] -> logit [n'], target [n'], stop [n'], where n' = n, or copies x n (copy-major) for a
   * Monte Carlo pass: the input projection is shared by the copies, which start to differ at the
   * first dropout. The token states stay a 2-D [n'*tokens, d] block (fewer reshapes: each kernel
   * call costs more than the arithmetic at this size). Call inside tf.tidy.
   */
  private forward(x: tf.Tensor3D, ctx: DropCtx): { logit: tf.Tensor1D; target: tf.Tensor1D; stop: tf.Tensor1D } {
    const { steps, featureCount: F, dModel: d, patch } = this.config;
    const T = this.tokens;
    const unique = x.shape[0];
    const S = ctx.active && ctx.copies > 0 ? ctx.copies : 1;
    const n = S * unique;
    // Dropout groups: a mask per copy (Monte Carlo) or per sample (training).
    const groups = S > 1 ? S : n;
    // Patches: `patch` consecutive candles form one token (zero-padded at the oldest end when steps is not a multiple).
    const padded = T * patch > steps ? tf.pad(x, [[0, 0], [T * patch - steps, 0], [0, 0]]) : x;
    const e = dense(padded.reshape<tf.Tensor2D>([unique * T, patch * F]), this.inW, this.inB)
      .reshape([unique, T, d])
      .add(this.posEnc);
    let h: tf.Tensor2D;
    if (S > 1) {
      // [1, n, T, d] x the first site's masks [S, 1, 1, d] broadcasts to the S copies.
      const mask = this.config.dropout > 0 ? this.mcMask(S, ctx.site++).reshape([S, 1, 1, d]) : tf.ones([S, 1, 1, d]);
      h = e.reshape([1, unique, T, d]).mul(mask).reshape([n * T, d]);
    } else {
      h = this.drop(e.reshape<tf.Tensor2D>([n * T, d]), ctx, groups);
    }
    for (const p of this.blocks) {
      h = h.add(this.drop(this.attention(this.layerNorm(h), p, n), ctx, groups));
      h = h.add(this.drop(dense(dense(this.layerNorm(h), p.ff1W, p.ff1B, 'relu'), p.ff2W, p.ff2B), ctx, groups));
    }
    const hn = this.layerNorm(h);
    // Attention pooling: score_t = (h_t K) . q / sqrt(d) - softplus(r) * (T-1-t)/(T-1), computed as h_t . (K q).
    const u = tf.matMul(this.poolK, this.poolQ.reshape<tf.Tensor2D>([d, 1])).mul<tf.Tensor2D>(1 / Math.sqrt(d));
    const scores = tf.matMul(hn, u).reshape([n, T]).add(tf.softplus(this.recency).mul(this.ramp));
    const hn3 = hn.reshape([n, T, d]);
    const pooled = tf.matMul(tf.softmax(scores).reshape([n, 1, T]), hn3).reshape([n, d]);
    const last = hn3.slice([0, T - 1, 0], [n, 1, d]).reshape([n, d]);
    const z = this.drop(dense(tf.concat([pooled, last], 1) as tf.Tensor2D, this.hidW, this.hidB, 'relu'), ctx, groups);
    const out = dense(z, this.headW, this.headB);
    const [logit, target, stop] = tf.split(out, 3, 1).map((t) => t.reshape([n])) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
    return { logit, target: tf.softplus(target), stop: tf.softplus(stop) };
  }

  // -------------------------------------------------------------------------------------------
  // Inference
  // -------------------------------------------------------------------------------------------

  private checkBatch(batch: SequenceBatch, what: string): void {
    if (this.disposed) throw new ModelInputError(`${what}: the model was disposed`);
    if (batch.steps !== this.config.steps || batch.featureCount !== this.config.featureCount) {
      throw new ModelInputError(
        `${what}: the batch has ${batch.steps} steps x ${batch.featureCount} features, the model expects ${this.config.steps} x ${this.config.featureCount}`,
      );
    }
    if (batch.x.length !== batch.count * batch.steps * batch.featureCount) {
      throw new ModelInputError(`${what}: x has ${batch.x.length} values, expected count x steps x featureCount = ${batch.count * batch.steps * batch.featureCount}`);
    }
  }

  predict(batch: SequenceBatch): Promise<Prediction[]> {
    try {
      return Promise.resolve(this.predictSync(batch));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private predictSync(batch: SequenceBatch): Prediction[] {
    this.checkBatch(batch, 'predict');
    const { steps: T, featureCount: F, mcDropout } = this.config;
    const S = mcDropout && this.config.dropout > 0 ? this.config.mcSamples : 1;
    const per = T * F;
    for (let i = 0; i < batch.x.length; i++) {
      if (!Number.isFinite(batch.x[i])) throw new ModelInputError(`predict: feature value ${i} (sample ${Math.floor(i / per)}) is not finite`);
    }
    const out: Prediction[] = [];
    // Bounded memory: at most ~4096 rows (samples x copies) per forward pass.
    const chunk = Math.max(1, Math.floor(4096 / S));
    for (let start = 0; start < batch.count; start += chunk) {
      const n = Math.min(chunk, batch.count - start);
      const values = tf.tidy(() => {
        const x = tf.tensor3d(batch.x.subarray(start * per, (start + n) * per), [n, T, F]);
        // S copies of each sample, copy-major, made inside the forward pass at the first dropout.
        const r = this.forward(x, { active: S > 1, copies: S, rng: noRng, site: 0 });
        const p = tf.sigmoid(r.logit).reshape([S, n]);
        const { mean, variance } = tf.moments(p, 0);
        const target = r.target.reshape([S, n]).mean(0);
        const stop = r.stop.reshape([S, n]).mean(0);
        return tf.stack([mean, tf.sqrt(variance), target, stop]).dataSync();
      });
      for (let i = 0; i < n; i++) {
        const std = values[n + i] ?? 0;
        out.push({
          pUp: values[i] ?? 0.5,
          uncertainty: S > 1 ? Math.min(1, 2 * std) : 0,
          targetDistance: values[2 * n + i] ?? 0,
          stopDistance: values[3 * n + i] ?? 0,
        });
      }
    }
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Training
  // -------------------------------------------------------------------------------------------

  async fit(batch: SequenceBatch, labels: LabelSet, opts: FitOptions): Promise<EpochReport[]> {
    this.checkBatch(batch, 'fit');
    checkLabels(batch, labels, 'fit');
    if (opts.validation !== undefined) {
      this.checkBatch(opts.validation.batch, 'fit (validation)');
      checkLabels(opts.validation.batch, opts.validation.labels, 'fit (validation)');
    }
    if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new ModelInputError(`fit: epochs must be a positive integer, got ${opts.epochs}`);
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new ModelInputError(`fit: batchSize must be a positive integer, got ${opts.batchSize}`);
    if (batch.count === 0) throw new ModelInputError('fit: the batch is empty');

    if (this.trainedEpochs === 0) this.initHeadBiases(labels);
    const { steps: T, featureCount: F, labelSmoothing: eps, regressionWeight: lambda, clipNorm } = this.config;
    const per = T * F;
    const rng = mulberry32((this.config.seed * 31 + this.trainedEpochs * 7 + 3) >>> 0);
    const optimizer = tf.train.adam(this.config.learningRate);
    const vars = this.params.map((p) => p.v);
    const reports: EpochReport[] = [];
    let best = Number.POSITIVE_INFINITY;
    let bestWeights: tf.Tensor[] | undefined;
    let sinceBest = 0;
    const restoreBest = opts.validation !== undefined && opts.restoreBest !== false;
    const order = Array.from({ length: batch.count }, (_, i) => i);
    const bs = Math.min(opts.batchSize, batch.count);
    const xb = new Float32Array(bs * per);
    try {
      for (let e = 0; e < opts.epochs; e++) {
        const t0 = opts.clock?.() ?? 0;
        shuffle(order, rng);
        let lossSum = 0;
        let steps = 0;
        for (let s = 0; s < order.length; s += bs) {
          const n = Math.min(bs, order.length - s);
          const y = new Float32Array(n);
          const w = new Float32Array(n);
          const tg = new Float32Array(n);
          const st = new Float32Array(n);
          const mt = new Float32Array(n);
          const ms = new Float32Array(n);
          for (let j = 0; j < n; j++) {
            const i = order[s + j] ?? 0;
            xb.set(batch.x.subarray(i * per, (i + 1) * per), j * per);
            y[j] = (labels.up[i] ?? 0) * (1 - eps) + eps / 2;
            w[j] = labels.weight[i] ?? 1;
            const a = labels.targetDistance[i] ?? Number.NaN;
            const b = labels.stopDistance[i] ?? Number.NaN;
            tg[j] = Number.isFinite(a) ? a : 0;
            mt[j] = Number.isFinite(a) ? 1 : 0;
            st[j] = Number.isFinite(b) ? b : 0;
            ms[j] = Number.isFinite(b) ? 1 : 0;
          }
          const lossValue = tf.tidy(() => {
            const x = tf.tensor3d(n === bs ? xb : xb.subarray(0, n * per), [n, T, F]);
            const yT = tf.tensor1d(y);
            const wT = tf.tensor1d(w);
            const wSum = tf.maximum(wT.sum(), 1e-8);
            const f = (): tf.Scalar => {
              const r = this.forward(x, { active: true, copies: 0, rng, site: 0 });
              let loss = bceWithLogits(r.logit, yT).mul(wT).sum().div<tf.Scalar>(wSum);
              if (lambda > 0) {
                loss = loss.add(maskedHuber(r.target, tf.tensor1d(tg), tf.tensor1d(mt), wT).mul(lambda));
                loss = loss.add(maskedHuber(r.stop, tf.tensor1d(st), tf.tensor1d(ms), wT).mul(lambda));
              }
              return loss;
            };
            const { value, grads } = tf.variableGrads(f, vars);
            const names = Object.keys(grads);
            const clipped = tf.clipByValue(tf.scalar(clipNorm).div(tf.maximum(globalNorm(names.map((k) => grads[k] as tf.Tensor)), 1e-12)), 0, 1);
            optimizer.applyGradients(names.map((name) => ({ name, tensor: (grads[name] as tf.Tensor).mul(clipped) })));
            return value.dataSync()[0] ?? Number.NaN;
          });
          lossSum += lossValue;
          steps++;
        }
        this.trainedEpochs++;
        let valLogLoss: number | undefined;
        if (opts.validation !== undefined) valLogLoss = this.logLoss(opts.validation.batch, opts.validation.labels);
        const t1 = opts.clock?.() ?? 0;
        const report: EpochReport = { epoch: e + 1, loss: lossSum / Math.max(1, steps), seconds: (t1 - t0) / 1000, ...(valLogLoss !== undefined ? { valLogLoss } : {}) };
        reports.push(report);
        await opts.onEpoch?.(report);
        if (valLogLoss !== undefined) {
          if (valLogLoss < best) {
            best = valLogLoss;
            sinceBest = 0;
            if (restoreBest) {
              bestWeights?.forEach((t) => t.dispose());
              bestWeights = vars.map((v) => v.clone());
            }
          } else {
            sinceBest++;
            if (opts.patience !== undefined && sinceBest >= opts.patience) break;
          }
        }
        if (opts.shouldStop?.() === true) break;
      }
      if (restoreBest && bestWeights !== undefined) vars.forEach((v, i) => v.assign(bestWeights?.[i] as tf.Tensor));
    } finally {
      bestWeights?.forEach((t) => t.dispose());
      optimizer.dispose();
    }
    return reports;
  }

  /** Starts the heads at the training set's weighted base rate and mean distances (faster, calmer first epochs). */
  private initHeadBiases(labels: LabelSet): void {
    let w = 0;
    let up = 0;
    let tSum = 0;
    let tN = 0;
    let sSum = 0;
    let sN = 0;
    for (let i = 0; i < labels.up.length; i++) {
      const wi = labels.weight[i] ?? 1;
      w += wi;
      up += wi * (labels.up[i] ?? 0);
      const a = labels.targetDistance[i] ?? Number.NaN;
      const b = labels.stopDistance[i] ?? Number.NaN;
      if (Number.isFinite(a) && a > 0) {
        tSum += a;
        tN++;
      }
      if (Number.isFinite(b) && b > 0) {
        sSum += b;
        sN++;
      }
    }
    const p = Math.min(0.99, Math.max(0.01, w > 0 ? up / w : 0.5));
    const invSoftplus = (v: number): number => (v > 20 ? v : Math.log(Math.expm1(Math.max(v, 1e-3))));
    const b0 = Math.log(p / (1 - p));
    const b1 = tN > 0 ? invSoftplus(tSum / tN) : 0.5413;
    const b2 = sN > 0 ? invSoftplus(sSum / sN) : 0.5413;
    tf.tidy(() => this.headB.assign(tf.tensor1d([b0, b1, b2])));
  }

  /** Weighted log loss (natural log, no smoothing, deterministic pass) on a labelled set. */
  private logLoss(batch: SequenceBatch, labels: LabelSet): number {
    const { steps: T, featureCount: F } = this.config;
    const per = T * F;
    let sum = 0;
    let wSum = 0;
    for (let start = 0; start < batch.count; start += 2048) {
      const n = Math.min(2048, batch.count - start);
      const r = tf.tidy(() => {
        const x = tf.tensor3d(batch.x.subarray(start * per, (start + n) * per), [n, T, F]);
        const y = tf.tensor1d(labels.up.subarray(start, start + n));
        const w = tf.tensor1d(labels.weight.subarray(start, start + n));
        const out = this.forward(x, { active: false, copies: 0, rng: noRng, site: 0 });
        return tf.stack([bceWithLogits(out.logit, y).mul(w).sum(), w.sum()]).dataSync();
      });
      sum += r[0] ?? 0;
      wSum += r[1] ?? 0;
    }
    return wSum > 0 ? sum / wSum : Number.NaN;
  }

  // -------------------------------------------------------------------------------------------
  // Serialisation
  // -------------------------------------------------------------------------------------------

  async save(): Promise<ModelArtifact> {
    if (this.disposed) throw new ModelInputError('save: the model was disposed');
    const manifest = this.params.map((p) => ({ name: p.name, shape: p.v.shape }));
    const total = this.parameterCount;
    const bytes = new Uint8Array(total * 4);
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const p of this.params) {
      const data = await p.v.data();
      for (let i = 0; i < data.length; i++) view.setFloat32((offset + i) * 4, data[i] ?? 0, true);
      offset += data.length;
    }
    const model = { format: FORMAT, kind: TRANSFORMER_KIND, config: this.config, trainedEpochs: this.trainedEpochs, weights: manifest };
    return { kind: TRANSFORMER_KIND, files: { 'model.json': new TextEncoder().encode(JSON.stringify(model)), 'weights.bin': bytes } };
  }

  /** Loads weights in manifest order (used by loadTransformer). */
  setWeights(manifest: readonly { name: string; shape: number[] }[], bytes: Uint8Array): void {
    if (manifest.length !== this.params.length) throw new ModelFormatError(`the artifact has ${manifest.length} weight tensors, the configuration needs ${this.params.length}`);
    if (bytes.length !== this.parameterCount * 4) throw new ModelFormatError(`weights.bin has ${bytes.length} bytes, the configuration needs ${this.parameterCount * 4}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    this.params.forEach((p, k) => {
      const m = manifest[k];
      if (m === undefined || m.name !== p.name || m.shape.join('x') !== p.v.shape.join('x')) {
        throw new ModelFormatError(`weight ${k} is ${m?.name ?? '?'} [${m?.shape.join(',') ?? ''}], expected ${p.name} [${p.v.shape.join(',')}]`);
      }
      const a = new Float32Array(p.v.size);
      for (let i = 0; i < a.length; i++) a[i] = view.getFloat32((offset + i) * 4, true);
      offset += a.length;
      tf.tidy(() => p.v.assign(tf.tensor(a, p.v.shape)));
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params) p.v.dispose();
    this.posEnc.dispose();
    this.ramp.dispose();
    for (const m of this.mcMasks.values()) m.dispose();
    this.mcMasks.clear();
  }
}

/** x W + b (one fused kernel), optionally through ReLU. */
function dense(x: tf.Tensor2D, W: tf.Variable, b: tf.Variable, activation: 'linear' | 'relu' = 'linear'): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: W, bias: b, activation }) as tf.Tensor2D;
}

/** An inverted-dropout mask: each entry 0 with probability `rate`, else 1 / (1 - rate). */
function dropMask(size: number, rate: number, rng: () => number): Float32Array {
  const m = new Float32Array(size);
  const keep = 1 / (1 - rate);
  for (let i = 0; i < size; i++) m[i] = rng() < rate ? 0 : keep;
  return m;
}

const noRng = (): number => 0.5;

/** Numerically stable binary cross-entropy from logits: max(l,0) - l*y + log(1 + e^-|l|). */
function bceWithLogits(logit: tf.Tensor, y: tf.Tensor): tf.Tensor {
  return tf.relu(logit).sub(logit.mul(y)).add(tf.log1p(tf.exp(tf.abs(logit).neg())));
}

/** Weighted mean Huber loss (delta 1) over the entries with mask 1. */
function maskedHuber(pred: tf.Tensor, target: tf.Tensor, mask: tf.Tensor, w: tf.Tensor): tf.Scalar {
  const err = tf.abs(pred.sub(target));
  const quad = tf.minimum(err, 1);
  const huber = quad.square().mul(0.5).add(err.sub(quad));
  const mw = mask.mul(w);
  return huber.mul(mw).sum().div<tf.Scalar>(tf.maximum(mw.sum(), 1e-8));
}

function globalNorm(ts: tf.Tensor[]): tf.Scalar {
  return tf.sqrt(tf.addN(ts.map((t) => t.square().sum()))) as tf.Scalar;
}

/** Fisher-Yates with the seeded generator. */
function shuffle(a: number[], rng: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}

function checkLabels(batch: SequenceBatch, labels: LabelSet, what: string): void {
  for (const [name, arr] of [
    ['up', labels.up],
    ['targetDistance', labels.targetDistance],
    ['stopDistance', labels.stopDistance],
    ['weight', labels.weight],
  ] as const) {
    if (arr.length !== batch.count) throw new ModelInputError(`${what}: labels.${name} has ${arr.length} values for ${batch.count} samples`);
  }
  for (let i = 0; i < batch.count; i++) {
    const u = labels.up[i] ?? Number.NaN;
    const w = labels.weight[i] ?? Number.NaN;
    if (!(u >= 0 && u <= 1)) throw new ModelInputError(`${what}: labels.up[${i}] = ${u} is not in [0, 1]`);
    if (!(Number.isFinite(w) && w >= 0)) throw new ModelInputError(`${what}: labels.weight[${i}] = ${w} is not a finite non-negative number`);
  }
  for (let i = 0; i < batch.x.length; i++) {
    if (!Number.isFinite(batch.x[i])) throw new ModelInputError(`${what}: feature value ${i} is not finite`);
  }
}

/** A fresh, untrained Transformer. Call initTf() (services/ml/tf.ts) first. Throws ModelInputError for invalid options. */
export function createTransformer(opts: TransformerOptions): TrainableTransformer {
  const r = configSchema.safeParse({ ...TRANSFORMER_DEFAULTS, ...opts });
  if (!r.success) throw new ModelInputError(`createTransformer: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return new Transformer(r.data);
}

const modelJsonSchema = z.object({
  format: z.literal(FORMAT),
  kind: z.literal(TRANSFORMER_KIND),
  config: z.unknown(),
  trainedEpochs: z.number().int().min(0),
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) })),
});

/** Inference-time overrides when loading (e.g. a deterministic pass, fewer Monte Carlo copies). */
export type TransformerLoadOverrides = Partial<Pick<TransformerConfig, 'mcSamples' | 'mcDropout'>>;

/**
 * Rebuilds a saved Transformer: the same configuration and weights, hence the same predictions.
 * Throws ModelFormatError when a file is missing or does not fit.
 */
export function loadTransformer(artifact: ModelArtifact, overrides: TransformerLoadOverrides = {}): Promise<TrainableTransformer> {
  try {
    if (artifact.kind !== TRANSFORMER_KIND) throw new ModelFormatError(`loadTransformer: the artifact is a ${artifact.kind}, not a ${TRANSFORMER_KIND}`);
    const modelFile = artifact.files['model.json'];
    const weights = artifact.files['weights.bin'];
    if (modelFile === undefined || weights === undefined) throw new ModelFormatError('loadTransformer: model.json and weights.bin are both required');
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(modelFile));
    } catch (err) {
      throw new ModelFormatError(`loadTransformer: model.json is not JSON (${(err as Error).message})`, { cause: err });
    }
    const m = modelJsonSchema.safeParse(json);
    if (!m.success) throw new ModelFormatError(`loadTransformer: model.json: ${m.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const c = configSchema.safeParse({ ...(m.data.config as object), ...overrides });
    if (!c.success) throw new ModelFormatError(`loadTransformer: config: ${c.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const model = new Transformer(c.data, m.data.trainedEpochs);
    try {
      model.setWeights(m.data.weights, weights);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return Promise.resolve(model);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
