/**
 * What the executor asks of the venue, as data. The executor never waits on the venue: it emits
 * commands into a sink, a submitter carries them out (in order per symbol), and the results come
 * back to the executor as calls (acks) and as venue events (fills, order updates). So one slow
 * order never delays another symbol's stop, and the backtest can run the same executor without a
 * single promise on its hot loop.
 */
import type { SymbolId } from '../core/types.js';
import type { OrderAck, OrderRequest } from '../model/orders.js';
import type { Holding } from './types.js';

/**
 * Place an order. `build` is called when the submitter reaches the command (not when it was
 * emitted): the request reflects what happened meanwhile (an exit sells what is left after the
 * targets' cancels), and null means it is no longer wanted.
 */
export interface SubmitCommand {
  readonly kind: 'submit';
  readonly symbol: SymbolId;
  readonly clientOrderId: string;
  /** The decision time (the market clock when the executor emitted it). */
  readonly time: number;
  readonly build: () => OrderRequest | null;
}

export interface CancelCommand {
  readonly kind: 'cancel';
  readonly symbol: SymbolId;
  readonly clientOrderId: string;
  readonly time: number;
}

/**
 * Ask the venue what the account holds of a market's base asset, and its fills of the symbol since
 * `since`: an exit was refused for insufficient balance (`clientOrderId`), so the position's
 * quantity is not all there (sold outside the runtime, or by an emergency stop whose fills were
 * never booked). The executor decides from the answer; it never resends blindly.
 */
export interface HoldingCommand {
  readonly kind: 'holding';
  readonly symbol: SymbolId;
  readonly clientOrderId: string;
  readonly positionId: string;
  readonly since: number;
  readonly time: number;
}

export type ExecutionCommand = SubmitCommand | CancelCommand | HoldingCommand;

/** Where the executor puts its commands. */
export interface CommandSink {
  push(command: ExecutionCommand): void;
  /** Resolves once every command pushed so far has been carried out and its result delivered. */
  idle(): Promise<void>;
}

/** What a submitter reports back, per command (the executor implements it). */
export interface CommandResults {
  /** The venue's answer to a submit; `ack` is null when `build` returned null (nothing was sent). */
  onSubmitAck(command: SubmitCommand, ack: OrderAck | null, now: number): void;
  onCancelAck(command: CancelCommand, ack: OrderAck, now: number): void;
  /** The venue's answer to a holding query; undefined when it could not be asked (or the port cannot). */
  onHolding(command: HoldingCommand, holding: Holding | undefined, now: number): void;
}
