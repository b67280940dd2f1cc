/**
 * The probabilistic and deflated Sharpe ratios (Bailey and Lopez de Prado, "The Deflated Sharpe
 * Ratio: Correcting for Selection Bias, Backtest Overfitting and Non-Normality", Journal of
 * Portfolio Management 40(5), 2014).
 *
 * The best of N backtests has a high Sharpe ratio even when every strategy is worthless: the
 * maximum of N noisy estimates grows with N. The DSR is the probability that the true Sharpe
 * ratio of the selected strategy exceeds the Sharpe ratio expected from the best of N skill-less
 * trials, given the track record's length, skewness and kurtosis. Every Sharpe ratio here is per
 * observation (not annualised) and in the same units as the returns' frequency.
 */
import { normalCdf, normalInv } from './normal.js';
import { moments, periodSharpe } from './moments.js';

/** The Euler-Mascheroni constant. */
const EULER_GAMMA = 0.5772156649015329;

/**
 * The expected maximum Sharpe ratio of N independent trials whose Sharpe estimates have variance
 * `variance` and true value 0: sqrt(V) x ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))). 0 for N <= 1.
 */
export function expectedMaxSharpe(trials: number, variance: number): number {
  if (!(trials > 1) || !(variance > 0)) return 0;
  return Math.sqrt(variance) * ((1 - EULER_GAMMA) * normalInv(1 - 1 / trials) + EULER_GAMMA * normalInv(1 - 1 / (trials * Math.E)));
}

/**
 * The probabilistic Sharpe ratio: P(true SR > benchmark) for an observed per-period Sharpe `sr` over
 * `observations` returns with the given skewness and kurtosis (not in excess):
 * Z[(sr - sr*) sqrt(T - 1) / sqrt(1 - skew sr + (kurt - 1) / 4 sr^2)].
 */
export function probabilisticSharpe(sr: number, benchmark: number, observations: number, skew: number, kurtosis: number): number {
  if (observations < 2) return NaN;
  const v = 1 - skew * sr + ((kurtosis - 1) / 4) * sr * sr;
  if (!(v > 0)) return NaN;
  return normalCdf(((sr - benchmark) * Math.sqrt(observations - 1)) / Math.sqrt(v));
}

export interface DeflatedSharpe {
  /** The selected series' per-period Sharpe ratio. */
  readonly sharpe: number;
  /** The benchmark: the expected maximum Sharpe of `trials` skill-less trials. */
  readonly expectedMax: number;
  /** P(true Sharpe > expectedMax). */
  readonly dsr: number;
  readonly trials: number;
  /** Variance of the trials' per-period Sharpe ratios. */
  readonly trialSharpeVariance: number;
  readonly observations: number;
  readonly skew: number;
  readonly kurtosis: number;
}

/** DSR from the statistics directly (the paper's inputs). */
export function deflatedSharpe(sr: number, trials: number, trialSharpeVariance: number, observations: number, skew: number, kurtosis: number): DeflatedSharpe {
  const expectedMax = expectedMaxSharpe(trials, trialSharpeVariance);
  return { sharpe: sr, expectedMax, dsr: probabilisticSharpe(sr, expectedMax, observations, skew, kurtosis), trials, trialSharpeVariance, observations, skew, kurtosis };
}

/**
 * DSR of the selected return series given the Sharpe ratios of every trial of the search (the
 * selected one included; trials without a defined Sharpe count as trials with Sharpe 0, since
 * they were tried). Null when the selected series has no defined Sharpe.
 */
export function deflatedSharpeOf(selected: ArrayLike<number>, trialSharpes: readonly (number | null)[]): DeflatedSharpe | null {
  const sr = periodSharpe(selected);
  if (sr === null) return null;
  const s = trialSharpes.map((x) => x ?? 0);
  const m = moments(selected);
  const n = s.length;
  let mu = 0;
  for (const x of s) mu += x;
  mu /= n || 1;
  let v = 0;
  for (const x of s) v += (x - mu) ** 2;
  v = n > 1 ? v / (n - 1) : 0;
  return deflatedSharpe(sr, Math.max(1, n), v, m.n, m.skew, m.kurtosis);
}
