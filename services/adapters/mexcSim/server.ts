/**
 * A local server that speaks MEXC's spot V3 protocol over loopback, so that unmodified ccxt (and
 * the project's MEXC adapter) can trade against the simulator's matching engine.
 *
 * This file wires the pieces and owns the HTTP server:
 * - `routes.ts`: the REST endpoints; `mexcJson.ts`: MEXC's JSON shapes; `request.ts`: reading a
 *   request (bounded body, strict parameters, `{"code","msg"}` errors); `auth.ts`: HMAC signatures,
 *   recvWindow, listen keys (PROTOCOL.md §1);
 * - `pushHub.ts`: the WebSocket connections and the protobuf pushes (§2, §3);
 * - `marketData.ts`: the public market record (1m candles aggregated by services/candles, trades,
 *   book versions); `replayPump.ts`: drives the replay without blocking the event loop;
 * - `admin.ts`: `/sim/*` (faults, order log, disconnect, stats), loopback callers only by default;
 * - faults (services/sim/faults.ts) applied per request and per pushed frame, switchable on the fly.
 *
 * Market data comes from a CandleReplay (driven in real or accelerated time, or by hand with
 * `advanceReplayTo`) or from `pushMarketData`; it feeds the engine and the subscribers.
 * Auth uses the wall clock (`now`); order times use the market-data clock (the replay's time when a
 * replay drives the server, else `now`).
 *
 * Nothing a client sends may crash the server: a failure while handling one request or one
 * socket is answered or closes that socket, and is logged.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Dec } from '../../core/money.js';
import { DEFAULT_ENGINE_OPTIONS, SimMatchingEngine } from '../../sim/matchingEngine.js';
import { NO_FAULTS, type FaultProfile } from '../../sim/faults.js';
import { marketEventTime } from '../../sim/replay.js';
import { SimRejectError, type MarketDataEvent, type MatchingEngine, type SimMarketSpec } from '../../sim/types.js';
import { adminAllowed, handleAdmin, type AdminAccess } from './admin.js';
import { SimAuth } from './auth.js';
import { FaultController, type FaultCounts } from './faultController.js';
import { isOnMinuteGrid, newSymbolState, recordTrade, storeCandle, windowCandle, type SymbolState } from './marketData.js';
import { PushHub } from './pushHub.js';
import { ReplayPump, type ReplaySource } from './replayPump.js';
import { MAX_BODY_BYTES, MAX_URL_BYTES, RestError, readBody } from './request.js';
import { SimRoutes, type OrderLogEntry } from './routes.js';

export type { ReplaySource } from './replayPump.js';
export type { OrderLogEntry } from './routes.js';
export type { AdminAccess } from './admin.js';

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
   * With a replay: everything before this time is replayed when the server starts (before
   * `startSimServer` resolves), so REST klines serve that much history (a client can warm up its
   * indicators), then the replay runs at `speed` from here.
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
  /** Open WebSocket connections at most (default 200); one more is refused with a 503. */
  readonly maxConnections?: number;
  /** TCP connections (REST and WebSocket) at most (default 1024); the OS-level backstop. */
  readonly maxSockets?: number;
  /** Unsent pushes one client may have waiting before it is cut off as too slow (default 4 MiB). */
  readonly maxBufferedBytesPerConnection?: number;
  /** Unsent pushes of all clients together at most; past it the largest backlogs are cut (default 64 MiB). */
  readonly maxBufferedBytesTotal?: number;
  /** Replay events handed out before the server yields to the event loop while catching up (default 2,000). */
  readonly replayEventsPerTurn?: number;
  /** Who may call `/sim/*` (default: loopback callers only). */
  readonly adminAccess?: AdminAccess;
  readonly log?: (line: string) => void;
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
  /** WebSocket clients cut off because they did not read their pushes. */
  readonly slowConsumersDropped: number;
  /** WebSocket upgrades refused at the connection cap. */
  readonly connectionsRefused: number;
  /** Unsent WebSocket pushes of all clients together, in bytes (bounded by maxBufferedBytesTotal). */
  readonly wsBufferedBytes: number;
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
  /** Advances the replay to `time` (inclusive), at once; returns the number of events emitted. */
  advanceReplayTo(time: number): number;
  /** Every create request that reached the matching engine, oldest first (bounded, see MAX_ORDER_LOG). */
  orderLog(): readonly OrderLogEntry[];
  /** Closes every WebSocket connection from the server side. Returns how many were closed. */
  dropConnections(): number;
  stats(): SimServerStats;
  close(): Promise<void>;
}

