/**
 * The reviewer port: given the facts pack, a review (narrative, findings, recommendations) that
 * fits the answer schema. Two implementations: Amazon Bedrock (services/adapters/bedrock/) and the
 * built-in deterministic reviewer (deterministicReviewer.ts), which the review falls back to when
 * Bedrock is not configured, fails, or its answer is dropped.
 */
import type { Config } from '../config/schema.js';
import { DomainError } from '../core/errors.js';
import type { ReviewAnswer } from './answer.js';
import type { ReviewModel, Tunable } from './config.js';
import type { FactsPack } from './factsPack.js';

export interface ReviewRequest {
  readonly period: 'daily' | 'weekly' | 'monthly';
  readonly facts: FactsPack;
  readonly live: Config;
  readonly tunables: readonly Tunable[];
  readonly maxRecommendations: number;
}

/** Tokens and cost of a model run (every attempt counted). */
export interface ReviewUsage {
  readonly attempts: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** At the configured list prices. */
  readonly costUsd: number;
}

export interface ReviewOutcome {
  /** `bedrock` or `deterministic`. */
  readonly reviewer: string;
  /** Shown with the review: which reviewer wrote it. */
  readonly label: string;
  readonly model?: string;
  readonly answer: ReviewAnswer;
  readonly notes: readonly string[];
  readonly usage?: ReviewUsage;
  /** What was sent and what came back (stored in the bucket). */
  readonly prompt?: unknown;
  readonly responses?: readonly unknown[];
}

export interface Reviewer {
  readonly name: string;
  review(req: ReviewRequest): Promise<ReviewOutcome>;
}

/** The model could not give a usable review; `usage`, `prompt` and `responses` say what it cost and said. */
export class ReviewerFailedError extends DomainError {
  override readonly name: string = 'ReviewerFailedError';
  constructor(
    message: string,
    readonly kind: 'unavailable' | 'throttled' | 'dropped',
    readonly details: { readonly usage?: ReviewUsage; readonly prompt?: unknown; readonly responses?: readonly unknown[]; readonly notes?: readonly string[] } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The model configured for a period. */
export function modelFor(models: Readonly<Record<'daily' | 'weekly' | 'monthly', ReviewModel>>, period: 'daily' | 'weekly' | 'monthly'): ReviewModel {
  return models[period];
}

/** Cost in USD of a token count at a model's list prices. */
export function costOf(m: Pick<ReviewModel, 'inputUsdPerMTok' | 'outputUsdPerMTok'>, inputTokens: number, outputTokens: number): number {
  return Number(((inputTokens * m.inputUsdPerMTok + outputTokens * m.outputUsdPerMTok) / 1_000_000).toFixed(6));
}
