/**
 * The emergency close: sell a quantity of one symbol now (spot is long only), whatever it takes.
 * Used by the flatten procedure (flatten.ts), which the runtime's emergency stop and flat shutdown,
 * the emergency-stop Lambda and the risk sweep all run.
 *
 * 1. a market sell of everything;
 * 2. if that failed or left a remainder: an IOC limit `throughPct` (2%) through the book, at
 *    bid x 0.98 rounded down to the tick;
 * 3. if still not closed: thirds, each by market and then, for what is left of it, by aggressive
 *    limit (a full-size order can be refused: above the maximum amount, too big for the book).
 *
 * A remainder below the market minimum (notional at the bid, or the lot step) is dust: reported,
 * not sent. Client ids come from the reason tag (`<tag>X1` .. `<tag>X8`); before sending anything
 * every one of them is looked up on the venue and what those orders sold counts as sold, so a
 * second call with the same tag after a completed close sells nothing. If that check cannot be
 * made, nothing is sent (`aborted`). An order whose outcome cannot be told stops the close: another
 * order could sell twice.
 *
 * The orders go through SafeExchange (`priorOrder`, `placeNow`): tracked, rate limited, retried
 * and resolved like every other order.
 */
import { Dec } from '../core/money.js';
import { DataValidationError, InvalidStateError } from '../core/errors.js';
import type { BookTop, SymbolId } from '../core/types.js';
import type { VenueMarket, VenueOrderRequest } from '../venue/types.js';
import type { PlacedOrder } from '../execution/safeExchange.js';
import { clientOrderId } from '../model/clientOrderId.js';

/** What the emergency close needs of the exchange layer (SafeExchange has all of it). */
export interface EmergencyCloseVenue {
  market(symbol: SymbolId): VenueMarket;
  bookTop(symbol: SymbolId): Promise<BookTop>;
  priorOrder(symbol: SymbolId, clientOrderId: string): Promise<{ readonly filled: Dec } | undefined>;
  placeNow(req: VenueOrderRequest & { readonly quantity: Dec }): Promise<PlacedOrder>;
  /** The default distance through the book, in percent. */
  readonly emergencyThroughPct: number;
}

export interface EmergencyCloseOptions {
  /** The aggressive limit sits this percent through the best bid (default: the venue's `emergencyThroughPct`). */
  readonly throughPct?: number;
  /** Called after every step (for logs). */
  readonly onStep?: (step: EmergencyStep) => void;
}

/** One step of an emergency close. */
export interface EmergencyStep {
  readonly kind: 'market' | 'aggressive_limit';
  readonly part: 'full' | 'third_1' | 'third_2' | 'third_3';
  readonly clientOrderId: string;
  readonly quantity: Dec;
  /** The limit price of an aggressive limit. */
  readonly price?: Dec;
  readonly filled: Dec;
  /** Quote received. */
  readonly proceeds: Dec;
  readonly outcome: 'filled' | 'partial' | 'unfilled' | 'rejected' | 'unknown';
  readonly detail?: string;
}

/** The result of `emergencyClose`. */
export interface EmergencyCloseReport {
  readonly symbol: SymbolId;
  readonly reasonTag: string;
  readonly requested: Dec;
  /** Sold by earlier calls with the same tag (found on the venue before anything was sent). */
  readonly alreadySold: Dec;
  /** Sold by this call. */
  readonly sold: Dec;
  /** Quote received by this call. */
  readonly proceeds: Dec;
  /** proceeds / sold; undefined when nothing was sold. */
  readonly averagePrice: Dec | undefined;
  /** requested - alreadySold - sold. */
  readonly remainder: Dec;
  /** True when the remainder is below the market minimum (notional or lot step): dust, not sent. */
  readonly remainderIsDust: boolean;
  /** Closed: nothing left, or only dust. */
  readonly closed: boolean;
  readonly steps: readonly EmergencyStep[];
  /** Why the close stopped early, if it did (e.g. earlier orders could not be verified). */
  readonly aborted?: string;
}

/** Step ids of the emergency close: 1 market, 2 limit, then market/limit per third. */
const EMERGENCY_STEPS = 8;
const HUNDRED = Dec.from(100);

