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
 * The pure policies (shard packing, silence detection, kline closing and gaps, de-duplication)
 * live in streamPolicies.ts, the validation of every ccxt result into a core type in
 * streamParsers.ts (anything invalid is counted as malformed and dropped), the options in
 * streamOptions.ts; this file is the manager that runs the connections.
 */
import ccxt from 'ccxt';
import { DomainError } from '../../core/errors.js';
import type { BookTop, Candle, SymbolId } from '../../core/types.js';
import { backoffDelayMs } from '../../execution/backoff.js';
import { AuthenticationError as VenueAuthenticationError, SymbolNotTradableError } from '../../execution/exchangeErrors.js';
import type { FeedStats, StreamHandle, StreamSubscription, VenueClient, VenueEvent, VenueFill } from '../../venue/types.js';
import type { ProMexc } from './proClient.js';
import { resolveStreamOptions, type StreamManagerOptions } from './streamOptions.js';
import { BoundedDedup, KlineTracker, StaleTracker, channelFor, intervalMs, isPrivate, planShards, streamKey, type KlineOutput } from './streamPolicies.js';
import { isRecord, resultFromPush, toBalance, toBookTop, toCandle, toTrade, toVenueFill, toVenueOrder } from './streamParsers.js';

/** The venue refused a subscription ("Not Subscribed successfully!"); reported through `onError`. */
export class StreamSubscriptionRefusedError extends DomainError {
  override readonly name = 'StreamSubscriptionRefusedError';
}
/** The stream manager was used after close, or started twice. */
export class StreamManagerStateError extends DomainError {
  override readonly name = 'StreamManagerStateError';
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
