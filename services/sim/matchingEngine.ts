/**
 * The matching engine: MEXC-like spot accounts, orders and fills against public market data, pure
 * and in-process. It is the project's ONE fill model: the backtest drives it candle by candle
 * (`trade`/`book`, the fast path), paper trading through the paper venue, and the simulator server
 * behind MEXC's protocol. Cost options come from the one config (`engineOptionsFromConfig`).
 *
 * Our orders never meet each other; they only trade against the public market. Fill rules, all on
 * the conservative side (README "How orders are filled"):
 *
 * - **Latency.** A market order reaches the matching `latencyMs` after it was placed. It executes
 *   at the first market event at or after its arrival, BEFORE that event is applied: against the
 *   book in force at its arrival (the market is taken to stay where it was last seen until the next
 *   print). With `latencyMs` 0 it executes at once. Limit orders rest from the moment they are
 *   placed.
 * - **Market orders** fill fully, as taker: a buy at the best ask, a sell at the best bid (of the
 *   last book; the last trade price when no book arrived yet; refused with 30010 "no valid trade
 *   price" when neither did), moved against the order by slippageBps + impactBpsPerPctVolume x
 *   (quantity as a percent of the public volume of the 60 s before the fill), capped at 100 bps,
 *   then rounded to the tick against the order. Only volume printed at or before the fill counts
 *   (no look-ahead); with none, the impact is that of 100%. A market order by quote amount gets
 *   quantity = floor(quoteAmount / fill price, stepSize).
 * - A limit or ioc order that is marketable on arrival (buy limit >= ask, sell limit <= bid of the
 *   last book) takes at the book price, as taker, at most the quantity shown at that price (what our
 *   takers used is deducted until the next book event). A limit rests with what is left; an ioc is
 *   cancelled with what it filled. Without a book nothing is marketable: a limit rests, an ioc ends.
 * - A resting order (limit, post_only) fills as maker, at its limit price, only when a public trade
 *   prints strictly through it (buy: trade < limit; sell: trade > limit); each trade fills at most
 *   participationPct of its quantity across all our orders it goes through, best price first, then
 *   oldest first (partial fills). A zero-volume print fills nothing. Book moves alone never fill a
 *   resting order.
 * - post_only is refused (30041, the simulator's choice: MEXC does not document its answer to a
 *   crossing LIMIT_MAKER) when it would take: buy price >= ask, sell price <= bid (the last trade
 *   price stands in for both when no book arrived yet).
 * - Fees are charged in the quote asset at the market's maker/taker percent. A buy locks quote: a
 *   limit price x qty plus the taker fee (a marketable limit pays taker); a market buy by quantity
 *   the cost at the 100 bps slippage cap (rounded up to the tick) plus the taker fee; a market buy
 *   by quote amount that amount plus the taker fee. A sell locks its base quantity. Fills are paid
 *   out of the lock, and what is left is released when the order ends. A market buy whose price
 *   moved beyond its lock while in flight fills only what the lock and the free balance pay for.
 *
 * Events: every change is queued while an operation runs and delivered synchronously when it
 * completes (before `place`, `cancel`, `trade`, `book`, `advance` or `onMarketData` returns), so
 * listeners always see a consistent state. Per step the order is: balance changes, then the fill,
 * then the order update.
 *
 * Bounds: at most 500 open orders per account (MEXC's limit, refused with 30029); ended orders and
 * fills kept per account up to `maxHistoryPerAccount` each (oldest evicted); at most 10,000 recent
 * public prints per symbol for the volume window (dropping the oldest only lowers the volume, i.e.
 * raises the impact). A client order id is refused as a duplicate while its order is open or in the
 * ended-order history.
 *
 * Speed: the backtest calls `trade` and `book` four times per candle each; with no order of ours on
 * the symbol they touch a few numbers and allocate nothing.
 */
import { Dec } from '../core/money.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import type { OrderStatus } from '../model/orders.js';
import type { Balance, VenueFill, VenueOrder, VenueOrderRequest, VenueOrderType } from '../venue/types.js';
import { SimRejectError, type EngineEvent, type EngineOptions, type MarketDataEvent, type MatchingEngine, type OrderRef, type SimMarketSpec } from './types.js';

/**
 * For engines built without a config (protocol tests of the simulator and the paper venue): the
 * config's slippage, impact and participation, and no simulated latency (an order executes as it
 * is placed). Every entry point (the backtest, `npm start`, `npm run paper`, `npm run sim`) builds
 * its engine from the config with `engineOptionsFromConfig`, latency included.
 */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = Object.freeze({ slippageBps: 2, impactBpsPerPctVolume: 0.5, participationPct: 10, latencyMs: 0 });

/** The engine's options from the config's cost section (the one place they are set). */
export function engineOptionsFromConfig(costs: { readonly slippageBps: number; readonly impactBpsPerPctVolume: number; readonly participationPct: number; readonly latencyMs: number }): EngineOptions {
  return { slippageBps: costs.slippageBps, impactBpsPerPctVolume: costs.impactBpsPerPctVolume, participationPct: costs.participationPct, latencyMs: costs.latencyMs };
}

