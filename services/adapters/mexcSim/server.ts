/**
 * A local server that speaks MEXC's spot V3 protocol over loopback, so that unmodified ccxt (and
 * the project's MEXC adapter) can trade against the simulator's matching engine.
 *
 * - REST (node:http, JSON): the endpoints ccxt's loadMarkets, market-data, order, balance and
 *   trade calls use, with MEXC's HMAC-SHA256 signature, timestamp/recvWindow rules, response
 *   shapes and `{"code","msg"}` error bodies (see /work/shared/mexc/PROTOCOL.md §1).
 * - WebSocket (`/ws`, `?listenKey=` for private streams): SUBSCRIPTION / UNSUBSCRIPTION / PING with
 *   text acks, and binary protobuf pushes for klines, trades, best bid/ask, depth and the private
 *   order, fill and account channels (§2, §3).
 * - Faults (services/sim/faults.ts) applied per request and per pushed frame, switchable on the
 *   fly; an admin API under `/sim/` (faults, order log, disconnect, stats).
 *
 * Market data comes from a CandleReplay (driven in real or accelerated time, or by hand with
 * `advanceReplayTo`) or from `pushMarketData`; it feeds the engine and the subscribers.
 * Auth uses the wall clock (`now`); order times use the market-data clock (the replay's time when a
 * replay drives the server, else `now`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { Dec } from '../../core/money.js';
import type { Candle, Side, SymbolId } from '../../core/types.js';
import { DEFAULT_ENGINE_OPTIONS, SimMatchingEngine } from '../../sim/matchingEngine.js';
import { NO_FAULTS, type FaultProfile } from '../../sim/faults.js';
import { SimRejectError, type EngineEvent, type MarketDataEvent, type MatchingEngine, type OrderRef, type SimMarketSpec } from '../../sim/types.js';
import type { VenueFill, VenueOrder, VenueOrderRequest, VenueOrderType } from '../../venue/types.js';
import { FaultController, type FaultCounts, type OneShotFault } from './faultController.js';
import { encodePush, type PushFrame } from './proto.js';

/** The replay the server can drive (CandleReplay from services/sim/replay.ts fits). */
export interface ReplaySource {
  /** Time of the next event, undefined when none is left. */
  peekTime(): number | undefined;
  /** Every event with a time up to `time` (inclusive), in order. */
  until(time: number): readonly MarketDataEvent[];
  readonly done: boolean;
}

/** One simulated account and its API credentials. */
export interface SimAccountSpec {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly deposits: Readonly<Record<string, Dec>>;
}

export interface SimServerOptions {
  /** Interface to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 (default) lets the OS choose. */
  readonly port?: number;
  /** The matching engine; default a SimMatchingEngine with DEFAULT_ENGINE_OPTIONS. */
  readonly engine?: MatchingEngine;
  readonly markets: readonly SimMarketSpec[];
  readonly accounts: readonly SimAccountSpec[];
  readonly replay?: ReplaySource;
  /** Replay speed: 1 = real time, 60 = a minute per second; 0 or undefined = manual (advanceReplayTo). */
  readonly speed?: number;
  /**
   * With a replay: everything before this time is replayed at once when the server starts, so REST
   * klines serve that much history (a client can warm up its indicators), then the replay runs at
   * `speed` from here.
   */
  readonly startAt?: number;
  /** A FaultProfile, or a profile name / JSON text (see parseFaultProfile). Default none. */
  readonly faults?: FaultProfile | string;
  /** Seed of the fault PRNG (default 1), so a faulty run can be repeated. */
  readonly faultSeed?: number;
  /** Wall clock for auth (timestamps, listen keys, connection age); default Date.now. */
  readonly now?: () => number;
  /** MEXC closes WebSocket connections after 24 h. */
  readonly maxConnectionMs?: number;
  /** MEXC allows 30 subscriptions per connection. */
  readonly maxSubscriptionsPerConnection?: number;
  /** Listen keys expire this long after creation or their last PUT (MEXC: 60 min). */
  readonly listenKeyTtlMs?: number;
  readonly log?: (line: string) => void;
}

/** One order create that reached the matching engine. */
export interface OrderLogEntry {
  readonly time: number;
  readonly account: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: VenueOrderType;
  readonly outcome: 'placed' | 'rejected';
  /** MEXC error code when rejected. */
  readonly code?: number;
}

export interface SimServerStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly requests: number;
  readonly ordersPlaced: number;
  readonly ordersRejected: number;
  readonly framesSent: number;
  readonly marketEvents: number;
  /** Market-data events the engine refused (logged and skipped). */
  readonly badMarketEvents: number;
  /** The market-data clock (replay time, or the wall clock without a replay). */
  readonly marketTime: number;
  readonly replayDone: boolean;
  readonly listenKeys: number;
  readonly faultsInjected: FaultCounts;
}

export interface SimServer {
  /** `http://127.0.0.1:P`: the base for ccxt's `urls.api.spot.public/private`. */
  readonly restUrl: string;
  /** `ws://127.0.0.1:P/ws`: ccxt's `urls.api.ws.spot`. */
  readonly wsUrl: string;
  readonly port: number;
  readonly engine: MatchingEngine;
  readonly faults: FaultController;
  /** Feeds one market-data event to the engine and the WebSocket subscribers (manual mode). */
  pushMarketData(e: MarketDataEvent): void;
  /** Advances the replay to `time` (inclusive); returns the number of events emitted. */
  advanceReplayTo(time: number): number;
  /** Every create request that reached the matching engine, oldest first (bounded, see MAX_ORDER_LOG). */
  orderLog(): readonly OrderLogEntry[];
  /** Closes every WebSocket connection from the server side. Returns how many were closed. */
  dropConnections(): number;
  stats(): SimServerStats;
  close(): Promise<void>;
}

/** Bounds. */
const MAX_BODY_BYTES = 1 << 20;
const MAX_ORDER_LOG = 100_000;
const MAX_PUBLIC_TRADES = 1_000;
const MAX_CANDLES_PER_SYMBOL = 200_000;
const MAX_LISTEN_KEYS_PER_ACCOUNT = 60;
const MAX_HELD_RESPONSES = 1_000;
/** A client that lets this much unsent data pile up is cut off instead of growing our memory. */
const MAX_WS_BUFFERED_BYTES = 16 << 20;
/** A frame held back for reordering is sent anyway after this long if no other frame follows. */
const HELD_FRAME_FLUSH_MS = 1_000;
const REPLAY_TICK_MS = 100;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** MEXC kline intervals: REST name, WebSocket name, duration. */
const INTERVALS: readonly { rest: string; ws: string; ms: number }[] = [
  { rest: '1m', ws: 'Min1', ms: MINUTE },
  { rest: '5m', ws: 'Min5', ms: 5 * MINUTE },
  { rest: '15m', ws: 'Min15', ms: 15 * MINUTE },
  { rest: '30m', ws: 'Min30', ms: 30 * MINUTE },
  { rest: '60m', ws: 'Min60', ms: 60 * MINUTE },
  { rest: '4h', ws: 'Hour4', ms: 240 * MINUTE },
  { rest: '8h', ws: 'Hour8', ms: 480 * MINUTE },
  { rest: '1d', ws: 'Day1', ms: DAY },
];

const CH_ORDERS = 'spot@private.orders.v3.api.pb';
const CH_DEALS = 'spot@private.deals.v3.api.pb';
const CH_ACCOUNT = 'spot@private.account.v3.api.pb';
const PRIVATE_CHANNELS = new Set([CH_ORDERS, CH_DEALS, CH_ACCOUNT]);

/** A REST failure with MEXC's body. */
class RestError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RestError';
  }
}

const param = (name: string): RestError => new RestError(400, 700004, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);

/** Public market state of one symbol, as far as the server has emitted it. */
interface SymbolState {
  readonly spec: SimMarketSpec;
  /** Closed 1m candles, oldest first. */
  readonly closed: Candle[];
  /** The 1m candle being built. */
  live: Candle | undefined;
  /** Recent public trades, oldest first (bounded). */
  readonly trades: { id: number; price: number; qty: number; time: number; buyerMaker: boolean }[];
  tradeSeq: number;
  /** Book version: bumped on every book event (depth `lastUpdateId`, depth-stream versions). */
  bookVersion: number;
  prevBid: number | undefined;
  prevAsk: number | undefined;
  /** Time of the last event of the symbol. */
  lastTime: number;
  lastPrice: number | undefined;
}

