/**
 * The MEXC client's error mapping: HTTP replies classified in `handleErrors` (through ccxt's real
 * request pipeline, against a node:http stub on loopback), whatever else ccxt throws mapped by
 * `toExchangeError`, and redaction (a signed URL's signature and the secret never reach a message).
 *
 * Expected classes come from PROTOCOL.md §1.5/§1.6 (MEXC codes, Retry-After in seconds) and from
 * the rules in the adapter's brief (timeouts, connection failures, pass-through), worked out by hand.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ccxt from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ClockSkewError,
  type ExchangeError,
  ExchangeRequestError,
  ExchangeServerError,
  InsufficientBalanceError,
  InvalidOrderError,
  NetworkError,
  OrderNotFoundError,
  RateLimitError,
  SymbolNotTradableError,
  TimeoutError,
  isUnknownOutcome,
} from '../../services/execution/exchangeErrors.js';
import { MexcProClient, classifyReply, createMexcRestClient, mexcCcxtConfig, redactSecrets, toExchangeError } from '../../services/adapters/mexc/restClient.js';

const SECRET = 'S3cr3tS3cr3tS3cr3tS3cr3t0123456789';
const KEY = 'mx0testkey';
const SIGNED_URL = 'http://127.0.0.1:1/api/v3/order?symbol=BTCUSDT&side=BUY&timestamp=1&recvWindow=5000&signature=0123abcdef0123abcdef';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

interface Stub {
  readonly url: string;
  readonly requests: { method: string; path: string; query: string }[];
  close(): Promise<void>;
}

const stubs: Stub[] = [];

/** A loopback HTTP server answering every request with `handler`. */
async function stub(handler: Handler): Promise<Stub> {
  const requests: Stub['requests'] = [];
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? '', path: u.pathname, query: u.search.slice(1) });
    handler(req, res, u);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const s: Stub = {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  stubs.push(s);
  return s;
}

function reply(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(body);
}

afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

/** Runs `fn`, returning what it threw. */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('client options (PROTOCOL.md §5)', () => {
  it('points spot, contract and ws spot URLs at a local server and sets recvWindow, timeout, no clock sync', () => {
    const c = createMexcRestClient({ restUrl: 'http://127.0.0.1:4567/', timeoutMs: 1234, recvWindowMs: 7000 });
    const api = c.urls['api'] as Record<string, Record<string, string>>;
    expect(api['spot']).toEqual({ public: 'http://127.0.0.1:4567', private: 'http://127.0.0.1:4567' });
    expect(api['contract']).toEqual({ public: 'http://127.0.0.1:4567/api/v1/contract', private: 'http://127.0.0.1:4567/api/v1/private' });
    expect(api['ws']?.['spot']).toBe('ws://127.0.0.1:4567/ws');
    expect(c.options['recvWindow']).toBe(7000);
    expect(c.options['adjustForTimeDifference']).toBe(false);
    expect(c.timeout).toBe(1234);
  });

  it('keeps MEXC URLs without a restUrl, and takes an explicit wsUrl', () => {
    const c = createMexcRestClient({});
    expect((c.urls['api'] as Record<string, Record<string, string>>)['spot']?.['public']).toBe('https://api.mexc.com');
    expect(c.options['recvWindow']).toBe(5000);
    expect(c.timeout).toBe(10_000);
    // MEXC bans IPs that ignore its limits: ccxt's throttle stays on unless turned off.
    expect(c.enableRateLimit).toBe(true);
    expect(createMexcRestClient({ enableRateLimit: false }).enableRateLimit).toBe(false);
    const cfg = mexcCcxtConfig({ restUrl: 'http://127.0.0.1:9', wsUrl: 'ws://127.0.0.1:10/ws' });
    expect((cfg['urls'] as { api: { ws: { spot: string } } }).api.ws.spot).toBe('ws://127.0.0.1:10/ws');
  });

  it('loads spot markets only: the futures contract list is never requested', async () => {
    const info = {
      symbols: [
        { symbol: 'BTCUSDT', status: '1', baseAsset: 'BTC', quoteAsset: 'USDT', baseAssetPrecision: 6, quoteAssetPrecision: 2, isSpotTradingAllowed: true, baseSizePrecision: '0.000001', quoteAmountPrecision: '1', maxQuoteAmount: '2000000', makerCommission: '0', takerCommission: '0.0005' },
      ],
    };
    const s = await stub((_req, res, u) => (u.pathname === '/api/v3/exchangeInfo' ? reply(res, 200, JSON.stringify(info)) : reply(res, 404, '{"code":404,"msg":"no"}')));
    const c = createMexcRestClient({ restUrl: s.url });
    const markets = await c.loadMarkets();
    expect(Object.keys(markets)).toEqual(['BTC/USDT']);
    expect(s.requests.map((r) => r.path)).toEqual(['/api/v3/exchangeInfo']);
  });

  it('the WebSocket client classifies its REST replies the same way', async () => {
    const s = await stub((_req, res) => reply(res, 400, '{"code":700002,"msg":"Signature for this request is not valid."}'));
    const pro = new MexcProClient(mexcCcxtConfig({ restUrl: s.url, apiKey: KEY, secret: SECRET }));
    const e = await thrown(() => pro.spotPrivatePostUserDataStream());
    expect(e).toBeInstanceOf(AuthenticationError);
    expect((e as AuthenticationError).message).toContain('POST /api/v3/userDataStream');
    await pro.close();
  });

  it('sends signed requests to the local server with the configured recvWindow', async () => {
    const s = await stub((_req, res) => reply(res, 200, '{"canTrade":true,"balances":[{"asset":"USDT","free":"1","locked":"0"}]}'));
    const c = createMexcRestClient({ restUrl: s.url, apiKey: KEY, secret: SECRET, recvWindowMs: 7000 });
    await c.spotPrivateGetAccount();
    expect(s.requests).toHaveLength(1);
    expect(s.requests[0]?.path).toBe('/api/v3/account');
    expect(s.requests[0]?.query).toMatch(/^timestamp=\d+&recvWindow=7000&signature=[0-9a-f]{64}$/);
  });
});

