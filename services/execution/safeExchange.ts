/**
 * SafeExchange: the executor's `ExchangePort` on top of a `VenueClient`, with the safety rules of
 * issue 3 wired together:
 *
 * - every order call goes through a token bucket (5 orders/s, burst 20 by default) and a circuit
 *   breaker per endpoint; an open breaker refuses at once with a CircuitOpenError that says when it
 *   half-opens;
 * - retryable failures (network before sending, 429 with Retry-After, clock skew) are retried with
 *   exponential backoff (1 s doubling to 30 s, jitter from the injected `random`), at most
 *   `maxAttempts` calls in all;
 * - an unknown outcome of a submit (timeout, 5xx, connection lost after sending) is never resent
 *   blindly: the order is looked up by client order id, twice `unknownOutcomeSettleMs` apart (a
 *   just-placed order can take a moment to show), and only when both answers are "not found" is it
 *   sent again, with the SAME client order id;
 * - every order is tracked with the state machine of orderStateMachine.ts; an illegal transition
 *   is counted and reported through `onEvent`, never thrown into the caller;
 * - fills are de-duplicated by trade id (stream and REST reconciliation can both deliver one), and
 *   a final order status is held back until the fills it reports have been delivered, because the
 *   executor books a finished entry from the fills it has seen;
 * - stuck orders, and an emergency close (market, then an aggressive IOC limit through the book,
 *   then thirds).
 *
 * What `submit` returns: always an OrderAck, never a rejection, because the executor expects one.
 * A permanent failure (invalid order, insufficient balance, symbol not tradable, authentication,
 * any other refused request), retries used up, or a local refusal (breaker open, rate-limit queue
 * full) gives status 'rejected' with a reason that starts with the error class name
 * ("RateLimitError: ..."). An unknown outcome that could not be resolved (the lookups failed too)
 * gives status 'new' with a reason starting "outcome unknown": the order may exist, so the caller
 * must keep treating it as open; `reconcileOrder` (or the stream) settles it later. When
 * reconciliation does not find it either (asked twice, settle time apart), it ends as 'cancelled'
 * and is not resent: the decision behind it is stale by then.
 *
 * A submit with a client order id that is already tracked sends nothing and returns the tracked
 * order's state: a retried intent maps to the same order.
 *
 * Pure core: time, sleeping and randomness are injected (`deps`).
 */
import { createHash } from 'node:crypto';
import { Dec } from '../core/money.js';
import { ConfigError, DataValidationError, DomainError, InvalidStateError } from '../core/errors.js';
import type { SymbolId } from '../core/types.js';
import type { ExecutionConfig } from '../config/schema.js';
import type { VenueClient, VenueEvent, VenueFill, VenueMarket, VenueOrder, VenueOrderRequest, VenueOrderType } from '../venue/types.js';
import type { ExchangeEvents, ExchangePort, Fill, MarketInfo, OrderAck, OrderRequest, OrderStatus } from './types.js';
import { CircuitBreakers, DEFAULT_CIRCUIT_BREAKER_OPTIONS, type CircuitBreakerOptions, type CircuitBreakerSnapshot } from './circuitBreaker.js';
import { TokenBucket, DEFAULT_TOKEN_BUCKET_OPTIONS, type TokenBucketOptions } from './tokenBucket.js';
import { DEFAULT_BACKOFF, retryDelayMs, shouldRetry } from './backoff.js';
import { ExchangeError, NetworkError, OrderNotFoundError, isUnknownOutcome, type ExchangeOperation } from './exchangeErrors.js';
import { isTerminal, newOrder, transition, type Order, type OrderEvent } from './orderStateMachine.js';
import { CLIENT_ID_HASH_CHARS, MAX_CLIENT_ORDER_ID_LENGTH, clientOrderId as deriveClientOrderId, parseClientOrderId, type OrderRole } from './clientOrderId.js';

// ---------------------------------------------------------------------------------------------
// Options

