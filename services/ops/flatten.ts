/**
 * Flattening one symbol on the exchange: cancel its open orders, then sell what is held through
 * the emergency close (emergencyClose.ts: market, aggressive IOC limit, thirds). The one flatten
 * procedure: the runtime's emergency stop and flat shutdown (fargate/runtime.ts), the
 * emergency-stop Lambda and the risk sweep all run it. The caller holds the symbol's lease; this
 * file does not check it.
 *
 * What "held" means: the free balance of the symbol's base asset after the cancels (the exchange's
 * truth, which works when the state store lost track), optionally capped by `maxQuantity` (a
 * position's remaining quantity, so a job closing one position does not sell more than it). The
 * trading account is meant to hold only what the bot trades (a dedicated sub-account); with no cap,
 * every unit of the base asset is sold.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { SafeExchange } from '../execution/safeExchange.js';
import type { OrderAck } from '../model/orders.js';
import type { VenueClient } from '../venue/types.js';
import { emergencyClose, type EmergencyCloseOptions, type EmergencyCloseReport } from './emergencyClose.js';

/** What a flatten does on the exchange: cancel an order, close a quantity. */
export interface FlattenExchange {
  cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck>;
  emergencyClose(symbol: SymbolId, quantity: Dec, reasonTag: string): Promise<EmergencyCloseReport>;
}

export interface FlattenDeps {
  /** The guarded venue (services/execution/guardedVenue.ts), so listings and balances are retried too. */
  readonly venue: Pick<VenueClient, 'market' | 'fetchOpenOrders' | 'fetchBalances'>;
  readonly exchange: FlattenExchange;
}

/** The flatten's exchange over a SafeExchange: its cancel, and the emergency close through it. */
export function flattenExchange(safe: SafeExchange, options: EmergencyCloseOptions = {}): FlattenExchange {
  return {
    cancel: (symbol, clientOrderId) => safe.cancel(symbol, clientOrderId),
    emergencyClose: (symbol, quantity, reasonTag) => emergencyClose(safe, symbol, quantity, reasonTag, options),
  };
}

/**
 * Whether a cancel's ack says the order is no longer open: cancelled or ended, or unknown to the
 * venue as an open order (it ended between the listing and the cancel). Decided on the status and
 * the error kind, never on the reason's text (class names do not survive bundling).
 */
export function cancelEnded(ack: OrderAck): boolean {
  switch (ack.status) {
    case 'cancelled':
    case 'filled':
    case 'expired':
      return true;
    case 'rejected':
      return ack.errorKind === 'order_not_found';
    case 'new':
    case 'partially_filled':
      return false;
  }
}

export interface FlattenResult {
  readonly symbol: SymbolId;
  /** Client order ids cancelled (or found ended) by this call. */
  readonly cancelled: readonly string[];
  /** Orders that could not be cancelled, with why. */
  readonly cancelFailures: readonly { readonly clientOrderId: string; readonly reason: string }[];
  /** Base quantity free after the cancels (before any sale). */
  readonly heldBefore: Dec;
  /** What was asked of emergencyClose (undefined when nothing above a lot step was held). */
  readonly closeRequested: Dec | undefined;
  readonly close: EmergencyCloseReport | undefined;
  /** No open order left (as far as this call saw) and nothing but dust held. */
  readonly flat: boolean;
  /** Problems that stopped part of the work (listing orders, reading balances). */
  readonly problems: readonly string[];
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** The free quantity of `asset` (zero when the account has none). */
export async function freeBalance(venue: Pick<VenueClient, 'fetchBalances'>, asset: string): Promise<Dec> {
  const list = await venue.fetchBalances();
  return list.find((b) => b.asset === asset)?.free ?? Dec.ZERO;
}

/**
 * Whether the symbol is flat on the exchange: no open order and less than one lot step of the base
 * asset (free plus locked). Read-only: safe to call without the lease.
 */
export async function isFlatOnVenue(venue: Pick<VenueClient, 'market' | 'fetchOpenOrders' | 'fetchBalances'>, symbol: SymbolId, maxQuantity?: Dec): Promise<boolean> {
  const market = venue.market(symbol);
  if ((await venue.fetchOpenOrders(symbol)).length > 0) return false;
  const b = (await venue.fetchBalances()).find((x) => x.asset === market.base);
  const held = b ? b.free.add(b.locked) : Dec.ZERO;
  const relevant = maxQuantity !== undefined ? Dec.min(held, maxQuantity) : held;
  return !relevant.floorTo(market.stepSize).isPositive();
}

/**
 * Cancels every open order of `symbol` and sells what is held (see the file comment). `tag` names
 * the emergency-close orders (`<tag>X1`..`<tag>X8`); use a tag unique to this run. Never throws for
 * venue errors: they are in `problems` / `cancelFailures` / the close report.
 */
export async function flattenSymbol(deps: FlattenDeps, symbol: SymbolId, tag: string, maxQuantity?: Dec): Promise<FlattenResult> {
  const cancelled: string[] = [];
  const cancelFailures: { clientOrderId: string; reason: string }[] = [];
  const problems: string[] = [];
  let heldBefore = Dec.ZERO;
  let closeRequested: Dec | undefined;
  let close: EmergencyCloseReport | undefined;
  const result = (flat: boolean): FlattenResult => ({ symbol, cancelled, cancelFailures, heldBefore, closeRequested, close, flat, problems });
  let market;
  try {
    market = deps.venue.market(symbol);
  } catch (e) {
    problems.push(`market unknown: ${describe(e)}`);
    return result(false);
  }
  let openLeft = false;
  try {
    const open = await deps.venue.fetchOpenOrders(symbol);
    for (const o of open) {
      const ack = await deps.exchange.cancel(symbol, o.clientOrderId);
      if (cancelEnded(ack)) cancelled.push(o.clientOrderId);
      else {
        cancelFailures.push({ clientOrderId: o.clientOrderId, reason: ack.reason ?? `status ${ack.status}` });
        openLeft = true;
      }
    }
  } catch (e) {
    problems.push(`cannot list open orders: ${describe(e)}`);
    openLeft = true;
  }
  try {
    heldBefore = await freeBalance(deps.venue, market.base);
  } catch (e) {
    problems.push(`cannot read balances: ${describe(e)}`);
    return result(false);
  }
  const want = maxQuantity !== undefined ? Dec.min(heldBefore, maxQuantity) : heldBefore;
  if (want.floorTo(market.stepSize).isPositive()) {
    closeRequested = want;
    close = await deps.exchange.emergencyClose(symbol, want, tag);
  }
  return result(!openLeft && (close === undefined || close.closed));
}
