/**
 * Retry policy for venue calls: exponential backoff (1 s, 2 s, 4 s, ... capped at 30 s) with jitter,
 * at most 5 attempts, and the venue's Retry-After honoured when it asks for a longer wait.
 *
 * Jitter spreads retries of many clients (or many orders) over time so they do not hit the venue in
 * lockstep. The random draw is passed in (the core has no Math.random), which keeps tests exact.
 */
import { DataValidationError } from '../core/errors.js';
import { ExchangeError, RateLimitError, isUnknownOutcome, type ExchangeOperation } from './exchangeErrors.js';

/** Attempts per request, the first one included. */
export const MAX_ATTEMPTS = 5;

export interface BackoffOptions {
  /** Delay after the first failed attempt (ms). */
  readonly baseMs: number;
  /** Cap on the computed delay (ms); a longer Retry-After still wins. */
  readonly maxMs: number;
  /** A random draw in [0, 1); 0 gives the undithered delay. */
  readonly jitter: number;
  /** The venue's Retry-After (ms), when it sent one. */
  readonly retryAfterMs?: number;
}

/** The project's defaults: 1 s doubling to at most 30 s. */
export const DEFAULT_BACKOFF = { baseMs: 1000, maxMs: 30_000 } as const;

/**
 * Milliseconds to wait after failed attempt `attempt` (1-based): min(maxMs, baseMs * 2^(attempt-1)),
 * dithered down by up to half ("equal jitter": d * (1 - jitter/2), so in (d/2, d]), and raised to
 * `retryAfterMs` when that is larger (even above the cap: the venue bans clients that ignore it).
 * Throws DataValidationError for an attempt below 1, a jitter outside [0, 1) or negative delays.
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions): number {
  if (!Number.isSafeInteger(attempt) || attempt < 1) throw new DataValidationError(`backoffDelayMs: attempt must be an integer >= 1, got ${attempt}`);
  if (!(opts.jitter >= 0 && opts.jitter < 1)) throw new DataValidationError(`backoffDelayMs: jitter must be in [0, 1), got ${opts.jitter}`);
  if (!(opts.baseMs >= 0 && opts.maxMs >= 0)) throw new DataValidationError(`backoffDelayMs: baseMs and maxMs must be >= 0, got ${opts.baseMs} and ${opts.maxMs}`);
  // 2^(attempt-1) overflows to Infinity for huge attempts; min() caps it either way.
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
  const delay = Math.round(exp * (1 - opts.jitter / 2));
  const after = opts.retryAfterMs;
  return after !== undefined && after > delay ? after : delay;
}

/**
 * Whether to send the request again after failed attempt `attempt` (1-based) of `operation`: only
 * retryable venue errors, only while fewer than MAX_ATTEMPTS were made, and never for a submit whose
 * outcome is unknown (timeout, 5xx, or a connection lost after sending): that order is resolved by a
 * lookup, since a second submit could place it twice.
 */
export function shouldRetry(err: unknown, attempt: number, operation: ExchangeOperation): boolean {
  if (!(err instanceof ExchangeError) || !err.retryable) return false;
  if (attempt >= MAX_ATTEMPTS) return false;
  return !isUnknownOutcome(err, operation);
}

/** The delay before retrying after `err`, taking a RateLimitError's Retry-After into account. */
export function retryDelayMs(err: unknown, attempt: number, opts: Omit<BackoffOptions, 'retryAfterMs'>): number {
  const after = err instanceof RateLimitError ? err.retryAfterMs : undefined;
  return backoffDelayMs(attempt, after !== undefined ? { ...opts, retryAfterMs: after } : opts);
}
