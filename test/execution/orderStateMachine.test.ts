/**
 * Order lifecycle: every legal transition with its resulting state and quantities (worked out by
 * hand from the order of quantity 1), the idempotent repeats (same object back), and a table of
 * illegal transitions that must throw InvalidStateError.
 */
import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { DataValidationError, InvalidStateError } from '../../services/core/errors.js';
import { isTerminal, newOrder, transition, type Order, type OrderEvent } from '../../services/execution/orderStateMachine.js';

const Q = dec('1');
const run = (...events: OrderEvent[]): Order => events.reduce<Order>((o, e) => transition(o, e), newOrder('BTCUSDTLabcE', Q));

const SENT: OrderEvent = { type: 'sent' };
const ACK: OrderEvent = { type: 'acknowledged', exchangeOrderId: 'C02__1' };
const fill = (tradeId: string, q: string): OrderEvent => ({ type: 'fill', tradeId, quantity: dec(q) });
const resolved = (status: Extract<OrderEvent, { type: 'resolved' }>['status'], f: string): OrderEvent => ({ type: 'resolved', status, filledQuantity: dec(f) });

// One order per state, each reached through legal events only.
const states = {
  pendingUnsent: () => run(),
  pendingSent: () => run(SENT),
  submitted: () => run(SENT, ACK),
  partial: () => run(SENT, ACK, fill('t1', '0.4')),
  filled: () => run(SENT, ACK, fill('t1', '1')),
  cancelled: () => run(SENT, ACK, { type: 'cancelled' }),
  rejected: () => run(SENT, { type: 'rejected', reason: 'post-only would take' }),
  expired: () => run(SENT, ACK, { type: 'expired' }),
  unknown: () => run(SENT, { type: 'outcome_unknown' }),
} as const;

/** State, filled quantity and fill sum as plain strings, for compact expectations. */
function view(o: Order): { state: string; filled: string; fillSum: string } {
  const state = o.state === 'pending' ? `pending/${o.sent ? 'sent' : 'unsent'}` : o.state;
  return { state, filled: o.filledQuantity.toString(), fillSum: o.fillSum.toString() };
}

describe('newOrder', () => {
  it('starts unsent with nothing filled', () => {
    expect(view(states.pendingUnsent())).toEqual({ state: 'pending/unsent', filled: '0', fillSum: '0' });
  });
  it('rejects a non-positive quantity and an empty id', () => {
    expect(() => newOrder('a', dec(0))).toThrow(DataValidationError);
    expect(() => newOrder('a', dec('-1'))).toThrow(DataValidationError);
    expect(() => newOrder('', Q)).toThrow(DataValidationError);
  });
});

describe('legal transitions', () => {
  // [name, start, event, expected state, filled, fillSum]
  const cases: [string, keyof typeof states, OrderEvent, string, string, string][] = [
    ['send', 'pendingUnsent', SENT, 'pending/sent', '0', '0'],
    ['drop before sending', 'pendingUnsent', { type: 'cancelled', reason: 'stale' }, 'cancelled', '0', '0'],
    ['ack', 'pendingSent', ACK, 'submitted', '0', '0'],
    ['fill before the ack (stream beats the reply)', 'pendingSent', fill('t1', '0.4'), 'partially_filled', '0.4', '0.4'],
    ['full fill before the ack', 'pendingSent', fill('t1', '1'), 'filled', '1', '1'],
    ['reject', 'pendingSent', { type: 'rejected', reason: 'x' }, 'rejected', '0', '0'],
    ['expire (IOC with nothing filled)', 'pendingSent', { type: 'expired' }, 'expired', '0', '0'],
    ['cancel update before the ack', 'pendingSent', { type: 'cancelled' }, 'cancelled', '0', '0'],
    ['submit timed out', 'pendingSent', { type: 'outcome_unknown' }, 'unknown', '0', '0'],
    ['lookup while in flight: open', 'pendingSent', resolved('new', '0'), 'submitted', '0', '0'],
    ['partial fill', 'submitted', fill('t1', '0.4'), 'partially_filled', '0.4', '0.4'],
    ['full fill', 'submitted', fill('t1', '1'), 'filled', '1', '1'],
    ['cancel', 'submitted', { type: 'cancelled' }, 'cancelled', '0', '0'],
    ['expire', 'submitted', { type: 'expired' }, 'expired', '0', '0'],
    ['lookup finds a partial fill', 'submitted', resolved('partially_filled', '0.3'), 'partially_filled', '0.3', '0'],
    // 0.4 + 0.6 = 1 = quantity
    ['last fill', 'partial', fill('t2', '0.6'), 'filled', '1', '1'],
    // 0.4 + 0.1 = 0.5
    ['another partial fill', 'partial', fill('t2', '0.1'), 'partially_filled', '0.5', '0.5'],
    ['cancel keeps what filled', 'partial', { type: 'cancelled' }, 'cancelled', '0.4', '0.4'],
    ['expire keeps what filled', 'partial', { type: 'expired' }, 'expired', '0.4', '0.4'],
    ['lookup finds it filled', 'partial', resolved('filled', '1'), 'filled', '1', '0.4'],
    ['late ack after a timeout', 'unknown', ACK, 'submitted', '0', '0'],
    ['fill proves it exists', 'unknown', fill('t1', '0.25'), 'partially_filled', '0.25', '0.25'],
    ['cancel by client id', 'unknown', { type: 'cancelled' }, 'cancelled', '0', '0'],
    ['reject', 'unknown', { type: 'rejected', reason: 'x' }, 'rejected', '0', '0'],
    ['expire', 'unknown', { type: 'expired' }, 'expired', '0', '0'],
    ['lookup: open', 'unknown', resolved('new', '0'), 'submitted', '0', '0'],
    ['lookup: partial', 'unknown', resolved('partially_filled', '0.25'), 'partially_filled', '0.25', '0'],
    ['lookup: filled', 'unknown', resolved('filled', '1'), 'filled', '1', '0'],
    ['lookup: cancelled with a partial fill', 'unknown', resolved('cancelled', '0.5'), 'cancelled', '0.5', '0'],
    ['lookup: expired', 'unknown', resolved('expired', '0'), 'expired', '0', '0'],
    ['lookup: rejected', 'unknown', resolved('rejected', '0'), 'rejected', '0', '0'],
    ['lookup: never arrived, back to unsent', 'unknown', resolved('not_found', '0'), 'pending/unsent', '0', '0'],
  ];
  it.each(cases)('%s (%s)', (_name, start, event, state, filled, fillSum) => {
    const before = states[start]();
    const after = transition(before, event);
    expect(view(after)).toEqual({ state, filled, fillSum });
    expect(after.clientOrderId).toBe('BTCUSDTLabcE');
    expect(after.quantity.toString()).toBe('1');
  });

  it('keeps the exchange order id from the ack and the reject reason', () => {
    expect(states.submitted().exchangeOrderId).toBe('C02__1');
    const r = states.rejected();
    expect(r.state === 'rejected' && r.reason).toBe('post-only would take');
  });

  it('a not-found order can be sent again with the same client id', () => {
    const o = transition(run(SENT, { type: 'outcome_unknown' }, resolved('not_found', '0')), SENT);
    expect(view(o).state).toBe('pending/sent');
    expect(o.clientOrderId).toBe('BTCUSDTLabcE');
  });
});

