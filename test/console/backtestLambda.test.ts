/**
 * The backtest Lambda (Telegram /backtest on AWS) end to end over a local folder store: a real
 * candle fixture archived as day files the way the hot path writes them, the handler's SQS batch,
 * the kernel backtest, the report files under backtests/<jobId>/, and the answer as an alert.
 * The figures are checked against runBacktest over the same candles, never against numbers
 * written down here. Then the local runner of npm start, whose answer must read the same.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeries } from '../../cli/loadSeries.js';
import { localBacktestRunner } from '../../fargate/console.js';
import { backtestKeys, backtestSettings, createBacktestHandler, parseBacktestEnv, type BacktestHandlerDeps } from '../../lambdas/backtest/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { runBacktest } from '../../services/backtest/engine.js';
import { backtestDoneText, backtestQueuedText, type BacktestAnswerSummary } from '../../services/console/backtestJob.js';
import { MemoryOnceStore } from '../../services/console/ports.js';
import { parseConfig } from '../../services/config/schema.js';
import { backtestRequestEvent, serialiseEvent, type AlertEvent } from '../../services/events/types.js';
import { CandleArchive, type ObjectStore } from '../../services/ml/archive.js';
import { formatAlert } from '../../services/ops/alertFormat.js';

const BTC = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
const PEPE = 'test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz';
/** After every fixture candle: all of them are closed. */
const LATER = Date.UTC(2027, 0, 1);
/** Fewer seeds and scenarios than npm run backtest's defaults: the figures checked do not depend on them. */
const RESEARCH = { baselineSeeds: 2, scenarios: 200, replays: 0, replayBudgetMs: 1000, blockHours: 24, seed: 1 };

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'backtest-lambda-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder store holding the candle archive of the given files (`candles/<SYMBOL>/<day>.csv`). */
async function archiveOf(name: string, files: Record<string, string>, keepDays?: number): Promise<LocalFolderStore> {
  const store = new LocalFolderStore(join(root, name));
  const archive = new CandleArchive(store);
  for (const [symbol, file] of Object.entries(files)) {
    let candles = loadCandleFile(file, { repair: true }).candles;
    if (keepDays !== undefined) candles = candles.filter((c) => c.openTime < Date.UTC(2021, 3, 18 + keepDays));
    await archive.write(symbol, candles, LATER);
  }
  return store;
}

/** The store with a count of the summaries written (a run writes one). */
function counting(store: ObjectStore): ObjectStore & { summaries: number } {
  const c = {
    summaries: 0,
    get: (k: string) => store.get(k),
    list: (p: string) => store.list(p),
    put: (k: string, b: Uint8Array, t?: string) => {
      if (k.endsWith('/summary.json')) c.summaries++;
      return store.put(k, b, t);
    },
  };
  return c;
}

function deps(store: ObjectStore, name: string, alerts: AlertEvent[], over: Partial<BacktestHandlerDeps['settings']> = {}): BacktestHandlerDeps {
  const env = parseBacktestEnv({ STAGE: 'dev', ARTIFACT_BUCKET: 'b', IDEMPOTENCY_TABLE: 'i', ALERTS_QUEUE_URL: 'q', TRADING_SYMBOLS: 'BTCUSDT', STRATEGY_MODE: 'standard', RISK_PROFILE: 'conservative' });
  return {
    store,
    lock: new MemoryOnceStore(() => Date.now()),
    // The alert must fit the event schema, as on the queue.
    alert: (e) => Promise.resolve(void (serialiseEvent(e), alerts.push(e))),
    now: () => Date.now(),
    settings: { ...backtestSettings(env), scratch: join(root, `${name}-scratch`), research: RESEARCH, ...over },
  };
}

let seq = 0;
function record(body: string, receives = 1): SQSRecord {
  return { messageId: `m-${++seq}`, receiptHandle: 'h', body, attributes: { ApproximateReceiveCount: String(receives) }, messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: 'arn', awsRegion: 'us-east-1' } as unknown as SQSRecord;
}
const request = (jobId: string, days?: number) => JSON.stringify(backtestRequestEvent({ jobId, time: Date.UTC(2026, 5, 10), requestedBy: 'telegram 100 @op', ...(days !== undefined ? { days } : {}) }));
const text = async (store: ObjectStore, key: string): Promise<string | undefined> => {
  const b = await store.get(key);
  return b ? new TextDecoder().decode(b) : undefined;
};

