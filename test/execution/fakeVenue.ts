/**
 * A scripted in-memory venue for SafeExchange tests, and a virtual clock.
 *
 * FakeVenue implements VenueClient with just enough of a spot exchange: orders by client id,
 * market and marketable limit/IOC orders fill at once against a fixed book (a sell at the bid, a
 * buy at the ask, taker fee 0.05%), other limits rest until the test fills them (`fillResting`,
 * maker, no fee). Faults are scripted per method: fail the next N calls with an error, place the
 * order and then fail (a timeout after the order reached the venue), hide an order from the next
 * N lookups (a venue that has not indexed it yet), refuse orders by a rule (`rejectIf`). Stream
 * events go to `listener` while `streamConnected` is true; otherwise they are lost, as on a
 * dropped WebSocket. Every call is recorded with the virtual time.
 *
 * FakeClock: `sleep` registers a timer; once all pending promise jobs have run (setImmediate), the
 * earliest timer fires and the clock jumps to its time. Concurrent sleepers therefore see one
 * shared timeline, and tests never wait for real time.
 */
import { Dec } from '../../services/core/money.js';
import type { BookTop, Candle, SymbolId } from '../../services/core/types.js';
import type { ExchangeError } from '../../services/execution/exchangeErrors.js';
import { InvalidOrderError, OrderNotFoundError, SymbolNotTradableError } from '../../services/execution/exchangeErrors.js';
import type { Balance, KlineInterval, StreamHandle, StreamSubscription, Ticker24h, VenueClient, VenueEvent, VenueFill, VenueMarket, VenueOrder, VenueOrderRequest } from '../../services/venue/types.js';
import type { OrderStatus } from '../../services/model/orders.js';

export class FakeClock {
  private t: number;
  private seq = 0;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];
  private scheduled = false;
  /** Every sleep requested, in ms, in order. */
  readonly sleeps: number[] = [];

  constructor(start: number) {
    this.t = start;
  }

  readonly now = (): number => this.t;

  readonly sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      this.sleeps.push(ms);
      this.timers.push({ at: this.t + Math.max(0, ms), seq: this.seq++, resolve });
      this.schedule();
    });

  /** Moves the clock forward by hand (between calls, with no sleeper waiting). */
  advance(ms: number): void {
    this.t += ms;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) return;
      if (next.at > this.t) this.t = next.at;
      next.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}

type Method = 'createOrder' | 'cancelOrder' | 'fetchOrderByClientId' | 'fetchMyTrades' | 'fetchBookTop' | 'fetchOpenOrders';

interface Fault {
  readonly error: () => ExchangeError;
  /** 'before': refused without effect; 'after': the order is placed (and matched), then the error. */
  readonly when: 'before' | 'after';
}

interface FakeOrder {
  clientOrderId: string;
  exchangeOrderId: string;
  symbol: SymbolId;
  side: 'buy' | 'sell';
  type: VenueOrderRequest['type'];
  price: Dec | undefined;
  quantity: Dec;
  filledQuantity: Dec;
  filledQuote: Dec;
  status: OrderStatus;
  time: number;
  updateTime: number;
}

const TAKER_FEE = Dec.from('0.0005');

export class FakeVenue implements VenueClient {
  readonly name = 'fake';
  /** Every call: method, virtual time and the client order id it concerned (if any). */
  readonly calls: { method: Method; time: number; clientOrderId?: string }[] = [];
  /** Every createOrder request, with its virtual time, whatever came of it. */
  readonly createCalls: { time: number; req: VenueOrderRequest }[] = [];
  readonly orders = new Map<string, FakeOrder>();
  readonly trades: VenueFill[] = [];
  streamConnected = true;
  listener: ((e: VenueEvent) => void) | undefined;
  /** Refuses a createOrder request when it returns an error (checked before placing). */
  rejectIf: ((req: VenueOrderRequest) => ExchangeError | undefined) | undefined;
  /** The most a market or IOC order fills (the book's depth); undefined = unlimited. */
  depth: Dec | undefined;
  /** Answer createOrder like MEXC's new-order reply: no status, nothing filled (PROTOCOL.md §1.3). */
  ackWithoutStatus = false;
  private readonly faults = new Map<Method, Fault[]>();
  private hiddenLookups = 0;
  private readonly books = new Map<SymbolId, BookTop>();
  private readonly markets: Map<SymbolId, VenueMarket>;
  private seq = 0;
  private tradeSeq = 0;

  constructor(
    private readonly clock: { now(): number },
    markets: readonly VenueMarket[],
  ) {
    this.markets = new Map(markets.map((m) => [m.symbol, m]));
  }

  // ---- scripting

