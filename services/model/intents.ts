/**
 * Intents: what the strategy wants, never how. The risk engine approves, resizes or rejects entries;
 * the executor turns intents into orders. Backtest, paper and live share this contract.
 */
import type { Direction, SymbolId } from '../core/types.js';

/** Why a position is (partly) closed. */
export type ExitReason =
  | 'stop' // fixed stop beyond the level
  | 'breakeven' // stop after it was moved to the entry price
  | 'trail' // trailing stop (moved up behind the price)
  | 'signal' // the strategy's own exit rule (e.g. a channel exit)
  | 'target' // a scale-out target filled
  | 'time' // time stop
  | 'break' // high-volume break through the level
  | 'halt' // risk halt or emergency stop
  | 'external' // an external signal asked to close (services/signals)
  | 'reconciled' // closed outside the runtime: an exit was refused and the venue holds nothing sellable
  | 'end_of_data'; // backtest ran out of candles

/** One of the three scale-out targets. */
export interface TargetPlan {
  readonly label: 'primary' | 'secondary' | 'aggressive';
  readonly price: number;
  /** Fraction of the position closed at this target (0.33 / 0.33 / 0.34 by default). */
  readonly fraction: number;
}

/** The level an entry is taken at. */
export interface LevelRef {
  readonly price: number;
  readonly touches: number;
  readonly sources: readonly string[];
}

export interface EnterIntent {
  readonly kind: 'enter';
  /** Deterministic id: symbol, direction and decision time. Client order ids derive from it. */
  readonly id: string;
  readonly symbol: SymbolId;
  readonly direction: Direction;
  readonly time: number;
  /** Price the decision was made at (the closing price of the signal candle). */
  readonly price: number;
  /**
   * Where a limit or maker entry rests (entry.orderType limit or maker); default `price`. The S/R
   * strategy sets it to the level with entry.limitPrice 'level'. A market entry ignores it.
   */
  readonly limitPrice?: number;
  /**
   * How likely the strategy (or a model) thinks the trade is to work, in [0, 1]; read by
   * risk.sizing.mode 'confidence'. The kernel's entryConfidence hook sets it from a model.
   */
  readonly confidence?: number;
  readonly stop: number;
  /** Targets ordered from nearest to farthest. */
  readonly targets: readonly TargetPlan[];
  readonly level: LevelRef;
  /** The opposite level the secondary target sits before, when there is one. */
  readonly oppositeLevel: number | null;
  /** Rules and confirmations that passed, for the decision log. */
  readonly reasons: readonly string[];
  /** Time stop, epoch ms. */
  readonly expiresAt: number;
  /**
   * A cap on the entry's notional (quote), on top of the risk engine's own caps: an external
   * signal's requested size (services/signals). The strategy's entries leave it unset.
   */
  readonly maxNotional?: number;
  /**
   * Where the entry was decided: unset for the strategy's own, 'external' for an external signal
   * (the runtime's ML entry filter judges only the strategy's entries; signals are scored by their
   * own policy in services/signals).
   */
  readonly origin?: 'external';
}

export interface MoveStopIntent {
  readonly kind: 'move_stop';
  readonly id: string;
  readonly symbol: SymbolId;
  readonly positionId: string;
  readonly time: number;
  readonly stop: number;
  readonly reason: 'breakeven' | 'trail';
}

export interface ExitIntent {
  readonly kind: 'exit';
  readonly id: string;
  readonly symbol: SymbolId;
  readonly positionId: string;
  readonly time: number;
  readonly reason: ExitReason;
  readonly detail: string;
  /**
   * Exit as a maker: a post-only limit sell at `price` first, and the rest at market after `waitMs`
   * (or at once when the venue refuses it, or the stop is crossed meanwhile). Default: market.
   */
  readonly maker?: { readonly price: number; readonly waitMs: number };
}

export type Intent = EnterIntent | MoveStopIntent | ExitIntent;
