/**
 * Classification metrics of probability forecasts against 0/1 outcomes. Pure functions over
 * arrays; samples with a NaN outcome are skipped by every metric.
 */

/** Mean negative log-likelihood (natural log); probabilities are clamped to [eps, 1 - eps]. */
export function logLoss(p: ArrayLike<number>, y: ArrayLike<number>, eps = 1e-12): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const yi = y[i]!;
    if (Number.isNaN(yi)) continue;
    const pi = Math.min(Math.max(p[i]!, eps), 1 - eps);
    s -= yi * Math.log(pi) + (1 - yi) * Math.log(1 - pi);
    n++;
  }
  return n > 0 ? s / n : NaN;
}

/** Brier score: mean squared difference between probability and outcome. */
export function brierScore(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const yi = y[i]!;
    if (Number.isNaN(yi)) continue;
    s += (p[i]! - yi) ** 2;
    n++;
  }
  return n > 0 ? s / n : NaN;
}

/** Share of samples where (p >= threshold) equals the outcome. */
export function accuracy(p: ArrayLike<number>, y: ArrayLike<number>, threshold = 0.5): number {
  let ok = 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const yi = y[i]!;
    if (Number.isNaN(yi)) continue;
    if ((p[i]! >= threshold ? 1 : 0) === yi) ok++;
    n++;
  }
  return n > 0 ? ok / n : NaN;
}

/**
 * Area under the ROC curve: the probability that a random positive is scored above a random
 * negative, ties counting one half (the Mann-Whitney statistic with mid-ranks). NaN when one class
 * is absent.
 */
export function auc(p: ArrayLike<number>, y: ArrayLike<number>): number {
  const idx: number[] = [];
  for (let i = 0; i < p.length; i++) if (!Number.isNaN(y[i]!)) idx.push(i);
  idx.sort((a, b) => p[a]! - p[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let k = 0; k < idx.length; ) {
    // A run of tied scores shares the mean of its ranks (1-based).
    let e = k;
    while (e + 1 < idx.length && p[idx[e + 1]!] === p[idx[k]!]) e++;
    const midRank = (k + 1 + e + 1) / 2;
    for (let m = k; m <= e; m++) {
      if (y[idx[m]!] === 1) {
        pos++;
        rankSumPos += midRank;
      }
    }
    k = e + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** One reliability bin: forecasts in [lo, hi). */
export interface CalibrationBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean forecast and observed frequency of the bin (NaN when empty). */
  readonly meanPredicted: number;
  readonly observedRate: number;
}

/** Reliability diagram: `bins` equal-width bins over [0, 1] (p = 1 goes in the last). */
export function calibrationBins(p: ArrayLike<number>, y: ArrayLike<number>, bins = 10): CalibrationBin[] {
  const cnt = new Float64Array(bins);
  const sp = new Float64Array(bins);
  const sy = new Float64Array(bins);
  for (let i = 0; i < p.length; i++) {
    const yi = y[i]!;
    if (Number.isNaN(yi)) continue;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p[i]! * bins)));
    cnt[b] = cnt[b]! + 1;
    sp[b] = sp[b]! + p[i]!;
    sy[b] = sy[b]! + yi;
  }
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: cnt[b]!,
    meanPredicted: cnt[b]! > 0 ? sp[b]! / cnt[b]! : NaN,
    observedRate: cnt[b]! > 0 ? sy[b]! / cnt[b]! : NaN,
  }));
}

/** Expected calibration error: count-weighted mean |meanPredicted - observedRate| over the bins. */
export function expectedCalibrationError(bins: readonly CalibrationBin[]): number {
  let n = 0;
  let s = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    n += b.count;
    s += b.count * Math.abs(b.meanPredicted - b.observedRate);
  }
  return n > 0 ? s / n : NaN;
}

/** Precision of the confident calls in one direction. */
export interface ConfidentPrecision {
  readonly threshold: number;
  /** Samples whose effective confidence in the direction reached the threshold. */
  readonly count: number;
  /** Share of them whose outcome agreed (long: up = 1; short: up = 0), NaN when count is 0. */
  readonly precision: number;
  /** count / labelled samples. */
  readonly coverage: number;
}

/**
 * Precision at effective confidence >= threshold. Long: confidence = pUp * (1 - u), right when
 * up = 1. Short: confidence = (1 - pUp) * (1 - u), right when up = 0 (the long target was NOT hit
 * first: this is not a short trade's own barrier, only the complement of the long label).
 */
export function precisionAtConfidence(p: ArrayLike<number>, y: ArrayLike<number>, direction: 'long' | 'short', threshold = 0.7, uncertainty?: ArrayLike<number>): ConfidentPrecision {
  let count = 0;
  let right = 0;
  let n = 0;
  for (let i = 0; i < p.length; i++) {
    const yi = y[i]!;
    if (Number.isNaN(yi)) continue;
    n++;
    const u = uncertainty ? uncertainty[i]! : 0;
    const conf = (direction === 'long' ? p[i]! : 1 - p[i]!) * (1 - u);
    if (conf < threshold) continue;
    count++;
    if ((direction === 'long' ? 1 : 0) === yi) right++;
  }
  return { threshold, count, precision: count > 0 ? right / count : NaN, coverage: n > 0 ? count / n : NaN };
}

/** Every metric of one set of forecasts. */
export interface MetricSet {
  readonly samples: number;
  readonly positiveRate: number;
  readonly logLoss: number;
  readonly brier: number;
  readonly auc: number;
  /** Approximate standard error of the AUC (Hanley & McNeil 1982). */
  readonly aucStdErr: number;
  readonly accuracy: number;
  readonly calibration: readonly CalibrationBin[];
  readonly ece: number;
  readonly precisionLong70: ConfidentPrecision;
  readonly precisionShort70: ConfidentPrecision;
}

/** Hanley-McNeil standard error of an AUC with `pos` positives and `neg` negatives. */
export function aucStandardError(a: number, pos: number, neg: number): number {
  if (!(pos > 0 && neg > 0) || Number.isNaN(a)) return NaN;
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (pos - 1) * (q1 - a * a) + (neg - 1) * (q2 - a * a)) / (pos * neg));
}

/** Computes the MetricSet of forecasts `p` (and optional uncertainties) against outcomes `y`. */
export function computeMetrics(p: ArrayLike<number>, y: ArrayLike<number>, uncertainty?: ArrayLike<number>): MetricSet {
  let n = 0;
  let pos = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i]!)) continue;
    n++;
    pos += y[i]!;
  }
  const a = auc(p, y);
  const cal = calibrationBins(p, y, 10);
  return {
    samples: n,
    positiveRate: n > 0 ? pos / n : NaN,
    logLoss: logLoss(p, y),
    brier: brierScore(p, y),
    auc: a,
    aucStdErr: aucStandardError(a, pos, n - pos),
    accuracy: accuracy(p, y),
    calibration: cal,
    ece: expectedCalibrationError(cal),
    precisionLong70: precisionAtConfidence(p, y, 'long', 0.7, uncertainty),
    precisionShort70: precisionAtConfidence(p, y, 'short', 0.7, uncertainty),
  };
}