const HUNDRED = Dec.from(100);
/** One in basis points: a price moved by `bps` is price x (BPS ± bps) / BPS. */
const BPS = Dec.from(10_000);
const MAX_SLIPPAGE_BPS = Dec.from(100);
const RECENT_WINDOW_MS = 60_000;
const MAX_RECENT_TRADES = 10_000;
/** MEXC: "An account can hold at most 500 open orders" (PROTOCOL.md §1.4). */
const MAX_OPEN_ORDERS = 500;
const DEFAULT_MAX_HISTORY = 10_000;

type BalanceReason = Extract<EngineEvent, { type: 'balance' }>['reason'];

interface OrderState {
  readonly account: string;
  readonly seq: number;
  readonly clientOrderId: string;
  readonly exchangeOrderId: string;
  readonly symbol: SymbolId;
  readonly side: 'buy' | 'sell';
  readonly type: VenueOrderType;
  readonly price: Dec | undefined;
  /** The limit as a float, compared with public trade prices (the same float the candle parser made). */
  readonly limit: number;
  /** Base quantity; for a market order by quote amount, an estimate until it executes. */
  quantity: Dec;
  /** Market order by quote amount: what it spends (buy) or must receive (sell). */
  readonly quoteAmount: Dec | undefined;
  filled: Dec;
  filledQuote: Dec;
  status: OrderStatus;
  readonly time: number;
  updateTime: number;
  /** When a market order reaches the matching (placement time + latency). */
  readonly arrival: number;
  /** Asset held for this order and how much of it is still held. */
  readonly lockAsset: string;
  locked: Dec;
}

interface Wallet {
  free: Dec;
  locked: Dec;
}

class Account {
  readonly wallets = new Map<string, Wallet>();
  /** Open orders by client id (Map order = placement order). */
  readonly open = new Map<string, OrderState>();
  /** Ended orders by client id, oldest first; bounded. */
  readonly ended = new Map<string, OrderState>();
  readonly byExchangeId = new Map<string, OrderState>();
  readonly fills: VenueFill[] = [];
}

/** Public market state of one symbol, as far as the engine saw it (numbers: no allocation per event). */
class SymbolData {
  hasBook = false;
  bid = 0;
  ask = 0;
  bidSize = 0;
  askSize = 0;
  bookTime = 0;
  /** The BookTop object handed out by bookTop(), built on demand and dropped on the next book. */
  bookObj: BookTop | undefined;
  /** Quantity our takers used at the best bid/ask since the last book event. */
  usedBid = Dec.ZERO;
  usedAsk = Dec.ZERO;
  lastTradePrice = 0;
  /** Public prints of the recent window: a ring of (time, quantity). */
  readonly recentTime = new Float64Array(MAX_RECENT_TRADES);
  readonly recentQty = new Float64Array(MAX_RECENT_TRADES);
  recentStart = 0;
  recentCount = 0;
  /** Resting (open, not ioc/market) orders of every account on this symbol, placement order. */
  readonly resting: OrderState[] = [];
  /** Market orders in flight (placed, not yet arrived), in arrival order. */
  readonly inFlight: OrderState[] = [];

  /** A public print joins the recent window; when full, the oldest is overwritten (the volume only drops). */
  recordPrint(time: number, quantity: number): void {
    const i = (this.recentStart + this.recentCount) % MAX_RECENT_TRADES;
    this.recentTime[i] = time;
    this.recentQty[i] = quantity;
    if (this.recentCount < MAX_RECENT_TRADES) this.recentCount++;
    else this.recentStart = (this.recentStart + 1) % MAX_RECENT_TRADES;
    const cutoff = time - RECENT_WINDOW_MS;
    while (this.recentCount > 0 && (this.recentTime[this.recentStart] as number) <= cutoff) {
      this.recentStart = (this.recentStart + 1) % MAX_RECENT_TRADES;
      this.recentCount--;
    }
  }

  /** A new best bid and ask: what our takers used at the old one no longer counts. */
  setBook(bid: number, bidSize: number, ask: number, askSize: number, time: number): void {
    this.hasBook = true;
    this.bid = bid;
    this.ask = ask;
    this.bidSize = bidSize;
    this.askSize = askSize;
    this.bookTime = time;
    this.bookObj = undefined;
    this.usedBid = Dec.ZERO;
    this.usedAsk = Dec.ZERO;
  }
}

interface MarketPlan {
  readonly price: Dec;
  readonly quantity: Dec;
}

/** The in-process matching engine (see the file comment for its rules). */
export class SimMatchingEngine implements MatchingEngine {
  private readonly specs = new Map<SymbolId, SimMarketSpec>();
  private readonly data = new Map<SymbolId, SymbolData>();
  private readonly accounts = new Map<string, Account>();
  private readonly listeners = new Set<(e: EngineEvent) => void>();
  private readonly pending: EngineEvent[] = [];
  private flushing = false;
  private readonly maxHistory: number;
  private readonly slippageBps: Dec;
  private readonly impactBps: Dec;
  private readonly participation: Dec;
  private readonly latencyMs: number;
  /** Symbols with market orders in flight (so `advance` looks only there). */
  private readonly inFlightSymbols = new Set<SymbolData>();
  private orderSeq = 0;
  private tradeSeq = 0;
  private lastSymbol: SymbolId | undefined;
  private lastData: SymbolData | undefined;

