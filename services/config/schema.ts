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

/** Timeframes a level, ATR or regime reading can be taken on (all aggregated from 1m candles). */
export const LEVEL_TIMEFRAMES = ['1m', '3m', '5m', '15m', '30m', '1h', '4h'] as const;
export type StudyTimeframe = (typeof LEVEL_TIMEFRAMES)[number];

/** The regimes the classifier tells apart (services/strategy/regime.ts says how). */
export const REGIMES = ['trending', 'ranging', 'volatile', 'quiet'] as const;
export type Regime = (typeof REGIMES)[number];

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
    /**
     * Timeframes levels are detected on; empty: every timeframe of the mode above 1m (standard 5m
     * and 15m, HF 3m and 5m). A timeframe outside the mode is aggregated from 1m for the levels only.
     */
    timeframes: z.array(z.enum(LEVEL_TIMEFRAMES)).default([]),
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
  /**
   * How entries are sent: market (taker, fills after the latency), limit (rests at `limitPrice`; a
   * limit that crosses the book takes), or maker (post-only LIMIT_MAKER at `limitPrice`: refused by
   * the venue instead of taking, so it always pays the maker fee).
   */
  orderType: z.enum(['market', 'limit', 'maker']).default('market'),
  /** Where a limit or maker entry rests: the signal candle's close, or the level itself (a pullback entry). */
  limitPrice: z.enum(['signal', 'level']).default('signal'),
  /** A limit or maker entry not filled within this many 1m candles is cancelled (what filled is kept and protected). */
  limitTimeoutCandles: z.number().int().min(1).max(60).default(3),
  /** Entries only in these regimes (see the `regime` section); empty: the regime filter is off. */
  regimes: z.array(z.enum(REGIMES)).default([]),
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
  /** The high-volume break exit (above) is on. */
  breakExit: z.boolean().default(true),
  /** How far (percent) below the level a close must be to count as a break; null: the entry's proximityPct. */
  breakBandPct: z.number().positive().max(100).nullable().default(null),
  /**
   * How the time stop sells: market, or maker (a post-only limit at the best ask, then market for
   * what is left after `makerExitWaitSeconds`, or at once if the venue refuses it or the stop is crossed).
   */
  timeExit: z.enum(['market', 'maker']).default('market'),
  makerExitWaitSeconds: z.number().int().min(1).max(3600).default(60),
  /** Stop this many ATRs below the level instead of `stopBeyondLevelPct`; null: the percent rule. */
  stopAtr: z.number().positive().max(100).nullable().default(null),
  /**
   * Primary target this many ATRs above the entry (at least `minRewardRisk` times the risk, with no
   * upper bound) instead of the percent rules; null: the percent rules.
   */
  targetAtr: z.number().positive().max(100).nullable().default(null),
  /** Trailing stop: the highest high since the position opened minus this many ATRs (it only rises); null: off. */
  trailAtr: z.number().positive().max(100).nullable().default(null),
  /** Timeframe of the ATR the three rules above read (period `indicators.atrPeriod`); null: the mode's first above 1m. */
  atrTimeframe: z.enum(LEVEL_TIMEFRAMES).nullable().default(null),
});

/**
 * The market regime classifier (services/strategy/regime.ts), read by `entry.regimes`. On each
 * closed candle of `timeframe`: volatile when ATR >= volatileRatio x its mean over the previous
 * `lookback` candles, quiet when ATR <= quietRatio x that mean, otherwise trending when ADX >=
 * trendAdx, else ranging (periods from `indicators`).
 */
export const regimeSchema = z
  .strictObject({
    /** null: the mode's first timeframe above 1m. */
    timeframe: z.enum(LEVEL_TIMEFRAMES).nullable().default(null),
    trendAdx: z.number().min(0).max(100).default(25),
    volatileRatio: z.number().gt(1).max(10).default(1.5),
    quietRatio: z.number().gt(0).lt(1).default(0.67),
    lookback: z.number().int().min(5).max(1000).default(100),
  })
  .prefault({});

