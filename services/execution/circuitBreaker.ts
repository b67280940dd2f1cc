/**
 * Circuit breakers per venue endpoint, so a failing endpoint (timeouts, 5xx) is left alone for a
 * while instead of being hammered with retries.
 *
 * States:
 * - closed: calls pass. The breaker opens when `failureThreshold` consecutive failures all fall
 *   within `windowMs` (a failure at time t still counts at `now` while now - t < windowMs).
 *   Rule: a success in the closed state resets the count, so only an unbroken run of failures
 *   opens it; failures older than the window expire on their own.
 * - open: calls are refused until `openMs` has passed since it opened (at exactly
 *   openedAt + openMs it is half-open, not 1 ms earlier).
 * - half_open: up to `halfOpenMaxProbes` trial calls (probes) are let through. The first probe
 *   success closes the breaker (and clears the failure run); a probe failure reopens it for
 *   another `openMs`.
 *
 * Outcomes reported while open come from calls started before it opened: they are ignored (they
 * neither extend nor shorten the open period). A caller must report every call it was allowed to
 * make, and report a timeout as a failure, or a half-open breaker keeps its probe slot taken.
 *
 * Pure: time is passed in as `now` (epoch ms). Memory is bounded: only the last
 * `failureThreshold` failure times are kept, in a ring.
 */
import { ConfigError, DataValidationError, InvalidStateError } from '../core/errors.js';

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Consecutive failures within `windowMs` that open the breaker. Integer >= 1. */
  readonly failureThreshold: number;
  /** How far back failures count, in ms. Finite and > 0. */
  readonly windowMs: number;
  /** How long the breaker stays open before probing, in ms. Finite and >= 0. */
  readonly openMs: number;
  /** Probe calls allowed at once in the half-open state. Integer >= 1. */
  readonly halfOpenMaxProbes: number;
}

/** Defaults: 5 failures within a minute open the breaker for 30 s, then one probe. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  failureThreshold: 5,
  windowMs: 60_000,
  openMs: 30_000,
  halfOpenMaxProbes: 1,
};

/** The breaker's state at a given time. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** What a status endpoint shows of one breaker. */
export interface CircuitBreakerSnapshot {
  readonly state: CircuitState;
  /** Failures of the current run still inside the window (0 unless closed). */
  readonly recentFailures: number;
  /** When the breaker last opened; null if it is not open or half-open. */
  readonly openedAt: number | null;
  /** When an open breaker turns half-open; null unless open. */
  readonly halfOpenAt: number | null;
  /** Probes let through and not yet reported (half-open only, else 0). */
  readonly probesInFlight: number;
  /** How many times this breaker has opened (including reopenings after a failed probe). */
  readonly timesOpened: number;
}

/** Checks options and fills in defaults. @throws ConfigError naming the option. */
function resolveOptions(options: Partial<CircuitBreakerOptions>): CircuitBreakerOptions {
  const o = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...options };
  const intAtLeast1 = (name: keyof CircuitBreakerOptions): void => {
    const v = o[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new ConfigError(`CircuitBreaker: ${name} must be an integer >= 1, got ${String(v)}`);
    }
  };
  intAtLeast1('failureThreshold');
  intAtLeast1('halfOpenMaxProbes');
  if (typeof o.windowMs !== 'number' || !Number.isFinite(o.windowMs) || o.windowMs <= 0) {
    throw new ConfigError(`CircuitBreaker: windowMs must be a finite number > 0, got ${String(o.windowMs)}`);
  }
  if (typeof o.openMs !== 'number' || !Number.isFinite(o.openMs) || o.openMs < 0) {
    throw new ConfigError(`CircuitBreaker: openMs must be a finite number >= 0, got ${String(o.openMs)}`);
  }
  return o;
}

function checkNow(method: string, now: number): void {
  if (!Number.isFinite(now)) {
    throw new DataValidationError(`CircuitBreaker.${method}: now must be a finite epoch ms, got ${String(now)}`);
  }
}

/** One endpoint's circuit breaker. See the file comment for the state rules. */
export class CircuitBreaker {
  private readonly opts: CircuitBreakerOptions;
  /** Stored state; an 'open' breaker past its open period is half-open (see `effective`). */
  private stored: CircuitState = 'closed';
  /** Ring of the current run's failure times; `count` valid entries ending before `head`. */
  private readonly failures: number[];
  private head = 0;
  private count = 0;
  private openedAt = 0;
  private probes = 0;
  private opens = 0;