describe('idempotent repeats return the same object', () => {
  const cases: [string, keyof typeof states, OrderEvent][] = [
    ['duplicate fill', 'partial', fill('t1', '0.4')],
    ['duplicate fill after the order filled', 'filled', fill('t1', '1')],
    ['late ack after a fill', 'partial', ACK],
    ['late ack after the fill completed', 'filled', ACK],
    ['late ack after a cancel', 'cancelled', ACK],
    ['late ack after expiry', 'expired', ACK],
    ['second ack', 'submitted', ACK],
    ['cancel twice', 'cancelled', { type: 'cancelled' }],
    ['reject twice', 'rejected', { type: 'rejected', reason: 'again' }],
    ['expire twice', 'expired', { type: 'expired' }],
    ['timeout after the order was seen open', 'submitted', { type: 'outcome_unknown' }],
    ['timeout after a fill', 'partial', { type: 'outcome_unknown' }],
    ['timeout after the fill completed', 'filled', { type: 'outcome_unknown' }],
    ['timeout twice', 'unknown', { type: 'outcome_unknown' }],
    ['lookup agrees with filled', 'filled', resolved('filled', '1')],
    ['lookup agrees with cancelled', 'cancelled', resolved('cancelled', '0')],
  ];
  it.each(cases)('%s', (_name, start, event) => {
    const before = states[start]();
    expect(transition(before, event)).toBe(before);
  });
});

describe('lookups and fills overlap without double counting', () => {
  it('a fill already reported by a lookup raises fillSum only', () => {
    // lookup: 0.5 filled (no trade ids); then trade t1 of 0.5 arrives late: still 0.5 filled in all,
    // not 1.0; then t2 of 0.5: fills 0.5 + 0.5 = 1 = quantity -> filled.
    const a = run(SENT, ACK, resolved('partially_filled', '0.5'));
    const b = transition(a, fill('t1', '0.5'));
    expect(view(b)).toEqual({ state: 'partially_filled', filled: '0.5', fillSum: '0.5' });
    const c = transition(b, fill('t2', '0.5'));
    expect(view(c)).toEqual({ state: 'filled', filled: '1', fillSum: '1' });
  });
  it('a late fill on an order a lookup found filled is accepted, one beyond the quantity is not', () => {
    const a = run(SENT, { type: 'outcome_unknown' }, resolved('filled', '1'));
    const b = transition(a, fill('t1', '0.6'));
    expect(view(b)).toEqual({ state: 'filled', filled: '1', fillSum: '0.6' });
    expect(b.tradeIds).toEqual(['t1']);
    // 0.6 + 0.5 = 1.1 > 1
    expect(() => transition(b, fill('t2', '0.5'))).toThrow(InvalidStateError);
    // 0.6 + 0.4 = 1: the rest of what the lookup reported
    expect(view(transition(b, fill('t2', '0.4')))).toEqual({ state: 'filled', filled: '1', fillSum: '1' });
  });
  it('a late fill on a cancelled order is accepted only if the lookup counted it', () => {
    const a = run(SENT, { type: 'outcome_unknown' }, resolved('cancelled', '0.3'));
    expect(view(transition(a, fill('t1', '0.3')))).toEqual({ state: 'cancelled', filled: '0.3', fillSum: '0.3' });
    // 0.4 > the 0.3 the venue reported as final
    expect(() => transition(a, fill('t1', '0.4'))).toThrow(InvalidStateError);
  });
});

