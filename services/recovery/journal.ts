/**
 * The position journal: what the hot path writes to the state store so that a process killed at
 * any moment can be restarted and pick up where it was (crash-only design).
 *
 * Write-ahead: before an order is handed to the exchange, its order record is created with a
 * create-only conditional write (and, for an entry, the position record with the intent). A client
 * order id can therefore be journaled once, and since nothing is sent without its journal entry,
 * it can be sent as a new order at most once, in this run or any later one. Everything else (fills,
 * order statuses, the position's counters, stops, closing) is written after the fact, in order per
 * position; losing those writes in a crash costs nothing, because a restart re-reads the fills and
 * statuses from the exchange (services/recovery/recover.ts).
 *
 * Pure core: the store is a port, the clock is passed in.
 */
import { z } from 'zod';
import { Dec } from '../core/money.js';
import { DomainError } from '../core/errors.js';
import { symbolId, type SymbolId } from '../core/types.js';
import { parseClientOrderId } from '../model/clientOrderId.js';
import type { PositionSnapshot, RestoredPosition, Role } from '../execution/executor.js';
import type { Fill, OrderRequest, OrderUpdate } from '../model/orders.js';
import type { EnterIntent, ExitReason } from '../model/intents.js';
import { VersionConflictError, type OrderRecord, type PositionRecord, type StateStore } from '../state/types.js';
import type { VenueFill, VenueOrderType } from '../venue/types.js';

/** A position record that cannot be turned back into a position (a malformed intent, say). */
export class JournalRecordError extends DomainError {
  override readonly name: string = 'JournalRecordError';
}

/** What `beforeSubmit` decided. */
export type WriteAhead = 'journaled' | 'duplicate' | 'unavailable';

export interface JournalDeps {
  readonly store: StateStore;
  readonly now: () => number;
  /** Trading mode, stored on each position so a paper run never resumes a live position or the reverse. */
  readonly mode: 'paper' | 'live';
  /** A write that failed (after the store's own retries); the journal goes on. */
  readonly onProblem?: (what: string, error: unknown) => void;
}

const EXIT_REASONS = ['stop', 'breakeven', 'trail', 'signal', 'external', 'target', 'time', 'break', 'halt', 'end_of_data', 'reconciled'] as const;

/** The intent as stored in `extras.intent`: what a restart needs, without the decision log. */
const storedIntentSchema = z.object({
  id: z.string().min(1),
  symbol: z.string().min(1),
  direction: z.enum(['long', 'short']),
  time: z.number(),
  price: z.number(),
  stop: z.number(),
  targets: z.array(z.object({ label: z.enum(['primary', 'secondary', 'aggressive']), price: z.number(), fraction: z.number() })).max(8),
  // `sources` (the level's detection methods) is read by the reports' facts pack; older records lack it.
  level: z.object({ price: z.number(), touches: z.number(), sources: z.array(z.string().max(32)).max(8).optional() }),
  oppositeLevel: z.number().nullable(),
  expiresAt: z.number(),
});

function storedIntent(i: EnterIntent): string {
  return JSON.stringify({
    id: i.id,
    symbol: i.symbol,
    direction: i.direction,
    time: i.time,
    price: i.price,
    stop: i.stop,
    targets: i.targets.map((t) => ({ label: t.label, price: t.price, fraction: t.fraction })),
    level: { price: i.level.price, touches: i.level.touches, sources: i.level.sources.slice(0, 8) },
    oppositeLevel: i.oppositeLevel,
    expiresAt: i.expiresAt,
  });
}

/** Reads the intent back from a position record; JournalRecordError when it is missing or malformed. */
export function intentOf(rec: PositionRecord): EnterIntent {
  const raw = rec.extras?.intent;
  if (typeof raw !== 'string') throw new JournalRecordError(`position ${rec.id}: no stored intent`);
  let parsed;
  try {
    parsed = storedIntentSchema.parse(JSON.parse(raw));
  } catch (e) {
    throw new JournalRecordError(`position ${rec.id}: malformed stored intent`, { cause: e });
  }
  return {
    kind: 'enter',
    id: parsed.id,
    symbol: symbolId(parsed.symbol),
    direction: parsed.direction,
    time: parsed.time,
    price: parsed.price,
    stop: parsed.stop,
    targets: parsed.targets,
    level: { price: parsed.level.price, touches: parsed.level.touches, sources: parsed.level.sources ?? [] },
    oppositeLevel: parsed.oppositeLevel,
    reasons: ['restored after a restart'],
    expiresAt: parsed.expiresAt,
  };
}

/** The role of one of the executor's client ids (undefined for ids that are not the executor's). */
export function roleOf(clientOrderId: string): Role | undefined {
  return parseClientOrderId(clientOrderId)?.role;
}

/** The position id (intent id) of one of the executor's client ids. */
export function positionIdOf(clientOrderId: string): string | undefined {
  return parseClientOrderId(clientOrderId)?.intentId;
}

/**
 * Whether an order record is settled for good, so a restart need not ask the venue about it: the
 * venue refused it (a definite answer: it never existed there), or it ended with nothing filled
 * (cancelled, expired, or not found at an earlier restart). An entry is always looked up: its
 * position's fate hangs on it, and there is one per position.
 */
