/**
 * Options of the MEXC stream manager (streamManager.ts) with their defaults, checked once when a
 * manager is built: a bad value fails with the field's name.
 */
import { randomInt } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import type { SymbolId } from '../../core/types.js';
import type { StreamSubscription } from '../../venue/types.js';

export type StreamKind = StreamSubscription['kind'];

export interface StreamManagerOptions {
  /** MEXC allows 30 subscriptions per connection (PROTOCOL.md §2). */
  readonly maxSubscriptionsPerConnection: number;
  /** Age at which a connection is replaced (make-before-break); MEXC cuts connections at 24 h. */
  readonly rotateAfterMs: number;
  /** Longest time the old connection is kept open while its replacement subscribes. */
  readonly rotationOverlapMaxMs: number;
  /**
   * Silence after which a stream is stale, per kind; undefined = never (the private streams are
   * silent whenever nothing happens on the account).
   */
  readonly staleAfterMs: Readonly<Record<StreamKind, number | undefined>>;
  /** A shard is reconnected for staleness at most this often (a quiet market must not make it flap). */
  readonly staleReconnectMinIntervalMs: number;
  /** REST polling period while a stream is stale or the private connection is down. */
  readonly pollIntervalMs: number;
  /** Reconnect backoff: first delay, cap, and attempts in a row before giving up. */
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly maxReconnectAttempts: number;
  /** Most klines fetched by one backfill request (MEXC REST returns at most 500–1000). */
  readonly klineBackfillLimit: number;
  /** Attempts of one backfill request before the gap is reported as not filled. */
  readonly klineBackfillAttempts: number;
  /** A kline is closed by the clock this long after its window ended, when no later window came. */
  readonly klineCloseGraceMs: number;
  /** Period of the policy timer (kline closing, stale checks, rotation). */
  readonly tickMs: number;
  /** Capacity of each de-duplication set (trades per stream, fills). */
  readonly dedupCapacity: number;
  /**
   * `start` resolves once every stream is subscribed (acknowledged or delivering), or after this
   * long: an order placed right after `start` must not fill before its private stream listens.
   */
  readonly readyTimeoutMs: number;
  /** REST fill polls start this long before the latest fill seen (late reports, clock differences). */
  readonly fillPollLookbackMs: number;
  /** Symbols whose orders and fills are polled while the private connection is down; default: the public streams' symbols. */
  readonly privatePollSymbols?: readonly SymbolId[];
  /** A random draw in [0, 1) for backoff jitter. */
  readonly random: () => number;
  /** Diagnostics: failures that do not stop the feed (REST polls, a consumer that threw, refused subscriptions). */
  readonly onError: (err: unknown, context: string) => void;
}

export const DEFAULT_STREAM_MANAGER_OPTIONS: StreamManagerOptions = {
  maxSubscriptionsPerConnection: 30,
  rotateAfterMs: 23 * 3_600_000,
  rotationOverlapMaxMs: 15_000,
  staleAfterMs: { kline: 90_000, trades: 30_000, book: 30_000, orders: undefined, fills: undefined, balances: undefined },
  staleReconnectMinIntervalMs: 60_000,
  pollIntervalMs: 5_000,
  reconnectBaseMs: 1_000,
  reconnectMaxMs: 30_000,
  maxReconnectAttempts: 10_000,
  klineBackfillLimit: 500,
  klineBackfillAttempts: 3,
  klineCloseGraceMs: 3_000,
  tickMs: 1_000,
  dedupCapacity: 5_000,
  readyTimeoutMs: 5_000,
  fillPollLookbackMs: 60_000,
  random: () => randomInt(0, 1_000_000) / 1_000_000,
  onError: () => undefined,
};

/** Merges partial options over the defaults and checks them. Throws ConfigError naming the field. */
export function resolveStreamOptions(partial: Partial<StreamManagerOptions> = {}): StreamManagerOptions {
  const o: StreamManagerOptions = {
    ...DEFAULT_STREAM_MANAGER_OPTIONS,
    ...partial,
    staleAfterMs: { ...DEFAULT_STREAM_MANAGER_OPTIONS.staleAfterMs, ...(partial.staleAfterMs ?? {}) },
  };
  const positive: (keyof StreamManagerOptions)[] = [
    'maxSubscriptionsPerConnection', 'rotateAfterMs', 'rotationOverlapMaxMs', 'pollIntervalMs', 'reconnectBaseMs',
    'reconnectMaxMs', 'maxReconnectAttempts', 'klineBackfillLimit', 'klineBackfillAttempts', 'tickMs', 'dedupCapacity', 'readyTimeoutMs',
  ];
  for (const k of positive) {
    const v = o[k];
    if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(`streams.${k}: expected a number > 0, got ${typeof v === 'number' ? v : typeof v}`);
  }
  for (const k of ['klineCloseGraceMs', 'staleReconnectMinIntervalMs', 'fillPollLookbackMs'] as const) {
    if (!(o[k] >= 0)) throw new ConfigError(`streams.${k}: expected a number >= 0, got ${o[k]}`);
  }
  if (!Number.isInteger(o.maxSubscriptionsPerConnection)) throw new ConfigError(`streams.maxSubscriptionsPerConnection: expected an integer, got ${o.maxSubscriptionsPerConnection}`);
  for (const [k, v] of Object.entries(o.staleAfterMs)) {
    if (v !== undefined && !(v > 0)) throw new ConfigError(`streams.staleAfterMs.${k}: expected a number > 0 or undefined, got ${String(v)}`);
  }
  return o;
}