describe('handleErrors: failed MEXC replies become classified errors', () => {
  const url = 'http://127.0.0.1:1/api/v3/order?symbol=BTCUSDT&signature=00ff00ff';

  it('returns undefined for successes: HTTP 200 without a code, code 0/200, v1 success, arrays', () => {
    expect(classifyReply(200, 'GET', url, {}, '{}', {})).toBeUndefined();
    expect(classifyReply(200, 'GET', url, {}, '', { code: 200, data: ['BTCUSDT'] })).toBeUndefined();
    expect(classifyReply(200, 'GET', url, {}, '', { code: '0' })).toBeUndefined();
    expect(classifyReply(200, 'GET', url, {}, '', { success: true, code: 0, data: [] })).toBeUndefined();
    expect(classifyReply(200, 'GET', url, {}, '[]', [])).toBeUndefined();
  });

  it('classifies a body code on HTTP 200 (MEXC answers some refusals that way)', () => {
    const e = classifyReply(200, 'POST', url, {}, '{"code":30002,"msg":"minimum transaction volume"}', { code: 30002, msg: 'minimum transaction volume' });
    expect(e).toBeInstanceOf(InvalidOrderError);
    expect(e?.code).toBe(30002);
    expect(e?.httpStatus).toBe(200);
  });

  it('names the call by method and path, never the signed query', () => {
    const e = classifyReply(400, 'POST', url, {}, '{"code":700002,"msg":"Signature for this request is not valid."}', { code: 700002, msg: 'x' });
    expect(e).toBeInstanceOf(AuthenticationError);
    expect(e?.message).toContain('POST /api/v3/order');
    expect(e?.message).not.toContain('00ff00ff');
    expect(e?.message).not.toContain('symbol=BTCUSDT');
  });

  it('classifies an HTML 502 without a JSON body as a server error', () => {
    const e = classifyReply(502, 'POST', url, {}, '<html>Bad Gateway</html>', undefined);
    expect(e).toBeInstanceOf(ExchangeServerError);
    expect(isUnknownOutcome(e, 'submit')).toBe(true);
  });

  // Through ccxt's real pipeline: fetch → handleRestResponse → our handleErrors.
  const cases: { name: string; status: number; body: string; headers?: Record<string, string>; cls: new (...a: never[]) => ExchangeError; code?: number }[] = [
    { name: '429 with Retry-After', status: 429, body: '{"code":429,"msg":"Too many requests"}', headers: { 'Retry-After': '7' }, cls: RateLimitError },
    { name: '418 ban', status: 418, body: '', headers: { 'Retry-After': '120' }, cls: RateLimitError },
    { name: '503', status: 503, body: '{"code":500,"msg":"busy"}', cls: ExchangeServerError },
    { name: 'bad signature', status: 400, body: '{"code":700002,"msg":"Signature for this request is not valid."}', cls: AuthenticationError, code: 700002 },
    { name: 'outside recvWindow', status: 400, body: '{"code":700003,"msg":"Timestamp for this request is outside of the recvWindow."}', cls: ClockSkewError, code: 700003 },
    { name: 'unknown order on cancel', status: 400, body: '{"code":-2011,"msg":"Unknown order sent."}', cls: OrderNotFoundError, code: -2011 },
    { name: 'insufficient balance', status: 400, body: '{"code":10101,"msg":"Insufficient balance"}', cls: InsufficientBalanceError, code: 10101 },
    { name: 'symbol not for API', status: 400, body: '{"code":10007,"msg":"symbol not support api"}', cls: SymbolNotTradableError, code: 10007 },
    { name: 'WAF 403 with HTML', status: 403, body: '<html>blocked</html>', cls: ExchangeRequestError },
    { name: 'unmapped code', status: 400, body: '{"code":33333,"msg":"Not support transfer"}', cls: ExchangeRequestError, code: 33333 },
  ];
  for (const c of cases) {
    it(`ccxt call answered with ${c.name} → ${c.cls.name}`, async () => {
      const s = await stub((_req, res) => reply(res, c.status, c.body, c.headers));
      const client = createMexcRestClient({ restUrl: s.url, apiKey: KEY, secret: SECRET });
      const e = await thrown(() => client.spotPrivatePostOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: '1', price: '1' }));
      expect(e).toBeInstanceOf(c.cls);
      const err = e as ExchangeError;
      expect(err.httpStatus).toBe(c.status);
      if (c.code !== undefined) expect(err.code).toBe(c.code);
      expect(err.message).toContain('POST /api/v3/order');
      expect(err.message).not.toMatch(/signature=[0-9a-f]/);
      expect(err.message).not.toContain(SECRET);
    });
  }

  it('keeps Retry-After in milliseconds (ccxt ignores it)', async () => {
    const s = await stub((_req, res) => reply(res, 429, '{"code":429,"msg":"Too many requests"}', { 'Retry-After': '7' }));
    const client = createMexcRestClient({ restUrl: s.url });
    const e = await thrown(() => client.spotPublicGetTime());
    expect(e).toBeInstanceOf(RateLimitError);
    expect((e as RateLimitError).retryAfterMs).toBe(7000);
  });
});

