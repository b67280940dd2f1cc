/**
 * The FIFO tax ledger built from fills: every buy opens a lot, every sell disposes of the oldest
 * lots first (a position that closes in parts disposes in parts; one sell can span several lots,
 * and one lot several sells). Exact decimals throughout (services/core/money.ts): a partial
 * disposal takes `cost x part / lot quantity` of the lot's remaining cost, rounded to 18 places,
 * and the last part of a lot takes whatever cost remains, so the basis disposed of a lot always
 * sums to its cost exactly; proceeds and fees of a sell are split over its lots the same way.
 *
 * Fees, valued in the quote asset at the fill:
 * - in the quote asset: added to a buy's cost; on a sell, the row's fee;
 * - in the base asset: on a buy, the lot holds quantity - fee (the fee is part of its cost); on a
 *   sell, fee units leave the lots too, and are valued at the fill's price (proceeds include them,
 *   so gain = price x quantity sold - basis);
 * - in another asset (MX): valued with the price source at the fill's time (the MX/quote close of
 *   that minute); added to a buy's cost or taken as a sell's fee. An asset with no price is valued
 *   0 and listed as an issue. The MX spent is not itself lotted: this ledger tracks the traded
 *   pairs only.
 *
 * gain = proceeds - cost basis - fee, per row. A sell with no lot left (a holding that predates the
 * fills given) gives a row with lot `UNMATCHED` and zero basis, and an issue.
 */
import { Dec } from '../core/money.js';
import { splitSymbol } from '../core/types.js';
import type { FillRecord } from '../state/types.js';

/** The price of an asset in a quote asset at a time, for fees in a third asset. */
export interface PriceSource {
  priceAt(asset: string, quote: string, time: number): Promise<Dec | undefined>;
}

export interface Lot {
  readonly id: string;
  readonly symbol: string;
  readonly asset: string;
  readonly quote: string;
  readonly acquiredAt: number;
  readonly quantity: Dec;
  readonly cost: Dec;
}

export interface DisposalRow {
  /** `<symbol>:<sell trade id>:<n>`: one row per lot a sell took from. */
  readonly id: string;
  readonly symbol: string;
  readonly asset: string;
  readonly quote: string;
  readonly lotId: string;
  readonly acquiredAt: number | null;
  readonly disposedAt: number;
  readonly quantity: Dec;
  readonly proceeds: Dec;
  readonly costBasis: Dec;
  readonly fee: Dec;
  readonly gain: Dec;
  readonly sellTradeId: string;
}

export interface TaxIssue {
  readonly kind: 'unmatched_sell' | 'unvalued_fee' | 'bad_fill';
  readonly tradeId: string;
  readonly symbol: string;
  readonly detail: string;
}

export interface FifoResult {
  /** Disposals whose time falls in [from, to). */
  readonly rows: readonly DisposalRow[];
  /** Lots opened in [from, to). */
  readonly acquisitions: readonly Lot[];
  /** Lots (what remains of them) still held at `to`. */
  readonly openLots: readonly Lot[];
  readonly issues: readonly TaxIssue[];
}

interface OpenLot {
  id: string;
  symbol: string;
  asset: string;
  quote: string;
  acquiredAt: number;
  qty: Dec;
  cost: Dec;
}

/** `a x part / whole`, or `a` itself when part is the whole (no rounding at the last piece). */
function share(a: Dec, part: Dec, whole: Dec): Dec {
  return part.eq(whole) ? a : a.mul(part).div(whole);
}

/**
 * Builds the ledger from `fills` (any order; every fill since the first holding, so that lots
 * opened before the year are there) and reports the disposals and acquisitions in [from, to).
 */
