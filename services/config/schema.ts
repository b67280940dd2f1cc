/**
 * The one validated configuration of the strategy core, risk engine and backtester.
 *
 * Every default is declared here, once. Objects are strict: an unknown key is an error, so a typo
 * in a config file fails at start instead of being silently ignored. `parseConfig` turns zod's
 * issues into a ConfigError that names the field's path and what was expected.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';

const pct = (def: number) => z.number().min(0).max(100).default(def);
const positive = (def: number) => z.number().positive().default(def);
/**
 * An amount of money in the quote currency, between `min` and a trillion: a balance of 1e-30 or
 * 1e300 is a typo, not an account, and would only produce meaningless sizes or overflow.
 */
const money = (min: number, def: number, why: string) => z.number().min(min, `at least ${min} (${why})`).max(1e12, 'at most 1e12').default(def);

export const MODES = ['standard', 'hf'] as const;
export type Mode = (typeof MODES)[number];
export const PROFILES = ['conservative', 'moderate', 'aggressive'] as const;
export type RiskProfileName = (typeof PROFILES)[number];

/** Level detection (support/resistance). */
export const levelsSchema = z
  .strictObject({
    /** Candles of history the extrema, volume profile and swing use. */
    lookback: z.number().int().min(10).max(1000).default(50),
    /** A local extremum is a candle whose high (low) is the highest (lowest) of this many on each side. */
    extremaWing: z.number().int().min(1).max(20).default(3),
    /** Number of price buckets in the volume profile. */
    volumeProfileBins: z.number().int().min(5).max(500).default(24),
    /** Volume-profile buckets kept as levels: the highest-volume nodes. */
    volumeProfileNodes: z.number().int().min(1).max(10).default(3),
    /** Fibonacci ratios of the recent swing used as levels. */
    fibRatios: z.array(z.number().gt(0).lt(1)).min(1).default([0.236, 0.382, 0.5, 0.618, 0.786]),
    /** Levels closer than this (percent of price) are merged into one. */
    mergeTolerancePct: positive(0.15),
    /** A touch is a candle whose range comes within this (percent) of the level. */
    touchTolerancePct: positive(0.1),
    /** Levels with fewer historical touches than this are discarded as weak. */
    minTouches: z.number().int().min(0).max(50).default(2),
    /** Pivot points from the previous period of this timeframe (classic floor pivots). */
    pivotTimeframe: z.enum(['1h', '4h']).default('4h'),
    /** Which detection methods run. */
    methods: z
      .strictObject({
        extrema: z.boolean().default(true),
        volumeProfile: z.boolean().default(true),
        fibonacci: z.boolean().default(true),
        pivots: z.boolean().default(true),
      })
      .prefault({}),
  })
  .prefault({});

/** Indicator periods. */
export const indicatorsSchema = z
  .strictObject({
    rsiPeriod: z.number().int().min(2).max(100).default(14),
    atrPeriod: z.number().int().min(2).max(100).default(14),
    adxPeriod: z.number().int().min(2).max(100).default(14),
    bollingerPeriod: z.number().int().min(2).max(200).default(20),
    bollingerStdDev: positive(2),
    volumePeriod: z.number().int().min(2).max(500).default(20),
  })
  .prefault({});

/** Entry rules and confirmations. Mode defaults are applied in `modeDefaults` and then overridden. */
export const entrySchema = z.strictObject({
  /** Price must be within this percent of a level. 0.2 standard, 0.1 HF. */
  proximityPct: positive(0.2),
  /** Volume must exceed this multiple of its average. 1.5 standard, 1.2 HF. */
  volumeMultiplier: positive(1.5),
  /** Range-bound regime: ADX below this. */
  maxAdx: z.number().min(0).max(100).default(25),
  /** Maximum bid-ask spread (percent) when book data is present. */
  maxSpreadPct: positive(0.1),
  /** Minimum 24 h quote volume (USDT) when known. */
  minQuoteVolume24h: z.number().min(0).default(1_000_000),
  /** How entries are sent: market (taker, fills next tick) or limit at the signal price (maker). */
  orderType: z.enum(['market', 'limit']).default('market'),
  /** A limit entry not filled within this many 1m candles is cancelled. */
  limitTimeoutCandles: z.number().int().min(1).max(60).default(3),
  confirmations: z
    .strictObject({
      candlestickPattern: z.boolean().default(true),
      rsiDivergence: z.boolean().default(false),
      multiTimeframe: z.boolean().default(true),
      levelStrength: z.boolean().default(true),
      /** Confirmations (among those enabled) that must agree. */
      minConfirmations: z.number().int().min(0).max(4).default(1),
      /** Level strength (touches) needed for the level-strength confirmation. */
      minLevelTouches: z.number().int().min(1).max(50).default(3),
    })
    .prefault({}),
});

