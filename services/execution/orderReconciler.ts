/**
 * Settling tracked orders from the venue's REST records: an order (leg) is looked up, its trades
 * are read and the fills the stream missed are delivered once (the tracker de-duplicates by trade
 * id), and a final status that waits for fills gets a background catch-up. This is how a
 * disconnect in the middle of a fill loses nothing, and how an order adopted after a restart, or a
 * submit whose outcome stayed unknown, is settled: not found twice, settle time apart, it never
 * reached the venue and ends as cancelled (never resent: the decision behind it is stale).
 *
 * Bounded: at most MAX_TRADE_PAGES pages of trades per order, MAX_BACKGROUND_CATCH_UPS catch-ups
 * at once and one per order.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { VenueOrder } from '../venue/types.js';
import type { OrderStatus } from '../model/orders.js';
import { describeError, type GuardedVenue } from './guardedVenue.js';
import type { OrderTracker, Tracked } from './orderTracker.js';

/** Pages of fetchMyTrades read by one reconciliation (100 trades a page on MEXC). */
const MAX_TRADE_PAGES = 5;
const TRADE_PAGE = 100;
/** Trades are fetched from this long before the order was tracked (venue and local clocks differ). */
export const RECONCILE_SLACK_MS = 60_000;
/** Background catch-ups (a final status waiting for its fills) running at once. */
const MAX_BACKGROUND_CATCH_UPS = 32;

export type ReconcilerEvent =
  | { readonly type: 'unknown_resolved'; readonly clientOrderId: string; readonly resolution: 'found' | 'not_found' | 'unresolved'; readonly detail?: string }
  | { readonly type: 'catch_up_failed'; readonly clientOrderId: string; readonly error: string };

export interface OrderReconcilerHost {
  readonly tracker: OrderTracker;
  readonly venue: GuardedVenue;
  sleep(ms: number): Promise<void>;
  /** How long the stream gets to deliver what REST already shows (also between the two lookups). */
  readonly settleMs: number;
  emit(e: ReconcilerEvent): void;
  /** An unknown outcome found never to have reached the venue (for the stats). */
  countNotFound(): void;
}

/** See the file comment. */
export class OrderReconciler {
  private catchUps = 0;

  constructor(private readonly host: OrderReconcilerHost) {}

  lookup(symbol: SymbolId, id: string): Promise<VenueOrder | undefined> {
    return this.host.venue.fetchOrderByClientId(symbol, id);
  }

  /**
   * A final status is waiting for fills (or a market order still looks open): give the stream
   * `settleMs` to deliver them, then ask REST.
   */
  scheduleCatchUp(root: Tracked): void {
    if (root.catchUp || this.catchUps >= MAX_BACKGROUND_CATCH_UPS) return;
    root.catchUp = true;
    this.catchUps++;
    const { tracker } = this.host;
    const run = async (): Promise<void> => {
      await this.host.sleep(this.host.settleMs);
      for (const leg of tracker.legsOf(root)) {
        const marketOpen = leg.type === 'market' && (leg.order.state === 'submitted' || leg.order.state === 'partially_filled');
        if (marketOpen || leg.order.fillSum.lt(leg.order.filledQuantity)) await this.reconcileLeg(leg);
      }
      tracker.report(root);
    };
    void run()
      .catch((e: unknown) => this.host.emit({ type: 'catch_up_failed', clientOrderId: root.id, error: describeError(e) }))
      .finally(() => {
        root.catchUp = false;
        this.catchUps--;
      });
  }

  /** Fetches one leg and its trades from REST, delivers the missed fills, applies the venue's view. */
  async reconcileLeg(leg: Tracked): Promise<{ delivered: number; status: OrderStatus | undefined }> {
    const { tracker } = this.host;
    let vo = await this.lookup(leg.symbol, leg.id);
    if (!vo && leg.order.state === 'unknown' && !leg.busy) {
      // An unknown outcome the submit could not settle. Asked twice, settle time apart, like the
      // submit does; still not there means it never reached the venue. It is not sent now (the
      // decision behind it is stale): it ends as cancelled, so the executor lets it go.
      await this.host.sleep(this.host.settleMs);
      vo = await this.lookup(leg.symbol, leg.id);
      if (!vo && leg.order.state === 'unknown') {
        this.host.countNotFound();
        tracker.apply(leg, { type: 'resolved', status: 'not_found', filledQuantity: Dec.ZERO });
        leg.reason = 'never reached the venue (not found on reconciliation); not resent';
        leg.inDoubt = false;
        tracker.apply(leg, { type: 'cancelled', reason: leg.reason });
        this.host.emit({ type: 'unknown_resolved', clientOrderId: leg.id, resolution: 'not_found', detail: leg.reason });
      }
    }
    const exchangeId = vo?.exchangeOrderId ?? leg.order.exchangeOrderId;
    const delivered = await this.deliverTrades(leg.symbol, leg.id, exchangeId, leg.createdAt - RECONCILE_SLACK_MS);
    if (vo) tracker.applyVenueOrder(leg, vo);
    return { delivered, status: vo?.status };
  }

  /** Delivers the account's trades of one order from `since` (paged, bounded); returns how many were new. */
  async deliverTrades(symbol: SymbolId, clientOrderId: string, exchangeOrderId: string | undefined, since: number): Promise<number> {
    const { tracker, venue } = this.host;
    let delivered = 0;
    let from = since;
    for (let page = 0; page < MAX_TRADE_PAGES; page++) {
      const trades = await venue.fetchMyTrades(symbol, from, TRADE_PAGE);
      for (const f of trades) {
        if (f.clientOrderId !== clientOrderId && (exchangeOrderId === undefined || f.exchangeOrderId !== exchangeOrderId)) continue;
        const before = tracker.counters.fillsDelivered;
        // A REST fill may lack the client id (MEXC myTrades fills it only for orders that had one).
        tracker.acceptFill(f.clientOrderId === clientOrderId ? f : { ...f, clientOrderId });
        delivered += tracker.counters.fillsDelivered - before;
      }
      const last = trades[trades.length - 1];
      if (trades.length < TRADE_PAGE || !last || last.time <= from) break;
      from = last.time;
    }
    return delivered;
  }
}
