/**
 * Types of the risk engine: the entry it judges, the account view it is given, its decision and
 * reason codes, and the plain-JSON shape of its state.
 */
import type { Dec } from '../core/money.js';
import type { Direction, SymbolId } from '../core/types.js';
import type { Config } from '../config/schema.js';

/**
 * Every reason code the risk engine can return, with a one-line description (the README's table is
 * built from this list). `HALTED_*` are halts: no entry on any symbol until they lift. `CAPPED_*`
 * are resizes: the entry is approved at a smaller size and the code is listed in `adjustments`.
 * All others reject one entry.
 */
export const RISK_REASONS = {
  HALTED_DAILY_DRAWDOWN: 'Halted: equity fell haltDailyDrawdownPct or more below the UTC day start; lifts at the next UTC day.',
  HALTED_CONSECUTIVE_STOPS: 'Halted: haltConsecutiveStops losing stop-loss exits in a row; lifts at the next UTC day.',
  HALTED_LOW_WIN_RATE: "Halted: the day's win rate fell below haltMinWinRatePct after haltWinRateMinTrades trades; lifts at the next UTC day.",
  HALTED_ABNORMAL_VOLATILITY: 'Halted: a symbol moved more than abnormalMovePct within abnormalMoveWindowMinutes; lifts one window after the move.',
  DAILY_LOSS_LIMIT: "Equity is down the profile's dailyLossLimitPct or more from the UTC day start: no new entries until the next UTC day.",
  WEEKLY_LOSS_LIMIT: "Equity is down the profile's weeklyLossLimitPct or more from the ISO week start: no new entries until next Monday 00:00 UTC.",
  MONTHLY_LOSS_LIMIT: "Equity is down the profile's monthlyLossLimitPct (10% by default) or more from the UTC month's start: no new entries until the 1st of next month 00:00 UTC.",
  MAX_POSITIONS: "The profile's maxPositions positions are already open.",
  ALREADY_IN_POSITION: 'A position on this symbol is already open.',
  SYMBOL_COOLDOWN: 'A position on this symbol closed less than symbolCooldownMinutes ago.',
  INVALID_STOP: 'Entry or stop price is not positive, or the stop is not on the losing side of the entry (or equals it).',
  INSUFFICIENT_BALANCE: 'Equity or free quote balance is too small for the minimum notional.',
  EXPOSURE_CAP: 'Open notionals leave less than minNotional of room under maxTotalExposurePct of equity.',
  BELOW_MIN_NOTIONAL: 'The sized (and capped) notional is below minNotional.',
  SIZING_REFUSED: 'The sizing mode gave no size: confidence sizing without a confidence, or one at or below confidenceFloor.',
  CAPPED_MAX_POSITION_PCT: 'Resized: the notional was capped at maxPositionPct of equity.',
  CAPPED_MAX_NOTIONAL: 'Resized: the notional was capped at maxNotional.',
  CAPPED_EXPOSURE: 'Resized: the notional was capped at the room left under maxTotalExposurePct of equity.',
  CAPPED_FREE_BALANCE: 'Resized: the notional was capped at the free quote balance.',
  CAPPED_REQUESTED_NOTIONAL: "Resized: the notional was capped at the entry's own requested size (an external signal's notional).",
} as const satisfies Record<string, string>;

/** Any reason code of the risk engine (see RISK_REASONS). */
export type RiskReason = keyof typeof RISK_REASONS;
/** Reason codes of a halt. */
export type HaltReason = Extract<RiskReason, `HALTED_${string}`>;
/** Reason codes of a resize: listed in an approval's `adjustments`. */
export type AdjustmentReason = Extract<RiskReason, `CAPPED_${string}`>;
/** Reason codes of a rejection. */
export type RejectionReason = Exclude<RiskReason, AdjustmentReason>;

/** Every reason code, in the order of RISK_REASONS. */
export const RISK_REASON_CODES = Object.keys(RISK_REASONS) as RiskReason[];

/** An entry the strategy wants to take, as the risk engine sees it. */
export interface EntryProposal {
  readonly symbol: SymbolId;
  readonly direction: Direction;
  readonly entryPrice: Dec;
  /** Protective stop: below the entry for a long, above it for a short. */
  readonly stopPrice: Dec;
  /** Epoch milliseconds (UTC) of the decision. */
  readonly time: number;
  /** The strategy's or the model's confidence in [0, 1], for risk.sizing.mode 'confidence'. */
  readonly confidence?: number;
  /** The entry's own cap on its notional (an external signal's size); the sizing caps still apply. */
  readonly maxNotional?: Dec;
}

/** One open position as the risk engine needs it. */
export interface OpenPositionView {
  readonly symbol: SymbolId;
  /** Quote value of the position (size x price). */
  readonly notional: Dec;
}

/** The account, passed in on each call: the engine does not own the portfolio. */
export interface RiskAccount {
  /** Balance including open positions marked to market (quote currency). */
  readonly equity: Dec;
  /** Quote balance free to spend on a new entry. */
  readonly freeQuote: Dec;
  readonly openPositions: ReadonlyArray<OpenPositionView>;
}

/** The risk engine's answer to an EntryProposal. */
export type RiskDecision =
  | {
      readonly kind: 'approved';
      /** Base quantity, exact (not yet rounded to the market's lot step: the executor does that). */
      readonly quantity: Dec;
      /** quantity x entryPrice. */
      readonly notional: Dec;
      /** Quote lost if the stop fills exactly: quantity x |entry - stop| (at most the per-trade budget). */
      readonly riskAmount: Dec;
      /** Caps that reduced the size, in the order they were applied; empty when none bound. */
      readonly adjustments: AdjustmentReason[];
    }
  | {
      readonly kind: 'rejected';
      readonly reason: RejectionReason;
      /** Human-readable numbers behind the rejection. */
      readonly detail: string;
    };

