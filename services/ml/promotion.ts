/**
 * The promotion rule: a retrained candidate replaces the live model only when, on the most recent
 * held-out span (data neither model trained on), it is better on BOTH
 *   1. out-of-sample log loss: lower than the live model's by at least `minRelativeImprovement`
 *      (1% by default), so noise-level differences do not churn the model; and
 *   2. the trading result: the strategy's net PnL over the span with the candidate as its filter
 *      is not worse than with the live model as its filter (net of fees, by the backtester),
 * and the span holds at least `minSamples` labelled samples. With no live model the candidate must
 * beat a chance-level log loss (the base-rate forecast) by the same margin. Ties keep the live model.
 *
 * The rule never looks at the candidate's own confidence or uncertainty: only realised labels and
 * realised (simulated) trades.
 */
import { logLoss } from './metrics.js';
import type { Prediction } from './types.js';

/** How one model did on the held-out span. */
export interface ShadowScore {
  /** Mean log loss of pUp against the realised labels (natural log). */
  readonly logLoss: number;
  /** Net PnL (quote) of the strategy over the span with this model as its filter. */
  readonly netPnl: number;
  readonly trades: number;
  /** Labelled samples the log loss was computed on. */
  readonly samples: number;
}

/** Thresholds of the rule. */
export interface PromotionRule {
  /** Relative log-loss improvement required (0.01 = 1% lower). */
  readonly minRelativeImprovement: number;
  /** Fewest labelled held-out samples a decision may rest on. */
  readonly minSamples: number;
  /** How much lower the candidate's net PnL may be and still count as "not worse" (quote; default 0). */
  readonly pnlTolerance: number;
}

export const DEFAULT_PROMOTION_RULE: PromotionRule = { minRelativeImprovement: 0.01, minSamples: 200, pnlTolerance: 0 };

/** The decision and why, for the evaluation record and the logs. */
export interface PromotionDecision {
  readonly promote: boolean;
  readonly reason: string;
  readonly candidate: ShadowScore;
  readonly live?: ShadowScore;
  /** Log loss of the base-rate forecast on the span. */
  readonly chanceLogLoss: number;
}

/** Log loss of always forecasting `baseRate` (clipped away from 0 and 1) on the labels `up`. */
export function chanceLogLoss(baseRate: number, up: ArrayLike<number>): number {
  const p = Math.min(1 - 1e-6, Math.max(1e-6, baseRate));
  return logLoss(Float64Array.from({ length: up.length }, () => p), up);
}

/** Log loss of predictions on the labelled samples (labels NaN = unlabelled, skipped). */
export function predictionLogLoss(preds: readonly Prediction[], up: ArrayLike<number>): { logLoss: number; samples: number } {
  const p: number[] = [];
  const y: number[] = [];
  preds.forEach((q, i) => {
    const label = up[i] ?? Number.NaN;
    if (Number.isNaN(label)) return;
    p.push(q.pUp);
    y.push(label);
  });
  return { logLoss: y.length > 0 ? logLoss(p, y) : Number.NaN, samples: y.length };
}

/** Applies the rule (see the file comment). */
export function decidePromotion(candidate: ShadowScore, live: ShadowScore | undefined, chance: number, rule: PromotionRule = DEFAULT_PROMOTION_RULE): PromotionDecision {
  const base = { candidate, chanceLogLoss: chance, ...(live !== undefined ? { live } : {}) };
  const keep = (reason: string): PromotionDecision => ({ promote: false, reason, ...base });
  const pct = (a: number, b: number): string => `${(((b - a) / b) * 100).toFixed(2)}%`;
  if (!Number.isFinite(candidate.logLoss) || !Number.isFinite(candidate.netPnl)) return keep('the candidate has no finite log loss or PnL on the held-out span');
  if (candidate.samples < rule.minSamples) return keep(`only ${candidate.samples} labelled held-out samples (at least ${rule.minSamples} needed)`);
  const bar = (ref: number): number => ref * (1 - rule.minRelativeImprovement);
  if (live === undefined || !Number.isFinite(live.logLoss)) {
    if (!(Number.isFinite(chance) && candidate.logLoss < bar(chance))) {
      return keep(`no live model, and the candidate's log loss ${candidate.logLoss.toFixed(4)} does not beat chance ${chance.toFixed(4)} by ${rule.minRelativeImprovement * 100}%`);
    }
    return { promote: true, reason: `no live model; log loss ${candidate.logLoss.toFixed(4)} beats chance ${chance.toFixed(4)} by ${pct(candidate.logLoss, chance)}`, ...base };
  }
  if (!(candidate.logLoss < bar(live.logLoss))) {
    return keep(`log loss ${candidate.logLoss.toFixed(4)} vs live ${live.logLoss.toFixed(4)}: not ${rule.minRelativeImprovement * 100}% lower`);
  }
  if (candidate.netPnl < live.netPnl - rule.pnlTolerance) {
    return keep(`log loss ${pct(candidate.logLoss, live.logLoss)} lower, but filtered net PnL ${candidate.netPnl.toFixed(2)} is worse than live ${live.netPnl.toFixed(2)}`);
  }
  return {
    promote: true,
    reason: `log loss ${candidate.logLoss.toFixed(4)} vs live ${live.logLoss.toFixed(4)} (${pct(candidate.logLoss, live.logLoss)} lower), filtered net PnL ${candidate.netPnl.toFixed(2)} vs ${live.netPnl.toFixed(2)}`,
    ...base,
  };
}