describe('backtest Lambda', () => {
  it('runs the kernel backtest of the traded symbols over the archive, writes the report, answers with the figures net of fees and slippage', async () => {
    const base = await archiveOf('run', { BTCUSDT: BTC, PEPEUSDT: PEPE });
    const store = counting(base);
    const alerts: AlertEvent[] = [];
    const d = deps(store, 'run', alerts);
    const handler = createBacktestHandler(() => Promise.resolve(d));
    const r = await handler({ Records: [record(request('backtest-a-1'))] }, localContext('backtest', 'r1'));
    expect(r).toEqual({ batchItemFailures: [] });

    // The same candles straight from the fixture, through runBacktest with the stage's config.
    const direct = await runBacktest({ series: loadSeries([BTC], ['BTCUSDT']).series, config: d.settings.config });
    expect(direct.trades.length).toBeGreaterThan(0);
    const keys = backtestKeys('backtest-a-1');
    const summary = JSON.parse((await text(store, keys.summary))!) as { trades: number; finalBalance: number; netPnl: number; fees: number; symbols: string[]; candles: number; mode: string; profile: string; run: { data: string[] } };
    expect(summary.symbols).toEqual(['BTCUSDT']);
    expect(summary.candles).toBe(direct.candles);
    expect(summary.trades).toBe(direct.trades.length);
    expect(summary.finalBalance).toBeCloseTo(direct.finalBalance.toNumber(), 6);
    expect(summary.netPnl).toBeCloseTo(direct.finalBalance.toNumber() - direct.initialBalance.toNumber(), 6);
    expect(summary.fees).toBeCloseTo(direct.trades.reduce((n, t) => n + t.fees.toNumber(), 0), 6);
    expect(summary).toMatchObject({ mode: 'standard', profile: 'conservative' });
    expect(summary.run.data).toEqual(['candles/BTCUSDT/2021-04-18.csv', 'candles/BTCUSDT/2021-04-19.csv', 'candles/BTCUSDT/2021-04-20.csv', 'candles/BTCUSDT/2021-04-21.csv']);
    expect(await text(store, keys.report)).toContain('<html');
    expect(await text(store, `${keys.prefix}trades.csv`)).toContain('\n');

    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a).toMatchObject({ id: 'backtest:job:backtest-a-1', severity: 'info', title: 'backtest job backtest-a-1 finished' });
    expect(a.detail).toContain("backtest of BTCUSDT over the candle archive's last 4 day(s) (2021-04-18 to 2021-04-21), mode standard, profile conservative");
    expect(a.detail).toContain(`${direct.trades.length} trades`);
    expect(a.detail).toContain(`Net ${summary.netPnl >= 0 ? '+' : ''}${summary.netPnl.toFixed(2)} USDT`);
    expect(a.detail).toContain('fees and slippage');
    expect(a.detail).toContain('Report: backtests/backtest-a-1/report.html in the artifact bucket');
    // As the dispatcher sends it to the chat: whole, not cut at its 700 characters.
    expect(formatAlert(a, 'dev').text).toContain('report.html in the artifact bucket');

    // Redelivered after it was answered: acknowledged, neither run nor answered again.
    expect(await handler({ Records: [record(request('backtest-a-1'), 2)] }, localContext('backtest', 'r2'))).toEqual({ batchItemFailures: [] });
    expect(alerts).toHaveLength(1);
    expect(store.summaries).toBe(1);

    // Stopped between the summary and the answer's marker: answered once from the summary, not run again.
    rmSync(join(root, 'run', keys.answer));
    await handler({ Records: [record(request('backtest-a-1'), 3)] }, localContext('backtest', 'r3'));
    await handler({ Records: [record(request('backtest-a-1'), 4)] }, localContext('backtest', 'r4'));
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.id).toBe(a.id);
    expect(alerts[1]!.detail).toBe(a.detail);
    expect(store.summaries).toBe(1);
  }, 120_000);

  it('never runs one job twice at once: a duplicate delivered during the run waits (a batch failure) and is then acknowledged', async () => {
    const inner = counting(await archiveOf('race', { BTCUSDT: BTC }));
    // The first run is held once it has claimed the job (at its archive listing) until the duplicate is through.
    let listed!: () => void;
    const atList = new Promise<void>((r) => (listed = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let lists = 0;
    const store: ObjectStore = { get: (k) => inner.get(k), put: (k, b, t) => inner.put(k, b, t), list: async (p) => (++lists === 1 ? (listed(), await gate, inner.list(p)) : inner.list(p)) };
    const alerts: AlertEvent[] = [];
    // One set of dependencies (one claim store, as the idempotency table is one) for both invocations.
    const d = deps(store, 'race', alerts);
    const handler = createBacktestHandler(() => Promise.resolve(d));
    const one = record(request('backtest-b-1'));
    const two = record(request('backtest-b-1'));
    const first = handler({ Records: [one] }, localContext('backtest', 'r1'));
    await atList;
    expect(await handler({ Records: [two] }, localContext('backtest', 'r2'))).toEqual({ batchItemFailures: [{ itemIdentifier: two.messageId }] });
    release();
    expect(await first).toEqual({ batchItemFailures: [] });
    expect(inner.summaries).toBe(1);
    expect(alerts).toHaveLength(1);
    // The duplicate's redelivery finds the job answered.
    expect(await handler({ Records: [record(request('backtest-b-1'), 2)] }, localContext('backtest', 'r3'))).toEqual({ batchItemFailures: [] });
    expect(alerts).toHaveLength(1);
    expect(inner.summaries).toBe(1);
  }, 120_000);

  it('a too-short archive is answered plainly and nothing runs; the untraded symbol does not count', async () => {
    const store = counting(await archiveOf('short', { BTCUSDT: BTC, PEPEUSDT: PEPE }, 2));
    const alerts: AlertEvent[] = [];
    const handler = createBacktestHandler(() => Promise.resolve(deps(store, 'short', alerts)));
    expect(await handler({ Records: [record(request('backtest-c-1'))] }, localContext('backtest', 'r1'))).toEqual({ batchItemFailures: [] });
    expect(store.summaries).toBe(0);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: 'backtest:job:backtest-c-1', title: 'backtest job backtest-c-1 did not run' });
    expect(alerts[0]!.detail).toBe('Job backtest-c-1: no backtest ran. The candle archive has 2 day(s) of BTCUSDT; /backtest needs at least 3 (the archive grows by a day per day of trading).');
    // Asked for fewer days than the minimum over a long enough archive: the same plain answer.
    const long = counting(await archiveOf('short-ask', { BTCUSDT: BTC }));
    const more: AlertEvent[] = [];
    await createBacktestHandler(() => Promise.resolve(deps(long, 'short-ask', more)))({ Records: [record(request('backtest-c-2', 1))] }, localContext('backtest', 'r2'));
    expect(more[0]!.detail).toContain('has 1 day(s) of BTCUSDT');
    expect(long.summaries).toBe(0);
  }, 60_000);

  it('malformed records fail alone; junk events are refused without throwing; a failing store is retried, answered on the last receive', async () => {
    const store = await archiveOf('bad', { BTCUSDT: BTC }, 2);
    const alerts: AlertEvent[] = [];
    const handler = createBacktestHandler(() => Promise.resolve(deps(store, 'bad', alerts)));
    const junk = record('not json');
    const wrongType = record(JSON.stringify({ type: 'retrain_request', id: 'r', time: 1, reason: 'x' }));
    const badDays = record(JSON.stringify({ ...JSON.parse(request('backtest-d-0')), days: 0 }));
    const good = record(request('backtest-d-1'));
    const r = (await handler({ Records: [junk, wrongType, badDays, good, null] }, localContext('backtest', 'r1'))) as { batchItemFailures: { itemIdentifier: string }[] };
    expect(r.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual([junk.messageId, wrongType.messageId, badDays.messageId].sort());
    expect(alerts.map((a) => a.id)).toEqual(['backtest:job:backtest-d-1']);
    for (const e of [null, 7, {}, { source: 'aws.events', 'detail-type': 'Scheduled Event' }]) {
      expect(await handler(e, localContext('backtest', 'r2'))).toMatchObject({ status: 'rejected' });
    }

    const broken: ObjectStore = { get: (k) => store.get(k), put: (k, b) => store.put(k, b), list: () => Promise.reject(new Error('S3 unavailable')) };
    const failing: AlertEvent[] = [];
    // The redelivery comes after the queue's visibility timeout, when the first attempt's claim has expired.
    let clock = Date.UTC(2026, 5, 10);
    const d2 = { ...deps(broken, 'broken', failing, { maxReceives: 3 }), lock: new MemoryOnceStore(() => clock) };
    const h2 = createBacktestHandler(() => Promise.resolve(d2));
    const first = record(request('backtest-e-1'), 1);
    expect(await h2({ Records: [first] }, localContext('backtest', 'r3'))).toEqual({ batchItemFailures: [{ itemIdentifier: first.messageId }] });
    expect(failing).toHaveLength(0);
    clock += d2.settings.lockMs + 1;
    const last = record(request('backtest-e-1'), 3);
    expect(await h2({ Records: [last] }, localContext('backtest', 'r4'))).toEqual({ batchItemFailures: [{ itemIdentifier: last.messageId }] });
    expect(failing).toHaveLength(1);
    expect(failing[0]).toMatchObject({ id: 'backtest:job:backtest-e-1', severity: 'warning', title: 'backtest job backtest-e-1 failed' });
    expect(failing[0]!.detail).toContain('S3 unavailable (after 3 attempts; the request is in the dead-letter queue)');
  }, 60_000);
});