/** Options of a {@link SafeExchange}. */
export interface SafeExchangeOptions {
  /** Client-side order rate limit, shared by createOrder and cancelOrder (MEXC counts both). */
  readonly rateLimit: TokenBucketOptions;
  /** A request waits at most this long for a token; longer and it is refused (RateLimitQueueFullError). */
  readonly maxRateLimitWaitMs: number;
  /** Requests waiting for a token at once; beyond it, refused at once (bounded queue). */
  readonly maxQueuedRequests: number;
  /** One breaker per endpoint, all with these options. */
  readonly circuitBreaker: CircuitBreakerOptions;
  /** Backoff between retries: baseMs doubling up to maxMs (a longer Retry-After still wins). */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** Calls per request, the first included (a submit's resends after "not found" count too). */
  readonly maxAttempts: number;
  /** Wait between the two lookups of an order whose submit had an unknown outcome. */
  readonly unknownOutcomeSettleMs: number;
  /** An open entry/exit order with no fill for longer than this is stuck (0 = detection off). */
  readonly stuckOrderTimeoutMs: number;
  /** What to do with a stuck order: cancel it, or cancel it and re-place the rest at the best price. */
  readonly stuckOrderPolicy: 'cancel' | 'replace';
  /** The emergency close's aggressive limit sits this percent through the best bid. */
  readonly emergencyThroughPct: number;
  /** Orders tracked at once; when full, the oldest ended order is forgotten first. */
  readonly maxTrackedOrders: number;
  /** Trade ids remembered for de-duplication (oldest forgotten first). */
  readonly maxRememberedTradeIds: number;
}

/** The defaults: the product brief's 5 orders/s burst 20, 1 s to 30 s backoff, 5 attempts, 60 s stuck timeout. */
export const DEFAULT_SAFE_EXCHANGE_OPTIONS: SafeExchangeOptions = {
  rateLimit: DEFAULT_TOKEN_BUCKET_OPTIONS,
  maxRateLimitWaitMs: 60_000,
  maxQueuedRequests: 200,
  circuitBreaker: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  backoff: { baseMs: DEFAULT_BACKOFF.baseMs, maxMs: DEFAULT_BACKOFF.maxMs },
  maxAttempts: 5,
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

/** Replacements of one stuck order at most (the `R<n>` suffix); past it a stuck order is only cancelled. */
export const MAX_REPLACEMENTS = 9;
/** Pages of fetchMyTrades read by one reconciliation (100 trades a page on MEXC). */
const MAX_TRADE_PAGES = 5;
const TRADE_PAGE = 100;
/** Trades are fetched from this long before the order was tracked (venue and local clocks differ). */
const RECONCILE_SLACK_MS = 60_000;
/** Background catch-ups (a final status waiting for its fills) running at once. */
const MAX_BACKGROUND_CATCH_UPS = 32;
/** Waits for a token before the request gives up even if time did not move (a broken clock). */
const MAX_TOKEN_WAITS = 64;
/** Order roles the stuck-order detection looks at (scale-out targets rest by design). */
export const STUCK_ORDER_ROLES: readonly OrderRole[] = ['entry', 'exit'];
/** Step ids of the emergency close: 1 market, 2 limit, then market/limit per third. */
const EMERGENCY_STEPS = 8;

// ---------------------------------------------------------------------------------------------
// Errors and events

/** A venue endpoint's circuit breaker is open: the call was refused without reaching the venue. */
export class CircuitOpenError extends DomainError {
  override readonly name: string = 'CircuitOpenError';
  constructor(
    readonly endpoint: string,
    /** When the breaker lets a probe through (epoch ms). */
    readonly halfOpenAt: number,
  ) {
    super(`circuit breaker for ${endpoint} is open until ${new Date(halfOpenAt).toISOString()} (half-opens then)`);
  }
}

/** The client-side rate limiter's queue is full, or the wait for a token would exceed its bound. */
export class RateLimitQueueFullError extends DomainError {
  override readonly name: string = 'RateLimitQueueFullError';
}

/** Endpoints with a breaker of their own. */
export type SafeEndpoint = 'createOrder' | 'cancelOrder' | 'fetchOrder' | 'fetchMyTrades' | 'fetchBookTop';
const RATE_LIMITED: ReadonlySet<SafeEndpoint> = new Set<SafeEndpoint>(['createOrder', 'cancelOrder']);

/** What SafeExchange reports while it works (for logs, alerts and tests). */
export type SafeExchangeEvent =
  | { readonly type: 'retry'; readonly endpoint: SafeEndpoint; readonly attempt: number; readonly delayMs: number; readonly error: string }
  | { readonly type: 'circuit_open'; readonly endpoint: SafeEndpoint; readonly halfOpenAt: number }
  | { readonly type: 'unknown_outcome'; readonly clientOrderId: string; readonly error: string }
  | { readonly type: 'unknown_resolved'; readonly clientOrderId: string; readonly resolution: 'found' | 'not_found' | 'unresolved'; readonly detail?: string }
  | { readonly type: 'resend'; readonly clientOrderId: string }
  | { readonly type: 'rejected'; readonly clientOrderId: string; readonly reason: string }
  | { readonly type: 'illegal_transition'; readonly clientOrderId: string; readonly event: OrderEvent['type']; readonly message: string }
  | { readonly type: 'duplicate_fill'; readonly clientOrderId: string; readonly tradeId: string }
  | { readonly type: 'stale_report'; readonly clientOrderId: string; readonly detail: string }
  | { readonly type: 'stuck_order'; readonly clientOrderId: string; readonly action: 'cancel' | 'replace'; readonly replacementId?: string; readonly detail: string }
  | { readonly type: 'catch_up_failed'; readonly clientOrderId: string; readonly error: string }
  | { readonly type: 'emergency_step'; readonly step: EmergencyStep };

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
  readonly trackedOrders: number;
}

export interface SafeExchangeSnapshot {
  readonly breakers: Record<string, CircuitBreakerSnapshot>;
  /** Tokens in the order rate limiter now. */
  readonly bucketLevel: number;
  readonly stats: SafeExchangeStats;
}

/** One action of `checkStuck`. */
export interface StuckOrderAction {
  readonly clientOrderId: string;
  readonly action: 'cancelled' | 'replaced' | 'filled_meanwhile' | 'cancel_failed';
  readonly replacementId?: string;
  readonly detail: string;
}

/** What `reconcileOrder` found. */
export interface ReconcileResult {
  readonly clientOrderId: string;
  /** The venue's view of the order (the last leg's, for a replaced order); undefined when unknown there. */
  readonly venueStatus: OrderStatus | undefined;
  /** Fills delivered now that had not been delivered before. */
  readonly fillsDelivered: number;
}

/** One step of an emergency close. */
export interface EmergencyStep {
  readonly kind: 'market' | 'aggressive_limit';
  readonly part: 'full' | 'third_1' | 'third_2' | 'third_3';
  readonly clientOrderId: string;
  readonly quantity: Dec;
  /** The limit price of an aggressive limit. */
  readonly price?: Dec;
  readonly filled: Dec;
  /** Quote received. */
  readonly proceeds: Dec;
  readonly outcome: 'filled' | 'partial' | 'unfilled' | 'rejected' | 'unknown';
  readonly detail?: string;
}

/** The result of `emergencyClose`. */
export interface EmergencyCloseReport {
  readonly symbol: SymbolId;
  readonly reasonTag: string;
  readonly requested: Dec;
  /** Sold by earlier calls with the same tag (found on the venue before anything was sent). */
  readonly alreadySold: Dec;
  /** Sold by this call. */
  readonly sold: Dec;
  /** Quote received by this call. */
  readonly proceeds: Dec;
  /** proceeds / sold; undefined when nothing was sold. */
  readonly averagePrice: Dec | undefined;
  /** requested - alreadySold - sold. */
  readonly remainder: Dec;
  /** True when the remainder is below the market minimum (notional or lot step): dust, not sent. */
  readonly remainderIsDust: boolean;
  /** Closed: nothing left, or only dust. */
  readonly closed: boolean;
  readonly steps: readonly EmergencyStep[];
  /** Why the close stopped early, if it did (e.g. earlier orders could not be verified). */
  readonly aborted?: string;
}

// ---------------------------------------------------------------------------------------------
// Tracking

interface Tracked {
  order: Order;
  readonly id: string;
  readonly symbol: SymbolId;
  readonly side: 'buy' | 'sell';
  readonly type: VenueOrderType;
  /** The id the executor knows: the original order's, also for its replacements. */
  readonly rootId: string;
  /** Root only: the replacement legs in order (ids). */
  readonly legs: string[];
  /** Placement time; an adopted order's comes from the journal (fills are looked up from it). */
  createdAt: number;
  /** Last placement or fill (local clock): what the stuck detection measures from. */
  lastActivityAt: number;
  /** Quote value of the fills delivered. */
  fillQuote: Dec;
  /** The latest venue report's filled quote (MEXC cummulativeQuoteQty). */
  venueQuote: Dec | undefined;
  /**
   * The venue's time of the latest report or fill: order updates carry it, so the executor books
   * venue time (a replay at 60x, or a late report, would otherwise get the local clock's time).
   */
  venueTime: number | undefined;
  /** Root only: the status last reported to the executor. */
  reported: OrderStatus | undefined;
  reason: string | undefined;
  /** A submit or a stuck-order replacement is running: not checked for being stuck, not evicted. */
  busy: boolean;
  /** Root only: a replacement is running, so the cancelled leg's end is not the order's end. */
  replacing: boolean;
  /** Root only: the submit or replacement in progress; a cancel waits for it (bounded by its own retries). */
  inflight: Promise<void> | undefined;
  catchUp: boolean;
}

const ORDER_TYPE: Record<'market' | 'limit', VenueOrderType> = { market: 'market', limit: 'limit' };
const HUNDRED = Dec.from(100);

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function statusOf(o: Order): OrderStatus {
  switch (o.state) {
    case 'pending':
    case 'unknown':
    case 'submitted':
      return 'new';
    default:
      return o.state;
  }
}

function isOpen(o: Order): boolean {
  return !isTerminal(o.state);
}

/**
 * The client order id of replacement `n` of a stuck order: `<orig>R<n>`, or, when that would break
 * clientOrderId.ts's rules (at most 32 characters of [A-Za-z0-9_-]), a readable prefix, `_`, 16 hex
 * of sha256(orig) and `R<n>`, so replacements of different orders never collide.
 */
export function replacementClientOrderId(original: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_REPLACEMENTS) throw new DataValidationError(`replacementClientOrderId: n must be in [1, ${MAX_REPLACEMENTS}], got ${n}`);
  const sfx = `R${n}`;
  const natural = original + sfx;
  if (natural.length <= MAX_CLIENT_ORDER_ID_LENGTH && /^[A-Za-z0-9_-]+$/.test(original)) return natural;
  const hash = createHash('sha256').update(original, 'utf8').digest('hex').slice(0, CLIENT_ID_HASH_CHARS);
  const room = MAX_CLIENT_ORDER_ID_LENGTH - 1 - CLIENT_ID_HASH_CHARS - sfx.length;
  return `${original.replace(/[^A-Za-z0-9]/g, '').slice(0, room)}_${hash}${sfx}`;
}

