/**
 * What both reconciliations (the runtime's on start, services/recovery/recover.ts, and the
 * scheduled job, services/ops/reconcile.ts) do with the exchange's records: an order open on the
 * exchange that the state does not know becomes an order record, the account's fills join the
 * ledger once per trade id, and holdings are compared with the open positions.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { MarketInfo } from '../model/orders.js';
import type { OrderState } from '../execution/orderStateMachine.js';
import type { OrderRecord, StateStore } from '../state/types.js';
import type { VenueClient, VenueOrder } from '../venue/types.js';
import { positionIdOf, roleOf } from './journal.js';

const TRADE_PAGE = 1000;

/** The state of an order as the exchange reports it (a missing order reads as cancelled). */
export function venueOrderState(vo: VenueOrder | undefined): OrderState {
  if (!vo) return 'cancelled';
  if (vo.status === 'new') return vo.filledQuantity.isPositive() ? 'partially_filled' : 'submitted';
  return vo.status;
}

/** An order record for an order found open on the exchange and unknown to the state. */
export function adoptedOrderRecord(vo: VenueOrder, now: number, reason: string): OrderRecord {
  const positionId = positionIdOf(vo.clientOrderId);
  return {
    clientOrderId: vo.clientOrderId,
    exchangeOrderId: vo.exchangeOrderId,
    symbol: vo.symbol,
    side: vo.side,
    type: vo.type,
    role: roleOf(vo.clientOrderId) ?? 'exit',
    ...(positionId ? { positionId } : {}),
    quantity: vo.quantity,
    ...(vo.price ? { price: vo.price } : {}),
    state: venueOrderState(vo),
    sent: true,
    filledQuantity: vo.filledQuantity,
    fillSum: Dec.ZERO,
    tradeIds: [],
    reason,
    createdAt: vo.time,
    updatedAt: now,
  };
}

/** Writes the account's fills of `symbol` since `since` to the ledger (paged, bounded); returns how many were new. */
export async function completeFillLedger(store: StateStore, venue: Pick<VenueClient, 'fetchMyTrades'>, symbol: SymbolId, since: number, maxPages = 50): Promise<number> {
  let added = 0;
  let from = since;
  for (let page = 0; page < maxPages; page++) {
    const trades = await venue.fetchMyTrades(symbol, from, TRADE_PAGE);
    for (const f of trades) if (await store.putFillOnce(f)) added++;
    const last = trades[trades.length - 1];
    if (trades.length < TRADE_PAGE || !last || last.time <= from) break;
    from = last.time;
  }
  return added;
}

/**
 * Whether a holding disagrees with what the open positions account for: by more than a lot step or
 * 0.5% of the positions (fees charged in the base asset make the holding a little smaller).
 */
export function holdingDisagrees(held: Dec, expected: Dec, market: MarketInfo): boolean {
  return held.sub(expected).abs().gt(Dec.max(market.stepSize, expected.mul(Dec.from('0.005'))));
}
