/**
 * The lifecycle of one order as a pure state machine: `transition(order, event)` returns the next
 * order, or the same object when the event changes nothing (a duplicate fill, a late ack, a repeated
 * final status), or throws InvalidStateError when the event cannot happen in the current state.
 *
 * States:
 * - `pending`: created locally. `sent: false` means not yet sent (it may still be dropped locally);
 *   `sent: true` means the submit request is in flight and no reply has come yet.
 * - `submitted`: the venue acknowledged it and it rests open with nothing filled.
 * - `partially_filled`: open, with 0 < filled < quantity.
 * - `filled`, `cancelled`, `rejected`, `expired`: terminal (final; see `isTerminal`).
 * - `unknown`: the submit timed out or got a 5xx, so the order may or may not exist on the venue.
 *   It is resolved by asking the venue (`resolved` event), never by sending a second order.
 *
 * Filled quantity comes from two sources that can overlap: fills (each with a venue trade id) and a
 * venue lookup (`resolved`, which reports the cumulative filled quantity but no trade ids). A lookup
 * can therefore report executions whose fill events arrive later. The order keeps both: `fillSum`
 * (the sum of the distinct fills seen) and `filledQuantity` = max(fillSum, the last venue report).
 * A late fill already covered by a venue report raises `fillSum` without counting twice.
 */
import { Dec } from '../core/money.js';
import { DataValidationError, InvalidStateError } from '../core/errors.js';
import type { OrderStatus } from '../model/orders.js';

export type OrderState = 'pending' | 'submitted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected' | 'expired' | 'unknown';

/** Fields every order state carries. */
interface OrderFields {
  readonly clientOrderId: string;
  /** The order's quantity (base units); fills can never exceed it. */
  readonly quantity: Dec;
  /** Best known cumulative filled quantity: max(fillSum, the last venue-reported filled quantity). */
  readonly filledQuantity: Dec;
  /** Sum of the distinct fills (by trade id) received. */
  readonly fillSum: Dec;
  /** Trade ids of the fills seen, so a fill delivered twice (stream and REST) is counted once. */
  readonly tradeIds: readonly string[];
  /** The venue's order id, once an ack or a lookup gave it. */
  readonly exchangeOrderId?: string;
}

export type PendingOrder = OrderFields & { readonly state: 'pending'; readonly sent: boolean };
export type OpenOrder = OrderFields & { readonly state: 'submitted' | 'partially_filled' };
export type UnknownOrder = OrderFields & { readonly state: 'unknown' };
export type FilledOrder = OrderFields & { readonly state: 'filled' };
/** An order that ended without filling completely; `reason` is the venue's or our own explanation. */
export type EndedOrder = OrderFields & { readonly state: 'cancelled' | 'rejected' | 'expired'; readonly reason?: string };

/** An order in one of its states (discriminated by `state`). */
export type Order = PendingOrder | OpenOrder | UnknownOrder | FilledOrder | EndedOrder;

/** What the venue said about the order when asked (a query by client order id). */
export type VenueOrderStatus = OrderStatus | 'not_found';

export type OrderEvent =
  /** The submit request was handed to the transport. */
  | { readonly type: 'sent' }
  /** The venue accepted the order (the reply to the submit). */
  | { readonly type: 'acknowledged'; readonly exchangeOrderId?: string }
  /** One execution; `tradeId` is the venue's trade id. */
  | { readonly type: 'fill'; readonly tradeId: string; readonly quantity: Dec }
  | { readonly type: 'cancelled'; readonly reason?: string }
  | { readonly type: 'rejected'; readonly reason: string }
  | { readonly type: 'expired'; readonly reason?: string }
  /** The submit timed out or got a 5xx. */
  | { readonly type: 'outcome_unknown' }
  /**
   * A venue lookup's answer: its status and cumulative filled quantity. `not_found` after an unknown
   * outcome means the submit never reached the venue: the order returns to an unsent `pending` with
   * the same client order id, so a resend cannot create a second order if the first one surfaces.
   */
  | { readonly type: 'resolved'; readonly status: VenueOrderStatus; readonly filledQuantity: Dec; readonly exchangeOrderId?: string };

const TERMINAL: ReadonlySet<OrderState> = new Set<OrderState>(['filled', 'cancelled', 'rejected', 'expired']);

/** True for the final states (filled, cancelled, rejected, expired): no event moves an order out of them. */
export function isTerminal(state: OrderState): boolean {
  return TERMINAL.has(state);
}

/** A new order, created locally and not yet sent. Throws DataValidationError for a non-positive quantity. */
export function newOrder(clientOrderId: string, quantity: Dec): PendingOrder {
  if (clientOrderId.length === 0) throw new DataValidationError('newOrder: clientOrderId must not be empty');
  if (!quantity.isPositive()) throw new DataValidationError(`newOrder ${clientOrderId}: quantity must be positive, got ${quantity.toString()}`);
  return { state: 'pending', sent: false, clientOrderId, quantity, filledQuantity: Dec.ZERO, fillSum: Dec.ZERO, tradeIds: [] };
}

