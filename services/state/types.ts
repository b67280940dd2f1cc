/**
 * The state port: what the runtime persists (positions, orders, fills, closed trades, daily stats,
 * risk state, per-symbol leases, heartbeats, the model pointer), the record types with their zod
 * schemas, the single-table key design, and the store's errors.
 *
 * Two layers:
 * - `StateStore` is what the runtime uses. Every write is a single-item conditional write guarded by
 *   a `version` attribute (no transactions: dynalite has none); `applyEvent` makes an update
 *   idempotent by event id.
 * - `ItemTable` is the low-level table a store runs on: an in-memory map (`memoryStore.ts`) or
 *   DynamoDB (`services/adapters/dynamo/dynamoStore.ts`). Both share one engine, so both have the
 *   same semantics; the contract suite in `test/state/contract.ts` runs against each.
 *
 * Records hold exact decimals as `Dec`; at the boundary they are stored as JSON with decimal strings
 * (`Dec.toJSON`) and read back through the schemas below, so a malformed item is detected when read
 * (and quarantined, never thrown into the caller's loop). The key design is documented in
 * `services/state/README.md` and implemented by `itemKeys` here, in one place.
 */
import { z } from 'zod';
import { commandLogSchema, statusSnapshotSchema, type CommandLogRecord, type StatusSnapshotRecord } from './consoleRecords.js';
export type { CommandLogRecord, StatusSnapshotRecord } from './consoleRecords.js';
import { Dec } from '../core/money.js';
import { DomainError } from '../core/errors.js';
import type { Direction, Side, SymbolId } from '../core/types.js';
import { transition, type Order, type OrderEvent, type OrderState } from '../execution/orderStateMachine.js';
import type { VenueFill, VenueOrderType } from '../venue/types.js';
import type { ClosedTrade } from '../analytics/types.js';
import type { RiskState } from '../risk/types.js';
import { parseRiskState } from '../risk/state.js';

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** A conditional write lost: the item's version was not the expected one (another writer won). */
export class VersionConflictError extends DomainError {
  constructor(
    message: string,
    readonly key: string,
    readonly expectedVersion: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another owner holds a live (unexpired) lease on the symbol. */
export class LeaseHeldError extends DomainError {
  constructor(
    message: string,
    readonly symbol: string,
    /** The live holder, or undefined when the lease is free or expired (renewing a lease that is not held). */
    readonly holder: string | undefined,
    readonly expiresAt: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The table could not be reached: transient errors persisted past the retry bound, or a non-retryable failure. */
export class StateUnavailableError extends DomainError {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An item failed validation when read; it was moved to the quarantine partition. Carried in a QuarantineReport. */
export class QuarantinedItemError extends DomainError {}

// ---------------------------------------------------------------------------------------------
// Schemas and records
// ---------------------------------------------------------------------------------------------

const DECIMAL_RE = /^-?\d+(\.\d+)?$/;
/** A Dec stored as its decimal string ("10000.5"). */
const decimal = z
  .string()
  .regex(DECIMAL_RE, 'expected a decimal string such as "10000.5"')
  .transform((s) => Dec.from(s));
const epochMs = z.number().int().min(0);
const count = z.number().int().min(0);
const nonEmpty = z.string().min(1).max(256);
const symbol = z
  .string()
  .regex(/^[A-Z0-9]{2,20}$/, 'expected an upper-case symbol such as BTCUSDT')
  .transform((s) => s as SymbolId);
const side = z.enum(['buy', 'sell']) satisfies z.ZodType<Side>;
const direction = z.enum(['long', 'short']) satisfies z.ZodType<Direction>;
const UTC_DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const utcDay = z.string().regex(UTC_DAY_RE, 'expected a UTC day as yyyy-mm-dd');
/** Free-form extras a caller may attach (strategy context): flat, JSON-safe values only. */
const extras = z.record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean(), z.null()]));

/** Lifecycle of a position: entry order working, open (entered), exits working, closed. */
export type PositionState = 'opening' | 'open' | 'closing' | 'closed';

/** One profit target of a position. */
export interface PositionTarget {
  readonly price: Dec;
  /** Base quantity to sell at this target. */
  readonly quantity: Dec;
  /** Client order id of the resting limit order, once placed. */
  readonly clientOrderId?: string;
  /** Base quantity filled at this target so far. */
  readonly filled: Dec;
}

/** A position (one round trip) as persisted. */
export interface PositionRecord {
  readonly id: string;
  readonly symbol: SymbolId;
  readonly direction: Direction;
  readonly state: PositionState;
  /** Base quantity entered (sum of entry fills). */
  readonly entryQuantity: Dec;
  /** Sum of entry fills' price x quantity (quote). */
  readonly entryCost: Dec;
  /** Base quantity exited (sum of exit fills). */
  readonly exitQuantity: Dec;
  /** Sum of exit fills' price x quantity (quote). */
  readonly exitProceeds: Dec;
  /** Fees of all fills so far, in the quote asset. */
  readonly fees: Dec;
  /** Current protective stop price (held by the executor: MEXC spot has no stop orders). */
  readonly stopPrice: Dec;
  readonly targets: readonly PositionTarget[];
  /** Epoch ms of the decision to open. */
  readonly openedAt: number;
  /** Epoch ms of the last exit fill, once closed. */
  readonly closedAt?: number;
  readonly exitReason?: string;
  /** Client order ids of every order placed for this position (entry, targets, exits). */
  readonly orderIds: readonly string[];
  readonly updatedAt: number;
  readonly extras?: Readonly<Record<string, string | number | boolean | null>>;
}

export const positionSchema = z.object({
  id: nonEmpty,
  symbol,
  direction,
  state: z.enum(['opening', 'open', 'closing', 'closed']),
  entryQuantity: decimal,
  entryCost: decimal,
  exitQuantity: decimal,
  exitProceeds: decimal,
  fees: decimal,
  stopPrice: decimal,
  targets: z
    .array(z.object({ price: decimal, quantity: decimal, clientOrderId: nonEmpty.optional(), filled: decimal }))
    .max(16),
  openedAt: epochMs,
  closedAt: epochMs.optional(),
  exitReason: z.string().max(256).optional(),
  orderIds: z.array(nonEmpty).max(256),
  updatedAt: epochMs,
  extras: extras.optional(),
}) satisfies z.ZodType<PositionRecord, unknown>;

/** What an order is for, within its position. */
export type OrderRole = 'entry' | 'target' | 'stop' | 'exit';

/** An order with its state-machine state (see services/execution/orderStateMachine.ts). */
export interface OrderRecord {
  readonly clientOrderId: string;
  readonly exchangeOrderId?: string;
  readonly symbol: SymbolId;
  readonly side: Side;
  readonly type: VenueOrderType;
  readonly role: OrderRole;
  readonly positionId?: string;
  readonly quantity: Dec;
  /** Limit price (absent for market orders). */
  readonly price?: Dec;
  readonly state: OrderState;
  /** For `pending`: whether the submit was handed to the transport. */
  readonly sent: boolean;
  readonly filledQuantity: Dec;
  readonly fillSum: Dec;
  /** Venue trade ids of the fills counted (bounded: an order with more fills than this is not expected). */
  readonly tradeIds: readonly string[];
  readonly reason?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const ORDER_STATES = ['pending', 'submitted', 'partially_filled', 'filled', 'cancelled', 'rejected', 'expired', 'unknown'] as const;
const TERMINAL_ORDER_STATES: ReadonlySet<OrderState> = new Set<OrderState>(['filled', 'cancelled', 'rejected', 'expired']);

export const orderSchema = z.object({
  clientOrderId: nonEmpty,
  exchangeOrderId: nonEmpty.optional(),
  symbol,
  side,
  type: z.enum(['limit', 'post_only', 'market', 'ioc']),
  role: z.enum(['entry', 'target', 'stop', 'exit']),
  positionId: nonEmpty.optional(),
  quantity: decimal,
  price: decimal.optional(),
  state: z.enum(ORDER_STATES),
  sent: z.boolean(),
  filledQuantity: decimal,
  fillSum: decimal,
  tradeIds: z.array(nonEmpty).max(1000),
  reason: z.string().max(1024).optional(),
  createdAt: epochMs,
  updatedAt: epochMs,
}) satisfies z.ZodType<OrderRecord, unknown>;

/** The state machine's view of an order record (services/execution/orderStateMachine.ts). */
export function orderOf(rec: OrderRecord): Order {
  const base = {
    clientOrderId: rec.clientOrderId,
    quantity: rec.quantity,
    filledQuantity: rec.filledQuantity,
    fillSum: rec.fillSum,
    tradeIds: rec.tradeIds,
    ...(rec.exchangeOrderId !== undefined ? { exchangeOrderId: rec.exchangeOrderId } : {}),
  };
  switch (rec.state) {
    case 'pending':
      return { ...base, state: 'pending', sent: rec.sent };
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return { ...base, state: rec.state, ...(rec.reason !== undefined ? { reason: rec.reason } : {}) };
    default:
      return { ...base, state: rec.state };
  }
}

/**
 * Applies one state-machine event to an order record. Returns `rec` itself when the event changes
 * nothing (a duplicate fill, a late ack), so `applyEvent` writes nothing; throws what `transition`
 * throws for an impossible event.
 */
export function applyOrderEvent(rec: OrderRecord, event: OrderEvent, now: number): OrderRecord {
  const before = orderOf(rec);
  const next = transition(before, event);
  if (next === before) return rec;
  const reason = 'reason' in next ? next.reason : undefined;
  const exchangeOrderId = next.exchangeOrderId ?? rec.exchangeOrderId;
  const { reason: _r, exchangeOrderId: _x, ...rest } = rec;
  return {
    ...rest,
    state: next.state,
    sent: next.state === 'pending' ? next.sent : true,
    filledQuantity: next.filledQuantity,
    fillSum: next.fillSum,
    tradeIds: [...next.tradeIds],
    ...(exchangeOrderId !== undefined ? { exchangeOrderId } : {}),
    ...(reason !== undefined ? { reason } : {}),
    updatedAt: now,
  };
}

/** One execution, as the venue reported it. */
export type FillRecord = VenueFill;

export const fillSchema = z.object({
  tradeId: nonEmpty,
  clientOrderId: nonEmpty,
  exchangeOrderId: nonEmpty,
  symbol,
  side,
  price: decimal,
  quantity: decimal,
  fee: decimal,
  feeAsset: nonEmpty,
  liquidity: z.enum(['maker', 'taker']),
  time: epochMs,
}) satisfies z.ZodType<FillRecord, unknown>;

/** A closed round trip (the analytics' ClosedTrade). */
export type ClosedTradeRecord = ClosedTrade;

export const closedTradeSchema = z.object({
  id: nonEmpty,
  symbol: z.string().min(1).max(32),
  direction,
  entryTime: epochMs,
  exitTime: epochMs,
  entryPrice: decimal,
  exitPrice: decimal,
  quantity: decimal,
  fees: decimal,
  grossPnl: decimal,
  netPnl: decimal,
  exitReason: z.string().max(64),
  exits: count,
  returnPct: z.number().finite(),
}) satisfies z.ZodType<ClosedTradeRecord, unknown>;

/** Equity and results of one UTC day. */
export interface DailyStatsRecord {
  /** yyyy-mm-dd (UTC). */
  readonly day: string;
  readonly startEquity: Dec;
  /** Latest equity seen during the day (the day's end equity once it is over). */
  readonly endEquity: Dec;
  readonly realizedPnl: Dec;
  readonly fees: Dec;
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  readonly updatedAt: number;
}

export const dailyStatsSchema = z.object({
  day: utcDay,
  startEquity: decimal,
  endEquity: decimal,
  realizedPnl: decimal,
  fees: decimal,
  trades: count,
  wins: count,
  losses: count,
  updatedAt: epochMs,
}) satisfies z.ZodType<DailyStatsRecord, unknown>;

/** The risk engine's state (halts, consecutive losses, cooldowns): one item for the account. */
export interface RiskStateRecord {
  readonly state: RiskState;
  readonly updatedAt: number;
}

export const riskStateRecordSchema = z.object({
  // Validated by the risk engine's own parser, so the store and the engine agree on one definition.
  state: z.unknown().transform((v, ctx): RiskState => {
    try {
      return parseRiskState(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  }),
  updatedAt: epochMs,
}) satisfies z.ZodType<RiskStateRecord, unknown>;

/** The right to trade one symbol, held by one runtime until `expiresAt` unless renewed. */
export interface LeaseRecord {
  readonly symbol: string;
  readonly owner: string;
  readonly acquiredAt: number;
  readonly renewedAt: number;
  /** Epoch ms; the lease is free from this instant on (checked by reading it, never by TTL). */
  readonly expiresAt: number;
}

export const leaseSchema = z.object({
  symbol: nonEmpty,
  owner: nonEmpty,
  acquiredAt: epochMs,
  renewedAt: epochMs,
  expiresAt: epochMs,
}) satisfies z.ZodType<LeaseRecord, unknown>;

/** A runtime's liveness record. */
export interface HeartbeatRecord {
  readonly owner: string;
  readonly at: number;
  /** Trading mode ("paper", "live", ...). */
  readonly mode: string;
  readonly openPositions: number;
  readonly detail?: string;
}

export const heartbeatSchema = z.object({
  owner: nonEmpty,
  at: epochMs,
  mode: z.string().min(1).max(32),
  openPositions: count,
  detail: z.string().max(4096).optional(),
}) satisfies z.ZodType<HeartbeatRecord, unknown>;

/** One promoted model. */
export interface ModelRef {
  readonly version: string;
  readonly uri: string;
  readonly promotedAt: number;
}

/** The model registry pointer: the live model and the one before it (for rollback). */
export interface ModelPointerRecord {
  readonly current: ModelRef;
  readonly previous?: ModelRef;
}

const modelRef = z.object({ version: nonEmpty, uri: z.string().min(1).max(2048), promotedAt: epochMs });
export const modelPointerSchema = z.object({ current: modelRef, previous: modelRef.optional() }) satisfies z.ZodType<ModelPointerRecord, unknown>;

// ---------------------------------------------------------------------------------------------
// Entity kinds and keys
// ---------------------------------------------------------------------------------------------

/** Every kind of record the store holds. */
export interface EntityMap {
  position: PositionRecord;
  order: OrderRecord;
  fill: FillRecord;
  trade: ClosedTradeRecord;
  day: DailyStatsRecord;
  risk: RiskStateRecord;
  lease: LeaseRecord;
  heartbeat: HeartbeatRecord;
  model: ModelPointerRecord;
  snapshot: StatusSnapshotRecord;
  command: CommandLogRecord;
}
export type EntityKind = keyof EntityMap;
/** Kinds written with plain versioned get/put and `applyEvent`. Fills and trades are written once; leases, heartbeats and the model pointer have their own methods. */
export type MutableKind = 'position' | 'order' | 'day' | 'risk';

export const ENTITY_SCHEMAS: { readonly [K in EntityKind]: z.ZodType<EntityMap[K], unknown> } = {
  position: positionSchema,
  order: orderSchema,
  fill: fillSchema,
  trade: closedTradeSchema,
  day: dailyStatsSchema,
  risk: riskStateRecordSchema,
  lease: leaseSchema,
  heartbeat: heartbeatSchema,
  model: modelPointerSchema,
  snapshot: statusSnapshotSchema,
  command: commandLogSchema,
};

/** The id of the single risk-state item and of the model pointer. */
export const SINGLETON_ID = 'main';

/** Key attributes of an item (see README.md). GSI attributes are absent when the item is not in that index. */
export interface ItemKeys {
  readonly PK: string;
  readonly SK: string;
  readonly GSI1PK?: string;
  readonly GSI1SK?: string;
  readonly GSI2PK?: string;
  readonly GSI2SK?: string;
}

/** Names of the secondary indexes (see README.md for why each exists). */
export type IndexName = 'GSI1' | 'GSI2';

/** The UTC day (yyyy-mm-dd) of an epoch-ms time. */
export function utcDayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** Epoch ms zero-padded to 13 digits, so string order is time order (until the year 2286). */
function time13(t: number): string {
  return String(t).padStart(13, '0');
}

/** The id under which `get(kind, id)` finds a record. */
export function idOf<K extends EntityKind>(kind: K, value: EntityMap[K]): string {
  const v: EntityMap[EntityKind] = value;
  switch (kind) {
    case 'position':
      return (v as PositionRecord).id;
    case 'order':
      return (v as OrderRecord).clientOrderId;
    case 'fill':
      return `${(v as FillRecord).symbol}#${(v as FillRecord).tradeId}`;
    case 'trade':
      return (v as ClosedTradeRecord).id;
    case 'day':
      return (v as DailyStatsRecord).day;
    case 'lease':
      return (v as LeaseRecord).symbol;
    case 'heartbeat':
      return (v as HeartbeatRecord).owner;
    case 'command':
      return (v as CommandLogRecord).id;
    case 'risk':
    case 'model':
    case 'snapshot':
      return SINGLETON_ID;
  }
  throw new DomainError(`unknown entity kind ${String(kind)}`);
}

/** Primary key of the item holding `kind`/`id`. */
export function primaryKey(kind: EntityKind, id: string): { PK: string; SK: string } {
  switch (kind) {
    case 'position':
      return { PK: `POS#${id}`, SK: 'POS' };
    case 'order':
      return { PK: `ORDER#${id}`, SK: 'ORDER' };
    case 'fill':
      return { PK: `FILL#${id}`, SK: 'FILL' };
    case 'trade':
      return { PK: `TRADE#${id}`, SK: 'TRADE' };
    case 'day':
      return { PK: `DAY#${id}`, SK: 'DAY' };
    case 'risk':
      return { PK: 'RISK', SK: id };
    case 'lease':
      return { PK: `LEASE#${id}`, SK: 'LEASE' };
    case 'heartbeat':
      return { PK: `HEARTBEAT#${id}`, SK: 'HEARTBEAT' };
    case 'model':
      return { PK: 'MODEL', SK: id };
    case 'snapshot':
      return { PK: 'SNAPSHOT', SK: id };
    case 'command':
      return { PK: `CMD#${id}`, SK: 'CMD' };
  }
}

/** GSI partition of positions that are not closed. */
export const OPEN_POSITIONS_PK = 'OPEN#POS';
/** GSI partition of orders that are not terminal. */
export const OPEN_ORDERS_PK = 'OPEN#ORDER';
/** GSI partition of the daily stats items. */
export const DAYS_PK = 'DAYS';
/** GSI1 partition of one order's fills. */
export const orderFillsPk = (clientOrderId: string): string => `ORDERFILLS#${clientOrderId}`;
/** GSI2 partition of the fills of one UTC day. */
export const fillsOfDayPk = (day: string): string => `FILLS#${day}`;
/** GSI2 partition of the closed trades of one UTC day (by exit time). */
export const tradesOfDayPk = (day: string): string => `TRADES#${day}`;
/** GSI2 partition of the console's command log of one UTC day. */
export const commandsOfDayPk = (day: string): string => `COMMANDS#${day}`;
/** Partition of quarantined items. */
export const QUARANTINE_PK = 'QUARANTINE';

/** All key attributes of a record: its primary key and its index entries. */
export function itemKeys<K extends EntityKind>(kind: K, value: EntityMap[K]): ItemKeys {
  const pk = primaryKey(kind, idOf(kind, value));
  const v: EntityMap[EntityKind] = value;
  switch (kind) {
    case 'position': {
      const p = v as PositionRecord;
      // Sparse: a closed position leaves the index, so "open positions" never grows with history.
      return p.state === 'closed' ? pk : { ...pk, GSI1PK: OPEN_POSITIONS_PK, GSI1SK: `${p.symbol}#${p.id}` };
    }
    case 'order': {
      const o = v as OrderRecord;
      return TERMINAL_ORDER_STATES.has(o.state) ? pk : { ...pk, GSI1PK: OPEN_ORDERS_PK, GSI1SK: `${o.state}#${o.clientOrderId}` };
    }
    case 'fill': {
      const f = v as FillRecord;
      return {
        ...pk,
        GSI1PK: orderFillsPk(f.clientOrderId),
        GSI1SK: `${time13(f.time)}#${f.tradeId}`,
        GSI2PK: fillsOfDayPk(utcDayOf(f.time)),
        GSI2SK: `${time13(f.time)}#${f.symbol}#${f.tradeId}`,
      };
    }
    case 'trade': {
      const t = v as ClosedTradeRecord;
      return { ...pk, GSI2PK: tradesOfDayPk(utcDayOf(t.exitTime)), GSI2SK: `${time13(t.exitTime)}#${t.id}` };
    }
    case 'day':
      return { ...pk, GSI2PK: DAYS_PK, GSI2SK: (v as DailyStatsRecord).day };
    case 'command': {
      const c = v as CommandLogRecord;
      return { ...pk, GSI2PK: commandsOfDayPk(utcDayOf(c.at)), GSI2SK: `${time13(c.at)}#${c.id}` };
    }
    default:
      return pk;
  }
}

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
  /** The command log of a UTC day, oldest first. */
  listCommandLog(day: string, limit?: number): Promise<CommandLogRecord[]>;

  /** The quarantine partition (at most `limit`, default 100). */
  listQuarantined(limit?: number): Promise<QuarantinedItem[]>;
}

/** Bound on the UTC days one listFillsBetween call may span. */
export const MAX_QUERY_DAYS = 366;
/** Default and maximum size of a list result. */
export const DEFAULT_LIST_LIMIT = 1000;
export const MAX_LIST_LIMIT = 10_000;
