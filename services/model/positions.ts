/**
 * What a strategy sees of a position (the executor keeps the position; this is its read-only view),
 * shared by the executor, the strategies and the kernel.
 */
import type { Direction, SymbolId } from '../core/types.js';

/** A position as the strategy sees it. */
export interface PositionView {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly direction: Direction;
  /** entering: nothing filled yet; open: something filled (the entry may still be working); closing: an exit is under way. */
  readonly state: 'entering' | 'open' | 'closing';
  readonly entryPrice: number;
  readonly stop: number;
  readonly levelPrice: number;
  readonly openedAt: number;
  readonly expiresAt: number;
  readonly breakevenMoved: boolean;
  /** Base quantity held for the position (filled minus exited). */
  readonly quantity: number;
  /** True while the entry order is still working (a limit entry filling in parts). */
  readonly entryWorking: boolean;
}