/**
 * The Donchian breakout strategy (services/strategy/breakout.ts, `--strategy breakout`): on each
 * closed `timeframe` candle, a long when the close is above the highest high of the previous
 * `channel` candles; stop `stopAtr` ATRs below the entry; an exit when a close falls below the
 * lowest low of the previous `exitChannel` candles; optional target and trailing stop in ATRs.
 */
export const breakoutSchema = z
  .strictObject({
    timeframe: z.enum(['15m', '30m', '1h', '4h']).default('1h'),
    channel: z.number().int().min(2).max(500).default(20),
    exitChannel: z.number().int().min(2).max(500).default(10),
    atrPeriod: z.number().int().min(2).max(100).default(14),
    stopAtr: z.number().positive().max(100).default(2),
    /** One target for the whole position this many ATRs above the entry; null: no target (exits by channel, stop or time). */
    targetAtr: z.number().positive().max(100).nullable().default(null),
    /** Trailing stop in ATRs below the highest high since entry; null: off. */
    trailAtr: z.number().positive().max(100).nullable().default(null),
    timeStopHours: z.number().int().min(1).max(2160).default(168),
  })
  .prefault({});

export const SIZING_MODES = ['fixed_risk', 'kelly', 'vol_target', 'confidence'] as const;
export type SizingMode = (typeof SIZING_MODES)[number];

/**
 * How much an entry risks (services/risk/sizingModes.ts). Every mode's risk is at most the
 * profile's riskPerTradePct, and the notional caps (maxPositionPct, maxNotional, exposure, free
 * balance) apply after it, as with fixed risk.
 */
export const sizingSchema = z
  .strictObject({
    /** fixed_risk: the profile's riskPerTradePct; kelly, vol_target, confidence: see README "Sizing". */
    mode: z.enum(SIZING_MODES).default('fixed_risk'),
    /** Kelly: the fraction of the Kelly bet used (0.25 = quarter Kelly). */
    kellyFraction: z.number().gt(0).max(1).default(0.25),
    /** Kelly: closed trades (their R multiples) in the rolling history. */
    kellyWindow: z.number().int().min(5).max(1000).default(50),
    /** Kelly: fewer closed trades than this in the history risk `minRiskPct`. */
    kellyMinTrades: z.number().int().min(2).max(1000).default(20),
    /** Kelly and confidence: the smallest risk (percent of equity) an entry is given. */
    minRiskPct: z.number().gt(0).max(10).default(0.1),
    /** Volatility target: the position's expected daily move, percent of equity. */
    volTargetPct: z.number().gt(0).max(100).default(0.5),
    /** Volatility target: 1m closes the symbol's volatility is measured over. */
    volWindowMinutes: z.number().int().min(30).max(20_160).default(1440),
    /** Confidence: the risk grows linearly from 0 at this confidence to riskPerTradePct at 1. */
    confidenceFloor: z.number().min(0).lt(1).default(0.5),
  })
  .prefault({});

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
    sizing: sizingSchema,
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

/**
 * External signals (services/signals): a webhook alert, a queue message or a file line asking to
 * enter or exit. Off by default, and a dry run by default once on: a trader turns on real routing
 * deliberately. Per-profile numbers (ATR multiple, reward-to-risk, maximum notional) are in
 * services/signals/policy.ts; the risk engine's limits apply to every routed entry as well.
 */
