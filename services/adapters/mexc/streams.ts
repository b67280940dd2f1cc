/**
 * MEXC WebSocket streams through ccxt pro, turned into the venue port's typed events.
 *
 * Connections. Subscriptions are packed at most `maxSubscriptionsPerConnection` (MEXC: 30) to a
 * shard; each shard is its own ccxt client and so its own connection. The private streams (orders,
 * fills, balances) get a shard of their own, whose connection URL carries the listen key (ccxt
 * creates it with POST userDataStream and extends it with PUT every 20 minutes).
 *
 * One async loop per subscription and connection calls ccxt's watch method, validates what it
 * returns and emits only what is new. A loop that fails (connection lost, listen key refused) ends
 * its connection ("run"); the shard reconnects after a backoff (1 s doubling to 30 s, jittered),
 * resubscribes on a new client and emits stream_status disconnected → reconnecting → connected.
 * While the private shard is down, open orders, fills and balances are polled over REST. A new
 * private connection reuses the listen key of the one it replaces (extending it at once); a key the
 * venue refused ("Invalid listen key" → AuthenticationError) is dropped, so a new one is created.
 *
 * Silence. A stream silent for longer than `staleAfterMs[kind]` is reported `stale`, polled over
 * REST every `pollIntervalMs` (klines: the closed windows it missed; book: the top), and its
 * connection is replaced (at most every `staleReconnectMinIntervalMs`); it is `connected` again
 * when it delivers. Klines missed while disconnected or silent are backfilled from REST.
 *
 * Make-before-break. Before MEXC's 24-hour cut (after `rotateAfterMs`), and when a stream is
 * stale, a replacement connection is opened and subscribed first; the old one closes once every
 * stream on the new one is acknowledged or has delivered (or after `rotationOverlapMaxMs`). The
 * overlap delivers some data twice; the per-stream policies below drop the copies.
 *
 * Policies (pure, clock passed in, unit-tested): shard packing (`planShards`), silence detection
 * (`StaleTracker`), kline closing, gap and order logic (`KlineTracker`), bounded de-duplication
 * (`BoundedDedup`), and validation of every ccxt result into a core type (`toCandle`, `toTrade`,
 * `toBookTop`, `toVenueOrder`, `toVenueFill`, `toBalance`): anything invalid is counted as
 * malformed and dropped.
 */
import { randomInt } from 'node:crypto';
import ccxt from 'ccxt';
import { ConfigError, DomainError } from '../../core/errors.js';
import { Dec } from '../../core/money.js';
import { splitSymbol, type BookTop, type Candle, type Side, type SymbolId, type Trade } from '../../core/types.js';
import { backoffDelayMs } from '../../execution/backoff.js';
import { AuthenticationError as VenueAuthenticationError, SymbolNotTradableError } from '../../execution/exchangeErrors.js';
import type { OrderStatus } from '../../execution/types.js';
import type {
  Balance,
  FeedStats,
  KlineInterval,
  StreamHandle,
  StreamSubscription,
  VenueClient,
  VenueEvent,
  VenueFill,
  VenueOrder,
  VenueOrderType,
} from '../../venue/types.js';
import type { ProMexc, RawAccountUpdate } from './proClient.js';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Pure policies
// ---------------------------------------------------------------------------------------------

const INTERVAL_MS: Readonly<Record<KlineInterval, number>> = {
  '1m': 60_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000,
};
/** MEXC's WebSocket interval names (PROTOCOL.md §2). */
const WS_INTERVAL: Readonly<Record<KlineInterval, string>> = {
  '1m': 'Min1', '5m': 'Min5', '15m': 'Min15', '30m': 'Min30', '1h': 'Min60', '4h': 'Hour4', '1d': 'Day1',
};

export function intervalMs(interval: KlineInterval): number {
  return INTERVAL_MS[interval];
}

export function isPrivate(sub: StreamSubscription): sub is Extract<StreamSubscription, { kind: 'orders' | 'fills' | 'balances' }> {
  return sub.kind === 'orders' || sub.kind === 'fills' || sub.kind === 'balances';
}

/** The stream's name in events and stats: `kline:BTCUSDT:1m`, `trades:BTCUSDT`, `book:BTCUSDT`, `orders`, `fills`, `balances`. */
export function streamKey(sub: StreamSubscription): string {
  switch (sub.kind) {
    case 'kline':
      return `kline:${sub.symbol}:${sub.interval}`;
    case 'trades':
    case 'book':
      return `${sub.kind}:${sub.symbol}`;
    default:
      return sub.kind;
  }
}

/** The MEXC channel a subscription uses (as ccxt subscribes it), to match the server's acks. */
export function channelFor(sub: StreamSubscription): string {
  switch (sub.kind) {
    case 'kline':
      return `spot@public.kline.v3.api.pb@${sub.symbol}@${WS_INTERVAL[sub.interval]}`;
    case 'trades':
      return `spot@public.aggre.deals.v3.api.pb@100ms@${sub.symbol}`;
    case 'book':
      return `spot@public.aggre.bookTicker.v3.api.pb@100ms@${sub.symbol}`;
    case 'orders':
      return 'spot@private.orders.v3.api.pb';
    case 'fills':
      return 'spot@private.deals.v3.api.pb';
    case 'balances':
      return 'spot@private.account.v3.api.pb';
  }
}

/** How subscriptions are spread over connections. */
export interface ShardPlan {
  /** Public subscriptions, at most `max` per connection, in the order given. */
  readonly public: readonly (readonly StreamSubscription[])[];
  /** Private subscriptions (one connection, empty when none). */
  readonly private: readonly StreamSubscription[];
}

/**
 * Packs subscriptions into connections: duplicates (same stream key) removed, public ones in order
 * at most `max` per connection, private ones on a connection of their own. Throws ConfigError for
 * a bad `max`.
 */
export function planShards(subs: readonly StreamSubscription[], max: number): ShardPlan {
  if (!Number.isInteger(max) || max < 1) throw new ConfigError(`maxSubscriptionsPerConnection: expected an integer >= 1, got ${max}`);
  const seen = new Set<string>();
  const pub: StreamSubscription[] = [];
  const priv: StreamSubscription[] = [];
  for (const s of subs) {
    const k = streamKey(s);
    if (seen.has(k)) continue;
    seen.add(k);
    (isPrivate(s) ? priv : pub).push(s);
  }
  const shards: StreamSubscription[][] = [];
  for (let i = 0; i < pub.length; i += max) shards.push(pub.slice(i, i + max));
  return { public: shards, private: priv };
}

/**
 * A bounded set of seen keys with their times. When full, the oldest key is forgotten and its time
 * becomes the horizon: anything not newer than the horizon is treated as a duplicate, because it can
 * no longer be checked (a bounded set must fail safe: never emit something twice).
 */
export class BoundedDedup {
  private readonly seen = new Map<string, number>();
  private horizon = -Infinity;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new ConfigError(`dedup capacity: expected an integer >= 1, got ${capacity}`);
  }

  /** True when (key, time) is new (and remembers it); false for a duplicate or something older than the horizon. */
  accept(key: string, time: number): boolean {
    if (time <= this.horizon) return false;
    if (this.seen.has(key)) return false;
    this.seen.set(key, time);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.entries().next().value;
      if (oldest !== undefined) {
        this.seen.delete(oldest[0]);
        this.horizon = Math.max(this.horizon, oldest[1]);
      }
    }
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

