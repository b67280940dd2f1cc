/**
 * Stuck orders: an open entry or exit order with no fill for longer than a timeout is cancelled
 * (policy 'cancel'), or cancelled and re-placed for what is left at the best price (policy
 * 'replace'). A replacement is a leg of the original (`<orig>R<n>`, see
 * `replacementClientOrderId`), tracked under the original's client id, so the executor sees one
 * order. Scale-out targets (role T) are left alone: they rest by design.
 *
 * SafeExchange owns the orders and the venue calls; this file holds the policy and asks its host
 * (`StuckOrderHost`) to cancel, reconcile and place.
 */
import { createHash } from 'node:crypto';
import { Dec } from '../core/money.js';
import { DataValidationError } from '../core/errors.js';
import type { VenueOrderRequest } from '../venue/types.js';
import type { GuardedVenue } from './guardedVenue.js';
import { describeError } from './guardedVenue.js';
import { isOpen, type OrderTracker, type Tracked } from './orderTracker.js';
import { CLIENT_ID_HASH_CHARS, MAX_CLIENT_ORDER_ID_LENGTH, parseClientOrderId, type OrderRole } from '../model/clientOrderId.js';

/** Replacements of one stuck order at most (the `R<n>` suffix); past it a stuck order is only cancelled. */
export const MAX_REPLACEMENTS = 9;
/** Order roles the stuck-order detection looks at (scale-out targets rest by design). */
export const STUCK_ORDER_ROLES: readonly OrderRole[] = ['entry', 'exit'];

/** One action of a stuck-order check. */
export interface StuckOrderAction {
  readonly clientOrderId: string;
  readonly action: 'cancelled' | 'replaced' | 'filled_meanwhile' | 'cancel_failed';
  readonly replacementId?: string;
  readonly detail: string;
}

export type StuckOrderEvent = { readonly type: 'stuck_order'; readonly clientOrderId: string; readonly action: 'cancel' | 'replace'; readonly replacementId?: string; readonly detail: string };

export interface StuckOrderPolicy {
  /** An open entry/exit order with no fill for longer than this is stuck (0 = detection off). */
  readonly timeoutMs: number;
  readonly policy: 'cancel' | 'replace';
}

/** What the stuck-order handling needs from SafeExchange. */
export interface StuckOrderHost {
  readonly tracker: OrderTracker;
  readonly venue: GuardedVenue;
  /** Cancels one leg and applies the answer; a failure description, or undefined. */
  cancelLeg(leg: Tracked, why: string): Promise<{ readonly reason: string } | undefined>;
  /** Fetches one leg and its trades from REST and delivers the missed fills. */
  reconcileLeg(leg: Tracked): Promise<unknown>;
  /** Sends a tracked order until the venue has it or refuses it. Never throws. */
  place(t: Tracked, req: VenueOrderRequest): Promise<void>;
  emit(e: StuckOrderEvent): void;
  counted(what: 'stuckCancelled' | 'stuckReplaced'): void;
}

/**
 * The client order id of replacement `n` of a stuck order: `<orig>R<n>`, or, when that would break
 * clientOrderId.ts's rules (at most 32 characters of [A-Za-z0-9_-]), a readable prefix, `_`, 16 hex
 * of sha256(orig) and `R<n>`, so replacements of different orders never collide.
 */
export function replacementClientOrderId(original: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REPLACEMENTS) throw new DataValidationError(`replacementClientOrderId: n must be in [1, ${MAX_REPLACEMENTS}], got ${n}`);
  const sfx = `R${n}`;
  const natural = original + sfx;
  if (natural.length <= MAX_CLIENT_ORDER_ID_LENGTH && /^[A-Za-z0-9_-]+$/.test(original)) return natural;
  const hash = createHash('sha256').update(original, 'utf8').digest('hex').slice(0, CLIENT_ID_HASH_CHARS);
  const room = MAX_CLIENT_ORDER_ID_LENGTH - 1 - CLIENT_ID_HASH_CHARS - sfx.length;
  return `${original.replace(/[^A-Za-z0-9]/g, '').slice(0, room)}_${hash}${sfx}`;
}

function live(leg: Tracked | undefined): leg is Tracked {
  return leg !== undefined && (leg.order.state === 'submitted' || leg.order.state === 'partially_filled');
}

