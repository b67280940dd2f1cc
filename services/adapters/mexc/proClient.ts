/**
 * ccxt's MEXC WebSocket client (`pro.mexc`) hardened for a long-running feed:
 *
 * - every frame is counted; a frame whose decoding or handling throws (bad protobuf, a push whose
 *   fields are missing) is counted as malformed and dropped. ccxt's base `Client.onMessage` turns a
 *   throwing handler into `client.reject(error)`, which rejects EVERY pending watch on the
 *   connection; catching here keeps one bad frame from tearing down thirty streams;
 * - pushes ccxt would ignore silently (a channel it has no handler for, a push without the body its
 *   channel names, a symbol that is not a loaded market) and JSON text it has no use for are
 *   counted as unexpected and dropped;
 * - subscription acks and rejections are reported to a hook, so the stream manager knows when a
 *   subscription is live even on a quiet private stream;
 * - the listen key's keep-alive timer (ccxt's `delay`) is tracked so `dispose()` can stop it: a
 *   replaced client must not keep a key alive (or the process running) after it is gone, and a
 *   replacement client can adopt the key of the one it replaces (`adoptListenKey`).
 *
 * The MEXC protocol itself stays ccxt's: decoding (`decodeProtoMsg`) and dispatch
 * (`handleProtobufMessage`) are ccxt's own methods, called unchanged.
 */
import ccxt from 'ccxt';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MexcProClient, mexcCcxtConfig, type MexcClientOptions } from './restClient.js';

/** ccxt's WebSocket client object, as handleMessage receives it. */
type WsClient = Parameters<MexcProClient['handleMessage']>[0];
/** A loaded market as ccxt stores it. */
type CcxtMarkets = NonNullable<MexcProClient['markets']>;

/** Frame counters of one client (one connection per URL; the manager uses one URL per client). */
export interface ProFrameStats {
  /** Every frame received (text and binary). */
  frames: number;
  /** Frames whose decoding or handling threw: dropped. */
  malformed: number;
  /** Frames ccxt would ignore (unknown channel, missing body or symbol, unknown JSON): dropped. */
  unexpected: number;
  /** Acks refusing a subscription ("Not Subscribed successfully!"). */
  rejectedSubscriptions: number;
  /** Account pushes dropped because the account-update queue was full. */
  accountUpdatesDropped: number;
}

/** Callbacks the stream manager sets on each client. */
export interface ProClientHooks {
  /** A frame arrived (any kind). */
  onFrame?(): void;
  /** The server acknowledged a subscription to `channel`. */
  onSubscribed?(channel: string): void;
  /** The server refused a subscription; `msg` is its text. */
  onSubscriptionRejected?(msg: string): void;
}

/** One account push (MEXC PrivateAccountV3Api) as ccxt decodes it: decimal strings, defaults dropped. */
export interface RawAccountUpdate {
  readonly vcoinName?: string;
  readonly balanceAmount?: string;
  readonly frozenAmount?: string;
  readonly time?: string;
  readonly type?: string;
}

/** Bound of the queue of account pushes waiting for the manager (one per pushed balance change). */
export const MAX_ACCOUNT_UPDATES = 1000;

/**
 * The channel id (second `@` part of a push's channel) ccxt handles on spot, with the body field the
 * push must carry and whether the push must name a symbol. PROTOCOL.md §2, §3.
 */
const SPOT_CHANNELS: Readonly<Record<string, ChannelSpec>> = {
  'public.kline.v3.api.pb': { body: 'publicSpotKline', needsSymbol: true, fast: true },
  'public.aggre.deals.v3.api.pb': { body: 'publicAggreDeals', needsSymbol: true, fast: true },
  'public.aggre.bookTicker.v3.api.pb': { body: 'publicAggreBookTicker', needsSymbol: true, fast: true },
  'public.aggre.depth.v3.api.pb': { body: 'publicAggreDepths', needsSymbol: true },
  'private.account.v3.api.pb': { body: 'privateAccount', needsSymbol: false },
  'private.deals.v3.api.pb': { body: 'privateDeals', needsSymbol: true },
  'private.orders.v3.api.pb': { body: 'privateOrders', needsSymbol: true },
};

/** What a push on a channel must carry; `fast`: it may go to the public push sink (see ProMexc.handleMessage). */
interface ChannelSpec {
  readonly body: string;
  readonly needsSymbol: boolean;
  readonly fast?: boolean;
}

/**
 * Receives a decoded public push (kline, aggregated deals, book ticker) in place of ccxt's handler.
 * Returns true when it consumed the push; false hands it to ccxt as usual.
 */
export type PublicPushSink = (channel: string, push: Record<string, unknown>) => boolean;

