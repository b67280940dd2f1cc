/**
 * The promotion rule on constructed cases: better on both log loss (>= 1%) and filtered PnL ->
 * promote; better loss but worse trading -> keep; a loss gain under 1% -> keep; ties -> keep; no
 * live model -> promote only when it beats the chance-level log loss by the margin; too few
 * held-out samples or a non-finite score -> keep. Chance log loss and prediction log loss are
 * checked against values worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { chanceLogLoss, decidePromotion, DEFAULT_PROMOTION_RULE, predictionLogLoss, type ShadowScore } from '../../services/ml/promotion.js';

const score = (logLoss: number, netPnl: number, samples = 1000): ShadowScore => ({ logLoss, netPnl, trades: 10, samples });
const CHANCE = 0.6931;

describe('decidePromotion', () => {
  it('promotes a candidate better on log loss by >= 1% and not worse on PnL', () => {
    const d = decidePromotion(score(0.68, 12), score(0.69, 10), CHANCE);
    expect(d.promote).toBe(true);
    // Equal PnL is "not worse".
    expect(decidePromotion(score(0.68, 10), score(0.69, 10), CHANCE).promote).toBe(true);
  });

  it('keeps the live model when the loss is better but the trading result is worse', () => {
    const d = decidePromotion(score(0.6, 9.99), score(0.69, 10), CHANCE);
    expect(d.promote).toBe(false);
    expect(d.reason).toMatch(/PnL/);
  });

  it('keeps the live model when the loss gain is under 1%, however good the trading', () => {
    // 0.69 * 0.99 = 0.6831: 0.6832 is not enough, 0.6830 is.
    expect(decidePromotion(score(0.6832, 100), score(0.69, 10), CHANCE).promote).toBe(false);
    expect(decidePromotion(score(0.683, 100), score(0.69, 10), CHANCE).promote).toBe(true);
  });

  it('keeps the live model on ties', () => {
    expect(decidePromotion(score(0.65, 10), score(0.65, 10), CHANCE).promote).toBe(false);
  });

  it('without a live model promotes only a candidate that beats chance by the margin', () => {
    expect(decidePromotion(score(0.67, -50), undefined, CHANCE).promote).toBe(true);
    expect(decidePromotion(score(0.69, 50), undefined, CHANCE).promote).toBe(false);
    expect(decidePromotion(score(0.7, 50), undefined, CHANCE).promote).toBe(false);
  });

  it('keeps the live model with too few held-out samples or a non-finite score', () => {
    expect(decidePromotion(score(0.5, 100, DEFAULT_PROMOTION_RULE.minSamples - 1), score(0.69, 10), CHANCE).promote).toBe(false);
    expect(decidePromotion(score(Number.NaN, 100), score(0.69, 10), CHANCE).promote).toBe(false);
    expect(decidePromotion(score(0.5, Number.NaN), undefined, CHANCE).promote).toBe(false);
  });

  it('honours a PnL tolerance when one is configured', () => {
    const rule = { ...DEFAULT_PROMOTION_RULE, pnlTolerance: 1 };
    expect(decidePromotion(score(0.6, 9.5), score(0.69, 10), CHANCE, rule).promote).toBe(true);
    expect(decidePromotion(score(0.6, 8.5), score(0.69, 10), CHANCE, rule).promote).toBe(false);
  });
});

describe('log losses', () => {
  it('chance log loss of a 50% forecast is ln 2, of 25% on 1 positive in 4 is the entropy', () => {
    expect(chanceLogLoss(0.5, [1, 0, 1, 0])).toBeCloseTo(Math.LN2, 12);
    // -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.562335...
    expect(chanceLogLoss(0.25, [1, 0, 0, 0])).toBeCloseTo(0.5623351446, 9);
  });

  it('prediction log loss skips unlabelled samples and counts the labelled ones', () => {
    const p = (pUp: number) => ({ pUp, uncertainty: 0, targetDistance: 1, stopDistance: 1 });
    const r = predictionLogLoss([p(0.8), p(0.4), p(0.9)], [1, Number.NaN, 0]);
    expect(r.samples).toBe(2);
    // (-ln 0.8 - ln 0.1) / 2
    expect(r.logLoss).toBeCloseTo((-Math.log(0.8) - Math.log(0.1)) / 2, 12);
  });
});