/**
 * Silence detection for one stream: stale once nothing arrived for longer than `staleAfterMs`
 * (measured from the last delivery, or from `reset`, the start of a connection); fresh again on
 * the next delivery. `staleAfterMs` undefined: never stale.
 */
export class StaleTracker {
  private last: number;
  private isStale = false;

  constructor(readonly staleAfterMs: number | undefined, now: number) {
    this.last = now;
  }

  get stale(): boolean {
    return this.isStale;
  }

  /** Something arrived. Returns true when this ends a stale period. */
  touch(now: number): boolean {
    this.last = now;
    if (!this.isStale) return false;
    this.isStale = false;
    return true;
  }

  /** A new connection: measure silence from now (a stale stream stays stale until it delivers). */
  reset(now: number): void {
    this.last = now;
  }

  /** Returns true when the stream has just become stale. */
  check(now: number): boolean {
    if (this.staleAfterMs === undefined || this.isStale) return false;
    if (now - this.last > this.staleAfterMs) {
      this.isStale = true;
      return true;
    }
    return false;
  }
}

/** What the kline tracker asks the manager to do or emit. */
export type KlineOutput =
  | { readonly kind: 'candle'; readonly candle: Candle; readonly closed: boolean }
  /** An update older than the current window, or a window already closed, or an identical repeat: dropped. */
  | { readonly kind: 'duplicate' }
  /** Closed klines [from, to) (open times) are missing: fetch them and call completeBackfill(seq, …). */
  | { readonly kind: 'gap'; readonly from: number; readonly to: number; readonly seq: number }
  /** A backfill ended: `filled` klines came from REST, `missing` of the gap could not be had. */
  | { readonly kind: 'backfilled'; readonly from: number; readonly to: number; readonly filled: number; readonly missing: number };

function sameCandle(a: Candle, b: Candle): boolean {
  return a.openTime === b.openTime && a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume;
}

/**
 * Kline state of one symbol and interval (pure; time comes in).
 *
 * MEXC pushes the current window's kline about every second. Each update is emitted with
 * closed=false (a repeat, or an older snapshot of the window, with less volume, is a duplicate);
 * a window is emitted closed=true when a later window starts, or by the clock once
 * `closeGraceMs` passed after its end. A snapshot that may be incomplete is never emitted as
 * closed: when the connection drops or the stream goes stale the running window is forgotten
 * (`invalidateCurrent`), and while stale the clock closes nothing (REST polls close windows with
 * their final values). When a window starts more than one interval after the last closed one (a
 * reconnect, a silence), the missing klines are a gap: the tracker reports it, holds what the
 * stream delivers meanwhile, and on completeBackfill emits the REST klines in order, then what it
 * held. So closed klines always come out in time order and each at most once.
 */
export class KlineTracker {
  private current: Candle | undefined;
  /** Open time of the last window known closed (emitted or held). */
  private closedUpTo: number | undefined;
  private gap: { from: number; to: number; seq: number } | undefined;
  private held: Candle[] = [];
  private seq = 0;

  constructor(
    readonly intervalMs: number,
    private readonly opts: { readonly closeGraceMs: number; readonly maxHeld: number },
  ) {}

  /** The pending gap, if a backfill is awaited. */
  get pendingGap(): { readonly from: number; readonly to: number; readonly seq: number } | undefined {
    return this.gap;
  }

  /** Open time of the last closed kline. */
  get lastClosedOpenTime(): number | undefined {
    return this.closedUpTo;
  }

  /** Where a REST poll or a watch should start (open time, inclusive). */
  sinceCursor(): number | undefined {
    if (this.current !== undefined) return this.current.openTime;
    return this.closedUpTo !== undefined ? this.closedUpTo + this.intervalMs : undefined;
  }

  /** A kline from the stream. */
  onStream(c: Candle): KlineOutput[] {
    if (this.closedUpTo !== undefined && c.openTime <= this.closedUpTo) return [{ kind: 'duplicate' }];
    const cur = this.current;
    if (cur !== undefined && c.openTime < cur.openTime) return [{ kind: 'duplicate' }];
    if (cur !== undefined && c.openTime === cur.openTime) {
      // Volume only grows within a window: less is an older snapshot (e.g. from the other connection
      // while two overlap), as is an identical repeat.
      if (sameCandle(c, cur) || c.volume < cur.volume) return [{ kind: 'duplicate' }];
      this.current = c;
      return this.gap !== undefined ? [] : [{ kind: 'candle', candle: c, closed: false }];
    }
    // A later window starts: the current one is final.
    const out: KlineOutput[] = [];
    if (cur !== undefined) out.push(...this.close(cur));
    this.current = c;
    if (this.closedUpTo !== undefined && c.openTime > this.closedUpTo + this.intervalMs) out.push(...this.openGap(this.closedUpTo + this.intervalMs, c.openTime));
    if (this.gap === undefined) out.push({ kind: 'candle', candle: c, closed: false });
    return out;
  }

  /** The clock: closes the current window once its end plus the grace period has passed (never while stale). */
  onTick(now: number, stale: boolean): KlineOutput[] {
    const cur = this.current;
    if (cur === undefined || stale) return [];
    if (now < cur.openTime + this.intervalMs + this.opts.closeGraceMs) return [];
    this.current = undefined;
    return this.close(cur);
  }

  /**
   * The stream may have missed the running window's last updates (connection lost, stream stale):
   * forget the snapshot instead of closing it. The same window from a new connection carries its
   * full values; a later one makes it part of a gap, filled from REST.
   */
  invalidateCurrent(): void {
    this.current = undefined;
  }

  /**
   * Klines polled from REST while the stream is stale (oldest first): windows that ended are
   * emitted closed (REST has their final values), the running window as an update. Ignored while a
   * backfill is pending (the backfill covers them).
   */
  onRest(candles: readonly Candle[], now: number): KlineOutput[] {
    if (this.gap !== undefined) return [];
    const out: KlineOutput[] = [];
    for (const r of [...candles].sort((a, b) => a.openTime - b.openTime)) {
      if (this.closedUpTo !== undefined && r.openTime <= this.closedUpTo) continue;
      const cur = this.current;
      if (r.openTime + this.intervalMs <= now) {
        // REST's final version of a window supersedes the stream's last snapshot of it.
        if (cur !== undefined && cur.openTime <= r.openTime) this.current = undefined;
        else if (cur !== undefined && cur.openTime > r.openTime) continue;
        out.push(...this.close(r));
      } else if (cur === undefined || r.openTime > cur.openTime || (r.openTime === cur.openTime && !sameCandle(r, cur))) {
        if (cur !== undefined && r.openTime > cur.openTime) continue; // cannot happen with a sane clock; keep the stream's window
        this.current = r;
        out.push({ kind: 'candle', candle: r, closed: false });
      }
    }
    return out;
  }

