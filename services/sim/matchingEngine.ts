/**
 * The simulator's matching engine: MEXC-like spot accounts, orders and fills against public market
 * data, pure and in-process (the simulator server and the paper venue both drive it).
 *
 * Our orders never meet each other; they only trade against the public market fed through
 * `onMarketData`. Fill rules, kept consistent with the backtest's SimExchange (README "How the
 * simulation fills orders"), all on the conservative side:
 *
 * - Market orders fill fully, at once, as taker: a buy at the best ask, a sell at the best bid (of
 *   the last book event; the last trade price when no book arrived yet; refused with 30010 "no valid
 *   trade price" when neither did), moved against the order by slippageBps + impactBpsPerPctVolume
 *   x (quantity as a percent of the recent public volume), capped at 100 bps, then rounded to the
 *   tick against the order. "Recent volume" is the sum of the public trade quantities of the last
 *   60 s up to the order's time (100% when there is none). A market order by quote amount
 *   estimates its size at the book price for the impact term, then gets
 *   quantity = floor(quoteAmount / fill price, stepSize).
 * - A limit or ioc order that is marketable on arrival (buy limit >= ask, sell limit <= bid of the
 *   last book) takes at the book price, as taker, at most the quantity shown at that price (what our
 *   takers used is deducted until the next book event). A limit rests with what is left; an ioc is
 *   cancelled with what it filled. Without a book nothing is marketable: a limit rests, an ioc ends.
 * - A resting order (limit, post_only) fills as maker, at its limit price, only when a public trade
 *   prints strictly through it (buy: trade < limit; sell: trade > limit); each trade fills at most
 *   participationPct of its quantity across all our orders it goes through, best price first, then
 *   oldest first (partial fills). Book moves alone never fill a resting order.
 * - post_only is refused (30041, MEXC's "current order type can not place order"; MEXC's real
 *   answer to a crossing LIMIT_MAKER is not documented, this code is the simulator's choice) when it would take: buy price >= ask, sell price <= bid (the last
 *   trade price stands in for both when no book arrived yet).
 * - Fees are charged in the quote asset at the market's maker/taker percent. A buy locks quote: a
 *   limit price x qty plus the taker fee (a marketable limit pays taker); a market buy by quantity
 *   the cost at the 100 bps slippage cap (rounded up to the tick) plus the taker fee; a market buy
 *   by quote amount that amount plus the taker fee. A sell locks its base quantity. Fills are paid
 *   out of the lock, and what is left is released when the order ends.
 *
 * Events: every change is queued while an operation runs and delivered synchronously when it
 * completes (before `place`, `cancel` or `onMarketData` returns), so listeners always see a
 * consistent state. Per step the order is: balance changes, then the fill, then the order update.
 *
 * Bounds: at most 500 open orders per account (MEXC's limit, refused with 30029); ended orders and
 * fills kept per account up to `maxHistoryPerAccount` each (oldest evicted); at most 10,000 recent
 * public trades per symbol for the volume window (dropping the oldest only lowers the volume, i.e.
 * raises the impact). A client order id is refused as a duplicate while its order is open or in the
 * ended-order history.
 */
import { Dec } from '../core/money.js';
import type { BookTop, SymbolId, Trade } from '../core/types.js';
import type { OrderStatus } from '../execution/types.js';
import type { Balance, VenueFill, VenueOrder, VenueOrderRequest, VenueOrderType } from '../venue/types.js';
import { SimRejectError, type EngineEvent, type EngineOptions, type MarketDataEvent, type MatchingEngine, type OrderRef, type SimMarketSpec } from './types.js';

/** The backtest's defaults (services/config/schema.ts `backtest`), so paper and backtest agree. */
export const DEFAULT_ENGINE_OPTIONS: EngineOptions = Object.freeze({ slippageBps: 2, impactBpsPerPctVolume: 0.5, participationPct: 10 });

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
  /** The limit as a float, compared with public trade prices the way the backtest compares them. */
  readonly limit: number;
  quantity: Dec;
  filled: Dec;
  filledQuote: Dec;
  status: OrderStatus;
  readonly time: number;
  updateTime: number;
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