/** See the file comment. */
export class StuckOrders {
  constructor(
    private readonly host: StuckOrderHost,
    private readonly policy: StuckOrderPolicy,
  ) {}

  /** Deals with every tracked open entry or exit order with no fill for longer than the timeout before `now`. */
  async check(now: number): Promise<StuckOrderAction[]> {
    const timeout = this.policy.timeoutMs;
    if (!(timeout > 0)) return [];
    const { tracker } = this.host;
    const candidates: Tracked[] = [];
    for (const t of tracker.values()) {
      if (t.rootId !== t.id || t.busy) continue;
      const role = parseClientOrderId(t.id)?.role;
      if (role === undefined || !STUCK_ORDER_ROLES.includes(role)) continue;
      const leg = tracker.activeLeg(t);
      if (live(leg) && now - leg.lastActivityAt > timeout) candidates.push(t);
    }
    const actions: StuckOrderAction[] = [];
    for (const root of candidates) {
      // Checked again: an earlier action (or a concurrent call) may have dealt with it meanwhile.
      if (root.busy || !live(tracker.activeLeg(root))) continue;
      actions.push(await this.unstick(root, now));
    }
    return actions;
  }

  /** Marks the root in flight (a cancel by the executor waits for it), then deals with it. */
  private async unstick(root: Tracked, now: number): Promise<StuckOrderAction> {
    let done = (): void => undefined;
    root.inflight = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      return await this.unstickNow(root, now);
    } finally {
      root.inflight = undefined;
      done();
    }
  }

  private async unstickNow(root: Tracked, now: number): Promise<StuckOrderAction> {
    const { tracker, venue } = this.host;
    const leg = tracker.activeLeg(root) as Tracked;
    const idle = now - leg.lastActivityAt;
    const replace = this.policy.policy === 'replace' && root.legs.length < MAX_REPLACEMENTS;
    const detail = `no fill for ${idle} ms (timeout ${this.policy.timeoutMs} ms)`;
    this.host.emit({ type: 'stuck_order', clientOrderId: root.id, action: replace ? 'replace' : 'cancel', detail });
    root.busy = true;
    root.replacing = replace;
    try {
      const failed = await this.host.cancelLeg(leg, 'stuck order');
      if (leg.order.state === 'filled') return { clientOrderId: root.id, action: 'filled_meanwhile', detail };
      if (isOpen(leg.order)) return { clientOrderId: root.id, action: 'cancel_failed', detail: `${detail}; ${failed?.reason ?? 'the venue still reports it open'}` };
      if (leg.order.fillSum.lt(leg.order.filledQuantity)) await this.host.reconcileLeg(leg).catch(() => undefined);
      if (!replace) {
        this.host.counted('stuckCancelled');
        return { clientOrderId: root.id, action: 'cancelled', detail };
      }
      const rest = leg.order.quantity.sub(leg.order.filledQuantity);
      const market = venue.market(root.symbol);
      const book = await venue.fetchBookTop(root.symbol);
      const price = Dec.from(root.side === 'buy' ? book.bid : book.ask).roundTo(market.tickSize);
      const qty = rest.floorTo(market.stepSize);
      if (!qty.isPositive() || !price.isPositive() || qty.mul(price).lt(market.minNotional)) {
        this.host.counted('stuckCancelled');
        return { clientOrderId: root.id, action: 'cancelled', detail: `${detail}; the rest ${rest.toString()} is below the market minimum, not re-placed` };
      }
      const id = replacementClientOrderId(root.id, root.legs.length + 1);
      const next = tracker.track(id, root.id, root.symbol, root.side, root.type, qty);
      root.legs.push(id);
      this.host.counted('stuckReplaced');
      await this.host.place(next, {
        clientOrderId: id,
        symbol: root.symbol,
        side: root.side,
        type: root.type,
        quantity: qty,
        ...(root.type === 'market' ? {} : { price }),
      });
      return { clientOrderId: root.id, action: 'replaced', replacementId: id, detail: `${detail}; ${qty.toString()} re-placed at ${price.toString()}` };
    } catch (e) {
      return { clientOrderId: root.id, action: 'cancel_failed', detail: `${detail}; ${describeError(e)}` };
    } finally {
      root.busy = false;
      root.replacing = false;
      tracker.report(root);
    }
  }
}
