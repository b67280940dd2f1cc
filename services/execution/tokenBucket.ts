/**
 * A token bucket: the client-side order rate limit (the product brief's 5 orders per second with a
 * burst of 20), so the executor throttles itself instead of being throttled by the venue.
 *
 * Terms: the bucket holds up to `burst` tokens; each order takes one; tokens come back
 * continuously at `ratePerSecond`. A full bucket therefore allows `burst` orders at once, then one
 * order every 1000 / ratePerSecond ms.
 *
 * Pure: time is passed in as `now` (epoch ms). The level is kept in milli-tokens (1 token = 1000)
 * so that, with an integer rate and whole-millisecond clocks, refill is integer arithmetic
 * (elapsed ms x tokens per second) and many small refills add up exactly, with no float drift
 * that would refuse a token a fraction of a microsecond too early.
 */
import { ConfigError, DataValidationError } from '../core/errors.js';

/** Options of a {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second, continuously. Finite and > 0. */
  readonly ratePerSecond: number;
  /** Capacity: the most tokens the bucket holds, i.e. the largest burst. Integer >= 1. */
  readonly burst: number;
}

/** The product brief's order rate limit: 5 orders per second, bursts of up to 20. */
export const DEFAULT_TOKEN_BUCKET_OPTIONS: TokenBucketOptions = { ratePerSecond: 5, burst: 20 };

const MILLI = 1000;

/**
 * A continuously refilling token bucket. Starts full. If `now` goes backwards (clock step, out of
 * order events), no time is treated as elapsed: tokens are never minted by a clock going back,
 * and the later return of the clock is not counted twice.
 */
export class TokenBucket {
  private readonly rate: number;
  private readonly burst: number;
  /** Tokens x 1000 at `last`. */
  private level: number;
  /** The latest `now` seen by a mutating call; -Infinity before the first one. */
  private last = Number.NEGATIVE_INFINITY;

  /** @throws ConfigError naming the option when an option is out of range. */
  constructor(options: Partial<TokenBucketOptions> = {}) {
    const { ratePerSecond, burst } = { ...DEFAULT_TOKEN_BUCKET_OPTIONS, ...options };
    if (typeof ratePerSecond !== 'number' || !Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
      throw new ConfigError(`TokenBucket: ratePerSecond must be a finite number > 0, got ${String(ratePerSecond)}`);
    }
    if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 1) {
      throw new ConfigError(`TokenBucket: burst must be an integer >= 1, got ${String(burst)}`);
    }
    this.rate = ratePerSecond;
    this.burst = burst;
    this.level = burst * MILLI;
  }

  /** Takes `n` tokens if they are all available at `now`; otherwise takes none and returns false. */
  tryTake(now: number, n = 1): boolean {
    checkNow('tryTake', now);
    checkCount('tryTake', n);
    this.level = this.levelAt(now);
    if (now > this.last) this.last = now;
    const need = n * MILLI;
    if (this.level < need) return false;
    this.level -= need;
    return true;
  }

  /**
   * The smallest whole number of milliseconds after `now` at which `n` tokens will exist (0 when
   * they exist now), so `tryTake(now + result, n)` succeeds if nothing else takes tokens meanwhile.
   * With the default 5/s the exact wait is always a whole number (200 ms per token). Infinity
   * when `n > burst`: that many tokens can never exist at once.
   */
  msUntilAvailable(now: number, n = 1): number {
    checkNow('msUntilAvailable', now);
    checkCount('msUntilAvailable', n);
    if (n > this.burst) return Number.POSITIVE_INFINITY;
    const deficit = n * MILLI - this.levelAt(now);
    if (deficit <= 0) return 0;
    // Milli-tokens accrue at `rate` per ms (rate tokens/s = rate x 1000 milli-tokens / 1000 ms).
    let ms = Math.ceil(deficit / this.rate);
    // Guard against a quotient rounded just above an integer (e.g. 600.0000000001 -> 601).
    if (ms > 0 && (ms - 1) * this.rate >= deficit) ms -= 1;
    return ms;
  }

  /** Tokens available at `now` (may be fractional). Does not change the bucket. */
  available(now: number): number {
    checkNow('available', now);
    return this.levelAt(now) / MILLI;
  }

  /** The level in milli-tokens at `now`, without committing it. */
  private levelAt(now: number): number {
    const elapsed = now > this.last ? now - this.last : 0;
    if (elapsed === Number.POSITIVE_INFINITY) return this.burst * MILLI;
    return Math.min(this.burst * MILLI, this.level + elapsed * this.rate);
  }
}

function checkNow(method: string, now: number): void {
  if (!Number.isFinite(now)) {
    throw new DataValidationError(`TokenBucket.${method}: now must be a finite epoch ms, got ${String(now)}`);
  }
}

function checkCount(method: string, n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new DataValidationError(`TokenBucket.${method}: n must be an integer >= 1, got ${String(n)}`);
  }
}
