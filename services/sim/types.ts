/**
 * The exchange simulator's core contracts: the matching engine (pure, in-process, shared by the
 * simulator server and the paper venue) and the market-data events that drive it.
 *
 * The engine is pure: no clock, no randomness, no I/O. Time comes in with every call (`now`) and
 * with every market-data event. The simulator server (`services/adapters/mexcSim/`) puts MEXC's
 * REST and WebSocket protocol in front of it; the paper venue (`services/paper/`) calls it directly.
 */
import { DomainError } from '../core/errors.js';
import type { Dec } from '../core/money.js';
import type { BookTop, Candle, SymbolId, Trade } from '../core/types.js';
import type { Balance, KlineInterval, VenueFill, VenueOrder, VenueOrderRequest } from '../venue/types.js';

/** A market the simulator lists. */
export interface SimMarketSpec {
  readonly symbol: SymbolId;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: Dec;
  readonly stepSize: Dec;
  readonly minQuantity: Dec;
  readonly minNotional: Dec;
  readonly maxNotional?: Dec;
  readonly makerFeePct: number;
  readonly takerFeePct: number;
  /** MEXC status "1" online, "2" paused, "3" offline. */
  readonly status: 'online' | 'paused' | 'offline';
  /** False: listed but not enabled for API trading (MEXC 10007 "symbol not support api"). */
  readonly apiTradable: boolean;
}

/** Public market data, in time order per symbol. The engine matches against trades and book tops. */
export type MarketDataEvent =
  | { readonly type: 'trade'; readonly symbol: SymbolId; readonly trade: Trade }
  | { readonly type: 'book'; readonly symbol: SymbolId; readonly book: BookTop }
  /** A kline snapshot; `closed` once its interval ended. Informational for the engine. */
  | { readonly type: 'kline'; readonly symbol: SymbolId; readonly interval: KlineInterval; readonly candle: Candle; readonly closed: boolean; readonly time: number };

/** What the engine reports to the account that owns an order (and what private streams push). */
export type EngineEvent =
  | { readonly type: 'order'; readonly account: string; readonly order: VenueOrder }
  | { readonly type: 'fill'; readonly account: string; readonly fill: VenueFill }
  | {
      readonly type: 'balance';
      readonly account: string;
      readonly balance: Balance;
      /** Change of free and locked, and why (MEXC account-stream `type` values). */
      readonly freeChange: Dec;
      readonly lockedChange: Dec;
      readonly reason: 'ENTRUST_PLACE' | 'ENTRUST_CANCEL' | 'ENTRUST' | 'TRADE_FEE' | 'DEPOSIT';
      readonly time: number;
    };

/**
 * A refusal, with MEXC's error code and HTTP status, so the server can answer with MEXC's body
 * `{"code":…,"msg":…}` and the paper venue can map it to the same ExchangeError class.
 */
export class SimRejectError extends DomainError {
  override readonly name: string = 'SimRejectError';
  constructor(
    readonly code: number,
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

/** Which order a cancel or lookup means. */
export type OrderRef = { readonly clientOrderId: string } | { readonly exchangeOrderId: string };

/** Fill rules the engine applies (see the engine's file comment for how each is used). */
export interface EngineOptions {
  /** Fixed slippage of market orders beyond the book, in basis points. */
  readonly slippageBps: number;
  /** Extra slippage per percent of the recent traded volume a market order takes. */
  readonly impactBpsPerPctVolume: number;
  /** At most this percent of each public trade's quantity fills our resting limit orders. */
  readonly participationPct: number;
  /** Time from placing a market order to its matching, ms (0 or absent: at once). */
  readonly latencyMs?: number;
}

export interface MatchingEngine {
  /** Lists a market (or replaces its spec: status changes are how a test pauses a pair). */
  addMarket(spec: SimMarketSpec): void;
  markets(): readonly SimMarketSpec[];
  /** Opens an account (idempotent) and credits deposits. */
  openAccount(account: string, deposits: Readonly<Record<string, Dec>>, now: number): void;
  balances(account: string): Balance[];
  /** Feeds public market data; matching happens here. Events must be in time order per symbol. */
  onMarketData(event: MarketDataEvent): void;
  /** Executes the market orders in flight that have arrived by `time` (the clock moved without data). */
  advance(time: number): void;
  /** The last book top of a symbol, if any data arrived. */
  bookTop(symbol: SymbolId): BookTop | undefined;
  /**
   * Places an order. Throws SimRejectError: 10007 not API-tradable, 30016 paused/offline, 30002 below
   * minimum (quantity or notional), 30003 above maximum, 10096 too many decimals, 10101 insufficient
   * balance, 30041 post-only would take liquidity (the
   * simulator's choice: MEXC does not document its answer), 30010 a market order with no price yet, 30011 duplicate client order id, 700004 bad
   * parameter. A marketable part fills at once (taker); events are emitted before it returns.
   */
  place(account: string, req: VenueOrderRequest, now: number): VenueOrder;
  /** Cancels an open order. Throws SimRejectError -2011 when it is unknown or no longer open. */
  cancel(account: string, symbol: SymbolId, ref: OrderRef, now: number): VenueOrder;
  order(account: string, symbol: SymbolId, ref: OrderRef): VenueOrder | undefined;
  openOrders(account: string, symbol?: SymbolId): VenueOrder[];
  /** Every order of the account on the symbol, oldest first (open and ended). */
  allOrders(account: string, symbol: SymbolId): VenueOrder[];
  /** The account's fills on the symbol, oldest first, from `since` (inclusive). */
  myTrades(account: string, symbol: SymbolId, since?: number, limit?: number): VenueFill[];
  /** Subscribes to order, fill and balance events of every account; returns the unsubscribe. */
  onEvent(listener: (e: EngineEvent) => void): () => void;
}