describe('the local /backtest runner (npm start)', () => {
  it('runs npm run backtest over the local archive in a child process and answers with the same text as the Lambda', async () => {
    const dataDir = join(root, 'local');
    const archive = new CandleArchive(new LocalFolderStore(join(dataDir, 'artifacts')));
    await archive.write('BTCUSDT', loadCandleFile(BTC, { repair: true }).candles, LATER);
    await archive.write('PEPEUSDT', loadCandleFile(PEPE, { repair: true }).candles, LATER);
    const run = localBacktestRunner(dataDir, { symbols: ['BTCUSDT'], mode: 'standard', profile: 'conservative' });
    let done!: (t: string) => void;
    const answered = new Promise<string>((r) => (done = r));
    const first = await run({ jobId: 'backtest-l-1', time: Date.UTC(2026, 5, 10), requestedBy: 'telegram 100 @op', days: 30 }, (t) => Promise.resolve(done(t)));
    expect(first).toBe(backtestQueuedText('backtest-l-1', 4, "BTCUSDT over the candle archive's last 4 day(s) (2021-04-18 to 2021-04-21), in a child process"));
    // One at a time.
    expect(await run({ jobId: 'backtest-l-2', time: 0, requestedBy: 'x' }, () => Promise.resolve())).toContain('running already (job backtest-l-1)');
    const text = await answered;
    const out = join(dataDir, 'jobs', 'backtest-l-1');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as BacktestAnswerSummary;
    expect(text).toBe(backtestDoneText('backtest-l-1', summary, "BTCUSDT over the candle archive's last 4 day(s) (2021-04-18 to 2021-04-21)", join(out, 'report.html')));
    const direct = await runBacktest({ series: loadSeries([BTC], ['BTCUSDT']).series, config: parseConfig({ mode: 'standard', risk: { profile: 'conservative' } }) });
    expect(summary.trades).toBe(direct.trades.length);
    expect(summary.symbols).toEqual(['BTCUSDT']);
    // Too short: answered at once, nothing started.
    expect(await run({ jobId: 'backtest-l-3', time: 0, requestedBy: 'x', days: 2 }, () => Promise.resolve())).toBe('Job backtest-l-3: no backtest ran. The candle archive has 2 day(s) of BTCUSDT; /backtest needs at least 3 (the archive grows by a day per day of trading).');
  }, 180_000);
});