  constructor(options: EngineOptions, opts: { maxHistoryPerAccount?: number } = {}) {
    for (const [k, v] of Object.entries(options)) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`engine option ${k} must be a finite number >= 0, got ${String(v)}`);
    }
    if (options.participationPct > 100) throw new RangeError(`engine option participationPct must be at most 100, got ${options.participationPct}`);
    this.maxHistory = opts.maxHistoryPerAccount ?? DEFAULT_MAX_HISTORY;
    if (!Number.isInteger(this.maxHistory) || this.maxHistory < 1) throw new RangeError(`maxHistoryPerAccount must be a positive integer, got ${this.maxHistory}`);
    this.slippageBps = Dec.from(options.slippageBps);
    this.impactBps = Dec.from(options.impactBpsPerPctVolume);
    this.participation = Dec.from(options.participationPct).div(HUNDRED);
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Lists or replaces a market. Replacing keeps its open orders (a paused MEXC pair keeps them too). */
  addMarket(spec: SimMarketSpec): void {
    for (const [k, v] of [
      ['tickSize', spec.tickSize],
      ['stepSize', spec.stepSize],
    ] as const) {
      if (!v.isPositive()) throw new RangeError(`${spec.symbol}: ${k} must be positive`);
    }
    this.specs.set(spec.symbol, spec);
    this.symbolData(spec.symbol);
  }

  markets(): readonly SimMarketSpec[] {
    return [...this.specs.values()];
  }

  /** Opens the account if new, then credits each deposit (a DEPOSIT balance event per asset). */
  openAccount(account: string, deposits: Readonly<Record<string, Dec>>, now: number): void {
    const acct = this.account(account);
    for (const [asset, amount] of Object.entries(deposits)) {
      if (amount.isNegative()) throw new RangeError(`deposit of ${asset} must not be negative, got ${amount.toString()}`);
      this.wallet(acct, asset);
      if (amount.isPositive()) this.change(account, acct, asset, amount, Dec.ZERO, 'DEPOSIT', now);
    }
    this.flush();
  }

  balances(account: string): Balance[] {
    const acct = this.accounts.get(account);
    if (!acct) return [];
    return [...acct.wallets.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([asset, w]) => ({ asset, free: w.free, locked: w.locked }));
  }

  bookTop(symbol: SymbolId): BookTop | undefined {
    const md = this.data.get(symbol);
    if (!md || !md.hasBook) return undefined;
    md.bookObj ??= { time: md.bookTime, bid: md.bid, bidSize: md.bidSize, ask: md.ask, askSize: md.askSize };
    return md.bookObj;
  }

  onMarketData(event: MarketDataEvent): void {
    if (event.type === 'book') {
      const b = event.book;
      this.book(event.symbol, b.bid, b.bidSize, b.ask, b.askSize, b.time);
    } else if (event.type === 'trade') {
      this.trade(event.symbol, event.trade.price, event.trade.quantity, event.trade.time);
    }
    // Klines are informational: the engine matches on trades and quotes only.
  }

  /**
   * A public print (the fast path of a trade event): market orders that arrived by `time` execute
   * first, against the book in force; then the print fills resting orders it goes through.
   */
  trade(symbol: SymbolId, price: number, quantity: number, time: number): void {
    const md = this.symbolData(symbol);
    if (md.inFlight.length > 0) this.executeArrived(symbol, md, time);
    this.onTrade(symbol, md, price, quantity, time);
    if (this.pending.length > 0) this.flush();
  }

  /** A new best bid and ask (the fast path of a book event); arrived market orders execute first. */
  book(symbol: SymbolId, bid: number, bidSize: number, ask: number, askSize: number, time: number): void {
    const md = this.symbolData(symbol);
    if (md.inFlight.length > 0) this.executeArrived(symbol, md, time);
    md.setBook(bid, bidSize, ask, askSize, time);
    if (this.pending.length > 0) this.flush();
  }

  /**
   * Whether nothing on `symbol` can trade: no resting order, none in flight, no event waiting. Then
   * a candle's path does nothing but move the market state, which `quietCandle` does in one call.
   */
  isQuiet(symbol: SymbolId): boolean {
    const md = this.symbolData(symbol);
    return md.resting.length === 0 && md.inFlight.length === 0 && this.pending.length === 0;
  }

  /**
   * A whole candle's path on a quiet symbol (see `isQuiet`), exactly as `trade` at each of the four
   * path points (`c.openTime + offsets[j]`, a quarter of the volume each) followed by the last
   * point's `book` (`quote`, sized as the print): the recent prints, the last price and the book
   * end as they would, without a call and its boxed numbers per point (the backtest's fast path).
   * Not quiet: throws, nothing changed.
   */
  quietCandle(symbol: SymbolId, c: Candle, offsets: readonly number[], quote: { readonly bid: number; readonly ask: number }): void {
    if (!this.isQuiet(symbol)) throw new Error(`quietCandle: ${symbol} has orders working`);
    const md = this.symbolData(symbol);
    const time0 = c.openTime;
    const quantity = c.volume / 4;
    if (quantity > 0) {
      for (let j = 0; j < offsets.length; j++) {
        md.recordPrint(time0 + (offsets[j] as number), quantity);
      }
    }
    md.lastTradePrice = c.close;
    md.setBook(quote.bid, quantity, quote.ask, quantity, time0 + (offsets[offsets.length - 1] as number));
  }

  /** Executes every market order that has arrived by `time` (the clock moved without market data). */
  advance(time: number): void {
    if (this.inFlightSymbols.size === 0) return;
    for (const md of [...this.inFlightSymbols]) {
      const first = md.inFlight[0];
      if (first) this.executeArrived(first.symbol, md, time);
    }
    if (this.pending.length > 0) this.flush();
  }

  place(account: string, req: VenueOrderRequest, now: number): VenueOrder {
    const spec = this.specs.get(req.symbol);
    if (!spec) throw new SimRejectError(10007, `bad symbol: ${req.symbol} is not listed`);
    if (!spec.apiTradable) throw new SimRejectError(10007, `symbol not support api: ${req.symbol}`);
    if (spec.status !== 'online') throw new SimRejectError(30016, `trading disabled: ${req.symbol} is ${spec.status}`);
    // Looked up, not created: a refused order must leave no trace (not even an empty account).
    const known = this.accounts.get(account);
    if (known && (known.open.has(req.clientOrderId) || known.ended.has(req.clientOrderId)))
      throw new SimRejectError(30011, `duplicate client order id: ${req.clientOrderId}`);
    checkParameters(req);
    if (req.quantity && !req.quantity.floorTo(spec.stepSize).eq(req.quantity))
      throw new SimRejectError(10096, `quantity ${req.quantity.toString()} is not a multiple of the lot step ${spec.stepSize.toString()}`);
    const isMarket = req.type === 'market';
    if (!isMarket && req.price && !req.price.floorTo(spec.tickSize).eq(req.price))
      throw new SimRejectError(10096, `price ${req.price.toString()} is not a multiple of the tick ${spec.tickSize.toString()}`);

    const md = this.symbolData(req.symbol);
    // A market order is priced now for the checks and the lock; in flight, it is priced again on arrival.
    const plan = isMarket ? this.marketPlan(spec, md, req, now) : undefined;
    const quantity = plan ? plan.quantity : (req.quantity as Dec);
    const notional = plan ? plan.price.mul(plan.quantity) : (req.price as Dec).mul(quantity);
    if (!quantity.isPositive() || quantity.lt(spec.minQuantity))
      throw new SimRejectError(30002, `quantity ${quantity.toString()} is below the minimum ${spec.minQuantity.toString()}`);
    if (notional.lt(spec.minNotional)) throw new SimRejectError(30002, `order value ${notional.toString()} is below the minimum ${spec.minNotional.toString()} ${spec.quote}`);
    if (spec.maxNotional && notional.gt(spec.maxNotional))
      throw new SimRejectError(30003, `order value ${notional.toString()} is above the maximum ${spec.maxNotional.toString()} ${spec.quote}`);
    if (known && known.open.size >= MAX_OPEN_ORDERS) throw new SimRejectError(30029, `cannot exceed the maximum of ${MAX_OPEN_ORDERS} open orders`);

    const takerRate = Dec.from(spec.takerFeePct).div(HUNDRED);
    const lockAsset = req.side === 'buy' ? spec.quote : spec.base;
    const lock = req.side === 'sell' ? quantity : this.buyLock(spec, md, req, quantity, takerRate);
    const free = known?.wallets.get(lockAsset)?.free ?? Dec.ZERO;
    if (free.lt(lock)) throw new SimRejectError(10101, `insufficient balance: ${lockAsset} free ${free.toString()}, the order needs ${lock.toString()}`);

    if (req.type === 'post_only') {
      const q = quotes(md);
      const crosses = req.side === 'buy' ? q.ask !== undefined && (req.price as Dec).toNumber() >= q.ask : q.bid !== undefined && (req.price as Dec).toNumber() <= q.bid;
      if (crosses) throw new SimRejectError(30041, `post-only (LIMIT_MAKER) order would take liquidity: ${req.side} at ${(req.price as Dec).toString()} crosses the book`);
    }

    const acct = this.account(account);
    const o: OrderState = {
      account,
      seq: ++this.orderSeq,
      clientOrderId: req.clientOrderId,
      exchangeOrderId: `C02__${this.orderSeq}`,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      price: isMarket ? undefined : req.price,
      limit: isMarket ? Number.NaN : (req.price as Dec).toNumber(),
      quantity,
      quoteAmount: isMarket ? req.quoteAmount : undefined,
      filled: Dec.ZERO,
      filledQuote: Dec.ZERO,
      status: 'new',
      time: now,
      updateTime: now,
      arrival: isMarket ? now + this.latencyMs : now,
      lockAsset,
      locked: lock,
    };
    acct.open.set(o.clientOrderId, o);
    acct.byExchangeId.set(o.exchangeOrderId, o);
    this.change(account, acct, lockAsset, lock.neg(), lock, 'ENTRUST_PLACE', now);
    this.queueOrder(o);

    if (plan) {
      if (this.latencyMs === 0) this.executeMarket(spec, md, o, plan, now);
      else {
        md.inFlight.push(o);
        this.inFlightSymbols.add(md);
      }
    } else {
      if (req.type === 'limit' || req.type === 'ioc') this.takeOnArrival(spec, md, o, now);
      if (o.status === 'new' || o.status === 'partially_filled') {
        if (req.type === 'ioc') this.endOrder(o, 'cancelled', now);
        else md.resting.push(o);
      }
    }
    this.flush();
    return snapshot(o);
  }

  cancel(account: string, symbol: SymbolId, ref: OrderRef, now: number): VenueOrder {
    const acct = this.accounts.get(account);
    const o = acct ? findOpen(acct, ref) : undefined;
    if (!o || o.symbol !== symbol) throw new SimRejectError(-2011, `Unknown order sent: ${describeRef(ref)} is not an open order on ${symbol}`);
    this.endOrder(o, 'cancelled', now);
    this.flush();
    return snapshot(o);
  }

  order(account: string, symbol: SymbolId, ref: OrderRef): VenueOrder | undefined {
    const acct = this.accounts.get(account);
    if (!acct) return undefined;
    const o = 'clientOrderId' in ref ? (acct.open.get(ref.clientOrderId) ?? acct.ended.get(ref.clientOrderId)) : acct.byExchangeId.get(ref.exchangeOrderId);
    return o && o.symbol === symbol ? snapshot(o) : undefined;
  }

  openOrders(account: string, symbol?: SymbolId): VenueOrder[] {
    const acct = this.accounts.get(account);
    if (!acct) return [];
    const out: VenueOrder[] = [];
    for (const o of acct.open.values()) if (symbol === undefined || o.symbol === symbol) out.push(snapshot(o));
    return out;
  }

  allOrders(account: string, symbol: SymbolId): VenueOrder[] {
    const acct = this.accounts.get(account);
    if (!acct) return [];
    const list = [...acct.ended.values(), ...acct.open.values()].filter((o) => o.symbol === symbol);
    return list.sort((a, b) => a.seq - b.seq).map(snapshot);
  }

  /**
   * Fills oldest first. With `since`, the first `limit` fills from that time; without it, the last
   * `limit` (the most recent ones, as MEXC answers a query without a start time).
   */
  myTrades(account: string, symbol: SymbolId, since?: number, limit?: number): VenueFill[] {
    const acct = this.accounts.get(account);
    if (!acct) return [];
    const list = acct.fills.filter((f) => f.symbol === symbol && (since === undefined || f.time >= since));
    if (limit === undefined || list.length <= limit) return list;
    return since === undefined ? list.slice(list.length - limit) : list.slice(0, limit);
  }

  onEvent(listener: (e: EngineEvent) => void): () => void {
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const wrapped = (e: EngineEvent): void => listener(e);
    this.listeners.add(wrapped);
    return () => {
      this.listeners.delete(wrapped);
    };
  }

  // ---- matching ----

  private onTrade(symbol: SymbolId, md: SymbolData, price: number, quantity: number, time: number): void {
    md.lastTradePrice = price;
    if (quantity > 0) md.recordPrint(time, quantity);
    if (md.resting.length === 0 || !(quantity > 0)) return;
    const spec = this.specs.get(symbol);
    if (!spec) return;
    let any = false;
    for (const o of md.resting) if (o.side === 'buy' ? price < o.limit : price > o.limit) any = true;
    if (!any) return;
    const through = md.resting.filter((o) => (o.side === 'buy' ? price < o.limit : price > o.limit));
    // Best price first (the buy furthest above the trade, the sell furthest below), then oldest.
    through.sort((a, b) => (a.limit !== b.limit ? (a.side === 'buy' ? b.limit - a.limit : a.limit - b.limit) : a.seq - b.seq));
    let budget = sizeOf(quantity).mul(this.participation);
    for (const o of through) {
      const lots = budget.floorTo(spec.stepSize);
      if (!lots.isPositive()) break;
      const qty = Dec.min(lots, o.quantity.sub(o.filled));
      budget = budget.sub(qty);
      this.execute(spec, o, qty, o.price as Dec, 'maker', time);
    }
  }

  /** Executes the in-flight market orders of a symbol that arrived by `time`, at their arrival. */
  private executeArrived(symbol: SymbolId, md: SymbolData, time: number): void {
    const spec = this.specs.get(symbol);
    while (md.inFlight.length > 0 && (md.inFlight[0] as OrderState).arrival <= time) {
      const o = md.inFlight.shift() as OrderState;
      if (o.status !== 'new') continue; // cancelled while in flight
      if (!spec) continue;
      const plan = this.marketPlan(spec, md, { clientOrderId: o.clientOrderId, symbol, side: o.side, type: 'market', ...(o.quoteAmount ? { quoteAmount: o.quoteAmount } : { quantity: o.quantity }) }, o.arrival);
      this.executeMarket(spec, md, o, plan, o.arrival);
    }
    if (md.inFlight.length === 0) this.inFlightSymbols.delete(md);
  }

  /** Fills a market order at its plan; a buy fills only what its lock and the free balance pay for. */
  private executeMarket(spec: SimMarketSpec, md: SymbolData, o: OrderState, plan: MarketPlan, time: number): void {
    let qty = plan.quantity;
    if (o.side === 'buy') {
      const acct = this.account(o.account);
      const free = acct.wallets.get(o.lockAsset)?.free ?? Dec.ZERO;
      const rate = Dec.ONE.add(Dec.from(spec.takerFeePct).div(HUNDRED));
      const affordable = o.locked.add(free).div(plan.price.mul(rate)).floorTo(spec.stepSize);
      if (affordable.lt(qty)) qty = affordable;
    } else if (qty.gt(o.locked)) qty = o.locked.floorTo(spec.stepSize);
    if (!qty.isPositive()) {
      this.endOrder(o, 'cancelled', time);
      return;
    }
    o.quantity = qty;
    this.execute(spec, o, qty, plan.price, 'taker', time);
    // The fixed slippage already models the depth a market order eats; showing the book as
    // emptied keeps a following marketable limit from taking the same quantity again.
    if (o.side === 'buy') md.usedAsk = md.usedAsk.add(qty);
    else md.usedBid = md.usedBid.add(qty);
  }

  /** The taker part of a marketable limit/ioc on arrival: at the book price, up to its size. */
  private takeOnArrival(spec: SimMarketSpec, md: SymbolData, o: OrderState, now: number): void {
    if (!md.hasBook) return;
    const bookPrice = o.side === 'buy' ? md.ask : md.bid;
    if (!(bookPrice > 0)) return;
    const marketable = o.side === 'buy' ? o.limit >= bookPrice : o.limit <= bookPrice;
    if (!marketable) return;
    const shown = sizeOf(o.side === 'buy' ? md.askSize : md.bidSize);
    const used = o.side === 'buy' ? md.usedAsk : md.usedBid;
    const avail = Dec.max(Dec.ZERO, shown.sub(used)).floorTo(spec.stepSize);
    const qty = Dec.min(avail, o.quantity);
    if (!qty.isPositive()) return;
    if (o.side === 'buy') md.usedAsk = md.usedAsk.add(qty);
    else md.usedBid = md.usedBid.add(qty);
    this.execute(spec, o, qty, Dec.from(bookPrice), 'taker', now);
  }

  /** Fill price and quantity of a market order priced at `now` against the quotes in force. */
  private marketPlan(spec: SimMarketSpec, md: SymbolData, req: VenueOrderRequest, now: number): MarketPlan {
    const q = quotes(md);
    const ref = req.side === 'buy' ? q.ask : q.bid;
    // MEXC's 30010 is "no valid trade price": exactly this case (ccxt maps it to InvalidOrder).
    if (ref === undefined) throw new SimRejectError(30010, `no valid trade price: no market data for ${req.symbol} yet, a market order needs a book or a trade to price it`);
    const refPrice = Dec.from(ref);
    const estimate = req.quantity ?? (req.quoteAmount as Dec).div(refPrice);
    const bps = this.slippage(md, estimate, now);
    const raw = refPrice.mul(req.side === 'buy' ? BPS.add(bps) : BPS.sub(bps)).div(BPS);
    // Round against the order: a buy pays up to the next tick, a sell receives down to the tick.
    const price = req.side === 'buy' ? raw.ceilTo(spec.tickSize) : Dec.max(spec.tickSize, raw.floorTo(spec.tickSize));
    const quantity = req.quantity ?? (req.quoteAmount as Dec).div(price).floorTo(spec.stepSize);
    return { price, quantity };
  }

  /** slippageBps + impactBpsPerPctVolume x (quantity as % of the public volume of the 60 s up to `now`), at most 100. */
  private slippage(md: SymbolData, quantity: Dec, now: number): Dec {
    let volume = 0;
    const cutoff = now - RECENT_WINDOW_MS;
    for (let k = 0; k < md.recentCount; k++) {
      const i = (md.recentStart + k) % MAX_RECENT_TRADES;
      const t = md.recentTime[i] as number;
      if (t > cutoff && t <= now) volume += md.recentQty[i] as number;
    }
    const pct = volume > 0 ? quantity.mul(HUNDRED).div(sizeOf(volume)) : HUNDRED;
    return Dec.min(MAX_SLIPPAGE_BPS, this.slippageBps.add(this.impactBps.mul(pct)));
  }

  /** What a buy holds: enough for its worst fill plus the taker fee (see the file comment). */
  private buyLock(spec: SimMarketSpec, md: SymbolData, req: VenueOrderRequest, quantity: Dec, takerRate: Dec): Dec {
    let cost: Dec;
    if (req.type !== 'market') cost = (req.price as Dec).mul(quantity);
    else if (req.quoteAmount) cost = req.quoteAmount;
    else {
      const ask = Dec.from(quotes(md).ask as number);
      cost = ask.mul(BPS.add(MAX_SLIPPAGE_BPS)).div(BPS).ceilTo(spec.tickSize).mul(quantity);
    }
    return cost.add(cost.mul(takerRate));
  }

  /** Books one execution: balances, the fill record, the order's progress (and its end when filled). */
  private execute(spec: SimMarketSpec, o: OrderState, qty: Dec, price: Dec, liquidity: 'maker' | 'taker', time: number): void {
    const acct = this.account(o.account);
    const cost = price.mul(qty);
    const fee = cost.mul(Dec.from(liquidity === 'maker' ? spec.makerFeePct : spec.takerFeePct)).div(HUNDRED);
    if (o.side === 'buy') {
      this.payFromLock(acct, o, cost, 'ENTRUST', time);
      if (!fee.isZero()) this.payFromLock(acct, o, fee, 'TRADE_FEE', time);
      this.change(o.account, acct, spec.base, qty, Dec.ZERO, 'ENTRUST', time);
    } else {
      this.payFromLock(acct, o, qty, 'ENTRUST', time);
      this.change(o.account, acct, spec.quote, cost, Dec.ZERO, 'ENTRUST', time);
      if (!fee.isZero()) this.change(o.account, acct, spec.quote, fee.neg(), Dec.ZERO, 'TRADE_FEE', time);
    }
    o.filled = o.filled.add(qty);
    o.filledQuote = o.filledQuote.add(cost);
    o.updateTime = time;
    const fill: VenueFill = {
      tradeId: `ST${++this.tradeSeq}`,
      exchangeOrderId: o.exchangeOrderId,
      clientOrderId: o.clientOrderId,
      symbol: o.symbol,
      side: o.side,
      price,
      quantity: qty,
      fee,
      feeAsset: spec.quote,
      liquidity,
      time,
    };
    acct.fills.push(fill);
    if (acct.fills.length > this.maxHistory) acct.fills.shift();
    if (o.filled.eq(o.quantity)) {
      // The release of what the lock kept over comes before the fill and order events of this step.
      this.release(acct, o, time);
      this.pending.push({ type: 'fill', account: o.account, fill });
      this.finish(acct, o, 'filled', time);
    } else {
      o.status = 'partially_filled';
      this.pending.push({ type: 'fill', account: o.account, fill });
      this.queueOrder(o);
    }
  }

  /**
   * Takes `amount` of the order's lock asset out of its lock. Rounding of fees at the 18th decimal
   * can, over many partial fills, ask for a few 10^-18 more than was locked: that rest comes from
   * free, so the books stay exact.
   */
  private payFromLock(acct: Account, o: OrderState, amount: Dec, reason: BalanceReason, time: number): void {
    const fromLocked = Dec.min(amount, o.locked);
    o.locked = o.locked.sub(fromLocked);
    this.change(o.account, acct, o.lockAsset, fromLocked.sub(amount), fromLocked.neg(), reason, time);
  }

  private release(acct: Account, o: OrderState, time: number): void {
    if (o.locked.isZero()) return;
    const rest = o.locked;
    o.locked = Dec.ZERO;
    this.change(o.account, acct, o.lockAsset, rest, rest.neg(), 'ENTRUST_CANCEL', time);
  }

  /** Ends an open order (cancel, ioc rest, a market order nothing could fill): releases its lock, then reports it. */
  private endOrder(o: OrderState, status: 'cancelled', time: number): void {
    const acct = this.account(o.account);
    this.release(acct, o, time);
    o.updateTime = time;
    this.finish(acct, o, status, time);
  }

  private finish(acct: Account, o: OrderState, status: 'filled' | 'cancelled', time: number): void {
    o.status = status;
    o.updateTime = time;
    acct.open.delete(o.clientOrderId);
    acct.ended.set(o.clientOrderId, o);
    const md = this.data.get(o.symbol);
    if (md) {
      const i = md.resting.indexOf(o);
      if (i >= 0) md.resting.splice(i, 1);
      const j = md.inFlight.indexOf(o);
      if (j >= 0) {
        md.inFlight.splice(j, 1);
        if (md.inFlight.length === 0) this.inFlightSymbols.delete(md);
      }
    }
    while (acct.ended.size > this.maxHistory) {
      const oldest = acct.ended.values().next().value as OrderState;
      acct.ended.delete(oldest.clientOrderId);
      acct.byExchangeId.delete(oldest.exchangeOrderId);
    }
    this.queueOrder(o);
  }

  // ---- books and events ----

  private account(account: string): Account {
    let a = this.accounts.get(account);
    if (!a) {
      a = new Account();
      this.accounts.set(account, a);
    }
    return a;
  }

  private wallet(acct: Account, asset: string): Wallet {
    let w = acct.wallets.get(asset);
    if (!w) {
      w = { free: Dec.ZERO, locked: Dec.ZERO };
      acct.wallets.set(asset, w);
    }
    return w;
  }

  private symbolData(symbol: SymbolId): SymbolData {
    // The backtest asks for the same symbol eight times a candle: one compare instead of a lookup.
    if (symbol === this.lastSymbol && this.lastData) return this.lastData;
    let d = this.data.get(symbol);
    if (!d) {
      d = new SymbolData();
      this.data.set(symbol, d);
    }
    this.lastSymbol = symbol;
    this.lastData = d;
    return d;
  }

  private change(account: string, acct: Account, asset: string, freeChange: Dec, lockedChange: Dec, reason: BalanceReason, time: number): void {
    if (freeChange.isZero() && lockedChange.isZero()) return;
    const w = this.wallet(acct, asset);
    w.free = w.free.add(freeChange);
    w.locked = w.locked.add(lockedChange);
    this.pending.push({ type: 'balance', account, balance: { asset, free: w.free, locked: w.locked }, freeChange, lockedChange, reason, time });
  }

  private queueOrder(o: OrderState): void {
    this.pending.push({ type: 'order', account: o.account, order: snapshot(o) });
  }

  /**
   * Delivers the queued events. A listener that places or cancels from inside its callback queues
   * more events, which this same loop delivers after the current ones, in order. A throwing listener
   * does not stop the others; the first error is rethrown once all were delivered.
   */
  private flush(): void {
    if (this.flushing || this.pending.length === 0) return;
    this.flushing = true;
    let firstError: unknown;
    let failed = false;
    try {
      for (let i = 0; i < this.pending.length; i++) {
        const e = this.pending[i] as EngineEvent;
        for (const l of [...this.listeners]) {
          try {
            l(e);
          } catch (err) {
            if (!failed) {
              failed = true;
              firstError = err;
            }
          }
        }
      }
    } finally {
      this.pending.length = 0;
      this.flushing = false;
    }
    if (failed) throw firstError;
  }
}

