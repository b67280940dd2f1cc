/**
 * GuardedVenue: a `VenueClient` decorator that every user of the venue goes through (SafeExchange,
 * restart recovery, the emergency stop, the risk sweep and the reconciliation job), so none of them
 * calls the exchange bare or keeps its own copy of these rules:
 *
 * - a circuit breaker per endpoint: an open breaker refuses at once with a CircuitOpenError that
 *   says when it half-opens; only failures that say the endpoint is unwell (retryable ones: network,
 *   timeout, 5xx, 429) count against it, a refused order is an answer from a healthy endpoint;
 * - a token bucket for the order endpoints (createOrder and cancelOrder: MEXC counts both), 5 orders
 *   per second with a burst of 20 by default; waiters are served in arrival order, their number and
 *   their wait are bounded (RateLimitQueueFullError);
 * - bounded retries with exponential backoff (1 s doubling to 30 s, jitter from the injected
 *   `random`, the venue's Retry-After honoured when longer), at most `maxAttempts` calls in all, and
 *   only when the request cannot have executed: a submit whose outcome is unknown (timeout, 5xx,
 *   connection lost after sending) is never resent here. It is thrown to the caller, which must ask
 *   the venue (SafeExchange looks the order up by its client id).
 *
 * A failure that is not an ExchangeError (a bug in an adapter) is turned into a NetworkError with
 * `requestSent: true`: the request may have gone out, so a submit treats it as an unknown outcome.
 *
 * Streams are passed through: they have their own reconnect policy (services/adapters/mexc).
 * Pure core: time, sleeping and randomness are injected.
 */
import { ConfigError } from '../core/errors.js';
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import type { Balance, KlineInterval, StreamHandle, StreamSubscription, Ticker24h, VenueClient, VenueEvent, VenueFill, VenueMarket, VenueOrder, VenueOrderRequest } from '../venue/types.js';
import { CircuitBreakers, DEFAULT_CIRCUIT_BREAKER_OPTIONS, type CircuitBreakerOptions, type CircuitBreakerSnapshot } from './circuitBreaker.js';
import { TokenBucket, DEFAULT_TOKEN_BUCKET_OPTIONS, type TokenBucketOptions } from './tokenBucket.js';
import { DEFAULT_BACKOFF, retryDelayMs, shouldRetry } from './backoff.js';
import { CircuitOpenError, ExchangeError, NetworkError, RateLimitQueueFullError, type ExchangeOperation } from './exchangeErrors.js';

/** Options of a {@link GuardedVenue}. */
export interface GuardedVenueOptions {
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
  /** Calls per request, the first included. */
  readonly maxAttempts: number;
}

/** The product brief's 5 orders/s burst 20, 1 s to 30 s backoff, 5 attempts. */
export const DEFAULT_GUARDED_VENUE_OPTIONS: GuardedVenueOptions = {
  rateLimit: DEFAULT_TOKEN_BUCKET_OPTIONS,
  maxRateLimitWaitMs: 60_000,
  maxQueuedRequests: 200,
  circuitBreaker: DEFAULT_CIRCUIT_BREAKER_OPTIONS,
  backoff: { baseMs: DEFAULT_BACKOFF.baseMs, maxMs: DEFAULT_BACKOFF.maxMs },
  maxAttempts: 5,
};

/** Endpoints with a breaker of their own (a fixed set: the breaker registry is bounded). */
export type VenueEndpoint =
  | 'createOrder'
  | 'cancelOrder'
  | 'fetchOrder'
  | 'fetchOpenOrders'
  | 'fetchMyTrades'
  | 'fetchBookTop'
  | 'fetchBalances'
  | 'fetchKlines'
  | 'fetchTickers24h'
  | 'loadMarkets';

/** The endpoints that spend a token of the order rate limiter. */
const RATE_LIMITED: ReadonlySet<VenueEndpoint> = new Set<VenueEndpoint>(['createOrder', 'cancelOrder']);
/** Waits for a token before the request gives up even if time did not move (a broken clock). */
const MAX_TOKEN_WAITS = 64;

/** What the guard reports while it works (for logs and tests). */
export type GuardEvent =
  | { readonly type: 'retry'; readonly endpoint: VenueEndpoint; readonly attempt: number; readonly delayMs: number; readonly error: string }
  | { readonly type: 'circuit_open'; readonly endpoint: VenueEndpoint; readonly halfOpenAt: number };

export interface GuardDeps {
  now(): number;
  sleep(ms: number): Promise<void>;
  /** A draw in [0, 1), for backoff jitter. */
  random(): number;
  onEvent?(e: GuardEvent): void;
}

/** Counters of the guard. */
export interface GuardStats {
  readonly retries: number;
  readonly circuitRejections: number;
}

export interface GuardSnapshot {
  readonly breakers: Record<string, CircuitBreakerSnapshot>;
  /** Tokens in the order rate limiter now. */
  readonly bucketLevel: number;
  readonly stats: GuardStats;
}

export function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** See the file comment. */
export class GuardedVenue implements VenueClient {
  readonly name: string;
  private readonly opts: GuardedVenueOptions;
  private readonly bucket: TokenBucket;
  private readonly breakers: CircuitBreakers;
  private tokenGate: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly counters = { retries: 0, circuitRejections: 0 };