/** Public market state of one symbol, as far as the engine saw it. */
class SymbolData {
  book: BookTop | undefined;
  /** Quantity still available at the best bid/ask to our takers until the next book event. */
  availBid = Dec.ZERO;
  availAsk = Dec.ZERO;
  lastTradePrice: number | undefined;
  /** Public trades of the recent window, oldest first, and their summed quantity. */
  readonly recent: { time: number; quantity: number }[] = [];
  recentHead = 0;
  /** Resting (open, not ioc/market) orders of every account on this symbol, placement order. */
  readonly resting: OrderState[] = [];
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
  private orderSeq = 0;
  private tradeSeq = 0;

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
    return this.data.get(symbol)?.book;
  }

  onMarketData(event: MarketDataEvent): void {
    const md = this.symbolData(event.symbol);
    if (event.type === 'book') {
      md.book = event.book;
      md.availBid = sizeOf(event.book.bidSize);
      md.availAsk = sizeOf(event.book.askSize);
    } else if (event.type === 'trade') {
      this.onTrade(event.symbol, md, event.trade);
      this.flush();
    }
    // Klines are informational: the engine matches on trades and quotes only.
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
      filled: Dec.ZERO,
      filledQuote: Dec.ZERO,
      status: 'new',
      time: now,
      updateTime: now,
      lockAsset,
      locked: lock,
    };
    acct.open.set(o.clientOrderId, o);
    acct.byExchangeId.set(o.exchangeOrderId, o);
    this.change(account, acct, lockAsset, lock.neg(), lock, 'ENTRUST_PLACE', now);
    this.queueOrder(o);

    if (plan) {
      this.execute(spec, o, plan.quantity, plan.price, 'taker', now);
      // The fixed slippage already models the depth a market order eats; showing the book as
      // emptied keeps a following marketable limit from taking the same quantity again.
      if (req.side === 'buy') md.availAsk = Dec.max(Dec.ZERO, md.availAsk.sub(plan.quantity));
      else md.availBid = Dec.max(Dec.ZERO, md.availBid.sub(plan.quantity));
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

  private onTrade(symbol: SymbolId, md: SymbolData, trade: Trade): void {
    md.lastTradePrice = trade.price;
    if (trade.quantity > 0) {
      md.recent.push({ time: trade.time, quantity: trade.quantity });
      if (md.recent.length - md.recentHead > MAX_RECENT_TRADES) md.recentHead++;
      const cutoff = trade.time - RECENT_WINDOW_MS;
      while (md.recentHead < md.recent.length && (md.recent[md.recentHead] as { time: number }).time <= cutoff) md.recentHead++;
      // Compact now and then so the array does not grow with the dropped head.
      if (md.recentHead > 1024 && md.recentHead * 2 > md.recent.length) {
        md.recent.splice(0, md.recentHead);
        md.recentHead = 0;
      }
    }
    const spec = this.specs.get(symbol);
    if (!spec || md.resting.length === 0 || !(trade.quantity > 0)) return;
    const through = md.resting.filter((o) => (o.side === 'buy' ? trade.price < o.limit : trade.price > o.limit));
    if (through.length === 0) return;
    // Best price first (the buy furthest above the trade, the sell furthest below), then oldest.
    through.sort((a, b) => (a.limit !== b.limit ? (a.side === 'buy' ? b.limit - a.limit : a.limit - b.limit) : a.seq - b.seq));
    let budget = sizeOf(trade.quantity).mul(this.participation);
    for (const o of through) {
      const lots = budget.floorTo(spec.stepSize);
      if (!lots.isPositive()) break;
      const qty = Dec.min(lots, o.quantity.sub(o.filled));
      budget = budget.sub(qty);
      this.execute(spec, o, qty, o.price as Dec, 'maker', trade.time);
    }
  }

  /** The taker part of a marketable limit/ioc on arrival: at the book price, up to its size. */
  private takeOnArrival(spec: SimMarketSpec, md: SymbolData, o: OrderState, now: number): void {
    const book = md.book;
    if (!book) return;
    const bookPrice = o.side === 'buy' ? book.ask : book.bid;
    if (!(bookPrice > 0)) return;
    const marketable = o.side === 'buy' ? o.limit >= bookPrice : o.limit <= bookPrice;
    if (!marketable) return;
    const avail = (o.side === 'buy' ? md.availAsk : md.availBid).floorTo(spec.stepSize);
    const qty = Dec.min(avail, o.quantity);
    if (!qty.isPositive()) return;
    if (o.side === 'buy') md.availAsk = md.availAsk.sub(qty);
    else md.availBid = md.availBid.sub(qty);
    this.execute(spec, o, qty, Dec.from(bookPrice), 'taker', now);
  }

  /** Fill price and quantity of a market order (it fills at once, so both are known up front). */
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

  /** slippageBps + impactBpsPerPctVolume x (quantity as % of the last minute's public volume), at most 100. */
  private slippage(md: SymbolData, quantity: Dec, now: number): Dec {
    let volume = 0;
    const cutoff = now - RECENT_WINDOW_MS;
    for (let i = md.recentHead; i < md.recent.length; i++) {
      const t = md.recent[i] as { time: number; quantity: number };
      if (t.time > cutoff && t.time <= now) volume += t.quantity;
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

  /** Ends an open order (cancel, ioc rest): releases its lock, then reports it. */
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
    let d = this.data.get(symbol);
    if (!d) {
      d = new SymbolData();
      this.data.set(symbol, d);
    }
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
    if (this.flushing) return;
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
  const last = md.lastTradePrice !== undefined && md.lastTradePrice > 0 ? md.lastTradePrice : undefined;
  const bid = md.book && md.book.bid > 0 ? md.book.bid : last;
  const ask = md.book && md.book.ask > 0 ? md.book.ask : last;
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
