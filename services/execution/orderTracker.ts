/**
 * The orders SafeExchange has placed or adopted, and what the executor is told about them.
 *
 * - Every order is tracked with the state machine of orderStateMachine.ts; an illegal transition
 *   is counted and reported through `onEvent`, never thrown into the caller.
 * - A stuck order's replacements are legs of the original (the root): the executor knows only the
 *   root's client id, and sees the legs' fills and status under it, as one order.
 * - Fills are de-duplicated by trade id (stream and REST reconciliation can both deliver one).
 * - A final status is held back until the fills it reports have been delivered, because the
 *   executor books a finished entry from the fills it has seen; `onFillsMissing` is called so the
 *   owner can fetch them.
 * - Bounded: at most `maxTrackedOrders` orders (the oldest ended root is forgotten first) and
 *   `maxRememberedTradeIds` trade ids.
 *
 * No venue calls here: the tracker only applies what the venue reported.
 */
import { Dec } from '../core/money.js';
import { DataValidationError, InvalidStateError } from '../core/errors.js';
import type { SymbolId } from '../core/types.js';
import type { VenueFill, VenueOrder, VenueOrderType } from '../venue/types.js';
import type { Fill, OrderAck, OrderStatus } from '../model/orders.js';
import type { ExchangeEvents } from './types.js';
import type { OrderErrorKind } from './exchangeErrors.js';
import { isTerminal, newOrder, transition, type Order, type OrderEvent } from './orderStateMachine.js';

/** One tracked order: a root (what the executor placed) or one of its replacement legs. */
export interface Tracked {
  order: Order;
  readonly id: string;
  readonly symbol: SymbolId;
  readonly side: 'buy' | 'sell';
  readonly type: VenueOrderType;
  /** The id the executor knows: the original order's, also for its replacements. */
  readonly rootId: string;
  /** Root only: the replacement legs in order (ids). */
  readonly legs: string[];
  /** Placement time; an adopted order's comes from the journal (fills are looked up from it). */
  createdAt: number;
  /** Last placement or fill (local clock): what the stuck detection measures from. */
  lastActivityAt: number;
  /** Quote value of the fills delivered. */
  fillQuote: Dec;
  /** The latest venue report's filled quote (MEXC cummulativeQuoteQty). */
  venueQuote: Dec | undefined;
  /**
   * The venue's time of the latest report or fill: order updates carry it, so the executor books
   * venue time (a replay at 60x, or a late report, would otherwise get the local clock's time).
   */
  venueTime: number | undefined;
  /** Root only: the status last reported to the executor. */
  reported: OrderStatus | undefined;
  /** Why it was rejected or is in doubt, for people. */
  reason: string | undefined;
  /** Why it was rejected, for code (set with a rejection). */
  errorKind: OrderErrorKind | undefined;
  /** `reason` says the outcome is unknown: the venue's next report about the order settles it. */
  inDoubt: boolean;
  /** A submit or a stuck-order replacement is running: not checked for being stuck, not evicted. */
  busy: boolean;
  /** Root only: a replacement is running, so the cancelled leg's end is not the order's end. */
  replacing: boolean;
  /** Root only: the submit or replacement in progress; a cancel waits for it (bounded by its own retries). */
  inflight: Promise<void> | undefined;
  catchUp: boolean;
}

/** What the tracker reports (a subset of SafeExchangeEvent). */
export type TrackerEvent =
  | { readonly type: 'illegal_transition'; readonly clientOrderId: string; readonly event: OrderEvent['type']; readonly message: string }
  | { readonly type: 'duplicate_fill'; readonly clientOrderId: string; readonly tradeId: string }
  | { readonly type: 'stale_report'; readonly clientOrderId: string; readonly detail: string };

export interface TrackerCounters {
  illegalTransitions: number;
  staleReports: number;
  fillsDelivered: number;
  duplicateFillsDropped: number;
}

export interface OrderTrackerDeps {
  now(): number;
  onEvent(e: TrackerEvent): void;
  /** A root's final status waits for fills the venue reported and the stream has not delivered. */
  onFillsMissing(root: Tracked): void;
}

export interface OrderTrackerOptions {
  readonly maxTrackedOrders: number;
  readonly maxRememberedTradeIds: number;
}

/** The executor's view of an order: status as reported to it. */
export function statusOf(o: Order): OrderStatus {
  switch (o.state) {
    case 'pending':
    case 'unknown':
    case 'submitted':
      return 'new';
    default:
      return o.state;
  }
}

export function isOpen(o: Order): boolean {
  return !isTerminal(o.state);
}

/** See the file comment. */
export class OrderTracker {
  /** Every tracked order (roots and replacement legs) by client order id, oldest first. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly byExchangeId = new Map<string, string>();
  /** Trade ids delivered (`symbol:tradeId`), oldest first, bounded. */
  private readonly seenTrades = new Set<string>();
  private receiver: ExchangeEvents | undefined;
  readonly counters: TrackerCounters = { illegalTransitions: 0, staleReports: 0, fillsDelivered: 0, duplicateFillsDropped: 0 };

