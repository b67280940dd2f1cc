/**
 * The simulator's WebSocket side (`/ws`, `?listenKey=` for the private streams): the upgrade, the
 * connections and their subscriptions (SUBSCRIPTION / UNSUBSCRIPTION / PING with text acks), and
 * the binary protobuf pushes of market data and account events, each through the fault controller.
 *
 * Nothing a client sends or fails to read may hurt the server or the other clients:
 * - an upgrade is parsed without `new URL` (a target such as `http://[::1/ws` made it throw) and
 *   any failure in it only closes that socket;
 * - connections are capped (`maxConnections`); one past the cap is refused with a 503;
 * - a client that does not read is cut off once `maxBufferedBytesPerConnection` of pushes wait for
 *   it, and the largest backlogs are cut while all of them together pass `maxBufferedBytesTotal`,
 *   so the process's memory stays bounded whatever the clients do;
 * - a connection whose socket has died is removed before anything is written to it (a write to a
 *   dead socket costs an error object with a stack trace per frame).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Candle } from '../../core/types.js';
import type { EngineEvent } from '../../sim/types.js';
import {
  AGGREGATION_SPEEDS,
  BOOK_TICKER_STREAM,
  CH_ACCOUNT,
  CH_DEALS,
  CH_ORDERS,
  DEALS_STREAM,
  DEPTH_STREAM,
  INTERVALS,
  PRIVATE_CHANNELS,
  klineChannel,
  parseChannel,
  type MexcInterval,
} from './channels.js';
import type { FaultController } from './faultController.js';
import { num, quoteVolume, wsAccount, wsDeal, wsOrder } from './mexcJson.js';
import { encodePush, type PushFrame } from './proto.js';

/** Limits and collaborators of a PushHub. */
export interface PushHubOptions {
  readonly faults: FaultController;
  /** Wall clock (silences, connection age). */
  readonly now: () => number;
  readonly log: (line: string) => void;
  /** MEXC allows 30 subscriptions per connection. */
  readonly maxSubscriptionsPerConnection: number;
  /** MEXC closes connections after 24 h. */
  readonly maxConnectionMs: number;
  /** Open WebSocket connections at most; one more is refused (503). */
  readonly maxConnections: number;
  /** Pushes waiting for one client at most, in bytes, before it is cut off as too slow. */
  readonly maxBufferedBytesPerConnection: number;
  /** Pushes waiting for all clients together at most; past it the largest backlogs are cut. */
  readonly maxBufferedBytesTotal: number;
  /** Whether the server has this symbol (public channels of other symbols are refused). */
  readonly hasSymbol: (symbol: string) => boolean;
  /** The account of a live listen key, undefined for an unknown or expired one. */
  readonly accountOfListenKey: (listenKey: string) => string | undefined;
}

/** What the hub counts. */
export interface PushHubStats {
  readonly connections: number;
  readonly subscriptions: number;
  readonly framesSent: number;
  /** Connections cut off because they did not read their pushes (per-connection or total bound). */
  readonly slowConsumersDropped: number;
  /** Upgrades refused because the connection cap was reached. */
  readonly connectionsRefused: number;
  /** Pushes waiting to be written to all clients together, in bytes (what maxBufferedBytesTotal bounds). */
  readonly bufferedBytes: number;
}

/** A frame held back for reordering is sent anyway after this long if no other frame follows. */
const HELD_FRAME_FLUSH_MS = 1_000;
/** setTimeout's largest delay (about 24.8 days); a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * The total backlog is checked each time this fraction of maxBufferedBytesTotal has been written
 * (and by the once-a-second sweep), so it can pass the bound by that fraction and one frame at most,
 * whatever the frames' size. (A check every 4,096 frames let it pass by 4,096 frames: 350 KB of
 * book pushes past a 512 KB bound.)
 */
const TOTAL_CHECK_FRACTION = 16;
/** Largest inbound message (a subscription list); MEXC's requests are small. */
const MAX_INBOUND_BYTES = 64 * 1024;

interface Conn {
  readonly id: number;
  readonly ws: WebSocket;
  readonly socket: Duplex;
  readonly account: string | undefined;
  readonly listenKey: string | undefined;
  readonly subs: Set<string>;
  silentUntil: number;
  held: Uint8Array | undefined;
  heldTimer: NodeJS.Timeout | undefined;
  ageTimer: NodeJS.Timeout | undefined;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 503: 'Service Unavailable' };

