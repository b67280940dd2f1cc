/**
 * The backtest's simulated exchange: fills orders against a price path derived from candles.
 *
 * Fill rules (documented in the README, all deliberately on the conservative side):
 * - The engine walks each 1m candle as open -> low -> high -> close. For a long position the
 *   adverse extreme is visited before the favourable one, so when a candle's range covers both the
 *   stop and a target, the stop is assumed to fill first.
 * - A market order reaches the exchange `latencyMs` after it was sent and fills at the first path
 *   price after that (a decision at a candle's close fills at the next candle's open), moved
 *   against the order by the slippage model.
 * - A market order sent because a client-side stop triggered fills where a continuous market
 *   crossed the stop: at the stop price when the previous path price was on the other side of it,
 *   at the current price when the market gapped through it; then slippage.
 * - A resting limit order fills only when the price trades through it (strictly beyond the limit),
 *   at the limit price, as maker; at most `participationPct` of the candle's volume is filled per
 *   candle across our orders (partial fills), so zero-volume candles fill nothing.
 * - Slippage = slippageBps + impactBpsPerPctVolume x (order size as a percent of the candle's
 *   volume), capped at 100 bps.
 */
import { Dec } from '../core/money.js';
import type { Candle, SymbolId } from '../core/types.js';
import { InvalidStateError } from '../core/errors.js';
import type { ExchangeEvents, ExchangePort, Fill, MarketInfo, OrderAck, OrderRequest } from '../execution/types.js';

export interface SimExchangeOptions {
  makerFeePct: number;
  takerFeePct: number;
  slippageBps: number;
  impactBpsPerPctVolume: number;
  latencyMs: number;
  participationPct: number;
}

const MAX_SLIPPAGE_BPS = 100;

interface SimOrder {
  req: OrderRequest;
  exchangeOrderId: string;
  arrival: number;
  filled: Dec;
}

interface SymbolBook {
  market: MarketInfo;
  price: number | null;
  prevPrice: number | null;
  candleVolume: number;
  budget: number;
  pendingMarket: SimOrder[];
  resting: SimOrder[];
}

export class SimExchange implements ExchangePort {
  private readonly books = new Map<SymbolId, SymbolBook>();
  private events: ExchangeEvents | null = null;
  private readonly makerFee: Dec;
  private readonly takerFee: Dec;
  private now = 0;
  private seq = 0;
  private tradeSeq = 0;
  /** Every order ever accepted, by client id: a duplicate client id is rejected, as on MEXC. */
  private readonly seen = new Set<string>();
  /** Orders accepted, for tests that check no client order id was sent twice. */
  readonly log: { time: number; clientOrderId: string; type: string; side: string }[] = [];

  constructor(
    markets: Iterable<MarketInfo>,
    private readonly opts: SimExchangeOptions,
  ) {
    for (const m of markets)
      this.books.set(m.symbol, { market: m, price: null, prevPrice: null, candleVolume: 0, budget: 0, pendingMarket: [], resting: [] });
    this.makerFee = Dec.from(opts.makerFeePct).div(Dec.from(100));
    this.takerFee = Dec.from(opts.takerFeePct).div(Dec.from(100));
  }

  subscribe(events: ExchangeEvents): void {
    this.events = events;
  }

  market(symbol: SymbolId): MarketInfo {
    return this.book(symbol).market;
  }

  private book(symbol: SymbolId): SymbolBook {
    const b = this.books.get(symbol);
    if (!b) throw new InvalidStateError(`unknown symbol ${symbol}`);
    return b;
  }

  /** Starts a candle: sets the volume budget for limit fills. */
  beginCandle(symbol: SymbolId, candle: Candle): void {
    const b = this.book(symbol);
    b.candleVolume = candle.volume;
    b.budget = (candle.volume * this.opts.participationPct) / 100;
  }

  /** Moves the market to `price` at `time`, filling what that price reaches. */
  tick(symbol: SymbolId, price: number, time: number): void {
    this.now = time;
    const b = this.book(symbol);
    b.prevPrice = b.price;
    b.price = price;
    if (b.pendingMarket.length > 0) {
      const due = b.pendingMarket.filter((o) => o.arrival <= time);
      if (due.length > 0) {
        b.pendingMarket = b.pendingMarket.filter((o) => o.arrival > time);
        for (const o of due) this.fillMarket(b, o, price);
      }
    }
    if (b.resting.length > 0) this.matchResting(b, price);
  }

  /** Sets the clock without a price (between candles). */
  setTime(time: number): void {
    this.now = time;
  }

  submit(req: OrderRequest): Promise<OrderAck> {
    return Promise.resolve(this.submitSync(req));
  }

