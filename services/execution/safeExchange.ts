/**
 * SafeExchange: the executor's `ExchangePort` on top of a venue, with the safety rules of issue 3
 * wired together. What lives where (services/execution/README.md):
 *
 * - the transport rules (a circuit breaker per endpoint, the order token bucket, bounded retries
 *   with backoff and Retry-After) are GuardedVenue's (guardedVenue.ts); SafeExchange builds one
 *   around the venue it is given, or uses the one it is given, so other users of the same venue
 *   (recovery, the jobs) share its limiter and breakers;
 * - the orders, their state machine, fill de-duplication and what the executor is told are the
 *   OrderTracker's (orderTracker.ts);
 * - settling orders from REST (missed fills, catch-ups, adopted orders) is the OrderReconciler's
 *   (orderReconciler.ts);
 * - stuck orders are StuckOrders' (stuckOrders.ts);
 * - options, events, counters and results are in safeExchangeTypes.ts (re-exported here);
 * - the emergency close (market, then IOC through the book, then thirds) sits beside the flatten
 *   procedure (services/ops/emergencyClose.ts) and uses `priorOrder` and `placeNow` here.
 *
 * What stays here is placing and settling orders: an unknown outcome of a submit (timeout, 5xx,
 * connection lost after sending) is never resent blindly: the order is looked up by client order
 * id, twice `unknownOutcomeSettleMs` apart (a just-placed order can take a moment to show), and only
 * when both answers are "not found" is it sent again, with the SAME client order id.
 *
 * What `submit` returns: always an OrderAck, never a rejection, because the executor expects one.
 * A permanent failure (invalid order, insufficient balance, symbol not tradable, authentication,
 * any other refused request), retries used up, or a local refusal (breaker open, rate-limit queue
 * full) gives status 'rejected' with an `errorKind` to switch on (and a reason for people). An
 * unknown outcome that could not be resolved (the lookups failed too) gives status 'new' with a
 * reason starting "outcome unknown": the order may exist, so the caller must keep treating it as
 * open; `reconcileOrder` (or the stream) settles it later. When reconciliation does not find it
 * either (asked twice, settle time apart), it ends as 'cancelled' and is not resent: the decision
 * behind it is stale by then.
 *
 * A submit with a client order id that is already tracked sends nothing and returns the tracked
 * order's state: a retried intent maps to the same order.
 *
 * Pure core: time, sleeping and randomness are injected (`deps`).
 */
import { Dec } from '../core/money.js';
import { ConfigError, DataValidationError, InvalidStateError } from '../core/errors.js';
import type { BookTop, SymbolId } from '../core/types.js';
import type { VenueClient, VenueEvent, VenueMarket, VenueOrder, VenueOrderRequest, VenueOrderType } from '../venue/types.js';
import type { OrderAck, OrderRequest, OrderStatus } from '../model/orders.js';
import type { ExchangeEvents, ExchangePort, Holding } from './types.js';
import { GuardedVenue, describeError } from './guardedVenue.js';
import { shouldRetry } from './backoff.js';
import { ExchangeError, OrderNotFoundError, isUnknownOutcome, orderErrorKind, type OrderErrorKind } from './exchangeErrors.js';
import { transition } from './orderStateMachine.js';
import { OrderTracker, isOpen, type Tracked } from './orderTracker.js';
import { StuckOrders, type StuckOrderAction } from './stuckOrders.js';
import { OrderReconciler, RECONCILE_SLACK_MS } from './orderReconciler.js';
import {
  DEFAULT_SAFE_EXCHANGE_OPTIONS,
  type PlacedOrder,
  type OpenSweepResult,
  type ReconcileResult,
  type SafeExchangeDeps,
  type SafeExchangeEvent,
  type SafeExchangeOptions,
  type SafeExchangeSnapshot,
  type SafeExchangeStats,
} from './safeExchangeTypes.js';

export * from './safeExchangeTypes.js';
export { CircuitOpenError, RateLimitQueueFullError } from './exchangeErrors.js';
export { MAX_REPLACEMENTS, STUCK_ORDER_ROLES, replacementClientOrderId, type StuckOrderAction } from './stuckOrders.js';

// ---------------------------------------------------------------------------------------------