/** The decoder part of ccxt's bundled MEXC protobuf module that the fast path needs. */
interface PushDecoder {
  decode(bytes: Uint8Array): Record<string, unknown> & { toJSON(): Record<string, unknown> };
}

/**
 * ccxt's own compiled MEXC protobuf module (the one its `decodeProtoMsg` uses), loaded by path
 * because ccxt does not export it. With it, a public push is decoded once without ccxt's `toJSON`
 * copy (a quarter of a frame's remaining cost); when a ccxt release moves the file, the fast path
 * simply falls back to `decodeProtoMsg`.
 */
const PUSH_DECODER: PushDecoder | undefined = (() => {
  try {
    const req = createRequire(import.meta.url);
    const mod = req(join(dirname(req.resolve('ccxt')), '..', 'js', 'src', 'protobuf', 'mexc', 'compiled.cjs')) as { PushDataV3ApiWrapper?: PushDecoder };
    return typeof mod.PushDataV3ApiWrapper?.decode === 'function' ? mod.PushDataV3ApiWrapper : undefined;
  } catch {
    return undefined;
  }
})();

/** Channels remembered by isRoutablePush at most. */
const CHANNEL_CACHE_LIMIT = 1000;

/** JSON text channels ccxt's handleMessage dispatches (the legacy JSON and swap feeds). */
const JSON_CHANNELS = new Set([
  'public.deals.v3.api', 'push.deal', 'public.kline.v3.api', 'push.kline', 'public.bookTicker.v3.api',
  'public.miniTicker.v3.api', 'public.miniTickers.v3.api', 'push.ticker', 'push.tickers',
  'public.increase.depth.v3.api', 'push.depth', 'private.orders.v3.api', 'push.personal.order',
  'private.account.v3.api', 'push.personal.asset', 'private.deals.v3.api', 'push.personal.order.deal',
  'pong', 'push.funding.rate',
]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

function toRawAccountUpdate(d: Record<string, unknown>): RawAccountUpdate {
  return { vcoinName: str(d['vcoinName']), balanceAmount: str(d['balanceAmount']), frozenAmount: str(d['frozenAmount']), time: str(d['time']), type: str(d['type']) };
}

/** MEXC spot WebSocket client with frame accounting (see the file comment). */
export class ProMexc extends MexcProClient {
  readonly frameStats: ProFrameStats = { frames: 0, malformed: 0, unexpected: 0, rejectedSubscriptions: 0, accountUpdatesDropped: 0 };
  hooks: ProClientHooks = {};
  private disposed = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly accountUpdates: RawAccountUpdate[] = [];
  /** Channel → its handler spec (null: not one ccxt handles), see isRoutablePush. */
  private readonly channelSpecs = new Map<string, ChannelSpec | null>();
  /** Set by the stream manager on public connections; see handleMessage. */
  publicPushSink: PublicPushSink | undefined;

  /** Counts and routes one frame; never throws (see the file comment). */
  override handleMessage(client: WsClient, message: unknown): void {
    this.frameStats.frames++;
    try {
      this.hooks.onFrame?.();
    } catch {
      // A hook's failure is the manager's bug; it must not become a frame error.
    }
    try {
      if (typeof message === 'string') {
        // ccxt handles this one text frame itself: it rejects the private watches with
        // AuthenticationError, which makes the manager create a new key.
        if (message === 'Invalid listen key') {
          super.handleMessage(client, message);
          return;
        }
        // Any other plain text is nothing ccxt understands (it would throw on `'msg' in string`).
        this.frameStats.unexpected++;
        return;
      }
      if (this.isBinaryMessage(message)) {
        // Public market data goes straight to the stream manager when it asked for it: ccxt's
        // handlers (ticker math, caches, futures) were 60% of a frame's cost in bench/feed.ts and
        // the manager only needs the pushed fields. Decoding stays ccxt's (its compiled module).
        const sink = this.publicPushSink;
        const raw = sink !== undefined && PUSH_DECODER !== undefined && message instanceof Uint8Array ? PUSH_DECODER.decode(message) : undefined;
        if (raw !== undefined && sink !== undefined && this.isRoutablePush(raw) && this.channelSpecs.get(raw['channel'] as string)?.fast === true) {
          if (sink(raw['channel'] as string, raw)) return;
        }
        const decoded: unknown = raw !== undefined ? raw.toJSON() : this.decodeProtoMsg(message);
        if (!this.isRoutablePush(decoded)) {
          this.frameStats.unexpected++;
          return;
        }
        if (raw === undefined && sink !== undefined && this.channelSpecs.get(decoded['channel'] as string)?.fast === true && sink(decoded['channel'] as string, decoded)) return;
        this.handleProtobufMessage(client, decoded);
        return;
      }
      if (!isRecord(message)) {
        this.frameStats.unexpected++;
        return;
      }
      if ('msg' in message) {
        this.noteAck(message);
        super.handleMessage(client, message);
        return;
      }
      const c = message['c'];
      const channel = typeof c === 'string' ? (c.split('@')[1] ?? '') : message['channel'];
      if (typeof channel !== 'string' || !JSON_CHANNELS.has(channel)) {
        this.frameStats.unexpected++;
        return;
      }
      super.handleMessage(client, message);
    } catch {
      // Never let it reach Client.onMessage, whose catch would reject every pending watch.
      this.frameStats.malformed++;
    }
  }

  /** True when ccxt has a handler for the push and the push carries what that handler reads. */
  private isRoutablePush(decoded: unknown): decoded is Record<string, unknown> {
    if (!isRecord(decoded)) return false;
    const channel = decoded['channel'];
    if (typeof channel !== 'string') return false;
    let spec = this.channelSpecs.get(channel);
    if (spec === undefined) {
      // Channels are a handful of strings per subscription; splitting each frame's channel showed
      // up in the feed profile, so the lookup is remembered (bounded: a flood of made-up channel
      // names cannot grow it past CHANNEL_CACHE_LIMIT).
      spec = SPOT_CHANNELS[channel.split('@')[1] ?? ''] ?? null;
      if (this.channelSpecs.size < CHANNEL_CACHE_LIMIT) this.channelSpecs.set(channel, spec);
    }
    if (spec === null) return false;
    if (!isRecord(decoded[spec.body])) return false;
    if (spec.needsSymbol) {
      const symbol = decoded['symbol'];
      if (typeof symbol !== 'string' || this.markets_by_id?.[symbol] === undefined) return false;
    }
    return true;
  }

  /** Reports subscription acks and refusals (`{"id":0,"code":0,"msg":"<channel>"}`). */
  private noteAck(message: Record<string, unknown>): void {
    const msg = message['msg'];
    if (typeof msg !== 'string' || msg === 'PONG') return;
    if (msg.startsWith('Not Subscribed')) {
      this.frameStats.rejectedSubscriptions++;
      this.hooks.onSubscriptionRejected?.(msg);
      return;
    }
    if (msg.includes('@')) {
      for (const ch of msg.split(',')) this.hooks.onSubscribed?.(ch.trim());
    }
  }

  /**
   * ccxt's handleTicker also parses every best-bid/ask push a second time for watchBidsAsks, which
   * the adapter never calls (on MEXC's protobuf feed it never resolves, PROTOCOL.md §2). Skipping
   * that unused parse cuts the cost of a book frame by about 40% (bench/feed.ts profile).
   */
  override handleBidAsk(): void {
    // nothing watches bids/asks on this client
  }

  /** Keeps each account push (ccxt keeps only the merged balance) so none is lost in a burst. */
  override handleBalance(client: WsClient, message: Record<string, unknown>): void {
    const data = message['privateAccount'];
    if (isRecord(data)) {
      if (this.accountUpdates.length >= MAX_ACCOUNT_UPDATES) {
        this.accountUpdates.shift();
        this.frameStats.accountUpdatesDropped++;
      }
      this.accountUpdates.push(toRawAccountUpdate(data));
    }
    super.handleBalance(client, message);
  }

  /** The account pushes received since the last call, oldest first. */
  drainAccountUpdates(): RawAccountUpdate[] {
    return this.accountUpdates.splice(0, this.accountUpdates.length);
  }

  /**
   * A watch that was still on its way (e.g. awaiting the listen key) when the client was disposed
   * must not open a new connection on it: nobody would ever close that one.
   */
  override watch(url: string | undefined, messageHash: string | undefined, message?: unknown, subscribeHash?: unknown, subscription?: unknown): unknown {
    if (this.disposed) return Promise.reject(new ccxt.ExchangeClosedByUser(`${this.id} client disposed`));
    return super.watch(url, messageHash, message, subscribeHash, subscription);
  }

  /** ccxt's timer for deferred work (the listen-key keep-alive); tracked so dispose() can clear it. */
  override delay(timeout: number, method: unknown, ...args: unknown[]): void {
    if (this.disposed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.disposed) void this.spawn(method, ...args);
    }, timeout);
    this.timers.add(t);
  }

  /**
   * ccxt creates its listen-key future before the POST and rejects it when the POST fails; nobody
   * awaits it then, which would be an unhandled rejection. Pre-creating it with a handler fixes that.
   */
  override async authenticate(subscriptionHash: string | undefined, params: Record<string, unknown> = {}): Promise<string | undefined> {
    if (this.options['listenKey'] === undefined && this.options['listenKeyFetching'] !== true) {
      const future = this.client(this.spotWsUrl()).future('authenticate:listenKey') as Promise<unknown>;
      future.catch(() => undefined);
    }
    return super.authenticate(subscriptionHash, params);
  }

  /** The listen key in use, if one was created or adopted. */
  get listenKey(): string | undefined {
    const k: unknown = this.options['listenKey'];
    return typeof k === 'string' && k !== '' ? k : undefined;
  }

  /** Forgets the listen key, so the next private watch creates a new one. */
  clearListenKey(): void {
    this.options['listenKey'] = undefined;
  }

  /**
   * Uses a listen key created by a client this one replaces, instead of creating another one (MEXC
   * allows 60 per account). Extends it at once (which also proves it is still valid: a failed
   * extension makes ccxt reject the private watches and forget the key) and then every
   * `listenKeyRefreshRate` like ccxt does for its own keys.
   */
  adoptListenKey(listenKey: string): void {
    this.options['listenKey'] = listenKey;
    this.delay(0, (key: string) => this.keepAliveListenKey(key, {}), listenKey);
  }

  /** The spot WebSocket URL in use. */
  spotWsUrl(): string {
    const urls = this.urls as unknown as { api: { ws: { spot: string } } };
    return urls.api.ws.spot;
  }

  /** True once dispose() ran. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Open WebSocket connections of this client. */
  openConnections(): number {
    let n = 0;
    for (const c of Object.values(this.clients ?? {})) {
      try {
        if (c.connection !== undefined && c.isOpen()) n++;
      } catch {
        // A client that never dialed has no connection to ask.
      }
    }
    return n;
  }

  /** Stops the keep-alive timers and closes the connections. Never rejects. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    try {
      await this.close();
    } catch {
      // Closing a half-open socket can fail; the client is gone either way.
    }
    // ccxt keeps an undici keep-alive pool per instance (listen-key and market REST calls); a
    // replaced client must not hold sockets open for another minute.
    const dispatcher: unknown = this.fetchDispatcher;
    if (typeof dispatcher === 'object' && dispatcher !== null && typeof (dispatcher as { destroy?: unknown }).destroy === 'function') {
      try {
        await (dispatcher as { destroy: () => Promise<void> }).destroy();
      } catch {
        // Already closed.
      }
    }
  }
}

/** Options of createMexcProClient. */
export interface MexcProClientOptions extends MexcClientOptions {
  /** Markets already loaded by another client (e.g. the REST client's `markets`): no loadMarkets call. */
  readonly markets?: CcxtMarkets;
  /** Listen-key keep-alive period in ms (ccxt `listenKeyRefreshRate`). Default ccxt's 20 minutes. */
  readonly listenKeyRefreshRateMs?: number;
}

