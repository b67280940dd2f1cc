/**
 * The exchange port: what the executor needs from a venue. The matching engine in process (the
 * backtest), SafeExchange over the paper venue or the ccxt MEXC adapter implement it. The data it
 * carries is the shared vocabulary in services/model/orders.ts.
 */
import type { SymbolId } from '../core/types.js';
import type { Dec } from '../core/money.js';
import type { Fill, MarketInfo, OrderAck, OrderRequest, OrderUpdate } from '../model/orders.js';

export interface ExchangeEvents {
  onFill(fill: Fill): void;
  onOrderUpdate(update: OrderUpdate): void;
}

export interface ExchangePort {
  market(symbol: SymbolId): MarketInfo;
  submit(req: OrderRequest): Promise<OrderAck>;
  cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck>;
  /**
   * What the account holds of the symbol's base asset (free) and its fills of the symbol since
   * `since` (undefined when they cannot be read). Optional: a port without it makes an exit refused
   * for insufficient balance back off instead. Rejects when the venue cannot be asked.
   */
  holding?(symbol: SymbolId, since: number): Promise<Holding>;
  /** Registers the receiver of fills and order updates (one per exchange instance). */
  subscribe(events: ExchangeEvents): void;
}

/** The account's holding of a market's base asset, as the venue reports it (see ExchangePort.holding). */
export interface Holding {
  readonly free: Dec;
  readonly fills: readonly Fill[] | undefined;
}
