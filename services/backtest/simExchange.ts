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
 *   at the current price when the market gapped through it (a candle's open is a gap from the
 *   previous close: no trade happened in between); then slippage.
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

const MAX_SLIPPAGE_BPS = Dec.from(100);
const HUNDRED = Dec.from(100);
/** One in basis points: a price moved by `bps` is price x (BPS ± bps) / BPS. */
const BPS = Dec.from(10_000);

interface SimOrder {
  req: OrderRequest;
  /** The limit price as a float, for cheap comparison on every tick. */
  limit: number;
  exchangeOrderId: string;
  arrival: number;
  filled: Dec;
}

interface SymbolBook {
  market: MarketInfo;
  price: number | null;
  prevPrice: number | null;
  /**
   * The next tick is a candle's open. The move from the previous close to the open is a jump (no
   * trade happened in between), so a stop crossed there fills at the open, not at the stop.
   */
  atOpen: boolean;
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
  private readonly slippageBps: Dec;
  private readonly impactBps: Dec;
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
      this.books.set(m.symbol, { market: m, price: null, prevPrice: null, atOpen: false, candleVolume: 0, budget: 0, pendingMarket: [], resting: [] });
    this.makerFee = Dec.from(opts.makerFeePct).div(Dec.from(100));
    this.takerFee = Dec.from(opts.takerFeePct).div(Dec.from(100));
    this.slippageBps = Dec.from(opts.slippageBps);
    this.impactBps = Dec.from(opts.impactBpsPerPctVolume);
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
    b.atOpen = true;
    b.budget = (candle.volume * this.opts.participationPct) / 100;
  }

  /** Moves the market to `price` at `time`, filling what that price reaches. */
  tick(symbol: SymbolId, price: number, time: number): void {
    this.now = time;
    const b = this.book(symbol);
    // Fix: the previous candle's close used to count as the open's predecessor, so a candle that
    // opened below a sell stop filled the stop at the stop price (above any price traded), even
    // for a position bought at that very open. A candle's open is a gap from the last close.
    b.prevPrice = b.atOpen ? null : b.price;
    b.atOpen = false;
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
    // Fix: a duplicate is refused in the REST answer only, as on MEXC. An order update under that id
    // would be read by the receiver as the end of the live order that owns the id.
    if (this.seen.has(req.clientOrderId)) return { clientOrderId: req.clientOrderId, exchangeOrderId, status: 'rejected', reason: 'duplicate client order id' };
    if (!req.quantity.isPositive() || !req.quantity.floorTo(b.market.stepSize).eq(req.quantity)) return reject('quantity is not a positive multiple of the lot step');
    if (req.type === 'limit' && (!req.price || !req.price.isPositive())) return reject('limit order without a positive price');
    const refPrice = req.price ?? (b.price !== null ? Dec.from(b.price) : null);
    if (refPrice && req.quantity.mul(refPrice).lt(b.market.minNotional)) return reject('notional below the minimum');
    this.seen.add(req.clientOrderId);
    this.log.push({ time: this.now, clientOrderId: req.clientOrderId, type: req.type, side: req.side });
    // Dec.toNumber() gives the same float the candle parser made of the same decimal, so a limit of
    // 590.33 never counts a high of exactly 590.33 as traded through.
    const order: SimOrder = { req, limit: req.price ? req.price.toNumber() : Number.NaN, exchangeOrderId, arrival: this.now + this.opts.latencyMs, filled: Dec.ZERO };
    if (req.type === 'market') {
      if (req.stopPrice && b.price !== null) this.fillMarket(b, order, b.price);
      else b.pendingMarket.push(order);
      return { clientOrderId: req.clientOrderId, exchangeOrderId, status: order.filled.eq(req.quantity) ? 'filled' : 'new' };
    }
    if (req.postOnly && b.price !== null && req.price) {
      const crosses = req.side === 'buy' ? order.limit >= b.price : order.limit <= b.price;
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

  /**
   * Slippage in bps (see the file comment), exact. It used to be a float fraction applied to a float
   * price: the product could land an ulp beyond a tick (2.4 x 0.999 = 2.3975999999999997) and the
   * rounding against the order then cost a whole extra tick.
   */
  private slippage(b: SymbolBook, quantity: Dec): Dec {
    const pctOfVolume = b.candleVolume > 0 ? quantity.mul(HUNDRED).div(Dec.from(b.candleVolume)) : HUNDRED;
    return Dec.min(MAX_SLIPPAGE_BPS, this.slippageBps.add(this.impactBps.mul(pctOfVolume)));
  }

  private fillMarket(b: SymbolBook, o: SimOrder, price: number): void {
    const { req } = o;
    let base: Dec | null = null;
    if (req.stopPrice) {
      const stop = req.stopPrice.toNumber();
      const prev = b.prevPrice;
      // Continuous crossing: the previous price was on the other side of the stop.
      const crossed = prev !== null && (req.side === 'sell' ? prev >= stop && price <= stop : prev <= stop && price >= stop);
      if (crossed) base = req.stopPrice;
    }
    base ??= Dec.from(price);
    const qty = req.quantity.sub(o.filled);
    const bps = this.slippage(b, qty);
    const raw = base.mul(req.side === 'buy' ? BPS.add(bps) : BPS.sub(bps)).div(BPS);
    // Round against the order: a buy pays up to the next tick, a sell receives down to the tick.
    const fillPrice = req.side === 'buy' ? raw.ceilTo(b.market.tickSize) : Dec.max(b.market.tickSize, raw.floorTo(b.market.tickSize));
    this.fill(b, o, qty, fillPrice, 'taker');
  }

  private matchResting(b: SymbolBook, price: number): void {
    for (const o of b.resting.length === 1 ? b.resting : [...b.resting]) {
      const limit = o.req.price as Dec;
      const lim = o.limit;
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