/** The client order id of emergency-close step `step` (1..8) for `reasonTag`: deterministic, so a retried close finds its own orders. */
export function emergencyClientOrderId(reasonTag: string, step: number): string {
  return clientOrderId(reasonTag, 'exit', step);
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function outcomeOf(o: PlacedOrder, qty: Dec): EmergencyStep['outcome'] {
  if (o.state === 'rejected') return 'rejected';
  if (o.filled.eq(qty)) return 'filled';
  return o.filled.isPositive() ? 'partial' : 'unfilled';
}

/** Sells `quantity` of `symbol` now; see the file comment. Never rejects for venue errors. */
export async function emergencyClose(venue: EmergencyCloseVenue, symbol: SymbolId, quantity: Dec, reasonTag: string, options: EmergencyCloseOptions = {}): Promise<EmergencyCloseReport> {
  const throughPct = options.throughPct ?? venue.emergencyThroughPct;
  let ids: string[] = [];
  const steps: EmergencyStep[] = [];
  let sold = Dec.ZERO;
  let proceeds = Dec.ZERO;
  let alreadySold = Dec.ZERO;
  const used = new Set<number>();
  const report = (aborted?: string, dust = false): EmergencyCloseReport => {
    const remainder = quantity.sub(alreadySold).sub(sold);
    const closed = !remainder.isPositive() || dust;
    return {
      symbol,
      reasonTag,
      requested: quantity,
      alreadySold,
      sold,
      proceeds,
      averagePrice: sold.isPositive() ? proceeds.div(sold) : undefined,
      remainder: remainder.isNegative() ? Dec.ZERO : remainder,
      remainderIsDust: remainder.isPositive() && dust,
      closed,
      steps,
      ...(aborted !== undefined ? { aborted } : {}),
    };
  };
  let market: VenueMarket;
  try {
    if (!quantity.isPositive()) throw new DataValidationError(`emergencyClose: quantity must be positive, got ${quantity.toString()}`);
    if (!(throughPct > 0 && throughPct < 100)) throw new DataValidationError(`emergencyClose: throughPct must be in (0, 100), got ${throughPct}`);
    market = venue.market(symbol);
    ids = Array.from({ length: EMERGENCY_STEPS }, (_, i) => emergencyClientOrderId(reasonTag, i + 1));
    // Earlier calls with this tag: what their orders sold is already sold.
    for (let i = 0; i < ids.length; i++) {
      const prior = await venue.priorOrder(symbol, ids[i] as string);
      if (prior === undefined) continue;
      used.add(i + 1);
      alreadySold = alreadySold.add(prior.filled);
    }
  } catch (e) {
    return report(`could not verify earlier emergency orders, nothing sent: ${describe(e)}`);
  }
  const remaining = (): Dec => quantity.sub(alreadySold).sub(sold);

  /** Dust check at the current bid; the bid is refreshed by the caller. */
  const isDust = (q: Dec, bid: Dec): boolean => {
    const lots = q.floorTo(market.stepSize);
    return !lots.isPositive() || lots.mul(bid).lt(market.minNotional);
  };
  const bidNow = async (): Promise<Dec> => Dec.from((await venue.bookTop(symbol)).bid);
  const factor = HUNDRED.sub(Dec.from(throughPct)).div(HUNDRED);

  /** Runs one step unless its id was used before; returns what it sold. */
  const step = async (n: number, kind: EmergencyStep['kind'], part: EmergencyStep['part'], want: Dec, bid: Dec): Promise<Dec> => {
    const id = ids[n - 1] as string;
    if (used.has(n)) return Dec.ZERO;
    used.add(n);
    const qty = want.floorTo(market.stepSize);
    if (!qty.isPositive()) return Dec.ZERO;
    const price = kind === 'aggressive_limit' ? Dec.max(market.tickSize, bid.mul(factor).floorTo(market.tickSize)) : undefined;
    const placed = await venue.placeNow({ clientOrderId: id, symbol, side: 'sell', type: kind === 'market' ? 'market' : 'ioc', quantity: qty, ...(price ? { price } : {}) });
    // Still open (its end could not be told) or never settled: whether it sold, or still may, is unknown.
    const unknown = placed.state === 'submitted' || placed.state === 'partially_filled' || placed.state === 'unknown' || placed.state === 'pending';
    sold = sold.add(placed.filled);
    proceeds = proceeds.add(placed.quote);
    const s: EmergencyStep = {
      kind,
      part,
      clientOrderId: id,
      quantity: qty,
      ...(price ? { price } : {}),
      filled: placed.filled,
      proceeds: placed.quote,
      outcome: unknown ? 'unknown' : outcomeOf(placed, qty),
      ...(placed.reason !== undefined ? { detail: placed.reason } : {}),
    };
    steps.push(s);
    options.onStep?.(s);
    if (unknown) throw new InvalidStateError(`emergency order ${id}: outcome unknown (${placed.reason ?? 'still open'}); stopping so nothing is sold twice`);
    return placed.filled;
  };

  try {
    let bid = await bidNow();
    if (!remaining().isPositive()) return report();
    if (isDust(remaining(), bid)) return report(undefined, true);
    await step(1, 'market', 'full', remaining(), bid);
    if (!remaining().isPositive()) return report();
    bid = await bidNow();
    if (isDust(remaining(), bid)) return report(undefined, true);
    await step(2, 'aggressive_limit', 'full', remaining(), bid);
    if (!remaining().isPositive()) return report();
    bid = await bidNow();
    if (isDust(remaining(), bid)) return report(undefined, true);
    const total = remaining();
    const third = total.div(Dec.from(3)).floorTo(market.stepSize);
    const parts: { part: EmergencyStep['part']; qty: Dec }[] = isDust(third, bid)
      ? [{ part: 'third_1', qty: total }]
      : [
          { part: 'third_1', qty: third },
          { part: 'third_2', qty: third },
          { part: 'third_3', qty: total.sub(third).sub(third) },
        ];
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k] as { part: EmergencyStep['part']; qty: Dec };
      const want = Dec.min(p.qty, remaining());
      if (!want.isPositive()) break;
      const got = await step(3 + 2 * k, 'market', p.part, want, bid);
      const left = want.sub(got);
      if (left.isPositive()) {
        bid = await bidNow();
        if (!isDust(left, bid)) await step(4 + 2 * k, 'aggressive_limit', p.part, left, bid);
      }
    }
    const rest = remaining();
    return report(undefined, rest.isPositive() && isDust(rest, bid));
  } catch (e) {
    return report(`stopped: ${describe(e)}`);
  }
}
