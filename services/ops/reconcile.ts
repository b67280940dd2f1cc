/**
 * The scheduled reconciliation (every 5 minutes): the exchange against the state, for each traded
 * symbol. It repairs the state, never the exchange: the hot path owns trading (and reconciles the
 * exchange itself when it starts, services/recovery/recover.ts), so this job only records what the
 * state is missing or has wrong, and alerts on every repair.
 *
 * - An order open on the exchange that the state does not know is recorded (adopted, unmanaged);
 *   one the state holds as ended is set back to the exchange's status.
 * - An order the state holds as open that the exchange has ended (or never had) is set to the
 *   exchange's status. Records younger than `graceMs` are left alone: the hot path journals an
 *   order a moment before it sends it, and its own update may be on the way.
 * - The account's fills of the last `fillLookbackMs` join the fill ledger (once per trade id).
 * - Holdings that no open position explains (or a position the holdings do not cover) are
 *   reported; only a person can say whose they are.
 *
 * Pure core: the store, the venue and the clock are passed in.
 */
import { Dec } from '../core/money.js';
import type { SymbolId } from '../core/types.js';
import type { OrderState } from '../execution/orderStateMachine.js';
import type { AlertEvent } from '../events/types.js';
import { adoptedOrderRecord, completeFillLedger, holdingDisagrees, venueOrderState } from '../recovery/venueRecords.js';
import type { OrderRecord, StateStore } from '../state/types.js';
import type { VenueClient } from '../venue/types.js';
import { makeAlert } from './alerts.js';

export interface ReconcileOptions {
  readonly symbols: readonly SymbolId[];
  /** Records younger than this are not repaired (default 2 minutes). */
  readonly graceMs?: number;
  /** How far back fills are read (default 1 hour; the job runs every 5 minutes). */
  readonly fillLookbackMs?: number;
}

export interface ReconcileDeps {
  readonly store: StateStore;
  readonly venue: Pick<VenueClient, 'market' | 'fetchOpenOrders' | 'fetchOrderByClientId' | 'fetchMyTrades' | 'fetchBalances'>;
  readonly now: () => number;
}

export type Repair =
  | { readonly kind: 'order_adopted'; readonly symbol: SymbolId; readonly clientOrderId: string; readonly detail: string }
  | { readonly kind: 'order_status'; readonly symbol: SymbolId; readonly clientOrderId: string; readonly from: OrderState; readonly to: OrderState }
  | { readonly kind: 'fills_added'; readonly symbol: SymbolId; readonly count: number };

export interface ReconcileReport {
  readonly symbols: number;
  readonly ordersChecked: number;
  readonly repairs: Repair[];
  /** Holdings and positions that do not agree (reported, not repaired). */
  readonly drift: { symbol: SymbolId; held: string; positions: string }[];
  readonly problems: string[];
}

const DEFAULT_GRACE_MS = 120_000;
const DEFAULT_FILL_LOOKBACK_MS = 3_600_000;
const MAX_TRADE_PAGES = 20;

const OPEN: ReadonlySet<OrderState> = new Set<OrderState>(['pending', 'submitted', 'partially_filled', 'unknown']);

