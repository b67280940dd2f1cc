/**
 * The simulator's WebSocket hub under load and against dead sockets (issue 15, defect 5): many
 * clients that never read must not take the process's memory with them (the largest backlogs are
 * cut first, and all unsent pushes together stay bounded), and a push to a socket that has died
 * must cost nothing: no write to it, no error per frame, and the connection leaves the hub.
 *
 * The hub is driven directly over a real HTTP server and real sockets, so the test sees the
 * server-side socket of every connection (the SimServer keeps them to itself).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { BOOK_TICKER_STREAM, DEPTH_STREAM } from '../../services/adapters/mexcSim/channels.js';
import { FaultController } from '../../services/adapters/mexcSim/faultController.js';
import { PushHub, type PushHubOptions } from '../../services/adapters/mexcSim/pushHub.js';

const SYMBOL = 'BTCUSDT';
const BOOK_CHANNELS = [BOOK_TICKER_STREAM, DEPTH_STREAM].flatMap((s) => ['100ms', '10ms'].map((sp) => `spot@${s}@${sp}@${SYMBOL}`));

interface Rig {
  readonly hub: PushHub;
  readonly url: string;
  readonly log: string[];
  /** Server-side sockets, in connection order (connection ids count from 1 in the same order). */
  readonly sockets: Duplex[];
  /** Writes made to a server-side socket that was already destroyed or no longer writable. */
  deadWrites: number;
  /** 'error' events on the server-side sockets. */
  readonly socketErrors: Error[];
}

let rigs: { hub: PushHub; http: Server; clients: WebSocket[] }[] = [];

afterEach(async () => {
  for (const r of rigs) {
    for (const c of r.clients) c.terminate();
    await r.hub.close();
    r.http.closeAllConnections();
    await new Promise<void>((resolve) => r.http.close(() => resolve()));
  }
  rigs = [];
});

