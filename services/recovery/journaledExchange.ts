/**
 * The exchange the executor talks to in the runtime: SafeExchange with the position journal in
 * front of it. Every new client order id is journaled (create-only) before it is sent, so no id is
 * ever sent twice as a new order, across any number of crashes; fills and final statuses are
 * journaled on their way to the executor.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { MarketInfo, OrderAck, OrderRequest } from '../model/orders.js';
import type { ExchangeEvents, Holding } from '../execution/types.js';
import type { SafeExchange } from '../execution/safeExchange.js';
import type { SessionExchange } from '../live/tradingSession.js';
import type { VenueEvent } from '../venue/types.js';
import { roleOf, type PositionJournal } from './journal.js';

export interface JournaledExchangeOptions {
  /** A line for the log when something is refused or sent unjournaled. */
  readonly onProblem?: (line: string) => void;
  /** The market clock, for the time of locally made order updates. */
  readonly now?: () => number;
  /** Every submit's outcome, for the order and order-error metrics. */
  readonly onAck?: (ack: OrderAck) => void;
  /**
   * Asked before every new order: a reason to refuse it (the symbol's lease is not safely held), or
   * undefined. Exactly one actor trades a symbol at a time, so without the lease nothing is sent.
   */
  readonly mayTrade?: (symbol: SymbolId) => string | undefined;
}

export class JournaledExchange implements SessionExchange {
  readonly stats = { refusedDuplicates: 0, refusedUnjournaled: 0, sentUnjournaled: 0, cancelledBeforeSend: 0, refusedNoLease: 0 };
  private receiver: ExchangeEvents | undefined;
  /**
   * Submits still in their journal write, by client id. A cancel that arrives meanwhile (an exit
   * cancelling targets that were just requested) must not miss the order: it marks it, and the
   * order is then never sent.
   */
  private readonly journaling = new Map<string, { cancelled: boolean; done: Promise<unknown> }>();

  private readonly onProblem: (line: string) => void;
  private readonly now: () => number;
  private readonly onAck: (ack: OrderAck) => void;
  private readonly mayTrade: (symbol: SymbolId) => string | undefined;

  constructor(
    private readonly inner: SafeExchange,
    private readonly journal: PositionJournal,
    opts: JournaledExchangeOptions = {},
  ) {
    this.onProblem = opts.onProblem ?? (() => undefined);
    this.now = opts.now ?? (() => 0);
    this.onAck = opts.onAck ?? (() => undefined);
    this.mayTrade = opts.mayTrade ?? (() => undefined);
  }

  market(symbol: SymbolId): MarketInfo {
    return this.inner.market(symbol);
  }

  /** The account's holding and fills, asked when an exit was refused for insufficient balance (SafeExchange.holding). */
  holding(symbol: SymbolId, since: number): Promise<Holding> {
    return this.inner.holding(symbol, since);
  }

  subscribe(events: ExchangeEvents): void {
    this.receiver = events;
    this.inner.subscribe({
      onFill: (f) => {
        this.journal.recordFill(f);
        events.onFill(f);
      },
      onOrderUpdate: (u) => {
        this.journal.recordOrderUpdate(u);
        events.onOrderUpdate(u);
      },
    });
  }

  async submit(req: OrderRequest): Promise<OrderAck> {
    const ack = await this.submitJournaled(req);
    this.onAck(ack);
    return ack;
  }

  private async submitJournaled(req: OrderRequest): Promise<OrderAck> {
    // Already tracked (placed earlier in this run, or adopted after a restart): SafeExchange answers
    // from what it knows and sends nothing.
    if (this.inner.isTracked(req.clientOrderId)) return this.inner.submit(req);
    const refused = this.mayTrade(req.symbol);
    if (refused !== undefined) {
      this.stats.refusedNoLease++;
      this.onProblem(`${req.clientOrderId} not sent: ${refused}`);
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason: `LEASE_NOT_HELD: ${refused}`, errorKind: 'lease_not_held' };
    }
    const pending = { cancelled: false, done: Promise.resolve() as Promise<unknown> };
    const journaled = this.journal.beforeSubmit(req);
    pending.done = journaled;
    this.journaling.set(req.clientOrderId, pending);
    let ahead;
    try {
      ahead = await journaled;
    } finally {
      this.journaling.delete(req.clientOrderId);
    }
    if (pending.cancelled) {
      this.stats.cancelledBeforeSend++;
      const update = { clientOrderId: req.clientOrderId, symbol: req.symbol, status: 'cancelled' as const, filledQuantity: Dec.ZERO, time: this.now(), reason: 'cancelled before it was sent' };
      if (ahead === 'journaled') this.journal.recordOrderUpdate(update);
      this.receiver?.onOrderUpdate(update);
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'cancelled', reason: update.reason };
    }
    if (ahead === 'duplicate') {
      this.stats.refusedDuplicates++;
      const reason = `DUPLICATE_CLIENT_ORDER_ID: ${req.clientOrderId} was journaled by an earlier run; never sent twice`;
      this.onProblem(reason);
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason, errorKind: 'duplicate_client_order_id' };
    }
    if (ahead === 'unavailable') {
      if (roleOf(req.clientOrderId) === 'entry') {
        this.stats.refusedUnjournaled++;
        return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason: 'STATE_UNAVAILABLE: the entry could not be journaled, so it is not sent', errorKind: 'state_unavailable' };
      }
      // An exit or a target reduces risk: it goes out, and a restart adopts it from the venue.
      this.stats.sentUnjournaled++;
      this.onProblem(`${req.clientOrderId} sent without its journal entry (state store unavailable)`);
    }
    return this.inner.submit(req);
  }

  async cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck> {
    const pending = this.journaling.get(clientOrderId);
    if (pending) {
      pending.cancelled = true;
      await pending.done.catch(() => undefined);
      return { clientOrderId, exchangeOrderId: '', status: 'cancelled', reason: 'cancelled before it was sent' };
    }
    return this.inner.cancel(symbol, clientOrderId);
  }

  onVenueEvent(e: VenueEvent): void {
    this.inner.onVenueEvent(e);
  }
}
