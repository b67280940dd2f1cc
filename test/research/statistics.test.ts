/**
 * The research statistics against published or hand-worked values: the normal distribution, the
 * deflated Sharpe ratio (the numerical example of Bailey and Lopez de Prado 2014), CSCV's PBO on
 * matrices small enough to enumerate by hand, walk-forward efficiency and parameter stability.
 */
import { describe, expect, it } from 'vitest';
import { normalCdf, normalInv } from '../../services/research/stats/normal.js';
import { deflatedSharpe, deflatedSharpeOf, expectedMaxSharpe, probabilisticSharpe } from '../../services/research/stats/deflatedSharpe.js';
import { combinations, probabilityOfBacktestOverfitting } from '../../services/research/stats/pbo.js';
import { moments, quantile } from '../../services/research/stats/moments.js';
import { overallWalkForwardEfficiency, parameterStability, walkForwardEfficiency } from '../../services/research/stats/walkForward.js';
import { seededRandom } from '../../services/ml/random.js';

describe('normal distribution', () => {
  it('matches tabulated quantiles and CDF values', () => {
    expect(normalInv(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalInv(0.99)).toBeCloseTo(2.326348, 5);
    expect(normalInv(0.5)).toBeCloseTo(0, 9);
    expect(normalInv(0.001)).toBeCloseTo(-3.090232, 5);
    expect(normalCdf(1.96)).toBeCloseTo(0.975002, 5);
    expect(normalCdf(-1)).toBeCloseTo(0.158655, 5);
    for (const p of [0.001, 0.02, 0.3, 0.7, 0.99, 0.9999]) expect(normalCdf(normalInv(p))).toBeCloseTo(p, 6);
  });
});

describe('deflated Sharpe ratio', () => {
  it("reproduces the paper's numerical example: N = 100, V = 1/2 annualised, SR 2.5 over 1250 days, skew -3, kurtosis 10", () => {
    // Per-day figures: SR = 2.5 / sqrt(250), V = 0.5 / 250 (the paper annualises with 250 days).
    const sr = 2.5 / Math.sqrt(250);
    const r = deflatedSharpe(sr, 100, 0.5 / 250, 1250, -3, 10);
    // The paper: SR0 = 0.1132 per day (about 1.79 annualised) and DSR = 0.9004.
    expect(r.expectedMax).toBeCloseTo(0.1132, 4);
    expect(r.dsr).toBeCloseTo(0.9004, 3);
  });

  it('is the probabilistic Sharpe against 0 for a single trial, and falls as the trials grow', () => {
    expect(expectedMaxSharpe(1, 0.01)).toBe(0);
    // Hand-worked PSR: SR 0.1 over 101 normal returns: z = 0.1 x 10 / sqrt(1 + 2/4 x 0.01) = 0.99751.
    expect(probabilisticSharpe(0.1, 0, 101, 0, 3)).toBeCloseTo(normalCdf(1 / Math.sqrt(1.005)), 9);
    const a = deflatedSharpe(0.1, 10, 0.002, 500, 0, 3).dsr;
    const b = deflatedSharpe(0.1, 1000, 0.002, 500, 0, 3).dsr;
    expect(a).toBeGreaterThan(b);
  });

  it('computes moments and the trial variance from series', () => {
    const m = moments([1, 2, 3, 4, 10]);
    // Hand-worked: mean 4, deviations -3,-2,-1,0,6; m2 = 50/5 = 10, m3 = (-27-8-1+216)/5 = 36, m4 = (81+16+1+1296)/5 = 278.8.
    expect(m.mean).toBe(4);
    expect(m.skew).toBeCloseTo(36 / 10 ** 1.5, 12);
    expect(m.kurtosis).toBeCloseTo(278.8 / 100, 12);
    const d = deflatedSharpeOf([0.01, -0.005, 0.02, 0.0, 0.01], [0.5, 0.1, null]);
    expect(d?.trials).toBe(3);
    // Trial Sharpes 0.5, 0.1, 0 (untradeable counts as 0): mean 0.2, variance = (0.3^2 + 0.1^2 + 0.2^2) / 2 = 0.07.
    expect(d?.trialSharpeVariance).toBeCloseTo(0.07, 12);
  });
});

describe('probability of backtest overfitting (CSCV)', () => {
  it('enumerates C(S, S/2) splits', () => {
    expect(combinations(4, 2)).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
      [1, 2],
      [1, 3],
      [2, 3],
    ]);
    expect(combinations(10, 5)).toHaveLength(252);
  });

  it('is 1/3 on a two-trial, four-block matrix worked by hand', () => {
    // A = [2, 0, 2, 0], B = [0, 1, 0, 1], one row per block, performance = mean.
    // Splits {0,1} {0,3} {1,2} {2,3}: A wins in and out of sample (rank 2 of 2: w = 2/3).
    // Split {0,2}: A wins in sample (2 vs 0) and is last out of sample (0 vs 1): w = 1/3.
    // Split {1,3}: B wins in sample (1 vs 0) and is last out of sample (0 vs 2): w = 1/3.
    const r = probabilityOfBacktestOverfitting([[2, 0, 2, 0], [0, 1, 0, 1]], 4, 'mean');
    expect(r.splits).toHaveLength(6);
    expect(r.pbo).toBeCloseTo(2 / 6, 12);
    expect(r.splits.map((s) => s.rank)).toEqual([2 / 3, 1 / 3, 2 / 3, 2 / 3, 1 / 3, 2 / 3]);
    expect(r.splits[0]?.logit).toBeCloseTo(Math.log(2), 12);
  });

  it('is 1 when the in-sample winner is always the loser out of sample, with ties sharing ranks', () => {
    // A = [4,0,0,0] is lucky in one block, B steady, C lucky in another (worked out in the test's notes):
    // every split's winner ranks first (worst) or tied-worst out of sample.
    const r = probabilityOfBacktestOverfitting([[4, 0, 0, 0], [1, 1, 1, 1], [0, 0, 0, 3]], 4, 'mean');
    expect(r.pbo).toBe(1);
    // Split {0,3}: A wins (2 vs 1 vs 1.5); out of sample A = 0 ties with C = 0: ranks 1 and 2 -> 1.5 / 4.
    expect(r.splits[2]?.rank).toBeCloseTo(1.5 / 4, 12);
  });

  it('is 0 when one trial dominates everywhere and about 1/2 for pure noise', () => {
    const rand = seededRandom(7);
    const noise = (): number[] => Array.from({ length: 320 }, () => rand() - 0.5);
    const good = Array.from({ length: 320 }, (_, i) => 0.3 + 0.05 * Math.sin(i));
    expect(probabilityOfBacktestOverfitting([good, noise(), noise(), noise()], 8).pbo).toBe(0);
    // One matrix's splits are strongly dependent, so average over 20 noise matrices (expected 1/2).
    let sum = 0;
    for (let k = 0; k < 20; k++) {
      const r = probabilityOfBacktestOverfitting(Array.from({ length: 20 }, noise), 10);
      expect(r.splits).toHaveLength(252);
      sum += r.pbo as number;
    }
    expect(sum / 20).toBeGreaterThan(0.35);
    expect(sum / 20).toBeLessThan(0.65);
  });

  it('refuses an odd block count', () => {
    expect(() => probabilityOfBacktestOverfitting([[1], [2]], 3)).toThrow(RangeError);
  });
});

