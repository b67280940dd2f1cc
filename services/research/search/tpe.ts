/**
 * The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio and Kegl, "Algorithms for
 * Hyper-Parameter Optimization", NeurIPS 2011), in its independent form: each dimension has its
 * own density model.
 *
 * The trials so far are split into the best few ("good", the first gamma(n) = min(ceil(n / 10),
 * 25) in the caller's order, as optuna) and the rest ("bad"). Per dimension, l(x) is a Parzen mixture over
 * the good values and g(x) over the bad ones (plus a flat prior component each): truncated normal
 * kernels on [0, 1] whose width is the larger distance to a neighbouring centre (hyperopt's
 * adaptive Parzen estimator), for numbers; smoothed counts for choices. Candidates drawn from l
 * are scored by l(x) / g(x) and the best is proposed: a point that looks like the good trials and
 * unlike the bad ones. All randomness comes from the generator passed in.
 *
 * Coordinates are in the unit cube (numbers) or category indices (choices); services/research/space.ts maps
 * them to config values.
 */
import { normalCdf } from '../stats/normal.js';

export type Dimension = { readonly kind: 'number' } | { readonly kind: 'choice'; readonly size: number };

/** One evaluated point: a unit coordinate per number dimension, a category index per choice dimension. */
export type Point = readonly number[];

export interface TpeOptions {
  /** Candidates drawn from l(x) per proposal (default 24, as hyperopt and optuna). */
  readonly candidates?: number;
  /** Weight of the prior component relative to one observation (default 1). */
  readonly priorWeight?: number;
}

/** How many of n ordered trials are "good". */
export function goodCount(n: number): number {
  return Math.max(1, Math.min(Math.ceil(n / 10), 25));
}

interface Mixture {
  readonly mus: number[];
  readonly sigmas: number[];
  readonly weights: number[];
  /** Normalisers of each kernel truncated to [0, 1]. */
  readonly mass: number[];
}

const PRIOR_MU = 0.5;
const PRIOR_SIGMA = 1;

/** Adaptive Parzen estimator over values in [0, 1], with the flat-ish prior N(0.5, 1) as one more kernel. */
function parzen(values: readonly number[], priorWeight: number): Mixture {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mus: number[] = [];
  const sigmas: number[] = [];
  const weights: number[] = [];
  const minSigma = PRIOR_SIGMA / Math.min(100, n + 1);
  for (let i = 0; i < n; i++) {
    const mu = sorted[i] as number;
    const left = i > 0 ? mu - (sorted[i - 1] as number) : mu;
    const right = i < n - 1 ? (sorted[i + 1] as number) - mu : 1 - mu;
    mus.push(mu);
    sigmas.push(Math.min(PRIOR_SIGMA, Math.max(minSigma, left, right)));
    weights.push(1);
  }
  mus.push(PRIOR_MU);
  sigmas.push(PRIOR_SIGMA);
  weights.push(priorWeight);
  const total = weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) weights[i] = (weights[i] as number) / total;
  const mass = mus.map((m, i) => normalCdf((1 - m) / (sigmas[i] as number)) - normalCdf((0 - m) / (sigmas[i] as number)));
  return { mus, sigmas, weights, mass };
}

function logDensity(mx: Mixture, x: number): number {
  let p = 0;
  for (let i = 0; i < mx.mus.length; i++) {
    const s = mx.sigmas[i] as number;
    const z = (x - (mx.mus[i] as number)) / s;
    p += ((mx.weights[i] as number) * Math.exp(-0.5 * z * z)) / (s * Math.sqrt(2 * Math.PI) * Math.max(1e-12, mx.mass[i] as number));
  }
  return Math.log(Math.max(p, 1e-300));
}

/** A standard normal draw (Box-Muller) from the uniform generator. */
function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function sampleMixture(mx: Mixture, rand: () => number): number {
  let r = rand();
  let k = 0;
  while (k < mx.weights.length - 1 && r >= (mx.weights[k] as number)) {
    r -= mx.weights[k] as number;
    k++;
  }
  const mu = mx.mus[k] as number;
  const s = mx.sigmas[k] as number;
  // Rejection sampling of the truncated kernel; every kernel has real mass on [0, 1] (sigma <= 1).
  for (let tries = 0; tries < 100; tries++) {
    const x = mu + s * gaussian(rand);
    if (x >= 0 && x < 1) return x;
  }
  return Math.min(Math.max(mu, 0), 1 - 1e-12);
}

function categorical(values: readonly number[], size: number, priorWeight: number): number[] {
  const w = new Array<number>(size).fill(priorWeight / size);
  for (const v of values) w[v] = (w[v] as number) + 1;
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/**
 * Proposes the next point from the trials so far, `ordered` best first (the caller's ranking:
 * a scalar objective, or Pareto rank for several). Needs at least two trials.
 */
export function proposeTpe(dims: readonly Dimension[], ordered: readonly Point[], rand: () => number, opts: TpeOptions = {}): number[] {
  if (ordered.length < 2) throw new RangeError('TPE needs at least two evaluated trials');
  const candidates = opts.candidates ?? 24;
  const priorWeight = opts.priorWeight ?? 1;
  const nGood = goodCount(ordered.length);
  const good = ordered.slice(0, nGood);
  const bad = ordered.slice(nGood);
  const best = new Array<number>(dims.length);
  // Dimensions are independent, so each takes its best candidate on its own l/g ratio.
  for (let d = 0; d < dims.length; d++) {
    const dim = dims[d] as Dimension;
    const gv = good.map((p) => p[d] as number);
    const bv = bad.map((p) => p[d] as number);
    if (dim.kind === 'choice') {
      const l = categorical(gv, dim.size, priorWeight);
      const g = categorical(bv, dim.size, priorWeight);
      let bestScore = -Infinity;
      let pick = 0;
      for (let c = 0; c < candidates; c++) {
        let r = rand();
        let k = 0;
        while (k < dim.size - 1 && r >= (l[k] as number)) {
          r -= l[k] as number;
          k++;
        }
        const score = Math.log(l[k] as number) - Math.log(g[k] as number);
        if (score > bestScore) {
          bestScore = score;
          pick = k;
        }
      }
      best[d] = pick;
      continue;
    }
    const l = parzen(gv, priorWeight);
    const g = parzen(bv, priorWeight);
    let bestScore = -Infinity;
    let pick = 0.5;
    for (let c = 0; c < candidates; c++) {
      const x = sampleMixture(l, rand);
      const score = logDensity(l, x) - logDensity(g, x);
      if (score > bestScore) {
        bestScore = score;
        pick = x;
      }
    }
    best[d] = pick;
  }
  return best;
}