  /** @throws ConfigError when an option is out of range. */
  constructor(
    /** The venue itself (ccxt MEXC, the paper venue, a test fake). */
    readonly inner: VenueClient,
    private readonly deps: GuardDeps,
    options: Partial<GuardedVenueOptions> = {},
  ) {
    this.name = inner.name;
    this.opts = { ...DEFAULT_GUARDED_VENUE_OPTIONS, ...options };
    for (const key of ['maxAttempts', 'maxQueuedRequests'] as const) {
      const v = this.opts[key];
      if (!Number.isInteger(v) || v < 1) throw new ConfigError(`GuardedVenue: ${key} must be an integer >= 1, got ${v}`);
    }
    if (!(this.opts.maxRateLimitWaitMs >= 0)) throw new ConfigError(`GuardedVenue: maxRateLimitWaitMs must be >= 0, got ${this.opts.maxRateLimitWaitMs}`);
    this.bucket = new TokenBucket(this.opts.rateLimit);
    this.breakers = new CircuitBreakers(this.opts.circuitBreaker);
  }

  // -------------------------------------------------------------------------------------------
  // VenueClient

  loadMarkets(): Promise<ReadonlyMap<SymbolId, VenueMarket>> {
    return this.call('loadMarkets', 'query', () => this.inner.loadMarkets());
  }

  market(symbol: SymbolId): VenueMarket {
    return this.inner.market(symbol);
  }

  fetchBalances(): Promise<Balance[]> {
    return this.call('fetchBalances', 'query', () => this.inner.fetchBalances());
  }

  /**
   * Places an order, retried only when it cannot have executed (a connection refused before
   * sending, 429, clock skew). An unknown outcome is thrown: look the order up, do not resend.
   */
  createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    return this.call('createOrder', 'submit', () => this.inner.createOrder(req));
  }

  cancelOrder(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder> {
    return this.call('cancelOrder', 'cancel', () => this.inner.cancelOrder(symbol, clientOrderId));
  }

  fetchOpenOrders(symbol?: SymbolId): Promise<VenueOrder[]> {
    return this.call('fetchOpenOrders', 'query', () => this.inner.fetchOpenOrders(symbol));
  }

  fetchOrderByClientId(symbol: SymbolId, clientOrderId: string): Promise<VenueOrder | undefined> {
    return this.call('fetchOrder', 'query', () => this.inner.fetchOrderByClientId(symbol, clientOrderId));
  }

  fetchOrderById(symbol: SymbolId, exchangeOrderId: string): Promise<VenueOrder | undefined> {
    return this.call('fetchOrder', 'query', () => this.inner.fetchOrderById(symbol, exchangeOrderId));
  }

  fetchMyTrades(symbol: SymbolId, since?: number, limit?: number): Promise<VenueFill[]> {
    return this.call('fetchMyTrades', 'query', () => this.inner.fetchMyTrades(symbol, since, limit));
  }

  fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]> {
    return this.call('fetchKlines', 'query', () => this.inner.fetchKlines(symbol, interval, since, limit));
  }

  fetchTickers24h(symbols?: readonly SymbolId[]): Promise<Ticker24h[]> {
    return this.call('fetchTickers24h', 'query', () => this.inner.fetchTickers24h(symbols));
  }

  fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    return this.call('fetchBookTop', 'query', () => this.inner.fetchBookTop(symbol));
  }

  stream(subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    return this.inner.stream(subscriptions, onEvent);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  // -------------------------------------------------------------------------------------------
  // The rules, for callers with a retry loop of their own (SafeExchange's submit)

  /**
   * One call through the rate limiter (order endpoints) and the endpoint's breaker, not retried.
   * Rejects with the venue's ExchangeError, a CircuitOpenError or a RateLimitQueueFullError.
   */
  async attempt<T>(endpoint: VenueEndpoint, fn: () => Promise<T>): Promise<T> {
    const breaker = this.breakers.get(endpoint);
    const refuse = (): CircuitOpenError => {
      const now = this.deps.now();
      const snap = breaker.snapshot(now);
      this.counters.circuitRejections++;
      const err = new CircuitOpenError(endpoint, snap.halfOpenAt ?? now);
      this.deps.onEvent?.({ type: 'circuit_open', endpoint, halfOpenAt: err.halfOpenAt });
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
      const err = e instanceof ExchangeError ? e : new NetworkError(`unexpected failure of ${endpoint}: ${describeError(e)}`, { cause: e, requestSent: true });
      if (err.retryable) breaker.onFailure(this.deps.now());
      else breaker.onSuccess(this.deps.now());
      throw err;
    }
  }

  /** A call retried per `shouldRetry` for `operation`, with backoff; the last error is thrown. */
  async call<T>(endpoint: VenueEndpoint, operation: ExchangeOperation, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(endpoint, fn);
      } catch (e) {
        if (attempt >= this.opts.maxAttempts || !shouldRetry(e, 1, operation)) throw e;
        await this.backoff(endpoint, e, attempt);
      }
    }
  }

  /** Waits the backoff after failed attempt `attempt` of a call to `endpoint` (Retry-After honoured). */
  async backoff(endpoint: VenueEndpoint, e: unknown, attempt: number): Promise<void> {
    const r = this.deps.random();
    const jitter = r >= 0 && r < 1 ? r : 0;
    const delayMs = retryDelayMs(e, attempt, { ...this.opts.backoff, jitter });
    this.counters.retries++;
    this.deps.onEvent?.({ type: 'retry', endpoint, attempt, delayMs, error: describeError(e) });
    await this.deps.sleep(delayMs);
  }

  // -------------------------------------------------------------------------------------------
  // Status

  stats(): GuardStats {
    return { ...this.counters };
  }

  /** Breakers, the rate limiter's level and the counters, at the injected clock's now. */
  snapshot(): GuardSnapshot {
    const now = this.deps.now();
    return { breakers: this.breakers.snapshot(now), bucketLevel: this.bucket.available(now), stats: this.stats() };
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
}