/** Exit plan. */
export const exitSchema = z.strictObject({
  /** Primary target distance range (percent); at least `minRewardRisk` times the risk. */
  primaryTargetMinPct: positive(1.5),
  primaryTargetMaxPct: positive(2),
  minRewardRisk: positive(2),
  /** Secondary target sits this percent before the opposite level. */
  secondaryBeforeOppositePct: positive(0.1),
  /** Scale-out fractions of the three targets (must sum to 1). */
  scaleOut: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.33, 0.33, 0.34]),
  /** Stop beyond the level, percent. */
  stopBeyondLevelPct: positive(0.8),
  /** Move the stop to breakeven once the trade is up this percent. */
  breakevenAfterPct: positive(1),
  /** "Breakeven" sits this percent above the entry so that the exit's taker fee and slippage are covered. */
  breakevenBufferPct: z.number().min(0).max(1).default(0.1),
  /** Time stop in minutes: 240 standard, 30 HF. */
  timeStopMinutes: z.number().int().positive().default(240),
  /** A close through the level on volume above this multiple of average exits at once. */
  breakVolumeMultiplier: positive(2),
});

export const riskProfileSchema = z.strictObject({
  riskPerTradePct: z.number().gt(0).max(10),
  maxPositions: z.number().int().min(1).max(50),
  dailyLossLimitPct: z.number().gt(0).max(100),
  weeklyLossLimitPct: z.number().gt(0).max(100),
  /** No new entries once equity is down this much from the UTC month's start (until the 1st). */
  monthlyLossLimitPct: z.number().gt(0).max(100),
});
export type RiskProfile = z.infer<typeof riskProfileSchema>;

/** The three built-in profiles from the product brief. */
export const RISK_PROFILES: Record<RiskProfileName, RiskProfile> = {
  conservative: { riskPerTradePct: 1, maxPositions: 3, dailyLossLimitPct: 2, weeklyLossLimitPct: 5, monthlyLossLimitPct: 10 },
  moderate: { riskPerTradePct: 1.5, maxPositions: 5, dailyLossLimitPct: 3, weeklyLossLimitPct: 7, monthlyLossLimitPct: 10 },
  aggressive: { riskPerTradePct: 2, maxPositions: 8, dailyLossLimitPct: 4, weeklyLossLimitPct: 10, monthlyLossLimitPct: 10 },
};

export const riskSchema = z
  .strictObject({
    profile: z.enum(PROFILES).default('conservative'),
    /** Overrides of the profile's numbers. */
    overrides: riskProfileSchema.partial().prefault({}),
    /** A position's notional never exceeds this percent of the balance. */
    maxPositionPct: pct(10),
    /** Notional clamps (quote currency). Below the minimum the intent is rejected. */
    minNotional: money(0, 5, 'an order value'),
    maxNotional: money(1, 100_000, 'an order value'),
    /** Sum of open notionals never exceeds this percent of the balance. */
    maxTotalExposurePct: pct(50),
    /** After a position on a symbol closes, no new entry on it for this many minutes. */
    symbolCooldownMinutes: z.number().min(0).default(15),
    /** Halt when the balance is down this percent from the day's start. */
    haltDailyDrawdownPct: pct(10),
    /** Halt after this many stop-losses in a row. */
    haltConsecutiveStops: z.number().int().min(1).default(3),
    /** Halt when the day's win rate falls below this percent... */
    haltMinWinRatePct: pct(35),
    /** ...once the day has at least this many closed trades. */
    haltWinRateMinTrades: z.number().int().min(1).default(10),
    /** A move larger than this percent within `abnormalMoveWindowMinutes` signals abnormal volatility. */
    abnormalMovePct: positive(20),
    abnormalMoveWindowMinutes: z.number().int().positive().default(60),
  })
  .prefault({});

export const backtestSchema = z
  .strictObject({
    initialBalance: money(10, 10_000, 'a balance below 10 cannot place an order above the exchange minimum'),
    quoteAsset: z.string().default('USDT'),
    makerFeePct: z.number().min(0).max(1).default(0),
    takerFeePct: z.number().min(0).max(1).default(0.05),
    /** Slippage on market orders: a fixed part plus a part per percent of the candle's volume taken. */
    slippageBps: z.number().min(0).default(2),
    impactBpsPerPctVolume: z.number().min(0).default(0.5),
    /** Time from decision to the order reaching the exchange. */
    latencyMs: z.number().int().min(0).default(250),
    /** A resting limit order fills at most this percent of a candle's volume (partial fills beyond). */
    participationPct: z.number().gt(0).max(100).default(10),
    /**
     * The exchange's minimum order value (quote). Tick and lot sizes are inferred from the data:
     * the finest decimal seen in its prices and volumes.
     */
    marketMinNotional: money(0, 1, 'an order value'),
  })
  .prefault({});