/** The client order id of emergency-close step `step` (1..8) for `reasonTag`: deterministic, so a retried close finds its own orders. */
export function emergencyClientOrderId(reasonTag: string, step: number): string {
  return deriveClientOrderId(reasonTag, 'exit', step);
}

// ---------------------------------------------------------------------------------------------

/** See the file comment. */
export class SafeExchange implements ExchangePort {
  private readonly opts: SafeExchangeOptions;
  private readonly bucket: TokenBucket;
  private readonly breakers: CircuitBreakers;
  private receiver: ExchangeEvents | undefined;
  /** Every tracked order (roots and replacement legs) by client order id, oldest first. */
  private readonly tracked = new Map<string, Tracked>();
  private readonly byExchangeId = new Map<string, string>();
  /** Trade ids delivered (`symbol:tradeId`), oldest first, bounded. */
  private readonly seenTrades = new Set<string>();
  private tokenGate: Promise<void> = Promise.resolve();
  private queued = 0;
  private catchUps = 0;
  private readonly counters = {
    retries: 0,
    unknownOutcomes: 0,
    unknownResolvedFound: 0,
    unknownResolvedNotFound: 0,
    unknownUnresolved: 0,
    resends: 0,
    rejected: 0,
    circuitRejections: 0,
    illegalTransitions: 0,
    staleReports: 0,
    fillsDelivered: 0,
    duplicateFillsDropped: 0,
    stuckCancelled: 0,
    stuckReplaced: 0,
  };

