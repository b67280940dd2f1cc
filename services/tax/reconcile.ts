/**
 * Reconciliation of the tax ledger's fills:
 * - against the exchange's own fills, when given (the venue's trade history, or an export of it):
 *   every fill in one list must be in the other, by symbol and trade id, with the same side, price,
 *   quantity, fee and fee asset;
 * - against the state's closed trades of the year: each trade's entry fills add up to its quantity,
 *   its exit fills too (the position closed), and the quote fees of its fills to its fees.
 * In the cloud the state's fill ledger is itself completed from the exchange's fills by the
 * reconcile job every 5 minutes (services/recovery/venueRecords.ts); the yearly file still checks
 * what it can see.
 */
import type { ClosedTrade } from '../analytics/types.js';
import { Dec } from '../core/money.js';
import { parseClientOrderId } from '../model/clientOrderId.js';
import type { FillRecord } from '../state/types.js';

export interface ReconcileReport {
  readonly stateFills: number;
  readonly exchangeFills: number | null;
  readonly tradesChecked: number;
  readonly matched: number;
  readonly missingInState: readonly string[];
  readonly missingOnExchange: readonly string[];
  readonly mismatched: readonly string[];
  readonly tradeMismatches: readonly string[];
  readonly ok: boolean;
}

const key = (f: FillRecord): string => `${f.symbol}#${f.tradeId}`;

export function reconcileFills(state: readonly FillRecord[], trades: readonly ClosedTrade[], exchange?: readonly FillRecord[]): ReconcileReport {
  const missingInState: string[] = [];
  const missingOnExchange: string[] = [];
  const mismatched: string[] = [];
  let matched = 0;
  if (exchange) {
    const ours = new Map(state.map((f) => [key(f), f]));
    const theirs = new Map(exchange.map((f) => [key(f), f]));
    for (const [k, x] of theirs) {
      const s = ours.get(k);
      if (!s) {
        missingInState.push(k);
        continue;
      }
      const diffs: string[] = [];
      if (s.side !== x.side) diffs.push(`side ${s.side}/${x.side}`);
      if (!s.price.eq(x.price)) diffs.push(`price ${s.price.toString()}/${x.price.toString()}`);
      if (!s.quantity.eq(x.quantity)) diffs.push(`quantity ${s.quantity.toString()}/${x.quantity.toString()}`);
      if (!s.fee.eq(x.fee) || s.feeAsset !== x.feeAsset) diffs.push(`fee ${s.fee.toString()} ${s.feeAsset}/${x.fee.toString()} ${x.feeAsset}`);
      if (diffs.length) mismatched.push(`${k}: ${diffs.join(', ')} (state/exchange)`);
      else matched++;
    }
    for (const k of ours.keys()) if (!theirs.has(k)) missingOnExchange.push(k);
  }
  const byPosition = new Map<string, FillRecord[]>();
  for (const f of state) {
    const pid = parseClientOrderId(f.clientOrderId)?.intentId;
    if (pid) byPosition.set(pid, [...(byPosition.get(pid) ?? []), f]);
  }
  const tradeMismatches: string[] = [];
  for (const t of trades) {
    const fills = byPosition.get(t.id) ?? [];
    const side = t.direction === 'long' ? 'buy' : 'sell';
    const entered = Dec.sum(fills.filter((f) => f.side === side).map((f) => f.quantity));
    const exited = Dec.sum(fills.filter((f) => f.side !== side).map((f) => f.quantity));
    const fees = Dec.sum(fills.map((f) => f.fee));
    const problems: string[] = [];
    if (!entered.eq(t.quantity)) problems.push(`entry fills ${entered.toString()} vs quantity ${t.quantity.toString()}`);
    if (!exited.eq(t.quantity) && !t.exitPrice.isZero()) problems.push(`exit fills ${exited.toString()} vs quantity ${t.quantity.toString()}`);
    if (fills.every((f) => f.feeAsset === fills[0]?.feeAsset) && !fees.eq(t.fees)) problems.push(`fill fees ${fees.toString()} vs trade fees ${t.fees.toString()}`);
    if (problems.length) tradeMismatches.push(`${t.id}: ${problems.join('; ')}`);
  }
  return {
    stateFills: state.length,
    exchangeFills: exchange ? exchange.length : null,
    tradesChecked: trades.length,
    matched,
    missingInState,
    missingOnExchange,
    mismatched,
    tradeMismatches,
    ok: missingInState.length === 0 && missingOnExchange.length === 0 && mismatched.length === 0 && tradeMismatches.length === 0,
  };
}