describe('walk-forward efficiency and stability', () => {
  it('compares return rates per day', () => {
    // 10% over 20 IS days = 0.5%/day; 2% over 5 OOS days = 0.4%/day: WFE 0.8.
    expect(walkForwardEfficiency({ inSamplePct: 10, inSampleDays: 20, outOfSamplePct: 2, outOfSampleDays: 5 })).toBeCloseTo(0.8, 12);
    expect(walkForwardEfficiency({ inSamplePct: -1, inSampleDays: 20, outOfSamplePct: 2, outOfSampleDays: 5 })).toBeNull();
    // Pooled: (2 - 1) / 10 OOS days over (10 + 10) / 40 IS days = 0.1 / 0.5.
    expect(
      overallWalkForwardEfficiency([
        { inSamplePct: 10, inSampleDays: 20, outOfSamplePct: 2, outOfSampleDays: 5 },
        { inSamplePct: 10, inSampleDays: 20, outOfSamplePct: -1, outOfSampleDays: 5 },
      ]),
    ).toBeCloseTo(0.2, 12);
  });

  it('measures how far the choices moved across folds', () => {
    // Values 1, 2, 3 in a range of width 10: sample sd 1, dispersion 0.1, spread 0.2.
    const s = parameterStability({ kind: 'number', values: [1, 2, 3], min: 0, max: 10 });
    expect(s.dispersion).toBeCloseTo(0.1, 12);
    expect(s.spread).toBeCloseTo(0.2, 12);
    const c = parameterStability({ kind: 'choice', values: ['market', 'limit', 'market', 'market'] });
    expect(c.mode).toBe('market');
    expect(c.modeShare).toBe(0.75);
    expect(c.dispersion).toBe(0.25);
  });

  it('takes quantiles as numpy does (linear, type 7)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 0, 5], 0.05)).toBeCloseTo(0.5, 12);
  });
});
