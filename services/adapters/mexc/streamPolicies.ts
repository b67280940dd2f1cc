/**
 * The stream manager's pure policies (clock passed in, unit-tested without a connection): stream
 * names and channels, shard packing (`planShards`), bounded de-duplication (`BoundedDedup`),
 * silence detection (`StaleTracker`), and kline closing, gap and order logic (`KlineTracker`).
 */
import { ConfigError } from '../../core/errors.js';
import type { Candle } from '../../core/types.js';
import type { KlineInterval, StreamSubscription } from '../../venue/types.js';

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
