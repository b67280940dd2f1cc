/**
 * The exchange port: what the executor needs from a venue. The backtest's simulated exchange,
 * the paper exchange and the ccxt MEXC adapter implement it.
 */
import type { Dec } from '../core/money.js';
import type { Side, SymbolId } from '../core/types.js';
import type { OrderErrorKind } from './exchangeErrors.js';

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
  /**
   * For a market order sent because a client-side stop triggered: the stop price. A simulator
   * uses it to fill where a continuous market would have crossed the stop; a venue ignores it.
   */
  readonly stopPrice?: Dec;
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

export interface ExchangeEvents {
  onFill(fill: Fill): void;
  onOrderUpdate(update: OrderUpdate): void;
}

export interface ExchangePort {
  market(symbol: SymbolId): MarketInfo;
  submit(req: OrderRequest): Promise<OrderAck>;
  cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck>;
  /** Registers the receiver of fills and order updates (one per exchange instance). */
  subscribe(events: ExchangeEvents): void;
}
