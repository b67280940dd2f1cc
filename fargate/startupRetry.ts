/**
 * Start-up requests with the venue's retry rules (backoff from 1 s to 30 s with jitter,
 * Retry-After honoured, at most 5 attempts): a rate limit or a 5xx while starting must not end the
 * process. A venue that cannot be reached at all is not retried when `unreachableIsFinal`: it is
 * not there, and the caller has a better thing to say (or do) than wait.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BACKOFF, retryDelayMs, shouldRetry } from '../services/execution/backoff.js';
import { NetworkError } from '../services/execution/exchangeErrors.js';

/** Runs `fn`, retrying retryable venue errors; `warn` receives one line per retry. */
export async function withStartupRetries<T>(what: string, fn: () => Promise<T>, warn: (line: string) => void, unreachableIsFinal = false): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const unreachable = e instanceof NetworkError && !e.requestSent;
      if ((unreachable && unreachableIsFinal) || !shouldRetry(e, attempt, 'query')) throw e;
      const ms = retryDelayMs(e, attempt, { ...DEFAULT_BACKOFF, jitter: randomInt(0, 500_000) / 1_000_000 });
      warn(`warning: ${what} failed (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}); retrying in ${(ms / 1000).toFixed(1)} s`);
      await sleep(ms);
    }
  }
}
