/**
 * Validation of a persisted risk state (plain JSON, e.g. read back from DynamoDB) before the engine
 * trusts it. A bad state fails loudly with the field's path rather than silently resetting limits.
 */
import { z } from 'zod';
import { DataValidationError } from '../core/errors.js';
import type { RiskState } from './types.js';

const epochMs = z.number().finite();
const count = z.number().int().min(0);
/** A Dec's decimal string ("10000", "-12.5"). */
const decimal = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string such as "10000.5"');
const haltReason = z.enum(['HALTED_DAILY_DRAWDOWN', 'HALTED_CONSECUTIVE_STOPS', 'HALTED_LOW_WIN_RATE', 'HALTED_ABNORMAL_VOLATILITY']);
const positivePrice = z.number().finite().positive();

const priceWindowSchema = z
  .strictObject({
    lastTime: epochMs.nullable(),
    maxTimes: z.array(epochMs),
    maxPrices: z.array(positivePrice),
    minTimes: z.array(epochMs),
    minPrices: z.array(positivePrice),
  })
  .refine((w) => w.maxTimes.length === w.maxPrices.length && w.minTimes.length === w.minPrices.length, {
    message: 'times and prices of a deque must have the same length',
  });

const riskStateSchema = z.strictObject({
  version: z.literal(1),
  lastTime: epochMs.nullable(),
  day: z
    .strictObject({
      start: epochMs,
      startEquity: decimal,
      trades: count,
      wins: count,
      losses: count,
      lossLimitHit: z.boolean(),
      drawdownHaltFired: z.boolean(),
    })
    .nullable(),
  week: z.strictObject({ start: epochMs, startEquity: decimal, lossLimitHit: z.boolean() }).nullable(),
  month: z.strictObject({ start: epochMs, startEquity: decimal, lossLimitHit: z.boolean() }).nullable().optional(),
  consecutiveStops: count,
  cooldownUntil: z.record(z.string(), epochMs),
  halt: z.discriminatedUnion('halted', [
    z.strictObject({ halted: z.literal(false) }),
    z.strictObject({ halted: z.literal(true), reason: haltReason, since: epochMs, until: epochMs.optional(), detail: z.string() }),
  ]),
  priceWindows: z.record(z.string(), priceWindowSchema),
}) satisfies z.ZodType<RiskState>;

/** Validates a persisted risk state; throws DataValidationError naming each bad field. */
export function parseRiskState(input: unknown): RiskState {
  const parsed = riskStateSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DataValidationError(`invalid risk state: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}