describe('illegal transitions throw InvalidStateError', () => {
  const cases: [string, keyof typeof states, OrderEvent][] = [
    ['ack before sending', 'pendingUnsent', ACK],
    ['fill before sending', 'pendingUnsent', fill('t1', '0.1')],
    ['reject before sending', 'pendingUnsent', { type: 'rejected', reason: 'x' }],
    ['expire before sending', 'pendingUnsent', { type: 'expired' }],
    ['timeout before sending', 'pendingUnsent', { type: 'outcome_unknown' }],
    ['lookup before sending', 'pendingUnsent', resolved('new', '0')],
    ['send twice', 'pendingSent', SENT],
    ['not found while still in flight', 'pendingSent', resolved('not_found', '0')],
    ['resend an open order', 'submitted', SENT],
    ['reject an accepted order', 'submitted', { type: 'rejected', reason: 'x' }],
    ['lookup says rejected after the ack', 'submitted', resolved('rejected', '0')],
    ['not found after the ack', 'submitted', resolved('not_found', '0')],
    ['lookup says new but something filled', 'submitted', resolved('new', '0.2')],
    ['lookup says partial with nothing filled', 'submitted', resolved('partially_filled', '0')],
    ['lookup says filled with 0.4 of 1', 'submitted', resolved('filled', '0.4')],
    ['fill exceeding the quantity (0.4 + 0.7 = 1.1 > 1)', 'partial', fill('t2', '0.7')],
    ['filled quantity going down (0.4 -> 0)', 'partial', resolved('new', '0')],
    ['filled quantity going down (0.4 -> 0.3)', 'partial', resolved('partially_filled', '0.3')],
    ['reject after a fill', 'partial', { type: 'rejected', reason: 'x' }],
    ['lookup above the quantity', 'partial', resolved('filled', '1.5')],
    ['filled -> cancelled', 'filled', { type: 'cancelled' }],
    ['filled -> expired', 'filled', { type: 'expired' }],
    ['filled -> rejected', 'filled', { type: 'rejected', reason: 'x' }],
    ['filled -> sent', 'filled', SENT],
    ['new fill on a filled order', 'filled', fill('t9', '0.1')],
    ['lookup contradicts filled', 'filled', resolved('cancelled', '1')],
    ['cancelled -> partially_filled', 'cancelled', fill('t1', '0.1')],
    ['cancelled -> expired', 'cancelled', { type: 'expired' }],
    ['cancelled -> rejected', 'cancelled', { type: 'rejected', reason: 'x' }],
    ['lookup contradicts cancelled', 'cancelled', resolved('filled', '1')],
    ['rejected -> submitted', 'rejected', ACK],
    ['rejected -> partially_filled', 'rejected', fill('t1', '0.1')],
    ['rejected -> cancelled', 'rejected', { type: 'cancelled' }],
    ['rejected -> expired', 'rejected', { type: 'expired' }],
    ['timeout after a reject', 'rejected', { type: 'outcome_unknown' }],
    ['expired -> cancelled', 'expired', { type: 'cancelled' }],
    ['expired -> partially_filled', 'expired', fill('t1', '0.1')],
    ['resend an unknown order (ask the venue instead)', 'unknown', SENT],
  ];
  it.each(cases)('%s', (_name, start, event) => {
    expect(() => transition(states[start](), event)).toThrow(InvalidStateError);
  });

  it('names the order, event and state in the message', () => {
    expect(() => transition(states.filled(), { type: 'cancelled' })).toThrow(/order BTCUSDTLabcE: event 'cancelled' is not allowed in state filled/);
  });

  it('rejects malformed event data with DataValidationError', () => {
    expect(() => transition(states.submitted(), fill('t1', '0'))).toThrow(DataValidationError);
    expect(() => transition(states.submitted(), fill('t1', '-0.1'))).toThrow(DataValidationError);
    expect(() => transition(states.submitted(), resolved('cancelled', '-1'))).toThrow(DataValidationError);
  });
});

describe('isTerminal', () => {
  it('is true exactly for filled, cancelled, rejected, expired', () => {
    const all = ['pending', 'submitted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired', 'unknown'] as const;
    expect(all.filter(isTerminal)).toEqual(['filled', 'cancelled', 'rejected', 'expired']);
  });
});