describe('toExchangeError: what ccxt throws otherwise', () => {
  it('passes our own errors through unchanged', () => {
    const ours = new InsufficientBalanceError('x');
    expect(toExchangeError(ours, 'submit')).toBe(ours);
  });

  it('maps a ccxt RequestTimeout to TimeoutError (unknown outcome for a submit) and keeps a redacted cause', () => {
    const raw = new ccxt.RequestTimeout(`mexc POST ${SIGNED_URL} request timed out (10000 ms)`);
    const e = toExchangeError(raw, 'submit', [SECRET]);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(isUnknownOutcome(e, 'submit')).toBe(true);
    expect(e.cause).toBe(raw);
    expect(e.message).toContain('signature=<redacted>');
    expect(e.message).not.toContain('0123abcdef0123abcdef');
    expect((e.cause as Error).message).not.toContain('0123abcdef0123abcdef');
    expect((e.cause as Error).stack ?? '').not.toContain('0123abcdef0123abcdef');
  });

  it('maps a connection failure to NetworkError: sent for submits and cancels, not for queries or a refused connection', () => {
    const reset = () => new ccxt.NetworkError(`mexc POST ${SIGNED_URL} fetch failed: other side closed`);
    const submit = toExchangeError(reset(), 'submit');
    expect(submit).toBeInstanceOf(NetworkError);
    expect((submit as NetworkError).requestSent).toBe(true);
    expect(isUnknownOutcome(submit, 'submit')).toBe(true);
    expect((toExchangeError(reset(), 'cancel') as NetworkError).requestSent).toBe(true);
    expect((toExchangeError(reset(), 'query') as NetworkError).requestSent).toBe(false);
    const refused = toExchangeError(new ccxt.NetworkError('mexc POST http://127.0.0.1:1/api/v3/order fetch failed: connect ECONNREFUSED 127.0.0.1:1'), 'submit');
    expect(refused).toBeInstanceOf(NetworkError);
    expect((refused as NetworkError).requestSent).toBe(false);
    const unavailable = toExchangeError(new ccxt.ExchangeNotAvailable('mexc GET /x 503'), 'submit');
    expect(unavailable).toBeInstanceOf(NetworkError);
    expect((unavailable as NetworkError).requestSent).toBe(true);
  });

  it('maps ccxt rate limits, nonce errors and unreadable replies', () => {
    const rl = toExchangeError(new ccxt.RateLimitExceeded('mexc 429'), 'query');
    expect(rl).toBeInstanceOf(RateLimitError);
    expect((rl as RateLimitError).retryAfterMs).toBeUndefined();
    expect(toExchangeError(new ccxt.DDoSProtection('mexc 418'), 'query')).toBeInstanceOf(RateLimitError);
    expect(toExchangeError(new ccxt.InvalidNonce('mexc recvWindow'), 'submit')).toBeInstanceOf(ClockSkewError);
    const bad = toExchangeError(new ccxt.BadResponse('mexc garbled'), 'submit');
    expect(bad).toBeInstanceOf(ExchangeServerError);
    expect(isUnknownOutcome(bad, 'submit')).toBe(true);
  });

  it("maps ccxt's client-side refusals to the matching classes", () => {
    expect(toExchangeError(new ccxt.AuthenticationError('mexc requires "apiKey" credential'), 'submit')).toBeInstanceOf(AuthenticationError);
    expect(toExchangeError(new ccxt.PermissionDenied('mexc no permission'), 'submit')).toBeInstanceOf(AuthenticationError);
    expect(toExchangeError(new ccxt.InsufficientFunds('mexc funds'), 'submit')).toBeInstanceOf(InsufficientBalanceError);
    expect(toExchangeError(new ccxt.OrderNotFound('mexc order'), 'cancel')).toBeInstanceOf(OrderNotFoundError);
    expect(toExchangeError(new ccxt.BadSymbol('mexc does not have market symbol X/Y'), 'submit')).toBeInstanceOf(SymbolNotTradableError);
    expect(toExchangeError(new ccxt.InvalidOrder('mexc amount must be greater than minimum amount precision'), 'submit')).toBeInstanceOf(InvalidOrderError);
    expect(toExchangeError(new ccxt.NotSupported('mexc x'), 'query')).toBeInstanceOf(ExchangeRequestError);
    expect(toExchangeError(new ccxt.ExchangeError('mexc {"code":123}'), 'query')).toBeInstanceOf(ExchangeRequestError);
  });

  it('maps anything else to a non-retryable ExchangeRequestError with the cause kept', () => {
    const t = new TypeError('cannot read properties of undefined');
    const e = toExchangeError(t, 'query');
    expect(e).toBeInstanceOf(ExchangeRequestError);
    expect(e.retryable).toBe(false);
    expect(e.cause).toBe(t);
    const s = toExchangeError('a thrown string', 'query');
    expect(s).toBeInstanceOf(ExchangeRequestError);
    expect(s.message).toBe('a thrown string');
  });

  it('redacts the literal secret anywhere in a message', () => {
    const e = toExchangeError(new Error(`config dump secret=${SECRET} key=${KEY}`), 'query', [SECRET, KEY]);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain(KEY);
    expect(redactSecrets('a "signature=abc" b', [])).toBe('a "signature=<redacted>" b');
  });
});

