/**
 * The MEXC spot venue (VenueClient) on top of ccxt: `mexc` for REST and `pro.mexc` for the
 * WebSocket streams (through MexcStreamManager). Talks to MEXC, or to the project's simulator when
 * `restUrl` points at it.
 *
 * Money is exact: quantities, prices, fees and balances are read from the venue's raw strings
 * (ccxt's `info`), never from ccxt's floats, and orders are sent with our own decimal strings (ccxt
 * would otherwise turn a float such as 7.89e-6 into text it formats itself).
 *
 * Every method rejects only with the project's ExchangeError classes (restClient.ts maps ccxt's).
 */
import type { Order as CcxtOrder } from 'ccxt';
import { Dec } from '../../core/money.js';
import { symbolId, type BookTop, type Candle, type Side, type SymbolId } from '../../core/types.js';
import {
  ExchangeRequestError,
  ExchangeServerError,
  InvalidOrderError,
  OrderNotFoundError,
  SymbolNotTradableError,
  type ExchangeOperation,
} from '../../execution/exchangeErrors.js';
import type { OrderStatus } from '../../model/orders.js';
import type {
  Balance,
  KlineInterval,
  StreamHandle,
  StreamSubscription,
  Ticker24h,
  VenueClient,
  VenueEvent,
  VenueFill,
  VenueMarket,
  VenueOrder,
  VenueOrderRequest,
  VenueOrderType,
} from '../../venue/types.js';
import { mexcProFactory } from './proClient.js';
import { DEFAULT_RECV_WINDOW_MS, DEFAULT_TIMEOUT_MS, createMexcRestClient, toExchangeError, type MexcClientOptions, type MexcRestClient } from './restClient.js';
import { MexcStreamManager } from './streamManager.js';
import type { StreamManagerOptions } from './streamOptions.js';

/** Options of the MEXC venue. */
export interface MexcVenueOptions {
  readonly apiKey?: string;
  readonly secret?: string;
  /** A MEXC-compatible REST server (the simulator); MEXC itself when absent. */
  readonly restUrl?: string;
  /** Its WebSocket URL; derived from `restUrl` when absent. */
  readonly wsUrl?: string;
  /** Per-request deadline, default 10,000 ms. */
  readonly timeoutMs?: number;
  /** MEXC recvWindow, default 5,000 ms. */
  readonly recvWindowMs?: number;
  /** ccxt's client-side throttle of MEXC's request weights; default true (turn off for a simulator in tests). */
  readonly enableRateLimit?: boolean;
  /** Options of the stream manager (staleness bounds, reconnect backoff, ...). */
  readonly streams?: Partial<StreamManagerOptions>;
  /** Clock for times the venue does not give (default Date.now). */
  readonly now?: () => number;
  /** Receives non-fatal problems (e.g. the API-symbol list could not be read). Default: console.warn. */
  readonly onWarning?: (message: string) => void;
}

type Raw = Record<string, unknown>;

/** A VenueMarket with MEXC's raw exchangeInfo entry, kept for diagnostics and fields the port does not carry. */
export interface MexcVenueMarket extends VenueMarket {
  readonly info: Readonly<Record<string, unknown>>;
}

/** ccxt's precision modes (base/functions/number.js): TICK_SIZE gives steps, DECIMAL_PLACES digit counts. */
const DECIMAL_PLACES = 2;
const TICK_SIZE = 4;

const TRADE_SIDE: Readonly<Record<string, string>> = { '2': 'buy only', '3': 'sell only', '4': 'closed' };
const STATUS_TEXT: Readonly<Record<string, string>> = { '2': 'paused', '3': 'offline' };

/** MEXC order status (REST) → ours. PARTIALLY_CANCELED is an ended order with some fill: cancelled. */
const ORDER_STATUS: Readonly<Record<string, OrderStatus>> = {
  NEW: 'new',
  PARTIALLY_FILLED: 'partially_filled',
  FILLED: 'filled',
  CANCELED: 'cancelled',
  PARTIALLY_CANCELED: 'cancelled',
};

