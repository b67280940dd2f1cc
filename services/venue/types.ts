/**
 * The venue port: everything the product needs from a spot exchange, in the core's own types.
 *
 * Three implementations stand behind it and one contract test suite runs against each:
 * - the ccxt MEXC adapter (`services/adapters/mexc/`), against MEXC or against the simulator;
 * - the in-process paper venue (`services/paper/`), the matching engine fed with public data;
 * - (tests) fakes with scripted faults.
 *
 * The executor does not use this port directly: it talks to the narrower `ExchangePort`
 * (`services/execution/types.ts`), which `SafeExchange` implements on top of a `VenueClient` with
 * rate limiting, retries, circuit breakers and unknown-outcome resolution.
 *
 * Conventions: quantities and prices that are booked are `Dec`; market data (candles, trades, book
 * tops) are plain numbers like everywhere else in the core. Times are epoch milliseconds (UTC).
 */
import type { Dec } from '../core/money.js';
import type { BookTop, Candle, Side, SymbolId, Trade } from '../core/types.js';
import type { Fill, MarketInfo, OrderStatus } from '../model/orders.js';

/** Trading rules and status of one spot market, as the venue lists it. */
export interface VenueMarket extends MarketInfo {
  /** False when the venue does not let the API trade it (offline, paused, not API-enabled, one side only). */
  readonly tradable: boolean;
  /** Why it is not tradable, in words a trader understands (undefined when tradable). */
  readonly notTradableReason?: string;
  /** Smallest order quantity in base units (MEXC `baseSizePrecision`). */
  readonly minQuantity: Dec;
  /** Largest order value in quote units, when the venue gives one. */
  readonly maxNotional?: Dec;
  /** Fees as percentages (0.05 means 0.05%). */
  readonly makerFeePct: number;
  readonly takerFeePct: number;
}

/** One asset's balance. `free` can be spent; `locked` is held by open orders. */
export interface Balance {
  readonly asset: string;
  readonly free: Dec;
  readonly locked: Dec;
}

/**
 * Order types: `limit` (rests), `post_only` (MEXC LIMIT_MAKER: rejected when it would take
 * liquidity), `market`, `ioc` (IMMEDIATE_OR_CANCEL: a limit whose unfilled rest is cancelled).
 */
export type VenueOrderType = 'limit' | 'post_only' | 'market' | 'ioc';

export interface VenueOrderRequest {
  readonly clientOrderId: string;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly type: VenueOrderType;
  /** Base quantity. Required, except for a market order given by `quoteAmount`. */
  readonly quantity?: Dec;
  /** Market order by quote amount (MEXC `quoteOrderQty`): spend (buy) or receive (sell) this much quote. */
  readonly quoteAmount?: Dec;
  /** Limit price: required for limit, post_only and ioc. */
  readonly price?: Dec;
}

/** An order as the venue reports it. */
export interface VenueOrder {
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly type: VenueOrderType;
  /** Limit price (undefined for market orders). */
  readonly price?: Dec;
  /** Ordered base quantity (for a market order by quote amount: what was filled once it ended). */
  readonly quantity: Dec;
  readonly filledQuantity: Dec;
  /** Quote value of the fills so far (MEXC `cummulativeQuoteQty`). */
  readonly filledQuote: Dec;
  readonly status: OrderStatus;
  /** Creation time on the venue. */
  readonly time: number;
  readonly updateTime: number;
}

/** A fill as the venue reports it: the execution port's Fill plus the venue's order id. */
export interface VenueFill extends Fill {
  readonly exchangeOrderId: string;
}

/** 24-hour rolling statistics of one market. */
export interface Ticker24h {
  readonly symbol: SymbolId;
  readonly last: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  /** Base-asset volume. */
  readonly volume: number;
  /** Quote-asset volume (what the strategy's minimum 24h volume rule reads). */
  readonly quoteVolume: number;
  readonly bid?: number;
  readonly ask?: number;
  readonly time: number;
}

/** Kline intervals the product streams and backfills. */
export type KlineInterval = '1m' | '5m' | '15m' | '30m' | '1h' | '4h' | '1d';

/** What a caller can stream. Public streams need a symbol; private ones are per account. */
export type StreamSubscription =
  | { readonly kind: 'kline'; readonly symbol: SymbolId; readonly interval: KlineInterval }
  | { readonly kind: 'trades'; readonly symbol: SymbolId }
  | { readonly kind: 'book'; readonly symbol: SymbolId }
  | { readonly kind: 'orders' }
  | { readonly kind: 'fills' }
  | { readonly kind: 'balances' };