/** 700004: the request's shape (which fields are present, positive numbers). */
function checkParameters(req: VenueOrderRequest): void {
  const bad = (msg: string): SimRejectError => new SimRejectError(700004, `param error: ${msg}`);
  if (req.clientOrderId.length === 0) throw bad('clientOrderId is empty');
  if (req.type === 'market') {
    // `price` on a market order is ignored: ccxt sends one along with quoteOrderQty (PROTOCOL.md §1.4).
    if (req.quantity && req.quoteAmount) throw bad('a market order takes quantity or quoteAmount, not both');
    if (!req.quantity && !req.quoteAmount) throw bad('a market order needs quantity or quoteAmount');
    if (req.quantity && !req.quantity.isPositive()) throw bad(`quantity must be positive, got ${req.quantity.toString()}`);
    if (req.quoteAmount && !req.quoteAmount.isPositive()) throw bad(`quoteAmount must be positive, got ${req.quoteAmount.toString()}`);
    return;
  }
  if (req.quoteAmount) throw bad(`quoteAmount is only for market orders, not ${req.type}`);
  if (!req.quantity) throw bad(`a ${req.type} order needs a quantity`);
  if (!req.price) throw bad(`a ${req.type} order needs a price`);
  if (!req.quantity.isPositive()) throw bad(`quantity must be positive, got ${req.quantity.toString()}`);
  if (!req.price.isPositive()) throw bad(`price must be positive, got ${req.price.toString()}`);
}