/** MEXC order type → ours. FILL_OR_KILL never rests either, so it reads as ioc (we never send it). */
const ORDER_TYPE: Readonly<Record<string, VenueOrderType>> = {
  LIMIT: 'limit',
  LIMIT_MAKER: 'post_only',
  IMMEDIATE_OR_CANCEL: 'ioc',
  FILL_OR_KILL: 'ioc',
  MARKET: 'market',
};

function isRaw(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A non-negative exact decimal from a venue string or number; undefined when absent or invalid. */
function decOf(v: unknown): Dec | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  try {
    const d = Dec.from(s);
    return d.isNegative() ? undefined : d;
  } catch {
    return undefined;
  }
}

function intOf(v: unknown): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function numOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function symOf(v: unknown): SymbolId | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  try {
    return symbolId(s);
  } catch {
    return undefined;
  }
}

/** Percent from a fee fraction, exactly (0.0005 → 0.05). */
function pctOf(fraction: Dec): number {
  return fraction.mul(Dec.from(100)).toNumber();
}

/** A reply the adapter cannot read: the request reached the venue, so its outcome is unknown. */
function unreadable(what: string): ExchangeServerError {
  return new ExchangeServerError(`MEXC reply unreadable: ${what}`);
}

/** ccxt's step for one precision value, as an exact decimal. */
function stepOf(precision: unknown, mode: number | undefined, rawDigits: unknown): Dec | undefined {
  if (typeof precision === 'number' && Number.isFinite(precision) && precision > 0) {
    if (mode === TICK_SIZE) return Dec.from(precision);
    if (mode === DECIMAL_PLACES && Number.isInteger(precision)) return Dec.from(`1e-${precision}`);
  }
  // ccxt could not give it: MEXC's own digit count (baseAssetPrecision / quoteAssetPrecision).
  const digits = intOf(rawDigits);
  if (digits !== undefined && digits >= 0 && digits <= 18) return Dec.from(`1e-${digits}`);
  return undefined;
}