/**
 * The live order path's safety limits (SafeExchange, services/execution/safeExchange.ts; map with
 * `safeExchangeOptionsFromConfig`). The backtest does not read them.
 */
export const executionSchema = z
  .strictObject({
    /** Client-side order rate limit (orders and cancels): tokens per second and the largest burst. */
    rateLimit: z
      .strictObject({
        ordersPerSecond: z.number().positive().max(1000).default(5),
        burst: z.number().int().min(1).max(1000).default(20),
      })
      .prefault({}),
    /** Retries of retryable venue failures: backoff from baseMs doubling to maxMs, at most maxAttempts calls. */
    retry: z
      .strictObject({
        baseMs: z.number().int().min(0).max(600_000).default(1000),
        maxMs: z.number().int().min(0).max(600_000).default(30_000),
        maxAttempts: z.number().int().min(1).max(10).default(5),
      })
      .prefault({}),
    /** Circuit breaker per venue endpoint (defaults as in services/execution/circuitBreaker.ts). */
    circuitBreaker: z
      .strictObject({
        failureThreshold: z.number().int().min(1).max(1000).default(5),
        windowMs: z.number().int().positive().default(60_000),
        openMs: z.number().int().min(0).default(30_000),
        halfOpenMaxProbes: z.number().int().min(1).max(100).default(1),
      })
      .prefault({}),
    /** An open entry or exit order without a fill for timeoutMs (0 = off) is cancelled, or cancelled and re-placed at the best price. */
    stuckOrders: z
      .strictObject({
        timeoutMs: z.number().int().min(0).default(60_000),
        policy: z.enum(['cancel', 'replace']).default('cancel'),
      })
      .prefault({}),
    /** Emergency close: the aggressive limit sits this percent through the best bid. */
    emergency: z
      .strictObject({
        throughBookPct: z.number().gt(0).lt(100).default(2),
      })
      .prefault({}),
    /**
     * The second price source (services/live/priceCheck.ts; the venue is the runtime's
     * priceReference): entries are refused on a symbol whose MEXC price is more than
     * maxDeviationPct from the reference's; exits are never held back.
     */
    priceCheck: z
      .strictObject({
        maxDeviationPct: z.number().gt(0).max(50).default(1),
        /** A reference price older than this (market clock) is stale: treated as unavailable. */
        maxAgeMs: z.number().int().min(1000).max(3_600_000).default(120_000),
        /** Entries while the reference is stale or unavailable: refused (fail closed, the default) or allowed. */
        whenUnavailable: z.enum(['refuse', 'allow']).default('refuse'),
        /** Longest wait for one reference price (the decision waits for it). */
        timeoutMs: z.number().int().min(100).max(10_000).default(1500),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z.strictObject({
  mode: z.enum(MODES).default('standard'),
  /** Symbols to trade; empty means every symbol in the data. */
  symbols: z.array(z.string()).default([]),
  levels: levelsSchema,
  indicators: indicatorsSchema,
  // Validated in a second pass, after the mode's defaults are applied (see parseConfig).
  entry: z.record(z.string(), z.unknown()).default({}),
  exit: z.record(z.string(), z.unknown()).default({}),
  risk: riskSchema,
  backtest: backtestSchema,
  execution: executionSchema,
});

export type ConfigInput = z.input<typeof configSchema>;
type Raw = z.output<typeof configSchema>;
export type EntryConfig = z.output<typeof entrySchema>;
export type ExitConfig = z.output<typeof exitSchema>;
export type LevelsConfig = z.output<typeof levelsSchema>;
export type IndicatorsConfig = z.output<typeof indicatorsSchema>;
export type RiskConfig = z.output<typeof riskSchema>;
export type BacktestConfig = z.output<typeof backtestSchema>;
export type ExecutionConfig = z.output<typeof executionSchema>;

export interface ModeSettings {
  /** Timeframes the mode watches; the first is the base (entries are evaluated on its closes). */
  timeframes: readonly ('30s' | '1m' | '3m' | '5m' | '15m')[];
  maxPairs: number;
}

export const MODE_SETTINGS: Record<Mode, ModeSettings> = {
  standard: { timeframes: ['1m', '5m', '15m'], maxPairs: 10 },
  hf: { timeframes: ['1m', '3m', '5m'], maxPairs: 15 },
};

/** The fully resolved configuration: mode defaults applied, risk profile merged. */
export interface Config extends Omit<Raw, 'entry' | 'exit'> {
  entry: EntryConfig;
  exit: ExitConfig;
  /** The risk profile's numbers after overrides. */
  riskProfile: RiskProfile;
  modeSettings: ModeSettings;
}

const MODE_ENTRY: Record<Mode, Partial<EntryConfig>> = {
  standard: { proximityPct: 0.2, volumeMultiplier: 1.5 },
  hf: { proximityPct: 0.1, volumeMultiplier: 1.2 },
};
const MODE_EXIT: Record<Mode, Partial<ExitConfig>> = {
  standard: { timeStopMinutes: 240 },
  hf: { timeStopMinutes: 30 },
};

/**
 * The keys the strict object at `path` inside `schema` accepts, for "unknown key" messages; empty
 * when the path does not lead to an object. Default/prefault/optional wrappers are looked through.
 */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; ; i++) {
    while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
    if (!(s instanceof z.ZodObject)) return [];
    if (i === path.length) return Object.keys(s.shape);
    s = (s.shape as Record<string, z.ZodType | undefined>)[String(path[i])];
  }
}

/**
 * Formats zod issues as "path: message" lines, `prefix` being the path of `schema` in the config.
 * An unknown key is reported at its own path with the keys that were expected: zod puts it at the
 * parent's path, which for a nested typo read "entry.(root): Unrecognized key" and did not say
 * what the valid spellings are.
 */
function describeIssues(error: z.ZodError, schema: z.ZodType, prefix: readonly string[]): string {
  const lines: string[] = [];
  for (const i of error.issues) {
    const at = [...prefix, ...i.path.map(String)];
    if (i.code === 'unrecognized_keys') {
      const known = knownKeys(schema, i.path);
      const expected = known.length ? ` (expected one of ${known.join(', ')})` : '';
      for (const k of i.keys) lines.push(`${[...at, k].join('.')}: unknown key${expected}`);
      continue;
    }
    lines.push(`${at.join('.') || '(root)'}: ${i.message}`);
  }
  return lines.join('; ');
}

/**
 * Validates raw input (from a file, flags or defaults) and resolves mode and profile defaults.
 * Throws ConfigError naming every bad field and what was expected.
 */
export function parseConfig(input: unknown = {}, source = 'config'): Config {
  const parsed = configSchema.safeParse(input ?? {});
  if (!parsed.success) throw new ConfigError(`invalid ${source}: ${describeIssues(parsed.error, configSchema, [])}`, { cause: parsed.error });
  const raw = parsed.data;
  const entry = entrySchema.safeParse({ ...MODE_ENTRY[raw.mode], ...raw.entry });
  if (!entry.success) throw new ConfigError(`invalid ${source}: ${describeIssues(entry.error, entrySchema, ['entry'])}`, { cause: entry.error });
  const exit = exitSchema.safeParse({ ...MODE_EXIT[raw.mode], ...raw.exit });
  if (!exit.success) throw new ConfigError(`invalid ${source}: ${describeIssues(exit.error, exitSchema, ['exit'])}`, { cause: exit.error });
  const scaleSum = exit.data.scaleOut.reduce((a, b) => a + b, 0);
  if (Math.abs(scaleSum - 1) > 1e-9) throw new ConfigError(`invalid ${source}: exit.scaleOut: fractions must sum to 1, got ${scaleSum}`);
  if (exit.data.primaryTargetMinPct > exit.data.primaryTargetMaxPct)
    throw new ConfigError(`invalid ${source}: exit.primaryTargetMinPct: must not exceed exit.primaryTargetMaxPct`);
  if (raw.execution.retry.baseMs > raw.execution.retry.maxMs)
    throw new ConfigError(`invalid ${source}: execution.retry.baseMs: must not exceed execution.retry.maxMs`);
  if (raw.risk.minNotional > raw.risk.maxNotional) throw new ConfigError(`invalid ${source}: risk.minNotional: must not exceed risk.maxNotional`);
  const riskProfile = { ...RISK_PROFILES[raw.risk.profile], ...raw.risk.overrides };
  return { ...raw, entry: entry.data, exit: exit.data, riskProfile, modeSettings: MODE_SETTINGS[raw.mode] };
}