  constructor(
    private readonly deps: OrderTrackerDeps,
    private readonly opts: OrderTrackerOptions,
  ) {}

  /** The executor's receiver of fills and order updates. */
  subscribe(events: ExchangeEvents): void {
    this.receiver = events;
  }

  get size(): number {
    return this.tracked.size;
  }

  get(id: string): Tracked | undefined {
    return this.tracked.get(id);
  }

  has(id: string): boolean {
    return this.tracked.has(id);
  }

  /** Tracked orders, oldest first. */
  values(): IterableIterator<Tracked> {
    return this.tracked.values();
  }

  /** Starts tracking an order. @throws InvalidStateError when the id is tracked or the bound is reached. */
  track(id: string, rootId: string, symbol: SymbolId, side: 'buy' | 'sell', type: VenueOrderType, quantity: Dec): Tracked {
    if (this.tracked.has(id)) throw new InvalidStateError(`order ${id} is already tracked`);
    if (this.tracked.size >= this.opts.maxTrackedOrders) this.evict();
    if (this.tracked.size >= this.opts.maxTrackedOrders) {
      throw new InvalidStateError(`cannot track order ${id}: ${this.tracked.size} orders are open (maxTrackedOrders)`);
    }
    const now = this.deps.now();
    const t: Tracked = {
      order: newOrder(id, quantity),
      id,
      symbol,
      side,
      type,
      rootId,
      legs: [],
      createdAt: now,
      lastActivityAt: now,
      fillQuote: Dec.ZERO,
      venueQuote: undefined,
      venueTime: undefined,
      reported: undefined,
      reason: undefined,
      errorKind: undefined,
      inDoubt: false,
      busy: false,
      replacing: false,
      inflight: undefined,
      catchUp: false,
    };
    this.tracked.set(id, t);
    return t;
  }

  forget(t: Tracked): void {
    this.tracked.delete(t.id);
    if (t.order.exchangeOrderId !== undefined) this.byExchangeId.delete(t.order.exchangeOrderId);
  }

  rootOf(t: Tracked): Tracked {
    return this.tracked.get(t.rootId) ?? t;
  }

  legsOf(root: Tracked): Tracked[] {
    const out = [root];
    for (const id of root.legs) {
      const l = this.tracked.get(id);
      if (l) out.push(l);
    }
    return out;
  }

  /** The leg that is live now: the last replacement, or the root itself. */
  activeLeg(root: Tracked): Tracked | undefined {
    const legs = this.legsOf(root);
    return legs[legs.length - 1];
  }

  /** By client id, or by the venue's id when a report lacks the client id. */
  find(clientOrderId: string, exchangeOrderId: string | undefined): Tracked | undefined {
    const t = clientOrderId.length > 0 ? this.tracked.get(clientOrderId) : undefined;
    if (t || exchangeOrderId === undefined) return t;
    const id = this.byExchangeId.get(exchangeOrderId);
    return id !== undefined ? this.tracked.get(id) : undefined;
  }

  /** Applies a state-machine event; an illegal one is counted and reported, never thrown. */
  apply(t: Tracked, event: OrderEvent): boolean {
    try {
      t.order = transition(t.order, event);
      if (t.order.exchangeOrderId !== undefined) this.byExchangeId.set(t.order.exchangeOrderId, t.id);
      return true;
    } catch (e) {
      if (!(e instanceof InvalidStateError || e instanceof DataValidationError)) throw e;
      this.counters.illegalTransitions++;
      this.deps.onEvent({ type: 'illegal_transition', clientOrderId: t.id, event: event.type, message: e.message });
      return false;
    }
  }

  /** Applies a venue report (ack, lookup, cancel reply, stream update), skipping stale ones. */
  applyVenueOrder(t: Tracked, vo: VenueOrder): void {
    if (vo.filledQuantity.lt(t.order.filledQuantity) || (isTerminal(t.order.state) && !isTerminal(vo.status === 'new' ? 'submitted' : vo.status))) {
      // Older than what we know (a submit's reply overtaken by stream fills): nothing new.
      this.counters.staleReports++;
      this.deps.onEvent({ type: 'stale_report', clientOrderId: t.id, detail: `venue says ${vo.status} with ${vo.filledQuantity.toString()} filled; tracked ${t.order.state} with ${t.order.filledQuantity.toString()}` });
      return;
    }
    if (this.apply(t, { type: 'resolved', status: vo.status, filledQuantity: vo.filledQuantity, exchangeOrderId: vo.exchangeOrderId })) {
      t.venueQuote = vo.filledQuote;
      if (Number.isFinite(vo.updateTime) && vo.updateTime > 0) t.venueTime = Math.max(t.venueTime ?? 0, vo.updateTime);
      // The venue has it: an earlier "outcome unknown" no longer describes the order.
      if (t.inDoubt) {
        t.reason = undefined;
        t.inDoubt = false;
      }
    }
  }