  /** @throws ConfigError when a rate-limit or breaker option is out of range. */
  constructor(
    private readonly venue: VenueClient,
    private readonly deps: SafeExchangeDeps,
    options: Partial<SafeExchangeOptions> = {},
  ) {
    this.opts = { ...DEFAULT_SAFE_EXCHANGE_OPTIONS, ...options };
    const positiveInt = (name: keyof SafeExchangeOptions, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`SafeExchange: ${name} must be an integer >= 1, got ${v}`);
    };
    positiveInt('maxAttempts', this.opts.maxAttempts);
    positiveInt('maxTrackedOrders', this.opts.maxTrackedOrders);
    positiveInt('maxRememberedTradeIds', this.opts.maxRememberedTradeIds);
    positiveInt('maxQueuedRequests', this.opts.maxQueuedRequests);
    if (!(this.opts.emergencyThroughPct > 0 && this.opts.emergencyThroughPct < 100)) {
      throw new ConfigError(`SafeExchange: emergencyThroughPct must be in (0, 100), got ${this.opts.emergencyThroughPct}`);
    }
    this.bucket = new TokenBucket(this.opts.rateLimit);
    this.breakers = new CircuitBreakers(this.opts.circuitBreaker);
  }

  // -------------------------------------------------------------------------------------------
  // ExchangePort

  /** The venue's market (VenueMarket is a MarketInfo). Throws SymbolNotTradableError for an unknown symbol. */
  market(symbol: SymbolId): MarketInfo {
    return this.venue.market(symbol);
  }

  /** Registers the executor's receiver of fills and order updates. */
  subscribe(events: ExchangeEvents): void {
    this.receiver = events;
  }

  /**
   * Places an order safely (see the file comment). Always resolves with an ack: 'rejected' with a
   * reason naming the error class for a permanent failure, 'new' with "outcome unknown" when the
   * order's existence could not be settled.
   */
  async submit(req: OrderRequest): Promise<OrderAck> {
    const existing = this.tracked.get(req.clientOrderId);
    if (existing) return this.ackOf(this.rootOf(existing));
    let venueReq: VenueOrderRequest;
    let t: Tracked;
    try {
      if (req.type === 'limit' && req.price === undefined) throw new DataValidationError(`order ${req.clientOrderId}: a limit order needs a price`);
      venueReq = {
        clientOrderId: req.clientOrderId,
        symbol: req.symbol,
        side: req.side,
        type: req.postOnly === true && req.type === 'limit' ? 'post_only' : ORDER_TYPE[req.type],
        quantity: req.quantity,
        ...(req.type === 'limit' && req.price !== undefined ? { price: req.price } : {}),
      };
      t = this.track(req.clientOrderId, req.clientOrderId, req.symbol, req.side, venueReq.type, req.quantity);
    } catch (e) {
      this.counters.rejected++;
      const reason = describeError(e);
      this.emit({ type: 'rejected', clientOrderId: req.clientOrderId, reason });
      return { clientOrderId: req.clientOrderId, exchangeOrderId: '', status: 'rejected', reason };
    }
    t.busy = true;
    const run = this.place(t, venueReq);
    t.inflight = run;
    try {
      await run;
    } finally {
      t.busy = false;
      t.inflight = undefined;
    }
    this.report(t);
    // A market order ends at once, but MEXC's reply to a new order carries no status and the
    // stream may have missed it: if it still looks open, check with REST after the settle time.
    if (venueReq.type === 'market' && isOpen(t.order)) this.scheduleCatchUp(t);
    return this.ackOf(t);
  }

  /**
   * Cancels an order (for a replaced order: its live replacement). Never rejects: the ack carries
   * the order's status after the attempt (cancelled, or filled when it filled first) and, when the
   * cancel failed, a reason naming the error class. An order the venue says it does not know is
   * looked up: if it ended (filled, cancelled), that status is reported.
   */
  async cancel(symbol: SymbolId, clientOrderId: string): Promise<OrderAck> {
    const t = this.tracked.get(clientOrderId);
    if (!t) {
      // Not ours to track (a restart, another actor): cancel it anyway, report what the venue says.
      try {
        const vo = await this.withRetry('cancelOrder', 'cancel', () => this.venue.cancelOrder(symbol, clientOrderId));
        return { clientOrderId, exchangeOrderId: vo.exchangeOrderId, status: vo.status };
      } catch (e) {
        return { clientOrderId, exchangeOrderId: '', status: 'rejected', reason: describeError(e) };
      }
    }
    const root = this.rootOf(t);
    // A submit (or a replacement) still in flight: cancelling now could miss the order it places
    // a moment later, which would then live on untracked. Wait for it, then cancel what it placed.
    if (root.inflight) await root.inflight;
    const leg = this.activeLeg(root);
    let reason: string | undefined;
    if (leg && isOpen(leg.order)) reason = await this.cancelLeg(leg, 'cancelled by request');
    this.report(root);
    const ack = this.ackOf(root);
    return reason !== undefined ? { ...ack, reason } : ack;
  }

  // -------------------------------------------------------------------------------------------
  // Venue events and reconciliation

  /**
   * Takes one event from the venue's private stream (the runtime wires it here). 'fill' events
   * become executor fills (once per trade id, a replacement's under the original's client id);
   * 'order' events update the tracked order and reach the executor only when its status changes.
   * Other events are ignored. Never throws.
   */
  onVenueEvent(e: VenueEvent): void {
    if (e.type === 'fill') this.acceptFill(e.fill);
    else if (e.type === 'order') {
      const t = this.findTracked(e.order.clientOrderId, e.order.exchangeOrderId);
      if (!t) return;
      this.applyVenueOrder(t, e.order);
      this.report(this.rootOf(t));
    }
  }

  /**
   * Fetches an order and its fills from REST and delivers any fill the stream missed (once per
   * trade id), then the order's status. For a replaced order every leg is reconciled. This is how
   * a disconnect in the middle of a fill loses nothing. Rejects with the venue's ExchangeError (or
   * CircuitOpenError) when the venue cannot be asked.
   */
  async reconcileOrder(symbol: SymbolId, clientOrderId: string): Promise<ReconcileResult> {
    const t = this.tracked.get(clientOrderId);
    if (!t) {
      const vo = await this.lookup(symbol, clientOrderId);
      const n = vo ? await this.deliverTrades(symbol, clientOrderId, vo.exchangeOrderId, vo.time - RECONCILE_SLACK_MS) : 0;
      return { clientOrderId, venueStatus: vo?.status, fillsDelivered: n };
    }
    const root = this.rootOf(t);
    let delivered = 0;
    let status: OrderStatus | undefined;
    for (const leg of this.legsOf(root)) {
      const r = await this.reconcileLeg(leg);
      delivered += r.delivered;
      status = r.status;
    }
    this.report(root);
    return { clientOrderId: root.id, venueStatus: status, fillsDelivered: delivered };
  }

  /**
   * Takes over an order placed before a restart: the journal knows its client id, the venue may or
   * may not have it. It is tracked in the 'unknown' state until `reconcileOrder` asks the venue (an
   * order that never reached the venue then ends as cancelled, not resent), and a submit with the
   * same client id sends nothing. `legs` are the ids of its stuck-order replacements, oldest first.
   * Adopting an id that is already tracked does nothing.
   */
  adopt(o: { clientOrderId: string; symbol: SymbolId; side: 'buy' | 'sell'; type: VenueOrderType; quantity: Dec; createdAt: number; legs?: readonly string[] }): void {
    if (this.tracked.has(o.clientOrderId)) return;
    const adoptOne = (id: string): Tracked => {
      const t = this.track(id, o.clientOrderId, o.symbol, o.side, o.type, o.quantity);
      t.createdAt = o.createdAt;
      t.order = transition(transition(t.order, { type: 'sent' }), { type: 'outcome_unknown' });
      t.reason = 'outcome unknown (adopted after a restart)';
      return t;
    };
    const root = adoptOne(o.clientOrderId);
    for (const leg of o.legs ?? []) {
      if (this.tracked.has(leg)) continue;
      adoptOne(leg);
      root.legs.push(leg);
    }
  }

  /** True when the client id is tracked (placed in this run, or adopted). */
  isTracked(clientOrderId: string): boolean {
    return this.tracked.has(clientOrderId);
  }

  // -------------------------------------------------------------------------------------------
  // Stuck orders

  /**
   * Cancels (policy 'cancel') or cancels and re-places at the best price (policy 'replace') every
   * tracked open entry or exit order with no fill for longer than `stuckOrderTimeoutMs` before
   * `now`. Scale-out targets (role T) are left alone: they rest by design. A replacement is sent as
   * `<orig>R<n>` for what is left, at the best bid (buy) or ask (sell); its fills reach the executor
   * under the original client id, so the executor sees one order.
   *
   * Interaction with the executor's own limit-entry expiry (`limitEntryTimeoutMs`, measured from
   * the entry's submit): the executor cancels by the original id, which SafeExchange maps to the
   * live leg, so whichever timeout comes first ends or re-prices the entry and the other finds it
   * ended (a cancel of an ended order is answered from the tracked state without a venue call).
   * With policy 'cancel' and a stuck timeout shorter than the executor's, the entry ends as
   * 'cancelled' early; with 'replace' it chases the best price until the executor's expiry.
   */
  async checkStuck(now: number): Promise<StuckOrderAction[]> {
    const timeout = this.opts.stuckOrderTimeoutMs;
    if (!(timeout > 0)) return [];
    const candidates: Tracked[] = [];
    for (const t of this.tracked.values()) {
      if (t.rootId !== t.id || t.busy) continue;
      const role = parseClientOrderId(t.id)?.role;
      if (role === undefined || !STUCK_ORDER_ROLES.includes(role)) continue;
      const leg = this.activeLeg(t);
      if (!leg || (leg.order.state !== 'submitted' && leg.order.state !== 'partially_filled')) continue;
      if (now - leg.lastActivityAt > timeout) candidates.push(t);
    }
    const actions: StuckOrderAction[] = [];
    for (const root of candidates) {
      // Checked again: an earlier action (or a concurrent call) may have dealt with it meanwhile.
      const leg = this.activeLeg(root);
      if (root.busy || !leg || (leg.order.state !== 'submitted' && leg.order.state !== 'partially_filled')) continue;
      actions.push(await this.unstick(root, now));
    }
    return actions;
  }

  private async unstick(root: Tracked, now: number): Promise<StuckOrderAction> {
    let done = (): void => undefined;
    root.inflight = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      return await this.unstickNow(root, now);
    } finally {
      root.inflight = undefined;
      done();
    }
  }

  private async unstickNow(root: Tracked, now: number): Promise<StuckOrderAction> {
    const leg = this.activeLeg(root) as Tracked;
    const idle = now - leg.lastActivityAt;
    const replace = this.opts.stuckOrderPolicy === 'replace' && root.legs.length < MAX_REPLACEMENTS;
    const detail = `no fill for ${idle} ms (timeout ${this.opts.stuckOrderTimeoutMs} ms)`;
    this.emit({ type: 'stuck_order', clientOrderId: root.id, action: replace ? 'replace' : 'cancel', detail });
    root.busy = true;
    root.replacing = replace;
    try {
      const err = await this.cancelLeg(leg, 'stuck order');
      if (leg.order.state === 'filled') return { clientOrderId: root.id, action: 'filled_meanwhile', detail };
      if (isOpen(leg.order)) return { clientOrderId: root.id, action: 'cancel_failed', detail: `${detail}; ${err ?? 'the venue still reports it open'}` };
      if (leg.order.fillSum.lt(leg.order.filledQuantity)) await this.reconcileLeg(leg).catch(() => undefined);
      if (!replace) {
        this.counters.stuckCancelled++;
        return { clientOrderId: root.id, action: 'cancelled', detail };
      }
      const rest = leg.order.quantity.sub(leg.order.filledQuantity);
      const market = this.venue.market(root.symbol);
      const book = await this.withRetry('fetchBookTop', 'query', () => this.venue.fetchBookTop(root.symbol));
      const price = Dec.from(root.side === 'buy' ? book.bid : book.ask).roundTo(market.tickSize);
      const qty = rest.floorTo(market.stepSize);
      if (!qty.isPositive() || !price.isPositive() || qty.mul(price).lt(market.minNotional)) {
        this.counters.stuckCancelled++;
        return { clientOrderId: root.id, action: 'cancelled', detail: `${detail}; the rest ${rest.toString()} is below the market minimum, not re-placed` };
      }
      const id = replacementClientOrderId(root.id, root.legs.length + 1);
      const next = this.track(id, root.id, root.symbol, root.side, root.type, qty);
      root.legs.push(id);
      this.counters.stuckReplaced++;
      await this.place(next, {
        clientOrderId: id,
        symbol: root.symbol,
        side: root.side,
        type: root.type,
        quantity: qty,
        ...(root.type === 'market' ? {} : { price }),
      });
      return { clientOrderId: root.id, action: 'replaced', replacementId: id, detail: `${detail}; ${qty.toString()} re-placed at ${price.toString()}` };
    } catch (e) {
      return { clientOrderId: root.id, action: 'cancel_failed', detail: `${detail}; ${describeError(e)}` };
    } finally {
      root.busy = false;
      root.replacing = false;
      this.report(root);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Emergency close

  /**
   * Sells `quantity` of `symbol` now (spot is long only), whatever it takes:
   * 1. a market sell of everything;
   * 2. if that failed or left a remainder: an IOC limit `emergencyThroughPct` (2%) through the book,
   *    at bid x 0.98 rounded down to the tick;
   * 3. if still not closed: thirds, each by market and then, for what is left of it, by aggressive limit.
   * A remainder below the market minimum (notional at the bid, or the lot step) is dust: reported,
   * not sent. Client ids come from `reasonTag` (`<tag>X1` .. `<tag>X8`); before sending anything
   * every one of them is looked up on the venue and what those orders sold counts as sold, so a
   * second call with the same tag after a completed close sells nothing. If that check cannot be
   * made, nothing is sent (`aborted`). Never rejects for venue errors.
   */
  async emergencyClose(symbol: SymbolId, quantity: Dec, reasonTag: string): Promise<EmergencyCloseReport> {
    let ids: string[] = [];
    const steps: EmergencyStep[] = [];
    let sold = Dec.ZERO;
    let proceeds = Dec.ZERO;
    let alreadySold = Dec.ZERO;
    const used = new Set<number>();
    const report = (aborted?: string, dust = false): EmergencyCloseReport => {
      const remainder = quantity.sub(alreadySold).sub(sold);
      const closed = !remainder.isPositive() || dust;
      return {
        symbol,
        reasonTag,
        requested: quantity,
        alreadySold,
        sold,
        proceeds,
        averagePrice: sold.isPositive() ? proceeds.div(sold) : undefined,
        remainder: remainder.isNegative() ? Dec.ZERO : remainder,
        remainderIsDust: remainder.isPositive() && dust,
        closed,
        steps,
        ...(aborted !== undefined ? { aborted } : {}),
      };
    };
    let market: VenueMarket;
    try {
      if (!quantity.isPositive()) throw new DataValidationError(`emergencyClose: quantity must be positive, got ${quantity.toString()}`);
      market = this.venue.market(symbol);
      ids = Array.from({ length: EMERGENCY_STEPS }, (_, i) => emergencyClientOrderId(reasonTag, i + 1));
      // Earlier calls with this tag: what their orders sold is already sold.
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        const local = this.tracked.get(id);
        const vo = await this.lookup(symbol, id);
        if (!vo && local?.order.state === 'rejected') {
          // Refused by the venue last time (it never existed there): the id can be used again.
          this.forget(local);
          continue;
        }
        if (!vo && !local) continue;
        used.add(i + 1);
        let filled = vo?.filledQuantity ?? local?.order.filledQuantity ?? Dec.ZERO;
        if (vo && (vo.status === 'new' || vo.status === 'partially_filled')) {
          // A leftover open order of an earlier close: stop it before selling the rest ourselves.
          const cancelled = await this.withRetry('cancelOrder', 'cancel', () => this.venue.cancelOrder(symbol, id)).catch(() => undefined);
          filled = cancelled?.filledQuantity ?? filled;
          if (cancelled === undefined) throw new InvalidStateError(`earlier emergency order ${id} is still open and could not be cancelled`);
        }
        alreadySold = alreadySold.add(filled);
      }
    } catch (e) {
      return report(`could not verify earlier emergency orders, nothing sent: ${describeError(e)}`);
    }
    const remaining = (): Dec => quantity.sub(alreadySold).sub(sold);

    /** Dust check at the current bid; the bid is refreshed by the caller. */
    const isDust = (q: Dec, bid: Dec): boolean => {
      const lots = q.floorTo(market.stepSize);
      return !lots.isPositive() || lots.mul(bid).lt(market.minNotional);
    };
    const bidNow = async (): Promise<Dec> => Dec.from((await this.withRetry('fetchBookTop', 'query', () => this.venue.fetchBookTop(symbol))).bid);

    /** Runs one step unless its id was used before; returns what it sold. */
    const step = async (n: number, kind: EmergencyStep['kind'], part: EmergencyStep['part'], want: Dec, bid: Dec): Promise<Dec> => {
      const id = ids[n - 1] as string;
      if (used.has(n)) return Dec.ZERO;
      used.add(n);
      const qty = want.floorTo(market.stepSize);
      if (!qty.isPositive()) return Dec.ZERO;
      const factor = HUNDRED.sub(Dec.from(this.opts.emergencyThroughPct)).div(HUNDRED);
      const price = kind === 'aggressive_limit' ? Dec.max(market.tickSize, bid.mul(factor).floorTo(market.tickSize)) : undefined;
      const t = this.track(id, id, symbol, 'sell', kind === 'market' ? 'market' : 'ioc', qty);
      await this.place(t, { clientOrderId: id, symbol, side: 'sell', type: t.type, quantity: qty, ...(price ? { price } : {}) });
      if (t.order.state === 'submitted' || t.order.state === 'partially_filled') {
        // MEXC's reply to a new order carries no status: ask once for the final one.
        const vo = await this.lookup(symbol, id).catch(() => undefined);
        if (vo) this.applyVenueOrder(t, vo);
        // A market or IOC order should have ended; one still open could fill alongside the next
        // step and sell twice, so it is cancelled first.
        if (isOpen(t.order)) await this.cancelLeg(t, 'emergency step left open');
      }
      const unknown = isOpen(t.order);
      const filled = t.order.filledQuantity;
      const quote = t.venueQuote !== undefined && t.order.fillSum.lte(filled) && !t.venueQuote.isZero() ? t.venueQuote : t.fillQuote;
      sold = sold.add(filled);
      proceeds = proceeds.add(quote);
      const outcome: EmergencyStep['outcome'] = unknown
        ? 'unknown'
        : t.order.state === 'rejected'
          ? 'rejected'
          : filled.eq(qty)
            ? 'filled'
            : filled.isPositive()
              ? 'partial'
              : 'unfilled';
      const s: EmergencyStep = {
        kind,
        part,
        clientOrderId: id,
        quantity: qty,
        ...(price ? { price } : {}),
        filled,
        proceeds: quote,
        outcome,
        ...(t.reason !== undefined ? { detail: t.reason } : {}),
      };
      steps.push(s);
      this.emit({ type: 'emergency_step', step: s });
      this.report(t);
      if (unknown) {
        // Whether it sold (or still may) cannot be told: another order now could sell twice.
        throw new InvalidStateError(`emergency order ${id}: outcome unknown (${t.reason ?? 'still open'}); stopping so nothing is sold twice`);
      }
      return filled;
    };

    try {
      let bid = await bidNow();
      if (!remaining().isPositive()) return report();
      if (isDust(remaining(), bid)) return report(undefined, true);
      await step(1, 'market', 'full', remaining(), bid);
      if (!remaining().isPositive()) return report();
      bid = await bidNow();
      if (isDust(remaining(), bid)) return report(undefined, true);
      await step(2, 'aggressive_limit', 'full', remaining(), bid);
      if (!remaining().isPositive()) return report();
      bid = await bidNow();
      if (isDust(remaining(), bid)) return report(undefined, true);
      // Thirds: a full-size order can be refused (above the maximum amount, too big for the book).
      const total = remaining();
      const third = total.div(Dec.from(3)).floorTo(market.stepSize);
      const parts: { part: EmergencyStep['part']; qty: Dec }[] = isDust(third, bid)
        ? [{ part: 'third_1', qty: total }]
        : [
            { part: 'third_1', qty: third },
            { part: 'third_2', qty: third },
            { part: 'third_3', qty: total.sub(third).sub(third) },
          ];
      for (let k = 0; k < parts.length; k++) {
        const p = parts[k] as { part: EmergencyStep['part']; qty: Dec };
        const want = Dec.min(p.qty, remaining());
        if (!want.isPositive()) break;
        const got = await step(3 + 2 * k, 'market', p.part, want, bid);
        const left = want.sub(got);
        if (left.isPositive()) {
          bid = await bidNow();
          if (!isDust(left, bid)) await step(4 + 2 * k, 'aggressive_limit', p.part, left, bid);
        }
      }
      const rest = remaining();
      return report(undefined, rest.isPositive() && isDust(rest, bid));
    } catch (e) {
      return report(`stopped: ${describeError(e)}`);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status

  /** Counters (see SafeExchangeStats). */
  stats(): SafeExchangeStats {
    return { ...this.counters, trackedOrders: this.tracked.size };
  }

  /** Breakers, the rate limiter's level and the counters, at the injected clock's now. */
  snapshot(): SafeExchangeSnapshot {
    const now = this.deps.now();
    return { breakers: this.breakers.snapshot(now), bucketLevel: this.bucket.available(now), stats: this.stats() };
  }

  // -------------------------------------------------------------------------------------------
  // Placing

  /**
   * Sends `t` until the venue has it, it is refused for good, or the attempts are used up. Ends with
   * `t` acknowledged (open or final), rejected, or still unknown (lookups failed). Never throws.
   */
  private async place(t: Tracked, req: VenueOrderRequest): Promise<void> {
    let resent = false;
    for (let attempt = 1; ; attempt++) {
      if (t.order.state === 'pending' && !t.order.sent) this.apply(t, { type: 'sent' });
      try {
        const vo = await this.attemptOnce('createOrder', () => this.venue.createOrder(req));
        t.lastActivityAt = this.deps.now();
        this.apply(t, { type: 'acknowledged', exchangeOrderId: vo.exchangeOrderId });
        this.applyVenueOrder(t, vo);
        return;
      } catch (e) {
        if (isUnknownOutcome(e, 'submit')) {
          this.counters.unknownOutcomes++;
          this.emit({ type: 'unknown_outcome', clientOrderId: t.id, error: describeError(e) });
          this.apply(t, { type: 'outcome_unknown' });
          if (t.order.state !== 'unknown') {
            // Stream events (a fill, an update) beat the error: the order exists, no lookup needed.
            this.counters.unknownResolvedFound++;
            this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'found', detail: 'seen on the stream' });
            return;
          }
          const r = await this.resolveUnknown(t);
          if (r !== 'not_found') return;
          if (attempt >= this.opts.maxAttempts) return this.reject(t, `${describeError(e)} (the order was not found on the venue after ${attempt} attempts)`);
          // Sent again at once: the settle wait between the two lookups already spaced it, and
          // the same client id means a late-surfacing first send is refused as a duplicate.
          this.counters.resends++;
          this.emit({ type: 'resend', clientOrderId: t.id });
          resent = true;
          continue;
        }
        if (attempt < this.opts.maxAttempts && shouldRetry(e, 1, 'submit')) {
          await this.backoff('createOrder', e, attempt);
          continue;
        }
        if (resent && e instanceof ExchangeError) {
          // A resend refused by the venue may mean the first send surfaced after all (a duplicate
          // client id): one more look before calling it rejected.
          const vo = await this.lookup(t.symbol, t.id).catch(() => undefined);
          if (vo) {
            this.applyVenueOrder(t, vo);
            return;
          }
        }
        return this.reject(t, describeError(e));
      }
    }
  }

  private reject(t: Tracked, reason: string): void {
    this.counters.rejected++;
    t.reason = reason;
    this.apply(t, { type: 'rejected', reason });
    this.emit({ type: 'rejected', clientOrderId: t.id, reason });
  }

  /**
   * Settles an unknown outcome by asking the venue, twice `unknownOutcomeSettleMs` apart. 'found':
   * the venue's view is applied and any fills it reports are fetched. 'not_found': the order is
   * back to unsent pending, ready to be sent again under the same id. 'unresolved': the lookups
   * failed; the order stays unknown.
   */
  private async resolveUnknown(t: Tracked): Promise<'found' | 'not_found' | 'unresolved'> {
    for (let ask = 1; ask <= 2; ask++) {
      let vo: VenueOrder | undefined;
      try {
        vo = await this.lookup(t.symbol, t.id);
      } catch (e) {
        this.counters.unknownUnresolved++;
        t.reason = `outcome unknown: the order could not be looked up (${describeError(e)})`;
        this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'unresolved', detail: describeError(e) });
        return 'unresolved';
      }
      if (vo) {
        this.counters.unknownResolvedFound++;
        t.lastActivityAt = this.deps.now();
        this.applyVenueOrder(t, vo);
        this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'found' });
        if (t.order.fillSum.lt(t.order.filledQuantity)) await this.reconcileLeg(t).catch((err: unknown) => this.emit({ type: 'catch_up_failed', clientOrderId: t.id, error: describeError(err) }));
        return 'found';
      }
      if (ask === 1) await this.deps.sleep(this.opts.unknownOutcomeSettleMs);
    }
    this.counters.unknownResolvedNotFound++;
    this.apply(t, { type: 'resolved', status: 'not_found', filledQuantity: Dec.ZERO });
    this.emit({ type: 'unknown_resolved', clientOrderId: t.id, resolution: 'not_found' });
    return 'not_found';
  }

  /** Cancels one leg on the venue and applies the answer. Returns a failure description, or undefined. */
  private async cancelLeg(leg: Tracked, why: string): Promise<string | undefined> {
    if (leg.order.state === 'pending' && !leg.order.sent) {
      this.apply(leg, { type: 'cancelled', reason: why });
      return undefined;
    }
    try {
      const vo = await this.withRetry('cancelOrder', 'cancel', () => this.venue.cancelOrder(leg.symbol, leg.id));
      this.applyVenueOrder(leg, vo);
    } catch (e) {
      if (!(e instanceof OrderNotFoundError)) return describeError(e);
      // Not open on the venue: it ended (filled, cancelled) or it never got there.
      let vo: VenueOrder | undefined;
      try {
        vo = await this.lookup(leg.symbol, leg.id);
      } catch (err) {
        return describeError(err);
      }
      if (vo) this.applyVenueOrder(leg, vo);
      else this.apply(leg, { type: 'cancelled', reason: `${why}; the venue does not know the order` });
    }
    if (leg.order.fillSum.lt(leg.order.filledQuantity)) await this.reconcileLeg(leg).catch((err: unknown) => this.emit({ type: 'catch_up_failed', clientOrderId: leg.id, error: describeError(err) }));
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Calls: rate limit, breaker, retries

  private lookup(symbol: SymbolId, id: string): Promise<VenueOrder | undefined> {
    return this.withRetry('fetchOrder', 'query', () => this.venue.fetchOrderByClientId(symbol, id));
  }

  /** One call through the rate limiter (order endpoints) and the endpoint's breaker. */
  private async attemptOnce<T>(endpoint: SafeEndpoint, fn: () => Promise<T>): Promise<T> {
    const breaker = this.breakers.get(endpoint);
    const refuse = (): CircuitOpenError => {
      const now = this.deps.now();
      const snap = breaker.snapshot(now);
      this.counters.circuitRejections++;
      const err = new CircuitOpenError(endpoint, snap.halfOpenAt ?? now);
      this.emit({ type: 'circuit_open', endpoint, halfOpenAt: err.halfOpenAt });
      return err;
    };
    // Checked before taking a token, so a refused call does not spend one.
    if (breaker.state(this.deps.now()) === 'open') throw refuse();
    if (RATE_LIMITED.has(endpoint)) await this.takeToken();
    if (!breaker.canRequest(this.deps.now())) throw refuse();
    try {
      const r = await fn();
      breaker.onSuccess(this.deps.now());
      return r;
    } catch (e) {
      const err =
        e instanceof ExchangeError
          ? e
          : // Not an ExchangeError (a bug in the adapter): the request may have gone out, so a
            // submit treats it as an unknown outcome and looks the order up.
            new NetworkError(`unexpected failure of ${endpoint}: ${describeError(e)}`, { cause: e, requestSent: true });
      // Only failures that say the endpoint is unwell count against it; a refused order (invalid,
      // no balance) is an answer from a healthy endpoint.
      if (err.retryable) breaker.onFailure(this.deps.now());
      else breaker.onSuccess(this.deps.now());
      throw err;
    }
  }

  /** A call retried per `shouldRetry` with backoff; the last error is thrown. */
  private async withRetry<T>(endpoint: SafeEndpoint, operation: ExchangeOperation, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attemptOnce(endpoint, fn);
      } catch (e) {
        if (attempt >= this.opts.maxAttempts || !shouldRetry(e, 1, operation)) throw e;
        await this.backoff(endpoint, e, attempt);
      }
    }
  }

  private async backoff(endpoint: SafeEndpoint, e: unknown, attempt: number): Promise<void> {
    const r = this.deps.random();
    const jitter = r >= 0 && r < 1 ? r : 0;
    const delayMs = retryDelayMs(e, attempt, { ...this.opts.backoff, jitter });
    this.counters.retries++;
    this.emit({ type: 'retry', endpoint, attempt, delayMs, error: describeError(e) });
    await this.deps.sleep(delayMs);
  }

  /**
   * Takes one token from the order rate limiter, waiting (via the injected sleep) for it. Waiters
   * are served one at a time in arrival order, so a burst is spaced exactly at the configured rate.
   * Throws RateLimitQueueFullError when too many wait or the wait would exceed its bound.
   */
  private async takeToken(): Promise<void> {
    if (this.queued >= this.opts.maxQueuedRequests) {
      throw new RateLimitQueueFullError(`order rate limiter: ${this.queued} requests already waiting (maxQueuedRequests)`);
    }
    this.queued++;
    const prev = this.tokenGate;
    let release = (): void => undefined;
    this.tokenGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await prev;
      const start = this.deps.now();
      for (let i = 0; i < MAX_TOKEN_WAITS; i++) {
        const now = this.deps.now();
        if (this.bucket.tryTake(now)) return;
        const wait = this.bucket.msUntilAvailable(now);
        if (now - start + wait > this.opts.maxRateLimitWaitMs) {
          throw new RateLimitQueueFullError(`order rate limiter: a token would take ${wait} ms more, above maxRateLimitWaitMs ${this.opts.maxRateLimitWaitMs}`);
        }
        await this.deps.sleep(Math.max(1, wait));
      }
      throw new RateLimitQueueFullError(`order rate limiter: no token after ${MAX_TOKEN_WAITS} waits (is the clock moving?)`);
    } finally {
      this.queued--;
      release();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tracking and reporting

  private track(id: string, rootId: string, symbol: SymbolId, side: 'buy' | 'sell', type: VenueOrderType, quantity: Dec): Tracked {
    if (this.tracked.has(id)) throw new InvalidStateError(`order ${id} is already tracked`);
    if (this.tracked.size >= this.opts.maxTrackedOrders) this.evict();
    if (this.tracked.size >= this.opts.maxTrackedOrders) {
      throw new InvalidStateError(`cannot track order ${id}: ${this.tracked.size} orders are open (maxTrackedOrders)`);
    }
    const now = this.deps.now();
    const t: Tracked = {
      order: newOrder(id, quantity),
      id,
      symbol,
      side,
      type,
      rootId,
      legs: [],
      createdAt: now,
      lastActivityAt: now,
      fillQuote: Dec.ZERO,
      venueQuote: undefined,
      venueTime: undefined,
      reported: undefined,
      reason: undefined,
      busy: false,
      replacing: false,
      inflight: undefined,
      catchUp: false,
    };
    this.tracked.set(id, t);
    return t;
  }

  /** Forgets the oldest root whose legs have all ended (with its legs). */
  private evict(): void {
    for (const t of this.tracked.values()) {
      if (t.rootId !== t.id || t.busy) continue;
      const legs = this.legsOf(t);
      if (legs.some((l) => isOpen(l.order))) continue;
      for (const l of legs) this.forget(l);
      return;
    }
  }

  private forget(t: Tracked): void {
    this.tracked.delete(t.id);
    if (t.order.exchangeOrderId !== undefined) this.byExchangeId.delete(t.order.exchangeOrderId);
  }

  private rootOf(t: Tracked): Tracked {
    return this.tracked.get(t.rootId) ?? t;
  }

  private legsOf(root: Tracked): Tracked[] {
    const out = [root];
    for (const id of root.legs) {
      const l = this.tracked.get(id);
      if (l) out.push(l);
    }
    return out;
  }

  private activeLeg(root: Tracked): Tracked | undefined {
    const legs = this.legsOf(root);
    return legs[legs.length - 1];
  }

  private findTracked(clientOrderId: string, exchangeOrderId: string | undefined): Tracked | undefined {
    const t = clientOrderId.length > 0 ? this.tracked.get(clientOrderId) : undefined;
    if (t || exchangeOrderId === undefined) return t;
    const id = this.byExchangeId.get(exchangeOrderId);
    return id !== undefined ? this.tracked.get(id) : undefined;
  }

  /** Applies a state-machine event; an illegal one is counted and reported, never thrown. */
  private apply(t: Tracked, event: OrderEvent): boolean {
    try {
      t.order = transition(t.order, event);
      if (t.order.exchangeOrderId !== undefined) this.byExchangeId.set(t.order.exchangeOrderId, t.id);
      return true;
    } catch (e) {
      if (!(e instanceof InvalidStateError || e instanceof DataValidationError)) throw e;
      this.counters.illegalTransitions++;
      this.emit({ type: 'illegal_transition', clientOrderId: t.id, event: event.type, message: e.message });
      return false;
    }
  }

  /** Applies a venue report (ack, lookup, cancel reply, stream update), skipping stale ones. */
  private applyVenueOrder(t: Tracked, vo: VenueOrder): void {
    if (vo.filledQuantity.lt(t.order.filledQuantity) || (isTerminal(t.order.state) && !isTerminal(vo.status === 'new' ? 'submitted' : vo.status))) {
      // Older than what we know (a submit's reply overtaken by stream fills): nothing new.
      this.counters.staleReports++;
      this.emit({ type: 'stale_report', clientOrderId: t.id, detail: `venue says ${vo.status} with ${vo.filledQuantity.toString()} filled; tracked ${t.order.state} with ${t.order.filledQuantity.toString()}` });
      return;
    }
    if (this.apply(t, { type: 'resolved', status: vo.status, filledQuantity: vo.filledQuantity, exchangeOrderId: vo.exchangeOrderId })) {
      t.venueQuote = vo.filledQuote;
      if (Number.isFinite(vo.updateTime) && vo.updateTime > 0) t.venueTime = Math.max(t.venueTime ?? 0, vo.updateTime);
      // The venue has it: an earlier "outcome unknown" no longer describes the order.
      if (t.reason?.startsWith('outcome unknown') === true) t.reason = undefined;
    }
  }

  private acceptFill(vf: VenueFill): void {
    const key = `${vf.symbol}:${vf.tradeId}`;
    const t = this.findTracked(vf.clientOrderId, vf.exchangeOrderId);
    const id = t?.id ?? vf.clientOrderId;
    if (this.seenTrades.has(key) || (t !== undefined && t.order.tradeIds.includes(vf.tradeId))) {
      this.counters.duplicateFillsDropped++;
      this.emit({ type: 'duplicate_fill', clientOrderId: id, tradeId: vf.tradeId });
      return;
    }
    this.seenTrades.add(key);
    if (this.seenTrades.size > this.opts.maxRememberedTradeIds) {
      const oldest = this.seenTrades.values().next();
      if (oldest.done !== true) this.seenTrades.delete(oldest.value);
    }
    const root = t ? this.rootOf(t) : undefined;
    if (t) {
      this.apply(t, { type: 'fill', tradeId: vf.tradeId, quantity: vf.quantity });
      t.fillQuote = t.fillQuote.add(vf.price.mul(vf.quantity));
      if (Number.isFinite(vf.time) && vf.time > 0) t.venueTime = Math.max(t.venueTime ?? 0, vf.time);
      t.lastActivityAt = this.deps.now();
    }
    // Delivered even when the state machine objected: the fill happened, and the books must show it.
    const fill: Fill = {
      tradeId: vf.tradeId,
      clientOrderId: root?.id ?? id,
      symbol: vf.symbol,
      side: vf.side,
      price: vf.price,
      quantity: vf.quantity,
      fee: vf.fee,
      feeAsset: vf.feeAsset,
      liquidity: vf.liquidity,
      time: vf.time,
    };
    this.counters.fillsDelivered++;
    this.receiver?.onFill(fill);
    if (root) this.report(root);
  }

  /**
   * What the executor should see of a root order: its status across its legs and the fills
   * delivered, or undefined while a final status waits for fills the venue reported but we have
   * not delivered yet.
   */
  private visible(root: Tracked): { status: OrderStatus; filled: Dec } | undefined {
    const legs = this.legsOf(root);
    let fills = Dec.ZERO;
    let venue = Dec.ZERO;
    for (const l of legs) {
      fills = fills.add(l.order.fillSum);
      venue = venue.add(l.order.filledQuantity);
    }
    const last = legs[legs.length - 1] as Tracked;
    if (root.replacing || isOpen(last.order)) {
      // Open, or between a cancelled leg and its replacement: open as far as the executor is concerned.
      return { status: fills.isPositive() || last.order.state === 'partially_filled' ? 'partially_filled' : 'new', filled: fills };
    }
    if (fills.lt(venue)) return undefined;
    let status = statusOf(last.order);
    if (status === 'rejected' && legs.length > 1) status = 'cancelled';
    return { status, filled: fills };
  }

  /** Reports the root's status to the executor when it changed; schedules a catch-up when fills are missing. */
  private report(t: Tracked): void {
    const root = this.rootOf(t);
    const v = this.visible(root);
    if (!v) {
      this.scheduleCatchUp(root);
      return;
    }
    if (v.status === root.reported) return;
    root.reported = v.status;
    const last = this.activeLeg(root);
    const reason = last?.reason ?? (last && 'reason' in last.order ? last.order.reason : undefined);
    this.receiver?.onOrderUpdate({
      clientOrderId: root.id,
      symbol: root.symbol,
      status: v.status,
      filledQuantity: v.filled,
      time: last?.venueTime ?? root.venueTime ?? this.deps.now(),
      ...(reason !== undefined ? { reason } : {}),
    });
  }

  /**
   * A final status is waiting for fills (or a market order still looks open): give the stream
   * `unknownOutcomeSettleMs` to deliver them, then ask REST. Bounded: at most
   * MAX_BACKGROUND_CATCH_UPS at once, one per order.
   */
  private scheduleCatchUp(root: Tracked): void {
    if (root.catchUp || this.catchUps >= MAX_BACKGROUND_CATCH_UPS) return;
    root.catchUp = true;
    this.catchUps++;
    const run = async (): Promise<void> => {
      await this.deps.sleep(this.opts.unknownOutcomeSettleMs);
      for (const leg of this.legsOf(root)) {
        const marketOpen = leg.type === 'market' && (leg.order.state === 'submitted' || leg.order.state === 'partially_filled');
        if (marketOpen || leg.order.fillSum.lt(leg.order.filledQuantity)) await this.reconcileLeg(leg);
      }
      this.report(root);
    };
    void run()
      .catch((e: unknown) => this.emit({ type: 'catch_up_failed', clientOrderId: root.id, error: describeError(e) }))
      .finally(() => {
        root.catchUp = false;
        this.catchUps--;
      });
  }

  /** Fetches one leg and its trades from REST, delivers the missed fills, applies the venue's view. */
  private async reconcileLeg(leg: Tracked): Promise<{ delivered: number; status: OrderStatus | undefined }> {
    let vo = await this.lookup(leg.symbol, leg.id);
    if (!vo && leg.order.state === 'unknown' && !leg.busy) {
      // An unknown outcome the submit could not settle. Asked twice, settle time apart, like the
      // submit does; still not there means it never reached the venue. It is not sent now (the
      // decision behind it is stale): it ends as cancelled, so the executor lets it go.
      await this.deps.sleep(this.opts.unknownOutcomeSettleMs);
      vo = await this.lookup(leg.symbol, leg.id);
      if (!vo && leg.order.state === 'unknown') {
        this.counters.unknownResolvedNotFound++;
        this.apply(leg, { type: 'resolved', status: 'not_found', filledQuantity: Dec.ZERO });
        leg.reason = 'never reached the venue (not found on reconciliation); not resent';
        this.apply(leg, { type: 'cancelled', reason: leg.reason });
        this.emit({ type: 'unknown_resolved', clientOrderId: leg.id, resolution: 'not_found', detail: leg.reason });
      }
    }
    const exchangeId = vo?.exchangeOrderId ?? leg.order.exchangeOrderId;
    const delivered = await this.deliverTrades(leg.symbol, leg.id, exchangeId, leg.createdAt - RECONCILE_SLACK_MS);
    if (vo) this.applyVenueOrder(leg, vo);
    return { delivered, status: vo?.status };
  }

  /** Delivers the account's trades of one order from `since` (paged, bounded); returns how many were new. */
  private async deliverTrades(symbol: SymbolId, clientOrderId: string, exchangeOrderId: string | undefined, since: number): Promise<number> {
    let delivered = 0;
    let from = since;
    for (let page = 0; page < MAX_TRADE_PAGES; page++) {
      const trades = await this.withRetry('fetchMyTrades', 'query', () => this.venue.fetchMyTrades(symbol, from, TRADE_PAGE));
      for (const f of trades) {
        if (f.clientOrderId !== clientOrderId && (exchangeOrderId === undefined || f.exchangeOrderId !== exchangeOrderId)) continue;
        const before = this.counters.fillsDelivered;
        // A REST fill may lack the client id (MEXC myTrades fills it only for orders that had one).
        this.acceptFill(f.clientOrderId === clientOrderId ? f : { ...f, clientOrderId });
        delivered += this.counters.fillsDelivered - before;
      }
      const last = trades[trades.length - 1];
      if (trades.length < TRADE_PAGE || !last || last.time <= from) break;
      from = last.time;
    }
    return delivered;
  }

  private ackOf(root: Tracked): OrderAck {
    const v = this.visible(root) ?? { status: 'new' as const, filled: Dec.ZERO };
    const leg = this.activeLeg(root) ?? root;
    const unknown = leg.order.state === 'unknown';
    const reason = leg.reason ?? ('reason' in leg.order ? leg.order.reason : undefined) ?? (unknown ? 'outcome unknown: the venue could not be asked' : undefined);
    return {
      clientOrderId: root.id,
      exchangeOrderId: leg.order.exchangeOrderId ?? '',
      status: v.status,
      ...(reason !== undefined ? { reason } : {}),
    };
  }

  private emit(e: SafeExchangeEvent): void {
    this.deps.onEvent?.(e);
  }
}
