/**
 * Paper trading: a VenueClient whose public data comes from a real source (the ccxt MEXC adapter
 * live, or a ReplayMarketData offline) and whose orders, fills and balances come from the
 * in-process matching engine. No API keys, nothing sent to the exchange.
 *
 * The engine fills on the data the strategy sees: every trade and book event the source delivers
 * is fed to the engine before it is handed to the subscriber, so a fill it causes is reported
 * (on the private streams) before the trade that caused it. The engine is fed for every symbol
 * that appears in any `stream` subscription: the paper venue subscribes to that symbol's trades
 * and book at the source once, whatever the caller asked for, and keeps feeding until `close`.
 */
import type { Dec } from '../core/money.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import { classifyMexcError, ExchangeRequestError, SymbolNotTradableError, type ExchangeError } from '../execution/exchangeErrors.js';
import { DEFAULT_ENGINE_OPTIONS, SimMatchingEngine, engineOptionsFromConfig } from '../sim/matchingEngine.js';
import { SimRejectError, type EngineEvent, type MatchingEngine, type SimMarketSpec } from '../sim/types.js';
import type {
  Balance,
  FeedStats,
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
} from '../venue/types.js';
import { venueMarketFromSpec, type PublicMarketData } from './publicData.js';

export interface PaperVenueOptions {
  /** Public market data: markets, candles, tickers, book tops and public streams. */
  readonly publicData: PublicMarketData;
  /**
   * The matching engine. Default: a new SimMatchingEngine with the cost options of `costs` (the
   * config's `backtest` section: slippage, impact, participation, latency), or DEFAULT_ENGINE_OPTIONS.
   */
  readonly engine?: MatchingEngine;
  /**
   * The config's cost model: the engine's options (when no engine is given) and the maker and
   * taker fees of every market, so paper trading fills exactly as the backtest does.
   */
  readonly costs?: { readonly slippageBps: number; readonly impactBpsPerPctVolume: number; readonly participationPct: number; readonly latencyMs: number; readonly makerFeePct: number; readonly takerFeePct: number };
  /** The engine account of this venue (default "paper"). */
  readonly account?: string;
  /** Credited to the account when the venue is built (again on a shared engine's existing account). */
  readonly deposits: Readonly<Record<string, Dec>>;
  /** The clock: order times, and `receivedAt` of every event. */
  readonly now: () => number;
  /**
   * In a quiet market no event comes to execute an order in flight (the latency): every `everyMs`
   * the engine's clock is moved to the last market event's time plus the wall time since it (the
   * market is taken to go on in real time). Off by default: a replay stepped by a test is a function
   * of its events only. The runtime turns it on.
   */
  readonly idleAdvance?: { readonly wall: () => number; readonly everyMs: number; readonly every: (fn: () => void, ms: number) => () => void };
  /** Per symbol, changes to the market the source lists (fees, minimums, status). */
  readonly marketOverrides?: Readonly<Record<string, Partial<Omit<SimMarketSpec, 'symbol'>>>>;
}

interface Subscriber {
  /** Public keys (`trades:SYM`, `book:SYM`, `kline:SYM:1m`) and private kinds this caller asked for. */
  readonly keys: ReadonlySet<string>;
  readonly onEvent: (e: VenueEvent) => void;
  frames: number;
  readonly lastEventAt: Record<string, number>;
}

/** The simulator market for a market a venue lists. */
export function simSpecFromVenueMarket(m: VenueMarket): SimMarketSpec {
  return {
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    tickSize: m.tickSize,
    stepSize: m.stepSize,
    minQuantity: m.minQuantity,
    minNotional: m.minNotional,
    ...(m.maxNotional ? { maxNotional: m.maxNotional } : {}),
    makerFeePct: m.makerFeePct,
    takerFeePct: m.takerFeePct,
    status: 'online',
    // Whatever keeps the venue from trading it (paused, offline, API disabled) refuses orders the
    // same way here: 10007, a SymbolNotTradableError.
    apiTradable: m.tradable,
  };
}

function subscriptionKey(s: StreamSubscription): string {
  switch (s.kind) {
    case 'kline':
      return `kline:${s.symbol}:${s.interval}`;
    case 'trades':
    case 'book':
      return `${s.kind}:${s.symbol}`;
    default:
      return s.kind;
  }
}

function eventKey(e: VenueEvent): string | undefined {
  switch (e.type) {
    case 'kline':
      return `kline:${e.symbol}:${e.interval}`;
    case 'trade':
      return `trades:${e.symbol}`;
    case 'book':
      return `book:${e.symbol}`;
    case 'order':
      return 'orders';
    case 'fill':
      return 'fills';
    case 'balance':
      return 'balances';
    default:
      return undefined;
  }
}