  /** The next `n` calls of `method` fail with `error()` and have no effect. */
  failNext(method: Method, n: number, error: () => ExchangeError): this {
    const list = this.faults.get(method) ?? [];
    for (let i = 0; i < n; i++) list.push({ error, when: 'before' });
    this.faults.set(method, list);
    return this;
  }

  /** The next `n` createOrder calls place (and match) the order, then fail with `error()`. */
  placeThenFailNext(n: number, error: () => ExchangeError): this {
    const list = this.faults.get('createOrder') ?? [];
    for (let i = 0; i < n; i++) list.push({ error, when: 'after' });
    this.faults.set('createOrder', list);
    return this;
  }

  /** The next `n` lookups by client id answer "not found" even for an existing order. */
  hideFromNextLookups(n: number): this {
    this.hiddenLookups += n;
    return this;
  }

  setBook(symbol: SymbolId, bid: number, ask: number): void {
    this.books.set(symbol, { time: this.clock.now(), bid, bidSize: 1e9, ask, askSize: 1e9 });
  }

  /** Fills `quantity` of a resting order at `price` as maker (no fee); emits stream events if connected. */
  fillResting(clientOrderId: string, quantity: Dec, price: Dec): VenueFill {
    const o = this.orders.get(clientOrderId);
    if (!o || (o.status !== 'new' && o.status !== 'partially_filled')) throw new Error(`fake venue: ${clientOrderId} is not open`);
    return this.fill(o, quantity, price, 'maker');
  }

  /** Emits an event to the listener as the stream would (when connected). */
  push(e: VenueEvent): void {
    if (this.streamConnected) this.listener?.(e);
  }

  /** createOrder calls per client order id. */
  createCount(clientOrderId: string): number {
    return this.createCalls.filter((c) => c.req.clientOrderId === clientOrderId).length;
  }

  // ---- VenueClient

  loadMarkets(): Promise<ReadonlyMap<SymbolId, VenueMarket>> {
    return Promise.resolve(this.markets);
  }

  market(symbol: SymbolId): VenueMarket {
    const m = this.markets.get(symbol);
    if (!m) throw new SymbolNotTradableError(`fake venue: unknown symbol ${symbol}`);
    return m;
  }

  fetchBalances(): Promise<Balance[]> {
    return Promise.resolve([]);
  }