interface Conn {
  readonly id: number;
  readonly ws: WebSocket;
  readonly account: string | undefined;
  readonly listenKey: string | undefined;
  readonly subs: Set<string>;
  silentUntil: number;
  held: Uint8Array | undefined;
  heldTimer: NodeJS.Timeout | undefined;
  ageTimer: NodeJS.Timeout | undefined;
}

type ParsedChannel =
  | { kind: 'kline'; symbol: SymbolId; ms: number; name: string }
  | { kind: 'deals' | 'book' | 'depth'; symbol: SymbolId }
  | { kind: 'private' };

/**
 * The `urls` override that points ccxt's MEXC class at a simulator (PROTOCOL.md §5); ccxt
 * deep-merges it into its defaults: `new ccxt.mexc({ apiKey, secret, urls: simCcxtUrls(server) })`.
 * For ccxt.pro, call `await exchange.loadHttpProxyAgent()` before the first watch (plain ws://).
 */
export function simCcxtUrls(server: Pick<SimServer, 'restUrl' | 'wsUrl'>): { api: Record<string, unknown> } {
  const b = server.restUrl;
  return { api: { spot: { public: b, private: b }, contract: { public: `${b}/api/v1/contract`, private: `${b}/api/v1/private` }, ws: { spot: server.wsUrl } } };
}

