/**
 * What the state store holds: the record types (positions, orders with their state-machine state,
 * fills, closed trades, daily stats, risk state, leases, heartbeats, the model pointer), each with
 * the zod schema it is read back through. Records hold exact decimals as `Dec`; stored as JSON with
 * decimal strings (`Dec.toJSON`), so a malformed item is detected when read (and quarantined, never
 * thrown into the caller's loop).
 */
import { z } from 'zod';
import { Dec } from '../core/money.js';
import type { Direction, Side, SymbolId } from '../core/types.js';
import { transition, type Order, type OrderEvent, type OrderState } from '../execution/orderStateMachine.js';
import type { VenueFill, VenueOrderType } from '../venue/types.js';
import type { ClosedTrade } from '../analytics/types.js';
import type { RiskState } from '../risk/types.js';
import { parseRiskState } from '../risk/state.js';
import { auditEventSchema, type AuditEvent } from '../signals/audit.js';
import { commandLogSchema, publicationSchema, statusSnapshotSchema, type CommandLogRecord, type PublicationRecord, type StatusSnapshotRecord } from './consoleRecords.js';
export type { CommandLogRecord, PublicationRecord, StatusSnapshotRecord } from './consoleRecords.js';
import { opsEventSchema, recommendationSchema, uptimeSchema, type OpsEventRecord, type RecommendationRecord, type UptimeRecord } from './reportRecords.js';

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
/** Order states that never change again (such an order leaves the open-orders index). */
export const TERMINAL_ORDER_STATES: ReadonlySet<OrderState> = new Set<OrderState>(['filled', 'cancelled', 'rejected', 'expired']);

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

/**
 * One step of an external signal (services/signals/audit.ts: ORDER_NEW, ORDER_FILLED,
 * ORDER_BLOCKED, ORDER_ERROR, RISK_SLTP), appended once and never rewritten. Its schema is the
 * audit log's own, so the store and the log agree on one definition.
 */
export type AuditRecord = AuditEvent;

export const auditRecordSchema = auditEventSchema;

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
  audit: AuditRecord;
  snapshot: StatusSnapshotRecord;
  command: CommandLogRecord;
  ops: OpsEventRecord;
  uptime: UptimeRecord;
  recommendation: RecommendationRecord;
  publication: PublicationRecord;
}
export type EntityKind = keyof EntityMap;
/** Kinds written with plain versioned get/put and `applyEvent`. Fills, trades, audit events, commands and operations events are written once; leases, heartbeats and the model pointer have their own methods. */
export type MutableKind = 'position' | 'order' | 'day' | 'risk' | 'recommendation';

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
  audit: auditRecordSchema,
  snapshot: statusSnapshotSchema,
  command: commandLogSchema,
  ops: opsEventSchema,
  uptime: uptimeSchema,
  recommendation: recommendationSchema,
  publication: publicationSchema,
};
