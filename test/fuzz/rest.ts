/**
 * The simulator's REST endpoints over loopback (services/adapters/mexcSim): random methods, known
 * and made-up paths, parameters with plausible and hostile values, requests signed correctly (so
 * the routes themselves are reached), signed wrongly or not at all, bodies as form, JSON or bytes,
 * and sizes past the URL and body limits. Rules: no answer is a 500 (an unexpected error inside
 * the server), every answer but HEAD's is JSON, an error answer is MEXC's `{"code","msg"}`, and
 * the server still answers a ping at the end (it never went down).
 */
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { FuzzInvariantError, fuzz, nastyString, type FuzzOptions, type FuzzResult, type Tally } from './common.js';

const KEY = 'fuzz-key';
const SECRET = 'fuzz-secret';
const BTC = symbolId('BTCUSDT');

/** The routes with their methods (routes.ts), so most requests reach a handler rather than a 404. */
const ROUTES: readonly (readonly [string, string])[] = [
  ['GET', '/api/v3/ping'], ['GET', '/api/v3/time'], ['GET', '/api/v3/exchangeInfo'], ['GET', '/api/v3/depth'], ['GET', '/api/v3/klines'], ['GET', '/api/v3/ticker/24hr'],
  ['GET', '/api/v3/ticker/bookTicker'], ['GET', '/api/v3/ticker/price'], ['GET', '/api/v3/trades'], ['GET', '/api/v3/aggTrades'], ['GET', '/api/v3/account'],
  ['POST', '/api/v3/order'], ['POST', '/api/v3/order'], ['POST', '/api/v3/order/test'], ['GET', '/api/v3/order'], ['DELETE', '/api/v3/order'], ['GET', '/api/v3/openOrders'],
  ['DELETE', '/api/v3/openOrders'], ['GET', '/api/v3/allOrders'], ['GET', '/api/v3/myTrades'], ['GET', '/api/v3/tradeFee'], ['POST', '/api/v3/userDataStream'],
  ['PUT', '/api/v3/userDataStream'], ['DELETE', '/api/v3/userDataStream'], ['GET', '/api/v3/userDataStream'], ['GET', '/sim/faults'], ['GET', '/sim/stats'],
];
const PATHS = [
  '/api/v3/ping', '/api/v3/time', '/api/v3/exchangeInfo', '/api/v3/defaultSymbols', '/api/v3/depth', '/api/v3/klines', '/api/v3/ticker/24hr', '/api/v3/ticker/bookTicker',
  '/api/v3/ticker/price', '/api/v3/trades', '/api/v3/aggTrades', '/api/v3/account', '/api/v3/order', '/api/v3/order/test', '/api/v3/openOrders', '/api/v3/allOrders',
  '/api/v3/myTrades', '/api/v3/tradeFee', '/api/v3/userDataStream', '/api/v3/capital/config/getall', '/api/v3/selfSymbols', '/api/v1/contract/detail', '/sim/faults', '/sim/stats', '/sim/orders',
];
const PARAMS = ['symbol', 'side', 'type', 'quantity', 'quoteOrderQty', 'price', 'newClientOrderId', 'orderId', 'origClientOrderId', 'recvWindow', 'limit', 'interval', 'startTime', 'endTime', 'listenKey', 'symbols', 'timestamp'];
const GOOD: Record<string, fc.Arbitrary<string>> = {
  symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'btcusdt', ''),
  side: fc.constantFrom('BUY', 'SELL', 'buy', 'HOLD'),
  type: fc.constantFrom('LIMIT', 'MARKET', 'LIMIT_MAKER', 'IMMEDIATE_OR_CANCEL', 'FILL_OR_KILL', 'STOP'),
  quantity: fc.constantFrom('0.001', '0.0001', '1', '0', '-1', '1e-3', '0.0000001', '100000'),
  price: fc.constantFrom('56000', '56000.01', '56000.001', '1', '0', '-5', '1e9'),
  recvWindow: fc.constantFrom('5000', '60000', '60001', '0', '0xEA60', '1e3', '-1'),
  limit: fc.constantFrom('1', '500', '1000', '1001', '0', '-1', 'x'),
  interval: fc.constantFrom('1m', 'Min1', '5m', '60m', '1d', '1w', 'x'),
};
const value = (name: string): fc.Arbitrary<string> => (GOOD[name] ? fc.oneof({ weight: 3, arbitrary: GOOD[name] }, { weight: 1, arbitrary: nastyString }) : nastyString);

interface Req {
  readonly route: readonly [string, string];
  readonly params: readonly (readonly [string, string])[];
  readonly sign: 'good' | 'bad' | 'none';
  readonly key: 'good' | 'bad' | 'none';
  readonly where: 'query' | 'body';
  readonly body: 'none' | 'form' | 'json' | 'bytes' | 'huge';
  readonly bytes: Uint8Array;
  readonly longUrl: boolean;
}

const route: fc.Arbitrary<readonly [string, string]> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ROUTES) },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.oneof({ weight: 8, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT') }, { weight: 1, arbitrary: fc.constantFrom('PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'FOO') }),
      fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...PATHS) }, { weight: 1, arbitrary: fc.oneof(fc.webPath(), fc.constantFrom('/', '//api/v3/ping', '/api/v3/../v3/ping', '/api/v3/ping%00', '/api/v3/order?', '/ws', '/api/v3/ORDER')) }),
    ),
  },
);

