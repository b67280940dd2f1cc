/**
 * Fault profiles, the seeded PRNG and the decisions (pure), then each fault applied once by a
 * one-shot on a running server, checked from the client's side: what it receives and what the
 * venue state is afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultController } from '../../services/adapters/mexcSim/faultController.js';
import { decodePush } from '../../services/adapters/mexcSim/proto.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { ConfigError } from '../../services/core/errors.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { decideFrame, decideRequest, FAULT_PROFILES, mulberry32, NO_FAULTS, parseFaultProfile } from '../../services/sim/faults.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import { BTC_FILE, fixtureCandles, hmacHex, isBinary, signedFetch, WsProbe } from './helpers.js';

describe('parseFaultProfile', () => {
  it('knows the named profiles', () => {
    for (const name of ['none', 'flaky', 'chaos', 'rate-limit-storm', 'disconnects', 'silent-stream', 'duplicates', 'server-errors']) {
      expect(parseFaultProfile(name).name).toBe(name);
    }
    expect(parseFaultProfile('none')).toEqual(NO_FAULTS);
    expect(NO_FAULTS.rateLimit.probability + NO_FAULTS.serverError + NO_FAULTS.duplicateFrame + NO_FAULTS.wsDisconnect).toBe(0);
  });

  it('lists the known names for an unknown one', () => {
    expect(() => parseFaultProfile('wobbly')).toThrow(ConfigError);
    expect(() => parseFaultProfile('wobbly')).toThrow(/unknown fault profile "wobbly": expected one of none, flaky, chaos/);
  });

  it('builds a JSON profile over a named base, field by field', () => {
    const p = parseFaultProfile('{"extends":"flaky","rateLimit":{"probability":0.25},"duplicateFrame":0.5}');
    expect(p.rateLimit).toEqual({ probability: 0.25, retryAfterSec: FAULT_PROFILES.flaky!.rateLimit.retryAfterSec });
    expect(p.duplicateFrame).toBe(0.5);
    expect(p.latency).toEqual(FAULT_PROFILES.flaky!.latency);
    expect(p.name).toBe('flaky+custom');
    expect(parseFaultProfile({ serverError: 1 }).serverError).toBe(1);
  });

  it('names the bad field', () => {
    expect(() => parseFaultProfile('{"rateLimit":{"probability":1.5}}')).toThrow(/fault profile: rateLimit\.probability: /);
    expect(() => parseFaultProfile('{"latency":{"minMs":-1}}')).toThrow(/latency\.minMs/);
    expect(() => parseFaultProfile('{"dropResponses":0.1}')).toThrow(/dropResponses/);
    expect(() => parseFaultProfile('{"extends":"nope"}')).toThrow(/extends: unknown profile "nope"/);
    expect(() => parseFaultProfile('{"latency":{"minMs":500,"maxMs":100}}')).toThrow(/latency\.minMs: 500 is above latency\.maxMs 100/);
    expect(() => parseFaultProfile('{oops')).toThrow(/not valid JSON/);
  });
});

describe('mulberry32 and the decisions', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const sa = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(sa);
    expect(Array.from({ length: 20 }, c)).not.toEqual(sa);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('is roughly uniform', () => {
    const r = mulberry32(7);
    const bins = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) bins[Math.floor(r() * 4)]!++;
    // Each quarter expects 10,000; a fair generator stays within a few percent.
    for (const n of bins) expect(Math.abs(n - 10_000)).toBeLessThan(400);
  });

  it('applies each probability', () => {
    const rng = mulberry32(1);
    expect(decideRequest({ ...NO_FAULTS, rateLimit: { probability: 1, retryAfterSec: 9 } }, 'other', rng)).toEqual({ latencyMs: 0, fault: '429', retryAfterSec: 9 });
    // A reject is only for order creates; "after placing" only for creates and cancels.
    expect(decideRequest({ ...NO_FAULTS, rejectOrder: { probability: 1, code: 10101, msg: 'x' } }, 'other', rng).fault).toBeUndefined();
    expect(decideRequest({ ...NO_FAULTS, rejectOrder: { probability: 1, code: 10101, msg: 'x' } }, 'createOrder', rng)).toMatchObject({ fault: 'reject', code: 10101 });
    expect(decideRequest({ ...NO_FAULTS, serverErrorAfterPlacing: 1 }, 'other', rng).fault).toBeUndefined();
    expect(decideRequest({ ...NO_FAULTS, serverErrorAfterPlacing: 1 }, 'cancelOrder', rng).fault).toBe('5xx-after-placing');
    const lat = decideRequest({ ...NO_FAULTS, latency: { probability: 1, minMs: 100, maxMs: 200 } }, 'other', rng).latencyMs;
    expect(lat >= 100 && lat <= 200).toBe(true);
    expect(decideFrame({ ...NO_FAULTS, silentStream: { probability: 1, durationMs: 1234 } }, rng)).toEqual({ fault: 'silence', silenceMs: 1234 });
    expect(decideFrame(NO_FAULTS, rng)).toEqual({});
  });

  it('injects faults at about the profile rates', () => {
    const rng = mulberry32(123);
    let n429 = 0;
    for (let i = 0; i < 20_000; i++) if (decideRequest(FAULT_PROFILES.chaos!, 'createOrder', rng).fault === '429') n429++;
    // chaos: 8% rate limits -> 1,600 expected.
    expect(n429).toBeGreaterThan(1_400);
    expect(n429).toBeLessThan(1_800);
  });

  it('gives the same decisions for the same seed', () => {
    const a = new FaultController('chaos', 99);
    const b = new FaultController('chaos', 99);
    const da = Array.from({ length: 50 }, () => [a.forRequest('createOrder', '/api/v3/order'), a.forFrame('x')]);
    const db = Array.from({ length: 50 }, () => [b.forRequest('createOrder', '/api/v3/order'), b.forFrame('x')]);
    expect(db).toEqual(da);
  });

  it('refuses an unknown one-shot fault', () => {
    const f = new FaultController();
    expect(() => f.once({ on: 'frame', fault: '429' as never })).toThrow(/unknown "429" for on=frame/);
  });
});

describe('one-shot faults on a running server', () => {
  const KEY = 'fault-key';
  const SECRET = 'fault-secret';
  const T0 = Date.UTC(2026, 0, 6, 0, 0);
  const BTC = symbolId('BTCUSDT');
  let server: SimServer;
  let candles: Candle[];
  let wall = Date.UTC(2026, 0, 6, 12, 0);
  const signed = (method: string, path: string, params: Record<string, string> = {}) => signedFetch(server.restUrl, method, path, params, { apiKey: KEY, secret: SECRET, timestamp: wall });
  const openIds = async (): Promise<string[]> => ((await signed('GET', '/api/v3/openOrders', { symbol: 'BTCUSDT' })).body as { clientOrderId: string }[]).map((o) => o.clientOrderId);
  const limit = (id: string) => signed('POST', '/api/v3/order', { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '40000', newClientOrderId: id });

  beforeAll(async () => {
    candles = fixtureCandles(BTC_FILE, 60);
    server = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
      replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: T0 }),
      now: () => wall,
    });
    server.advanceReplayTo(T0 + 5 * 60_000);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('5xx after placing: the client gets a 5xx, and the order exists', async () => {
    server.faults.once({ on: 'createOrder', fault: '5xx-after-placing' });
    const r = await limit('after-1');
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(await openIds()).toContain('after-1');
    expect(server.orderLog().map((e) => e.clientOrderId)).toContain('after-1');
  });

  it('5xx without placing: the client gets a 5xx, and there is no order', async () => {
    server.faults.once({ on: 'createOrder', fault: '5xx-without-placing' });
    const r = await limit('before-1');
    expect(r.status).toBeGreaterThanOrEqual(500);
    expect(await openIds()).not.toContain('before-1');
    expect(server.orderLog().map((e) => e.clientOrderId)).not.toContain('before-1');
    // The same id can then be sent again and is placed.
    expect((await limit('before-1')).status).toBe(200);
  });

  it('429 carries Retry-After and a MEXC body, and nothing is processed', async () => {
    server.faults.once({ on: 'createOrder', fault: '429', retryAfterSec: 7 });
    const r = await limit('limited-1');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(r.body).toEqual({ code: 429, msg: 'Too Many Requests' });
    expect(await openIds()).not.toContain('limited-1');
  });

  it('a rejected order answers with the MEXC code and never reaches the engine', async () => {
    server.faults.once({ on: 'createOrder', fault: 'reject', code: 10101, msg: 'Insufficient balance!' });
    expect(await limit('rej-1')).toMatchObject({ status: 400, body: { code: 10101, msg: 'Insufficient balance!' } });
    expect(server.orderLog().map((e) => e.clientOrderId)).not.toContain('rej-1');
  });

  it('a dropped response leaves the client waiting, but the order is placed', async () => {
    server.faults.once({ on: 'createOrder', fault: 'drop' });
    const q = new URLSearchParams({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '0.001', price: '40000', newClientOrderId: 'drop-1', timestamp: String(wall) });
    const query = q.toString();
    const aborted = fetch(`${server.restUrl}/api/v3/order?${query}&signature=${hmacHex(SECRET, query)}`, {
      method: 'POST',
      headers: { 'X-MEXC-APIKEY': KEY },
      signal: AbortSignal.timeout(300),
    });
    await expect(aborted).rejects.toThrow();
    expect(await openIds()).toContain('drop-1');
  });

  it('a timeout answers late, with the real result', async () => {
    server.faults.once({ on: 'request', path: '/api/v3/account', fault: 'timeout', delayMs: 50 });
    const r = await signed('GET', '/api/v3/account');
    expect(r.status).toBe(200);
    expect(server.faults.injected().timeout).toBe(1);
  });

  it('duplicates a frame', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@public.kline.v3.api.pb@BTCUSDT@Min1'] });
    await ws.take();
    server.faults.once({ on: 'frame', channel: 'kline', fault: 'duplicate' });
    server.advanceReplayTo(T0 + 5 * 60_000 + 1_000); // one kline update
    const a = await ws.take<Uint8Array>(isBinary);
    const b = await ws.take<Uint8Array>(isBinary);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect((decodePush(a) as { publicSpotKline: { openingPrice: string } }).publicSpotKline.openingPrice).toBe(String(candles[5]!.open));
    ws.close();
  });

  it('reorders a frame: held back and sent after the next one', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT'] });
    await ws.take();
    server.faults.once({ on: 'frame', fault: 'out-of-order' });
    // Two trades: candle 5's low (+20 s) and high (+40 s).
    server.advanceReplayTo(T0 + 5 * 60_000 + 40_000);
    const first = decodePush(await ws.take<Uint8Array>(isBinary)) as { publicAggreDeals: { deals: { price: string }[] } };
    const second = decodePush(await ws.take<Uint8Array>(isBinary)) as { publicAggreDeals: { deals: { price: string }[] } };
    expect(first.publicAggreDeals.deals[0]!.price).toBe(String(candles[5]!.high));
    expect(second.publicAggreDeals.deals[0]!.price).toBe(String(candles[5]!.low));
    ws.close();
  });

  it('goes silent: pushes stop while pings still get pongs', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@public.kline.v3.api.pb@BTCUSDT@Min1'] });
    await ws.take();
    server.faults.once({ on: 'frame', fault: 'silence', silenceMs: 60_000 });
    server.advanceReplayTo(T0 + 7 * 60_000);
    ws.send({ method: 'PING' });
    // Frames sent before the pong would arrive before it on the same connection.
    expect(await ws.take()).toEqual({ id: 0, code: 0, msg: 'PONG' });
    expect(ws.messages.filter(isBinary)).toHaveLength(0);
    // Once the silence ends (wall clock), frames flow again.
    wall += 60_001;
    server.advanceReplayTo(T0 + 7 * 60_000 + 1_000);
    expect(isBinary(await ws.take(isBinary))).toBe(true);
    ws.close();
  });

  it('disconnects instead of sending a frame', async () => {
    const ws = await WsProbe.open(server.wsUrl);
    ws.send({ method: 'SUBSCRIPTION', params: ['spot@public.kline.v3.api.pb@BTCUSDT@Min1'] });
    await ws.take();
    server.faults.once({ on: 'frame', fault: 'disconnect' });
    server.advanceReplayTo(T0 + 8 * 60_000);
    await ws.waitClosed();
    expect(ws.messages.filter(isBinary)).toHaveLength(0);
  });

  it('switches the profile on the fly through the admin endpoint', async () => {
    const set = await fetch(`${server.restUrl}/sim/faults`, { method: 'POST', body: '{"rateLimit":{"probability":1,"retryAfterSec":3}}' });
    expect(set.status).toBe(200);
    const r = await signed('GET', '/api/v3/account');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    const back = await fetch(`${server.restUrl}/sim/faults`, { method: 'POST', body: 'none' });
    expect(((await back.json()) as { profile: { name: string } }).profile.name).toBe('none');
    expect((await signed('GET', '/api/v3/account')).status).toBe(200);
    const bad = await fetch(`${server.restUrl}/sim/faults`, { method: 'POST', body: 'wobbly' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { msg: string }).msg).toMatch(/unknown fault profile "wobbly"/);
    // A one-shot through the admin endpoint.
    await fetch(`${server.restUrl}/sim/faults`, { method: 'POST', body: JSON.stringify({ once: { on: 'createOrder', fault: '5xx-after-placing' } }) });
    expect((await limit('admin-1')).status).toBeGreaterThanOrEqual(500);
    expect(await openIds()).toContain('admin-1');
  });
});