async function rig(limits: Partial<PushHubOptions>, clients: WebSocket[]): Promise<Rig> {
  const log: string[] = [];
  const hub = new PushHub({
    faults: new FaultController(),
    now: () => Date.now(),
    log: (l) => log.push(l),
    maxSubscriptionsPerConnection: 30,
    maxConnectionMs: 86_400_000,
    maxConnections: 200,
    maxBufferedBytesPerConnection: 1 << 30,
    maxBufferedBytesTotal: 1 << 30,
    hasSymbol: (s) => s === SYMBOL,
    accountOfListenKey: () => undefined,
    ...limits,
  });
  const r: Rig = { hub, url: '', log, sockets: [], deadWrites: 0, socketErrors: [] };
  const http = createServer();
  http.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    r.sockets.push(socket);
    socket.on('error', (e) => r.socketErrors.push(e));
    const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
    socket.write = ((...a: unknown[]) => {
      if (socket.destroyed || !socket.writable) r.deadWrites++;
      return write(...a);
    }) as typeof socket.write;
    hub.handleUpgrade(req, socket, head);
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  rigs.push({ hub, http, clients });
  return Object.assign(r, { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/ws` });
}

async function subscribed(url: string, channels: readonly string[], clients: WebSocket[]): Promise<WebSocket> {
  const ws = new WebSocket(url);
  clients.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ method: 'SUBSCRIPTION', params: channels, id: 1 }));
  await new Promise<void>((resolve) => ws.once('message', () => resolve()));
  return ws;
}

let seq = 0;
/** One book update: a push on each of the four book channels (bookTicker and depth, two speeds). */
function pushBook(hub: PushHub): void {
  const n = seq++;
  const p = 50_000 + (n % 100);
  hub.pushBook(SYMBOL, { bid: p - 0.01, bidSize: 1, ask: p + 0.01, askSize: 1, time: 1_767_614_400_000 + n }, p - 0.02, p + 0.02, n);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** The connection ids cut off as too slow, in order, with the backlog each had when cut. */
function slowCuts(log: readonly string[]): { id: number; queued: number }[] {
  return log.flatMap((l) => {
    const m = /^ws#(\d+): client too slow \((\d+) bytes queued/.exec(l);
    return m ? [{ id: Number(m[1]), queued: Number(m[2]) }] : [];
  });
}

describe('many clients that never read (defect 5)', () => {
  it('cuts the largest backlogs first and keeps all unsent pushes together bounded', async () => {
    const TOTAL = 512 * 1024;
    const clients: WebSocket[] = [];
    // The per-connection bound is out of reach: only the total bound may cut anyone here.
    const r = await rig({ maxBufferedBytesTotal: TOTAL }, clients);
    // Connections 1-6 take one book channel, 7-12 all four: the heavy ones fall behind four times
    // as fast, so the total bound must cut all of them before any light one (opened first, so a
    // hub cutting in connection order would cut them first).
    const HEAVY = 6;
    for (let i = 0; i < 6; i++) (await subscribed(r.url, [BOOK_CHANNELS[0]!], clients)).pause();
    for (let i = 0; i < HEAVY; i++) (await subscribed(r.url, BOOK_CHANNELS, clients)).pause();
    expect(r.hub.stats()).toMatchObject({ connections: 12, subscriptions: HEAVY * 4 + 6 });

    // The hub checks the total each time a sixteenth of the bound has been written: between two
    // checks it may pass the bound by that much and one frame (a book push is well under 200 bytes).
    const bound = TOTAL + TOTAL / 16 + 200;
    let peak = 0;
    const push200 = (): void => {
      for (let j = 0; j < 200; j++) {
        pushBook(r.hub);
        if (j % 10 === 0) peak = Math.max(peak, r.hub.stats().bufferedBytes);
      }
    };
    for (let batch = 0; batch < 2_000 && r.hub.stats().slowConsumersDropped < HEAVY; batch++) {
      push200();
      await turn();
    }
    const cuts = slowCuts(r.log);
    expect(cuts.length).toBeGreaterThanOrEqual(HEAVY);
    // The heavy connections go first, every one of them before any light one.
    expect(cuts.slice(0, HEAVY).map((c) => c.id).sort((a, b) => a - b)).toEqual([7, 8, 9, 10, 11, 12]);
    expect(cuts.every((c) => c.queued > 0)).toBe(true);
    // Keep pushing to the light ones: they fall behind too, and the total still stays bounded.
    for (let batch = 0; batch < 2_000 && r.hub.stats().slowConsumersDropped < HEAVY + 1; batch++) {
      push200();
      await turn();
    }
    expect(r.hub.stats().slowConsumersDropped).toBe(HEAVY + 1);
    expect(peak).toBeGreaterThan(TOTAL / 2); // the clients did fall behind: the bound was put to work
    expect(peak).toBeLessThanOrEqual(bound);
    // A cut connection is gone from the hub, its subscriptions with it.
    const s = r.hub.stats();
    expect(s.connections).toBe(12 - s.slowConsumersDropped);
    expect(s).toMatchObject({ connections: 5, subscriptions: 5 });
  });
});

describe('a push to a socket that has died (defect 5)', () => {
  it('after the client terminated: no write to the dead socket, no error per frame, and the connection leaves the hub', async () => {
    const clients: WebSocket[] = [];
    const r = await rig({}, clients);
    const a = await subscribed(r.url, BOOK_CHANNELS, clients);
    const b = await subscribed(r.url, BOOK_CHANNELS, clients);
    b.pause();
    a.terminate();
    b.terminate();
    // Pushes in the same turn (the server has not seen the close yet) and in the turns after.
    for (let j = 0; j < 500; j++) pushBook(r.hub);
    for (let t = 0; t < 200 && r.hub.stats().connections > 0; t++) {
      for (let j = 0; j < 50; j++) pushBook(r.hub);
      await turn();
    }
    expect(r.hub.stats()).toMatchObject({ connections: 0, subscriptions: 0 });
    expect(r.deadWrites).toBe(0);
    // At most the kernel's one reset per socket surfaces as an error, never one per frame.
    expect(r.socketErrors.length).toBeLessThanOrEqual(2);
    expect(r.log.filter((l) => /\n\s+at /.test(l) || /Error/.test(l))).toEqual([]);
    // Pushing on with nobody connected costs nothing either.
    const frames = r.hub.stats().framesSent;
    for (let j = 0; j < 100; j++) pushBook(r.hub);
    expect(r.hub.stats().framesSent).toBe(frames);
  });

  it('after its server-side socket was destroyed under it: the next push drops the connection without writing', async () => {
    const clients: WebSocket[] = [];
    const r = await rig({}, clients);
    await subscribed(r.url, BOOK_CHANNELS, clients);
    const good = await subscribed(r.url, [BOOK_CHANNELS[0]!], clients);
    const got: unknown[] = [];
    good.on('message', (d) => got.push(d));
    // The socket dies (a reset, an EPIPE) and the WebSocket has not heard of it yet: it is still OPEN.
    r.sockets[0]!.destroy();
    for (let j = 0; j < 100; j++) pushBook(r.hub);
    expect(r.deadWrites).toBe(0);
    expect(r.hub.stats().connections).toBe(1);
    expect(r.log).toContain('ws#1: socket gone, closing');
    // The other client is served as before.
    for (let t = 0; t < 100 && got.length < 100; t++) await turn();
    expect(got.length).toBe(100);
    expect(r.socketErrors).toEqual([]);
  });
});

/** A connection whose backlog the test sets: a WebSocket that never drains, over a socket that is alive. */
class FakeWs extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  terminated = false;
  send(data: Uint8Array | string): void {
    this.bufferedAmount += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }
  close(): void {
    this.terminate();
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = WebSocket.CLOSED;
    this.emit('close');
  }
}

function fakeHub(total: number): { hub: PushHub; log: string[]; open: (channels: readonly string[]) => FakeWs } {
  const log: string[] = [];
  const hub = new PushHub({
    faults: new FaultController(),
    now: () => 0,
    log: (l) => log.push(l),
    maxSubscriptionsPerConnection: 30,
    maxConnectionMs: 86_400_000,
    maxConnections: 200,
    maxBufferedBytesPerConnection: 1 << 30,
    maxBufferedBytesTotal: total,
    hasSymbol: (s) => s === SYMBOL,
    accountOfListenKey: () => undefined,
  });
  // The hub's own step after a handshake, with the fake in place of the WebSocket.
  const onOpen = (hub as unknown as { onOpen(ws: unknown, socket: unknown, key: string | null): void }).onOpen.bind(hub);
  const open = (channels: readonly string[]): FakeWs => {
    const ws = new FakeWs();
    onOpen(ws, { destroyed: false, writable: true }, null);
    ws.emit('message', Buffer.from(JSON.stringify({ method: 'SUBSCRIPTION', params: channels, id: 1 })), false);
    ws.bufferedAmount = 0; // the ack
    return ws;
  };
  return { hub, log, open };
}

describe('the total bound, with backlogs set exactly (defect 5)', () => {
  it('cuts exactly the largest backlogs, largest first, until the rest fit under the bound', () => {
    const { hub, log, open } = fakeHub(300_000);
    // Backlogs in an order unrelated to their size: 10 KB to 100 KB, 550 KB in all.
    const sizes = [40, 100, 10, 70, 20, 90, 50, 30, 80, 60].map((k) => k * 1_000);
    const conns = sizes.map((b) => Object.assign(open([BOOK_CHANNELS[0]!]), { bufferedAmount: b }));
    hub.enforceMemoryBound();
    // 550 - 100 - 90 - 80 = 280 KB fits: those three go, in that order, and nobody else.
    expect(slowCuts(log).map((c) => c.queued)).toEqual([100_000, 90_000, 80_000]);
    expect(conns.filter((c) => c.terminated).map((c) => c.bufferedAmount).sort((a, b) => b - a)).toEqual([100_000, 90_000, 80_000]);
    expect(hub.stats()).toMatchObject({ connections: 7, slowConsumersDropped: 3, bufferedBytes: 280_000 });
    // Under the bound nothing is cut.
    hub.enforceMemoryBound();
    expect(hub.stats().connections).toBe(7);
  });

  it('checks the total while pushing, so it never passes the bound by more than a sixteenth and a frame', () => {
    const TOTAL = 64 * 1024;
    const { hub, log, open } = fakeHub(TOTAL);
    const conns = [...Array.from({ length: 5 }, () => open([BOOK_CHANNELS[0]!])), ...Array.from({ length: 5 }, () => open(BOOK_CHANNELS))];
    let peak = 0;
    for (let i = 0; i < 5_000; i++) {
      pushBook(hub);
      peak = Math.max(peak, hub.stats().bufferedBytes);
    }
    expect(peak).toBeGreaterThan(TOTAL);
    expect(peak).toBeLessThanOrEqual(TOTAL + TOTAL / 16 + 200);
    // Every heavy connection (6-10) went before any light one.
    expect(conns.slice(5).every((c) => c.terminated)).toBe(true);
    expect(slowCuts(log).slice(0, 5).map((c) => c.id).sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 10]);
  });
});
