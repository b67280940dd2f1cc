/**
 * Inputs and outputs of the backtest analytics.
 *
 * The backtester produces `ClosedTrade`s, a sampled equity series and a `SummaryInput`; the
 * analytics turn them into a `BacktestSummary` (JSON-friendly: plain numbers, `null` where a ratio
 * has no defined value, never NaN or Infinity).
 */

import type { Dec } from '../core/money.js';
import type { Direction } from '../core/types.js';

/**
 * One round trip: a position from its first entry fill to its last exit fill.
 * A position may be scaled out in several partial exits; `exitPrice` is their volume-weighted mean.
 */
export interface ClosedTrade {
  readonly id: string;
  readonly symbol: string;
  readonly direction: Direction;
  /** Epoch ms (UTC) of the first entry fill. */
  readonly entryTime: number;
  /** Epoch ms (UTC) of the last exit fill. */
  readonly exitTime: number;
  /** Volume-weighted average entry price. */
  readonly entryPrice: Dec;
  /** Volume-weighted average price over all (partial) exits. */
  readonly exitPrice: Dec;
  /** Total quantity entered (base asset). */
  readonly quantity: Dec;
  /** All fees paid on entry and exits, in the quote asset. */
  readonly fees: Dec;
  /** PnL before fees, in the quote asset. */
  readonly grossPnl: Dec;
  /** `grossPnl - fees`. A trade is a win when this is > 0 and a loss when < 0. */
  readonly netPnl: Dec;
  /** Reason of the final exit: 'stop' | 'target' | 'breakeven' | 'time' | 'break' | 'end_of_data' ... */
  readonly exitReason: string;
  /** Number of (partial) exit fills. */
  readonly exits: number;
  /** netPnl / entry notional x 100. */
  readonly returnPct: number;
  /** The plan the trade was taken with and what happened while it was open (set by the executor). */
  readonly plan?: TradePlan;
  /**
   * Part of the position left the account outside the runtime and the exchange's fills for it were
   * not found: that part is booked at the entry price, so the PnL shown is not the real one.
   */
  readonly pnlUnknown?: true;
}

/**
 * A trade's plan and path, as the executor saw them (identically in backtest, paper and live).
 * Excursions are measured on every price the executor is shown while the position is open: trade
 * prints and best bids (the price a long can sell at).
 */
export interface TradePlan {
  /** The initial stop as booked (on the tick). */
  readonly stop: Dec;
  /** The stop when the trade ended (moved by breakeven or trailing; the initial one otherwise). */
  readonly finalStop: Dec;
  /** Scale-out target prices as booked (on the tick), nearest first; empty without targets. */
  readonly targets: readonly Dec[];
  /** quantity x (entry price - initial stop): what the trade loses if the initial stop fills exactly. */
  readonly initialRisk: Dec;
  /** netPnl / initialRisk; null when the initial risk is not positive. */
  readonly rMultiple: number | null;
  /** Highest and lowest price seen while the position was open. */
  readonly highPrice: number;
  readonly lowPrice: number;
  readonly entryFees: Dec;
  readonly exitFees: Dec;
  /** The decision price of the entry: the signal close for a market entry, the limit price for a limit or maker entry. */
  readonly entryReference: number;
  /** (average entry fill - entryReference) x quantity: what the entry paid over its decision price (negative: better). */
  readonly entrySlippage: Dec;
  /**
   * What exits by market order (stop, time, break, ...) paid below their decision price: (decision
   * price - fill) x quantity summed over those fills. The decision price is the stop for a stop exit
   * and the last price seen when the exit started otherwise. Targets and maker exits fill at their
   * limit: no slippage.
   */
  readonly exitSlippage: Dec;
}

/** Account equity (balance plus open positions marked to market) at one instant, in the quote asset. */
export interface EquityPoint {
  /** Epoch ms (UTC). */
  readonly time: number;
  readonly equity: number;
}

/** First open and last close of one symbol over the run, for the buy-and-hold comparison. */
export interface BuyAndHoldInput {
  readonly symbol: string;
  readonly firstOpen: number;
  readonly lastClose: number;
}

