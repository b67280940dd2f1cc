/**
 * The review's configuration (one validated object per entry point; zod, strict, defaults declared
 * here once): the Bedrock model of each period with its list prices, the config keys a
 * recommendation may change (each with bounds and a step), and the settings of the
 * recommendation test's rule and of the ledger's scoring.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

const modelSchema = z.strictObject({
  /** The foundation model (for IAM and the record), e.g. anthropic.claude-haiku-4-5-20251001-v1:0. */
  modelId: z.string().min(1).max(256),
  /** What Converse is called with: a cross-region inference profile id (us.anthropic...), or the model id itself. */
  invokeId: z.string().min(1).max(256),
  /** List prices, USD per million tokens. */
  inputUsdPerMTok: z.number().min(0).max(1000),
  outputUsdPerMTok: z.number().min(0).max(1000),
  maxTokens: z.number().int().min(256).max(16_000).default(3000),
});
export type ReviewModel = z.output<typeof modelSchema>;

const tunableSchema = z
  .strictObject({
    /** Dotted path into the strategy config input (services/config/schema.ts), e.g. `exit.stopBeyondLevelPct`. */
    key: z.string().regex(/^[a-z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/, 'expected a dotted config path such as exit.stopBeyondLevelPct'),
    min: z.number().finite(),
    max: z.number().finite(),
    /** Allowed values are min + k x step. */
    step: z.number().positive(),
  })
  .refine((t) => t.max > t.min, 'max must exceed min');
export type Tunable = z.output<typeof tunableSchema>;

/** Haiku 4.5 for the daily review, Sonnet 4.5 for weekly and monthly (US cross-region profiles; list prices of late 2025). */
const HAIKU = { modelId: 'anthropic.claude-haiku-4-5-20251001-v1:0', invokeId: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', inputUsdPerMTok: 1, outputUsdPerMTok: 5 };
const SONNET = { modelId: 'anthropic.claude-sonnet-4-5-20250929-v1:0', invokeId: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', inputUsdPerMTok: 3, outputUsdPerMTok: 15 };

export const DEFAULT_TUNABLES: readonly Tunable[] = [
  { key: 'entry.volumeMultiplier', min: 1, max: 3, step: 0.1 },
  { key: 'entry.proximityPct', min: 0.05, max: 0.5, step: 0.05 },
  { key: 'entry.maxAdx', min: 15, max: 40, step: 1 },
  { key: 'exit.stopBeyondLevelPct', min: 0.3, max: 2, step: 0.1 },
  { key: 'exit.breakevenAfterPct', min: 0.5, max: 2, step: 0.1 },
  { key: 'exit.timeStopMinutes', min: 15, max: 480, step: 15 },
  { key: 'risk.symbolCooldownMinutes', min: 0, max: 120, step: 5 },
];

export const reviewConfigSchema = z.strictObject({
  models: z
    .strictObject({
      daily: modelSchema.default({ ...HAIKU, maxTokens: 3000 }),
      weekly: modelSchema.default({ ...SONNET, maxTokens: 4000 }),
      monthly: modelSchema.default({ ...SONNET, maxTokens: 4000 }),
    })
    .prefault({}),
  tunables: z.array(tunableSchema).min(1).max(30).default([...DEFAULT_TUNABLES]),
  /** At most this many recommendations per review are tested and reported. */
  maxRecommendations: z.number().int().min(0).max(5).default(3),
  tester: z
    .strictObject({
      /** Out-of-sample spans right before the reviewed period (never overlapping it). */
      spans: z.number().int().min(2).max(24).default(4),
      /** Length of each span, days, per period. */
      spanDays: z.strictObject({ daily: z.number().int().min(1).max(30).default(2), weekly: z.number().int().min(1).max(60).default(7), monthly: z.number().int().min(1).max(90).default(14) }).prefault({}),
      /** 1m candles before each span that warm the indicators up (no entries there). */
      warmupMinutes: z.number().int().min(0).max(10_000).default(1000),
      /** The rule: the candidate must make at least this many trades over all spans... */
      minTrades: z.number().int().min(1).max(10_000).default(10),
      /** ...beat the live config's net PnL in at least this share of the spans with candles... */
      minSpanWinShare: z.number().gt(0).max(1).default(0.6),
      /** ...with a bootstrap probability at least this that its total beats live's... */
      minProbability: z.number().gt(0.5).max(1).default(0.9),
      /** ...and a Monte Carlo 95th-percentile drawdown no more than this many points worse. */
      maxDrawdownWorsePct: z.number().min(0).max(100).default(1),
      /** Resamples of the bootstrap and of the Monte Carlo. */
      samples: z.number().int().min(100).max(100_000).default(2000),
      seed: z.number().int().default(13),
    })
    .prefault({}),
  scoring: z
    .strictObject({
      /** Recommendations older than this are no longer scored. */
      maxAgeDays: z.number().int().min(1).max(365).default(90),
      /** Bound on the recommendations scored per run. */
      maxPerRun: z.number().int().min(0).max(200).default(20),
      /** The longest span scored (days after the recommendation). */
      maxSpanDays: z.number().int().min(1).max(365).default(30),
    })
    .prefault({}),
});
export type ReviewConfig = z.output<typeof reviewConfigSchema>;

/** Validates the review config; ConfigError names each bad field. */
export function parseReviewConfig(input: unknown = {}, source = 'review config'): ReviewConfig {
  const r = reviewConfigSchema.safeParse(input ?? {});
  if (!r.success) throw new ConfigError(`invalid ${source}: ${r.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')}`, { cause: r.error });
  const keys = r.data.tunables.map((t) => t.key);
  if (new Set(keys).size !== keys.length) throw new ConfigError(`invalid ${source}: tunables: a key appears twice`);
  return r.data;
}