const ORDER_TYPE: Record<'market' | 'limit', VenueOrderType> = { market: 'market', limit: 'limit' };

/** See the file comment. */
export class SafeExchange implements ExchangePort {
  /** The guarded venue: every call SafeExchange makes goes through it; recovery and the jobs use it too. */
  readonly venue: GuardedVenue;
  /** The emergency close's distance through the book, in percent (see SafeExchangeOptions). */
  readonly emergencyThroughPct: number;
  private readonly opts: SafeExchangeOptions;
  private readonly tracker: OrderTracker;
  private readonly stuck: StuckOrders;
  private readonly reconciler: OrderReconciler;
  private readonly counters = {
    unknownOutcomes: 0,
    unknownResolvedFound: 0,
    unknownResolvedNotFound: 0,
    unknownUnresolved: 0,
    resends: 0,
    rejected: 0,
    stuckCancelled: 0,
    stuckReplaced: 0,
    openSweeps: 0,
    sweepFillsDelivered: 0,
  };
  /** The sweep running now: a second call while it runs shares it. */
  private sweeping: Promise<OpenSweepResult> | undefined;

  /**
   * `venue` is guarded here with the transport options, unless it is a GuardedVenue already: then
   * it is used as it is (its own options apply) and its limiter and breakers are shared.
   * @throws ConfigError when an option is out of range.
   */
  constructor(
    venue: VenueClient,
    private readonly deps: SafeExchangeDeps,
    options: Partial<SafeExchangeOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SAFE_EXCHANGE_OPTIONS, ...options };
    const positiveInt = (name: keyof SafeExchangeOptions, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`SafeExchange: ${name} must be an integer >= 1, got ${v}`);
    };
    positiveInt('maxAttempts', this.opts.maxAttempts);
    positiveInt('maxTrackedOrders', this.opts.maxTrackedOrders);
    positiveInt('maxRememberedTradeIds', this.opts.maxRememberedTradeIds);
    positiveInt('maxQueuedRequests', this.opts.maxQueuedRequests);
    if (!(this.opts.emergencyThroughPct > 0 && this.opts.emergencyThroughPct < 100)) {
      throw new ConfigError(`SafeExchange: emergencyThroughPct must be in (0, 100), got ${this.opts.emergencyThroughPct}`);
    }
    this.emergencyThroughPct = this.opts.emergencyThroughPct;
    this.venue = venue instanceof GuardedVenue ? venue : new GuardedVenue(venue, { now: () => deps.now(), sleep: (ms) => deps.sleep(ms), random: () => deps.random(), onEvent: (e) => this.emit(e) }, this.opts);
    this.tracker = new OrderTracker(
      { now: () => deps.now(), onEvent: (e) => this.emit(e), onFillsMissing: (root) => this.scheduleCatchUp(root) },
      { maxTrackedOrders: this.opts.maxTrackedOrders, maxRememberedTradeIds: this.opts.maxRememberedTradeIds },
    );
    this.reconciler = new OrderReconciler({
      tracker: this.tracker,
      venue: this.venue,
      sleep: (ms) => deps.sleep(ms),
      settleMs: this.opts.unknownOutcomeSettleMs,
      emit: (e) => this.emit(e),
      countNotFound: () => void this.counters.unknownResolvedNotFound++,
    });
    this.stuck = new StuckOrders(
      {
        tracker: this.tracker,
        venue: this.venue,
        cancelLeg: (leg, why) => this.cancelLeg(leg, why),
        reconcileLeg: (leg) => this.reconcileLeg(leg),
        place: (t, req) => this.place(t, req),
        emit: (e) => this.emit(e),
        counted: (what) => void this.counters[what]++,
      },
      { timeoutMs: this.opts.stuckOrderTimeoutMs, policy: this.opts.stuckOrderPolicy },
    );
  }

  // -------------------------------------------------------------------------------------------
  // ExchangePort

  /** The venue's market (VenueMarket is a MarketInfo). Throws SymbolNotTradableError for an unknown symbol. */
  market(symbol: SymbolId): VenueMarket {
    return this.venue.market(symbol);
  }

  /** Registers the executor's receiver of fills and order updates. */
  subscribe(events: ExchangeEvents): void {
    this.tracker.subscribe(events);
  }

  /**
   * Places an order safely (see the file comment). Always resolves with an ack: 'rejected' with an
   * `errorKind` for a permanent failure, 'new' with "outcome unknown" when the order's existence
   * could not be settled.
   */
  async submit(req: OrderRequest): Promise<OrderAck> {
    const existing = this.tracker.get(req.clientOrderId);
    if (existing) return this.tracker.ackOf(this.tracker.rootOf(existing));
    let venueReq: VenueOrderRequest;
    let t: Tracked;
    try {
      if (req.type === 'limit' && req.price === undefined) throw new DataValidationError(`order ${req.clientOrderId}: a limit order needs a price`);
      venueReq = {
        clientOrderId: req.clientOrderId,
        symbol: req.symbol,
        side: req.side,
        type: req.postOnly === true && req.type === 'limit' ? 'post_only' : ORDER_TYPE[req.type],
        quantity: req.quantity,
        ...(req.type === 'limit' && req.price !== undefined ? { price: req.price } : {}),
      };
      t = this.tracker.track(req.clientOrderId, req.clientOrderId, req.symbol, req.side, venueReq.type, req.quantity);
    } catch (e) {
      this.counters.rejected++;
      const reason = describeError(e);
      const errorKind = orderErrorKind(e);
      this.emit({ type: 'rejected', clientOrderId: req.clientOrderId, reason, errorKind });
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason, errorKind };
    }
    t.busy = true;
    const run = this.place(t, venueReq);
    t.inflight = run;
    try {
      await run;
    } finally {
      t.busy = false;
      t.inflight = undefined;
    }
    this.tracker.report(t);
    // A market order ends at once, but MEXC's reply to a new order carries no status and the
    // stream may have missed it: if it still looks open, check with REST after the settle time.
    if (venueReq.type === 'market' && isOpen(t.order)) this.scheduleCatchUp(t);
    return this.tracker.ackOf(t);
  }

  /**
   * Cancels an order (for a replaced order: its live replacement). Never rejects: the ack carries
   * the order's status after the attempt (cancelled, or filled when it filled first) and, when the
   * cancel failed, a reason and an `errorKind`. An order the venue says it does not know is looked
   * up: if it ended (filled, cancelled), that status is reported. An order this process does not
   * track (placed before a restart, or by another actor) is cancelled anyway; when the venue does
   * not know it as open, the ack is 'rejected' with errorKind 'order_not_found': it has ended.
   */
  async cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck> {
    const t = this.tracker.get(clientOrderId);
    if (!t) {
      try {
        const vo = await this.venue.cancelOrder(symbol, clientOrderId);
        return { clientOrderId, exchangeOrderId: vo.exchangeOrderId, status: vo.status };
      } catch (e) {
        return { clientOrderId, exchangeOrderId: '', status: 'rejected', reason: describeError(e), errorKind: orderErrorKind(e) };
      }
    }
    const root = this.tracker.rootOf(t);
    // A submit (or a replacement) still in flight: cancelling now could miss the order it places
    // a moment later, which would then live on untracked. Wait for it, then cancel what it placed.
    if (root.inflight) await root.inflight;
    const leg = this.tracker.activeLeg(root);
    let failed: { reason: string; errorKind: OrderErrorKind } | undefined;
    if (leg && isOpen(leg.order)) failed = await this.cancelLeg(leg, 'cancelled by request');
    this.tracker.report(root);
    const ack = this.tracker.ackOf(root);
    return failed !== undefined ? { ...ack, reason: failed.reason, errorKind: failed.errorKind } : ack;
  }

  // -------------------------------------------------------------------------------------------
  // Venue events and reconciliation

  /**
   * Takes one event from the venue's private stream (the runtime wires it here). 'fill' events
   * become executor fills (once per trade id, a replacement's under the original's client id);
   * 'order' events update the tracked order and reach the executor only when its status changes.
   * Other events are ignored. Never throws.
   */
  onVenueEvent(e: VenueEvent): void {
    if (e.type === 'fill') this.tracker.acceptFill(e.fill);
    else if (e.type === 'order') {
      const t = this.tracker.find(e.order.clientOrderId, e.order.exchangeOrderId);
      if (!t) return;
      this.tracker.applyVenueOrder(t, e.order);
      this.tracker.report(this.tracker.rootOf(t));
    }
  }

  /**
   * Fetches an order and its fills from REST and delivers any fill the stream missed (once per
   * trade id), then the order's status. For a replaced order every leg is reconciled. This is how
   * a disconnect in the middle of a fill loses nothing. Rejects with the venue's ExchangeError (or
   * CircuitOpenError) when the venue cannot be asked.
   */
  async reconcileOrder(symbol: SymbolId, clientOrderId: string): Promise<ReconcileResult> {
    const t = this.tracker.get(clientOrderId);
    if (!t) {
      const vo = await this.lookup(symbol, clientOrderId);
      const n = vo ? await this.reconciler.deliverTrades(symbol, clientOrderId, vo.exchangeOrderId, vo.time - RECONCILE_SLACK_MS) : 0;
      return { clientOrderId, venueStatus: vo?.status, fillsDelivered: n };
    }
    const root = this.tracker.rootOf(t);
    let delivered = 0;
    let status: OrderStatus | undefined;
    for (const leg of this.tracker.legsOf(root)) {
      const r = await this.reconcileLeg(leg);
      delivered += r.delivered;
      status = r.status;
    }
    this.tracker.report(root);
    return { clientOrderId: root.id, venueStatus: status, fillsDelivered: delivered };
  }

  /**
   * Compares every tracked open order with the venue and delivers what the private stream missed:
   * one `fetchOpenOrders` per symbol with open orders, then a full reconcile (its trades, then its
   * status) of each order the venue no longer lists as open (it filled or was cancelled meanwhile)
   * or lists with more filled than was seen. A fill pushed while the private stream was down, not
   * yet subscribed (an order placed during a restart's recovery) or silent is found this way; the
   * runtime runs it when a private stream (re)connects and every half minute. Orders being placed or
   * replaced right now (busy) are left to that work. A second call while one runs shares it. Never
   * rejects: a symbol whose open orders cannot be read is named in `failed`.
   */
  sweepOpen(): Promise<OpenSweepResult> {
    this.sweeping ??= this.runSweep().finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private async runSweep(): Promise<OpenSweepResult> {
    this.counters.openSweeps++;
    const roots = new Map<SymbolId, Tracked[]>();
    for (const t of this.tracker.values()) {
      if (t.rootId !== t.id || t.busy || t.replacing) continue;
      // A replaced order's root is cancelled on the venue: its last leg is what is open.
      const live = this.tracker.activeLeg(t) ?? t;
      if (!isOpen(live.order) || (live.order.state === 'pending' && !live.order.sent)) continue;
      const list = roots.get(t.symbol) ?? [];
      list.push(t);
      roots.set(t.symbol, list);
    }
    let checked = 0;
    let reconciled = 0;
    let delivered = 0;
    const failed: string[] = [];
    for (const [symbol, list] of roots) {
      let open: VenueOrder[];
      try {
        open = await this.venue.fetchOpenOrders(symbol);
      } catch (e) {
        failed.push(`${symbol}: ${describeError(e)}`);
        continue;
      }
      const byId = new Map(open.map((o) => [o.clientOrderId, o]));
      for (const root of list) {
        checked++;
        const leg = this.tracker.activeLeg(root) ?? root;
        if (root.busy || root.replacing || !isOpen(leg.order)) continue;
        const vo = byId.get(leg.id);
        // Listed as open with nothing new, and not in doubt: nothing to do.
        if (vo && leg.order.state !== 'unknown' && vo.filledQuantity.lte(leg.order.filledQuantity) && leg.order.fillSum.gte(leg.order.filledQuantity)) continue;
        try {
          const r = await this.reconcileOrder(symbol, root.id);
          reconciled++;
          delivered += r.fillsDelivered;
        } catch (e) {
          failed.push(`${symbol} ${root.id}: ${describeError(e)}`);
        }
      }
    }
    this.counters.sweepFillsDelivered += delivered;
    return { checked, reconciled, delivered, failed };
  }

  /**
   * Takes over an order placed before a restart: the journal knows its client id, the venue may or
   * may not have it. It is tracked in the 'unknown' state until `reconcileOrder` asks the venue (an
   * order that never reached the venue then ends as cancelled, not resent), and a submit with the
   * same client id sends nothing. `legs` are the ids of its stuck-order replacements, oldest first.
   * Adopting an id that is already tracked does nothing.
   */
  adopt(o: { clientOrderId: string; symbol: SymbolId; side: 'buy' | 'sell'; type: VenueOrderType; quantity: Dec; createdAt: number; legs?: readonly string[] }): void {
    if (this.tracker.has(o.clientOrderId)) return;
    const adoptOne = (id: string): Tracked => {
      const t = this.tracker.track(id, o.clientOrderId, o.symbol, o.side, o.type, o.quantity);
      t.createdAt = o.createdAt;
      t.order = transition(transition(t.order, { type: 'sent' }), { type: 'outcome_unknown' });
      t.reason = 'outcome unknown (adopted after a restart)';
      t.inDoubt = true;
      return t;
    };
    const root = adoptOne(o.clientOrderId);
    for (const leg of o.legs ?? []) {
      if (this.tracker.has(leg)) continue;
      adoptOne(leg);
      root.legs.push(leg);
    }
  }

  /**
   * What the account holds of the symbol's base asset (free), and its fills of the symbol since
   * `since` (undefined when they cannot be read): asked when an exit was refused for insufficient
   * balance. Rejects when the balances cannot be read.
   */
  async holding(symbol: SymbolId, since: number): Promise<Holding> {
    const base = this.venue.market(symbol).base;
    const balances = await this.venue.fetchBalances();
    const b = balances.find((x) => x.asset === base);
    const fills = await this.venue.fetchMyTrades(symbol, since, 1000).catch(() => undefined);
    return { free: b ? b.free : Dec.ZERO, fills };
  }

  /** True when the client id is tracked (placed in this run, or adopted). */
  isTracked(clientOrderId: string): boolean {
    return this.tracker.has(clientOrderId);
  }

  /**
   * Cancels (policy 'cancel') or cancels and re-places at the best price (policy 'replace') every
   * tracked open entry or exit order with no fill for longer than `stuckOrderTimeoutMs` before
   * `now` (stuckOrders.ts). Scale-out targets (role T) are left alone: they rest by design.
   *
   * Interaction with the executor's own limit-entry expiry (`limitEntryTimeoutMs`, measured from
   * the entry's submit): the executor cancels by the original id, which SafeExchange maps to the
   * live leg, so whichever timeout comes first ends or re-prices the entry and the other finds it
   * ended (a cancel of an ended order is answered from the tracked state without a venue call).
   */
  checkStuck(now: number): Promise<StuckOrderAction[]> {
    return this.stuck.check(now);
  }

  // -------------------------------------------------------------------------------------------
  // For the emergency close (services/ops/emergencyClose.ts)

  /** The book top, through the guard (retried). */
  bookTop(symbol: SymbolId): Promise<BookTop> {
    return this.venue.fetchBookTop(symbol);
  }

  /**
   * What an order placed earlier under `clientOrderId` (by this process or another) has filled,
   * after cancelling it if it is still open; undefined when no such order exists (never placed, or
   * refused by the venue last time: the id may be used again). Throws when the venue cannot be
   * asked, or an open order cannot be cancelled.
   */
  async priorOrder(symbol: SymbolId, clientOrderId: string): Promise<{ readonly filled: Dec } | undefined> {
    const local = this.tracker.get(clientOrderId);
    const vo = await this.lookup(symbol, clientOrderId);
    if (!vo && local?.order.state === 'rejected') {
      // Refused by the venue last time (it never existed there): the id can be used again.
      this.tracker.forget(local);
      return undefined;
    }
    if (!vo && !local) return undefined;
    let filled = vo?.filledQuantity ?? local?.order.filledQuantity ?? Dec.ZERO;
    if (vo && (vo.status === 'new' || vo.status === 'partially_filled')) {
      // Still open: stop it before the caller sells the rest itself.
      const cancelled = await this.venue.cancelOrder(symbol, clientOrderId).catch(() => undefined);
      if (cancelled === undefined) throw new InvalidStateError(`earlier order ${clientOrderId} is still open and could not be cancelled`);
      filled = cancelled.filledQuantity;
    }
    return { filled };
  }

  /**
   * Places an order that should end at once (market, IOC) and waits for its end: when the reply
   * carries no final status it is looked up once, and an order still open is cancelled, so it
   * cannot fill alongside whatever the caller sends next. Never rejects for venue errors.
   * @throws InvalidStateError when the id is tracked already or too many orders are tracked.
   */
  async placeNow(req: VenueOrderRequest & { readonly quantity: Dec }): Promise<PlacedOrder> {
    const t = this.tracker.track(req.clientOrderId, req.clientOrderId, req.symbol, req.side, req.type, req.quantity);
    await this.place(t, req);
    if (t.order.state === 'submitted' || t.order.state === 'partially_filled') {
      // MEXC's reply to a new order carries no status: ask once for the final one.
      const vo = await this.lookup(req.symbol, req.clientOrderId).catch(() => undefined);
      if (vo) this.tracker.applyVenueOrder(t, vo);
      if (isOpen(t.order)) await this.cancelLeg(t, 'an immediate order left open');
    }
    this.tracker.report(t);
    const filled = t.order.filledQuantity;
    const quote = t.venueQuote !== undefined && t.order.fillSum.lte(filled) && !t.venueQuote.isZero() ? t.venueQuote : t.fillQuote;
    return {
      clientOrderId: t.id,
      state: t.order.state,
      filled,
      quote,
      ...(t.reason !== undefined ? { reason: t.reason } : {}),
      ...(t.errorKind !== undefined ? { errorKind: t.errorKind } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Status

  /** Counters (see SafeExchangeStats). */
  stats(): SafeExchangeStats {
    return { ...this.venue.stats(), ...this.counters, ...this.tracker.counters, trackedOrders: this.tracker.size };
  }

  /** Breakers, the rate limiter's level and the counters, at the injected clock's now. */
  snapshot(): SafeExchangeSnapshot {
    return { ...this.venue.snapshot(), stats: this.stats() };
  }

  // -------------------------------------------------------------------------------------------
  // Placing

  /**
   * Sends `t` until the venue has it, it is refused for good, or the attempts are used up. Ends with
   * `t` acknowledged (open or final), rejected, or still unknown (lookups failed). Never throws.
   */
  private async place(t: Tracked, req: VenueOrderRequest): Promise<void> {
    let resent = false;
    for (let attempt = 1; ; attempt++) {
      if (t.order.state === 'pending' && !t.order.sent) this.tracker.apply(t, { type: 'sent' });
      try {
        const vo = await this.venue.attempt('createOrder', () => this.venue.inner.createOrder(req));
        t.lastActivityAt = this.deps.now();
        this.tracker.apply(t, { type: 'acknowledged', exchangeOrderId: vo.exchangeOrderId });
        this.tracker.applyVenueOrder(t, vo);
        return;
      } catch (e) {
        if (isUnknownOutcome(e, 'submit')) {
          this.counters.unknownOutcomes++;
          this.emit({ type: 'unknown_outcome', clientOrderId: t.id, error: describeError(e) });
          this.tracker.apply(t, { type: 'outcome_unknown' });
          if (t.order.state !== 'unknown') {
            // Stream events (a fill, an update) beat the error: the order exists, no lookup needed.
            this.counters.unknownResolvedFound++;
            this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'found', detail: 'seen on the stream' });
            return;
          }
          const r = await this.resolveUnknown(t);
          if (r !== 'not_found') return;
          if (attempt >= this.opts.maxAttempts) return this.reject(t, e, `${describeError(e)} (the order was not found on the venue after ${attempt} attempts)`);
          // Sent again at once: the settle wait between the two lookups already spaced it, and
          // the same client id means a late-surfacing first send is refused as a duplicate.
          this.counters.resends++;
          this.emit({ type: 'resend', clientOrderId: t.id });
          resent = true;
          continue;
        }
        if (attempt < this.opts.maxAttempts && shouldRetry(e, 1, 'submit')) {
          await this.venue.backoff('createOrder', e, attempt);
          continue;
        }
        if (resent && e instanceof ExchangeError) {
          // A resend refused by the venue may mean the first send surfaced after all (a duplicate
          // client id): one more look before calling it rejected.
          const vo = await this.lookup(t.symbol, t.id).catch(() => undefined);
          if (vo) {
            this.tracker.applyVenueOrder(t, vo);
            return;
          }
        }
        return this.reject(t, e, describeError(e));
      }
    }
  }

  private reject(t: Tracked, e: unknown, reason: string): void {
    this.counters.rejected++;
    t.reason = reason;
    t.inDoubt = false;
    t.errorKind = orderErrorKind(e);
    // Back to unsent after a "not found" (every send was looked up and not there): it was sent, and
    // the venue never took it, so it is rejected. Without this the state machine refused the
    // rejection and the order stayed 'new' for ever in the executor's eyes.
    if (t.order.state === 'pending' && !t.order.sent) this.tracker.apply(t, { type: 'sent' });
    this.tracker.apply(t, { type: 'rejected', reason });
    this.emit({ type: 'rejected', clientOrderId: t.id, reason, errorKind: t.errorKind });
  }

  /**
   * Settles an unknown outcome by asking the venue, twice `unknownOutcomeSettleMs` apart. 'found':
   * the venue's view is applied and any fills it reports are fetched. 'not_found': the order is
   * back to unsent pending, ready to be sent again under the same id. 'unresolved': the lookups
   * failed; the order stays unknown.
   */
  private async resolveUnknown(t: Tracked): Promise<'found' | 'not_found' | 'unresolved'> {
    for (let ask = 1; ask <= 2; ask++) {
      let vo: VenueOrder | undefined;
      try {
        vo = await this.lookup(t.symbol, t.id);
      } catch (e) {
        this.counters.unknownUnresolved++;
        t.reason = `outcome unknown: the order could not be looked up (${describeError(e)})`;
        t.inDoubt = true;
        this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'unresolved', detail: describeError(e) });
        return 'unresolved';
      }
      if (vo) {
        this.counters.unknownResolvedFound++;
        t.lastActivityAt = this.deps.now();
        this.tracker.applyVenueOrder(t, vo);
        this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'found' });
        if (t.order.fillSum.lt(t.order.filledQuantity)) await this.reconcileLeg(t).catch((err: unknown) => this.emit({ type: 'catch_up_failed', clientOrderId: t.id, error: describeError(err) }));
        return 'found';
      }
      if (ask === 1) await this.deps.sleep(this.opts.unknownOutcomeSettleMs);
    }
    this.counters.unknownResolvedNotFound++;
    this.tracker.apply(t, { type: 'resolved', status: 'not_found', filledQuantity: Dec.ZERO });
    this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'not_found' });
    return 'not_found';
  }

  /** Cancels one leg on the venue and applies the answer. Returns what went wrong, or undefined. */
  private async cancelLeg(leg: Tracked, why: string): Promise<{ reason: string; errorKind: OrderErrorKind } | undefined> {
    const failure = (e: unknown) => ({ reason: describeError(e), errorKind: orderErrorKind(e) });
    if (leg.order.state === 'pending' && !leg.order.sent) {
      this.tracker.apply(leg, { type: 'cancelled', reason: why });
      return undefined;
    }
    try {
      const vo = await this.venue.cancelOrder(leg.symbol, leg.id);
      this.tracker.applyVenueOrder(leg, vo);
    } catch (e) {
      if (!(e instanceof OrderNotFoundError)) return failure(e);
      // Not open on the venue: it ended (filled, cancelled) or it never got there.
      let vo: VenueOrder | undefined;
      try {
        vo = await this.lookup(leg.symbol, leg.id);
      } catch (err) {
        return failure(err);
      }
      if (vo) this.tracker.applyVenueOrder(leg, vo);
      else this.tracker.apply(leg, { type: 'cancelled', reason: `${why}; the venue does not know the order` });
    }
    if (leg.order.fillSum.lt(leg.order.filledQuantity)) await this.reconcileLeg(leg).catch((err: unknown) => this.emit({ type: 'catch_up_failed', clientOrderId: leg.id, error: describeError(err) }));
    return undefined;
  }

  private lookup(symbol: SymbolId, id: string): Promise<VenueOrder | undefined> {
    return this.reconciler.lookup(symbol, id);
  }

  private reconcileLeg(leg: Tracked): Promise<{ delivered: number; status: OrderStatus | undefined }> {
    return this.reconciler.reconcileLeg(leg);
  }

  private scheduleCatchUp(root: Tracked): void {
    this.reconciler.scheduleCatchUp(root);
  }

  private emit(e: SafeExchangeEvent): void {
    this.deps.onEvent?.(e);
  }
}