const req: fc.Arbitrary<Req> = fc.record({
  route,
  params: fc.uniqueArray(fc.constantFrom(...PARAMS), { maxLength: 8 }).chain((names) => fc.tuple(...names.map((n) => value(n).map((v) => [n, v] as const)))),
  sign: fc.constantFrom('good', 'good', 'bad', 'none'),
  key: fc.constantFrom('good', 'good', 'bad', 'none'),
  where: fc.constantFrom('query', 'query', 'body'),
  body: fc.oneof({ weight: 10, arbitrary: fc.constantFrom('none', 'form', 'json', 'bytes') }, { weight: 1, arbitrary: fc.constant('huge') }),
  bytes: fc.uint8Array({ maxLength: 256 }),
  longUrl: fc.integer({ min: 0, max: 40 }).map((n) => n === 0),
});

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(server: SimServer, agent: Agent, r: Req): Promise<Answer | { refused: string }> {
  const [method, path] = r.route;
  const qs = r.params.filter(([k]) => k !== 'timestamp' || r.sign !== 'good').map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  if (r.sign === 'good') qs.push(`timestamp=${Date.now()}`);
  let query = qs.join('&');
  let body: Buffer | undefined;
  if (r.body === 'form' || r.where === 'body') body = Buffer.from(query);
  else if (r.body === 'json') body = Buffer.from(JSON.stringify(Object.fromEntries(r.params)));
  else if (r.body === 'bytes') body = Buffer.from(r.bytes);
  else if (r.body === 'huge') body = Buffer.alloc((1 << 20) + 4096, 0x61);
  if (r.where === 'body' && r.body !== 'huge') query = '';
  if (r.sign === 'good') {
    // MEXC's rule (auth.ts signedPayload): HMAC-SHA256 of the query without `signature`, then the body.
    const sig = createHmac('sha256', SECRET).update(query + (body ? body.toString('utf8') : '')).digest('hex');
    if (r.where === 'body' && body) body = Buffer.concat([body, Buffer.from(`&signature=${sig}`)]);
    else query = `${query}${query ? '&' : ''}signature=${sig}`;
  } else if (r.sign === 'bad') query = `${query}${query ? '&' : ''}signature=${'0'.repeat(64)}`;
  if (r.longUrl) query += `&pad=${'x'.repeat(9000)}`;
  const headers: Record<string, string | number> = { 'content-type': r.body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded' };
  if (r.key === 'good') headers['x-mexc-apikey'] = KEY;
  else if (r.key === 'bad') headers['x-mexc-apikey'] = 'nope';
  if (body) headers['content-length'] = body.length;
  return new Promise((resolve) => {
    let done = false;
    const finish = (v: Answer | { refused: string }): void => {
      if (!done) resolve(v);
      done = true;
    };
    let c;
    try {
      c = request({ host: '127.0.0.1', port: server.port, method, path: `${path}${query ? `?${query}` : ''}`, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => finish({ refused: `response ${e.name}` }));
      });
    } catch (e) {
      // Node refuses some requests before sending (an invalid path character): nothing reached the server.
      finish({ refused: `client ${(e as NodeJS.ErrnoException).code ?? (e as Error).name}` });
      return;
    }
    c.setTimeout(10_000, () => c.destroy(new Error('timeout')));
    // A reset after a 413 or 414 (the server closes a connection it refused) is an answer too.
    c.on('error', (e: NodeJS.ErrnoException) => finish({ refused: `connection ${e.code ?? e.message}` }));
    c.end(body);
  });
}

function check(r: Req, a: Answer | { refused: string }, tally: Tally): void {
  const [method, path] = r.route;
  if ('refused' in a) {
    if (/timeout/.test(a.refused)) throw new FuzzInvariantError(`no answer within 10 s to ${method} ${path}`);
    tally.count(`refused:${a.refused}`);
    return;
  }
  if (a.status >= 500) throw new FuzzInvariantError(`${a.status} for ${method} ${path}: ${a.body.slice(0, 200)}`);
  if (method === 'HEAD') {
    tally.count(`${a.status}:HEAD`);
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(a.body);
  } catch {
    throw new FuzzInvariantError(`${a.status} for ${method} ${path} is not JSON: ${a.body.slice(0, 200)}`);
  }
  if (a.status >= 400) {
    const e = parsed as { code?: unknown; msg?: unknown };
    if (typeof e.code !== 'number' || typeof e.msg !== 'string') throw new FuzzInvariantError(`${a.status} without MEXC's {code,msg}: ${a.body.slice(0, 200)}`);
    tally.count(`rejected:${a.status}/${e.code}`);
    return;
  }
  tally.count(`accepted:${a.status}`);
}

export async function fuzzSimRest(opts: FuzzOptions): Promise<FuzzResult> {
  const errors: string[] = [];
  const server = await startSimServer({
    markets: [{ symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: Dec.from('0.01'), stepSize: Dec.from('0.000001'), minQuantity: Dec.from('0.000001'), minNotional: Dec.ONE, makerFeePct: 0, takerFeePct: 0.05, status: 'online', apiTradable: true }],
    accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(1_000_000), BTC: Dec.from(10) } }],
    // The server's own account of an unexpected error: any such line is a failure.
    log: (l) => {
      if (/^error/.test(l)) errors.push(l);
    },
  });
  server.pushMarketData({ type: 'book', symbol: BTC, book: { time: Date.now(), bid: 56_000, bidSize: 5, ask: 56_000.5, askSize: 5 } });
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    const result = await fuzz('simulator REST (signatures, parameters, bodies, methods, sizes)', req, async (r: Req, tally: Tally) => check(r, await send(server, agent, r), tally), opts);
    const ping = await fetch(`${server.restUrl}/api/v3/ping`);
    const failures = [...result.failures, ...(ping.status === 200 ? [] : [`ping answered ${ping.status} after the run`]), ...errors.slice(0, 5).map((e) => `server log: ${e}`)];
    return { ...result, failures };
  } finally {
    agent.destroy();
    await server.close();
  }
}