  async createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    await Promise.resolve();
    this.calls.push({ method: 'createOrder', time: this.clock.now(), clientOrderId: req.clientOrderId });
    this.createCalls.push({ time: this.clock.now(), req });
    const fault = this.faults.get('createOrder')?.shift();
    if (fault?.when === 'before') throw fault.error();
    const refused = this.rejectIf?.(req);
    if (refused) throw refused;
    if (this.orders.has(req.clientOrderId)) throw new InvalidOrderError(`fake venue: duplicate client order id ${req.clientOrderId}`);
    const qty = req.quantity ?? Dec.ZERO;
    const now = this.clock.now();
    const o: FakeOrder = {
      clientOrderId: req.clientOrderId,
      exchangeOrderId: `V${++this.seq}`,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      price: req.price,
      quantity: qty,
      filledQuantity: Dec.ZERO,
      filledQuote: Dec.ZERO,
      status: 'new',
      time: now,
      updateTime: now,
    };
    this.orders.set(o.clientOrderId, o);
    this.pushOrder(o);
    this.match(o);
    if (fault?.when === 'after') throw fault.error();
    return this.ackWithoutStatus ? { ...this.view(o), status: 'new', filledQuantity: Dec.ZERO, filledQuote: Dec.ZERO } : this.view(o);
  }

  async cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder> {
    await Promise.resolve();
    this.calls.push({ method: 'cancelOrder', time: this.clock.now(), clientOrderId });
    this.failIfScripted('cancelOrder');
    const o = this.orders.get(clientOrderId);
    if (!o || o.symbol !== symbol || (o.status !== 'new' && o.status !== 'partially_filled')) throw new OrderNotFoundError(`fake venue: unknown order ${clientOrderId}`, { code: -2011 });
    o.status = 'cancelled';
    o.updateTime = this.clock.now();
    this.pushOrder(o);
    return this.view(o);
  }

  async fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]> {
    await Promise.resolve();
    this.calls.push({ method: 'fetchOpenOrders', time: this.clock.now() });
    this.failIfScripted('fetchOpenOrders');
    return Promise.resolve([...this.orders.values()].filter((o) => (symbol === undefined || o.symbol === symbol) && (o.status === 'new' || o.status === 'partially_filled')).map((o) => this.view(o)));
  }

  async fetchOrderByClientId(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder | undefined> {
    await Promise.resolve();
    this.calls.push({ method: 'fetchOrderByClientId', time: this.clock.now(), clientOrderId });
    this.failIfScripted('fetchOrderByClientId');
    if (this.hiddenLookups > 0) {
      this.hiddenLookups--;
      return undefined;
    }
    const o = this.orders.get(clientOrderId);
    return o && o.symbol === symbol ? this.view(o) : undefined;
  }

  fetchOrderById(symbol: SymbolId, exchangeOrderId: string): Promise<VenueOrder | undefined> {
    const o = [...this.orders.values()].find((x) => x.exchangeOrderId === exchangeOrderId && x.symbol === symbol);
    return Promise.resolve(o ? this.view(o) : undefined);
  }

  async fetchMyTrades(symbol: SymbolId, since?: number, limit = 100): Promise<VenueFill[]> {
    await Promise.resolve();
    this.calls.push({ method: 'fetchMyTrades', time: this.clock.now() });
    this.failIfScripted('fetchMyTrades');
    return this.trades.filter((t) => t.symbol === symbol && (since === undefined || t.time >= since)).slice(0, limit);
  }

  fetchKlines(_symbol: SymbolId, _interval: KlineInterval, _since?: number, _limit?: number): Promise<Candle[]> {
    return Promise.resolve([]);
  }

  fetchTickers24h(_symbols?: readonly SymbolId[]): Promise<Ticker24h[]> {
    return Promise.resolve([]);
  }

  async fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    await Promise.resolve();
    this.calls.push({ method: 'fetchBookTop', time: this.clock.now() });
    this.failIfScripted('fetchBookTop');
    const b = this.books.get(symbol);
    if (!b) throw new SymbolNotTradableError(`fake venue: no book for ${symbol}`);
    return b;
  }

  stream(_subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    this.listener = onEvent;
    return Promise.resolve({
      close: () => Promise.resolve(),
      stats: () => ({ frames: 0, malformed: 0, duplicates: 0, reconnects: 0, connections: 1, lastEventAt: {} }),
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  // ---- internals

  private failIfScripted(method: Method): void {
    const fault = this.faults.get(method)?.shift();
    if (fault) throw fault.error();
  }

  /** Market and marketable limit/IOC orders take the book at once; IOC leftovers are cancelled. */
  private match(o: FakeOrder): void {
    const book = this.books.get(o.symbol);
    if (!book) return;
    const touch = Dec.from(o.side === 'buy' ? book.ask : book.bid);
    const marketable = o.type === 'market' || (o.price !== undefined && (o.side === 'buy' ? o.price.gte(touch) : o.price.lte(touch)));
    if (marketable && o.type !== 'post_only') {
      const qty = this.depth !== undefined ? Dec.min(this.depth, o.quantity) : o.quantity;
      if (qty.isPositive()) this.fill(o, qty, touch, 'taker');
    }
    if ((o.type === 'ioc' || o.type === 'market') && o.status !== 'filled') {
      o.status = 'cancelled';
      o.updateTime = this.clock.now();
      this.pushOrder(o);
    }
  }

  private fill(o: FakeOrder, quantity: Dec, price: Dec, liquidity: 'maker' | 'taker'): VenueFill {
    const m = this.market(o.symbol);
    o.filledQuantity = o.filledQuantity.add(quantity);
    o.filledQuote = o.filledQuote.add(price.mul(quantity));
    o.status = o.filledQuantity.eq(o.quantity) ? 'filled' : 'partially_filled';
    o.updateTime = this.clock.now();
    const f: VenueFill = {
      tradeId: `tr${++this.tradeSeq}`,
      clientOrderId: o.clientOrderId,
      exchangeOrderId: o.exchangeOrderId,
      symbol: o.symbol,
      side: o.side,
      price,
      quantity,
      fee: liquidity === 'taker' ? price.mul(quantity).mul(TAKER_FEE) : Dec.ZERO,
      feeAsset: m.quote,
      liquidity,
      time: this.clock.now(),
    };
    this.trades.push(f);
    this.push({ type: 'fill', fill: f, receivedAt: this.clock.now() });
    this.pushOrder(o);
    return f;
  }

  private pushOrder(o: FakeOrder): void {
    this.push({ type: 'order', order: this.view(o), receivedAt: this.clock.now() });
  }

  private view(o: FakeOrder): VenueOrder {
    return {
      clientOrderId: o.clientOrderId,
      exchangeOrderId: o.exchangeOrderId,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      ...(o.price !== undefined ? { price: o.price } : {}),
      quantity: o.quantity,
      filledQuantity: o.filledQuantity,
      filledQuote: o.filledQuote,
      status: o.status,
      time: o.time,
      updateTime: o.updateTime,
    };
  }
}