export async function buildFifoLedger(fills: readonly FillRecord[], range: { from: number; to: number }, prices: PriceSource): Promise<FifoResult> {
  const sorted = [...fills].filter((f) => f.time < range.to).sort((a, b) => a.time - b.time || (a.tradeId < b.tradeId ? -1 : a.tradeId > b.tradeId ? 1 : 0));
  const lots = new Map<string, OpenLot[]>();
  const rows: DisposalRow[] = [];
  const acquisitions: Lot[] = [];
  const issues: TaxIssue[] = [];
  for (const f of sorted) {
    let pair: { base: string; quote: string };
    try {
      pair = splitSymbol(f.symbol);
    } catch {
      issues.push({ kind: 'bad_fill', tradeId: f.tradeId, symbol: f.symbol, detail: `cannot tell the base and quote of ${f.symbol}` });
      continue;
    }
    const { base, quote } = pair;
    if (!f.quantity.isPositive() || !f.price.isPositive() || f.fee.isNegative()) {
      issues.push({ kind: 'bad_fill', tradeId: f.tradeId, symbol: f.symbol, detail: `quantity ${f.quantity.toString()}, price ${f.price.toString()}, fee ${f.fee.toString()}` });
      continue;
    }
    const notional = f.price.mul(f.quantity);
    // The fee in the quote asset, and how many base units it takes (base fees only).
    let feeQuote = Dec.ZERO;
    let feeBase = Dec.ZERO;
    if (f.feeAsset === quote) feeQuote = f.fee;
    else if (f.feeAsset === base) {
      feeBase = f.fee;
      feeQuote = f.fee.mul(f.price);
    } else if (!f.fee.isZero()) {
      const px = await prices.priceAt(f.feeAsset, quote, f.time);
      if (px) feeQuote = f.fee.mul(px);
      else issues.push({ kind: 'unvalued_fee', tradeId: f.tradeId, symbol: f.symbol, detail: `fee ${f.fee.toString()} ${f.feeAsset}: no ${f.feeAsset}${quote} price at ${new Date(f.time).toISOString()}; valued 0` });
    }
    let queue = lots.get(base);
    if (!queue) lots.set(base, (queue = []));
    if (f.side === 'buy') {
      const lot: OpenLot = { id: `${f.symbol}:${f.tradeId}`, symbol: f.symbol, asset: base, quote, acquiredAt: f.time, qty: f.quantity.sub(feeBase), cost: f.feeAsset === base ? notional : notional.add(feeQuote) };
      if (!lot.qty.isPositive()) {
        issues.push({ kind: 'bad_fill', tradeId: f.tradeId, symbol: f.symbol, detail: 'the base fee is the whole quantity' });
        continue;
      }
      queue.push(lot);
      if (f.time >= range.from) acquisitions.push({ id: lot.id, symbol: lot.symbol, asset: base, quote, acquiredAt: lot.acquiredAt, quantity: lot.qty, cost: lot.cost });
      continue;
    }
    // A sell: fee units in the base asset leave the lots as well.
    const total = f.quantity.add(feeBase);
    const proceeds = f.price.mul(total);
    const fee = feeQuote;
    let left = total;
    let proceedsLeft = proceeds;
    let feeLeft = fee;
    let n = 0;
    const emit = (lotId: string, acquiredAt: number | null, qty: Dec, basis: Dec): void => {
      const p = share(proceedsLeft, qty, left);
      const fe = share(feeLeft, qty, left);
      proceedsLeft = proceedsLeft.sub(p);
      feeLeft = feeLeft.sub(fe);
      left = left.sub(qty);
      if (f.time >= range.from) {
        rows.push({ id: `${f.symbol}:${f.tradeId}:${n}`, symbol: f.symbol, asset: base, quote, lotId, acquiredAt, disposedAt: f.time, quantity: qty, proceeds: p, costBasis: basis, fee: fe, gain: p.sub(basis).sub(fe), sellTradeId: f.tradeId });
      }
      n++;
    };
    while (left.isPositive() && queue.length > 0) {
      const lot = queue[0]!;
      const take = Dec.min(lot.qty, left);
      const basis = share(lot.cost, take, lot.qty);
      lot.qty = lot.qty.sub(take);
      lot.cost = lot.cost.sub(basis);
      if (lot.qty.isZero()) queue.shift();
      emit(lot.id, lot.acquiredAt, take, basis);
    }
    if (left.isPositive()) {
      issues.push({ kind: 'unmatched_sell', tradeId: f.tradeId, symbol: f.symbol, detail: `${left.toString()} ${base} sold with no lot left (acquired before the fills given?)` });
      emit('UNMATCHED', null, left, Dec.ZERO);
    }
  }
  const openLots: Lot[] = [];
  for (const q of lots.values()) for (const l of q) openLots.push({ id: l.id, symbol: l.symbol, asset: l.asset, quote: l.quote, acquiredAt: l.acquiredAt, quantity: l.qty, cost: l.cost });
  return { rows, acquisitions, openLots, issues };
}