/**
 * The `urls` override that points ccxt's MEXC class at a simulator (PROTOCOL.md §5); ccxt
 * deep-merges it into its defaults: `new ccxt.mexc({ apiKey, secret, urls: simCcxtUrls(server) })`.
 * For ccxt.pro, call `await exchange.loadHttpProxyAgent()` before the first watch (plain ws://).
 */
export function simCcxtUrls(server: Pick<SimServer, 'restUrl' | 'wsUrl'>): { api: Record<string, unknown> } {
  const b = server.restUrl;
  return { api: { spot: { public: b, private: b }, contract: { public: `${b}/api/v1/contract`, private: `${b}/api/v1/private` }, ws: { spot: server.wsUrl } } };
}

/** Starts the simulator server; resolves once it listens (and has replayed up to `startAt`). */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const impl = new SimServerImpl(options);
  await impl.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return impl;
}

const MAX_HELD_RESPONSES = 1_000;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MINUTE = 60_000;
const DAY = 86_400_000;

/** Reason phrases of the statuses the server answers with outside the routes. */
const REASON: Readonly<Record<number, string>> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Payload Too Large', 414: 'URI Too Long', 431: 'Request Header Fields Too Large' };

class SimServerImpl implements SimServer {
  readonly engine: MatchingEngine;
  readonly faults: FaultController;
  restUrl = '';
  wsUrl = '';
  port = 0;

  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly http: Server;
  private readonly symbols = new Map<string, SymbolState>();
  private readonly auth: SimAuth;
  private readonly hub: PushHub;
  private readonly routes: SimRoutes;
  private readonly pump: ReplayPump | undefined;
  private readonly adminAccess: AdminAccess;
  private readonly heldResponses = new Set<ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private housekeeping: NodeJS.Timeout | undefined;
  private unsubscribeEngine: () => void;
  private counters = { requests: 0, marketEvents: 0, badEvents: 0 };
  private closed = false;
  /** Time of the latest event pushed by hand (pushMarketData); the market clock never runs behind it. */
  private pushedClock = -Infinity;

