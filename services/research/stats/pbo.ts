/**
 * The probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV;
 * Bailey, Borwein, Lopez de Prado and Zhu, "The Probability of Backtest Overfitting", Journal of
 * Computational Finance 20(4), 2017).
 *
 * Take the returns of every trial over the same observations (rows = time, one column per trial),
 * cut the rows into S equal blocks, and for every way of choosing S/2 blocks as "in sample" (the
 * rest, its complement, "out of sample"): pick the trial that is best in sample and find its
 * relative rank w among all trials out of sample (w = rank / (N + 1), the best ranking N). The
 * logit l = ln(w / (1 - w)) is <= 0 when the in-sample winner is at or below the median out of
 * sample. PBO is the share of splits with l <= 0: the probability that selecting by in-sample
 * performance picked something no better than the median out of sample.
 */

/** How a trial's performance over a set of rows is measured. */
export type PboMetric = 'sharpe' | 'mean';

export interface PboSplit {
  /** The in-sample winner (column index). */
  readonly best: number;
  readonly inSample: number;
  readonly outOfSample: number;
  /** Relative out-of-sample rank of the winner, in (0, 1). */
  readonly rank: number;
  readonly logit: number;
}

export interface PboResult {
  /** Share of splits whose logit is <= 0; null without at least two trials. */
  readonly pbo: number | null;
  readonly splits: readonly PboSplit[];
  readonly blocks: number;
  readonly trials: number;
  /** Rows used (a remainder that does not fill the last block is left out, from the start). */
  readonly rows: number;
  /** Share of splits whose in-sample winner loses out of sample (performance below 0). */
  readonly probabilityOfLoss: number | null;
  /** Slope of the out-of-sample on the in-sample performance of the winners (degradation; negative is typical of overfitting). */
  readonly degradationSlope: number | null;
}

/** All k-subsets of 0..n-1, in lexicographic order. */
export function combinations(n: number, k: number): number[][] {
  const out: number[][] = [];
  const cur: number[] = [];
  const rec = (start: number): void => {
    if (cur.length === k) {
      out.push([...cur]);
      return;
    }
    for (let i = start; i <= n - (k - cur.length); i++) {
      cur.push(i);
      rec(i + 1);
      cur.pop();
    }
  };
  rec(0);
  return out;
}

/**
 * CSCV over `columns` (one array of returns per trial, all the same length) cut into `blocks`
 * (even, at least 2) blocks. Ties in rank share the mean of their ranks.
 */
export function probabilityOfBacktestOverfitting(columns: readonly ArrayLike<number>[], blocks: number, metric: PboMetric = 'sharpe'): PboResult {
  if (!Number.isInteger(blocks) || blocks < 2 || blocks % 2 !== 0) throw new RangeError(`PBO: blocks must be an even integer >= 2, got ${blocks}`);
  const n = columns.length;
  const length = n > 0 ? (columns[0] as ArrayLike<number>).length : 0;
  for (const c of columns) if (c.length !== length) throw new RangeError('PBO: every trial needs the same number of observations');
  const size = Math.floor(length / blocks);
  const empty: PboResult = { pbo: null, splits: [], blocks, trials: n, rows: size * blocks, probabilityOfLoss: null, degradationSlope: null };
  if (n < 2 || size < 1 || (metric === 'sharpe' && size * (blocks / 2) < 2)) return empty;
  const skip = length - size * blocks;
  // Per trial and block: count, sum and sum of squares, so each split costs O(N x S).
  const sum = new Float64Array(n * blocks);
  const sq = new Float64Array(n * blocks);
  for (let j = 0; j < n; j++) {
    const col = columns[j] as ArrayLike<number>;
    for (let b = 0; b < blocks; b++) {
      let s = 0;
      let q = 0;
      for (let r = skip + b * size; r < skip + (b + 1) * size; r++) {
        const x = col[r] as number;
        s += x;
        q += x * x;
      }
      sum[j * blocks + b] = s;
      sq[j * blocks + b] = q;
    }
  }
  const perf = (j: number, set: readonly number[]): number => {
    let s = 0;
    let q = 0;
    for (const b of set) {
      s += sum[j * blocks + b] as number;
      q += sq[j * blocks + b] as number;
    }
    const count = set.length * size;
    const m = s / count;
    if (metric === 'mean') return m;
    const v = (q - count * m * m) / (count - 1);
    // A trial without spread (e.g. no trades: all zero) has no Sharpe: it ranks as 0.
    return v > 1e-24 ? m / Math.sqrt(v) : 0;
  };
  const splits: PboSplit[] = [];
  const all = Array.from({ length: blocks }, (_, i) => i);
  for (const is of combinations(blocks, blocks / 2)) {
    const oos = all.filter((b) => !is.includes(b));
    let best = 0;
    let bestIs = -Infinity;
    const outPerf = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const p = perf(j, is);
      if (p > bestIs) {
        bestIs = p;
        best = j;
      }
      outPerf[j] = perf(j, oos);
    }
    const mine = outPerf[best] as number;
    let below = 0;
    let ties = 0;
    for (let j = 0; j < n; j++) {
      const x = outPerf[j] as number;
      if (x < mine) below++;
      else if (x === mine) ties++;
    }
    // Ranks 1 (worst) .. N (best); tied values share the mean of their ranks.
    const rank = (below + (ties + 1) / 2) / (n + 1);
    splits.push({ best, inSample: bestIs, outOfSample: mine, rank, logit: Math.log(rank / (1 - rank)) });
  }
  const overfit = splits.filter((s) => s.logit <= 0).length;
  const losses = splits.filter((s) => s.outOfSample < 0).length;
  return { pbo: overfit / splits.length, splits, blocks, trials: n, rows: size * blocks, probabilityOfLoss: losses / splits.length, degradationSlope: slope(splits) };
}

/** Least-squares slope of out-of-sample on in-sample performance; null without spread. */
function slope(splits: readonly PboSplit[]): number | null {
  const k = splits.length;
  if (k < 2) return null;
  let mx = 0;
  let my = 0;
  for (const s of splits) {
    mx += s.inSample;
    my += s.outOfSample;
  }
  mx /= k;
  my /= k;
  let sxy = 0;
  let sxx = 0;
  for (const s of splits) {
    sxy += (s.inSample - mx) * (s.outOfSample - my);
    sxx += (s.inSample - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}