/**
 * Why a trade closed. The brief's list plus the strategy's 'halt', 'signal' and 'end_of_data', so the
 * strategy's ExitReason passes through unchanged. Only 'stop' matters to the risk engine.
 */
export type TradeExitReason = 'stop' | 'target' | 'breakeven' | 'trail' | 'signal' | 'external' | 'time' | 'break' | 'manual' | 'emergency' | 'halt' | 'end_of_data' | 'reconciled';

/** A closed trade (whole position), reported to the risk engine. */
export interface TradeClosedEvent {
  readonly symbol: SymbolId;
  /** Epoch milliseconds (UTC) of the close. */
  readonly time: number;
  /** Realised PnL of the whole trade, after fees. Positive is a win, negative a loss. */
  readonly pnl: Dec;
  readonly exitReason: TradeExitReason;
  /** Equity (marked to market) just after the close. */
  readonly equityAfter: Dec;
  /** Net PnL over the initial risk (the Kelly sizing's history); absent when not measured. */
  readonly rMultiple?: number | null;
}

/** The part of the resolved Config the risk engine reads. A full Config satisfies it. */
export type RiskEngineConfig = Pick<Config, 'risk' | 'riskProfile'>;

/**
 * Halt state. `until` is when the halt lifts by itself (every halt the engine raises has one);
 * `manualResume()` lifts it earlier.
 */
export type HaltState =
  | { readonly halted: false }
  | { readonly halted: true; readonly reason: HaltReason; readonly since: number; readonly until?: number; readonly detail: string };

/** The UTC day's counters. */
export interface DayState {
  /** Epoch ms of 00:00 UTC of the day. */
  readonly start: number;
  /** Equity at the first observation of the day (decimal string). */
  readonly startEquity: string;
  /** Closed trades of the day; a trade with zero PnL counts here but neither as win nor loss. */
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  /** The daily loss limit was reached: no new entries until the next day. */
  readonly lossLimitHit: boolean;
  /** The daily drawdown halt already fired today (it fires once a day, so a manual resume sticks). */
  readonly drawdownHaltFired: boolean;
}

/** The ISO week's counters (a week starts Monday 00:00 UTC). */
export interface WeekState {
  readonly start: number;
  readonly startEquity: string;
  readonly lossLimitHit: boolean;
}

/** A symbol's rolling price window: the monotonic deques of the max and the min (times and prices). */
export interface PriceWindowState {
  /** Time of the latest price (prices must not go back in time), null before the first. */
  readonly lastTime: number | null;
  readonly maxTimes: number[];
  readonly maxPrices: number[];
  readonly minTimes: number[];
  readonly minPrices: number[];
}

/** The risk engine's whole state as plain JSON (what `toState()` returns and `fromState` reads). */
export interface RiskState {
  readonly version: 1;
  /** Latest time seen by any call (epoch ms), null before the first. */
  readonly lastTime: number | null;
  readonly day: DayState | null;
  readonly week: WeekState | null;
  /** The UTC calendar month (absent in states written before the monthly limit existed). */
  readonly month?: WeekState | null;
  /** Losing stop-loss exits in a row (across days; reset by a win or when its halt lifts). */
  readonly consecutiveStops: number;
  /** Per symbol, the epoch ms until which new entries are refused. */
  readonly cooldownUntil: Record<string, number>;
  readonly halt: HaltState;
  readonly priceWindows: Record<string, PriceWindowState>;
}

/** How close each limit is, for a /status endpoint. Money as decimal strings, percents as numbers. */
export interface RiskStatus {
  /** Latest time the engine has seen (epoch ms). */
  readonly asOf: number | null;
  readonly halted: boolean;
  readonly haltReason: HaltReason | null;
  readonly haltSince: number | null;
  readonly haltUntil: number | null;
  readonly haltDetail: string | null;
  /** Loss from the day's start equity to the account's equity, percent (0 when up). */
  readonly dailyLoss: { readonly usedPct: number; readonly limitPct: number; readonly blocked: boolean; readonly dayStart: number | null; readonly dayStartEquity: string | null };
  readonly weeklyLoss: { readonly usedPct: number; readonly limitPct: number; readonly blocked: boolean; readonly weekStart: number | null; readonly weekStartEquity: string | null };
  readonly monthlyLoss: { readonly usedPct: number; readonly limitPct: number; readonly blocked: boolean; readonly monthStart: number | null; readonly monthStartEquity: string | null };
  /** Same loss measure as dailyLoss, against the (wider) halt threshold. */
  readonly dailyDrawdown: { readonly usedPct: number; readonly haltPct: number };
  readonly consecutiveStops: { readonly count: number; readonly max: number };
  /** ratePct is null before the first trade of the day; the floor applies once trades >= minTrades. */
  readonly winRate: { readonly trades: number; readonly wins: number; readonly losses: number; readonly ratePct: number | null; readonly floorPct: number; readonly minTrades: number };
  readonly openPositions: { readonly count: number; readonly max: number };
  readonly exposure: { readonly notional: string; readonly cap: string; readonly usedPct: number; readonly capPct: number };
  /** Symbols still cooling down at `asOf`. */
  readonly cooldowns: ReadonlyArray<{ readonly symbol: string; readonly until: number }>;
}
