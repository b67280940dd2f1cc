/**
 * The state ports, in two layers:
 * - `StateStore` is what the runtime uses. Every write is a single-item conditional write guarded by
 *   a `version` attribute (no transactions: dynalite has none); `applyEvent` makes an update
 *   idempotent by event id.
 * - `ItemTable` is the low-level table a store runs on: an in-memory map (`memoryStore.ts`) or
 *   DynamoDB (`services/adapters/dynamo/dynamoStore.ts`). Both share one engine (`store.ts`), so
 *   both have the same semantics; the contract suite in `test/state/contract.ts` runs against each.
 */
import type { QuarantinedItemError } from './errors.js';
import type { IndexName } from './keys.js';
import type { OrderState } from '../execution/orderStateMachine.js';
import type { OpsEventRecord, RecommendationRecord, UptimeRecord } from './reportRecords.js';
import type { AuditRecord, ClosedTradeRecord, CommandLogRecord, DailyStatsRecord, PublicationRecord, StatusSnapshotRecord, EntityKind, EntityMap, FillRecord, HeartbeatRecord, LeaseRecord, ModelPointerRecord, MutableKind, OrderRecord, PositionRecord } from './records.js';

// ---------------------------------------------------------------------------------------------
// The low-level table
// ---------------------------------------------------------------------------------------------

/**
 * One stored item, as plain values. Attributes: the keys (ItemKeys), `kind`, `version` (1 on
 * create, +1 per write), `data` (the record as JSON, decimals as strings), `appliedEvents` (the most
 * recent event ids applied, oldest first, at most APPLIED_EVENTS_MAX), `expiresAt` (epoch seconds,
 * the cloud's TTL attribute; leases only). Items read back are `unknown`-valued: they are validated
 * before use.
 */
export type RawItem = Readonly<Record<string, unknown>>;

/** The condition of a single-item write or delete. */
export type WriteCondition =
  | { readonly kind: 'none' }
  /** The item must not exist. */
  | { readonly kind: 'absent' }
  /** The item must exist (whatever its content). */
  | { readonly kind: 'exists' }
  /** The item must exist with this `version`. */
  | { readonly kind: 'version'; readonly version: number };

/** A sort-key condition of a query. */
export type SortRange = { readonly beginsWith: string } | { readonly between: readonly [string, string] };

/**
 * A single table with conditional single-item writes and key-range queries, nothing more (no
 * transactions, no reliance on TTL). Implementations: MemoryTable, DynamoTable. Failures to reach
 * the table reject with StateUnavailableError after the implementation's bounded retries.
 */
export interface ItemTable {
  get(pk: string, sk: string): Promise<RawItem | undefined>;
  /** Writes the whole item; false when the condition did not hold (nothing was written). */
  put(item: RawItem, condition: WriteCondition): Promise<boolean>;
  /** Deletes the item; false when the condition did not hold. */
  delete(pk: string, sk: string, condition: WriteCondition): Promise<boolean>;
  /** Items of one partition of the table (index undefined) or of an index, in sort-key order, at most `limit`. */
  query(index: IndexName | undefined, pk: string, range: SortRange | undefined, limit: number): Promise<RawItem[]>;
}

// ---------------------------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------------------------

/** A record with the version of the item it was read from or written as. */
export interface Versioned<T> {
  readonly value: T;
  readonly version: number;
}

/** The outcome of applyEvent. */
export interface ApplyResult<T> {
  /** False when the event id was seen before (a replay) or the update changed nothing. */
  readonly applied: boolean;
  /** The item after the call (undefined only when it does not exist and the update created nothing). */
  readonly current: Versioned<T> | undefined;
}

/** What the store reports when it quarantines an item. */
export interface QuarantineReport {
  /** The item's original primary key. */
  readonly pk: string;
  readonly sk: string;
  /** The kind it was read as. */
  readonly kind: EntityKind;
  /** Why it failed validation (field paths and messages). */
  readonly reason: string;
  readonly at: number;
  /** False when the copy to the quarantine partition failed (the item then stays and is skipped). */
  readonly stored: boolean;
  readonly error: QuarantinedItemError;
}

/** A quarantined item as stored in the quarantine partition. */
export interface QuarantinedItem {
  readonly pk: string;
  readonly sk: string;
  readonly kind: string;
  readonly reason: string;
  readonly at: number;
  /** The original item's attributes as JSON. */
  readonly raw: string;
}

/** Bound on the event ids remembered per item for idempotency (older ones are dropped first). */
export const APPLIED_EVENTS_MAX = 64;

/**
 * The state store. Every method rejects with StateUnavailableError when the table cannot be
 * reached within the retry bound; reads never reject because of a malformed item (it is
 * quarantined, reported and skipped).
 */
export interface StateStore {
  /** Reads one record; undefined when absent (or quarantined on this read). */
  get<K extends MutableKind>(kind: K, id: string): Promise<Versioned<EntityMap[K]> | undefined>;
  /**
   * Writes a record if the stored version is `expectedVersion` (undefined: the item must not
   * exist). Returns the new version. Throws VersionConflictError when another writer got there
   * first, DataValidationError when the record does not fit its schema.
   */
  put<K extends MutableKind>(kind: K, value: EntityMap[K], expectedVersion: number | undefined): Promise<Versioned<EntityMap[K]>>;
  /**
   * Applies `update` to the current record (undefined when absent) unless `eventId` was applied
   * to this item before. `update` returns the next record, or its argument unchanged (the same
   * object) for "nothing to do". Conflicts with concurrent writers are retried (re-reading and
   * calling `update` again) up to a bound, then VersionConflictError. `update` must be pure: it
   * may run more than once; what it throws propagates and nothing is written. Event ids are
   * remembered per item (the last APPLIED_EVENTS_MAX), also across plain `put`s.
   */
  applyEvent<K extends MutableKind>(kind: K, id: string, eventId: string, update: (current: EntityMap[K] | undefined) => EntityMap[K] | undefined): Promise<ApplyResult<EntityMap[K]>>;

