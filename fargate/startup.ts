/**
 * What the runtime and paper trading both do when they start: venue requests with the retry rules,
 * the warm-up history, the stream subscriptions of a trading session.
 *
 * Start-up requests are all queries (nothing is placed before trading starts), so every retryable
 * venue error is retried, with the venue's backoff (1 s to 30 s with jitter, Retry-After honoured),
 * for up to STARTUP_RETRY_BUDGET_MS rather than the five attempts of a trading request: a burst of
 * rate limits, 5xx and timeouts while starting must not end the process, since a process that exits
 * leaves its open positions unwatched until it is started again (the soak's fault part found start-
 * ups giving up after 15 s of faults). A venue that cannot be reached at all is not retried when
 * `unreachableIsFinal`: it is not there, and the caller has a better thing to say (or do) than wait.
 */
import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_BACKOFF, retryDelayMs } from '../services/execution/backoff.js';
import { ExchangeError, NetworkError } from '../services/execution/exchangeErrors.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import type { Candle, SymbolId } from '../services/core/types.js';
import type { StreamSubscription, VenueClient } from '../services/venue/types.js';

/** How long a start-up request is retried before the start fails (the exchange-failure halt's 5 minutes). */
export const STARTUP_RETRY_BUDGET_MS = 5 * 60_000;

export interface StartupRetryOptions {
  /** Give up once the next wait would end past this many ms after the first attempt. */
  readonly budgetMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

/** Runs `fn`, retrying retryable venue errors (see the file comment); `warn` receives one line per retry. */
export async function withStartupRetries<T>(what: string, fn: () => Promise<T>, warn: (line: string) => void, unreachableIsFinal = false, opts: StartupRetryOptions = {}): Promise<T> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? sleep;
  const budget = opts.budgetMs ?? STARTUP_RETRY_BUDGET_MS;
  const t0 = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const unreachable = e instanceof NetworkError && !e.requestSent;
      if ((unreachable && unreachableIsFinal) || !(e instanceof ExchangeError) || !e.retryable) throw e;
      const ms = retryDelayMs(e, attempt, { ...DEFAULT_BACKOFF, jitter: randomInt(0, 500_000) / 1_000_000 });
      const elapsed = now() - t0;
      if (elapsed + ms > budget) {
        warn(`warning: ${what} failed ${attempt} time(s) in ${(elapsed / 1000).toFixed(0)} s; giving up (start-up requests are retried for ${budget / 1000} s)`);
        throw e;
      }
      warn(`warning: ${what} failed (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}); retrying in ${(ms / 1000).toFixed(1)} s (attempt ${attempt})`);
      await wait(ms);
    }
  }
}

/**
 * The closed 1m candles of the `minutes` before `now`, oldest first, for warming up the strategy.
 * MEXC serves at most 500 klines a request, so it pages forward from the start of the window
 * (at most 10 pages); each request is retried as above.
 */
export async function loadClosedHistory(
  venue: Pick<VenueClient, 'fetchKlines'>,
  symbol: SymbolId,
  minutes: number,
  now: number,
  warn: (line: string) => void,
): Promise<Candle[]> {
  const history: Candle[] = [];
  const nowMinute = now - (now % MINUTE_MS);
  let since = nowMinute - minutes * MINUTE_MS;
  for (let page = 0; page < 10 && minutes > 0; page++) {
    const rows = await withStartupRetries(`loading ${symbol} history`, () => venue.fetchKlines(symbol, '1m', since, 500), warn);
    for (const c of rows) if (c.openTime >= since) history.push(c);
    const last = rows[rows.length - 1];
    if (!last || last.openTime + MINUTE_MS >= nowMinute) break;
    since = last.openTime + MINUTE_MS;
  }
  return history.filter((c) => c.openTime + MINUTE_MS <= now);
}

/** What a trading session streams: 1m klines, trades and the book of each symbol, and the account's orders, fills and balances. */
export function tradingSubscriptions(symbols: readonly SymbolId[]): StreamSubscription[] {
  return [
    ...symbols.flatMap((symbol): StreamSubscription[] => [
      { kind: 'kline', symbol, interval: '1m' },
      { kind: 'trades', symbol },
      { kind: 'book', symbol },
    ]),
    { kind: 'orders' },
    { kind: 'fills' },
    { kind: 'balances' },
  ];
}
