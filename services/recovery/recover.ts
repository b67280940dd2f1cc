/**
 * Crash-only start: before the runtime trades, it loads what the journal wrote and reconciles it
 * with the exchange, which is the truth.
 *
 * 1. Every open position of this mode on our symbols is rebuilt in the executor from its record
 *    (intent, stop, breakeven flag, the client ids of every order placed for it), and those orders
 *    are adopted by SafeExchange as "outcome unknown". Then each order is reconciled with the venue
 *    (entry first, then targets, then exits): its fills are replayed through the usual paths, so a
 *    position whose target or exit filled while the process was down closes with its real PnL, an
 *    entry that never reached the venue ends without a resend, and an entry that filled gets its
 *    targets (under the same client ids, so nothing already sent goes out again).
 * 2. A position still open is checked against the 1m candles of the time it was unwatched: a stop
 *    crossed (or a time stop passed) meanwhile exits now at market, and its PnL is that real fill.
 *    Management (targets, stop, breakeven, time stop) then resumes with the stream.
 * 3. Order records that are open in the state but belong to no open position are settled from the
 *    venue; orders open on the venue that the state does not know are cancelled or adopted (policy).
 * 4. The account's fills since `fillLookbackMs` are written to the fill ledger (once per trade id).
 * 5. Live: the portfolio takes the venue's balances (replayed fills must not count twice), and
 *    holdings that no open position explains are reported.
 *
 * Paper mode keeps its account in memory, so a paper run cannot resume paper positions: they are
 * closed in the state as abandoned (no trade is recorded for them) and reported.
 *
 * An exchange that cannot be asked makes recovery fail (RecoveryError): the runtime must not trade
 * on a guess; the process exits and its supervisor starts it again.
 */
import { Dec } from '../core/money.js';
import { DomainError } from '../core/errors.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { SymbolId } from '../core/types.js';
import type { Executor } from '../execution/executor.js';
import type { SafeExchange } from '../execution/safeExchange.js';
import { MAX_REPLACEMENTS, STUCK_ORDER_ROLES, replacementClientOrderId } from '../execution/stuckOrders.js';
import type { Portfolio } from '../portfolio/portfolio.js';
import type { OrderRecord, PositionRecord, StateStore } from '../state/types.js';
import { orderEnded, restoredPosition, type PositionJournal } from './journal.js';
import { adoptedOrderRecord, completeFillLedger, holdingDisagrees } from './venueRecords.js';

export class RecoveryError extends DomainError {
  override readonly name: string = 'RecoveryError';
}

export interface RecoveryOptions {
  readonly mode: 'paper' | 'live';
  /** Orders open on the venue that the state does not know: cancelled, or recorded and left alone. */
  readonly unknownOrders: 'cancel' | 'adopt';
  /** How far back the fill ledger is completed from the venue. */
  readonly fillLookbackMs: number;
}

export interface RecoveryDeps {
  readonly store: StateStore;
  /** The exchange layer; the recovery's own venue reads go through its guard (`safe.venue`: breakers, retries). */
  readonly safe: SafeExchange;
  readonly executor: Executor;
  readonly journal: PositionJournal;
  readonly portfolio: Portfolio;
  readonly quoteAsset: string;
  /** The venue's clock (wall time live; the market clock against a replay). */
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** The local clock, for the report's duration (default: `now`). */
  readonly wall?: () => number;
}

export interface RecoveryReport {
  readonly positionsFound: number;
  readonly positionsRestored: number;
  /** Closed by the replay of fills that happened while the process was down. */
  readonly closedWhileDown: string[];
  /** Entries that never filled (never reached the venue, or cancelled): closed in the state without a trade. */
  readonly entriesWithoutFill: string[];
  /** Exits sent now because a stop or a time stop passed while the process was down. */
  readonly exitsForDownTime: { positionId: string; reason: 'stop' | 'breakeven' | 'time'; detail: string }[];
  readonly ordersReconciled: number;
  readonly fillsReplayed: number;
  readonly orphanOrdersSettled: number;
  readonly unknownOrdersCancelled: string[];
  readonly unknownOrdersAdopted: string[];
  readonly fillsLedgered: number;
  readonly abandonedPaperPositions: string[];
  /** Held on the venue, beyond what open positions explain (or short of it). */
  readonly balanceMismatches: { symbol: SymbolId; venue: string; positions: string }[];
  readonly problems: string[];
  readonly ms: number;
}

const ROLE_ORDER = { entry: 0, target: 1, exit: 2 } as const;