  constructor(private readonly options: SimServerOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.engine = options.engine ?? new SimMatchingEngine(DEFAULT_ENGINE_OPTIONS);
    this.faults = new FaultController(options.faults ?? NO_FAULTS, options.faultSeed ?? 1);
    this.adminAccess = options.adminAccess ?? 'loopback';
    this.auth = new SimAuth(options.accounts, this.now, options.listenKeyTtlMs ?? 60 * MINUTE);
    if (options.replay) {
      // Before the first event the market clock sits just before it, so orders placed before the
      // replay starts get a time that sorts before the data.
      const first = options.replay.peekTime();
      this.pump = new ReplayPump(options.replay, (e) => this.ingest(e), first !== undefined ? first - 1 : this.now(), {
        ...(options.replayEventsPerTurn !== undefined ? { maxEventsPerTurn: options.replayEventsPerTurn } : {}),
      });
    }
    for (const spec of options.markets) {
      this.engine.addMarket(spec);
      this.symbols.set(spec.symbol, newSymbolState(spec));
    }
    for (const a of options.accounts) this.engine.openAccount(a.apiKey, a.deposits, this.marketNow());
    this.hub = new PushHub({
      faults: this.faults,
      now: this.now,
      log: this.log,
      maxSubscriptionsPerConnection: options.maxSubscriptionsPerConnection ?? 30,
      maxConnectionMs: options.maxConnectionMs ?? DAY,
      maxConnections: positive(options.maxConnections, 200, 'maxConnections'),
      maxBufferedBytesPerConnection: positive(options.maxBufferedBytesPerConnection, 4 << 20, 'maxBufferedBytesPerConnection'),
      maxBufferedBytesTotal: positive(options.maxBufferedBytesTotal, 64 << 20, 'maxBufferedBytesTotal'),
      hasSymbol: (s) => this.symbols.has(s),
      accountOfListenKey: (lk) => this.auth.accountOfListenKey(lk),
    });
    this.routes = new SimRoutes({
      engine: this.engine,
      auth: this.auth,
      symbols: this.symbols,
      now: this.now,
      marketNow: () => this.marketNow(),
      log: this.log,
      closeListenKey: (lk, reason) => this.hub.closeListenKey(lk, reason),
    });
    this.unsubscribeEngine = this.engine.onEvent((e) => this.hub.pushEngineEvent(e, (id) => this.routes.quoteRequestOf(id)));
    this.http = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => this.failed(res, `${req.method ?? '?'} request`, err));
    });
    this.http.keepAliveTimeout = 5_000;
    this.http.maxConnections = positive(options.maxSockets, 1024, 'maxSockets');
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.hub.handleUpgrade(req, socket, head));
    this.http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.onClientError(err, socket));
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
    if (this.pump && this.options.startAt !== undefined) await this.pump.catchUpTo(this.options.startAt);
    const speed = this.options.speed ?? 0;
    if (this.pump && speed > 0 && !this.closed) this.pump.start(speed, this.now);
    this.log(`mexc-sim listening on ${this.restUrl} (ws ${this.wsUrl})`);
  }

  // ---------------------------------------------------------------- market data

  private marketNow(): number {
    return this.pump ? Math.max(this.pump.clock, this.pushedClock) : this.now();
  }

  pushMarketData(e: MarketDataEvent): void {
    // A pushed event is the market at its time: orders placed after it are stamped no earlier, as a
    // real venue's would be (a manual-mode replay's clock otherwise stays where the replay stopped).
    this.pushedClock = Math.max(this.pushedClock, marketEventTime(e));
    this.ingest(e);
  }

  advanceReplayTo(time: number): number {
    return this.pump ? this.pump.advanceTo(time) : 0;
  }

  private ingest(e: MarketDataEvent): void {
    const st = this.symbols.get(e.symbol);
    if (!st) return;
    this.counters.marketEvents++;
    if (e.type === 'kline' && e.interval === '1m' && !isOnMinuteGrid(e.candle)) {
      // Every interval is aggregated from the 1m candles on the UTC grid; one off it is refused.
      this.counters.badEvents++;
      this.log(`market data refused (kline ${e.symbol}): open time ${e.candle.openTime} is not on the minute grid`);
      return;
    }
    try {
      this.engine.onMarketData(e);
    } catch (err) {
      // A bad event must not take the server (or the replay timer) down: count it and go on.
      this.counters.badEvents++;
      this.log(`market data refused by the engine (${e.type} ${e.symbol}): ${(err as Error).message}`);
      return;
    }
    const symbol = st.spec.symbol;
    if (e.type === 'trade') {
      recordTrade(st, e.trade);
      this.hub.pushDeals(symbol, e.trade.price, e.trade.quantity, e.trade.buyerMaker, e.trade.time);
    } else if (e.type === 'book') {
      st.lastTime = Math.max(st.lastTime, e.book.time);
      st.bookVersion++;
      this.hub.pushBook(symbol, e.book, st.prevBid, st.prevAsk, st.bookVersion);
      st.prevBid = e.book.bid;
      st.prevAsk = e.book.ask;
    } else if (e.interval === '1m') {
      storeCandle(st, e.candle, e.closed, e.time);
      this.hub.pushKlines(symbol, e.candle.openTime, e.time, (iv) => windowCandle(st, iv, e.candle.openTime));
    }
  }

  // ---------------------------------------------------------------- REST

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counters.requests++;
    const url = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.length > MAX_URL_BYTES) {
      req.resume();
      this.reply(res, 414, { code: 414, msg: `request target longer than ${MAX_URL_BYTES} bytes` }, { Connection: 'close' });
      return;
    }
    const qi = url.indexOf('?');
    const path = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const admin = path.startsWith('/sim/');
    if (admin && !adminAllowed(this.adminAccess, req.socket.remoteAddress)) {
      req.resume();
      this.log(`admin ${method} ${path} refused for ${req.socket.remoteAddress ?? 'an unknown address'}`);
      this.reply(res, 403, { code: 403, msg: 'the simulator admin API answers loopback callers only' });
      return;
    }
    const read = await readBody(req);
    if (!read.ok) {
      // The remainder of an oversized body is read and dropped, so the client gets this answer.
      if (read.reason === 'tooLarge') this.reply(res, 413, { code: 413, msg: `request body larger than ${MAX_BODY_BYTES} bytes` }, { Connection: 'close' });
      else res.destroy();
      return;
    }
    const rawBody = read.body;
    if (admin) {
      const r = handleAdmin(
        { faults: this.faults, orderLog: () => this.orderLog(), dropConnections: () => this.dropConnections(), stats: () => this.stats(), log: this.log },
        method,
        path,
        rawBody,
      );
      this.reply(res, r.status, r.body);
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
      body = this.routes.route(method, path, rawQuery, rawBody, req.headers);
    } catch (e) {
      if (e instanceof RestError || e instanceof SimRejectError) {
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

  /** A request whose handling failed unexpectedly: logged, answered 500 if still possible. */
  private failed(res: ServerResponse, what: string, err: unknown): void {
    this.log(`error handling ${what}: ${err instanceof Error ? err.message : String(err)}`);
    try {
      if (!res.headersSent) this.reply(res, 500, { code: 500, msg: 'Internal error' });
      else res.destroy();
    } catch {
      res.destroy();
    }
  }

  /**
   * A request Node's parser refused (headers or URL past its limit, malformed syntax, a timeout):
   * answered in MEXC's shape instead of Node's bare default, then the connection is closed.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ code: status, msg: status === 431 ? 'request line and headers too large' : status === 408 ? 'request timeout' : 'malformed request' });
    socket.end(`HTTP/1.1 ${status} ${REASON[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
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

  // ---------------------------------------------------------------- housekeeping, admin, lifecycle

  /** Once a second: expired listen keys and their connections; the bound on unsent pushes. */
  private sweep(): void {
    for (const lk of this.auth.sweepExpired()) this.hub.closeListenKey(lk, 'listen key expired');
    this.hub.enforceMemoryBound();
  }

  dropConnections(): number {
    return this.hub.dropConnections();
  }

  orderLog(): readonly OrderLogEntry[] {
    return this.routes.orderLog();
  }

  stats(): SimServerStats {
    const h = this.hub.stats();
    return {
      connections: h.connections,
      subscriptions: h.subscriptions,
      requests: this.counters.requests,
      ordersPlaced: this.routes.placed,
      ordersRejected: this.routes.rejected,
      framesSent: h.framesSent,
      marketEvents: this.counters.marketEvents,
      badMarketEvents: this.counters.badEvents,
      marketTime: this.marketNow(),
      replayDone: this.pump?.done ?? false,
      listenKeys: this.auth.listenKeyCount,
      faultsInjected: this.faults.injected(),
      slowConsumersDropped: h.slowConsumersDropped,
      connectionsRefused: h.connectionsRefused,
      wsBufferedBytes: h.bufferedBytes,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pump?.stop();
    if (this.housekeeping) clearInterval(this.housekeeping);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.unsubscribeEngine();
    for (const res of this.heldResponses) res.destroy();
    this.heldResponses.clear();
    await this.hub.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/** An optional positive integer option, or its default; RangeError naming the option otherwise. */
function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`simulator option ${name}: expected a positive integer, got ${v}`);
  return v;
}