  /** Takes one fill (stream or REST): once per trade id, a replacement's under the root's client id. */
  acceptFill(vf: VenueFill): void {
    const key = `${vf.symbol}:${vf.tradeId}`;
    const t = this.find(vf.clientOrderId, vf.exchangeOrderId);
    const id = t?.id ?? vf.clientOrderId;
    if (this.seenTrades.has(key) || (t !== undefined && t.order.tradeIds.includes(vf.tradeId))) {
      this.counters.duplicateFillsDropped++;
      this.deps.onEvent({ type: 'duplicate_fill', clientOrderId: id, tradeId: vf.tradeId });
      return;
    }
    this.seenTrades.add(key);
    if (this.seenTrades.size > this.opts.maxRememberedTradeIds) {
      const oldest = this.seenTrades.values().next();
      if (oldest.done !== true) this.seenTrades.delete(oldest.value);
    }
    const root = t ? this.rootOf(t) : undefined;
    if (t) {
      this.apply(t, { type: 'fill', tradeId: vf.tradeId, quantity: vf.quantity });
      t.fillQuote = t.fillQuote.add(vf.price.mul(vf.quantity));
      if (Number.isFinite(vf.time) && vf.time > 0) t.venueTime = Math.max(t.venueTime ?? 0, vf.time);
      t.lastActivityAt = this.deps.now();
    }
    // Delivered even when the state machine objected: the fill happened, and the books must show it.
    const fill: Fill = {
      tradeId: vf.tradeId,
      clientOrderId: root?.id ?? id,
      symbol: vf.symbol,
      side: vf.side,
      price: vf.price,
      quantity: vf.quantity,
      fee: vf.fee,
      feeAsset: vf.feeAsset,
      liquidity: vf.liquidity,
      time: vf.time,
    };
    this.counters.fillsDelivered++;
    this.receiver?.onFill(fill);
    if (root) this.report(root);
  }

  /**
   * What the executor should see of a root order: its status across its legs and the fills
   * delivered, or undefined while a final status waits for fills the venue reported but we have
   * not delivered yet.
   */
  visible(root: Tracked): { status: OrderStatus; filled: Dec } | undefined {
    const legs = this.legsOf(root);
    let fills = Dec.ZERO;
    let venue = Dec.ZERO;
    for (const l of legs) {
      fills = fills.add(l.order.fillSum);
      venue = venue.add(l.order.filledQuantity);
    }
    const last = legs[legs.length - 1] as Tracked;
    if (root.replacing || isOpen(last.order)) {
      // Open, or between a cancelled leg and its replacement: open as far as the executor is concerned.
      return { status: fills.isPositive() || last.order.state === 'partially_filled' ? 'partially_filled' : 'new', filled: fills };
    }
    if (fills.lt(venue)) return undefined;
    let status = statusOf(last.order);
    // A replacement refused after its predecessor was cancelled: the order as a whole was cancelled.
    if (status === 'rejected' && legs.length > 1) status = 'cancelled';
    return { status, filled: fills };
  }

  /** Reports the root's status to the executor when it changed; asks for the fills when some are missing. */
  report(t: Tracked): void {
    const root = this.rootOf(t);
    const v = this.visible(root);
    if (!v) {
      this.deps.onFillsMissing(root);
      return;
    }
    if (v.status === root.reported) return;
    root.reported = v.status;
    const last = this.activeLeg(root);
    const reason = last?.reason ?? (last && 'reason' in last.order ? last.order.reason : undefined);
    const errorKind = v.status === 'rejected' ? last?.errorKind : undefined;
    this.receiver?.onOrderUpdate({
      clientOrderId: root.id,
      symbol: root.symbol,
      status: v.status,
      filledQuantity: v.filled,
      time: last?.venueTime ?? root.venueTime ?? this.deps.now(),
      ...(reason !== undefined ? { reason } : {}),
      ...(errorKind !== undefined ? { errorKind } : {}),
    });
  }

  /** The ack of a root order as it stands. */
  ackOf(root: Tracked): OrderAck {
    const v = this.visible(root) ?? { status: 'new' as const, filled: Dec.ZERO };
    const leg = this.activeLeg(root) ?? root;
    const unknown = leg.order.state === 'unknown';
    const reason = leg.reason ?? ('reason' in leg.order ? leg.order.reason : undefined) ?? (unknown ? 'outcome unknown: the venue could not be asked' : undefined);
    const errorKind = v.status === 'rejected' ? leg.errorKind : undefined;
    return {
      clientOrderId: root.id,
      exchangeOrderId: leg.order.exchangeOrderId ?? '',
      status: v.status,
      ...(reason !== undefined ? { reason } : {}),
      ...(errorKind !== undefined ? { errorKind } : {}),
    };
  }

  /** Forgets the oldest root whose legs have all ended (with its legs). */
  private evict(): void {
    for (const t of this.tracked.values()) {
      if (t.rootId !== t.id || t.busy) continue;
      const legs = this.legsOf(t);
      if (legs.some((l) => isOpen(l.order))) continue;
      for (const l of legs) this.forget(l);
      return;
    }
  }
}