function illegal(order: Order, event: OrderEvent, why: string): InvalidStateError {
  const where = order.state === 'pending' ? `pending (${order.sent ? 'sent' : 'not sent'})` : order.state;
  return new InvalidStateError(`order ${order.clientOrderId}: event '${event.type}' is not allowed in state ${where}: ${why}`);
}

/** The open state that matches a filled quantity below the order's quantity. */
function openState(filled: Dec): 'submitted' | 'partially_filled' {
  return filled.isZero() ? 'submitted' : 'partially_filled';
}

/** Copies the shared fields, with overrides; the state-specific fields are added by the caller. */
function fields(order: Order, over: Partial<OrderFields> = {}): OrderFields {
  const base: OrderFields = {
    clientOrderId: order.clientOrderId,
    quantity: order.quantity,
    filledQuantity: order.filledQuantity,
    fillSum: order.fillSum,
    tradeIds: order.tradeIds,
    ...(order.exchangeOrderId !== undefined ? { exchangeOrderId: order.exchangeOrderId } : {}),
  };
  return { ...base, ...over };
}

function withExchangeId(id: string | undefined): Partial<OrderFields> {
  return id !== undefined ? { exchangeOrderId: id } : {};
}

/**
 * Applies one event to an order. Returns the next order, or `order` itself when the event is a
 * harmless repeat (a fill whose trade id was seen, an ack that arrives after the order moved on, the
 * same final status twice, a lookup that agrees with a final state). Throws InvalidStateError when
 * the event contradicts the state (see the file comment), and DataValidationError for a fill with a
 * non-positive quantity or a lookup with a negative filled quantity.
 */
export function transition(order: Order, event: OrderEvent): Order {
  switch (event.type) {
    case 'sent':
      if (order.state === 'pending' && !order.sent) return { ...fields(order), state: 'pending', sent: true };
      throw illegal(order, event, 'an order is sent once; an unknown outcome is resolved by asking the venue');

    case 'acknowledged': {
      const ids = withExchangeId(event.exchangeOrderId);
      if ((order.state === 'pending' && order.sent) || order.state === 'unknown') {
        return { ...fields(order, ids), state: openState(order.filledQuantity) };
      }
      // The submit's reply can arrive after stream events already moved the order on (a fill, a
      // cancel): it adds nothing then.
      if (order.state === 'submitted' || order.state === 'partially_filled' || order.state === 'filled' || order.state === 'cancelled' || order.state === 'expired') return order;
      throw illegal(order, event, order.state === 'rejected' ? 'a rejected order was never accepted' : 'the order has not been sent');
    }

    case 'fill':
      return applyFill(order, event);

    case 'cancelled':
      if (order.state === 'cancelled') return order;
      // Unsent: dropped locally. In flight or unknown: a cancel by client order id can only succeed
      // if the venue has the order, so it existed and is now gone.
      if (order.state === 'pending' || order.state === 'submitted' || order.state === 'partially_filled' || order.state === 'unknown') {
        return { ...fields(order), state: 'cancelled', ...(event.reason !== undefined ? { reason: event.reason } : {}) };
      }
      throw illegal(order, event, 'the order is already final');

    case 'rejected':
      if (order.state === 'rejected') return order;
      if (((order.state === 'pending' && order.sent) || order.state === 'unknown') && order.filledQuantity.isZero()) {
        return { ...fields(order), state: 'rejected', reason: event.reason };
      }
      throw illegal(order, event, 'only a sent order without fills can be rejected');

    case 'expired':
      if (order.state === 'expired') return order;
      if ((order.state === 'pending' && order.sent) || order.state === 'submitted' || order.state === 'partially_filled' || order.state === 'unknown') {
        return { ...fields(order), state: 'expired', ...(event.reason !== undefined ? { reason: event.reason } : {}) };
      }
      throw illegal(order, event, order.state === 'pending' ? 'the order has not been sent' : 'the order is already final');

    case 'outcome_unknown':
      if (order.state === 'pending' && order.sent) return { ...fields(order), state: 'unknown' };
      // Stream events (a fill, a cancel) can beat the submit's timeout: the order is then known to
      // exist, and the timeout says nothing new.
      if (order.state === 'unknown' || order.state === 'submitted' || order.state === 'partially_filled' || order.state === 'filled' || order.state === 'cancelled' || order.state === 'expired') return order;
      throw illegal(order, event, order.state === 'rejected' ? 'the submit already got its reply (rejected)' : 'the order has not been sent');

    case 'resolved':
      return applyResolved(order, event);
  }
}