  /**
   * The REST klines for gap `seq` (any order; only those inside the gap are used). Emits them
   * closed in order, the backfilled marker, then what the stream delivered meanwhile. A stale
   * `seq` (the gap was widened since) is ignored.
   */
  completeBackfill(seq: number, candles: readonly Candle[]): KlineOutput[] {
    const g = this.gap;
    if (g === undefined || g.seq !== seq) return [];
    this.gap = undefined;
    const out: KlineOutput[] = [];
    let last = g.from - this.intervalMs;
    let filled = 0;
    for (const r of [...candles].sort((a, b) => a.openTime - b.openTime)) {
      if (r.openTime < g.from || r.openTime >= g.to || r.openTime <= last) continue;
      out.push({ kind: 'candle', candle: r, closed: true });
      last = r.openTime;
      filled++;
    }
    const expected = Math.max(0, Math.round((g.to - g.from) / this.intervalMs));
    out.push({ kind: 'backfilled', from: g.from, to: g.to, filled, missing: Math.max(0, expected - filled) });
    for (const h of this.held) out.push({ kind: 'candle', candle: h, closed: true });
    this.held = [];
    if (this.current !== undefined) out.push({ kind: 'candle', candle: this.current, closed: false });
    return out;
  }

  /** The backfill of gap `seq` failed for good: releases what was held; the gap stays unfilled. */
  failBackfill(seq: number): KlineOutput[] {
    return this.completeBackfill(seq, []);
  }

  private close(c: Candle): KlineOutput[] {
    this.closedUpTo = c.openTime;
    if (this.gap === undefined) return [{ kind: 'candle', candle: c, closed: true }];
    if (this.held.length >= this.opts.maxHeld) {
      // Too much arrived during the backfill: widen the gap to cover it instead (REST has it all).
      this.held = [];
      return this.openGap(this.gap.from, c.openTime + this.intervalMs);
    }
    this.held.push(c);
    return [];
  }