export const signalsSchema = z
  .strictObject({
    /** Route signals at all; when false every signal is refused with SIGNALS_DISABLED (and audited). */
    enabled: z.boolean().default(false),
    /** Decide and audit everything, send nothing (ORDER_NEW with dryRun true, no order). */
    dryRun: z.boolean().default(true),
    /** The effective confidence a signal needs (its own, or the ML score's when scoring is on). */
    minConfidence: z.number().min(0).max(1).default(0.75),
    /** Confidence of a signal that states none (a charting alert is the sender's firm instruction). */
    assumedConfidence: z.number().min(0).max(1).default(1),
    /** Notional (quote, USDT) of a signal that asks for no size. */
    defaultNotional: z.number().positive().default(25),
    /** Clamps of a signal's notional: below minNotional refused, above maxNotional (or the profile's maximum) capped. */
    minNotional: z.number().positive().default(5),
    maxNotional: z.number().positive().optional(),
    /** The signal policy's profile (ATR multiple, reward-to-risk, maximum notional); default the risk profile. */
    profile: z.enum(PROFILES).optional(),
    /** After an accepted entry signal on a symbol, further entry signals on it are refused for this long. */
    cooldownMinutes: z.number().min(0).max(1440).default(5),
    /** A signal whose own timestamp is older than this is refused as stale (0: no check). */
    maxAgeSeconds: z.number().int().min(0).max(86_400).default(120),
    /** Signal ids remembered for de-duplication (oldest forgotten first). */
    dedupCapacity: z.number().int().min(10).max(1_000_000).default(10_000),
    /** A signal's own stop and take-profit are used when on the right side and within these distances (percent of the entry). */
    levels: z
      .strictObject({
        minDistancePct: z.number().positive().max(5).default(0.1),
        maxStopPct: z.number().positive().max(50).default(10),
        maxTakeProfitPct: z.number().positive().max(500).default(50),
      })
      .prefault({}),
    /** Score each entry signal with the promoted ML model: the effective confidence is then the lower of the signal's and the model's. */
    mlScoring: z.boolean().default(false),
    /** A model prediction older than this is no score (the signal is refused with ML_UNAVAILABLE). */
    mlMaxAgeSeconds: z.number().int().min(1).max(3600).default(180),
    /** POST /exchange/test-order with dry_run=false: refused above this notional (quote), and unless live trading is on. */
    testOrderMaxNotional: z.number().positive().max(1000).default(10),
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
  regime: regimeSchema,
  breakout: breakoutSchema,
  /** Parameters of a plug-in strategy module, validated by the module's own schema when it is loaded. */
  strategyParams: z.record(z.string(), z.unknown()).default({}),
  risk: riskSchema,
  backtest: backtestSchema,
  execution: executionSchema,
  signals: signalsSchema,
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
export type RegimeConfig = z.output<typeof regimeSchema>;
export type BreakoutConfig = z.output<typeof breakoutSchema>;
export type SizingConfig = z.output<typeof sizingSchema>;
export type SignalsConfig = z.output<typeof signalsSchema>;

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
  if (entry.data.limitPrice === 'level' && entry.data.orderType === 'market')
    throw new ConfigError(`invalid ${source}: entry.limitPrice: 'level' needs entry.orderType limit or maker (a market order has no price)`);
  if (raw.signals.maxNotional !== undefined && raw.signals.minNotional > raw.signals.maxNotional)
    throw new ConfigError(`invalid ${source}: signals.minNotional: must not exceed signals.maxNotional`);
  const riskProfile = { ...RISK_PROFILES[raw.risk.profile], ...raw.risk.overrides };
  if (raw.risk.sizing.minRiskPct > riskProfile.riskPerTradePct)
    throw new ConfigError(`invalid ${source}: risk.sizing.minRiskPct: must not exceed the profile's riskPerTradePct (${riskProfile.riskPerTradePct})`);
  if (raw.risk.sizing.kellyMinTrades > raw.risk.sizing.kellyWindow)
    throw new ConfigError(`invalid ${source}: risk.sizing.kellyMinTrades: must not exceed risk.sizing.kellyWindow`);
  return { ...raw, entry: entry.data, exit: exit.data, riskProfile, modeSettings: MODE_SETTINGS[raw.mode] };
}