function applyFill(order: Order, event: Extract<OrderEvent, { type: 'fill' }>): Order {
  // Idempotent first: a fill seen before is a no-op in any state (the stream and a REST catch-up
  // can both deliver it, also after the order became final).
  if (order.tradeIds.includes(event.tradeId)) return order;
  if (!event.quantity.isPositive()) {
    throw new DataValidationError(`order ${order.clientOrderId}: fill ${event.tradeId} must have a positive quantity, got ${event.quantity.toString()}`);
  }
  if (order.state === 'pending' && !order.sent) throw illegal(order, event, 'the order has not been sent');
  if (order.state === 'rejected') throw illegal(order, event, 'a rejected order cannot fill');
  const fillSum = order.fillSum.add(event.quantity);
  if (fillSum.gt(order.quantity)) {
    throw illegal(order, event, `fills would total ${fillSum.toString()}, above the order quantity ${order.quantity.toString()}`);
  }
  const filledQuantity = fillSum.gt(order.filledQuantity) ? fillSum : order.filledQuantity;
  const next = fields(order, { fillSum, filledQuantity, tradeIds: [...order.tradeIds, event.tradeId] });
  if (isTerminal(order.state)) {
    // A final order's filled quantity is final too; a late fill is accepted only when a venue
    // lookup already counted it.
    if (!filledQuantity.eq(order.filledQuantity)) {
      throw illegal(order, event, `the order is final with ${order.filledQuantity.toString()} filled; this fill would raise it to ${filledQuantity.toString()}`);
    }
    return { ...order, ...next };
  }
  if (filledQuantity.eq(order.quantity)) return { ...next, state: 'filled' };
  return { ...next, state: 'partially_filled' };
}

/** The state a venue status maps to, checked against the reported filled quantity. */
function resolvedState(order: Order, event: Extract<OrderEvent, { type: 'resolved' }>): OrderState {
  const f = event.filledQuantity;
  const q = order.quantity;
  const bad = (why: string) => illegal(order, event, `venue status ${event.status} with ${f.toString()} filled of ${q.toString()}: ${why}`);
  switch (event.status) {
    case 'new':
      if (!f.isZero()) throw bad('a new order has nothing filled');
      return 'submitted';
    case 'partially_filled':
      if (f.isZero() || f.gte(q)) throw bad('a partial fill is between zero and the quantity');
      return 'partially_filled';
    case 'filled':
      if (!f.eq(q)) throw bad('a filled order has its whole quantity filled');
      return 'filled';
    case 'rejected':
      if (!f.isZero()) throw bad('a rejected order has nothing filled');
      return 'rejected';
    case 'cancelled':
    case 'expired':
      return event.status;
    case 'not_found':
      if (!f.isZero()) throw bad('an order the venue does not know has nothing filled');
      return 'pending';
  }
}

function applyResolved(order: Order, event: Extract<OrderEvent, { type: 'resolved' }>): Order {
  if (event.filledQuantity.isNegative()) {
    throw new DataValidationError(`order ${order.clientOrderId}: venue filled quantity must not be negative, got ${event.filledQuantity.toString()}`);
  }
  if (event.filledQuantity.gt(order.quantity)) {
    throw illegal(order, event, `venue filled quantity ${event.filledQuantity.toString()} exceeds the order quantity ${order.quantity.toString()}`);
  }
  if (order.state === 'pending' && !order.sent) throw illegal(order, event, 'the order has not been sent');
  const state = resolvedState(order, event);
  if (isTerminal(order.state)) {
    if (state === order.state && event.filledQuantity.eq(order.filledQuantity)) return order;
    throw illegal(order, event, `the order is final (${order.state}, ${order.filledQuantity.toString()} filled) and the venue reports otherwise`);
  }
  if (state === 'rejected' && (order.state === 'submitted' || order.state === 'partially_filled')) {
    throw illegal(order, event, 'the venue already accepted this order');
  }
  if (state === 'pending') {
    // Only an unknown outcome can turn out never to have reached the venue; an in-flight submit
    // may simply not have arrived yet, and an open order was acknowledged.
    if (order.state !== 'unknown') throw illegal(order, event, 'only an unknown outcome can be resolved as not found');
    if (!order.fillSum.isZero()) throw illegal(order, event, 'fills were received, so the order exists');
    return { ...fields(order), state: 'pending', sent: false };
  }
  // Filled quantity never goes down: a lookup older than the fills we have is stale.
  if (event.filledQuantity.lt(order.filledQuantity)) {
    throw illegal(order, event, `filled quantity cannot go down from ${order.filledQuantity.toString()} to ${event.filledQuantity.toString()}`);
  }
  const next = fields(order, { filledQuantity: event.filledQuantity, ...withExchangeId(event.exchangeOrderId) });
  if (state === 'rejected') return { ...next, state, reason: 'rejected (venue lookup)' };
  return { ...next, state };
}