/** The paper venue (see the file comment). */
export class PaperVenue implements VenueClient {
  readonly name = 'paper';
  readonly engine: MatchingEngine;
  readonly account: string;
  private readonly source: PublicMarketData;
  private readonly now: () => number;
  private readonly overrides: Readonly<Record<string, Partial<Omit<SimMarketSpec, 'symbol'>>>>;
  private readonly fees: { makerFeePct: number; takerFeePct: number } | undefined;
  private readonly loaded = new Map<SymbolId, VenueMarket>();
  /** Source subscriptions already open (by key), so no event reaches the engine twice. */
  private readonly fed = new Set<string>();
  private readonly sourceHandles: StreamHandle[] = [];
  private readonly subscribers = new Set<Subscriber>();
  private readonly unsubscribeEngine: () => void;
  private closed = false;

  constructor(opts: PaperVenueOptions) {
    this.source = opts.publicData;
    this.engine = opts.engine ?? new SimMatchingEngine(opts.costs ? engineOptionsFromConfig(opts.costs) : DEFAULT_ENGINE_OPTIONS);
    this.fees = opts.costs ? { makerFeePct: opts.costs.makerFeePct, takerFeePct: opts.costs.takerFeePct } : undefined;
    this.account = opts.account ?? 'paper';
    this.now = opts.now;
    this.overrides = opts.marketOverrides ?? {};
    this.engine.openAccount(this.account, opts.deposits, this.now());
    this.unsubscribeEngine = this.engine.onEvent((e) => this.onEngineEvent(e));
    const idle = opts.idleAdvance;
    if (idle) {
      this.stopIdleAdvance = idle.every(() => {
        if (this.closed || this.lastEventWall === undefined || this.lastEventTime === undefined) return;
        this.engine.advance(this.lastEventTime + Math.max(0, idle.wall() - this.lastEventWall));
      }, idle.everyMs);
      this.wall = idle.wall;
    }
  }

  private readonly stopIdleAdvance: (() => void) | undefined;
  private readonly wall: (() => number) | undefined;
  private lastEventTime: number | undefined;
  private lastEventWall: number | undefined;

  /** Loads the source's markets (with the overrides) and lists them in the engine. */
  async loadMarkets(): Promise<ReadonlyMap<SymbolId, VenueMarket>> {
    const markets = await this.source.loadMarkets();
    for (const m of markets.values()) {
      const spec: SimMarketSpec = { ...simSpecFromVenueMarket(m), ...(this.fees ?? {}), ...(this.overrides[m.symbol] ?? {}) };
      this.engine.addMarket(spec);
      const listed = venueMarketFromSpec(spec);
      // Keep the source's own words for why a market is not tradable.
      this.loaded.set(m.symbol, !listed.tradable && m.notTradableReason ? { ...listed, notTradableReason: m.notTradableReason } : listed);
    }
    return new Map(this.loaded);
  }

  market(symbol: SymbolId): VenueMarket {
    const m = this.loaded.get(symbol);
    if (!m) throw new SymbolNotTradableError(this.loaded.size === 0 ? `markets not loaded (call loadMarkets first): ${symbol}` : `${symbol} is not listed`);
    return m;
  }

  fetchBalances(): Promise<Balance[]> {
    return Promise.resolve(this.engine.balances(this.account));
  }