/** Best bid and ask to trade against: the book's, or the last trade price standing in for both. */
function quotes(md: SymbolData): { bid: number | undefined; ask: number | undefined } {
  const last = md.lastTradePrice > 0 ? md.lastTradePrice : undefined;
  const bid = md.hasBook && md.bid > 0 ? md.bid : last;
  const ask = md.hasBook && md.ask > 0 ? md.ask : last;
  return { bid, ask };
}

/** A public size as an exact decimal; anything not a positive finite number counts as nothing. */
function sizeOf(n: number): Dec {
  return Number.isFinite(n) && n > 0 ? Dec.from(n) : Dec.ZERO;
}

function findOpen(acct: Account, ref: OrderRef): OrderState | undefined {
  if ('clientOrderId' in ref) return acct.open.get(ref.clientOrderId);
  const o = acct.byExchangeId.get(ref.exchangeOrderId);
  return o && acct.open.get(o.clientOrderId) === o ? o : undefined;
}

function describeRef(ref: OrderRef): string {
  return 'clientOrderId' in ref ? `client order id ${ref.clientOrderId}` : `order id ${ref.exchangeOrderId}`;
}

function snapshot(o: OrderState): VenueOrder {
  return {
    clientOrderId: o.clientOrderId,
    exchangeOrderId: o.exchangeOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    ...(o.price !== undefined ? { price: o.price } : {}),
    quantity: o.quantity,
    filledQuantity: o.filled,
    filledQuote: o.filledQuote,
    status: o.status,
    time: o.time,
    updateTime: o.updateTime,
  };
}
