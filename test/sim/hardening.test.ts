/**
 * The simulator against hostile or careless clients (issue 15, defects 1, 5 and 8): nothing a
 * client sends, or fails to read, may crash the server or starve its other clients, and every
 * refusal is answered in MEXC's `{"code","msg"}` shape. Expectations come from MEXC's documented
 * rules (PROTOCOL.md §1: integers as digits, recvWindow at most 60000) and HTTP, not from the
 * server's output.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { adminAllowed } from '../../services/adapters/mexcSim/admin.js';
import { isLoopbackAddress } from '../../services/core/net.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import { BTC_FILE, fixtureCandles, hmacHex, WsProbe } from './helpers.js';

const KEY = 'hardening-key';
const SECRET = 'hardening-secret';
const BTC = symbolId('BTCUSDT');
const WALL = Date.UTC(2026, 0, 5, 12, 0);

let candles: Candle[];
let server: SimServer;

beforeAll(async () => {
  candles = fixtureCandles(BTC_FILE, 10);
  server = await startSimServer({
    markets: [simMarketFromCandles(BTC, candles)],
    accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
    now: () => WALL,
  });
});

afterAll(async () => {
  await server?.close();
});

/** Sends raw bytes, returns everything the server answers until it closes the connection. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
    s.write(bytes);
  });
}

const upgrade = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** The status line's code and the JSON body of a raw HTTP answer. */
function parseAnswer(text: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  return { status, body: JSON.parse(body) as unknown };
}

async function ping(): Promise<number> {
  return (await fetch(`${server.restUrl}/api/v3/ping`)).status;
}

/** A request with full control of the body: declared length, or chunked when `length` is undefined. */
function send(method: string, path: string, body: Buffer, length: number | undefined): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.restUrl}${path}`, { method, headers: length === undefined ? {} : { 'Content-Length': length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A signed query string with the parameters exactly as given (no formatting of numbers). */
async function signedRaw(method: string, path: string, query: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.restUrl}${path}?${query}&signature=${hmacHex(SECRET, query)}`, { method, headers: { 'X-MEXC-APIKEY': KEY } });
  return { status: res.status, body: await res.json() };
}

describe('a malformed WebSocket upgrade (defect 1)', () => {
  it('answers `http://[::1/ws` and other odd targets without crashing, and keeps serving', async () => {
    // new URL('http://[::1/ws', base) throws TypeError: Invalid URL; it used to escape onUpgrade.
    for (const target of ['http://[::1/ws', 'http://127.0.0.1/ws', '*', '/', '//ws', '/ws/../ws']) {
      const answer = parseAnswer(await raw(server.port, upgrade(target)));
      expect(answer.status, target).toBe(404);
      expect(answer.body).toEqual({ code: 404, msg: 'Not Found' });
    }
    // A malformed percent-escape in the query is no reason to fail either: no listen key, public connection.
    const p = await WsProbe.open(`${server.wsUrl}?%zz=%&x=%E0%A4%A`);
    p.send({ method: 'PING', id: 7 });
    expect(await p.take()).toEqual({ id: 7, code: 0, msg: 'PONG' });
    p.close();
    // An empty listen key is an invalid one, answered as MEXC does.
    const lk = await WsProbe.open(`${server.wsUrl}?listenKey`);
    expect(await lk.take()).toBe('Invalid listen key');
    expect(await ping()).toBe(200);
  });

  it('survives a client that resets in the middle of the handshake', async () => {
    await new Promise<void>((resolve) => {
      const s = connect(server.port, '127.0.0.1', () => {
        s.write(upgrade('/ws').slice(0, -2));
        s.resetAndDestroy();
        resolve();
      });
    });
    expect(await ping()).toBe(200);
  });
});