/** A typed, validated event from a stream. Frames that cannot become one are counted and dropped. */
export type VenueEvent =
  /** A kline update; `closed` is true once the interval has ended (the candle is final). */
  | { readonly type: 'kline'; readonly symbol: SymbolId; readonly interval: KlineInterval; readonly candle: Candle; readonly closed: boolean; readonly receivedAt: number }
  | { readonly type: 'trade'; readonly symbol: SymbolId; readonly trade: Trade; readonly receivedAt: number }
  | { readonly type: 'book'; readonly symbol: SymbolId; readonly book: BookTop; readonly receivedAt: number }
  | { readonly type: 'order'; readonly order: VenueOrder; readonly receivedAt: number }
  | { readonly type: 'fill'; readonly fill: VenueFill; readonly receivedAt: number }
  | { readonly type: 'balance'; readonly balance: Balance; readonly receivedAt: number }
  /**
   * Health of a stream: `stale` when it has been silent past the configured bound (the adapter
   * reconnects and polls REST meanwhile), `backfilled` after missing klines were fetched from REST.
   */
  | { readonly type: 'stream_status'; readonly stream: string; readonly status: 'connected' | 'disconnected' | 'stale' | 'reconnecting' | 'backfilled'; readonly detail?: string; readonly receivedAt: number };

/** Counters a feed keeps (the status endpoint and the benchmark read them). */
export interface FeedStats {
  /** Frames received from the venue (all streams). */
  readonly frames: number;
  /** Frames that could not be decoded or validated: counted and dropped, never thrown. */
  readonly malformed: number;
  /** Frames dropped as duplicates or out of order (a kline older than one already seen, a fill seen twice). */
  readonly duplicates: number;
  readonly reconnects: number;
  /** Open WebSocket connections. */
  readonly connections: number;
  /** Per stream: time of the last event (epoch ms), for feed lag. */
  readonly lastEventAt: Readonly<Record<string, number>>;
}

/** A running stream session; `close` ends it and its connections. */
export interface StreamHandle {
  close(): Promise<void>;
  stats(): FeedStats;
}

/**
 * The venue. Every method either resolves or rejects with an `ExchangeError` subclass
 * (`services/execution/exchangeErrors.ts`) that says whether a retry can help. Lookups of an order
 * the venue does not know resolve to `undefined` rather than rejecting.
 */
export interface VenueClient {
  /** A short name for logs ("mexc", "mexc-sim", "paper"). */
  readonly name: string;
  /** Loads (or reloads) the markets; must be called before `market`. */
  loadMarkets(): Promise<ReadonlyMap<SymbolId, VenueMarket>>;
  /** A loaded market. Throws SymbolNotTradableError for a symbol the venue does not list. */
  market(symbol: SymbolId): VenueMarket;
  fetchBalances(): Promise<Balance[]>;
  /**
   * Places an order. Rejects with InvalidOrderError (precision, notional), InsufficientBalanceError,
   * SymbolNotTradableError, or a transport error; a TimeoutError/ExchangeServerError means the
   * outcome is unknown and must be resolved with `fetchOrderByClientId`.
   */
  createOrder(req: VenueOrderRequest): Promise<VenueOrder>;
  /** Cancels by client order id. Rejects with OrderNotFoundError when the venue does not know it as open. */
  cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder>;
  fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]>;
  fetchOrderByClientId(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder | undefined>;
  fetchOrderById(symbol: SymbolId, exchangeOrderId: string): Promise<VenueOrder | undefined>;
  /** Own fills with their fees, oldest first, from `since` (inclusive) when given. */
  fetchMyTrades(symbol: SymbolId, since?: number, limit?: number): Promise<VenueFill[]>;
  /** Closed and current klines from `since` (inclusive, open time), oldest first, at most `limit`. */
  fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]>;
  fetchTickers24h(symbols?: readonly SymbolId[]): Promise<Ticker24h[]>;
  fetchBookTop(symbol: SymbolId): Promise<BookTop>;
  /** Starts streaming; events are delivered to `onEvent` in arrival order. */
  stream(subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle>;
  /** Releases connections and timers. */
  close(): Promise<void>;
}
