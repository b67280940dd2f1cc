/** Sample moments of a return series: mean, deviation, skewness, kurtosis and the Sharpe ratio. */

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length > 0 ? s / xs.length : NaN;
}

/** Sample standard deviation (n - 1); NaN below two values. */
export function stdDev(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((xs[i] as number) - m) ** 2;
  return Math.sqrt(ss / (n - 1));
}

export interface Moments {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n - 1). */
  readonly sd: number;
  /** Skewness, the third standardised central moment (population form, as in Bailey and Lopez de Prado). */
  readonly skew: number;
  /** Kurtosis, the fourth standardised central moment, NOT in excess: 3 for a normal distribution. */
  readonly kurtosis: number;
}

/** The moments of a series; skew 0 and kurtosis 3 (normal) when the series has no spread. */
export function moments(xs: ArrayLike<number>): Moments {
  const n = xs.length;
  const m = mean(xs);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = (xs[i] as number) - m;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const sd = stdDev(xs);
  if (!(m2 > 0)) return { n, mean: m, sd: Number.isNaN(sd) ? 0 : sd, skew: 0, kurtosis: 3 };
  return { n, mean: m, sd, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

/** Per-period Sharpe ratio (mean / sample deviation, not annualised, risk-free 0); null when undefined. */
export function periodSharpe(xs: ArrayLike<number>): number | null {
  if (xs.length < 2) return null;
  const sd = stdDev(xs);
  if (!(sd > 0)) return null;
  return mean(xs) / sd;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics (type 7, as R and numpy). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  return a + (h - lo) * ((sorted[hi] as number) - a);
}

/** The q-quantile of unsorted values (copied and sorted). */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  return quantileSorted(s, q);
}