/** The stuck-order replacements of `clientOrderId` the venue knows, in order (one lookup past the last). */
async function replacementLegs(venue: SafeExchange['venue'], symbol: SymbolId, clientOrderId: string): Promise<string[]> {
  const legs: string[] = [];
  for (let n = 1; n <= MAX_REPLACEMENTS; n++) {
    const id = replacementClientOrderId(clientOrderId, n);
    if (!(await venue.fetchOrderByClientId(symbol, id))) break;
    legs.push(id);
  }
  return legs;
}

/** Runs the recovery for `symbols` (those whose lease this runtime holds). See the file comment. */
export async function recoverOnStart(symbols: readonly SymbolId[], opts: RecoveryOptions, deps: RecoveryDeps): Promise<RecoveryReport> {
  const wall = deps.wall ?? deps.now;
  const t0 = wall();
  const venue = deps.safe.venue;
  const ours = new Set<string>(symbols);
  const problems: string[] = [];
  const closedWhileDown: string[] = [];
  const entriesWithoutFill: string[] = [];
  const exitsForDownTime: RecoveryReport['exitsForDownTime'] = [];
  const abandoned: string[] = [];
  let ordersReconciled = 0;
  let fillsReplayed = 0;
  const ask = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new RecoveryError(`recovery: cannot ${what}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    }
  };

  const records = (await deps.store.listOpenPositions()).filter((r) => ours.has(r.value.symbol));
  const known = new Set<string>();
  const restored: { rec: PositionRecord; orders: OrderRecord[] }[] = [];

  for (const { value: rec } of records) {
    const recMode = rec.extras?.mode === 'live' ? 'live' : 'paper';
    for (const id of rec.orderIds) known.add(id);
    if (recMode !== opts.mode) {
      if (opts.mode === 'paper') {
        problems.push(`position ${rec.id} (${rec.symbol}) belongs to a live run; a paper run leaves it alone`);
        continue;
      }
      // A live start finds a paper position: paper accounts live in memory, nothing to resume.
    }
    if (recMode === 'paper') {
      await deps.journal.closePosition(rec.id, deps.now(), 'abandoned: the paper account of an earlier run is not kept');
      abandoned.push(rec.id);
      continue;
    }
    const orders: OrderRecord[] = [];
    for (const cid of rec.orderIds) {
      const o = await deps.store.get('order', cid);
      if (o) orders.push(o.value);
      else problems.push(`position ${rec.id}: order ${cid} has no record`);
    }
    try {
      deps.executor.restore(restoredPosition(rec, orders));
    } catch (e) {
      problems.push(`position ${rec.id} (${rec.symbol}) cannot be restored: ${e instanceof Error ? e.message : String(e)}; it is NOT managed`);
      continue;
    }
    for (const o of orders) {
      if (o.role === 'stop' || orderEnded(o)) continue;
      // A stuck entry or exit may have been re-placed (policy 'replace') as <id>R1, R2, ...: the
      // legs are not journaled, so they are found on the venue (each exists only if the one before
      // does) and adopted with it, their fills then credited to this order, not left unexplained.
      const legs = STUCK_ORDER_ROLES.includes(o.role) ? await ask(`look up the replacements of ${o.clientOrderId}`, () => replacementLegs(venue, o.symbol, o.clientOrderId)) : [];
      deps.safe.adopt({ clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, type: o.type, quantity: o.quantity, createdAt: o.createdAt, ...(legs.length > 0 ? { legs } : {}) });
    }
    restored.push({ rec, orders });
  }

  // Replay every restored order against the venue: entries, then targets, then exits.
  const closedIds = new Set<string>();
  const off = listen(deps.executor, (id) => closedIds.add(id));
  try {
    for (const { rec, orders } of restored) {
      // Orders settled for good in the journal (refused, or ended unfilled) are not asked about again:
      // a position whose exits kept being refused once made every start look up dozens of them.
      const sorted = [...orders].filter((o) => o.role !== 'stop' && !orderEnded(o)).sort((a, b) => ROLE_ORDER[a.role as 'entry'] - ROLE_ORDER[b.role as 'entry']);
      for (const o of sorted) {
        const r = await ask(`reconcile order ${o.clientOrderId}`, () => deps.safe.reconcileOrder(o.symbol, o.clientOrderId));
        ordersReconciled++;
        fillsReplayed += r.fillsDelivered;
        if (r.venueStatus === undefined && o.role !== 'entry') await settleNotFound(deps, o, problems);
      }
      if (!deps.executor.position(rec.symbol) && !closedIds.has(rec.id)) {
        // Dropped without a fill: the entry never reached the venue, or was cancelled unfilled.
        entriesWithoutFill.push(rec.id);
        await deps.journal.closePosition(rec.id, deps.now(), 'entry not filled (found at restart)');
      } else if (closedIds.has(rec.id)) {
        closedWhileDown.push(rec.id);
      }
    }
  } finally {
    off();
  }

  // Stops and time stops that passed while nobody watched.
  for (const { rec } of restored) {
    const view = deps.executor.position(rec.symbol);
    if (!view || view.state !== 'open') continue;
    const now = deps.now();
    let reason: 'stop' | 'breakeven' | 'time' | undefined;
    let detail = '';
    if (now >= view.expiresAt) {
      reason = 'time';
      detail = `time stop passed at ${new Date(view.expiresAt).toISOString()} while the process was down`;
    } else {
      const since = Math.max(rec.updatedAt, view.openedAt) - MINUTE_MS;
      const candles = await ask(`read the 1m candles of ${rec.symbol}`, () => venue.fetchKlines(rec.symbol, '1m', since, 1000));
      const hit = candles.find((c) => c.low <= view.stop);
      if (hit) {
        reason = view.breakevenMoved ? 'breakeven' : 'stop';
        detail = `the low ${hit.low} at ${new Date(hit.openTime).toISOString()} crossed the stop ${view.stop} while the process was down`;
      }
    }
    if (reason) {
      exitsForDownTime.push({ positionId: view.id, reason, detail });
      deps.log(`RECOVER ${rec.symbol} ${reason}: ${detail}; exiting at market now`);
      await deps.executor.exit(view.id, reason, detail, now);
    }
    const snap = deps.executor.snapshot(view.id);
    if (snap) deps.journal.saveSnapshot(snap);
  }

  // Order records open in the state that belong to no restored position.
  let orphanOrdersSettled = 0;
  const restoredIds = new Set(restored.map((r) => r.rec.id));
  for (const { value: o } of await deps.store.listOpenOrders()) {
    if (!ours.has(o.symbol)) continue;
    known.add(o.clientOrderId);
    if (o.positionId && restoredIds.has(o.positionId) && deps.safe.isTracked(o.clientOrderId)) continue;
    const r = await ask(`look up order ${o.clientOrderId}`, () => deps.safe.reconcileOrder(o.symbol, o.clientOrderId));
    let status = r.venueStatus;
    if (status === 'new' || status === 'partially_filled') {
      // Ours, but its position is gone: nothing manages it, so it is cancelled.
      const ack = await deps.safe.cancel(o.symbol, o.clientOrderId);
      status = ack.status === 'rejected' ? status : ack.status;
    }
    const final = status === undefined ? 'cancelled' : status;
    if (final !== 'new' && final !== 'partially_filled') {
      await deps.store
        .applyEvent('order', o.clientOrderId, `settled:${final}`, (cur) =>
          cur ? { ...cur, state: final, updatedAt: deps.now(), ...(status === undefined ? { reason: 'not found on the venue at restart' } : {}) } : cur,
        )
        .catch((e: unknown) => problems.push(`order ${o.clientOrderId}: ${String(e)}`));
      orphanOrdersSettled++;
    }
  }

  // Orders open on the venue that the state does not know.
  const unknownOrdersCancelled: string[] = [];
  const unknownOrdersAdopted: string[] = [];
  for (const s of symbols) {
    const open = await ask(`list the open orders of ${s}`, () => venue.fetchOpenOrders(s));
    for (const vo of open) {
      if (known.has(vo.clientOrderId) || deps.safe.isTracked(vo.clientOrderId)) continue;
      const rec = await deps.store.get('order', vo.clientOrderId);
      if (rec && rec.value.positionId && !restoredIds.has(rec.value.positionId)) {
        // Journaled for a position that is closed: a leftover, cancelled.
        await deps.safe.cancel(s, vo.clientOrderId);
        unknownOrdersCancelled.push(vo.clientOrderId);
        continue;
      }
      if (rec) continue;
      if (opts.unknownOrders === 'cancel') {
        const ack = await deps.safe.cancel(s, vo.clientOrderId);
        // Not open on the venue any more (it ended since the listing): nothing left to cancel.
        if (ack.status === 'rejected' && ack.errorKind !== 'order_not_found') problems.push(`unknown order ${vo.clientOrderId} on ${s} could not be cancelled: ${ack.reason ?? ''}`);
        else unknownOrdersCancelled.push(vo.clientOrderId);
      } else {
        await deps.store
          .put('order', adoptedOrderRecord(vo, deps.now(), 'adopted at restart: open on the venue, unknown to the state; not managed'), undefined)
          .catch((e: unknown) => problems.push(`adopting ${vo.clientOrderId}: ${String(e)}`));
        unknownOrdersAdopted.push(vo.clientOrderId);
      }
    }
  }

  // The fill ledger, completed from the venue.
  let fillsLedgered = 0;
  const since = deps.now() - opts.fillLookbackMs;
  for (const s of symbols) fillsLedgered += await ask(`read the fills of ${s}`, () => completeFillLedger(deps.store, venue, s, since));

  // Live: the venue's balances become the portfolio's.
  const balanceMismatches: RecoveryReport['balanceMismatches'] = [];
  if (opts.mode === 'live') {
    const balances = await ask('read the balances', () => venue.fetchBalances());
    const total = (asset: string): Dec => {
      const b = balances.find((x) => x.asset === asset);
      return b ? b.free.add(b.locked) : Dec.ZERO;
    };
    const holdings = new Map<SymbolId, Dec>();
    for (const s of symbols) {
      const m = venue.market(s);
      const held = total(m.base);
      holdings.set(s, held);
      const snap = deps.executor.snapshot(deps.executor.position(s)?.id ?? '');
      const expected = snap ? snap.filledQty.sub(snap.exitQty) : Dec.ZERO;
      if (holdingDisagrees(held, expected, m) && held.mul(Dec.from(deps.portfolio.lastPrice(s) ?? 0)).gte(m.minNotional)) {
        balanceMismatches.push({ symbol: s, venue: held.toString(), positions: expected.toString() });
      }
    }
    deps.portfolio.resetBalances(total(deps.quoteAsset), holdings);
  }
  await deps.journal.flush();

  return {
    positionsFound: records.length,
    positionsRestored: restored.length,
    closedWhileDown,
    entriesWithoutFill,
    exitsForDownTime,
    ordersReconciled,
    fillsReplayed,
    orphanOrdersSettled,
    unknownOrdersCancelled,
    unknownOrdersAdopted,
    fillsLedgered,
    abandonedPaperPositions: abandoned,
    balanceMismatches,
    problems,
    ms: wall() - t0,
  };
}

/**
 * An order the venue does not know after the lookup (it never reached it; SafeExchange does not
 * resend it): its record ends as cancelled, so the next start does not ask again.
 */
async function settleNotFound(deps: RecoveryDeps, o: OrderRecord, problems: string[]): Promise<void> {
  await deps.store
    .applyEvent('order', o.clientOrderId, 'settled:not_found', (cur) =>
      cur && !cur.filledQuantity.isPositive() && cur.state !== 'filled' ? { ...cur, state: 'cancelled', updatedAt: deps.now(), reason: 'not found on the venue at restart' } : cur,
    )
    .catch((e: unknown) => problems.push(`order ${o.clientOrderId}: ${String(e)}`));
}

/** Collects the ids of positions the executor closes until the returned function is called. */
function listen(executor: Executor, onClosed: (positionId: string) => void): () => void {
  let on = true;
  executor.on((e) => {
    if (on && e.type === 'position_closed') onClosed(e.trade.id);
  });
  return () => {
    on = false;
  };
}

/** One line for the log. */
export function describeRecovery(r: RecoveryReport): string {
  return (
    `recovery in ${r.ms} ms: ${r.positionsRestored}/${r.positionsFound} position(s) restored, ${r.closedWhileDown.length} closed by fills while down, ` +
    `${r.entriesWithoutFill.length} entr(ies) never filled, ${r.exitsForDownTime.length} exit(s) for stops/time stops passed while down, ` +
    `${r.ordersReconciled} order(s) reconciled (${r.fillsReplayed} fill(s) replayed), ${r.orphanOrdersSettled} orphan order record(s) settled, ` +
    `unknown venue orders: ${r.unknownOrdersCancelled.length} cancelled, ${r.unknownOrdersAdopted.length} adopted; ${r.fillsLedgered} fill(s) added to the ledger` +
    (r.abandonedPaperPositions.length ? `; ${r.abandonedPaperPositions.length} paper position(s) of an earlier run abandoned` : '') +
    (r.balanceMismatches.length ? `; UNEXPLAINED HOLDINGS: ${r.balanceMismatches.map((m) => `${m.symbol} venue ${m.venue} vs positions ${m.positions}`).join(', ')}` : '') +
    (r.problems.length ? `; problems: ${r.problems.join('; ')}` : '')
  );
}