/** Starts the simulator server; resolves once it listens. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const impl = new SimServerImpl(options);
  await impl.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return impl;
}

class SimServerImpl implements SimServer {
  readonly engine: MatchingEngine;
  readonly faults: FaultController;
  restUrl = '';
  wsUrl = '';
  port = 0;

  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly symbols = new Map<string, SymbolState>();
  /** apiKey → account. The account id is the API key (it is not a secret). */
  private readonly keys = new Map<string, { account: string; secret: Buffer }>();
  private readonly listenKeys = new Map<string, { account: string; expiresAt: number }>();
  private readonly conns = new Set<Conn>();
  /** Channel (private: `account|channel`) → subscribed connections. */
  private readonly channelSubs = new Map<string, Set<Conn>>();
  private readonly log_: OrderLogEntry[] = [];
  private readonly heldResponses = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly maxSubs: number;
  private readonly maxConnectionMs: number;
  private readonly listenKeyTtlMs: number;
  private readonly replay: ReplaySource | undefined;
  private replayClock: number;
  private replayTimer: NodeJS.Timeout | undefined;
  private housekeeping: NodeJS.Timeout | undefined;
  private unsubscribeEngine: () => void;
  private connSeq = 0;
  private autoIdSeq = 0;
  /** Requested quote amounts of market orders by quote (for `origQuoteOrderQty`). */
  private readonly quoteRequests = new Map<string, string>();
  private counters = { requests: 0, placed: 0, rejected: 0, frames: 0, marketEvents: 0, badEvents: 0 };
  private closed = false;

  constructor(private readonly options: SimServerOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.engine = options.engine ?? new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS);
    this.faults = new FaultController(options.faults ?? NO_FAULTS, options.faultSeed ?? 1);
    this.maxSubs = options.maxSubscriptionsPerConnection ?? 30;
    this.maxConnectionMs = options.maxConnectionMs ?? DAY;
    this.listenKeyTtlMs = options.listenKeyTtlMs ?? 60 * MINUTE;
    this.replay = options.replay;
    // Before the first event the market clock sits just before it, so orders placed before the
    // replay starts get a time that sorts before the data.
    const first = this.replay?.peekTime();
    this.replayClock = first !== undefined ? first - 1 : this.now();
    for (const spec of options.markets) {
      this.engine.addMarket(spec);
      this.symbols.set(spec.symbol, {
        spec,
        closed: [],
        live: undefined,
        trades: [],
        tradeSeq: 0,
        bookVersion: 0,
        prevBid: undefined,
        prevAsk: undefined,
        lastTime: 0,
        lastPrice: undefined,
      });
    }
    for (const a of options.accounts) {
      if (!a.apiKey || !a.apiSecret) throw new RangeError('every simulator account needs an apiKey and an apiSecret');
      this.keys.set(a.apiKey, { account: a.apiKey, secret: Buffer.from(a.apiSecret, 'utf8') });
      this.engine.openAccount(a.apiKey, a.deposits, this.marketNow());
    }
    this.unsubscribeEngine = this.engine.onEvent((e) => this.onEngineEvent(e));
    this.http = createServer((req, res) => void this.onRequest(req, res));
    this.http.keepAliveTimeout = 5_000;
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.port = (this.http.address() as AddressInfo).port;
    const h = host.includes(':') ? `[${host}]` : host;
    this.restUrl = `http://${h}:${this.port}`;
    this.wsUrl = `ws://${h}:${this.port}/ws`;
    this.housekeeping = setInterval(() => this.sweep(), 1_000);
    this.housekeeping.unref();
    if (this.replay && this.options.startAt !== undefined) this.advanceReplayTo(this.options.startAt);
    const speed = this.options.speed ?? 0;
    if (this.replay && speed > 0) {
      const wallStart = this.now();
      const clockStart = this.replayClock;
      this.replayTimer = setInterval(() => {
        this.advanceReplayTo(clockStart + (this.now() - wallStart) * speed);
        if (this.replay?.done && this.replayTimer) clearInterval(this.replayTimer);
      }, REPLAY_TICK_MS);
      this.replayTimer.unref();
    }
    this.log(`mexc-sim listening on ${this.restUrl} (ws ${this.wsUrl})`);
  }

  // ---------------------------------------------------------------- market data

  private marketNow(): number {
    return this.replay ? this.replayClock : this.now();
  }

  pushMarketData(e: MarketDataEvent): void {
    this.ingest(e);
  }

  advanceReplayTo(time: number): number {
    if (!this.replay) return 0;
    const events = this.replay.until(time);
    for (const e of events) this.ingest(e);
    if (time > this.replayClock) this.replayClock = time;
    return events.length;
  }

  private ingest(e: MarketDataEvent): void {
    const st = this.symbols.get(e.symbol);
    if (!st) return;
    this.counters.marketEvents++;
    try {
      this.engine.onMarketData(e);
    } catch (err) {
      // A bad event must not take the server (or the replay timer) down: count it and go on.
      this.counters.badEvents++;
      this.log(`market data refused by the engine (${e.type} ${e.symbol}): ${(err as Error).message}`);
      return;
    }
    if (e.type === 'trade') {
      st.lastTime = Math.max(st.lastTime, e.trade.time);
      st.lastPrice = e.trade.price;
      st.trades.push({ id: ++st.tradeSeq, price: e.trade.price, qty: e.trade.quantity, time: e.trade.time, buyerMaker: e.trade.buyerMaker });
      if (st.trades.length > MAX_PUBLIC_TRADES) st.trades.splice(0, st.trades.length - MAX_PUBLIC_TRADES);
      this.pushDeals(st, e.trade.price, e.trade.quantity, e.trade.buyerMaker, e.trade.time);
    } else if (e.type === 'book') {
      st.lastTime = Math.max(st.lastTime, e.book.time);
      st.bookVersion++;
      this.pushBook(st, e.book.bid, e.book.bidSize, e.book.ask, e.book.askSize, e.book.time);
      st.prevBid = e.book.bid;
      st.prevAsk = e.book.ask;
    } else if (e.interval === '1m') {
      st.lastTime = Math.max(st.lastTime, e.time);
      st.lastPrice = e.candle.close;
      this.storeCandle(st, e.candle, e.closed);
      this.pushKlines(st, e.candle.openTime, e.time);
    }
  }

  /** Keeps the 1m history: a closed candle joins `closed`, an open one replaces `live`. */
  private storeCandle(st: SymbolState, c: Candle, closed: boolean): void {
    const last = st.closed[st.closed.length - 1];
    if (last && c.openTime <= last.openTime) {
      if (c.openTime === last.openTime) st.closed[st.closed.length - 1] = c;
      return;
    }
    // A live candle never closed explicitly is final once a later one starts.
    if (st.live && st.live.openTime < c.openTime) st.closed.push(st.live);
    if (closed) {
      st.closed.push(c);
      st.live = undefined;
    } else {
      st.live = c;
    }
    if (st.closed.length > MAX_CANDLES_PER_SYMBOL) st.closed.splice(0, st.closed.length - MAX_CANDLES_PER_SYMBOL);
  }

  /** 1m candles (closed, then the live one) with open time in [from, to]. */
  private candlesBetween(st: SymbolState, from: number, to: number): Candle[] {
    const list = st.closed;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.openTime < from) lo = mid + 1;
      else hi = mid;
    }
    const out: Candle[] = [];
    for (let i = lo; i < list.length && list[i]!.openTime <= to; i++) out.push(list[i]!);
    if (st.live && st.live.openTime >= from && st.live.openTime <= to) out.push(st.live);
    return out;
  }

  /** Aggregates 1m candles into `ms` buckets aligned to the UTC epoch. */
  private aggregate(candles: readonly Candle[], ms: number): Candle[] {
    if (ms === MINUTE) return [...candles];
    const out: Candle[] = [];
    let cur: { openTime: number; open: number; high: number; low: number; close: number; volume: number } | undefined;
    for (const c of candles) {
      const b = c.openTime - (c.openTime % ms);
      if (!cur || cur.openTime !== b) {
        if (cur) out.push(cur);
        cur = { openTime: b, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume };
      } else {
        if (c.high > cur.high) cur.high = c.high;
        if (c.low < cur.low) cur.low = c.low;
        cur.close = c.close;
        // Through exact decimals, so 5 volumes add up to the decimal a person would write.
        cur.volume = Dec.from(cur.volume).add(Dec.from(c.volume)).toNumber();
      }
    }
    if (cur) out.push(cur);
    return out;
  }

  // ---------------------------------------------------------------- WebSocket pushes

  private pushKlines(st: SymbolState, openTime: number, time: number): void {
    for (const iv of INTERVALS) {
      const channel = `spot@public.kline.v3.api.pb@${st.spec.symbol}@${iv.ws}`;
      const subs = this.channelSubs.get(channel);
      if (!subs || subs.size === 0) continue;
      const start = openTime - (openTime % iv.ms);
      const k = this.aggregate(this.candlesBetween(st, start, start + iv.ms - 1), iv.ms)[0];
      if (!k) continue;
      this.broadcast(subs, {
        channel,
        symbol: st.spec.symbol,
        createTime: time,
        sendTime: time,
        body: 'publicSpotKline',
        data: {
          interval: iv.ws,
          windowStart: Math.floor(start / 1000),
          openingPrice: num(k.open),
          closingPrice: num(k.close),
          highestPrice: num(k.high),
          lowestPrice: num(k.low),
          volume: num(k.volume),
          amount: quoteVolume(k),
          windowEnd: Math.floor((start + iv.ms) / 1000),
        },
      });
    }
  }

  /**
   * Pushes one aggregated public update (`spot@<stream>@<speed>@<symbol>`) to the subscribers of
   * each speed MEXC offers (100ms and 10ms); `data` builds the body for a speed's channel.
   */
  private pushAggregated(st: SymbolState, stream: string, body: PushFrame['body'], time: number, data: (eventType: string) => Record<string, unknown>): void {
    for (const speed of ['100ms', '10ms']) {
      const channel = `spot@${stream}@${speed}@${st.spec.symbol}`;
      const subs = this.channelSubs.get(channel);
      if (!subs || subs.size === 0) continue;
      this.broadcast(subs, { channel, symbol: st.spec.symbol, createTime: time, sendTime: time, body, data: data(`spot@${stream}@${speed}`) });
    }
  }

  private pushDeals(st: SymbolState, price: number, qty: number, buyerMaker: boolean, time: number): void {
    // tradeType 1 = the aggressor bought, 2 = sold (buyer was the maker).
    this.pushAggregated(st, 'public.aggre.deals.v3.api.pb', 'publicAggreDeals', time, (eventType) => ({
      deals: [{ price: num(price), quantity: num(qty), tradeType: buyerMaker ? 2 : 1, time }],
      eventType,
    }));
  }

  private pushBook(st: SymbolState, bid: number, bidSize: number, ask: number, askSize: number, time: number): void {
    this.pushAggregated(st, 'public.aggre.bookTicker.v3.api.pb', 'publicAggreBookTicker', time, () => ({
      bidPrice: num(bid),
      bidQuantity: num(bidSize),
      askPrice: num(ask),
      askQuantity: num(askSize),
    }));
    // Depth: one level a side, the new best, and a zero quantity to delete the old best when it moved.
    const bids = [{ price: num(bid), quantity: num(bidSize) }];
    if (st.prevBid !== undefined && st.prevBid !== bid) bids.push({ price: num(st.prevBid), quantity: '0' });
    const asks = [{ price: num(ask), quantity: num(askSize) }];
    if (st.prevAsk !== undefined && st.prevAsk !== ask) asks.push({ price: num(st.prevAsk), quantity: '0' });
    const v = String(st.bookVersion);
    this.pushAggregated(st, 'public.aggre.depth.v3.api.pb', 'publicAggreDepths', time, (eventType) => ({ asks, bids, eventType, fromVersion: v, toVersion: v }));
  }

  private onEngineEvent(e: EngineEvent): void {
    const time = e.type === 'balance' ? e.time : e.type === 'order' ? e.order.updateTime : e.fill.time;
    if (e.type === 'order') {
      const subs = this.channelSubs.get(`${e.account}|${CH_ORDERS}`);
      if (subs?.size) this.broadcast(subs, { channel: CH_ORDERS, symbol: e.order.symbol, createTime: time, sendTime: time, body: 'privateOrders', data: this.wsOrder(e.order) });
    } else if (e.type === 'fill') {
      const subs = this.channelSubs.get(`${e.account}|${CH_DEALS}`);
      if (subs?.size) this.broadcast(subs, { channel: CH_DEALS, symbol: e.fill.symbol, createTime: time, sendTime: time, body: 'privateDeals', data: wsDeal(e.fill) });
    } else {
      const subs = this.channelSubs.get(`${e.account}|${CH_ACCOUNT}`);
      if (subs?.size) {
        const b = e.balance;
        this.broadcast(subs, {
          channel: CH_ACCOUNT,
          createTime: time,
          sendTime: time,
          body: 'privateAccount',
          data: {
            vcoinName: b.asset,
            coinId: b.asset,
            balanceAmount: b.free.toString(),
            balanceAmountChange: e.freeChange.toString(),
            frozenAmount: b.locked.toString(),
            frozenAmountChange: e.lockedChange.toString(),
            type: e.reason,
            time,
          },
        });
      }
    }
  }

  private wsOrder(o: VenueOrder): Record<string, unknown> {
    const quoteReq = this.quoteRequests.get(o.exchangeOrderId);
    const amount = quoteReq ?? (o.price ? o.price.mul(o.quantity).toString() : o.filledQuote.toString());
    const remainQty = o.quantity.sub(o.filledQuantity);
    return {
      id: o.exchangeOrderId,
      clientId: o.clientOrderId,
      price: o.price?.toString() ?? '0',
      quantity: o.quantity.toString(),
      amount,
      avgPrice: o.filledQuantity.isPositive() ? o.filledQuote.div(o.filledQuantity).toString() : '0',
      orderType: { limit: 1, post_only: 2, ioc: 3, market: 5 }[o.type],
      tradeType: o.side === 'buy' ? 1 : 2,
      isMaker: o.type === 'post_only' || (o.type === 'limit' && o.status === 'new'),
      remainAmount: Dec.max(Dec.ZERO, Dec.from(amount).sub(o.filledQuote)).toString(),
      remainQuantity: (isOpen(o) ? remainQty : Dec.ZERO).toString(),
      cumulativeQuantity: o.filledQuantity.toString(),
      cumulativeAmount: o.filledQuote.toString(),
      status: wsStatus(o),
      createTime: o.time,
    };
  }

  private broadcast(subs: Iterable<Conn>, frame: PushFrame): void {
    const bytes = encodePush(frame);
    for (const c of subs) this.sendFrame(c, frame.channel, bytes);
  }

  /** Sends one push to one connection, through the fault controller. */
  private sendFrame(c: Conn, channel: string, bytes: Uint8Array): void {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      this.log(`ws#${c.id}: client too slow (${c.ws.bufferedAmount} bytes queued), closing`);
      c.ws.terminate();
      return;
    }
    const wall = this.now();
    if (c.silentUntil > wall) return;
    const d = this.faults.forFrame(channel);
    switch (d.fault) {
      case 'disconnect':
        this.log(`fault: ws#${c.id} disconnected`);
        c.ws.terminate();
        return;
      case 'silence':
        this.log(`fault: ws#${c.id} silent for ${d.silenceMs ?? 0} ms`);
        c.silentUntil = wall + (d.silenceMs ?? 0);
        return;
      case 'out-of-order':
        if (!c.held) {
          c.held = bytes;
          c.heldTimer = setTimeout(() => this.flushHeld(c), HELD_FRAME_FLUSH_MS);
          c.heldTimer.unref();
          return;
        }
        break;
      case 'duplicate':
        this.rawSend(c, bytes);
        break;
      default:
        break;
    }
    this.rawSend(c, bytes);
    this.flushHeld(c);
  }

  private flushHeld(c: Conn): void {
    if (c.heldTimer) clearTimeout(c.heldTimer);
    c.heldTimer = undefined;
    const held = c.held;
    c.held = undefined;
    if (held && c.ws.readyState === WebSocket.OPEN) this.rawSend(c, held);
  }

  private rawSend(c: Conn, bytes: Uint8Array): void {
    this.counters.frames++;
    c.ws.send(bytes, { binary: true });
  }

  private sendText(c: Conn, obj: unknown): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(obj));
  }

  // ---------------------------------------------------------------- WebSocket connections

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/ws' || this.closed) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const key = url.searchParams.get('listenKey');
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      if (key !== null) {
        const lk = this.listenKeys.get(key);
        if (!lk || lk.expiresAt <= this.now()) {
          // What MEXC sends; ccxt turns it into an AuthenticationError.
          ws.send('Invalid listen key');
          ws.close(1000);
          return;
        }
        this.addConn(ws, lk.account, key);
      } else {
        this.addConn(ws, undefined, undefined);
      }
    });
  }

  private addConn(ws: WebSocket, account: string | undefined, listenKey: string | undefined): void {
    const c: Conn = { id: ++this.connSeq, ws, account, listenKey, subs: new Set(), silentUntil: 0, held: undefined, heldTimer: undefined, ageTimer: undefined };
    this.conns.add(c);
    c.ageTimer = setTimeout(() => {
      this.log(`ws#${c.id}: connection older than ${this.maxConnectionMs} ms, closing`);
      ws.close(1000, 'connection lifetime exceeded');
    }, Math.min(this.maxConnectionMs, MAX_TIMER_MS));
    c.ageTimer.unref();
    this.log(`ws#${c.id} connected${account ? ` (private, ${account})` : ''}`);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onWsText(c, Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
    });
    ws.on('close', () => this.removeConn(c));
    ws.on('error', () => this.removeConn(c));
  }

  private removeConn(c: Conn): void {
    if (!this.conns.delete(c)) return;
    if (c.ageTimer) clearTimeout(c.ageTimer);
    if (c.heldTimer) clearTimeout(c.heldTimer);
    for (const ch of c.subs) this.unsub(c, ch);
    this.log(`ws#${c.id} closed`);
  }

  private subKey(c: Conn, channel: string): string {
    return PRIVATE_CHANNELS.has(channel) ? `${c.account ?? ''}|${channel}` : channel;
  }

  private unsub(c: Conn, channel: string): void {
    const k = this.subKey(c, channel);
    const set = this.channelSubs.get(k);
    set?.delete(c);
    if (set && set.size === 0) this.channelSubs.delete(k);
  }

  private onWsText(c: Conn, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return; // MEXC ignores what it cannot parse; so do we.
    }
    if (typeof msg !== 'object' || msg === null) return;
    const id = typeof msg.id === 'number' && Number.isInteger(msg.id) && msg.id >= 0 ? msg.id : 0;
    const method = typeof msg.method === 'string' ? msg.method.toUpperCase() : '';
    const params = Array.isArray(msg.params) ? msg.params.filter((p): p is string => typeof p === 'string') : [];
    if (method === 'PING') {
      this.sendText(c, { id, code: 0, msg: 'PONG' });
    } else if (method === 'SUBSCRIPTION') {
      const ok: string[] = [];
      const rejected: string[] = [];
      for (const ch of params) {
        if (c.subs.has(ch)) ok.push(ch);
        else if (c.subs.size >= this.maxSubs || !this.validChannel(c, ch)) rejected.push(ch);
        else {
          c.subs.add(ch);
          const k = this.subKey(c, ch);
          let set = this.channelSubs.get(k);
          if (!set) this.channelSubs.set(k, (set = new Set()));
          set.add(c);
          ok.push(ch);
        }
      }
      if (ok.length) this.sendText(c, { id, code: 0, msg: ok.join(',') });
      // MEXC's wording for a refused subscription (as seen by third parties).
      if (rejected.length) this.sendText(c, { id, code: 0, msg: `Not Subscribed successfully! [${rejected.join(',')}].  Reason： Blocked! ` });
    } else if (method === 'UNSUBSCRIPTION') {
      for (const ch of params) {
        if (c.subs.delete(ch)) this.unsub(c, ch);
      }
      this.sendText(c, { id, code: 0, msg: params.join(',') });
    }
  }

  private validChannel(c: Conn, ch: string): boolean {
    const p = parseChannel(ch);
    if (!p) return false;
    if (p.kind === 'private') return c.account !== undefined;
    return this.symbols.has(p.symbol);
  }

  dropConnections(): number {
    let n = 0;
    for (const c of [...this.conns]) {
      c.ws.terminate();
      this.removeConn(c);
      n++;
    }
    return n;
  }

  /** Once a second: expired listen keys and their connections. */
  private sweep(): void {
    const wall = this.now();
    for (const [k, v] of this.listenKeys) {
      if (v.expiresAt > wall) continue;
      this.listenKeys.delete(k);
      for (const c of this.conns) {
        if (c.listenKey === k) {
          this.log(`ws#${c.id}: listen key expired, closing`);
          c.ws.close(1000, 'listen key expired');
        }
      }
    }
  }

  // ---------------------------------------------------------------- REST

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch {
      this.reply(res, 413, { code: 400, msg: `request body larger than ${MAX_BODY_BYTES} bytes` });
      return;
    }
    if (path.startsWith('/sim/')) {
      this.admin(method, path, rawBody, res);
      return;
    }
    const kind = method === 'POST' && path === '/api/v3/order' ? 'createOrder' : method === 'DELETE' && (path === '/api/v3/order' || path === '/api/v3/openOrders') ? 'cancelOrder' : 'other';
    const d = this.faults.forRequest(kind, path);
    if (d.latencyMs > 0) await this.sleep(Math.min(d.latencyMs, MAX_TIMER_MS));
    if (d.fault) this.log(`fault: ${d.fault} on ${method} ${path}`);
    switch (d.fault) {
      case '429':
        this.reply(res, 429, { code: 429, msg: 'Too Many Requests' }, { 'Retry-After': String(d.retryAfterSec ?? 1) });
        return;
      case '5xx-without-placing':
        this.reply5xx(res);
        return;
      case 'reject':
        this.reply(res, 400, { code: d.code ?? 30005, msg: d.msg ?? 'Oversold' });
        return;
      default:
        break;
    }
    let status = 200;
    let body: unknown;
    try {
      body = this.route(method, path, rawQuery, rawBody, req);
    } catch (e) {
      if (e instanceof RestError) {
        status = e.httpStatus;
        body = { code: e.code, msg: e.message };
      } else if (e instanceof SimRejectError) {
        status = e.httpStatus;
        body = { code: e.code, msg: e.message };
      } else {
        this.log(`error on ${method} ${path}: ${(e as Error).message}`);
        status = 500;
        body = { code: 500, msg: 'Internal error' };
      }
    }
    switch (d.fault) {
      case '5xx-after-placing':
        this.reply5xx(res);
        return;
      case 'drop':
        // Processed, never answered: the client sees a timeout and must ask what happened.
        if (this.heldResponses.size >= MAX_HELD_RESPONSES) {
          this.reply5xx(res);
          return;
        }
        this.heldResponses.add(res);
        res.on('close', () => this.heldResponses.delete(res));
        return;
      case 'timeout':
        await this.sleep(Math.min(d.delayMs ?? 30_000, MAX_TIMER_MS));
        this.reply(res, status, body);
        return;
      default:
        this.reply(res, status, body);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.writableEnded || res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  /** A gateway-style 5xx: no JSON `code`, so clients classify it by the HTTP status (outcome unknown). */
  private reply5xx(res: ServerResponse): void {
    if (res.writableEnded || res.destroyed) return;
    const text = '503 Service Temporarily Unavailable';
    res.writeHead(503, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** Routes one request; returns the JSON body or throws RestError/SimRejectError. */
  private route(method: string, path: string, rawQuery: string, rawBody: string, req: IncomingMessage): unknown {
    const params = parseParams(rawQuery, rawBody);
    const get = (k: string): string | undefined => {
      const v = params.get(k);
      return v === undefined || v === '' ? undefined : v;
    };
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: this.now() };
      case 'GET /api/v3/exchangeInfo':
        return this.exchangeInfo(get('symbol'), get('symbols'));
      case 'GET /api/v3/defaultSymbols':
        return { code: 200, data: this.apiSymbols(), msg: null };
      case 'GET /api/v1/contract/detail':
        return { success: true, code: 0, data: [] };
      case 'GET /api/v3/depth':
        return this.depth(this.symbolParam(get('symbol')));
      case 'GET /api/v3/klines':
        return this.klines(this.symbolParam(get('symbol')), get('interval'), get('startTime'), get('endTime'), get('limit'));
      case 'GET /api/v3/ticker/24hr': {
        const s = get('symbol');
        return s ? this.ticker(this.symbolParam(s)) : [...this.symbols.values()].map((st) => this.ticker(st));
      }
      case 'GET /api/v3/ticker/bookTicker': {
        const s = get('symbol');
        return s ? this.bookTicker(this.symbolParam(s)) : [...this.symbols.values()].map((st) => this.bookTicker(st));
      }
      case 'GET /api/v3/ticker/price': {
        const s = get('symbol');
        const one = (st: SymbolState): unknown => ({ symbol: st.spec.symbol, price: st.lastPrice === undefined ? null : num(st.lastPrice) });
        return s ? one(this.symbolParam(s)) : [...this.symbols.values()].map(one);
      }
      case 'GET /api/v3/aggTrades':
      case 'GET /api/v3/trades':
        return this.publicTrades(this.symbolParam(get('symbol')), get('limit'), path.endsWith('aggTrades'));
      default:
        break;
    }
    const signedRoutes = new Set([
      'GET /api/v3/capital/config/getall',
      'GET /api/v3/selfSymbols',
      'GET /api/v3/account',
      'POST /api/v3/order',
      'POST /api/v3/order/test',
      'GET /api/v3/order',
      'DELETE /api/v3/order',
      'GET /api/v3/openOrders',
      'DELETE /api/v3/openOrders',
      'GET /api/v3/allOrders',
      'GET /api/v3/myTrades',
      'GET /api/v3/tradeFee',
      'POST /api/v3/userDataStream',
      'PUT /api/v3/userDataStream',
      'DELETE /api/v3/userDataStream',
      'GET /api/v3/userDataStream',
    ]);
    if (!signedRoutes.has(key)) throw new RestError(404, 404, `Not Found: ${method} ${path}`);
    const account = this.authenticate(req, rawQuery, rawBody, params);
    switch (key) {
      case 'GET /api/v3/capital/config/getall':
        return [];
      case 'GET /api/v3/selfSymbols':
        return { code: 200, data: this.apiSymbols(), msg: null };
      case 'GET /api/v3/account':
        return {
          makerCommission: null,
          takerCommission: null,
          buyerCommission: null,
          sellerCommission: null,
          canTrade: true,
          canWithdraw: true,
          canDeposit: true,
          updateTime: null,
          accountType: 'SPOT',
          balances: this.engine
            .balances(account)
            .filter((b) => !b.free.isZero() || !b.locked.isZero())
            .map((b) => ({ asset: b.asset, free: b.free.toString(), locked: b.locked.toString() })),
          permissions: ['SPOT'],
        };
      case 'POST /api/v3/order/test':
        this.orderRequest(get, this.symbolParam(get('symbol')).spec.symbol);
        return {};
      case 'POST /api/v3/order':
        return this.createOrder(account, get);
      case 'GET /api/v3/order': {
        const st = this.symbolParam(get('symbol'));
        const o = this.engine.order(account, st.spec.symbol, orderRef(get));
        if (!o) throw new RestError(400, -2013, 'Order does not exist.');
        return this.orderJson(o);
      }
      case 'DELETE /api/v3/order': {
        const st = this.symbolParam(get('symbol'));
        const ref = orderRef(get);
        const o = this.engine.cancel(account, st.spec.symbol, ref, this.marketNow());
        return this.cancelJson(o, 'clientOrderId' in ref ? ref.clientOrderId : o.clientOrderId);
      }
      case 'GET /api/v3/openOrders': {
        const s = get('symbol');
        return this.engine.openOrders(account, s ? this.symbolParam(s).spec.symbol : undefined).map((o) => this.orderJson(o));
      }
      case 'DELETE /api/v3/openOrders': {
        const s = get('symbol');
        if (!s) throw param('symbol');
        const out: unknown[] = [];
        // MEXC takes up to 5 symbols, comma separated.
        for (const one of s.split(',').slice(0, 5)) {
          const st = this.symbolParam(one);
          for (const o of this.engine.openOrders(account, st.spec.symbol)) {
            out.push(this.cancelJson(this.engine.cancel(account, st.spec.symbol, { exchangeOrderId: o.exchangeOrderId }, this.marketNow()), o.clientOrderId));
          }
        }
        return out;
      }
      case 'GET /api/v3/allOrders': {
        const st = this.symbolParam(get('symbol'));
        const start = intParam(get('startTime'), 'startTime');
        const end = intParam(get('endTime'), 'endTime');
        const limit = Math.min(1000, intParam(get('limit'), 'limit') ?? 500);
        const list = this.engine.allOrders(account, st.spec.symbol).filter((o) => (start === undefined || o.time >= start) && (end === undefined || o.time <= end));
        return list.slice(Math.max(0, list.length - limit)).map((o) => this.orderJson(o));
      }
      case 'GET /api/v3/myTrades': {
        const st = this.symbolParam(get('symbol'));
        const start = intParam(get('startTime'), 'startTime');
        const end = intParam(get('endTime'), 'endTime');
        const limit = Math.min(100, Math.max(1, intParam(get('limit'), 'limit') ?? 100));
        const orderId = get('orderId');
        const list = this.engine
          .myTrades(account, st.spec.symbol, start)
          .filter((f) => (end === undefined || f.time <= end) && (orderId === undefined || f.exchangeOrderId === orderId));
        const page = start === undefined ? list.slice(Math.max(0, list.length - limit)) : list.slice(0, limit);
        return page.map((f) => tradeJson(f));
      }
      case 'GET /api/v3/tradeFee': {
        const st = this.symbolParam(get('symbol'));
        return { data: { makerCommission: feeFraction(st.spec.makerFeePct), takerCommission: feeFraction(st.spec.takerFeePct) }, code: 0, msg: 'success', timestamp: this.now() };
      }
      case 'POST /api/v3/userDataStream': {
        const mine = [...this.listenKeys.values()].filter((v) => v.account === account).length;
        if (mine >= MAX_LISTEN_KEYS_PER_ACCOUNT) throw new RestError(400, 730001, `too many listen keys (at most ${MAX_LISTEN_KEYS_PER_ACCOUNT} per account)`);
        const lk = randomBytes(32).toString('hex');
        this.listenKeys.set(lk, { account, expiresAt: this.now() + this.listenKeyTtlMs });
        return { listenKey: lk };
      }
      case 'PUT /api/v3/userDataStream':
      case 'DELETE /api/v3/userDataStream': {
        const lk = get('listenKey');
        if (!lk) throw param('listenKey');
        const entry = this.listenKeys.get(lk);
        if (!entry || entry.account !== account || entry.expiresAt <= this.now()) throw new RestError(400, 730002, 'Invalid listen key');
        if (method === 'PUT') entry.expiresAt = this.now() + this.listenKeyTtlMs;
        else {
          this.listenKeys.delete(lk);
          for (const c of this.conns) if (c.listenKey === lk) c.ws.close(1000, 'listen key closed');
        }
        return { listenKey: lk };
      }
      case 'GET /api/v3/userDataStream':
        return { listenKey: [...this.listenKeys.entries()].filter(([, v]) => v.account === account && v.expiresAt > this.now()).map(([k]) => k) };
      default:
        throw new RestError(404, 404, `Not Found: ${method} ${path}`);
    }
  }

  /**
   * MEXC's signed-request checks: a known key, the HMAC-SHA256 of the raw query (without
   * `signature`) followed by the raw body, recvWindow at most 60000, and
   * `timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow`. Returns the account.
   */
  private authenticate(req: IncomingMessage, rawQuery: string, rawBody: string, params: Map<string, string>): string {
    const header = req.headers['x-mexc-apikey'];
    const apiKey = Array.isArray(header) ? header[0] : header;
    const entry = apiKey ? this.keys.get(apiKey) : undefined;
    if (!entry) throw new RestError(400, 700001, 'API-key format invalid.');
    const { payload, signature } = signedPayload(rawQuery, rawBody);
    const expected = createHmac('sha256', entry.secret).update(payload).digest('hex');
    if (!signature || signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
      throw new RestError(400, 700002, 'Signature for this request is not valid.');
    }
    const recvWindow = params.has('recvWindow') ? Number(params.get('recvWindow')) : 5000;
    if (!Number.isFinite(recvWindow) || recvWindow < 0) throw param('recvWindow');
    if (recvWindow > 60_000) throw new RestError(400, 700005, 'recvWindow must less than 60000');
    const ts = Number(params.get('timestamp'));
    if (!params.has('timestamp') || !Number.isFinite(ts)) throw param('timestamp');
    const serverTime = this.now();
    if (!(ts < serverTime + 1000 && serverTime - ts <= recvWindow)) throw new RestError(400, 700003, 'Timestamp for this request is outside of the recvWindow.');
    return entry.account;
  }

  private symbolParam(s: string | undefined): SymbolState {
    if (!s) throw param('symbol');
    const st = this.symbols.get(s.toUpperCase());
    if (!st) throw new RestError(400, -1121, 'Invalid symbol.');
    return st;
  }

  private apiSymbols(): string[] {
    return [...this.symbols.values()].filter((s) => s.spec.apiTradable).map((s) => s.spec.symbol);
  }

  private exchangeInfo(symbol: string | undefined, symbols: string | undefined): unknown {
    let list = [...this.symbols.values()];
    if (symbol || symbols) {
      const wanted = new Set((symbol ?? symbols ?? '').split(',').map((s) => s.trim().toUpperCase()));
      list = list.filter((s) => wanted.has(s.spec.symbol));
      if (list.length === 0) throw new RestError(400, -1121, 'Invalid symbol.');
    }
    return {
      timezone: 'CST',
      serverTime: this.now(),
      rateLimits: [],
      exchangeFilters: [],
      symbols: list.map(({ spec }) => {
        const baseDecimals = decimalsOf(spec.stepSize);
        const quoteDecimals = decimalsOf(spec.tickSize);
        const maxQuote = (spec.maxNotional ?? Dec.from(2_000_000)).toString();
        return {
          symbol: spec.symbol,
          status: spec.status === 'online' ? '1' : spec.status === 'paused' ? '2' : '3',
          baseAsset: spec.base,
          baseAssetPrecision: baseDecimals,
          quoteAsset: spec.quote,
          quotePrecision: quoteDecimals,
          quoteAssetPrecision: quoteDecimals,
          baseCommissionPrecision: baseDecimals,
          quoteCommissionPrecision: quoteDecimals,
          orderTypes: ['LIMIT', 'MARKET', 'LIMIT_MAKER'],
          isSpotTradingAllowed: true,
          isMarginTradingAllowed: false,
          quoteAmountPrecision: spec.minNotional.toString(),
          baseSizePrecision: spec.minQuantity.toString(),
          permissions: ['SPOT'],
          filters: [],
          maxQuoteAmount: maxQuote,
          makerCommission: feeFraction(spec.makerFeePct),
          takerCommission: feeFraction(spec.takerFeePct),
          quoteAmountPrecisionMarket: spec.minNotional.toString(),
          maxQuoteAmountMarket: maxQuote,
          fullName: spec.base,
          // 1 = both sides tradable, 4 = closed.
          tradeSideType: spec.status === 'offline' ? 4 : 1,
          st: false,
        };
      }),
    };
  }

  private depth(st: SymbolState): unknown {
    const b = this.engine.bookTop(st.spec.symbol);
    return {
      lastUpdateId: st.bookVersion,
      bids: b && b.bid > 0 ? [[num(b.bid), num(b.bidSize)]] : [],
      asks: b && b.ask > 0 ? [[num(b.ask), num(b.askSize)]] : [],
      timestamp: b?.time ?? st.lastTime,
    };
  }

  private klines(st: SymbolState, interval: string | undefined, startS: string | undefined, endS: string | undefined, limitS: string | undefined): unknown {
    if (!interval) throw param('interval');
    const iv = INTERVALS.find((i) => i.rest === interval);
    if (!iv) throw new RestError(400, -1121, `Invalid interval.`);
    const start = intParam(startS, 'startTime');
    const end = intParam(endS, 'endTime') ?? Number.MAX_SAFE_INTEGER;
    const limit = Math.min(1000, Math.max(1, intParam(limitS, 'limit') ?? 500));
    let rows: Candle[];
    if (start !== undefined) {
      const from = start - (((start % iv.ms) + iv.ms) % iv.ms);
      // Only as many 1m candles as `limit` buckets can hold.
      const to = Math.min(end, from + limit * iv.ms - 1);
      rows = this.aggregate(this.candlesBetween(st, from, to), iv.ms).filter((k) => k.openTime >= start && k.openTime <= end).slice(0, limit);
    } else {
      const lastOpen = st.live?.openTime ?? st.closed[st.closed.length - 1]?.openTime ?? 0;
      const top = Math.min(end, lastOpen);
      const from = top - (((top % iv.ms) + iv.ms) % iv.ms) - (limit - 1) * iv.ms;
      rows = this.aggregate(this.candlesBetween(st, from, top), iv.ms).filter((k) => k.openTime <= end);
      rows = rows.slice(Math.max(0, rows.length - limit));
    }
    return rows.map((k) => [k.openTime, num(k.open), num(k.high), num(k.low), num(k.close), num(k.volume), k.openTime + iv.ms, quoteVolume(k)]);
  }

  /** Rolling 24 h statistics up to the symbol's last event, from its 1m candles. */
  private ticker(st: SymbolState): unknown {
    const to = st.lastTime;
    const candles = this.candlesBetween(st, to - DAY + 1, to);
    const book = this.engine.bookTop(st.spec.symbol);
    const first = candles[0];
    const lastC = candles[candles.length - 1];
    const last = st.lastPrice ?? lastC?.close;
    let high = -Infinity;
    let low = Infinity;
    let volume = Dec.ZERO;
    let quote = Dec.ZERO;
    for (const c of candles) {
      if (c.high > high) high = c.high;
      if (c.low < low) low = c.low;
      volume = volume.add(Dec.from(c.volume));
      quote = quote.add(Dec.from(quoteVolume(c)));
    }
    const open = first?.open;
    const change = open !== undefined && last !== undefined ? Dec.from(last).sub(Dec.from(open)) : undefined;
    return {
      symbol: st.spec.symbol,
      priceChange: change?.toString() ?? '0',
      // A fraction, as MEXC sends it (ccxt multiplies by 100).
      priceChangePercent: change && open ? change.div(Dec.from(open)).toFixed(4) : '0',
      prevClosePrice: open !== undefined ? num(open) : null,
      lastPrice: last !== undefined ? num(last) : null,
      bidPrice: book ? num(book.bid) : null,
      bidQty: book ? num(book.bidSize) : null,
      askPrice: book ? num(book.ask) : null,
      askQty: book ? num(book.askSize) : null,
      openPrice: open !== undefined ? num(open) : null,
      highPrice: candles.length ? num(high) : null,
      lowPrice: candles.length ? num(low) : null,
      volume: volume.toString(),
      quoteVolume: quote.toString(),
      openTime: first?.openTime ?? to,
      closeTime: to,
      count: null,
    };
  }

  private bookTicker(st: SymbolState): unknown {
    const b = this.engine.bookTop(st.spec.symbol);
    return { symbol: st.spec.symbol, bidPrice: b ? num(b.bid) : null, bidQty: b ? num(b.bidSize) : null, askPrice: b ? num(b.ask) : null, askQty: b ? num(b.askSize) : null };
  }

  private publicTrades(st: SymbolState, limitS: string | undefined, agg: boolean): unknown {
    const limit = Math.min(1000, Math.max(1, intParam(limitS, 'limit') ?? 500));
    const list = st.trades.slice(Math.max(0, st.trades.length - limit));
    if (agg) return list.map((t) => ({ a: null, f: null, l: null, p: num(t.price), q: num(t.qty), T: t.time, m: t.buyerMaker, M: true }));
    return list.map((t) => ({
      id: null,
      price: num(t.price),
      qty: num(t.qty),
      quoteQty: Dec.from(t.price).mul(Dec.from(t.qty)).toString(),
      time: t.time,
      isBuyerMaker: t.buyerMaker,
      isBestMatch: true,
      tradeType: t.buyerMaker ? 'ASK' : 'BID',
    }));
  }

  /** Builds the engine request from the order parameters. Throws RestError for a malformed one. */
  private orderRequest(get: (k: string) => string | undefined, symbol: SymbolId): VenueOrderRequest {
    const sideS = get('side')?.toUpperCase();
    if (sideS !== 'BUY' && sideS !== 'SELL') throw param('side');
    const typeS = get('type')?.toUpperCase();
    const type = typeS ? TYPE_FROM_MEXC[typeS] : undefined;
    if (!type) throw param('type');
    const dec = (k: string): Dec | undefined => {
      const v = get(k);
      if (v === undefined) return undefined;
      try {
        return Dec.from(v);
      } catch {
        throw param(k);
      }
    };
    const clientOrderId = get('newClientOrderId') ?? `sim-auto-${++this.autoIdSeq}`;
    if (clientOrderId.length > 64) throw param('newClientOrderId');
    const quantity = dec('quantity');
    const quoteAmount = dec('quoteOrderQty');
    const price = dec('price');
    return {
      clientOrderId,
      symbol,
      side: sideS === 'BUY' ? 'buy' : 'sell',
      type,
      ...(quantity ? { quantity } : {}),
      ...(quoteAmount ? { quoteAmount } : {}),
      ...(price ? { price } : {}),
    };
  }

  private createOrder(account: string, get: (k: string) => string | undefined): unknown {
    const st = this.symbolParam(get('symbol'));
    const req = this.orderRequest(get, st.spec.symbol);
    const time = this.marketNow();
    let o: VenueOrder;
    try {
      o = this.engine.place(account, req, time);
    } catch (e) {
      if (e instanceof SimRejectError) {
        this.record({ time, account, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, outcome: 'rejected', code: e.code });
        this.counters.rejected++;
        this.log(`order ${req.clientOrderId} rejected: ${e.code} ${e.message}`);
      }
      throw e;
    }
    this.record({ time, account, clientOrderId: req.clientOrderId, symbol: req.symbol, side: req.side, type: req.type, outcome: 'placed' });
    this.counters.placed++;
    if (req.type === 'market' && req.quoteAmount && !req.quantity) {
      this.quoteRequests.set(o.exchangeOrderId, req.quoteAmount.toString());
      // Oldest first (Map order); an evicted entry only loses origQuoteOrderQty of an old order.
      if (this.quoteRequests.size > MAX_ORDER_LOG) this.quoteRequests.delete(this.quoteRequests.keys().next().value!);
    }
    this.log(`order ${req.clientOrderId} placed: ${o.exchangeOrderId} ${req.side} ${req.type} ${req.symbol} -> ${o.status}`);
    // MEXC's new-order reply has no status field.
    return {
      symbol: o.symbol,
      orderId: o.exchangeOrderId,
      orderListId: -1,
      price: (o.price ?? req.price)?.toString() ?? '0',
      origQty: o.quantity.toString(),
      type: TYPE_TO_MEXC[o.type],
      side: o.side === 'buy' ? 'BUY' : 'SELL',
      transactTime: o.time,
    };
  }

  private record(e: OrderLogEntry): void {
    this.log_.push(e);
    if (this.log_.length > MAX_ORDER_LOG) this.log_.splice(0, this.log_.length - MAX_ORDER_LOG);
  }

  private orderJson(o: VenueOrder): Record<string, unknown> {
    return {
      symbol: o.symbol,
      orderId: o.exchangeOrderId,
      orderListId: -1,
      clientOrderId: o.clientOrderId,
      price: o.price?.toString() ?? '0',
      origQty: o.quantity.toString(),
      executedQty: o.filledQuantity.toString(),
      cummulativeQuoteQty: o.filledQuote.toString(),
      status: restStatus(o),
      timeInForce: null,
      type: TYPE_TO_MEXC[o.type],
      side: o.side === 'buy' ? 'BUY' : 'SELL',
      stopPrice: null,
      icebergQty: null,
      time: o.time,
      updateTime: o.updateTime,
      isWorking: true,
      origQuoteOrderQty: this.quoteRequests.get(o.exchangeOrderId) ?? '0',
    };
  }

  private cancelJson(o: VenueOrder, origClientOrderId: string): Record<string, unknown> {
    const { time: _t, updateTime: _u, isWorking: _w, origQuoteOrderQty: _q, ...rest } = this.orderJson(o);
    return { ...rest, origClientOrderId };
  }

  // ---------------------------------------------------------------- admin

  private admin(method: string, path: string, rawBody: string, res: ServerResponse): void {
    try {
      if (path === '/sim/faults' && method === 'GET') {
        this.reply(res, 200, { profile: this.faults.profile, pending: this.faults.pending(), injected: this.faults.injected() });
      } else if (path === '/sim/faults' && method === 'POST') {
        // Body: a profile name, a profile JSON, {"profile": name|object}, or {"once": {...}}.
        const text = rawBody.trim();
        let parsed: unknown = text;
        if (text.startsWith('{')) parsed = JSON.parse(text) as unknown;
        if (typeof parsed === 'object' && parsed !== null && 'once' in parsed) {
          this.faults.once((parsed as { once: OneShotFault }).once);
        } else if (typeof parsed === 'object' && parsed !== null && 'profile' in parsed) {
          const p = (parsed).profile;
          this.faults.set(typeof p === 'string' ? p : JSON.stringify(p));
        } else {
          this.faults.set(text);
        }
        this.log(`faults: profile ${this.faults.profile.name}, ${this.faults.pending().length} one-shot(s) queued`);
        this.reply(res, 200, { profile: this.faults.profile, pending: this.faults.pending() });
      } else if (path === '/sim/orders' && method === 'GET') {
        this.reply(res, 200, this.orderLog());
      } else if (path === '/sim/disconnect' && method === 'POST') {
        this.reply(res, 200, { dropped: this.dropConnections() });
      } else if (path === '/sim/stats' && method === 'GET') {
        this.reply(res, 200, this.stats());
      } else {
        this.reply(res, 404, { code: 404, msg: `Not Found: ${method} ${path}` });
      }
    } catch (e) {
      this.reply(res, 400, { code: 400, msg: (e as Error).message });
    }
  }

  orderLog(): readonly OrderLogEntry[] {
    return [...this.log_];
  }

  stats(): SimServerStats {
    let subscriptions = 0;
    for (const c of this.conns) subscriptions += c.subs.size;
    return {
      connections: this.conns.size,
      subscriptions,
      requests: this.counters.requests,
      ordersPlaced: this.counters.placed,
      ordersRejected: this.counters.rejected,
      framesSent: this.counters.frames,
      marketEvents: this.counters.marketEvents,
      badMarketEvents: this.counters.badEvents,
      marketTime: this.marketNow(),
      replayDone: this.replay?.done ?? false,
      listenKeys: this.listenKeys.size,
      faultsInjected: this.faults.injected(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.replayTimer) clearInterval(this.replayTimer);
    if (this.housekeeping) clearInterval(this.housekeeping);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsubscribeEngine();
    this.dropConnections();
    for (const res of this.heldResponses) res.destroy();
    this.heldResponses.clear();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

// ---------------------------------------------------------------- helpers

const TYPE_FROM_MEXC: Record<string, VenueOrderType | undefined> = { LIMIT: 'limit', MARKET: 'market', LIMIT_MAKER: 'post_only', IMMEDIATE_OR_CANCEL: 'ioc' };
const TYPE_TO_MEXC: Record<VenueOrderType, string> = { limit: 'LIMIT', market: 'MARKET', post_only: 'LIMIT_MAKER', ioc: 'IMMEDIATE_OR_CANCEL' };

function isOpen(o: VenueOrder): boolean {
  return o.status === 'new' || o.status === 'partially_filled';
}

/** REST status: an order that ended without filling fully is CANCELED or PARTIALLY_CANCELED. */
function restStatus(o: VenueOrder): string {
  switch (o.status) {
    case 'new':
      return 'NEW';
    case 'partially_filled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    default:
      return o.filledQuantity.isPositive() ? 'PARTIALLY_CANCELED' : 'CANCELED';
  }
}

/** Private-stream status: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled. */
function wsStatus(o: VenueOrder): number {
  switch (o.status) {
    case 'new':
      return 1;
    case 'filled':
      return 2;
    case 'partially_filled':
      return 3;
    default:
      return o.filledQuantity.isPositive() ? 5 : 4;
  }
}

function wsDeal(f: VenueFill): Record<string, unknown> {
  return {
    price: f.price.toString(),
    quantity: f.quantity.toString(),
    amount: f.price.mul(f.quantity).toString(),
    tradeType: f.side === 'buy' ? 1 : 2,
    isMaker: f.liquidity === 'maker',
    isSelfTrade: false,
    tradeId: f.tradeId,
    clientOrderId: f.clientOrderId,
    orderId: f.exchangeOrderId,
    feeAmount: f.fee.toString(),
    feeCurrency: f.feeAsset,
    time: f.time,
  };
}

/** myTrades row. No `isBuyerMaker`: ccxt would recompute the side from it and call every fill taker. */
function tradeJson(f: VenueFill): Record<string, unknown> {
  return {
    symbol: f.symbol,
    id: f.tradeId,
    orderId: f.exchangeOrderId,
    orderListId: -1,
    price: f.price.toString(),
    qty: f.quantity.toString(),
    quoteQty: f.price.mul(f.quantity).toString(),
    commission: f.fee.toString(),
    commissionAsset: f.feeAsset,
    time: f.time,
    isBuyer: f.side === 'buy',
    isMaker: f.liquidity === 'maker',
    isBestMatch: true,
    isSelfTrade: false,
    clientOrderId: f.clientOrderId,
  };
}

/** A market-data number as a plain decimal string (never exponent notation such as "1e-7"). */
function num(n: number): string {
  return Number.isFinite(n) ? Dec.from(n).toString() : '0';
}

/** Quote volume of a candle, estimated as volume x typical price (candle files carry no quote volume). */
function quoteVolume(c: Candle): string {
  const typical = Dec.from(c.high).add(Dec.from(c.low)).add(Dec.from(c.close)).div(Dec.from(3));
  return Dec.from(c.volume).mul(typical).toFixed(8).replace(/\.?0+$/, '');
}

/** A fee percent (0.05) as the fraction MEXC sends (0.0005). */
function feeFraction(pct: number): string {
  return Dec.from(pct).div(Dec.from(100)).toString();
}

/** Decimals of a step (0.001 → 3); ccxt turns `baseAssetPrecision`/`quoteAssetPrecision` back into 10^-n. */
function decimalsOf(step: Dec): number {
  const s = step.toString();
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

function intParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw param(name);
  return n;
}

function orderRef(get: (k: string) => string | undefined): OrderRef {
  const id = get('orderId');
  if (id) return { exchangeOrderId: id };
  const cid = get('origClientOrderId');
  if (cid) return { clientOrderId: cid };
  throw param('orderId');
}

/** Query-string and body parameters; a key in both takes the query's value (MEXC's rule). */
function parseParams(rawQuery: string, rawBody: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = rawBody.trim();
  if (body.startsWith('{')) {
    try {
      const obj = JSON.parse(body) as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) {
        if (v === null || v === undefined) continue;
        out.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      }
    } catch {
      // Not JSON after all: nothing to take from it.
    }
  } else if (body) {
    for (const [k, v] of new URLSearchParams(body)) out.set(k, v);
  }
  for (const [k, v] of new URLSearchParams(rawQuery)) out.set(k, v);
  return out;
}

/**
 * The signed string: the raw query without its `signature` parameter, then the raw body (without a
 * `signature` parameter there when the signature travels in the body).
 */
function signedPayload(rawQuery: string, rawBody: string): { payload: string; signature: string | undefined } {
  let signature: string | undefined;
  const strip = (s: string): string =>
    s
      .split('&')
      .filter((part) => {
        if (part.startsWith('signature=')) {
          signature ??= part.slice('signature='.length);
          return false;
        }
        return true;
      })
      .join('&');
  const q = rawQuery ? strip(rawQuery) : '';
  const b = rawBody && !rawBody.trim().startsWith('{') ? strip(rawBody) : rawBody;
  return { payload: q + b, signature };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new RangeError('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Which public or private stream a channel name means; undefined for one the simulator does not serve. */
function parseChannel(ch: string): ParsedChannel | undefined {
  if (PRIVATE_CHANNELS.has(ch)) return { kind: 'private' };
  const parts = ch.split('@');
  if (parts[0] !== 'spot') return undefined;
  const sym = (s: string | undefined): SymbolId | undefined => (s && /^[A-Z0-9]{2,20}$/.test(s) ? (s as SymbolId) : undefined);
  switch (parts[1]) {
    case 'public.kline.v3.api.pb': {
      const symbol = sym(parts[2]);
      const iv = INTERVALS.find((i) => i.ws === parts[3]);
      return symbol && iv && parts.length === 4 ? { kind: 'kline', symbol, ms: iv.ms, name: iv.ws } : undefined;
    }
    case 'public.aggre.deals.v3.api.pb':
    case 'public.aggre.bookTicker.v3.api.pb':
    case 'public.aggre.depth.v3.api.pb': {
      const symbol = sym(parts[3]);
      if (!symbol || parts.length !== 4 || (parts[2] !== '100ms' && parts[2] !== '10ms')) return undefined;
      const kind = parts[1] === 'public.aggre.deals.v3.api.pb' ? 'deals' : parts[1] === 'public.aggre.depth.v3.api.pb' ? 'depth' : 'book';
      return { kind, symbol };
    }
    default:
      return undefined;
  }
}