/** Runs one reconciliation; see the file comment. Venue errors become problems, not exceptions. */
export async function reconcileState(opts: ReconcileOptions, deps: ReconcileDeps): Promise<ReconcileReport> {
  const now = deps.now();
  const grace = opts.graceMs ?? DEFAULT_GRACE_MS;
  const repairs: Repair[] = [];
  const problems: string[] = [];
  const drift: ReconcileReport['drift'] = [];
  let ordersChecked = 0;
  const wanted = new Set<string>(opts.symbols);
  const stateOpen = (await deps.store.listOpenOrders()).map((v) => v.value).filter((o) => wanted.has(o.symbol));

  const setState = async (o: OrderRecord, to: OrderState, reason: string): Promise<void> => {
    await deps.store.applyEvent('order', o.clientOrderId, `reconcile:${to}:${now}`, (cur) => (cur && cur.state !== to ? { ...cur, state: to, reason, updatedAt: now } : cur));
    repairs.push({ kind: 'order_status', symbol: o.symbol, clientOrderId: o.clientOrderId, from: o.state, to });
  };

  for (const symbol of opts.symbols) {
    try {
      const venueOpen = await deps.venue.fetchOpenOrders(symbol);
      const openIds = new Set(venueOpen.map((o) => o.clientOrderId));
      for (const vo of venueOpen) {
        ordersChecked++;
        const rec = (await deps.store.get('order', vo.clientOrderId))?.value;
        if (!rec) {
          await deps.store.put('order', adoptedOrderRecord(vo, now, 'adopted by reconciliation: open on the exchange, unknown to the state'), undefined);
          repairs.push({ kind: 'order_adopted', symbol, clientOrderId: vo.clientOrderId, detail: `${vo.side} ${vo.quantity.toString()} ${vo.type}${vo.price ? ` @ ${vo.price.toString()}` : ''}` });
        } else if (!OPEN.has(rec.state) && rec.updatedAt < now - grace) {
          await setState(rec, venueOrderState(vo), 'open on the exchange (reconciliation)');
        }
      }
      for (const rec of stateOpen.filter((o) => o.symbol === symbol && !openIds.has(o.clientOrderId))) {
        ordersChecked++;
        if (rec.updatedAt >= now - grace) continue;
        const vo = await deps.venue.fetchOrderByClientId(symbol, rec.clientOrderId);
        const to = venueOrderState(vo);
        if (!OPEN.has(to)) await setState(rec, to, vo ? `ended on the exchange as ${vo.status} (reconciliation)` : 'not found on the exchange (reconciliation)');
      }
      const added = await completeFillLedger(deps.store, deps.venue, symbol, now - (opts.fillLookbackMs ?? DEFAULT_FILL_LOOKBACK_MS), MAX_TRADE_PAGES);
      if (added > 0) repairs.push({ kind: 'fills_added', symbol, count: added });
    } catch (e) {
      problems.push(`${symbol}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }

  // Holdings against open positions.
  try {
    const balances = await deps.venue.fetchBalances();
    const positions = (await deps.store.listOpenPositions()).map((v) => v.value);
    for (const symbol of opts.symbols) {
      const m = deps.venue.market(symbol);
      const b = balances.find((x) => x.asset === m.base);
      const held = b ? b.free.add(b.locked) : Dec.ZERO;
      let expected = Dec.ZERO;
      for (const p of positions) if (p.symbol === symbol && p.extras?.mode !== 'paper') expected = expected.add(p.entryQuantity.sub(p.exitQuantity));
      if (holdingDisagrees(held, expected, m)) drift.push({ symbol, held: held.toString(), positions: expected.toString() });
    }
  } catch (e) {
    problems.push(`balances: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  return { symbols: opts.symbols.length, ordersChecked, repairs, drift, problems };
}

/** One alert per repair and per drift (a warning), one for problems (critical when nothing could be checked). */
export function reconcileAlerts(r: ReconcileReport, now: number): AlertEvent[] {
  const out: AlertEvent[] = [];
  for (const x of r.repairs) {
    const key = x.kind === 'fills_added' ? `${x.kind}:${x.symbol}` : `${x.kind}:${x.clientOrderId}`;
    const detail =
      x.kind === 'order_adopted'
        ? `${x.symbol}: order ${x.clientOrderId} (${x.detail}) was open on the exchange and unknown to the state; recorded, not managed`
        : x.kind === 'order_status'
          ? `${x.symbol}: order ${x.clientOrderId} was ${x.from} in the state, ${x.to} on the exchange; state repaired`
          : `${x.symbol}: ${x.count} fill(s) were missing from the ledger; added`;
    out.push(makeAlert('reconcile', key, now, x.kind === 'fills_added' ? 'info' : 'warning', 'Reconciliation repaired the state', detail));
  }
  for (const d of r.drift) {
    out.push(makeAlert('reconcile', `drift:${d.symbol}`, now, 'warning', `Holdings and positions disagree on ${d.symbol}`, `the exchange holds ${d.held}, open positions account for ${d.positions}`));
  }
  if (r.problems.length > 0) {
    out.push(makeAlert('reconcile', 'problems', now, r.problems.length >= r.symbols ? 'critical' : 'warning', 'Reconciliation could not check everything', r.problems.join('; ')));
  }
  return out;
}
