/**
 * The exchange port: what the executor needs from a venue. The matching engine in process (the
 * backtest), SafeExchange over the paper venue or the ccxt MEXC adapter implement it. The data it
 * carries is the shared vocabulary in services/model/orders.ts.
 */
import type { SymbolId } from '../core/types.js';
import type { Fill, MarketInfo, OrderAck, OrderRequest, OrderUpdate } from '../model/orders.js';

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
