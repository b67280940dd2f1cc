/** Metrics against values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { accuracy, auc, aucStandardError, brierScore, calibrationBins, computeMetrics, expectedCalibrationError, logLoss, precisionAtConfidence } from '../../services/ml/metrics.js';

describe('AUC', () => {
  it('of a small ranked example: 3 positives, 2 negatives', () => {
    // Scores: pos 0.9, 0.6, 0.3; neg 0.8, 0.2. Pairs (pos > neg): 0.9>0.8, 0.9>0.2, 0.6>0.2, 0.3>0.2 = 4 of 6.
    expect(auc([0.9, 0.8, 0.6, 0.3, 0.2], [1, 0, 1, 1, 0])).toBeCloseTo(4 / 6, 12);
  });

  it('counts a tie as one half and is 1, 0 and 0.5 in the obvious cases', () => {
    // pos 0.5 vs neg 0.5 tie (0.5), pos 0.7 > neg 0.5 (1): 1.5 / 2.
    expect(auc([0.5, 0.7, 0.5], [1, 1, 0])).toBeCloseTo(0.75, 12);
    expect(auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1])).toBe(1);
    expect(auc([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0])).toBe(0);
    expect(auc([0.3, 0.3, 0.3, 0.3], [1, 0, 1, 0])).toBe(0.5);
  });

  it('is NaN with one class, skips NaN outcomes', () => {
    expect(Number.isNaN(auc([0.1, 0.2], [1, 1]))).toBe(true);
    expect(auc([0.9, 0.1, 0.5], [1, 0, NaN])).toBe(1);
  });

  it('standard error (Hanley-McNeil) of AUC 0.5 with 1 positive and 1 negative is 0.5', () => {
    // Q1 = 0.5/1.5 = 1/3, Q2 = 0.5/1.5 = 1/3; (0.25 + 0 + 0) / 1 -> sqrt = 0.5.
    expect(aucStandardError(0.5, 1, 1)).toBeCloseTo(0.5, 12);
  });
});

describe('probability scores', () => {
  it('Brier of known probabilities', () => {
    // (0.8-1)^2 + (0.3-0)^2 + (0.5-1)^2 = 0.04 + 0.09 + 0.25 = 0.38; / 3.
    expect(brierScore([0.8, 0.3, 0.5], [1, 0, 1])).toBeCloseTo(0.38 / 3, 12);
  });

  it('log loss of known probabilities', () => {
    // -(ln 0.8 + ln 0.7 + ln 0.5) / 3
    expect(logLoss([0.8, 0.3, 0.5], [1, 0, 1])).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.5)) / 3, 12);
    expect(logLoss([0.5, 0.5], [1, 0])).toBeCloseTo(Math.LN2, 12);
    // A certain wrong forecast is clamped, not Infinity.
    expect(Number.isFinite(logLoss([0], [1]))).toBe(true);
  });

  it('accuracy at 0.5', () => {
    expect(accuracy([0.8, 0.3, 0.5, 0.4], [1, 0, 0, 1])).toBe(0.5);
  });
});

describe('calibration', () => {
  it('puts forecasts in equal-width bins with their observed rate', () => {
    const bins = calibrationBins([0.05, 0.15, 0.15, 0.95, 1], [0, 1, 0, 1, 1], 10);
    expect(bins).toHaveLength(10);
    expect(bins[0]!.count).toBe(1);
    expect(bins[1]!.count).toBe(2);
    expect(bins[1]!.meanPredicted).toBeCloseTo(0.15, 12);
    expect(bins[1]!.observedRate).toBe(0.5);
    expect(bins[9]!.count).toBe(2); // 0.95 and 1.0
    expect(bins[9]!.observedRate).toBe(1);
    expect(Number.isNaN(bins[5]!.meanPredicted)).toBe(true);
    // ECE = (1*|0.05-0| + 2*|0.15-0.5| + 2*|0.975-1|) / 5 = (0.05 + 0.7 + 0.05) / 5 = 0.16.
    expect(expectedCalibrationError(bins)).toBeCloseTo(0.16, 12);
  });
});

describe('precision at effective confidence >= 0.70', () => {
  it('long: pUp x (1 - u) >= 0.7, right when up = 1', () => {
    const p = [0.9, 0.75, 0.8, 0.6, 0.95];
    const y = [1, 0, 1, 1, 0];
    const u = [0, 0, 0.2, 0, 0]; // 0.8 x 0.8 = 0.64 falls below
    const r = precisionAtConfidence(p, y, 'long', 0.7, u);
    expect(r.count).toBe(3); // 0.9, 0.75, 0.95
    expect(r.precision).toBeCloseTo(1 / 3, 12);
    expect(r.coverage).toBeCloseTo(3 / 5, 12);
  });

  it('short: 1 - pUp >= 0.7, right when up = 0', () => {
    const r = precisionAtConfidence([0.1, 0.3, 0.2, 0.5], [0, 0, 1, 0], 'short');
    expect(r.count).toBe(3);
    expect(r.precision).toBeCloseTo(2 / 3, 12);
  });

  it('computeMetrics gathers them', () => {
    const m = computeMetrics([0.9, 0.8, 0.6, 0.3, 0.2], [1, 0, 1, 1, 0]);
    expect(m.samples).toBe(5);
    expect(m.positiveRate).toBeCloseTo(0.6, 12);
    expect(m.auc).toBeCloseTo(4 / 6, 12);
    expect(m.precisionLong70.count).toBe(2);
    expect(m.precisionLong70.precision).toBe(0.5);
  });
});