describe('REST limits in MEXC shape (defect 8)', () => {
  it('answers a body over 1 MB with 413 JSON, declared or chunked, instead of a reset', async () => {
    const big = Buffer.alloc((1 << 20) + 1, 'a');
    expect(await send('POST', '/api/v3/order', big, big.length)).toEqual({ status: 413, body: { code: 413, msg: 'request body larger than 1048576 bytes' } });
    expect(await send('POST', '/api/v3/order', Buffer.alloc(3 << 20, 'b'), undefined)).toMatchObject({ status: 413, body: { code: 413 } });
    // Exactly 1 MB is still read (and then refused for what it is: an unsigned order).
    expect(await send('POST', '/api/v3/order', Buffer.alloc(1 << 20, 'c'), 1 << 20)).toMatchObject({ status: 400, body: { code: 700001 } });
    expect(await ping()).toBe(200);
  });

  it('answers an oversized URL 414 and oversized headers 431, both as JSON', async () => {
    const long = await fetch(`${server.restUrl}/api/v3/klines?symbol=BTCUSDT&x=${'a'.repeat(9_000)}`);
    expect(long.status).toBe(414);
    expect(await long.json()).toEqual({ code: 414, msg: 'request target longer than 8192 bytes' });
    // Past Node's 16 KiB header limit the parser itself refuses: still MEXC's shape.
    const huge = parseAnswer(await raw(server.port, `GET /api/v3/ping?x=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(huge).toEqual({ status: 431, body: { code: 431, msg: 'request line and headers too large' } });
    const garbage = parseAnswer(await raw(server.port, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(garbage).toEqual({ status: 400, body: { code: 400, msg: 'malformed request' } });
    expect(await ping()).toBe(200);
  });

  it('refuses recvWindow and timestamps that are not plain digits with 700004', async () => {
    const ok = await signedRaw('GET', '/api/v3/account', `timestamp=${WALL}&recvWindow=60000`);
    expect(ok.status).toBe(200);
    // 0xEA60 is 60000 to Number(); 1.7e12 is a whole number of ms to Number(). MEXC takes digits.
    for (const q of [`timestamp=${WALL}&recvWindow=0xEA60`, `timestamp=${WALL}&recvWindow=6e4`, `timestamp=${WALL}&recvWindow=5000.5`, `timestamp=${WALL}&recvWindow=-1`]) {
      expect(await signedRaw('GET', '/api/v3/account', q), q).toMatchObject({ status: 400, body: { code: 700004 } });
    }
    const exp = (WALL / 1e12).toString() + 'e12';
    expect(Number(exp)).toBe(WALL);
    for (const q of [`timestamp=${exp}`, `timestamp=0x${WALL.toString(16)}`, `timestamp=%20${WALL}`, `timestamp=${WALL}.0`]) {
      expect(await signedRaw('GET', '/api/v3/account', q), q).toMatchObject({ status: 400, body: { code: 700004 } });
    }
    expect(await signedRaw('GET', '/api/v3/account', `timestamp=${WALL}&recvWindow=60001`)).toMatchObject({ body: { code: 700005 } });
  });

  it('refuses a quantity past 18 decimals (10096) and numbers in other notations (700004), before the engine', async () => {
    const before = server.orderLog().length;
    const order = (qty: string): Promise<{ status: number; body: unknown }> =>
      signedRaw('POST', '/api/v3/order', `symbol=BTCUSDT&side=BUY&type=LIMIT&price=50000&quantity=${qty}&timestamp=${WALL}`);
    // 0.001 plus 1e-20 rounds to 0.001 at Dec's 18 decimals, a valid lot: it must not pass as one.
    expect(await order('0.00100000000000000001')).toMatchObject({ status: 400, body: { code: 10096 } });
    for (const q of ['1e-3', '+0.001', '0x1', '.001', '0.001%20', '-0.001']) expect(await order(q), q).toMatchObject({ status: 400, body: { code: 700004 } });
    expect(server.orderLog().length).toBe(before);
    // Off the lot step (0.000001) with few decimals: the engine's own 10096, which it logs.
    expect(await order('0.0000015')).toMatchObject({ status: 400, body: { code: 10096 } });
    expect(server.orderLog().slice(before).map((e) => [e.outcome, e.code])).toEqual([['rejected', 10096]]);
    // Trailing zeros add no precision: accepted.
    expect(await order('0.00100000000000000000')).toMatchObject({ status: 200 });
  });
});

describe('the admin API is for loopback callers unless configured (defect 8)', () => {
  it('tells loopback addresses from others, IPv4-mapped forms included', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1']) expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['10.0.0.5', '192.168.1.2', '::ffff:192.168.1.2', 'fe80::1', '128.0.0.1', '', undefined]) expect(isLoopbackAddress(a), String(a)).toBe(false);
    expect(adminAllowed('loopback', '10.0.0.5')).toBe(false);
    expect(adminAllowed('any', '10.0.0.5')).toBe(true);
    expect(adminAllowed({ allow: ['10.0.0.5'] }, '::ffff:10.0.0.5')).toBe(true);
    expect(adminAllowed({ allow: ['10.0.0.5'] }, '10.0.0.6')).toBe(false);
    expect(adminAllowed({ allow: ['10.0.0.5'] }, '127.0.0.1')).toBe(true);
    expect(adminAllowed({ allow: ['10.0.0.5'], loopback: false }, '127.0.0.1')).toBe(false);
  });

  it('refuses a caller outside the allowed addresses with 403 JSON, and changes nothing', async () => {
    const s = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: {} }],
      adminAccess: { allow: ['192.0.2.7'], loopback: false },
    });
    try {
      const r = await fetch(`${s.restUrl}/sim/faults`, { method: 'POST', body: 'chaos' });
      expect(r.status).toBe(403);
      expect(await r.json()).toMatchObject({ code: 403 });
      expect(s.faults.profile.name).toBe('none');
      expect((await fetch(`${s.restUrl}/sim/stats`)).status).toBe(403);
    } finally {
      await s.close();
    }
    // The default: loopback callers are served.
    expect((await fetch(`${server.restUrl}/sim/stats`)).status).toBe(200);
  });
});

describe('WebSocket load (defect 5)', () => {
  const CHANNELS = ['deals', 'bookTicker', 'depth'].flatMap((k) => ['100ms', '10ms'].map((sp) => `spot@public.aggre.${k}.v3.api.pb@${sp}@BTCUSDT`));

  async function subscribed(url: string): Promise<WebSocket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ method: 'SUBSCRIPTION', params: CHANNELS, id: 1 }));
    await new Promise<void>((resolve) => ws.once('message', () => resolve()));
    return ws;
  }

  it('cuts off clients that never read, keeps serving a client that does, and frees their state', async () => {
    const s = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: {} }],
      // Small, so the test needs little data: the kernel's socket buffers absorb a few MB first.
      maxBufferedBytesPerConnection: 64 * 1024,
    });
    const stalled: WebSocket[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        const ws = await subscribed(s.wsUrl);
        ws.pause(); // reads nothing from here on
        stalled.push(ws);
      }
      const good = await WsProbe.open(s.wsUrl);
      good.send({ method: 'SUBSCRIPTION', params: [CHANNELS[0]], id: 2 });
      await good.take((m) => (m as { id?: number }).id === 2);
      const T = candles[0]!.openTime;
      let n = 0;
      // Pushes until every stalled client is cut off; bounded (about 1,000 frames per client per batch).
      for (let batch = 0; batch < 500 && s.stats().slowConsumersDropped < 5; batch++) {
        for (let j = 0; j < 200; j++, n++) {
          const p = 50_000 + (n % 100);
          s.pushMarketData({ type: 'book', symbol: BTC, book: { bid: p - 0.01, bidSize: 1, ask: p + 0.01, askSize: 1, time: T + n } });
        }
        // The well-behaved client reads what it is sent; the event loop must get to it.
        await new Promise((r) => setImmediate(r));
      }
      expect(s.stats().slowConsumersDropped).toBe(5);
      expect(s.stats().connections).toBe(1);
      // The reader is still served: a trade now reaches it, and REST answers.
      good.messages.length = 0;
      s.pushMarketData({ type: 'trade', symbol: BTC, trade: { price: 50_000, quantity: 0.5, time: T + n + 1, buyerMaker: false } });
      const frame = await good.take<Uint8Array>((m) => m instanceof Uint8Array);
      expect(frame.length).toBeGreaterThan(0);
      expect((await fetch(`${s.restUrl}/api/v3/ping`)).status).toBe(200);
      good.close();
    } finally {
      for (const ws of stalled) ws.terminate();
      await s.close();
    }
  });

  it('caps connections: the one past the cap gets a 503, a freed slot is usable again', async () => {
    const s = await startSimServer({ markets: [simMarketFromCandles(BTC, candles)], accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: {} }], maxConnections: 3 });
    try {
      const open = [await WsProbe.open(s.wsUrl), await WsProbe.open(s.wsUrl), await WsProbe.open(s.wsUrl)];
      const status = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(s.wsUrl);
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => reject(new Error('the fourth connection was accepted')));
      });
      expect(status).toBe(503);
      expect(s.stats()).toMatchObject({ connections: 3, connectionsRefused: 1 });
      open[0]!.close();
      await open[0]!.waitClosed();
      for (let i = 0; i < 100 && s.stats().connections > 2; i++) await new Promise((r) => setTimeout(r, 5));
      const again = await WsProbe.open(s.wsUrl);
      again.send({ method: 'PING', id: 1 });
      expect(await again.take()).toEqual({ id: 1, code: 0, msg: 'PONG' });
      for (const p of [...open.slice(1), again]) p.close();
    } finally {
      await s.close();
    }
  });
});