  /**
   * Places the order in the engine at `now()`. When the engine has seen no book for the symbol yet
   * (no stream open on it), the source's book top is fetched and fed first so that a first order
   * has a price; the engine refuses a market order with no data at all (SymbolNotTradableError).
   */
  async createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    if (!this.engine.bookTop(req.symbol) && this.loaded.has(req.symbol)) {
      const book = await this.source.fetchBookTop(req.symbol).catch(() => undefined);
      if (book && !this.engine.bookTop(req.symbol)) this.engine.onMarketData({ type: 'book', symbol: req.symbol, book });
    }
    return this.call(() => this.engine.place(this.account, req, this.now()));
  }

  cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder> {
    // Runs now, not on a later tick, so calls reach the engine in the order they were made.
    try {
      return Promise.resolve(this.call(() => this.engine.cancel(this.account, symbol, { clientOrderId }, this.now())));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]> {
    return Promise.resolve(this.engine.openOrders(this.account, symbol));
  }

  fetchOrderByClientId(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder | undefined> {
    return Promise.resolve(this.engine.order(this.account, symbol, { clientOrderId }));
  }

  fetchOrderById(symbol: SymbolId, exchangeOrderId: string): Promise<VenueOrder | undefined> {
    return Promise.resolve(this.engine.order(this.account, symbol, { exchangeOrderId }));
  }

  fetchMyTrades(symbol: SymbolId, since?: number, limit?: number): Promise<VenueFill[]> {
    return Promise.resolve(this.engine.myTrades(this.account, symbol, since, limit));
  }

  fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]> {
    return this.source.fetchKlines(symbol, interval, since, limit);
  }

  fetchTickers24h(symbols?: readonly SymbolId[]): Promise<Ticker24h[]> {
    return this.source.fetchTickers24h(symbols);
  }

  /**
   * The book the paper orders fill against: the engine's while the venue streams that symbol's book
   * (it is live then), otherwise the source's; the engine's last book when the source has none.
   */
  async fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    // The engine's book is what orders fill against: it answers while the book stream feeds it.
    // Otherwise the newer of the two wins (the engine's may have been fed directly, or be stale).
    const engineBook = this.engine.bookTop(symbol);
    if (engineBook && this.fed.has(`book:${symbol}`)) return engineBook;
    let sourceBook: BookTop;
    try {
      sourceBook = await this.source.fetchBookTop(symbol);
    } catch (err) {
      if (engineBook) return engineBook;
      throw err;
    }
    return engineBook && engineBook.time > sourceBook.time ? engineBook : sourceBook;
  }

  /**
   * Public subscriptions go to the source (plus the symbol's trades and book, which feed the engine);
   * `orders`, `fills` and `balances` are this account's engine events. Every event is stamped
   * `receivedAt = now()`.
   */
  async stream(subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    if (this.closed) throw new ExchangeRequestError('the paper venue is closed');
    const wanted = new Map<string, StreamSubscription>();
    for (const s of subscriptions) {
      if (s.kind === 'orders' || s.kind === 'fills' || s.kind === 'balances') continue;
      wanted.set(subscriptionKey(s), s);
      wanted.set(`trades:${s.symbol}`, { kind: 'trades', symbol: s.symbol });
      wanted.set(`book:${s.symbol}`, { kind: 'book', symbol: s.symbol });
    }
    const missing = [...wanted].filter(([k]) => !this.fed.has(k));
    if (missing.length > 0) {
      // Marked before the await, so a concurrent call does not subscribe the same key twice.
      for (const [k] of missing) this.fed.add(k);
      try {
        const handle = await this.source.stream(
          missing.map(([, s]) => s),
          (e) => this.onSourceEvent(e),
        );
        this.sourceHandles.push(handle);
      } catch (err) {
        for (const [k] of missing) this.fed.delete(k);
        throw err;
      }
    }
    const sub: Subscriber = { keys: new Set(subscriptions.map(subscriptionKey)), onEvent, frames: 0, lastEventAt: {} };
    this.subscribers.add(sub);
    return {
      close: () => {
        this.subscribers.delete(sub);
        return Promise.resolve();
      },
      stats: (): FeedStats => ({ frames: sub.frames, malformed: 0, duplicates: 0, reconnects: 0, connections: 0, lastEventAt: { ...sub.lastEventAt } }),
    };
  }

  /** Closes the source streams, detaches from the engine and closes the source. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopIdleAdvance?.();
    this.subscribers.clear();
    this.unsubscribeEngine();
    const handles = this.sourceHandles.splice(0);
    await Promise.allSettled(handles.map((h) => h.close()));
    await this.source.close();
  }

  /** Runs an engine call, turning its refusal into the ExchangeError MEXC's answer would give. */
  private call<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SimRejectError) throw toExchangeError(err);
      throw err;
    }
  }

  private onSourceEvent(e: VenueEvent): void {
    if (this.closed) return;
    if (this.wall && (e.type === 'trade' || e.type === 'book')) {
      this.lastEventTime = e.type === 'trade' ? e.trade.time : e.book.time;
      this.lastEventWall = this.wall();
    }
    // The engine first: fills happen on the data before the strategy sees it.
    if (e.type === 'trade') this.engine.onMarketData({ type: 'trade', symbol: e.symbol, trade: e.trade });
    else if (e.type === 'book') this.engine.onMarketData({ type: 'book', symbol: e.symbol, book: e.book });
    this.deliver(e);
  }

  private onEngineEvent(e: EngineEvent): void {
    if (e.account !== this.account || this.closed) return;
    const receivedAt = this.now();
    const ve: VenueEvent =
      e.type === 'order'
        ? { type: 'order', order: e.order, receivedAt }
        : e.type === 'fill'
          ? { type: 'fill', fill: e.fill, receivedAt }
          : { type: 'balance', balance: e.balance, receivedAt };
    this.deliver(ve);
  }

  /**
   * Hands an event to every subscriber that asked for it, stamped with `now()`. Stream status
   * events of the source go to every subscriber of public data. A subscriber that throws is a bug
   * on its side: its error is rethrown on a fresh microtask (an uncaught error, as with an event
   * emitter) rather than into the engine or the source, whose state must stay consistent.
   */
  private deliver(e: VenueEvent): void {
    const key = eventKey(e);
    const stamped: VenueEvent = { ...e, receivedAt: this.now() };
    for (const sub of [...this.subscribers]) {
      const wants = key !== undefined ? sub.keys.has(key) : [...sub.keys].some((k) => k.includes(':'));
      if (!wants) continue;
      sub.frames++;
      sub.lastEventAt[key ?? 'status'] = stamped.receivedAt;
      try {
        sub.onEvent(stamped);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}

/**
 * A matching-engine refusal as the ExchangeError class the live adapter would raise for MEXC's
 * answer with the same code (classifyMexcError). Codes it does not list (30011 duplicate client id,
 * 700004 bad parameter) come out as
 * ExchangeRequestError: not retryable, which is right for each of them.
 */
export function toExchangeError(err: SimRejectError): ExchangeError {
  return classifyMexcError(err.httpStatus, { code: err.code, msg: err.message });
}