/** Everything the backtester knows about one run. */
export interface SummaryInput {
  readonly initialBalance: Dec;
  readonly finalBalance: Dec;
  /** Candles processed (all symbols, base timeframe). */
  readonly candles: number;
  readonly symbols: readonly string[];
  /**
   * The run's time span in epoch ms: `startTime` is the first candle's open time, `endTime` the
   * end of the run (the backtester should pass the last candle's close, i.e. open time plus its
   * duration, so a one-candle run has a non-zero span). Used for exposure and trades per day.
   */
  readonly startTime: number;
  readonly endTime: number;
  /** Wall-clock duration of the run, for throughput. */
  readonly elapsedMs: number;
  readonly buyAndHold: readonly BuyAndHoldInput[];
  /** Closed trades, in any order. */
  readonly trades: readonly ClosedTrade[];
  /** Equity samples in ascending time order, any spacing. */
  readonly equity: readonly EquityPoint[];
}

/** Figures for one symbol. */
export interface SymbolSummary {
  readonly trades: number;
  /** Sum of the symbol's trades' net PnL (8 decimals). */
  readonly netPnl: number;
  /** Percent of the symbol's trades with net PnL > 0; null without trades. */
  readonly winRate: number | null;
  /** Percent: last close / first open - 1; null when the backtester gave no prices for it. */
  readonly buyAndHoldReturnPct: number | null;
}

/**
 * The headline figures of a backtest, as written to summary.json.
 *
 * Rounding: money fields (`initialBalance`, `finalBalance`, `netPnl`, `grossPnl`, `fees`,
 * `expectancy`, per-symbol `netPnl`) are rounded to 8 decimals (the exact values are in
 * trades.csv); percents and ratios to 4 decimals; `candlesPerSecond` to an integer. Ratios whose
 * denominator is zero are `null` (JSON has no Infinity or NaN).
 */
export interface BacktestSummary {
  readonly initialBalance: number;
  readonly finalBalance: number;
  readonly candles: number;
  readonly symbols: readonly string[];
  /** ISO-8601 UTC of `startTime` and `endTime`. */
  readonly start: string;
  readonly end: string;
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  /** Percent of trades with net PnL > 0; null without trades. */
  readonly winRate: number | null;
  /** finalBalance - initialBalance. */
  readonly netPnl: number;
  /** Sum of the trades' gross PnL (before fees). */
  readonly grossPnl: number;
  /** netPnl / initialBalance x 100. */
  readonly netReturnPct: number;
  /** Largest peak-to-trough fall of the equity series, as a positive percent of the peak. */
  readonly maxDrawdownPct: number;
  /** Annualised (sqrt 365) Sharpe ratio of daily returns, risk-free 0; null with < 2 daily returns or zero deviation. */
  readonly sharpe: number | null;
  /** Annualised (sqrt 365) Sortino ratio of daily returns, target 0; null with < 2 daily returns or no losing day. */
  readonly sortino: number | null;
  /** Sum of winning trades' net PnL / |sum of losing trades' net PnL|; null without losing trades. */
  readonly profitFactor: number | null;
  /** Sum of all trades' fees. */
  readonly fees: number;
  /** Percent of the run's span with at least one position open; null for a zero span. */
  readonly exposurePct: number | null;
  /** Trades per 24 h of the run's span; null for a zero span. */
  readonly tradesPerDay: number | null;
  /** Equal-weight mean over symbols of (last close / first open - 1) x 100; null without prices. */
  readonly buyAndHoldReturnPct: number | null;
  readonly elapsedMs: number;
  /** candles / (elapsedMs / 1000); null when elapsedMs is 0. */
  readonly candlesPerSecond: number | null;
  /** Mean `returnPct` of winning trades; null without wins. */
  readonly avgWinPct: number | null;
  /** Mean `returnPct` of losing trades (a negative number); null without losses. */
  readonly avgLossPct: number | null;
  /** Mean net PnL per trade in the quote asset; null without trades. */
  readonly expectancy: number | null;
  /** Longest run of consecutive losing trades, in exit-time order. */
  readonly maxConsecutiveLosses: number;
  /** Count of trades per final exit reason. */
  readonly exitReasons: Readonly<Record<string, number>>;
  readonly perSymbol: Readonly<Record<string, SymbolSummary>>;
}
