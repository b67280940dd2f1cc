/**
 * The account as the core books it: quote cash and base holdings, in exact decimals.
 *
 * Spot only: buying spends quote and adds base; selling does the reverse. Fees are booked in the
 * asset the venue charged them in (MEXC charges spot fees in the quote asset).
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { Fill } from '../model/orders.js';

export class Portfolio {
  /** Quote balance, including what open buy orders have reserved (see `freeCash`). */
  private cashRaw: Dec;
  private readonly holdings = new Map<SymbolId, Dec>();
  /** Float mirror of `holdings`, so equity can be sampled every candle without decimal work. */
  private readonly holdingsApprox = new Map<SymbolId, number>();
  /** Last price per symbol, in a box so a mark is one field write (marks come four times a candle). */
  private readonly marks = new Map<SymbolId, { price: number }>();
  private lastMarked: SymbolId | undefined;
  private lastBox: { price: number } | undefined;
  /** Quote reserved by open buy orders, by client order id. */
  private readonly reserved = new Map<string, Dec>();
  private feesPaid = Dec.ZERO;
  /** Float mirror of `cashRaw`, for the same reason as `holdingsApprox`. */
  private cashApprox: number;

  constructor(
    readonly quoteAsset: string,
    initialCash: Dec,
  ) {
    if (initialCash.isNegative()) throw new RangeError('initial cash must not be negative');
    this.cashRaw = initialCash;
    this.cashApprox = initialCash.toNumber();
  }

  /** Quote balance including reservations. */
  get cash(): Dec {
    return this.cashRaw;
  }

  /** Quote that can be committed to a new order. */
  get freeCash(): Dec {
    let r = this.cashRaw;
    for (const v of this.reserved.values()) r = r.sub(v);
    return r;
  }

  get fees(): Dec {
    return this.feesPaid;
  }

  holding(symbol: SymbolId): Dec {
    return this.holdings.get(symbol) ?? Dec.ZERO;
  }

  /**
   * Sets one holding to what the venue reports: the position's quantity left the account outside
   * the runtime (its sale is not one of our fills, so cash is not touched here; a restart adopts the
   * venue's balances). Rejects a negative quantity.
   */
  setHolding(symbol: SymbolId, quantity: Dec): void {
    if (quantity.isNegative()) throw new RangeError('a holding must not be negative');
    this.holdings.set(symbol, quantity);
    this.holdingsApprox.set(symbol, quantity.toNumber());
  }

  /** Records the latest price of a symbol, used to mark holdings to market. */
  mark(symbol: SymbolId, price: number): void {
    if (symbol === this.lastMarked && this.lastBox) {
      this.lastBox.price = price;
      return;
    }
    let box = this.marks.get(symbol);
    if (!box) this.marks.set(symbol, (box = { price }));
    else box.price = price;
    this.lastMarked = symbol;
    this.lastBox = box;
  }

  lastPrice(symbol: SymbolId): number | undefined {
    return this.marks.get(symbol)?.price;
  }

  /**
   * Replaces cash and holdings with the venue's balances (free + locked), keeping reservations,
   * marks and the fee tally: after a restart the exchange is the truth, and the fills replayed to
   * rebuild positions must not count twice.
   */
  resetBalances(cash: Dec, holdings: ReadonlyMap<SymbolId, Dec>): void {
    if (cash.isNegative()) throw new RangeError('cash must not be negative');
    this.cashRaw = cash;
    this.cashApprox = cash.toNumber();
    this.holdings.clear();
    this.holdingsApprox.clear();
    for (const [s, q] of holdings) {
      this.holdings.set(s, q);
      this.holdingsApprox.set(s, q.toNumber());
    }
  }

  /** Reserves quote for an open buy order so that concurrent entries cannot overspend. */
  reserve(clientOrderId: string, amount: Dec): void {
    this.reserved.set(clientOrderId, amount);
  }

  release(clientOrderId: string): void {
    this.reserved.delete(clientOrderId);
  }

  /** Books a fill: moves quote and base, and the fee. */
  applyFill(fill: Fill, base: string): void {
    const notional = fill.price.mul(fill.quantity);
    const held = this.holding(fill.symbol);
    if (fill.side === 'buy') {
      this.cashRaw = this.cashRaw.sub(notional);
      this.holdings.set(fill.symbol, held.add(fill.quantity));
      const r = this.reserved.get(fill.clientOrderId);
      if (r) this.reserved.set(fill.clientOrderId, Dec.max(Dec.ZERO, r.sub(notional)));
    } else {
      this.cashRaw = this.cashRaw.add(notional);
      this.holdings.set(fill.symbol, held.sub(fill.quantity));
    }
    if (fill.feeAsset === this.quoteAsset) this.cashRaw = this.cashRaw.sub(fill.fee);
    else if (fill.feeAsset === base) this.holdings.set(fill.symbol, this.holding(fill.symbol).sub(fill.fee));
    this.feesPaid = this.feesPaid.add(fill.feeAsset === this.quoteAsset ? fill.fee : fill.fee.mul(fill.price));
    this.holdingsApprox.set(fill.symbol, this.holding(fill.symbol).toNumber());
    this.cashApprox = this.cashRaw.toNumber();
    // A holding with no market price yet is valued at its fill, not at zero (equity would look
    // like a loss of the whole position, and the risk engine would halt on it).
    if (!this.marks.has(fill.symbol)) this.mark(fill.symbol, fill.price.toNumber());
  }

  /** Market value of a symbol's holding at its last mark. */
  notional(symbol: SymbolId): Dec {
    const p = this.marks.get(symbol)?.price;
    const q = this.holding(symbol);
    if (p === undefined || q.isZero()) return Dec.ZERO;
    return q.mul(Dec.from(p));
  }

  /** Cash plus every holding marked to market. */
  equity(): Dec {
    let e = this.cashRaw;
    for (const s of this.holdings.keys()) e = e.add(this.notional(s));
    return e;
  }

  /** Same as equity() as a float, cheap enough to sample every candle. */
  equityNumber(): number {
    let e = this.cashApprox;
    for (const [s, q] of this.holdingsApprox) {
      const p = this.marks.get(s)?.price;
      if (p !== undefined && q !== 0) e += q * p;
    }
    return e;
  }
}