  /** @throws ConfigError naming the option when an option is out of range. */
  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    this.opts = resolveOptions(options);
    this.failures = new Array<number>(this.opts.failureThreshold).fill(0);
  }

  /** The state at `now`. Does not change the breaker. */
  state(now: number): CircuitState {
    checkNow('state', now);
    return this.effective(now);
  }

  /**
   * Whether a call may be made at `now`. In the half-open state a true answer takes a probe slot:
   * the caller must make the call and report it with onSuccess / onFailure.
   */
  canRequest(now: number): boolean {
    checkNow('canRequest', now);
    this.advance(now);
    if (this.stored === 'closed') return true;
    if (this.stored === 'open') return false;
    if (this.probes >= this.opts.halfOpenMaxProbes) return false;
    this.probes += 1;
    return true;
  }

  /** Reports a successful call. Closed: ends the failure run. Half-open: closes the breaker. */
  onSuccess(now: number): void {
    checkNow('onSuccess', now);
    this.advance(now);
    if (this.stored === 'open') return;
    this.stored = 'closed';
    this.probes = 0;
    this.count = 0;
  }

  /** Reports a failed call (including a timeout). May open or reopen the breaker. */
  onFailure(now: number): void {
    checkNow('onFailure', now);
    this.advance(now);
    if (this.stored === 'open') return;
    if (this.stored === 'half_open') {
      this.open(now);
      return;
    }
    const size = this.opts.failureThreshold;
    this.failures[this.head] = now;
    this.head = (this.head + 1) % size;
    if (this.count < size) this.count += 1;
    // The ring is full: `head` now points at the oldest of the last `size` failures.
    if (this.count === size && now - (this.failures[this.head] ?? now) < this.opts.windowMs) {
      this.open(now);
    }
  }

  /** What a status endpoint shows, at `now`. Does not change the breaker. */
  snapshot(now: number): CircuitBreakerSnapshot {
    checkNow('snapshot', now);
    const state = this.effective(now);
    return {
      state,
      recentFailures: state === 'closed' ? this.recentFailures(now) : 0,
      openedAt: state === 'closed' ? null : this.openedAt,
      halfOpenAt: state === 'open' ? this.openedAt + this.opts.openMs : null,
      probesInFlight: state === 'half_open' && this.stored === 'half_open' ? this.probes : 0,
      timesOpened: this.opens,
    };
  }

  private effective(now: number): CircuitState {
    if (this.stored === 'open' && now >= this.openedAt + this.opts.openMs) return 'half_open';
    return this.stored;
  }

  /** Commits the open -> half-open transition when its time has come. */
  private advance(now: number): void {
    if (this.stored === 'open' && this.effective(now) === 'half_open') {
      this.stored = 'half_open';
      this.probes = 0;
    }
  }

  private open(now: number): void {
    this.stored = 'open';
    this.openedAt = now;
    this.probes = 0;
    this.count = 0;
    this.opens += 1;
  }

  /** Failures of the current run with now - t < windowMs, newest first until one is too old. */
  private recentFailures(now: number): number {
    const size = this.opts.failureThreshold;
    let n = 0;
    for (let i = 1; i <= this.count; i++) {
      const t = this.failures[(this.head - i + size) % size] ?? Number.NEGATIVE_INFINITY;
      if (now - t >= this.opts.windowMs) break;
      n += 1;
    }
    return n;
  }
}

/**
 * Circuit breakers keyed by endpoint name (e.g. 'createOrder', 'cancelOrder'), all with the same
 * options, created on first use. Endpoint names are a fixed set in code, so the registry is
 * bounded by `maxEndpoints` to catch a caller that keys it by something unbounded (an order id).
 */
export class CircuitBreakers {
  private readonly opts: CircuitBreakerOptions;
  private readonly byEndpoint = new Map<string, CircuitBreaker>();

  /** @throws ConfigError naming the option when an option or `maxEndpoints` is out of range. */
  constructor(
    options: Partial<CircuitBreakerOptions> = {},
    private readonly maxEndpoints = 64,
  ) {
    this.opts = resolveOptions(options);
    if (!Number.isInteger(maxEndpoints) || maxEndpoints < 1) {
      throw new ConfigError(`CircuitBreakers: maxEndpoints must be an integer >= 1, got ${String(maxEndpoints)}`);
    }
  }

  /**
   * The breaker of `endpoint`, created closed on first use.
   * @throws InvalidStateError when a new endpoint would exceed `maxEndpoints`.
   */
  get(endpoint: string): CircuitBreaker {
    let breaker = this.byEndpoint.get(endpoint);
    if (breaker === undefined) {
      if (this.byEndpoint.size >= this.maxEndpoints) {
        throw new InvalidStateError(
          `CircuitBreakers.get: cannot add endpoint '${endpoint}', already ${this.maxEndpoints} endpoints (maxEndpoints)`,
        );
      }
      breaker = new CircuitBreaker(this.opts);
      this.byEndpoint.set(endpoint, breaker);
    }
    return breaker;
  }

  /** Every known endpoint's snapshot at `now`, for a status endpoint. */
  snapshot(now: number): Record<string, CircuitBreakerSnapshot> {
    const out: Record<string, CircuitBreakerSnapshot> = {};
    for (const [name, breaker] of this.byEndpoint) out[name] = breaker.snapshot(now);
    return out;
  }
}