describe('real transport failures through ccxt', () => {
  it('a connection refused is a NetworkError whose request was not sent', async () => {
    const s = await stub((_req, res) => reply(res, 200, '{}'));
    const url = s.url;
    await s.close();
    stubs.splice(stubs.indexOf(s), 1);
    const client = createMexcRestClient({ restUrl: url, apiKey: KEY, secret: SECRET });
    const e = toExchangeError(await thrown(() => client.spotPrivatePostOrder({ symbol: 'BTCUSDT' })), 'submit', [SECRET]);
    expect(e).toBeInstanceOf(NetworkError);
    expect((e as NetworkError).requestSent).toBe(false);
  });

  it('a connection reset after a signed POST arrived is a NetworkError in doubt, with no signature or secret in any message', async () => {
    const s = await stub((req) => req.socket.destroy());
    const client = createMexcRestClient({ restUrl: s.url, apiKey: KEY, secret: SECRET });
    const raw = await thrown(() => client.spotPrivatePostOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '1' }));
    // ccxt's own message carries the signed URL: that is what must not leak.
    expect(String((raw as Error).message)).toMatch(/signature=[0-9a-f]{64}/);
    const e = toExchangeError(raw, 'submit', [SECRET]);
    expect(s.requests).toHaveLength(1);
    expect(e).toBeInstanceOf(NetworkError);
    expect((e as NetworkError).requestSent).toBe(true);
    for (const text of [e.message, (e.cause as Error).message, (e.cause as Error).stack ?? '', e.stack ?? '']) {
      expect(text).not.toMatch(/signature=[0-9a-f]/);
      expect(text).not.toContain(SECRET);
    }
  });

  it('no reply within timeoutMs is a TimeoutError', async () => {
    // The stub never answers; the client gives up after its deadline.
    const s = await stub(() => undefined);
    const client = createMexcRestClient({ restUrl: s.url, timeoutMs: 150 });
    const e = toExchangeError(await thrown(() => client.spotPublicGetTime()), 'query');
    expect(e).toBeInstanceOf(TimeoutError);
  });
});