/**
 * Creates a client pointed at MEXC or at `restUrl`/`wsUrl` (PROTOCOL.md §5), with ccxt's HTTP agent
 * loaded so plain `ws://` URLs work, and with `markets` installed when given.
 */
export async function createMexcProClient(options: MexcProClientOptions = {}): Promise<ProMexc> {
  const config = mexcCcxtConfig(options);
  if (options.listenKeyRefreshRateMs !== undefined) {
    config['options'] = { ...(config['options'] as Record<string, unknown>), listenKeyRefreshRate: options.listenKeyRefreshRateMs };
  }
  const pro = new ProMexc(config);
  // ccxt loads its protobuf decoder asynchronously from the constructor; a push arriving before it
  // is there would fail to decode. Awaiting the (cached) import makes the client ready.
  await pro.loadExchangeSpecificFiles();
  if (pro.spotWsUrl().startsWith('ws://')) await pro.loadHttpProxyAgent();
  if (options.markets !== undefined) pro.setMarkets(options.markets);
  return pro;
}

/**
 * A factory for the stream manager: the first client loads the markets, the following ones reuse
 * them (a feed of N shards would otherwise load them N times).
 */
export function mexcProFactory(options: MexcProClientOptions = {}): () => Promise<ProMexc> {
  let markets: CcxtMarkets | undefined = options.markets;
  // The load in flight: shards start in parallel, and only the first may load the markets.
  let loading: Promise<CcxtMarkets> | undefined;
  return async () => {
    if (markets === undefined && loading === undefined) {
      const first = createMexcProClient(options).then(async (pro) => {
        try {
          await pro.loadMarkets();
        } catch (err) {
          await pro.dispose();
          throw err;
        }
        return pro;
      });
      const load = first.then((pro) => pro.markets as CcxtMarkets);
      loading = load;
      load.catch(() => undefined); // awaited below; this only keeps a failure from being "unhandled"
      try {
        const pro = await first;
        markets = pro.markets;
        return pro;
      } finally {
        // A failed load is retried by the next call.
        if (markets === undefined) loading = undefined;
      }
    }
    if (markets === undefined && loading !== undefined) markets = await loading;
    return createMexcProClient({ ...options, markets });
  };
}
