/**
 * External signals in the runtime (paper, the MEXC simulator over loopback, dynalite in memory):
 * the webhook's secret (header any case, bearer, body), a routed entry and the sell that closes it
 * through the executor, the audit trail in the data directory and the state table, the queue
 * channel, the Prometheus `/metrics` and the exchange endpoints. Every wait is a bounded poll.
 */
import { parseConfig, type Config } from '../../services/config/schema.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../fargate/runtime.js';
import { parseRuntimeConfig, type RuntimeConfigInput } from '../../fargate/runtimeConfig.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { auditFilePath } from '../../services/adapters/file/auditFile.js';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { ConfigError } from '../../services/core/errors.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { MemorySignalInbox } from '../../services/signals/inbox.js';
import type { AuditEvent } from '../../services/signals/audit.js';
import { utcDayOf, type StateStore } from '../../services/state/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';

const BTC = symbolId('BTCUSDT');
const ETH = symbolId('ETHUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const TABLE = 'signals-runtime-test';
const SECRET = 'test-signal-secret-0123456789';

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('signals in the runtime (paper, simulator over loopback)', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let store: StateStore;
  let dir: string;
  let lastClose: number;
  const runtimes: Runtime[] = [];
  let owners = 0;

  beforeAll(async () => {
    const now = Date.now();
    const startMinute = now - (now % 60_000);
    const replay = new CandleReplay([{ symbol: BTC, candles }, { symbol: ETH, candles }], { shiftTo: startMinute - 1000 * 60_000 });
    server = await startSimServer({ markets: [simMarketFromCandles(BTC, candles), simMarketFromCandles(ETH, candles)], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }], replay, startAt: startMinute });
    lastClose = candles[999]!.close;
    dynamo = await startLocalDynamo();
    await createTable(dynamo.client, TABLE);
    store = createDynamoStore({ client: dynamo.client, tableName: TABLE, clock: Date.now });
  });
  afterAll(async () => {
    await server.close();
    await dynamo.close();
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop('test cleanup');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function start(over: Partial<RuntimeConfigInput> = {}, deps: { inbox?: MemorySignalInbox; secret?: string; strategy?: Config } = {}) {
    dir = await mkdtemp(join(tmpdir(), 'signals-'));
    const lines: string[] = [];
    const config = parseRuntimeConfig({
      symbols: ['BTCUSDT'],
      exchangeUrl: server.restUrl,
      dataDir: dir,
      stateStorage: 'memory',
      tableName: TABLE,
      statusPort: 0,
      heartbeatMs: 200,
      leaseTtlMs: 3000,
      killSwitchPollMs: 50,
      warmupMinutes: 300,
      archiveCandles: false,
      signals: { enabled: true, dryRun: false },
      ...over,
    });
    const rt = await Runtime.start(config, {
      out: { log: (l) => lines.push(l), err: (l) => lines.push(l) },
      owner: `signals-${++owners}`,
      dynamo,
      signalSecret: deps.secret ?? SECRET,
      ...(deps.inbox ? { signalInbox: deps.inbox } : {}),
      ...(deps.strategy ? { strategy: deps.strategy } : {}),
    });
    runtimes.push(rt);
    // A book at the last close, so a buy has an ask to enter at.
    server.pushMarketData({ type: 'book', symbol: BTC, book: { time: rt.now() + 1000, bid: lastClose - 1, bidSize: 50, ask: lastClose, askSize: 50 } });
    await until('the book to reach the session', () => rt.session.counters.books > 0);
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${rt.statusServer!.url}/signals`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { rt, lines, post, url: rt.statusServer!.url };
  }

  it('a whole strategy config (npm start --config) keeps its signals section but takes the runtime signals mode', async () => {
    const file = parseConfig({ signals: { minConfidence: 0.5, enabled: false } });
    const { rt } = await start({ signals: { enabled: true, dryRun: true } }, { strategy: file });
    expect(rt.strategy.signals).toMatchObject({ enabled: true, dryRun: true, minConfidence: 0.5 });
    expect(rt.strategy.risk).toEqual(file.risk);
  });

  it('checks the secret (header in any case, bearer, body), routes through the executor, audits to file and table', async () => {
    const { rt, post, lines } = await start();
    // No secret, a wrong one: 401 and nothing decided.
    expect((await post({ symbol: 'BTCUSDT', side: 'buy', id: 'w0' })).status).toBe(401);
    const wrong = await post({ symbol: 'BTCUSDT', side: 'buy', id: 'w0' }, { 'X-Signal-Secret': `${SECRET}x` });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ ok: false, reason: 'UNAUTHORIZED' });
    expect(rt.signals!.stats.unauthorized).toBe(2);
    expect(rt.signals!.audit.stats.recorded).toBe(0);
    expect(lines.join('\n')).not.toContain(SECRET);

    // The right secret in a mixed-case header: accepted, sent, filled.
    const res = await post({ symbol: 'BTC/USDT', side: 'buy', id: 'w1', source: 'tradingview', confidence: 0.9 }, { 'X-SIGNAL-Secret': SECRET });
    const body = (await res.json()) as { ok: boolean; status: string; traceId: string; levels: { entry: number; stop: number; takeProfit: number } };
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ ok: true, status: 'accepted' });
    expect(body.levels.entry).toBe(lastClose);
    expect(body.levels.stop).toBeLessThan(lastClose);
    expect(body.levels.takeProfit).toBeGreaterThan(lastClose);
    await until('the signal position to open', () => rt.session.executor.position(BTC)?.state === 'open');
    expect(rt.session.executor.position(BTC)?.stop).toBeCloseTo(body.levels.stop, 2);

    // The same id again: 409, nothing more sent.
    expect((await post({ symbol: 'BTCUSDT', side: 'buy', id: 'w1', source: 'tradingview' }, { authorization: `Bearer ${SECRET}` })).status).toBe(409);
    // A malformed one: 400 with the field named.
    const bad = await post({ symbol: 'BTCUSDT', side: 'hold', id: 'w2' }, { authorization: `Bearer ${SECRET}` });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('side');
    // The sell, with the secret in the body (what a charting alert can send): closes the long.
    const sell = await post({ symbol: 'BTCUSDT', side: 'sell', id: 'w3', source: 'tradingview', secret: SECRET });
    expect(sell.status).toBe(200);
    await until('the position to close', () => rt.stats.tradesPersisted === 1);
    const day = utcDayOf(rt.now());
    expect((await store.listClosedTrades(day)).map((t) => t.exitReason)).toContain('external');

    // The audit trail: the file of the UTC day and the state table hold the same events.
    await rt.signals!.audit.flush();
    const fileLines = (await readFile(auditFilePath(join(dir, 'audit'), rt.now()), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    const trace = fileLines.filter((e) => e.traceId === body.traceId).map((e) => e.type);
    expect(trace).toEqual(['RISK_SLTP', 'ORDER_NEW', 'ORDER_FILLED', 'ORDER_BLOCKED', 'ORDER_FILLED']);
    expect(fileLines.find((e) => e.type === 'ORDER_BLOCKED' && e.signalId === 'w2')?.reason).toBe('MALFORMED');
    const stored = (await store.listAudit(day)).filter((e) => e.traceId === body.traceId).map((e) => e.type);
    expect(stored.sort()).toEqual([...trace].sort());
    expect(JSON.stringify(fileLines)).not.toContain(SECRET);

    // The metrics, in Prometheus' format, under the CloudWatch names.
    const metrics = await (await fetch(`${rt.statusServer!.url}/metrics`)).text();
    expect(metrics).toMatch(/^Signals\{Source="tradingview",Outcome="accepted"\} 2$/m);
    expect(metrics).toMatch(/^Signals\{Source="tradingview",Outcome="DUPLICATE"\} 1$/m);
    expect(metrics).toMatch(/^Signals\{Source="webhook",Outcome="UNAUTHORIZED"\} 2$/m);
    expect(metrics).toMatch(/^Orders\{Exchange="paper",Status="[a-z_]+",Type="market"\} \d+$/m);
    expect(metrics).toMatch(/^FeedLagSeconds\{Stream="book:BTCUSDT"\} [\d.e-]+$/m);
    for (const name of ['Heartbeat', 'OrderErrors', 'DailyLossPct', 'RiskRefusals', 'HeartbeatAgeSeconds', 'Equity', 'DailyPnl']) expect(metrics).toContain(`# TYPE ${name} `);
  });

  it('counts a risk refusal of a signal in Prometheus RiskRefusals by its reason code', async () => {
    const { rt, post, url } = await start({ signals: { enabled: true, dryRun: false, cooldownMinutes: 0 } });
    const auth = { 'x-signal-secret': SECRET };
    expect((await post({ symbol: 'BTCUSDT', side: 'buy', id: 'r1', source: 'tradingview' }, auth)).status).toBe(200);
    await until('the signal position to open', () => rt.session.executor.position(BTC)?.state === 'open');
    const before = await (await fetch(`${url}/metrics`)).text();
    expect(before).not.toMatch(/^RiskRefusals\{Reason="ALREADY_IN_POSITION"\}/m);
    // A second buy on the same symbol: the executor refuses it before the venue sees it.
    const again = await post({ symbol: 'BTCUSDT', side: 'buy', id: 'r2', source: 'tradingview' }, auth);
    expect(again.status).toBe(422);
    expect(await again.json()).toMatchObject({ ok: false, reason: 'ALREADY_IN_POSITION' });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^RiskRefusals\{Reason="ALREADY_IN_POSITION"\} 1$/m);
    expect(metrics).toMatch(/^Signals\{Source="tradingview",Outcome="ALREADY_IN_POSITION"\} 1$/m);
  });

  it('refuses signals while the kill switch is PAUSED, read again just before the decision', async () => {
    const { rt, post } = await start();
    // The file is changed; the runtime's periodic poll may not have run yet: the intake reads it anyway.
    await rt.killSwitch.set('PAUSED', 'test');
    const res = await post({ symbol: 'BTCUSDT', side: 'buy', id: 'k1' }, { 'x-signal-secret': SECRET });
    expect(await res.json()).toMatchObject({ ok: false, reason: 'KILL_SWITCH' });
  });

  it('takes signals from the queue, and acks what it decided', async () => {
    const inbox = new MemorySignalInbox(Date.now);
    const { rt } = await start({}, { inbox });
    inbox.send(JSON.stringify({ symbol: 'BTCUSDT', side: 'buy', id: 'q1', source: 'telegram' }));
    inbox.send('not json');
    await until('the queue to be drained', () => inbox.length === 0);
    await until('the position to open', () => rt.session.executor.position(BTC) !== undefined);
    expect(rt.signals!.router.counts).toMatchObject({ accepted: 1, 'refused:MALFORMED': 1 });
  });

  it('serves the exchange endpoints: ping, balance, markets, ticker, test orders (dry run; real ones refused in paper)', async () => {
    const { url } = await start({ signals: { enabled: false } });
    const get = async (path: string, method = 'GET') => {
      const r = await fetch(`${url}${path}`, { method });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    expect(await get('/exchange/ping')).toMatchObject({ status: 200, body: { ok: true, venue: 'paper', markets: 2 } });
    const bal = await get('/exchange/balance');
    expect(bal.body).toMatchObject({ ok: true, balances: [{ asset: 'USDT', free: '10000', locked: '0' }] });
    expect(await get('/exchange/markets?limit=1')).toMatchObject({ status: 200, body: { ok: true, total: 2, count: 1 } });
    expect((await get('/exchange/markets?limit=0')).status).toBe(400);
    const t = await get('/exchange/ticker/BTC_USDT');
    expect(t).toMatchObject({ status: 200, body: { ok: true, symbol: 'BTCUSDT', ask: lastClose, bid: lastClose - 1 } });
    expect(await get('/exchange/ticker/DOGEUSDT')).toMatchObject({ status: 404, body: { ok: false } });
    const dry = await get(`/exchange/test-order?symbol=BTCUSDT&side=buy&notional_usd=1000`, 'POST');
    // 1000 asked, the conservative maximum 100 allowed: 100 / ask, floored to the lot.
    expect(dry).toMatchObject({ status: 200, body: { ok: true, dryRun: true, wouldSend: { symbol: 'BTCUSDT', side: 'buy', type: 'market', priceEstimate: lastClose } } });
    expect((dry.body.clamps as string[])[0]).toContain('capped at 100');
    const real = await get(`/exchange/test-order?symbol=ETHUSDT&side=buy&notional_usd=6&dry_run=false`, 'POST');
    expect(real.status).toBe(403);
    expect(real.body.error).toContain('live trading is off');
    expect((await get('/exchange/test-order?symbol=BTCUSDT&side=hold&notional_usd=5', 'POST')).status).toBe(400);
    expect((await get('/exchange/nothing')).status).toBe(404);
  });

  it('validates the signals section with the runtime config, naming the field', () => {
    expect(() => parseRuntimeConfig({ symbols: ['BTCUSDT'], signals: { minConfidence: 2 } })).toThrow(ConfigError);
    expect(() => parseRuntimeConfig({ symbols: ['BTCUSDT'], signals: { minConfidence: 2 } })).toThrow(/signals\.minConfidence/);
    expect(() => parseRuntimeConfig({ symbols: ['BTCUSDT'], signals: { enabeld: true } })).toThrow(/signals\.enabeld: unknown key/);
  });
});
