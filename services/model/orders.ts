/**
 * The shared vocabulary of orders: what an order request, an acknowledgement, an order update and
 * a fill are, the trading rules of a market, an order's role in a position, and why a request did
 * not go through. Defined once here and used by the executor, the venues, the simulator, the
 * portfolio, the journal and the Lambdas' jobs alike.
 */
import type { Dec } from '../core/money.js';
import type { Side, SymbolId } from '../core/types.js';

/** An order's part in a position: the entry, a scale-out target, or an exit (stop, time, break, halt). */
export type OrderRole = 'entry' | 'target' | 'exit';

export type OrderType = 'market' | 'limit';

export interface OrderRequest {
  /** Deterministic, derived from the intent: a retried submit can never create a second order. */
  readonly clientOrderId: string;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly type: OrderType;
  readonly quantity: Dec;
  /** Limit price; required for limit orders. */
  readonly price?: Dec;
  /** Post-only (MEXC LIMIT_MAKER): rejected instead of taking liquidity. */
  readonly postOnly?: boolean;
}

export type OrderStatus = 'new' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired';

export interface OrderAck {
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly status: OrderStatus;
  /** For people (logs, alerts); code switches on `errorKind`, never on this text. */
  readonly reason?: string;
  /**
   * Why the request did not go through: set whenever `status` is 'rejected' because of an error
   * or a refusal, and on a cancel that failed (the order's status is then what was known before).
   */
  readonly errorKind?: OrderErrorKind;
}

/** One execution (a partial or full fill of an order). */
export interface Fill {
  readonly tradeId: string;
  readonly clientOrderId: string;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly price: Dec;
  readonly quantity: Dec;
  /** Fee charged, in `feeAsset`. */
  readonly fee: Dec;
  readonly feeAsset: string;
  readonly liquidity: 'maker' | 'taker';
  readonly time: number;
}

export interface OrderUpdate {
  readonly clientOrderId: string;
  readonly symbol: SymbolId;
  readonly status: OrderStatus;
  readonly filledQuantity: Dec;
  readonly time: number;
  readonly reason?: string;
  /** Why the order was rejected, when `status` is 'rejected' (see OrderAck.errorKind). */
  readonly errorKind?: OrderErrorKind;
}

/** Trading rules of one market. */
export interface MarketInfo {
  readonly symbol: SymbolId;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: Dec;
  readonly stepSize: Dec;
  readonly minNotional: Dec;
}

export type ExchangeErrorKind =
  | 'network'
  | 'timeout'
  | 'rate_limit'
  | 'server'
  | 'clock_skew'
  | 'authentication'
  | 'insufficient_balance'
  | 'invalid_order'
  | 'symbol_not_tradable'
  | 'order_not_found'
  | 'bad_request';

/**
 * Why an order request did not go through (a rejected ack, a failed cancel), for callers to switch
 * on: a venue error's kind, a refusal made before the venue was asked, or one of the journal's
 * refusals (services/recovery/journaledExchange.ts). Never parse the ack's `reason`: it is for
 * people, and its wording may change.
 */
export type OrderErrorKind =
  | ExchangeErrorKind
  /** The endpoint's circuit breaker is open (CircuitOpenError). */
  | 'circuit_open'
  /** The client-side rate limiter could not give a token in time (RateLimitQueueFullError). */
  | 'rate_limit_queue_full'
  /** The symbol's command queue is full (services/execution/submitter.ts): the command was not carried out. */
  | 'queue_full'
  /** The request failed local validation (a limit order without a price). */
  | 'invalid_request'
  /** The request does not fit the tracked state (too many orders tracked, an id tracked twice). */
  | 'invalid_state'
  /** This process does not hold the symbol's lease: another actor may trade it. */
  | 'lease_not_held'
  /** The client order id was journaled by an earlier run: never sent twice. */
  | 'duplicate_client_order_id'
  /** An entry could not be journaled, so it was not sent. */
  | 'state_unavailable'
  /** Anything else (a bug): the reason says what. */
  | 'unexpected';