  private openGap(from: number, to: number): KlineOutput[] {
    this.seq++;
    if (this.gap !== undefined) {
      // A second gap while the first is being fetched: one wider gap, fetched again; what was held
      // lies inside it and comes from REST instead.
      this.held = [];
      this.gap = { from: this.gap.from, to: Math.max(to, this.gap.to), seq: this.seq };
    } else {
      this.gap = { from, to, seq: this.seq };
    }
    return [{ kind: 'gap', from: this.gap.from, to: this.gap.to, seq: this.seq }];
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: ccxt results → core types (undefined = malformed)
// ---------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}
/** A decimal string or number from a ccxt `info` field, as Dec; undefined when absent or invalid. */
function decOf(v: unknown): Dec | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  try {
    return Dec.from(v);
  } catch {
    return undefined;
  }
}
/** An integer (ms) from a number or an int64 string. */
function intOf(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A number from a decoded protobuf field: decimals are strings, int64 values are strings (after
 * ccxt's toJSON), protobufjs Long objects (straight from the decoder) or plain numbers.
 */
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() !== '' ? Number(v) : Number.NaN;
  if (typeof v === 'object' && v !== null && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return Number.NaN;
}

/**
 * A decoded public push (PROTOCOL.md §2) → the shape ccxt's watch call would have returned, so one
 * validation path (toCandle, toTrade, toBookTop) serves both: a kline → `[[openMs, o, h, l, c, v]]`;
 * aggregated deals → trades `{ timestamp, price, amount, info: { tradeType } }`; a book ticker →
 * `{ bid, ask, bidVolume, askVolume, timestamp }` (sendTime). Missing fields become NaN and fail
 * validation (counted as malformed).
 */
export function resultFromPush(kind: StreamKind, push: Record<string, unknown>): unknown {
  if (kind === 'kline') {
    const k = isRecord(push['publicSpotKline']) ? push['publicSpotKline'] : {};
    return [[num(k['windowStart']) * 1000, num(k['openingPrice']), num(k['highestPrice']), num(k['lowestPrice']), num(k['closingPrice']), num(k['volume'])]];
  }
  if (kind === 'trades') {
    const body = isRecord(push['publicAggreDeals']) ? push['publicAggreDeals'] : {};
    const deals = Array.isArray(body['deals']) ? (body['deals'] as unknown[]) : [];
    return deals.map((d) => {
      const r = isRecord(d) ? d : {};
      return { timestamp: num(r['time']), price: num(r['price']), amount: num(r['quantity']), info: { tradeType: r['tradeType'] } };
    });
  }
  const b = isRecord(push['publicAggreBookTicker']) ? push['publicAggreBookTicker'] : {};
  return { bid: num(b['bidPrice']), ask: num(b['askPrice']), bidVolume: num(b['bidQuantity']), askVolume: num(b['askQuantity']), timestamp: num(push['sendTime']) };
}

/** A ccxt OHLCV row → Candle: finite, positive prices, low ≤ open/close ≤ high, volume ≥ 0, open time on the interval grid. */
export function toCandle(row: unknown, intervalMsValue: number): Candle | undefined {
  if (!Array.isArray(row) || row.length < 6) return undefined;
  const [t, o, h, l, c, v] = row as unknown[];
  if (!finite(t) || !finite(o) || !finite(h) || !finite(l) || !finite(c) || !finite(v)) return undefined;
  if (!Number.isSafeInteger(t) || t <= 0) return undefined;
  if (!(o > 0 && h > 0 && l > 0 && c > 0) || v < 0) return undefined;
  if (h < l || h < o || h < c || l > o || l > c) return undefined;
  // Day windows may follow the venue's time zone; shorter ones are aligned to UTC (and to UTC+8).
  if (intervalMsValue < 86_400_000 && t % intervalMsValue !== 0) return undefined;
  return { openTime: t, open: o, high: h, low: l, close: c, volume: v };
}

/** A public trade from ccxt → Trade plus its de-duplication key; side from MEXC's tradeType (1 buy, 2 sell). */
export function toTrade(t: unknown): { trade: Trade; key: string } | undefined {
  if (!isRecord(t)) return undefined;
  const price = t['price'];
  const amount = t['amount'];
  const time = t['timestamp'];
  if (!finite(price) || !(price > 0) || !finite(amount) || !(amount > 0)) return undefined;
  if (!finite(time) || !Number.isSafeInteger(time) || time <= 0) return undefined;
  const info = isRecord(t['info']) ? t['info'] : {};
  // ccxt reads a missing tradeType as a sell; MEXC sends 1 or 2, anything else is not a trade we can use.
  const tt = info['tradeType'] ?? info['S'];
  const side: Side | undefined = tt === 1 || tt === '1' ? 'buy' : tt === 2 || tt === '2' ? 'sell' : undefined;
  if (side === undefined) return undefined;
  const id = t['id'];
  const key = typeof id === 'string' && id !== '' ? id : `${time}|${price}|${amount}|${side}`;
  return { trade: { time, price, quantity: amount, buyerMaker: side === 'sell' }, key };
}

/** A ccxt ticker from the book-ticker channel → BookTop: positive bid and ask, bid ≤ ask, sizes ≥ 0. */
export function toBookTop(t: unknown, now: number): BookTop | undefined {
  if (!isRecord(t)) return undefined;
  const bid = t['bid'];
  const ask = t['ask'];
  const bidSize = t['bidVolume'];
  const askSize = t['askVolume'];
  if (!finite(bid) || !finite(ask) || !(bid > 0) || !(ask > 0) || bid > ask) return undefined;
  if (!finite(bidSize) || !finite(askSize) || bidSize < 0 || askSize < 0) return undefined;
  const ts = t['timestamp'];
  const time = finite(ts) && ts > 0 ? ts : now;
  return { time, bid, bidSize, ask, askSize };
}

const WS_ORDER_STATUS: Readonly<Record<string, OrderStatus>> = { '1': 'new', '2': 'filled', '3': 'partially_filled', '4': 'cancelled', '5': 'cancelled' };
const WS_ORDER_TYPE: Readonly<Record<string, VenueOrderType>> = { '1': 'limit', '2': 'post_only', '3': 'ioc', '5': 'market' };

function sideOf(v: unknown): Side | undefined {
  return v === 1 || v === '1' ? 'buy' : v === 2 || v === '2' ? 'sell' : undefined;
}

/**
 * A ccxt order from the private orders stream → VenueOrder, with exact decimals from the push
 * (PrivateOrdersV3Api, PROTOCOL.md §3). Unknown status or type (FOK, stop orders) → undefined.
 */
export function toVenueOrder(o: unknown, symbol: SymbolId): VenueOrder | undefined {
  if (!isRecord(o) || !isRecord(o['info'])) return undefined;
  const info = o['info'];
  const id = info['id'];
  if (typeof id !== 'string' || id === '') return undefined;
  const side = sideOf(info['tradeType']);
  const status = WS_ORDER_STATUS[String(info['status'])];
  const type = WS_ORDER_TYPE[String(info['orderType'])];
  const time = intOf(info['createTime']);
  if (side === undefined || status === undefined || type === undefined || time === undefined) return undefined;
  // protobuf drops zero values, so an absent cumulative field means 0.
  const filledQuantity = info['cumulativeQuantity'] === undefined ? Dec.ZERO : decOf(info['cumulativeQuantity']);
  const filledQuote = info['cumulativeAmount'] === undefined ? Dec.ZERO : decOf(info['cumulativeAmount']);
  let quantity = info['quantity'] === undefined ? Dec.ZERO : decOf(info['quantity']);
  const price = info['price'] === undefined ? undefined : decOf(info['price']);
  if (filledQuantity === undefined || filledQuote === undefined || quantity === undefined) return undefined;
  if (filledQuantity.isNegative() || filledQuote.isNegative() || quantity.isNegative()) return undefined;
  if (type === 'market') {
    // A market order by quote amount has no base quantity; once it ended, the filled one is it.
    if (quantity.isZero()) quantity = filledQuantity;
  } else if (price === undefined || !price.isPositive() || !quantity.isPositive()) {
    return undefined;
  }
  if (filledQuantity.gt(quantity)) return undefined;
  const last = o['lastTradeTimestamp'];
  const updateTime = finite(last) && last > 0 ? last : time;
  const clientId = info['clientId'];
  return {
    clientOrderId: typeof clientId === 'string' ? clientId : '',
    exchangeOrderId: id,
    symbol,
    side,
    type,
    ...(type !== 'market' && price !== undefined ? { price } : {}),
    quantity,
    filledQuantity,
    filledQuote,
    status,
    time,
    updateTime,
  };
}

/** A ccxt trade from the private deals stream → VenueFill, exact decimals from the push (PrivateDealsV3Api). */
export function toVenueFill(t: unknown, symbol: SymbolId): VenueFill | undefined {
  if (!isRecord(t) || !isRecord(t['info'])) return undefined;
  const info = t['info'];
  const tradeId = info['tradeId'];
  const orderId = info['orderId'];
  if (typeof tradeId !== 'string' || tradeId === '' || typeof orderId !== 'string' || orderId === '') return undefined;
  const side = sideOf(info['tradeType']);
  const price = decOf(info['price']);
  const quantity = decOf(info['quantity']);
  const fee = info['feeAmount'] === undefined ? Dec.ZERO : decOf(info['feeAmount']);
  const time = intOf(info['time']) ?? (finite(t['timestamp']) ? t['timestamp'] : undefined);
  if (side === undefined || price === undefined || quantity === undefined || fee === undefined || time === undefined) return undefined;
  if (!price.isPositive() || !quantity.isPositive() || fee.isNegative() || time <= 0) return undefined;
  const feeCurrency = info['feeCurrency'];
  let feeAsset: string;
  if (typeof feeCurrency === 'string' && feeCurrency !== '') feeAsset = feeCurrency;
  else {
    try {
      feeAsset = splitSymbol(symbol).quote;
    } catch {
      return undefined;
    }
  }
  const clientId = info['clientOrderId'];
  return {
    tradeId,
    exchangeOrderId: orderId,
    clientOrderId: typeof clientId === 'string' ? clientId : '',
    symbol,
    side,
    price,
    quantity,
    fee,
    feeAsset,
    // ccxt looks for maker status under `m`, so it reads every protobuf fill as taker (PROTOCOL.md §3).
    liquidity: info['isMaker'] === true || info['isMaker'] === 'true' ? 'maker' : 'taker',
    time,
  };
}

/** One account push → Balance (free = balanceAmount, locked = frozenAmount; absent = 0). */
export function toBalance(raw: RawAccountUpdate): Balance | undefined {
  const asset = raw.vcoinName;
  if (typeof asset !== 'string' || asset === '') return undefined;
  const free = raw.balanceAmount === undefined ? Dec.ZERO : decOf(raw.balanceAmount);
  const locked = raw.frozenAmount === undefined ? Dec.ZERO : decOf(raw.frozenAmount);
  if (free === undefined || locked === undefined || free.isNegative() || locked.isNegative()) return undefined;
  return { asset, free, locked };
}

// ---------------------------------------------------------------------------------------------
// The manager
// ---------------------------------------------------------------------------------------------

/** The venue refused a subscription ("Not Subscribed successfully!"); reported through `onError`. */
export class StreamSubscriptionRefusedError extends DomainError {
  override readonly name: string = 'StreamSubscriptionRefusedError';
}
/** The stream manager was used after close, or started twice. */
export class StreamManagerStateError extends DomainError {
  override readonly name: string = 'StreamManagerStateError';
}

type RestPort = Pick<VenueClient, 'fetchKlines' | 'fetchBookTop' | 'fetchOpenOrders' | 'fetchMyTrades' | 'fetchBalances'>;
type Status = Extract<VenueEvent, { type: 'stream_status' }>['status'];

export interface StreamManagerDeps {
  readonly proFactory: () => Promise<ProMexc> | ProMexc;
  readonly rest: RestPort;
  readonly now: () => number;
  readonly options?: Partial<StreamManagerOptions>;
}

interface Run {
  readonly id: number;
  readonly shard: Shard;
  readonly pro: ProMexc;
  readonly openedAt: number;
  active: boolean;
  /** Got an ack or data: the connection works. */
  healthy: boolean;
  /** Streams acknowledged or delivering on this run. */
  readonly ready: Set<string>;
  /** The client's closing, once retired. */
  disposing?: Promise<void>;
}

interface Shard {
  readonly id: number;
  readonly isPrivate: boolean;
  readonly subs: SubState[];
  current: Run | undefined;
  warming: Run | undefined;
  opening: boolean;
  attempts: number;
  reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  lastStaleReconnectAt: number;
  rotateNotBefore: number;
  /** Listen key to reuse on the next private connection. */
  carryKey: string | undefined;
  /** Private shard: down since a failure, REST polling on. */
  down: boolean;
  pollTimer: ReturnType<typeof setInterval> | undefined;
  pollBusy: boolean;
}

interface SubState {
  readonly sub: StreamSubscription;
  readonly key: string;
  readonly channel: string;
  readonly shard: Shard;
  readonly stale: StaleTracker;
  status: Status | undefined;
  failed: boolean;
  readonly kline: KlineTracker | undefined;
  readonly trades: BoundedDedup | undefined;
  lastTradeTime: number | undefined;
  lastBookTime: number | undefined;
  pollTimer: ReturnType<typeof setInterval> | undefined;
  pollBusy: boolean;
}

function errText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Errors after which retrying the same watch cannot help (an unknown symbol, an unsupported call). */
function isPermanent(err: unknown): boolean {
  return err instanceof ccxt.BadSymbol || err instanceof ccxt.NotSupported || err instanceof ccxt.ArgumentsRequired || err instanceof SymbolNotTradableError;
}

function isAuthFailure(err: unknown): boolean {
  return err instanceof ccxt.AuthenticationError || err instanceof VenueAuthenticationError;
}

/** Streams MEXC market and account data (see the file comment). */
export class MexcStreamManager {
  private readonly opts: StreamManagerOptions;
  private readonly proFactory: () => Promise<ProMexc> | ProMexc;
  private readonly rest: RestPort;
  private readonly now: () => number;
  private onEvent: (e: VenueEvent) => void = () => undefined;
  private started = false;
  private closed = false;
  private shards: Shard[] = [];
  private subs: SubState[] = [];
  private readonly runs = new Set<Run>();
  private runSeq = 0;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private startedAt = 0;
  // Counters of retired clients, and of validation.
  private retiredFrames = 0;
  private retiredMalformed = 0;
  private malformed = 0;
  private duplicates = 0;
  private reconnects = 0;
  private readonly lastEventAt: Record<string, number> = {};
  private readonly sleepers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  private readonly fills: BoundedDedup;
  /** Venue time of the latest fill seen; REST polls start there (minus a margin). */
  private fillCursor: number | undefined;

  constructor(deps: StreamManagerDeps) {
    this.opts = resolveStreamOptions(deps.options);
    this.proFactory = deps.proFactory;
    this.rest = deps.rest;
    this.now = deps.now;
    this.fills = new BoundedDedup(this.opts.dedupCapacity);
  }

  /** Opens the connections and starts streaming to `onEvent`. Resolves once every shard has a client (or a reconnect scheduled). */
  async start(subs: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    if (this.started) throw new StreamManagerStateError('MexcStreamManager.start: already started; create one manager per stream session');
    this.started = true;
    this.onEvent = onEvent;
    const now = this.now();
    this.startedAt = now;
    const plan = planShards(subs, this.opts.maxSubscriptionsPerConnection);
    const groups = [...plan.public.map((g) => ({ g, priv: false }))];
    if (plan.private.length > 0) groups.push({ g: plan.private, priv: true });
    this.shards = groups.map(({ g, priv }, i) => {
      const shard: Shard = {
        id: i, isPrivate: priv, subs: [], current: undefined, warming: undefined, opening: false, attempts: 0, reconnectTimer: undefined,
        lastStaleReconnectAt: -Infinity, rotateNotBefore: 0, carryKey: undefined, down: false, pollTimer: undefined, pollBusy: false,
      };
      for (const sub of g) shard.subs.push(this.makeSub(sub, shard, now));
      return shard;
    });
    this.subs = this.shards.flatMap((s) => s.subs);
    await Promise.all(this.shards.map(async (shard) => {
      shard.opening = true;
      const run = await this.openRun(shard, undefined);
      shard.opening = false;
      if (run !== undefined) {
        shard.current = run;
        return;
      }
      for (const s of shard.subs) this.setStatus(s, 'disconnected', 'connection could not be opened');
      if (shard.isPrivate) this.startPrivatePolling(shard);
      this.scheduleReconnect(shard, 'connection could not be opened');
    }));
    this.tickTimer = setInterval(() => this.tick(), this.opts.tickMs);
    // Bounded by a count of short sleeps, not by `now`, which a test may hold still.
    for (let waited = 0; waited < this.opts.readyTimeoutMs && !this.closed && !this.allSubscribed(); waited += 10) await this.sleep(10);
    return { close: () => this.close(), stats: () => this.stats() };
  }

  /** Every stream of every connected shard is acknowledged or delivering (a shard that could not connect does not hold `start`). */
  private allSubscribed(): boolean {
    return this.shards.every((sh) => sh.current === undefined || sh.subs.every((x) => x.failed || sh.current!.ready.has(x.key)));
  }

  /**
   * Counters of the session. `malformed` includes frames the clients could not decode or route and
   * results that failed validation; `reconnects` counts new connections after a failure and
   * replacements (rotation, stale stream); `connections` are the open sockets now.
   */
  stats(): FeedStats {
    let frames = this.retiredFrames;
    let malformed = this.retiredMalformed + this.malformed;
    let connections = 0;
    for (const r of this.runs) {
      frames += r.pro.frameStats.frames;
      malformed += r.pro.frameStats.malformed + r.pro.frameStats.unexpected;
      connections += r.pro.openConnections();
    }
    return { frames, malformed, duplicates: this.duplicates, reconnects: this.reconnects, connections, lastEventAt: { ...this.lastEventAt } };
  }

  /** Stops every loop, timer and connection. Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    for (const shard of this.shards) {
      if (shard.reconnectTimer !== undefined) clearTimeout(shard.reconnectTimer);
      this.stopPrivatePolling(shard);
    }
    for (const s of this.subs) this.stopPolling(s);
    for (const z of this.sleepers) {
      clearTimeout(z.timer);
      z.resolve();
    }
    this.sleepers.clear();
    await Promise.all([...this.runs].map((r) => this.retire(r)));
  }

  // -- setup ---------------------------------------------------------------------------------

  private makeSub(sub: StreamSubscription, shard: Shard, now: number): SubState {
    const ivl = sub.kind === 'kline' ? intervalMs(sub.interval) : 0;
    return {
      sub, key: streamKey(sub), channel: channelFor(sub), shard, stale: new StaleTracker(this.opts.staleAfterMs[sub.kind], now),
      status: undefined, failed: false,
      kline: sub.kind === 'kline'
        ? new KlineTracker(ivl, { closeGraceMs: this.opts.klineCloseGraceMs, maxHeld: this.opts.klineBackfillLimit })
        : undefined,
      trades: sub.kind === 'trades' ? new BoundedDedup(this.opts.dedupCapacity) : undefined,
      lastTradeTime: undefined, lastBookTime: undefined, pollTimer: undefined, pollBusy: false,
    };
  }

  /** Creates a client for the shard and starts one watch loop per stream on it. */
  private async openRun(shard: Shard, adoptKey: string | undefined): Promise<Run | undefined> {
    let pro: ProMexc | undefined;
    try {
      pro = await this.proFactory();
      await pro.loadExchangeSpecificFiles();
      if (pro.spotWsUrl().startsWith('ws://')) await pro.loadHttpProxyAgent();
      if (pro.markets === undefined) await pro.loadMarkets();
    } catch (err) {
      this.opts.onError(err, `shard ${shard.id}: creating the client`);
      if (pro !== undefined) await pro.dispose();
      return undefined;
    }
    if (this.closed) {
      await pro.dispose();
      return undefined;
    }
    const run: Run = { id: ++this.runSeq, shard, pro, openedAt: this.now(), active: true, healthy: false, ready: new Set() };
    this.runs.add(run);
    pro.hooks = {
      onSubscribed: (channel) => {
        const s = shard.subs.find((x) => x.channel === channel);
        if (s !== undefined) this.markLive(run, s, false);
      },
      // The stream stays silent, so the stale check replaces the connection (and polls) in time.
      onSubscriptionRejected: (msg) => this.opts.onError(new StreamSubscriptionRefusedError(`shard ${shard.id}: subscription refused: ${msg}`), 'subscribe'),
    };
    if (shard.isPrivate && adoptKey !== undefined) pro.adoptListenKey(adoptKey);
    if (!shard.isPrivate) {
      // Public pushes come straight from the decoded frame (ProMexc.handleMessage): the watch loops
      // below still subscribe and notice a closed connection, but ccxt's handlers stay idle.
      const byChannel = new Map(shard.subs.map((x) => [x.channel, x] as const));
      pro.publicPushSink = (channel, push) => {
        const s = byChannel.get(channel);
        if (s === undefined || s.failed || !run.active || this.closed) return false;
        try {
          this.onData(run, s, resultFromPush(s.sub.kind, push));
        } catch (err) {
          this.malformed++;
          this.opts.onError(err, `stream ${s.key}: handling a push`);
        }
        return true;
      };
    }
    const now = this.now();
    for (const s of shard.subs) {
      if (s.failed) continue;
      s.stale.reset(now);
      void this.loop(run, s);
    }
    return run;
  }

  // -- loops ---------------------------------------------------------------------------------

  /** One stream on one connection: watch, validate, emit, until the connection is retired. Never rejects. */
  private async loop(run: Run, s: SubState): Promise<void> {
    try {
      while (run.active && !this.closed && !s.failed) {
        const result = await this.watchOnce(run.pro, s);
        if (!run.active || this.closed) return;
        try {
          this.onData(run, s, result);
        } catch (err) {
          // A result the validation did not foresee: dropped, the connection is fine.
          this.malformed++;
          this.opts.onError(err, `stream ${s.key}: handling a result`);
        }
      }
    } catch (err) {
      if (!run.active || this.closed) return;
      if (isPermanent(err)) {
        s.failed = true;
        this.setStatus(s, 'disconnected', `stopped: ${errText(err)}`);
        this.opts.onError(err, `stream ${s.key}`);
        return;
      }
      this.failRun(run, err);
    }
  }

  private async watchOnce(pro: ProMexc, s: SubState): Promise<unknown> {
    const sub = s.sub;
    switch (sub.kind) {
      case 'kline':
        return pro.watchOHLCV(this.ccxtSymbol(pro, sub.symbol), sub.interval, s.kline?.sinceCursor());
      case 'trades':
        // No `since`: ccxt then hands back only the trades new since the last call, while a
        // `since` makes it scan its whole trade cache on every frame (a tenth of the feed's CPU
        // in bench/feed.ts). The bounded de-duplication below still drops any repeat.
        return pro.watchTrades(this.ccxtSymbol(pro, sub.symbol));
      case 'book':
        return pro.watchTicker(this.ccxtSymbol(pro, sub.symbol));
      case 'orders':
        return pro.watchOrders();
      case 'fills':
        // No `since`: a fill reported late (after a later one) must not be filtered out; the
        // de-duplication by trade id makes re-reported ones harmless.
        return pro.watchMyTrades();
      case 'balances':
        return pro.watchBalance();
    }
  }

  /** ccxt's unified symbol (`BTC/USDT`) of a MEXC id; throws ccxt BadSymbol for an unknown one. */
  private ccxtSymbol(pro: ProMexc, id: SymbolId): string {
    const byId = pro.markets_by_id as Record<string, unknown[] | undefined> | undefined;
    const m = byId?.[id]?.[0];
    if (!isRecord(m) || typeof m['symbol'] !== 'string') throw new ccxt.BadSymbol(`mexc does not list ${id}`);
    return m['symbol'];
  }

  private symbolIdOf(pro: ProMexc, ccxtSymbol: unknown): SymbolId | undefined {
    if (typeof ccxtSymbol !== 'string') return undefined;
    const m: unknown = pro.markets?.[ccxtSymbol];
    return isRecord(m) && typeof m['id'] === 'string' ? (m['id'] as SymbolId) : undefined;
  }

  private onData(run: Run, s: SubState, result: unknown): void {
    const now = this.now();
    if (s.stale.touch(now)) this.stopPolling(s);
    this.markLive(run, s, true);
    const sub = s.sub;
    switch (sub.kind) {
      case 'kline': {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        for (const row of rows) {
          const c = toCandle(row, s.kline!.intervalMs);
          if (c === undefined) {
            this.malformed++;
            continue;
          }
          this.applyKline(s, s.kline!.onStream(c), now);
        }
        return;
      }
      case 'trades': {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        for (const row of rows) {
          const t = toTrade(row);
          if (t === undefined) {
            this.malformed++;
            continue;
          }
          if (!s.trades!.accept(t.key, t.trade.time)) {
            this.duplicates++;
            continue;
          }
          s.lastTradeTime = Math.max(s.lastTradeTime ?? 0, t.trade.time);
          this.emitData(s.key, { type: 'trade', symbol: sub.symbol, trade: t.trade, receivedAt: now });
        }
        return;
      }
      case 'book':
        this.applyBook(s, toBookTop(result, now), now);
        return;
      case 'orders': {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        for (const row of rows) {
          const sym = this.symbolIdOf(run.pro, isRecord(row) ? row['symbol'] : undefined);
          const order = sym === undefined ? undefined : toVenueOrder(row, sym);
          if (order === undefined) {
            this.malformed++;
            continue;
          }
          this.emitData(s.key, { type: 'order', order, receivedAt: now });
        }
        return;
      }
      case 'fills': {
        const rows = Array.isArray(result) ? (result as unknown[]) : [];
        for (const row of rows) {
          const sym = this.symbolIdOf(run.pro, isRecord(row) ? row['symbol'] : undefined);
          const fill = sym === undefined ? undefined : toVenueFill(row, sym);
          if (fill === undefined) {
            this.malformed++;
            continue;
          }
          this.emitFill(s.key, fill, now);
        }
        return;
      }
      case 'balances':
        for (const raw of run.pro.drainAccountUpdates()) {
          const balance = toBalance(raw);
          if (balance === undefined) {
            this.malformed++;
            continue;
          }
          this.emitData(s.key, { type: 'balance', balance, receivedAt: now });
        }
        return;
    }
  }

  private applyBook(s: SubState, book: BookTop | undefined, now: number): void {
    if (s.sub.kind !== 'book') return;
    if (book === undefined) {
      this.malformed++;
      return;
    }
    if (s.lastBookTime !== undefined && book.time < s.lastBookTime) {
      this.duplicates++;
      return;
    }
    s.lastBookTime = book.time;
    this.emitData(s.key, { type: 'book', symbol: s.sub.symbol, book, receivedAt: now });
  }

  private emitFill(key: string, fill: VenueFill, now: number): void {
    if (!this.fills.accept(fill.tradeId, fill.time)) {
      this.duplicates++;
      return;
    }
    this.fillCursor = Math.max(this.fillCursor ?? 0, fill.time);
    this.emitData(key, { type: 'fill', fill, receivedAt: now });
  }

  /** Emits what the kline tracker produced and starts a backfill when it reports a gap. */
  private applyKline(s: SubState, outs: readonly KlineOutput[], now: number): void {
    if (s.sub.kind !== 'kline') return;
    const { symbol, interval } = s.sub;
    for (const o of outs) {
      switch (o.kind) {
        case 'duplicate':
          this.duplicates++;
          break;
        case 'candle':
          this.emitData(s.key, { type: 'kline', symbol, interval, candle: o.candle, closed: o.closed, receivedAt: now });
          break;
        case 'gap':
          void this.backfill(s, o.seq, o.from, o.to);
          break;
        case 'backfilled':
          this.emit({
            type: 'stream_status', stream: s.key, status: 'backfilled', receivedAt: now,
            detail: o.missing === 0 ? `${o.filled} klines from REST` : `${o.filled} klines from REST, ${o.missing} missing`,
          });
          break;
      }
    }
  }

  /** Fetches the klines of a gap from REST (bounded attempts) and hands them to the tracker. Never rejects. */
  private async backfill(s: SubState, seq: number, from: number, to: number): Promise<void> {
    if (s.sub.kind !== 'kline' || s.kline === undefined) return;
    const { symbol, interval } = s.sub;
    const ivl = s.kline.intervalMs;
    const count = Math.ceil((to - from) / ivl);
    const limit = Math.min(count, this.opts.klineBackfillLimit);
    // Too large a gap: the most recent klines matter most.
    const since = to - limit * ivl;
    for (let attempt = 1; attempt <= this.opts.klineBackfillAttempts && !this.closed; attempt++) {
      if (s.kline.pendingGap?.seq !== seq) return;
      try {
        const rows = await this.rest.fetchKlines(symbol, interval, since, limit);
        if (this.closed) return;
        const valid: Candle[] = [];
        for (const r of rows) {
          const c = toCandle([r.openTime, r.open, r.high, r.low, r.close, r.volume], ivl);
          if (c === undefined) this.malformed++;
          else valid.push(c);
        }
        this.applyKline(s, s.kline.completeBackfill(seq, valid), this.now());
        return;
      } catch (err) {
        this.opts.onError(err, `backfill ${s.key}`);
        if (attempt < this.opts.klineBackfillAttempts) await this.sleep(backoffDelayMs(attempt, { baseMs: this.opts.reconnectBaseMs, maxMs: this.opts.reconnectMaxMs, jitter: this.jitter() }));
      }
    }
    if (!this.closed) this.applyKline(s, s.kline.failBackfill(seq), this.now());
  }

  // -- connection state ----------------------------------------------------------------------

  /** A stream is subscribed (ack) or delivering on `run`. */
  private markLive(run: Run, s: SubState, viaData: boolean): void {
    if (!run.active) return;
    const shard = run.shard;
    run.ready.add(s.key);
    if (!run.healthy) {
      run.healthy = true;
      if (run === shard.current) shard.attempts = 0;
    }
    if (run === shard.warming && shard.subs.every((x) => x.failed || run.ready.has(x.key))) this.promote(shard);
    if (run !== shard.current) return;
    if (shard.isPrivate && shard.down) {
      shard.down = false;
      this.stopPrivatePolling(shard);
      // Catch up on what happened between the last poll and the new subscription.
      void this.pollPrivate(shard);
    }
    // A stale stream is fresh again only when it delivers.
    if (s.status !== 'connected' && (viaData || !s.stale.stale)) this.setStatus(s, 'connected');
  }

  /** The connection of `run` failed: retire it and reconnect the shard (or promote its replacement). */
  private failRun(run: Run, err: unknown): void {
    const shard = run.shard;
    if (!run.active) return;
    if (run === shard.warming) {
      shard.warming = undefined;
      shard.rotateNotBefore = this.now() + this.opts.reconnectMaxMs;
      void this.retire(run);
      this.opts.onError(err, `shard ${shard.id}: replacement connection`);
      return;
    }
    if (run !== shard.current) {
      void this.retire(run);
      return;
    }
    if (shard.isPrivate) {
      const key = run.pro.listenKey;
      // A refused key must not be reused; neither one that never got a connection subscribed.
      shard.carryKey = !isAuthFailure(err) && run.healthy && key !== undefined ? key : undefined;
    }
    void this.retire(run);
    shard.current = undefined;
    for (const s of shard.subs) s.kline?.invalidateCurrent();
    if (shard.warming !== undefined) {
      this.promote(shard);
      return;
    }
    for (const s of shard.subs) if (!s.failed) this.setStatus(s, 'disconnected', errText(err));
    if (shard.isPrivate) this.startPrivatePolling(shard);
    this.scheduleReconnect(shard, errText(err));
  }

  private scheduleReconnect(shard: Shard, reason: string): void {
    if (this.closed || shard.reconnectTimer !== undefined) return;
    shard.attempts++;
    if (shard.attempts > this.opts.maxReconnectAttempts) {
      for (const s of shard.subs) this.setStatus(s, 'disconnected', `gave up after ${this.opts.maxReconnectAttempts} reconnect attempts: ${reason}`);
      return;
    }
    const delay = backoffDelayMs(shard.attempts, { baseMs: this.opts.reconnectBaseMs, maxMs: this.opts.reconnectMaxMs, jitter: this.jitter() });
    shard.reconnectTimer = setTimeout(() => {
      shard.reconnectTimer = undefined;
      void this.reconnect(shard);
    }, delay);
  }

  private async reconnect(shard: Shard): Promise<void> {
    if (this.closed || shard.current !== undefined || shard.opening) return;
    this.reconnects++;
    for (const s of shard.subs) if (!s.failed) this.setStatus(s, 'reconnecting');
    shard.opening = true;
    const run = await this.openRun(shard, shard.carryKey);
    shard.opening = false;
    if (this.closed) return;
    if (run === undefined) {
      this.scheduleReconnect(shard, 'connection could not be opened');
      return;
    }
    shard.carryKey = undefined;
    shard.current = run;
  }

  /** Make-before-break: open and subscribe a replacement connection; the old one closes when it is ready. */
  private async rotate(shard: Shard): Promise<void> {
    if (this.closed || shard.warming !== undefined || shard.opening || shard.current === undefined) return;
    shard.opening = true;
    const old = shard.current;
    const run = await this.openRun(shard, shard.isPrivate ? old.pro.listenKey : undefined);
    shard.opening = false;
    if (run === undefined) {
      shard.rotateNotBefore = this.now() + this.opts.reconnectMaxMs;
      return;
    }
    if (this.closed) return;
    if (shard.current !== old) {
      // The old connection died meanwhile and another one took over; this one is not needed.
      if (shard.current === undefined) {
        if (shard.reconnectTimer !== undefined) clearTimeout(shard.reconnectTimer);
        shard.reconnectTimer = undefined;
        shard.carryKey = undefined;
        shard.current = run;
      } else {
        void this.retire(run);
      }
      return;
    }
    this.reconnects++;
    shard.warming = run;
  }

  /** The replacement becomes the connection; the old one is closed. */
  private promote(shard: Shard): void {
    const next = shard.warming;
    if (next === undefined) return;
    const old = shard.current;
    shard.warming = undefined;
    shard.current = next;
    if (next.healthy) shard.attempts = 0;
    if (old !== undefined) void this.retire(old);
    for (const s of shard.subs) {
      if (!s.failed && next.ready.has(s.key) && s.status !== 'connected' && !s.stale.stale) this.setStatus(s, 'connected');
    }
    if (shard.isPrivate && shard.down && next.healthy) {
      shard.down = false;
      this.stopPrivatePolling(shard);
      void this.pollPrivate(shard);
    }
  }

  /** Ends a run: its loops stop, its client is closed and its timers cleared. Never rejects. */
  private async retire(run: Run): Promise<void> {
    if (!run.active) return run.disposing;
    run.active = false;
    run.disposing = (async () => {
      await run.pro.dispose();
      // Moved to the totals in one step, so stats() never counts the run twice or not at all.
      this.runs.delete(run);
      this.retiredFrames += run.pro.frameStats.frames;
      this.retiredMalformed += run.pro.frameStats.malformed + run.pro.frameStats.unexpected;
    })();
    return run.disposing;
  }

  // -- the policy timer ----------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    try {
      for (const s of this.subs) {
        if (s.failed) continue;
        if (s.kline !== undefined) this.applyKline(s, s.kline.onTick(now, s.stale.stale), now);
        if (s.stale.check(now)) this.onStale(s, now);
      }
      for (const shard of this.shards) {
        const cur = shard.current;
        if (cur !== undefined && shard.warming === undefined && now >= shard.rotateNotBefore && now - cur.openedAt >= this.opts.rotateAfterMs) {
          void this.rotate(shard);
        }
        const w = shard.warming;
        if (w !== undefined && now - w.openedAt >= this.opts.rotationOverlapMaxMs) this.promote(shard);
      }
    } catch (err) {
      this.opts.onError(err, 'policy timer');
    }
  }

  private onStale(s: SubState, now: number): void {
    const limit = this.opts.staleAfterMs[s.sub.kind];
    this.setStatus(s, 'stale', `no data for more than ${limit ?? 0} ms`);
    s.kline?.invalidateCurrent();
    this.startPolling(s);
    const shard = s.shard;
    // While the shard is down or already being replaced, its reconnect is under way.
    if (shard.current === undefined || shard.warming !== undefined || shard.opening) return;
    if (now - shard.lastStaleReconnectAt >= this.opts.staleReconnectMinIntervalMs) {
      shard.lastStaleReconnectAt = now;
      this.setStatus(s, 'reconnecting', 'stale stream: replacing the connection');
      void this.rotate(shard);
    }
  }

  // -- REST polling --------------------------------------------------------------------------

  private startPolling(s: SubState): void {
    if (s.pollTimer !== undefined || (s.sub.kind !== 'kline' && s.sub.kind !== 'book')) return;
    s.pollTimer = setInterval(() => void this.pollOnce(s), this.opts.pollIntervalMs);
    void this.pollOnce(s);
  }

  private stopPolling(s: SubState): void {
    if (s.pollTimer !== undefined) clearInterval(s.pollTimer);
    s.pollTimer = undefined;
  }

  /** One REST poll for a stale public stream. Never rejects; at most one in flight per stream. */
  private async pollOnce(s: SubState): Promise<void> {
    if (s.pollBusy || this.closed || !s.stale.stale) return;
    s.pollBusy = true;
    try {
      const sub = s.sub;
      if (sub.kind === 'kline' && s.kline !== undefined) {
        const ivl = s.kline.intervalMs;
        const now = this.now();
        const since = s.kline.sinceCursor() ?? Math.floor(now / ivl) * ivl - ivl;
        const limit = Math.min(this.opts.klineBackfillLimit, Math.max(2, Math.ceil((now - since) / ivl) + 1));
        const rows = await this.rest.fetchKlines(sub.symbol, sub.interval, since, limit);
        if (this.closed || !s.stale.stale) return;
        const valid: Candle[] = [];
        for (const r of rows) {
          const c = toCandle([r.openTime, r.open, r.high, r.low, r.close, r.volume], ivl);
          if (c === undefined) this.malformed++;
          else valid.push(c);
        }
        const t = this.now();
        this.applyKline(s, s.kline.onRest(valid, t), t);
      } else if (sub.kind === 'book') {
        const book = await this.rest.fetchBookTop(sub.symbol);
        if (this.closed || !s.stale.stale) return;
        this.applyBook(s, toBookTop({ bid: book.bid, ask: book.ask, bidVolume: book.bidSize, askVolume: book.askSize, timestamp: book.time }, this.now()), this.now());
      }
    } catch (err) {
      this.opts.onError(err, `poll ${s.key}`);
    } finally {
      s.pollBusy = false;
    }
  }

  private startPrivatePolling(shard: Shard): void {
    shard.down = true;
    if (shard.pollTimer !== undefined || this.closed) return;
    shard.pollTimer = setInterval(() => void this.pollPrivate(shard), this.opts.pollIntervalMs);
    void this.pollPrivate(shard);
  }

  private stopPrivatePolling(shard: Shard): void {
    if (shard.pollTimer !== undefined) clearInterval(shard.pollTimer);
    shard.pollTimer = undefined;
  }

  private pollSymbols(): SymbolId[] {
    if (this.opts.privatePollSymbols !== undefined) return [...this.opts.privatePollSymbols];
    const set = new Set<SymbolId>();
    for (const s of this.subs) if (!isPrivate(s.sub)) set.add(s.sub.symbol);
    return [...set];
  }

  /** Open orders, fills and balances over REST (while the private connection is down, and once after). Never rejects. */
  private async pollPrivate(shard: Shard): Promise<void> {
    if (shard.pollBusy || this.closed) return;
    shard.pollBusy = true;
    try {
      const kinds = new Set(shard.subs.map((s) => s.sub.kind));
      const symbols = this.pollSymbols();
      if (kinds.has('fills')) {
        for (const sym of symbols) {
          try {
            // From a minute before the last fill seen (or the start): late reports are caught, repeats de-duplicated.
            const since = (this.fillCursor ?? this.startedAt) - this.opts.fillPollLookbackMs;
            const fills = await this.rest.fetchMyTrades(sym, since);
            if (this.closed) return;
            for (const f of [...fills].sort((a, b) => a.time - b.time)) this.emitFill('fills', f, this.now());
          } catch (err) {
            this.opts.onError(err, `poll fills ${sym}`);
          }
        }
      }
      if (kinds.has('orders')) {
        for (const sym of symbols) {
          try {
            const orders = await this.rest.fetchOpenOrders(sym);
            if (this.closed) return;
            for (const order of orders) this.emitData('orders', { type: 'order', order, receivedAt: this.now() });
          } catch (err) {
            this.opts.onError(err, `poll orders ${sym}`);
          }
        }
      }
      if (kinds.has('balances')) {
        try {
          const balances = await this.rest.fetchBalances();
          if (this.closed) return;
          for (const balance of balances) this.emitData('balances', { type: 'balance', balance, receivedAt: this.now() });
        } catch (err) {
          this.opts.onError(err, 'poll balances');
        }
      }
    } finally {
      shard.pollBusy = false;
    }
  }

  // -- emitting ------------------------------------------------------------------------------

  private setStatus(s: SubState, status: Status, detail?: string): void {
    if (s.status === status && status !== 'backfilled') return;
    s.status = status;
    this.emit({ type: 'stream_status', stream: s.key, status, ...(detail !== undefined ? { detail } : {}), receivedAt: this.now() });
  }

  private emitData(key: string, e: VenueEvent): void {
    this.lastEventAt[key] = e.receivedAt;
    this.emit(e);
  }

  private emit(e: VenueEvent): void {
    if (this.closed) return;
    try {
      this.onEvent(e);
    } catch (err) {
      this.opts.onError(err, 'onEvent');
    }
  }

  private jitter(): number {
    const r = this.opts.random();
    return r >= 0 && r < 1 ? r : 0;
  }

  /** A wait that close() ends early, so no timer outlives the session. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = { timer: setTimeout(() => {
        this.sleepers.delete(entry);
        resolve();
      }, ms), resolve };
      this.sleepers.add(entry);
    });
  }
}
