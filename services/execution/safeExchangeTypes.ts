/**
 * SafeExchange's options (with the config mapping), events, counters and results: its public
 * vocabulary, apart from the class (safeExchange.ts re-exports all of it).
 */
import type { Dec } from '../core/money.js';
import type { ExecutionConfig } from '../config/schema.js';
import type { OrderStatus } from '../model/orders.js';
import type { OrderErrorKind } from './exchangeErrors.js';
import type { OrderState } from './orderStateMachine.js';
import { DEFAULT_GUARDED_VENUE_OPTIONS, type GuardEvent, type GuardSnapshot, type GuardedVenueOptions, type VenueEndpoint } from './guardedVenue.js';
import type { TrackerEvent } from './orderTracker.js';
import type { StuckOrderEvent } from './stuckOrders.js';
import type { ReconcilerEvent } from './orderReconciler.js';

// ---------------------------------------------------------------------------------------------
// Options

/** Options of a {@link SafeExchange}: the transport's (GuardedVenueOptions) and the order handling's. */
export interface SafeExchangeOptions extends GuardedVenueOptions {
  /** Wait between the two lookups of an order whose submit had an unknown outcome. */
  readonly unknownOutcomeSettleMs: number;
  /** An open entry/exit order with no fill for longer than this is stuck (0 = detection off). */
  readonly stuckOrderTimeoutMs: number;
  /** What to do with a stuck order: cancel it, or cancel it and re-place the rest at the best price. */
  readonly stuckOrderPolicy: 'cancel' | 'replace';
  /** The emergency close's aggressive limit sits this percent through the best bid (services/ops/emergencyClose.ts). */
  readonly emergencyThroughPct: number;
  /** Orders tracked at once; when full, the oldest ended order is forgotten first. */
  readonly maxTrackedOrders: number;
  /** Trade ids remembered for de-duplication (oldest forgotten first). */
  readonly maxRememberedTradeIds: number;
}

/** The defaults: the product brief's 5 orders/s burst 20, 1 s to 30 s backoff, 5 attempts, 60 s stuck timeout. */
export const DEFAULT_SAFE_EXCHANGE_OPTIONS: SafeExchangeOptions = {
  ...DEFAULT_GUARDED_VENUE_OPTIONS,
  unknownOutcomeSettleMs: 1000,
  stuckOrderTimeoutMs: 60_000,
  stuckOrderPolicy: 'cancel',
  emergencyThroughPct: 2,
  maxTrackedOrders: 2000,
  maxRememberedTradeIds: 20_000,
};

/** Maps the config's `execution` section (services/config/schema.ts) to SafeExchange options. */
export function safeExchangeOptionsFromConfig(cfg: ExecutionConfig): SafeExchangeOptions {
  return {
    ...DEFAULT_SAFE_EXCHANGE_OPTIONS,
    rateLimit: { ratePerSecond: cfg.rateLimit.ordersPerSecond, burst: cfg.rateLimit.burst },
    circuitBreaker: { ...cfg.circuitBreaker },
    backoff: { baseMs: cfg.retry.baseMs, maxMs: cfg.retry.maxMs },
    maxAttempts: cfg.retry.maxAttempts,
    stuckOrderTimeoutMs: cfg.stuckOrders.timeoutMs,
    stuckOrderPolicy: cfg.stuckOrders.policy,
    emergencyThroughPct: cfg.emergency.throughBookPct,
  };
}

// ---------------------------------------------------------------------------------------------
// Events, stats and results

/** Endpoints with a breaker of their own. */
export type SafeEndpoint = VenueEndpoint;

/** What SafeExchange reports while it works (for logs, alerts and tests). */
export type SafeExchangeEvent =
  | GuardEvent
  | TrackerEvent
  | StuckOrderEvent
  | ReconcilerEvent
  | { readonly type: 'unknown_outcome'; readonly clientOrderId: string; readonly error: string }
  | { readonly type: 'resend'; readonly clientOrderId: string }
  | { readonly type: 'rejected'; readonly clientOrderId: string; readonly reason: string; readonly errorKind: OrderErrorKind };

export interface SafeExchangeDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A draw in [0, 1), for backoff jitter. */
  random(): number;
  onEvent?(e: SafeExchangeEvent): void;
}

/** Counters for the status endpoint. */
export interface SafeExchangeStats {
  readonly retries: number;
  readonly unknownOutcomes: number;
  readonly unknownResolvedFound: number;
  readonly unknownResolvedNotFound: number;
  readonly unknownUnresolved: number;
  readonly resends: number;
  readonly rejected: number;
  readonly circuitRejections: number;
  readonly illegalTransitions: number;
  readonly staleReports: number;
  readonly fillsDelivered: number;
  readonly duplicateFillsDropped: number;
  readonly stuckCancelled: number;
  readonly stuckReplaced: number;
  /** Sweeps of the open orders (sweepOpen) run, and the fills they delivered that the stream had missed. */
  readonly openSweeps: number;
  readonly sweepFillsDelivered: number;
  readonly trackedOrders: number;
}

/** What one `sweepOpen` did. */
export interface OpenSweepResult {
  /** Tracked open orders (roots) compared with the venue. */
  readonly checked: number;
  /** Of those, the ones reconciled: gone from the venue's open list, or filled further than seen. */
  readonly reconciled: number;
  /** Fills delivered that the stream had missed. */
  readonly delivered: number;
  /** Symbols whose open orders could not be read (the venue's error, for people). */
  readonly failed: readonly string[];
}

export interface SafeExchangeSnapshot extends GuardSnapshot {
  readonly stats: SafeExchangeStats;
}

/** What `reconcileOrder` found. */
export interface ReconcileResult {
  readonly clientOrderId: string;
  /** The venue's view of the order (the last leg's, for a replaced order); undefined when unknown there. */
  readonly venueStatus: OrderStatus | undefined;
  /** Fills delivered now that had not been delivered before. */
  readonly fillsDelivered: number;
}

/** How an order sent with `placeNow` ended. */
export interface PlacedOrder {
  readonly clientOrderId: string;
  /** 'pending' never; 'submitted' / 'partially_filled' / 'unknown' mean its end could not be told. */
  readonly state: OrderState;
  readonly filled: Dec;
  /** Quote value of what filled (the venue's cumulative figure when it covers every fill seen). */
  readonly quote: Dec;
  readonly reason?: string;
  readonly errorKind?: OrderErrorKind;
}