export function orderEnded(o: OrderRecord): boolean {
  if (o.role === 'entry') return false;
  if (o.state === 'rejected') return true;
  return (o.state === 'cancelled' || o.state === 'expired') && o.filledQuantity.isZero();
}

/** Rebuilds what `Executor.restore` needs from a position record and its orders' records. */
export function restoredPosition(rec: PositionRecord, orders: readonly OrderRecord[]): RestoredPosition {
  const intent = intentOf(rec);
  const reason = rec.exitReason;
  const exitReason = (EXIT_REASONS as readonly string[]).includes(reason ?? '') ? (reason as ExitReason) : null;
  return {
    intent,
    stop: rec.stopPrice,
    breakevenMoved: rec.extras?.breakevenMoved === true,
    openedAt: rec.openedAt,
    entrySubmittedAt: typeof rec.extras?.entrySubmittedAt === 'number' ? rec.extras.entrySubmittedAt : rec.openedAt,
    exitReason,
    orders: orders
      .filter((o) => o.role === 'entry' || o.role === 'target' || o.role === 'exit')
      .map((o) => ({ clientOrderId: o.clientOrderId, role: o.role as Role, quantity: o.quantity, ...(o.price ? { price: o.price } : {}), ...(orderEnded(o) ? { ended: true } : {}) })),
  };
}

const STATE_OF: Record<PositionSnapshot['state'], PositionRecord['state']> = { entering: 'opening', open: 'open', closing: 'closing' };

/** See the file comment. One per runtime. */
export class PositionJournal {
  private readonly store: StateStore;
  /** Intents announced by the executor (entry_submitted), waiting for their entry's write-ahead. */
  private readonly intents = new Map<string, EnterIntent>();
  /** Per-position write chains, so a position's writes land in order. */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;
  readonly stats = { journaled: 0, duplicates: 0, failures: 0, snapshots: 0, fills: 0 };

  constructor(private readonly deps: JournalDeps) {
    this.store = deps.store;
  }

  /** The executor announced an entry (its `entry_submitted` event comes just before the submit). */
  noteIntent(intent: EnterIntent): void {
    this.intents.set(intent.id, intent);
  }

  /**
   * Write-ahead for one order, awaited before it is sent. 'journaled': send it. 'duplicate': this
   * client id was journaled before (an earlier run sent it, or was about to): never send it again.
   * 'unavailable': the store could not be written; the caller decides (entries are refused, exits
   * go out anyway, since reducing risk beats bookkeeping, and a restart adopts them from the venue).
   */
  async beforeSubmit(req: OrderRequest): Promise<WriteAhead> {
    const role = roleOf(req.clientOrderId) ?? 'exit';
    const positionId = positionIdOf(req.clientOrderId);
    const now = this.deps.now();
    const order: OrderRecord = {
      clientOrderId: req.clientOrderId,
      symbol: req.symbol,
      side: req.side,
      type: orderTypeOf(req),
      role: role,
      ...(positionId ? { positionId } : {}),
      quantity: req.quantity,
      ...(req.price ? { price: req.price } : {}),
      state: 'pending',
      sent: true,
      filledQuantity: Dec.ZERO,
      fillSum: Dec.ZERO,
      tradeIds: [],
      createdAt: now,
      updatedAt: now,
    };
    // The order record (create-only: the duplicate guard) and the position's record (the intent for
    // an entry, the client id added otherwise) are written at once: one round trip to the table
    // before the send, not two. Both must succeed before the order may go out.
    const intent = role === 'entry' && positionId ? this.intents.get(positionId) : undefined;
    if (positionId) this.intents.delete(positionId);
    const orderWrite = this.store.put('order', order, undefined).then(
      () => 'ok' as const,
      (e: unknown) => (e instanceof VersionConflictError ? ('duplicate' as const) : e),
    );
    const positionWrite = positionId
      ? this.chain(positionId, () =>
          this.store
            .applyEvent('position', positionId, `order:${req.clientOrderId}`, (cur) => {
              if (cur) return cur.orderIds.includes(req.clientOrderId) ? cur : { ...cur, orderIds: [...cur.orderIds, req.clientOrderId], updatedAt: now };
              if (!intent) return undefined;
              return this.newPositionRecord(intent, req, now);
            })
            .then(() => undefined),
        ).then(
          () => 'ok' as const,
          (e: unknown) => e,
        )
      : Promise.resolve('ok' as const);
    const [o, p] = await Promise.all([orderWrite, positionWrite]);
    if (o === 'duplicate') {
      this.stats.duplicates++;
      return 'duplicate';
    }
    if (o !== 'ok') {
      this.stats.failures++;
      this.deps.onProblem?.(`journaling order ${req.clientOrderId}`, o);
      return 'unavailable';
    }
    if (p !== 'ok') {
      this.stats.failures++;
      this.deps.onProblem?.(`journaling position ${positionId ?? '-'}`, p);
      return 'unavailable';
    }
    this.stats.journaled++;
    return 'journaled';
  }