/** Why a market is not tradable through the API (reasons joined), or undefined when it is. */
function notTradableReason(info: Raw, apiSymbols: ReadonlySet<string> | undefined, id: string): string | undefined {
  const reasons: string[] = [];
  const status = str(info['status']);
  // "1" is online since 2024-08; older replies said "ENABLED" (PROTOCOL.md §1.3).
  if (status !== undefined && status !== '1' && status !== 'ENABLED') {
    reasons.push(`the market is ${STATUS_TEXT[status] ?? 'not online'} (status "${status}")`);
  }
  if (info['isSpotTradingAllowed'] === false) reasons.push('spot trading is not allowed on it (isSpotTradingAllowed false)');
  const side = str(info['tradeSideType']);
  if (side !== undefined && side !== '1') reasons.push(`it trades ${TRADE_SIDE[side] ?? `on restricted sides (tradeSideType ${side})`}`);
  if (apiSymbols !== undefined && !apiSymbols.has(id)) reasons.push('MEXC does not enable it for API trading (not in /api/v3/defaultSymbols)');
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

/**
 * The MEXC spot venue through ccxt. `name` is "mexc", or "mexc-sim" when `restUrl` points at
 * another server. Call `loadMarkets` before anything that needs a market.
 */
const KLINE_INTERVAL_MS: Readonly<Record<KlineInterval, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export class CcxtMexcVenue implements VenueClient {
  readonly name: string;
  private readonly rest: MexcRestClient;
  private readonly clientOptions: MexcClientOptions;
  private readonly secrets: readonly (string | undefined)[];
  private readonly now: () => number;
  private readonly warn: (message: string) => void;
  private readonly streamOptions: Partial<StreamManagerOptions>;
  private markets = new Map<SymbolId, MexcVenueMarket>();
  /** Our symbol → ccxt's unified symbol ("BTCUSDT" → "BTC/USDT"). */
  private unified = new Map<SymbolId, string>();
  private readonly handles = new Set<StreamHandle>();
  private closed = false;

  constructor(options: MexcVenueOptions = {}) {
    this.clientOptions = {
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.restUrl !== undefined ? { restUrl: options.restUrl } : {}),
      ...(options.wsUrl !== undefined ? { wsUrl: options.wsUrl } : {}),
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      recvWindowMs: options.recvWindowMs ?? DEFAULT_RECV_WINDOW_MS,
      enableRateLimit: options.enableRateLimit ?? true,
    };
    this.name = options.restUrl !== undefined ? 'mexc-sim' : 'mexc';
    this.rest = createMexcRestClient(this.clientOptions);
    this.secrets = [options.secret, options.apiKey];
    this.now = options.now ?? (() => Date.now());
    this.warn = options.onWarning ?? ((m: string) => console.warn(m));
    this.streamOptions = options.streams ?? {};
  }

  /** Runs one ccxt call, turning whatever it throws into an ExchangeError. */
  private async call<T>(operation: ExchangeOperation, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ExchangeRequestError(`the ${this.name} venue is closed`);
    try {
      return await fn();
    } catch (err) {
      throw toExchangeError(err, operation, this.secrets);
    }
  }

  /**
   * Loads the spot markets with their precision, limits, fees and tradability. A market is not
   * tradable when it is paused or offline, spot trading is off, it trades one side only or not at
   * all, or MEXC leaves it out of the API symbol list (GET /api/v3/defaultSymbols). When that list
   * cannot be read, the status flags alone decide and a warning is given.
   */
  async loadMarkets(): Promise<ReadonlyMap<SymbolId, MexcVenueMarket>> {
    const [loaded, apiSymbols] = await Promise.all([
      this.call('query', () => this.rest.loadMarkets(true)),
      this.fetchApiSymbols(),
    ]);
    const markets = new Map<SymbolId, MexcVenueMarket>();
    const unified = new Map<SymbolId, string>();
    for (const m of Object.values(loaded)) {
      if (m?.spot !== true || !isRaw(m.info)) continue;
      const symbol = symOf(m.id);
      if (symbol === undefined) continue; // an id our symbols cannot express (none on MEXC spot today)
      const vm = this.toVenueMarket(symbol, m, m.info, apiSymbols);
      if (vm === undefined) {
        this.warn(`mexc: market ${symbol} skipped: its tick or lot size is missing from exchangeInfo`);
        continue;
      }
      markets.set(symbol, vm);
      unified.set(symbol, m.symbol);
    }
    this.markets = markets;
    this.unified = unified;
    return markets;
  }

  /** The API-tradable symbols, or undefined (with a warning) when the list cannot be read. */
  private async fetchApiSymbols(): Promise<ReadonlySet<string> | undefined> {
    try {
      const reply: unknown = await this.rest.spotPublicGetDefaultSymbols();
      const data = isRaw(reply) ? reply['data'] : undefined;
      if (!Array.isArray(data)) throw unreadable('defaultSymbols without a data list');
      return new Set(data.filter((s): s is string => typeof s === 'string'));
    } catch (err) {
      const e = toExchangeError(err, 'query', this.secrets);
      this.warn(`mexc: could not read the API symbol list (${e.message}); tradability is decided by the market status flags only`);
      return undefined;
    }
  }

  private toVenueMarket(
    symbol: SymbolId,
    m: { base: string; quote: string; precision: { amount?: number | undefined; price?: number | undefined }; limits: Raw; maker?: number | undefined; taker?: number | undefined },
    info: Raw,
    apiSymbols: ReadonlySet<string> | undefined,
  ): MexcVenueMarket | undefined {
    const mode = this.rest.precisionMode;
    const tickSize = stepOf(m.precision.price, mode, info['quoteAssetPrecision']);
    const stepSize = stepOf(m.precision.amount, mode, info['baseAssetPrecision']);
    if (tickSize === undefined || stepSize === undefined) return undefined;
    const limits = m.limits as { amount?: { min?: number }; cost?: { min?: number; max?: number } };
    // MEXC's raw strings first (exact); ccxt's floats only when the raw field is missing.
    const minQuantity = decOf(info['baseSizePrecision']) ?? decOf(limits.amount?.min) ?? stepSize;
    const minNotional = decOf(info['quoteAmountPrecision']) ?? decOf(limits.cost?.min) ?? Dec.ZERO;
    const maxRaw = decOf(info['maxQuoteAmount']) ?? decOf(limits.cost?.max);
    const maker = decOf(info['makerCommission']) ?? decOf(m.maker) ?? Dec.ZERO;
    const taker = decOf(info['takerCommission']) ?? decOf(m.taker) ?? Dec.ZERO;
    const reason = notTradableReason(info, apiSymbols, String(symbol));
    return {
      symbol,
      // MEXC's own asset names, as balances and fees carry them (ccxt renames some, e.g. GMT → GMTTOKEN).
      base: str(info['baseAsset']) ?? m.base,
      quote: str(info['quoteAsset']) ?? m.quote,
      tickSize,
      stepSize,
      minNotional,
      minQuantity,
      ...(maxRaw !== undefined && maxRaw.isPositive() ? { maxNotional: maxRaw } : {}),
      makerFeePct: pctOf(maker),
      takerFeePct: pctOf(taker),
      tradable: reason === undefined,
      ...(reason !== undefined ? { notTradableReason: reason } : {}),
      info,
    };
  }

  /** A loaded market. Throws SymbolNotTradableError for a symbol the venue does not list (or before loadMarkets). */
  market(symbol: SymbolId): MexcVenueMarket {
    const m = this.markets.get(symbol);
    if (!m) {
      const why = this.markets.size === 0 ? 'markets are not loaded yet' : 'MEXC does not list it as a spot market';
      throw new SymbolNotTradableError(`${symbol} is not tradable: ${why}`);
    }
    return m;
  }

  private ccxtSymbol(symbol: SymbolId): string {
    this.market(symbol);
    return this.unified.get(symbol) as string;
  }

  /** Free and locked balance of every asset the account holds, exactly as MEXC reports them. */
  async fetchBalances(): Promise<Balance[]> {
    const bal = await this.call('query', () => this.rest.fetchBalance());
    const info: unknown = bal.info;
    const list = isRaw(info) ? info['balances'] : undefined;
    if (!Array.isArray(list)) throw unreadable('account without balances');
    const out: Balance[] = [];
    for (const b of list) {
      if (!isRaw(b)) continue;
      const asset = str(b['asset']);
      const free = decOf(b['free']);
      const locked = decOf(b['locked']) ?? Dec.ZERO;
      if (asset === undefined || free === undefined) throw unreadable(`balance entry ${JSON.stringify(b)}`);
      out.push({ asset, free, locked });
    }
    return out;
  }

  /**
   * Places an order with its client order id (MEXC newClientOrderId). Refuses a market that is not
   * tradable, or a request missing its price or quantity, before any request. Quantities and prices
   * are sent as our exact decimal strings (the executor has rounded them to the market's steps).
   *
   * MEXC's new-order reply carries no status: the order is returned as 'new' with nothing filled
   * unless the reply says otherwise. Fills arrive on the private streams or through
   * `fetchOrderByClientId` / `fetchMyTrades`.
   */
  async createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    const m = this.market(req.symbol);
    if (!m.tradable) throw new SymbolNotTradableError(`${req.symbol} is not tradable: ${m.notTradableReason ?? 'refused by the venue'}`);
    if (req.clientOrderId.length === 0) throw new InvalidOrderError(`${req.symbol}: an order needs a client order id`);
    const sym = this.ccxtSymbol(req.symbol);
    const params: Record<string, unknown> = { clientOrderId: req.clientOrderId };
    let amount: number;
    let price: number | undefined;
    if (req.type === 'market') {
      if (req.quoteAmount !== undefined && req.quantity !== undefined) {
        throw new InvalidOrderError(`${req.symbol}: a market order takes a quantity or a quote amount, not both`);
      }
      if (req.quoteAmount !== undefined) {
        if (!req.quoteAmount.isPositive()) throw new InvalidOrderError(`${req.symbol}: quote amount must be positive, got ${req.quoteAmount.toString()}`);
        // ccxt reads quoteOrderQty as the order's cost and sends it; our exact string overrides its formatting.
        params['quoteOrderQty'] = req.quoteAmount.toString();
        amount = req.quoteAmount.toNumber();
      } else {
        const qty = this.positiveQuantity(req);
        amount = qty.toNumber();
        params['quantity'] = qty.toString();
      }
    } else {
      if (req.quoteAmount !== undefined) throw new InvalidOrderError(`${req.symbol}: a quote amount is only for market orders, not ${req.type}`);
      const qty = this.positiveQuantity(req);
      if (req.price === undefined || !req.price.isPositive()) throw new InvalidOrderError(`${req.symbol}: a ${req.type} order needs a positive price`);
      amount = qty.toNumber();
      price = req.price.toNumber();
      // ccxt formats amount and price itself (from floats); these exact strings replace its text.
      params['quantity'] = qty.toString();
      params['price'] = req.price.toString();
      if (req.type === 'post_only') params['postOnly'] = true; // ccxt → type LIMIT_MAKER
      if (req.type === 'ioc') params['timeInForce'] = 'IOC'; // ccxt → type IMMEDIATE_OR_CANCEL
    }
    const ccxtType = req.type === 'market' ? 'market' : 'limit';
    const placed = await this.call('submit', () => this.rest.createOrder(sym, ccxtType, req.side, amount, price, params));
    return this.toVenueOrder(placed, {
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      quantity: req.quantity ?? Dec.ZERO,
      ...(req.price !== undefined && req.type !== 'market' ? { price: req.price } : {}),
      status: 'new',
    });
  }

  private positiveQuantity(req: VenueOrderRequest): Dec {
    if (req.quantity === undefined || !req.quantity.isPositive()) {
      throw new InvalidOrderError(`${req.symbol}: a ${req.type} order needs a positive quantity${req.type === 'market' ? ' or a quote amount' : ''}`);
    }
    return req.quantity;
  }

  /**
   * Cancels by client order id (MEXC origClientOrderId). MEXC -2011 (unknown or ended order) →
   * OrderNotFoundError. MEXC's cancel reply has no times: `time` and `updateTime` are then the
   * local clock (ask `fetchOrderByClientId` for the venue's).
   */
  async cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder> {
    const sym = this.ccxtSymbol(symbol);
    const o = await this.call('cancel', () => this.rest.cancelOrder('', sym, { clientOrderId }));
    // A cancel reply without a status still means the cancel succeeded.
    return this.toVenueOrder(o, { clientOrderId, symbol, status: 'cancelled' });
  }

  /** Open orders of one symbol, or of every symbol when none is given (MEXC may require one). */
  async fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]> {
    const sym = symbol !== undefined ? this.ccxtSymbol(symbol) : undefined;
    const list = await this.call('query', () => this.rest.fetchOpenOrders(sym));
    return list.map((o) => this.toVenueOrder(o, symbol !== undefined ? { symbol } : {}));
  }

  /** The order with this client order id, or undefined when MEXC does not know it (-2013/-2011). */
  async fetchOrderByClientId(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder | undefined> {
    const sym = this.ccxtSymbol(symbol);
    return this.lookup(() => this.rest.fetchOrder('', sym, { clientOrderId }), { clientOrderId, symbol });
  }

  /** The order with this MEXC order id, or undefined when MEXC does not know it. */
  async fetchOrderById(symbol: SymbolId, exchangeOrderId: string): Promise<VenueOrder | undefined> {
    const sym = this.ccxtSymbol(symbol);
    return this.lookup(() => this.rest.fetchOrder(exchangeOrderId, sym), { symbol });
  }

  private async lookup(fn: () => Promise<CcxtOrder>, fallback: Partial<VenueOrder>): Promise<VenueOrder | undefined> {
    let o: CcxtOrder;
    try {
      o = await this.call('query', fn);
    } catch (err) {
      if (err instanceof OrderNotFoundError) return undefined;
      throw err;
    }
    const info: unknown = o.info;
    // An empty reply ({} or no order id) is how some gateways say "no such order".
    if (!isRaw(info) || str(info['orderId']) === undefined) return undefined;
    return this.toVenueOrder(o, fallback);
  }

  /** Own fills of a symbol with their fees, oldest first, from `since` (inclusive). */
  async fetchMyTrades(symbol: SymbolId, since?: number, limit?: number): Promise<VenueFill[]> {
    const sym = this.ccxtSymbol(symbol);
    const trades = await this.call('query', () => this.rest.fetchMyTrades(sym, since, limit));
    const fills = trades.map((t) => this.toVenueFill(t.info, symbol));
    return fills.filter((f) => since === undefined || f.time >= since).sort((a, b) => a.time - b.time || cmpId(a.tradeId, b.tradeId));
  }

  private toVenueFill(info: unknown, symbol: SymbolId): VenueFill {
    if (!isRaw(info)) throw unreadable('a trade that is not an object');
    const tradeId = str(info['id']);
    const price = decOf(info['price']);
    const quantity = decOf(info['qty']);
    const time = intOf(info['time']);
    const exchangeOrderId = str(info['orderId']);
    const isBuyer = info['isBuyer'];
    if (tradeId === undefined || price === undefined || quantity === undefined || time === undefined || exchangeOrderId === undefined || typeof isBuyer !== 'boolean') {
      throw unreadable(`trade ${JSON.stringify(info)}`);
    }
    const quote = this.markets.get(symbol)?.quote ?? '';
    return {
      tradeId,
      // MEXC adds clientOrderId to myTrades rows (PROTOCOL.md §1.3); empty when it does not.
      clientOrderId: str(info['clientOrderId']) ?? '',
      exchangeOrderId,
      symbol: symOf(info['symbol']) ?? symbol,
      side: isBuyer ? 'buy' : 'sell',
      price,
      quantity,
      fee: decOf(info['commission']) ?? Dec.ZERO,
      feeAsset: str(info['commissionAsset']) ?? quote,
      // Taker when MEXC does not say: the costlier assumption.
      liquidity: info['isMaker'] === true ? 'maker' : 'taker',
      time,
    };
  }

  /** Klines from `since` (open time, inclusive), oldest first, at most `limit` (MEXC serves ≤ 500 per call). */
  async fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]> {
    const sym = this.ccxtSymbol(symbol);
    // Our intervals are ccxt's timeframe names; ccxt maps 1h → "60m" for MEXC spot.
    // With a start, the end is given too: ccxt would otherwise clamp it to its own clock, and a
    // venue whose clock runs ahead (the simulator replaying at speed) would lose its newest candles.
    const until = since !== undefined ? since + (limit ?? 500) * KLINE_INTERVAL_MS[interval] - 1 : undefined;
    const rows = await this.call('query', () => this.rest.fetchOHLCV(sym, interval, since, limit, until !== undefined ? { until } : {}));
    const out: Candle[] = [];
    for (const r of rows) {
      const [t, o, h, l, c, v] = r;
      if (![t, o, h, l, c, v].every((x) => typeof x === 'number' && Number.isFinite(x))) continue;
      if (since !== undefined && (t as number) < since) continue;
      out.push({ openTime: t as number, open: o as number, high: h as number, low: l as number, close: c as number, volume: v as number });
    }
    out.sort((a, b) => a.openTime - b.openTime);
    return limit !== undefined ? out.slice(0, limit) : out;
  }

  /** 24h statistics (quote volume for the strategy's liquidity rule) of the given symbols, or of all. */
  async fetchTickers24h(symbols?: readonly SymbolId[]): Promise<Ticker24h[]> {
    const syms = symbols?.map((s) => this.ccxtSymbol(s));
    const tickers = await this.call('query', () => this.rest.fetchTickers(syms));
    const wanted = symbols ? new Set<string>(symbols) : undefined;
    const out: Ticker24h[] = [];
    for (const t of Object.values(tickers)) {
      const info: unknown = t.info;
      if (!isRaw(info)) continue;
      const symbol = symOf(info['symbol']);
      if (symbol === undefined || (wanted && !wanted.has(symbol))) continue;
      const bid = numOf(info['bidPrice']);
      const ask = numOf(info['askPrice']);
      // A market with a book but no trade yet has no last price: the mid stands in (its volumes are 0,
      // which is what the liquidity rule reads). Without either, there is nothing to report.
      const last = numOf(info['lastPrice']) ?? (bid !== undefined && ask !== undefined && bid > 0 && ask > 0 ? (bid + ask) / 2 : undefined);
      if (last === undefined) continue;
      out.push({
        symbol,
        last,
        open: numOf(info['openPrice']) ?? last,
        high: numOf(info['highPrice']) ?? last,
        low: numOf(info['lowPrice']) ?? last,
        volume: numOf(info['volume']) ?? 0,
        quoteVolume: numOf(info['quoteVolume']) ?? 0,
        ...(bid !== undefined && bid > 0 ? { bid } : {}),
        ...(ask !== undefined && ask > 0 ? { ask } : {}),
        time: intOf(info['closeTime']) ?? this.now(),
      });
    }
    return out;
  }

  /** Best bid and ask from the depth endpoint (5 levels). An empty side is an error: there is no top. */
  async fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    const sym = this.ccxtSymbol(symbol);
    const ob = await this.call('query', () => this.rest.fetchOrderBook(sym, 5));
    const bid = ob.bids[0];
    const ask = ob.asks[0];
    const [bp, bq] = bid ?? [];
    const [ap, aq] = ask ?? [];
    if (typeof bp !== 'number' || typeof ap !== 'number' || typeof bq !== 'number' || typeof aq !== 'number') {
      throw new ExchangeRequestError(`${symbol}: the order book has no ${bid === undefined ? 'bid' : 'ask'}`);
    }
    return { time: ob.timestamp ?? this.now(), bid: bp, bidSize: bq, ask: ap, askSize: aq };
  }

  /**
   * Starts streams through MexcStreamManager: WebSocket (ccxt pro) with REST backfill and polling
   * while a stream is stale.
   */
  async stream(subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    if (this.closed) throw new ExchangeRequestError(`the ${this.name} venue is closed`);
    const markets = this.rest.markets;
    const manager = new MexcStreamManager({
      proFactory: mexcProFactory({ ...this.clientOptions, ...(markets !== undefined ? { markets } : {}) }),
      rest: this,
      now: this.now,
      options: this.streamOptions,
    });
    const handle = await manager.start(subscriptions, onEvent);
    const tracked: StreamHandle = {
      close: async () => {
        this.handles.delete(tracked);
        await handle.close();
      },
      stats: () => handle.stats(),
    };
    this.handles.add(tracked);
    return tracked;
  }

  /** Closes the streams (and their WebSocket clients) and the REST connection pool. Idempotent; later calls are refused. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const errors: unknown[] = [];
    for (const h of [...this.handles]) await h.close().catch((e: unknown) => errors.push(e));
    await this.rest.close().catch((e: unknown) => errors.push(e));
    // ccxt keeps an undici keep-alive pool per instance; without closing it sockets linger for 60 s.
    const dispatcher: unknown = this.rest.fetchDispatcher;
    if (isRaw(dispatcher) && typeof dispatcher['close'] === 'function') {
      await (dispatcher['close'] as () => Promise<void>).call(dispatcher).catch((e: unknown) => errors.push(e));
    }
    if (errors.length > 0) throw toExchangeError(errors[0], 'query', this.secrets);
  }

  /**
   * ccxt order → VenueOrder, from MEXC's raw fields (exact strings). `fallback` fills what a reply
   * leaves out: the new-order reply has no status or client id, the cancel reply no times.
   */
  private toVenueOrder(o: CcxtOrder, fallback: Partial<VenueOrder>): VenueOrder {
    const info: Raw = isRaw(o.info) ? o.info : {};
    const clientOrderId = str(info['clientOrderId']) ?? str(info['origClientOrderId']) ?? fallback.clientOrderId ?? o.clientOrderId ?? '';
    const exchangeOrderId = str(info['orderId']) ?? o.id;
    const symbol = symOf(info['symbol']) ?? fallback.symbol;
    const sideRaw = str(info['side'])?.toUpperCase();
    const side: Side | undefined = sideRaw === 'BUY' ? 'buy' : sideRaw === 'SELL' ? 'sell' : (fallback.side ?? (o.side === 'buy' || o.side === 'sell' ? o.side : undefined));
    const typeRaw = str(info['type'])?.toUpperCase();
    const type: VenueOrderType = (typeRaw !== undefined ? ORDER_TYPE[typeRaw] : undefined) ?? fallback.type ?? (o.type === 'market' ? 'market' : 'limit');
    if (exchangeOrderId === undefined || exchangeOrderId === '' || symbol === undefined || side === undefined) {
      throw unreadable(`order without ${exchangeOrderId ? (symbol ? 'side' : 'symbol') : 'order id'}`);
    }
    const filledQuantity = decOf(info['executedQty']) ?? Dec.ZERO;
    const filledQuote = decOf(info['cummulativeQuoteQty']) ?? Dec.ZERO;
    const origQty = decOf(info['origQty']);
    // A market order by quote amount has no base quantity until it fills: report what filled.
    const quantity = origQty !== undefined && origQty.isPositive() ? origQty : (fallback.quantity !== undefined && fallback.quantity.isPositive() ? fallback.quantity : filledQuantity);
    const priceRaw = decOf(info['price']);
    const price = type === 'market' ? undefined : priceRaw !== undefined && priceRaw.isPositive() ? priceRaw : fallback.price;
    const statusRaw = str(info['status'])?.toUpperCase();
    const status = (statusRaw !== undefined ? ORDER_STATUS[statusRaw] : undefined) ?? fromCcxtStatus(o.status, filledQuantity) ?? fallback.status ?? 'new';
    const time = intOf(info['time']) ?? intOf(info['transactTime']) ?? (typeof o.timestamp === 'number' ? o.timestamp : undefined) ?? this.now();
    const updateTime = intOf(info['updateTime']) ?? (statusRaw === undefined && fallback.status === 'cancelled' ? this.now() : time);
    return {
      clientOrderId,
      exchangeOrderId,
      symbol,
      side,
      type,
      ...(price !== undefined ? { price } : {}),
      quantity,
      filledQuantity,
      filledQuote,
      status,
      time,
      updateTime,
    };
  }
}

/** ccxt's unified status (when MEXC's own is absent) → ours; undefined when ccxt has none. */
function fromCcxtStatus(status: string | undefined, filled: Dec): OrderStatus | undefined {
  switch (status) {
    case 'open':
      return filled.isPositive() ? 'partially_filled' : 'new';
    case 'closed':
      return 'filled';
    case 'canceled':
      return 'cancelled';
    case 'rejected':
      return 'rejected';
    case 'expired':
      return 'expired';
    default:
      return undefined;
  }
}

/** Orders numeric trade ids numerically (MEXC ids are long digit strings), others as text. */
function cmpId(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}