  /** Stores a fill once per (symbol, trade id); true when it was new. */
  putFillOnce(fill: FillRecord): Promise<boolean>;
  /** Stores a closed trade once per id; true when it was new. */
  putClosedTradeOnce(trade: ClosedTradeRecord): Promise<boolean>;
  /** Appends a signal audit event once per (trace id, seq); true when it was new. */
  putAuditOnce(event: AuditRecord): Promise<boolean>;
  /** The signal audit events of the UTC day `day` (yyyy-mm-dd), oldest first (at most `limit`, default 1000). */
  listAudit(day: string, limit?: number): Promise<AuditRecord[]>;

  /** Positions not closed, by symbol then id (at most `limit`, default 1000). */
  listOpenPositions(limit?: number): Promise<Versioned<PositionRecord>[]>;
  /** Orders not in a terminal state, optionally only those in `states` (at most `limit`, default 1000). */
  listOpenOrders(states?: readonly OrderState[], limit?: number): Promise<Versioned<OrderRecord>[]>;
  /** The fills of one order, oldest first (at most `limit`, default 1000). */
  listFillsOfOrder(clientOrderId: string, limit?: number): Promise<FillRecord[]>;
  /** Fills with since <= time <= until, oldest first, over at most MAX_QUERY_DAYS UTC days (at most `limit`, default 1000). */
  listFillsBetween(since: number, until: number, limit?: number): Promise<FillRecord[]>;
  /** Closed trades whose exit time falls on the UTC day `day` (yyyy-mm-dd), by exit time. */
  listClosedTrades(day: string, limit?: number): Promise<ClosedTradeRecord[]>;
  /** Daily stats of the UTC days fromDay..toDay inclusive, oldest first. */
  listDailyStats(fromDay: string, toDay: string, limit?: number): Promise<Versioned<DailyStatsRecord>[]>;

  /**
   * Takes the lease on `symbol` for `owner` until now + ttlMs: succeeds when it is free, expired,
   * or already `owner`'s (then it is extended). Throws LeaseHeldError when another owner holds a
   * live lease.
   */
  acquireLease(symbol: string, owner: string, ttlMs: number, now: number): Promise<LeaseRecord>;
  /** Extends `owner`'s lease; LeaseHeldError when the lease is absent, expired, or someone else's. */
  renewLease(symbol: string, owner: string, ttlMs: number, now: number): Promise<LeaseRecord>;
  /** Releases `owner`'s lease; false (and nothing changes) when it is not `owner`'s. */
  releaseLease(symbol: string, owner: string): Promise<boolean>;
  /** The stored lease, live or expired (compare `expiresAt` with the time), or undefined. */
  getLease(symbol: string): Promise<LeaseRecord | undefined>;

  /** Records a heartbeat (last writer wins per owner). */
  putHeartbeat(heartbeat: HeartbeatRecord): Promise<void>;
  getHeartbeat(owner: string): Promise<HeartbeatRecord | undefined>;

  getModelPointer(): Promise<ModelPointerRecord | undefined>;
  /** Makes `version` the live model and keeps the current one as `previous`; a no-op when it is already live. */
  promoteModel(version: string, uri: string, now: number): Promise<ModelPointerRecord>;
  /** Makes `previous` live again (and forgets it as previous); InvalidStateError when there is none. */
  rollbackModel(now: number): Promise<ModelPointerRecord>;

  /** Stores the hot path's status snapshot (last writer wins). */
  putStatusSnapshot(snapshot: StatusSnapshotRecord): Promise<void>;
  getStatusSnapshot(): Promise<StatusSnapshotRecord | undefined>;
  /** Logs a console command once per id; true when it was new. */
  putCommandLogOnce(entry: CommandLogRecord): Promise<boolean>;
  /** The latest report or review of its kind and period (last writer wins). */
  putPublication(record: PublicationRecord): Promise<void>;
  /** The latest report and review of each period, newest first (at most six). */
  listPublications(): Promise<PublicationRecord[]>;
  /** The command log of a UTC day, oldest first. */
  listCommandLog(day: string, limit?: number): Promise<CommandLogRecord[]>;
  /** Stores an operations-log event once per id; true when it was new. */
  putOpsEventOnce(event: OpsEventRecord): Promise<boolean>;
  /** The operations log of the UTC day `day`, oldest first. */
  listOpsEvents(day: string, limit?: number): Promise<OpsEventRecord[]>;
  /**
   * Adds one heartbeat at `at` to `owner`'s uptime item of that UTC day (see reportRecords.ts
   * `withBeat`): a read and a conditional write, retried on a lost race.
   */
  recordUptime(beat: { owner: string; mode: string; at: number; maxGapMs: number }): Promise<UptimeRecord>;
  /** Every owner's uptime item of the UTC day `day`. */
  listUptime(day: string, limit?: number): Promise<UptimeRecord[]>;
  /** The recommendation ledger, oldest first, created at or after `since` (epoch ms). */
  listRecommendations(since: number, limit?: number): Promise<Versioned<RecommendationRecord>[]>;

  /** The quarantine partition (at most `limit`, default 100). */
  listQuarantined(limit?: number): Promise<QuarantinedItem[]>;
}

/** Bound on the UTC days one listFillsBetween call may span. */
export const MAX_QUERY_DAYS = 366;
/** Default and maximum size of a list result. */
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;