  private newPositionRecord(intent: EnterIntent, req: OrderRequest, now: number): PositionRecord {
    return {
      id: intent.id,
      symbol: intent.symbol,
      direction: intent.direction,
      state: 'opening',
      entryQuantity: Dec.ZERO,
      entryCost: Dec.ZERO,
      exitQuantity: Dec.ZERO,
      exitProceeds: Dec.ZERO,
      fees: Dec.ZERO,
      stopPrice: Dec.from(intent.stop),
      targets: [],
      openedAt: now,
      orderIds: [req.clientOrderId],
      updatedAt: now,
      extras: { intent: storedIntent(intent), mode: this.deps.mode, entrySubmittedAt: now, breakevenMoved: false },
    };
  }

  /** Stores a fill once (the ledger the balances are checked against). Not awaited by the caller. */
  recordFill(f: Fill): void {
    this.stats.fills++;
    // SafeExchange hands the executor fills without the venue's order id; the ledger keys by trade id.
    const rec = { ...f, exchangeOrderId: (f as Partial<VenueFill>).exchangeOrderId || '-' };
    void this.store.putFillOnce(rec).catch((e: unknown) => this.fail(`storing fill ${f.tradeId}`, e));
  }

  /** Moves an order record to the venue's status (final statuses only). Not awaited by the caller. */
  recordOrderUpdate(u: OrderUpdate): void {
    if (u.status === 'new' || u.status === 'partially_filled') return;
    const state = u.status;
    const key = positionIdOf(u.clientOrderId) ?? u.clientOrderId;
    void this.chain(key, () =>
      this.store
        .applyEvent('order', u.clientOrderId, `status:${state}`, (cur) =>
          cur && cur.state !== state ? { ...cur, state, filledQuantity: u.filledQuantity, updatedAt: this.deps.now(), ...(u.reason ? { reason: u.reason.slice(0, 1000) } : {}) } : cur,
        )
        .then(() => undefined),
    ).catch((e: unknown) => this.fail(`updating order ${u.clientOrderId}`, e));
  }

  /** Saves the executor's view of a position (after a fill, a stop move, an exit start). Ordered per position. */
  saveSnapshot(s: PositionSnapshot): void {
    this.stats.snapshots++;
    const now = this.deps.now();
    const eventId = `snap:${now}:${++this.seq}`;
    void this.chain(s.id, () =>
      this.store
        .applyEvent('position', s.id, eventId, (cur) => {
          if (!cur || cur.state === 'closed') return cur;
          const orderIds = [...cur.orderIds];
          for (const o of s.orders) if (!orderIds.includes(o.clientOrderId)) orderIds.push(o.clientOrderId);
          return {
            ...cur,
            state: STATE_OF[s.state],
            entryQuantity: s.filledQty,
            entryCost: s.entryCost,
            exitQuantity: s.exitQty,
            exitProceeds: s.exitProceeds,
            fees: s.entryFees.add(s.exitFees),
            stopPrice: s.stop,
            targets: s.orders
              .filter((o) => o.role === 'target')
              .map((o) => ({ price: o.price ?? Dec.ZERO, quantity: o.quantity, clientOrderId: o.clientOrderId, filled: o.filled })),
            openedAt: s.openedAt,
            orderIds,
            updatedAt: now,
            ...(s.exitReason ? { exitReason: s.exitReason } : {}),
            extras: { ...(cur.extras ?? {}), breakevenMoved: s.breakevenMoved, entryFees: s.entryFees.toString(), exitAttempts: s.exitAttempts },
          };
        })
        .then(() => undefined),
    ).catch((e: unknown) => this.fail(`saving position ${s.id}`, e));
  }

  /** Marks a position closed (a trade, or an entry that never filled). Ordered per position. */
  closePosition(positionId: string, closedAt: number, reason: string, totals?: { entryQuantity: Dec; entryCost: Dec; exitQuantity: Dec; exitProceeds: Dec; fees: Dec }): Promise<void> {
    return this.chain(positionId, () =>
      this.store
        .applyEvent('position', positionId, `closed`, (cur) =>
          !cur || cur.state === 'closed' ? cur : { ...cur, ...(totals ?? {}), state: 'closed', closedAt: Math.max(closedAt, cur.openedAt), exitReason: reason.slice(0, 256), updatedAt: this.deps.now() },
        )
        .then(() => undefined),
    ).catch((e: unknown) => this.fail(`closing position ${positionId}`, e));
  }

  /** Resolves when every write queued so far has finished (or failed). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.chains.values()]);
  }

  private chain(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    const settled = next.catch(() => undefined);
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) === settled) this.chains.delete(key);
    });
    return next;
  }

  private fail(what: string, e: unknown): void {
    this.stats.failures++;
    this.deps.onProblem?.(what, e);
  }
}

function orderTypeOf(req: OrderRequest): VenueOrderType {
  if (req.type === 'market') return 'market';
  return req.postOnly === true ? 'post_only' : 'limit';
}

/** The symbol of a record, typed. */
export function symbolOf(rec: { symbol: string }): SymbolId {
  return symbolId(rec.symbol);
}