  private submitSync(req: OrderRequest): OrderAck {
    const b = this.book(req.symbol);
    const exchangeOrderId = `sim-${++this.seq}`;
    const reject = (reason: string): OrderAck => {
      this.events?.onOrderUpdate({ clientOrderId: req.clientOrderId, symbol: req.symbol, status: 'rejected', filledQuantity: Dec.ZERO, time: this.now, reason });
      return { clientOrderId: req.clientOrderId, exchangeOrderId, status: 'rejected', reason };
    };
    if (this.seen.has(req.clientOrderId)) return reject('duplicate client order id');
    if (!req.quantity.isPositive() || !req.quantity.floorTo(b.market.stepSize).eq(req.quantity)) return reject('quantity is not a positive multiple of the lot step');
    if (req.type === 'limit' && (!req.price || !req.price.isPositive())) return reject('limit order without a positive price');
    const refPrice = req.price ?? (b.price !== null ? Dec.from(b.price) : null);
    if (refPrice && req.quantity.mul(refPrice).lt(b.market.minNotional)) return reject('notional below the minimum');
    this.seen.add(req.clientOrderId);
    this.log.push({ time: this.now, clientOrderId: req.clientOrderId, type: req.type, side: req.side });
    const order: SimOrder = { req, exchangeOrderId, arrival: this.now + this.opts.latencyMs, filled: Dec.ZERO };
    if (req.type === 'market') {
      if (req.stopPrice && b.price !== null) this.fillMarket(b, order, b.price);
      else b.pendingMarket.push(order);
      return { clientOrderId: req.clientOrderId, exchangeOrderId, status: order.filled.eq(req.quantity) ? 'filled' : 'new' };
    }
    if (req.postOnly && b.price !== null && req.price) {
      const crosses = req.side === 'buy' ? req.price.toNumber() >= b.price : req.price.toNumber() <= b.price;
      if (crosses) return reject('post-only order would take liquidity');
    }
    b.resting.push(order);
    return { clientOrderId: req.clientOrderId, exchangeOrderId, status: 'new' };
  }

  cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck> {
    const b = this.book(symbol);
    const idx = b.resting.findIndex((o) => o.req.clientOrderId === clientOrderId);
    const pidx = b.pendingMarket.findIndex((o) => o.req.clientOrderId === clientOrderId);
    const list = idx >= 0 ? b.resting : pidx >= 0 ? b.pendingMarket : null;
    const i = idx >= 0 ? idx : pidx;
    if (!list) return Promise.resolve({ clientOrderId, exchangeOrderId: '', status: 'rejected', reason: 'unknown order' });
    const [o] = list.splice(i, 1);
    const order = o as SimOrder;
    this.events?.onOrderUpdate({ clientOrderId, symbol, status: 'cancelled', filledQuantity: order.filled, time: this.now });
    return Promise.resolve({ clientOrderId, exchangeOrderId: order.exchangeOrderId, status: 'cancelled' });
  }

  /** Open orders of a symbol (resting and in flight). */
  openOrders(symbol: SymbolId): readonly OrderRequest[] {
    const b = this.book(symbol);
    return [...b.resting, ...b.pendingMarket].map((o) => o.req);
  }

  private slippageFraction(b: SymbolBook, quantity: number): number {
    const pctOfVolume = b.candleVolume > 0 ? (quantity / b.candleVolume) * 100 : 100;
    const bps = Math.min(MAX_SLIPPAGE_BPS, this.opts.slippageBps + this.opts.impactBpsPerPctVolume * pctOfVolume);
    return bps / 10_000;
  }

  private fillMarket(b: SymbolBook, o: SimOrder, price: number): void {
    const { req } = o;
    let base = price;
    if (req.stopPrice) {
      const stop = req.stopPrice.toNumber();
      const prev = b.prevPrice;
      // Continuous crossing: the previous price was on the other side of the stop.
      const crossed = prev !== null && (req.side === 'sell' ? prev >= stop && price <= stop : prev <= stop && price >= stop);
      if (crossed) base = stop;
    }
    const qty = req.quantity.sub(o.filled);
    const slip = this.slippageFraction(b, qty.toNumber());
    const raw = Dec.from(req.side === 'buy' ? base * (1 + slip) : base * (1 - slip));
    // Round against the order: a buy pays up to the next tick, a sell receives down to the tick.
    const fillPrice = req.side === 'buy' ? raw.ceilTo(b.market.tickSize) : Dec.max(b.market.tickSize, raw.floorTo(b.market.tickSize));
    this.fill(b, o, qty, fillPrice, 'taker');
  }

  private matchResting(b: SymbolBook, price: number): void {
    for (const o of [...b.resting]) {
      const limit = o.req.price as Dec;
      const lim = limit.toNumber();
      const through = o.req.side === 'buy' ? price < lim : price > lim;
      if (!through || b.budget <= 0) continue;
      const want = o.req.quantity.sub(o.filled);
      let qty = want;
      if (qty.toNumber() > b.budget) qty = Dec.from(b.budget).floorTo(b.market.stepSize);
      if (!qty.isPositive()) continue;
      b.budget -= qty.toNumber();
      this.fill(b, o, qty, limit, 'maker');
    }
  }

  private fill(b: SymbolBook, o: SimOrder, qty: Dec, price: Dec, liquidity: 'maker' | 'taker'): void {
    const { req } = o;
    o.filled = o.filled.add(qty);
    const fee = price.mul(qty).mul(liquidity === 'maker' ? this.makerFee : this.takerFee);
    const fill: Fill = {
      tradeId: `t${++this.tradeSeq}`,
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      price,
      quantity: qty,
      fee,
      feeAsset: b.market.quote,
      liquidity,
      time: this.now,
    };
    const done = o.filled.eq(req.quantity);
    if (done) {
      const i = b.resting.indexOf(o);
      if (i >= 0) b.resting.splice(i, 1);
    }
    this.events?.onFill(fill);
    this.events?.onOrderUpdate({ clientOrderId: req.clientOrderId, symbol: req.symbol, status: done ? 'filled' : 'partially_filled', filledQuantity: o.filled, time: this.now });
  }
}