/** Answers an upgrade that will not become a WebSocket: MEXC's `{"code","msg"}` body, then close. */
function refuseUpgrade(socket: Duplex, status: number, msg: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ code: status, msg });
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The WebSocket connections of the simulator and everything pushed to them. */
export class PushHub {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_INBOUND_BYTES });
  private readonly conns = new Set<Conn>();
  /** Channel (private: `account|channel`) → subscribed connections. */
  private readonly channelSubs = new Map<string, Set<Conn>>();
  private connSeq = 0;
  private frames = 0;
  /** Bytes handed to the sockets since the total backlog was last checked. */
  private bytesSinceCheck = 0;
  private readonly checkEveryBytes: number;
  private slowDropped = 0;
  private refused = 0;
  private closed = false;

  constructor(private readonly o: PushHubOptions) {
    this.checkEveryBytes = Math.max(1, Math.floor(o.maxBufferedBytesTotal / TOTAL_CHECK_FRACTION));
  }

  // ---------------------------------------------------------------- connections

  /** The HTTP server's `upgrade` event. Never throws: whatever goes wrong closes this socket only. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A reset during the handshake concerns this client only (an unhandled 'error' would crash us).
    socket.on('error', () => socket.destroy());
    try {
      // Only the origin form `/ws?listenKey=...` is served; it is split by hand because `new URL`
      // throws on targets such as `http://[::1/ws`, and URLSearchParams never throws.
      const target = req.url ?? '';
      const qi = target.indexOf('?');
      const path = qi < 0 ? target : target.slice(0, qi);
      if (this.closed || path !== '/ws') {
        refuseUpgrade(socket, 404, 'Not Found');
        return;
      }
      if (this.conns.size >= this.o.maxConnections) {
        this.refused++;
        this.o.log(`ws: connection refused, ${this.conns.size} open (the cap)`);
        refuseUpgrade(socket, 503, `too many connections (at most ${this.o.maxConnections})`);
        return;
      }
      const key = qi < 0 ? null : new URLSearchParams(target.slice(qi + 1)).get('listenKey');
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onOpen(ws, socket, key));
    } catch (err) {
      this.o.log(`ws: upgrade failed: ${(err as Error).message}`);
      socket.destroy();
    }
  }

  private onOpen(ws: WebSocket, socket: Duplex, key: string | null): void {
    if (this.closed || this.conns.size >= this.o.maxConnections) {
      // Others completed their handshakes first: 1013 = try again later.
      this.refused++;
      ws.close(1013, 'too many connections');
      return;
    }
    if (key !== null) {
      const account = this.o.accountOfListenKey(key);
      if (account === undefined) {
        // What MEXC sends; ccxt turns it into an AuthenticationError.
        ws.send('Invalid listen key');
        ws.close(1000);
        return;
      }
      this.addConn(ws, socket, account, key);
    } else {
      this.addConn(ws, socket, undefined, undefined);
    }
  }

  private addConn(ws: WebSocket, socket: Duplex, account: string | undefined, listenKey: string | undefined): void {
    const c: Conn = { id: ++this.connSeq, ws, socket, account, listenKey, subs: new Set(), silentUntil: 0, held: undefined, heldTimer: undefined, ageTimer: undefined };
    this.conns.add(c);
    c.ageTimer = setTimeout(() => {
      this.o.log(`ws#${c.id}: connection older than ${this.o.maxConnectionMs} ms, closing`);
      ws.close(1000, 'connection lifetime exceeded');
    }, Math.min(this.o.maxConnectionMs, MAX_TIMER_MS));
    c.ageTimer.unref();
    // The account id is the API key: a log line shows only enough of it to tell accounts apart.
    this.o.log(`ws#${c.id} connected${account ? ` (private, account ${maskedKey(account)})` : ''}`);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        this.onText(c, Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
      } catch (err) {
        // A request we fail to handle concerns this client only.
        this.o.log(`ws#${c.id}: message not handled: ${(err as Error).message}`);
      }
    });
    ws.on('close', () => this.removeConn(c));
    ws.on('error', () => this.removeConn(c));
  }

  private removeConn(c: Conn): void {
    if (!this.conns.delete(c)) return;
    if (c.ageTimer) clearTimeout(c.ageTimer);
    if (c.heldTimer) clearTimeout(c.heldTimer);
    c.held = undefined;
    for (const ch of c.subs) this.unsub(c, ch);
    this.o.log(`ws#${c.id} closed`);
  }

  /** Cuts a connection off at once (no close handshake: the client may not be reading). */
  private cut(c: Conn, why: string): void {
    this.o.log(`ws#${c.id}: ${why}, closing`);
    c.ws.terminate();
    this.removeConn(c);
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

  private onText(c: Conn, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return; // MEXC ignores what it cannot parse; so do we.
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { method?: unknown; params?: unknown; id?: unknown };
    const id = typeof m.id === 'number' && Number.isInteger(m.id) && m.id >= 0 ? m.id : 0;
    const method = typeof m.method === 'string' ? m.method.toUpperCase() : '';
    const params = Array.isArray(m.params) ? m.params.filter((p): p is string => typeof p === 'string') : [];
    if (method === 'PING') {
      this.sendText(c, { id, code: 0, msg: 'PONG' });
    } else if (method === 'SUBSCRIPTION') {
      const ok: string[] = [];
      const rejected: string[] = [];
      for (const ch of params) {
        if (c.subs.has(ch)) ok.push(ch);
        else if (c.subs.size >= this.o.maxSubscriptionsPerConnection || !this.validChannel(c, ch)) rejected.push(ch);
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
    return this.o.hasSymbol(p.symbol);
  }

  /** Closes every connection from the server side; returns how many were closed. */
  dropConnections(): number {
    let n = 0;
    for (const c of [...this.conns]) {
      c.ws.terminate();
      this.removeConn(c);
      n++;
    }
    return n;
  }

  /** Closes the connections opened with a listen key (it expired or was deleted). */
  closeListenKey(listenKey: string, reason: string): void {
    for (const c of this.conns) {
      if (c.listenKey !== listenKey) continue;
      this.o.log(`ws#${c.id}: ${reason}, closing`);
      c.ws.close(1000, reason);
    }
  }

  /**
   * Cuts the largest backlogs while all clients' unsent pushes together exceed the total bound.
   * Called once a second and each time a sixteenth of the bound has been written.
   */
  enforceMemoryBound(): void {
    this.bytesSinceCheck = 0;
    let total = 0;
    for (const c of this.conns) total += c.ws.bufferedAmount;
    while (total > this.o.maxBufferedBytesTotal) {
      let worst: Conn | undefined;
      for (const c of this.conns) if (!worst || c.ws.bufferedAmount > worst.ws.bufferedAmount) worst = c;
      if (!worst || worst.ws.bufferedAmount === 0) return;
      total -= worst.ws.bufferedAmount;
      this.slowDropped++;
      this.cut(worst, `client too slow (${worst.ws.bufferedAmount} bytes queued, ${total + worst.ws.bufferedAmount} for all clients)`);
    }
  }

  stats(): PushHubStats {
    let subscriptions = 0;
    let bufferedBytes = 0;
    for (const c of this.conns) {
      subscriptions += c.subs.size;
      bufferedBytes += c.ws.bufferedAmount;
    }
    return { connections: this.conns.size, subscriptions, framesSent: this.frames, slowConsumersDropped: this.slowDropped, connectionsRefused: this.refused, bufferedBytes };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropConnections();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ---------------------------------------------------------------- market-data pushes

  /** Pushes the kline of every subscribed interval whose window holds `openTime`; `windowOf` builds it. */
  pushKlines(symbol: string, openTime: number, time: number, windowOf: (iv: MexcInterval) => Candle | undefined): void {
    for (const iv of INTERVALS) {
      const channel = klineChannel(symbol, iv);
      const subs = this.channelSubs.get(channel);
      if (!subs || subs.size === 0) continue;
      const k = windowOf(iv);
      if (!k) continue;
      const start = k.openTime;
      this.broadcast(subs, {
        channel,
        symbol,
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
   * each speed MEXC offers; `data` builds the body for a speed's channel.
   */
  private pushAggregated(symbol: string, stream: string, body: PushFrame['body'], time: number, data: (eventType: string) => Record<string, unknown>): void {
    for (const speed of AGGREGATION_SPEEDS) {
      const channel = `spot@${stream}@${speed}@${symbol}`;
      const subs = this.channelSubs.get(channel);
      if (!subs || subs.size === 0) continue;
      this.broadcast(subs, { channel, symbol, createTime: time, sendTime: time, body, data: data(`spot@${stream}@${speed}`) });
    }
  }

  /** A public trade. tradeType 1 = the aggressor bought, 2 = sold (the buyer was the maker). */
  pushDeals(symbol: string, price: number, qty: number, buyerMaker: boolean, time: number): void {
    this.pushAggregated(symbol, DEALS_STREAM, 'publicAggreDeals', time, (eventType) => ({
      deals: [{ price: num(price), quantity: num(qty), tradeType: buyerMaker ? 2 : 1, time }],
      eventType,
    }));
  }

  /** A new book top: the book ticker, and a depth update (with the previous best deleted when it moved). */
  pushBook(
    symbol: string,
    book: { readonly bid: number; readonly bidSize: number; readonly ask: number; readonly askSize: number; readonly time: number },
    prevBid: number | undefined,
    prevAsk: number | undefined,
    version: number,
  ): void {
    const { bid, bidSize, ask, askSize, time } = book;
    this.pushAggregated(symbol, BOOK_TICKER_STREAM, 'publicAggreBookTicker', time, () => ({
      bidPrice: num(bid),
      bidQuantity: num(bidSize),
      askPrice: num(ask),
      askQuantity: num(askSize),
    }));
    // Depth: one level a side, the new best, and a zero quantity to delete the old best when it moved.
    const bids = [{ price: num(bid), quantity: num(bidSize) }];
    if (prevBid !== undefined && prevBid !== bid) bids.push({ price: num(prevBid), quantity: '0' });
    const asks = [{ price: num(ask), quantity: num(askSize) }];
    if (prevAsk !== undefined && prevAsk !== ask) asks.push({ price: num(prevAsk), quantity: '0' });
    const v = String(version);
    this.pushAggregated(symbol, DEPTH_STREAM, 'publicAggreDepths', time, (eventType) => ({ asks, bids, eventType, fromVersion: v, toVersion: v }));
  }

  // ---------------------------------------------------------------- account pushes

  /** An engine event to the account's private subscribers; `quoteRequestOf` gives a market order's requested quote amount. */
  pushEngineEvent(e: EngineEvent, quoteRequestOf: (exchangeOrderId: string) => string | undefined): void {
    const time = e.type === 'balance' ? e.time : e.type === 'order' ? e.order.updateTime : e.fill.time;
    if (e.type === 'order') {
      const subs = this.channelSubs.get(`${e.account}|${CH_ORDERS}`);
      if (subs?.size) this.broadcast(subs, { channel: CH_ORDERS, symbol: e.order.symbol, createTime: time, sendTime: time, body: 'privateOrders', data: wsOrder(e.order, quoteRequestOf(e.order.exchangeOrderId)) });
    } else if (e.type === 'fill') {
      const subs = this.channelSubs.get(`${e.account}|${CH_DEALS}`);
      if (subs?.size) this.broadcast(subs, { channel: CH_DEALS, symbol: e.fill.symbol, createTime: time, sendTime: time, body: 'privateDeals', data: wsDeal(e.fill) });
    } else {
      const subs = this.channelSubs.get(`${e.account}|${CH_ACCOUNT}`);
      if (subs?.size) this.broadcast(subs, { channel: CH_ACCOUNT, createTime: time, sendTime: time, body: 'privateAccount', data: wsAccount(e, time) });
    }
  }

  // ---------------------------------------------------------------- sending

  private broadcast(subs: Iterable<Conn>, frame: PushFrame): void {
    const bytes = encodePush(frame);
    // A copy: a connection cut while sending leaves the set.
    for (const c of [...subs]) this.sendFrame(c, frame.channel, bytes);
  }

  /**
   * Whether a connection can take one more message; cuts it off when its socket is dead or it has
   * let too much pile up.
   */
  private writable(c: Conn): boolean {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    if (c.socket.destroyed || !c.socket.writable) {
      this.cut(c, 'socket gone');
      return false;
    }
    if (c.ws.bufferedAmount > this.o.maxBufferedBytesPerConnection) {
      this.slowDropped++;
      this.cut(c, `client too slow (${c.ws.bufferedAmount} bytes queued)`);
      return false;
    }
    return true;
  }

  /** Sends one push to one connection, through the fault controller. */
  private sendFrame(c: Conn, channel: string, bytes: Uint8Array): void {
    if (!this.writable(c)) return;
    const wall = this.o.now();
    if (c.silentUntil > wall) return;
    const d = this.o.faults.forFrame(channel);
    switch (d.fault) {
      case 'disconnect':
        this.o.log(`fault: ws#${c.id} disconnected`);
        c.ws.terminate();
        return;
      case 'silence':
        this.o.log(`fault: ws#${c.id} silent for ${d.silenceMs ?? 0} ms`);
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
    if (held && this.writable(c)) this.rawSend(c, held);
  }

  private rawSend(c: Conn, bytes: Uint8Array): void {
    this.frames++;
    c.ws.send(bytes, { binary: true });
    this.wrote(bytes.length);
  }

  private sendText(c: Conn, obj: unknown): void {
    if (!this.writable(c)) return;
    const text = JSON.stringify(obj);
    c.ws.send(text);
    this.wrote(text.length);
  }

  private wrote(bytes: number): void {
    this.bytesSinceCheck += bytes;
    if (this.bytesSinceCheck >= this.checkEveryBytes) this.enforceMemoryBound();
  }
}

/** An API key for a log line: its first 4 characters and its length (`mx0v…(36)`), never the whole key. */
export function maskedKey(key: string): string {
  return `${key.slice(0, Math.min(4, Math.floor(key.length / 4)))}…(${key.length})`;
}
