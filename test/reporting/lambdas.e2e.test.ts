/**
 * The report and review Lambdas end to end: the handlers built by their own wiring
 * (buildReportDeps / buildReviewDeps) over dynalite for the state, an in-memory S3 behind
 * aws-sdk-client-mock (put, get, list; presigned links signed offline), SNS and Secrets Manager
 * mocked, Bedrock mocked with a Converse-shaped answer, and Telegram's Bot API stood in on loopback.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BedrockRuntimeClient, ConverseCommand, ThrottlingException } from '@aws-sdk/client-bedrock-runtime';
import { createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import type { FillRecord } from '../../services/state/types.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { stateStore } from '../../lambdas/shared/wiring.js';
import { localContext, observability } from '../../lambdas/shared/powertools.js';
import { buildReportDeps, createReportHandler, parseReportEnv } from '../../lambdas/report/handler.js';
import { buildReviewDeps, createReviewHandler, parseReviewEnv } from '../../lambdas/review/handler.js';
import { REVIEW_TOOL_NAME } from '../../services/review/answer.js';
import { FONT_FILE } from '../../cli/report.js';
import { startBotApiStandIn, type BotApiStandIn } from '../helpers/botApiStandIn.js';
import { DAY, MIN, dayTrades } from '../review/helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const s3m = mockClient(S3Client);
const snsm = mockClient(SNSClient);
const secm = mockClient(SecretsManagerClient);
const brm = mockClient(BedrockRuntimeClient);
const bucket = new Map<string, Uint8Array>();
const TOKEN = '123456:test-token-not-a-secret';

let dynamo: LocalDynamo;
let bot: BotApiStandIn;
let tables = 0;
const clients = () => ({
  s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' } }),
  sns: new SNSClient({ region: 'us-east-1' }),
  secrets: new SecretsManagerClient({ region: 'us-east-1' }),
  dynamo: dynamo.client,
  bedrock: new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1 }),
});

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  bot = await startBotApiStandIn();
});
afterAll(async () => {
  await dynamo.close();
  await bot.close();
});
beforeEach(() => {
  bucket.clear();
  bot.calls.length = 0;
  bot.failWith = undefined;
  for (const m of [s3m, snsm, secm, brm]) m.reset();
  s3m.on(PutObjectCommand).callsFake((i: { Key: string; Body: Uint8Array }) => {
    bucket.set(i.Key, i.Body);
    return {};
  });
  s3m.on(GetObjectCommand).callsFake((i: { Key: string }) => {
    const b = bucket.get(i.Key);
    if (!b) throw new NoSuchKey({ message: 'no such key', $metadata: {} });
    return { Body: { transformToByteArray: () => Promise.resolve(b) } };
  });
  s3m.on(ListObjectsV2Command).callsFake((i: { Prefix: string }) => ({ Contents: [...bucket.keys()].filter((k) => k.startsWith(i.Prefix)).sort().map((Key) => ({ Key })), IsTruncated: false }));
  snsm.on(PublishCommand).resolves({ MessageId: 'm-1' });
  secm.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
});

async function freshTable(): Promise<string> {
  const name = `reports-e2e-${++tables}`;
  await createTable(dynamo.client, name);
  return name;
}

const baseEnv = (table: string) => ({
  STAGE: 'test',
  STATE_TABLE: table,
  ARTIFACT_BUCKET: 'artifacts',
  REPORT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:reports',
  TELEGRAM_SECRET_ID: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:telegram',
  TELEGRAM_CHAT_ID: '-1001234567890',
  TELEGRAM_API_URL: bot.apiRoot,
  REPORT_FONT_FILE: FONT_FILE,
});
const text = (k: string) => new TextDecoder().decode(bucket.get(k));

describe('report Lambda', () => {
  let table: string;
  beforeAll(async () => {
    table = await freshTable();
    const store = stateStore(dynamo.client, table, observability('test').logger);
    for (const t of dayTrades()) await store.putClosedTradeOnce(t);
    await store.put('day', { day: '2025-03-04', startEquity: dec('1000'), endEquity: dec('998.5985'), realizedPnl: dec('-1.4015'), fees: dec('0.4015'), trades: 3, wins: 1, losses: 2, updatedAt: DAY }, undefined);
    await store.putOpsEventOnce({ id: 'halt:HALTED_CONSECUTIVE_STOPS:1', at: DAY + 961 * MIN, type: 'halt', code: 'HALTED_CONSECUTIVE_STOPS', detail: '3 losing stops in a row' });
    for (let t = DAY; t < DAY + 12 * 3600_000; t += 15_000) await store.recordUptime({ owner: 'task-1', mode: 'paper', at: t, maxGapMs: 45_000 }).catch(() => undefined);
  }, 120_000);
  const handler = () => createReportHandler(() => buildReportDeps(parseReportEnv(baseEnv(table)), clients(), () => Date.UTC(2025, 2, 5, 8)));

  it('daily: archived (html, csv, png, json), a photo and the page to Telegram, an e-mail with a presigned link; figures from the state', async () => {
    const r = await handler()({ job: 'report', period: 'daily', date: '2025-03-04' }, localContext('report', 'r1'));
    expect(r).toMatchObject({ status: 'done', job: 'report', key: '2025-03-04', trades: 3, empty: false, png: true });
    expect(r.status === 'done' && r.job === 'report' && r.deliveries.map((d) => [d.channel, d.status])).toEqual([['archive', 'ok'], ['link', 'ok'], ['telegram', 'ok'], ['email', 'ok']]);
    expect([...bucket.keys()].sort()).toEqual(['reports/daily/2025-03-04.csv', 'reports/daily/2025-03-04.html', 'reports/daily/2025-03-04.json', 'reports/daily/2025-03-04.png']);
    expect(Buffer.from(bucket.get('reports/daily/2025-03-04.png')!.slice(0, 8)).toString('hex')).toBe('89504e470d0a1a0a');
    const f = JSON.parse(text('reports/daily/2025-03-04.json')) as Record<string, unknown>;
    // -1.0995 + 1.899 - 2.201; fees 0.0995 + 0.101 + 0.201; return -1.4015 / 1000.
    expect(f).toMatchObject({ netPnl: '-1.4015', fees: '0.4015', trades: 3, returnPct: -0.1402, dayBoundary: '00:00 UTC' });
    expect((f.uptime as { pct: number }).pct).toBeCloseTo(50, 1);
    expect(text('reports/daily/2025-03-04.html')).toContain('HALTED_CONSECUTIVE_STOPS');
    const [photo, doc] = bot.calls;
    expect(photo!.method).toBe('sendPhoto');
    expect(photo!.token).toBe(TOKEN);
    expect(photo!.fields.chat_id).toBe('-1001234567890');
    expect(photo!.fields.caption!.length).toBeLessThanOrEqual(1024);
    expect(photo!.fields.caption).toContain('Net PnL -1.40 USDT');
    expect(photo!.fields.caption).toContain('Fees 0.40 USDT');
    expect(doc!.method).toBe('sendDocument');
    expect(doc!.files[0]!.filename).toBe('reports-daily-2025-03-04.html');
    const mail = snsm.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(mail.Subject).toContain('daily report 2025-03-04');
    expect(mail.Message).toMatch(/https:\/\/artifacts\.s3\.us-east-1\.amazonaws\.com\/reports\/daily\/2025-03-04\.html\?.*X-Amz-Signature=/);
    // The dashboard's row: the latest daily report, its headline figures (worked out above: 1 win in 3) and its page.
    const published = await stateStore(dynamo.client, table, observability('test').logger).listPublications();
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ kind: 'report', period: 'daily', key: '2025-03-04', at: Date.UTC(2025, 2, 5, 8), path: 'reports/daily/2025-03-04.html' });
    expect(published[0]!.headline).toMatch(/^net -1\.4015 USDT \(-0\.14%\), 3 trades, win rate 33\.3%, max drawdown /);
  }, 60_000);

  it('a failing channel does not stop the others: Telegram answers 500, the archive and the e-mail still go', async () => {
    bot.failWith = 500;
    const r = await handler()({ job: 'report', period: 'daily', date: '2025-03-04' }, localContext('report', 'r2'));
    const by = r.status === 'done' && r.job === 'report' ? Object.fromEntries(r.deliveries.map((d) => [d.channel, d])) : {};
    expect(by.telegram?.status).toBe('failed');
    expect(by.telegram?.detail).not.toContain(TOKEN);
    expect(by.archive?.status).toBe('ok');
    expect(by.email?.status).toBe('ok');
  }, 60_000);

  it('an empty period says so; weekly has a row per day; junk is refused without a throw', async () => {
    const r = await handler()({ job: 'report', period: 'daily', date: '2025-03-10' }, localContext('report', 'r3'));
    expect(r).toMatchObject({ status: 'done', trades: 0, empty: true });
    expect(bot.calls[0]!.fields.caption).toContain('No trade closed in this period.');
    const w = await handler()({ job: 'report', period: 'weekly', date: '2025-03-04' }, localContext('report', 'r4'));
    expect(w).toMatchObject({ status: 'done', key: '2025-03-03', trades: 3 });
    const wf = JSON.parse(text('reports/weekly/2025-03-03.json')) as { perDay: { day: string; trades: number }[] };
    expect(wf.perDay.map((d) => d.trades)).toEqual([0, 3, 0, 0, 0, 0, 0]);
    expect(await handler()({ hello: 1 }, localContext('report', 'r5'))).toMatchObject({ status: 'refused' });
  }, 60_000);
});

describe('report Lambda: the tax job', () => {
  const fill = (tradeId: string, side: 'buy' | 'sell', time: number, qty: string, price: string, fee: string): FillRecord => ({
    tradeId,
    clientOrderId: `c-${tradeId}`,
    exchangeOrderId: `x-${tradeId}`,
    symbol: 'DOGEUSDT' as SymbolId,
    side,
    price: dec(price),
    quantity: dec(qty),
    fee: dec(fee),
    feeAsset: 'USDT',
    liquidity: 'taker',
    time,
  });

  it('{"job":"tax"}: the year before now from the state fills (a buy, a sell in two parts), the three files, and ledger.json says what the exchange check rests on', async () => {
    const table = await freshTable();
    const store = stateStore(dynamo.client, table, observability('test').logger);
    // 1000 DOGE at 0.10 + 0.1 fee = cost 100.1; sold 600 at 0.12 (fee 0.072) and 400 at 0.11 (fee 0.044).
    for (const f of [fill('1', 'buy', Date.UTC(2025, 5, 1, 12), '1000', '0.10', '0.1'), fill('2', 'sell', Date.UTC(2025, 5, 2, 12), '600', '0.12', '0.072'), fill('3', 'sell', Date.UTC(2025, 5, 3, 12), '400', '0.11', '0.044')]) await store.putFillOnce(f);
    const handler = createReportHandler(() => buildReportDeps(parseReportEnv(baseEnv(table)), clients(), () => Date.UTC(2026, 0, 2, 6)));
    const r = await handler({ job: 'tax' }, localContext('report', 't1'));
    expect(r).toEqual({ status: 'done', job: 'tax', year: 2025, disposals: 2, reconciled: true, exchangeChecked: false, keys: ['tax/2025/disposals.csv', 'tax/2025/cointracking.csv', 'tax/2025/ledger.json'] });
    const rows = text('tax/2025/disposals.csv').trim().split('\n');
    expect(rows).toHaveLength(3);
    // 600 x 0.12 = 72; basis 100.1 x 600/1000 = 60.06; gain 72 - 60.06 - 0.072 = 11.868. The last part takes the rest: 40.04; 44 - 40.04 - 0.044 = 3.916.
    expect(rows[1]).toContain(',600,72,60.06,0.072,11.868');
    expect(rows[2]).toContain(',400,44,40.04,0.044,3.916');
    const ledger = JSON.parse(text('tax/2025/ledger.json')) as { totals: Record<string, { gain: string }>; reconciliation: { stateFills: number; exchangeFills: number | null; ok: boolean }; exchangeCheck: string };
    expect(ledger.totals.DOGE?.gain).toBe('15.784');
    expect(ledger.reconciliation).toMatchObject({ stateFills: 3, exchangeFills: null, ok: true });
    expect(ledger.exchangeCheck).toContain("on AWS the exchange check relies on the reconcile job (every 5 minutes) having copied the exchange's fills into the state's fill ledger");
    expect(text('tax/2025/cointracking.csv').trim().split('\n')).toHaveLength(4);
  }, 120_000);
});

describe('review Lambda', () => {
  const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
  const reviewEnv = (table: string, bedrock: 'on' | 'off') =>
    parseReviewEnv({ ...baseEnv(table), SYMBOLS: 'BTCUSDT', BEDROCK: bedrock, REVIEW_CONFIG: JSON.stringify({ tester: { spans: 2, spanDays: { daily: 1 }, samples: 300 } }) });
  const answer = {
    narrative: 'No live trade closed; the replay of the same candles traded, so the runtime was not trading.',
    findings: [{ title: 'Live did not trade', detail: 'The replay shows trades live did not take.', evidence: ['divergence.replayOnlyCount'] }],
    recommendations: [{ title: 'Fewer, stronger entries', rationale: 'Losing trades in the replay on weak volume.', evidence: ['divergence.replayNetPnl'], changes: [{ key: 'entry.volumeMultiplier', value: 2 }] }],
  };

  it('Bedrock reviews, the recommendation is tested out of sample (not supported: too few trades), the ledger holds it; prompt, response, facts and tests are stored', async () => {
    const table = await freshTable();
    await new CandleArchive(new S3ObjectStore(clients().s3, 'artifacts')).write('BTCUSDT', candles, Date.UTC(2030, 0, 1));
    brm.on(ConverseCommand).resolves({ $metadata: {}, output: { message: { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: REVIEW_TOOL_NAME, input: answer } }] } }, stopReason: 'tool_use', usage: { inputTokens: 9000, outputTokens: 700, totalTokens: 9700 } });
    const now = Date.UTC(2021, 3, 21, 8);
    const h = createReviewHandler(() => buildReviewDeps(reviewEnv(table, 'on'), clients(), () => now));
    const r = await h({ period: 'daily', date: '2021-04-20' }, localContext('review', 'v1'));
    // 9000 x $1/M + 700 x $5/M.
    expect(r).toMatchObject({ status: 'done', key: '2021-04-20', reviewer: 'bedrock', costUsd: 0.0125, recommendations: [{ id: 'rec:daily:2021-04-20:0', verdict: 'not_supported' }] });
    expect(brm.commandCalls(ConverseCommand)[0]!.args[0].input.modelId).toBe('us.anthropic.claude-haiku-4-5-20251001-v1:0');
    for (const k of ['review.html', 'facts.json', 'prompt.json', 'response.json', 'tests.json']) expect(bucket.has(`reviews/daily/2021-04-20/${k}`)).toBe(true);
    const facts = JSON.parse(text('reviews/daily/2021-04-20/facts.json')) as { divergence: { status: string; liveTrades: number; replayOnlyCount: number } };
    expect(facts.divergence.status).toBe('ok');
    expect(facts.divergence.liveTrades).toBe(0);
    expect(facts.divergence.replayOnlyCount).toBeGreaterThan(0);
    expect(text('reviews/daily/2021-04-20/prompt.json')).toContain('submit_review');
    const store = stateStore(dynamo.client, table, observability('test').logger);
    const rec = (await store.get('recommendation', 'rec:daily:2021-04-20:0'))!.value;
    expect(rec).toMatchObject({ reviewer: 'bedrock', model: 'anthropic.claude-haiku-4-5-20251001-v1:0', changes: [{ key: 'entry.volumeMultiplier', from: 1.5, to: 2 }] });
    expect(rec.test.reasons).toContain('(1) the candidate made 5 trades (need 10)');
    expect(bot.calls.map((c) => c.method)).toEqual(['sendDocument']);
    expect(bot.calls[0]!.fields.caption).toContain('not supported');
    expect((await store.listPublications()).find((p) => p.kind === 'review')).toMatchObject({ period: 'daily', key: '2021-04-20', at: now, path: 'reviews/daily/2021-04-20/review.html', headline: expect.stringMatching(/^bedrock \(anthropic\.claude-haiku-4-5-20251001-v1:0\): 1 recommendation\(s\), 0 supported by the test/) as string });
    expect(snsm.commandCalls(PublishCommand)[0]!.args[0].input.Message).toContain('Amazon Bedrock, anthropic.claude-haiku-4-5-20251001-v1:0');

    // A day later the next review scores the ledger on the candles after 2021-04-21 00:00.
    const later = createReviewHandler(() => buildReviewDeps(reviewEnv(table, 'off'), clients(), () => Date.UTC(2021, 3, 22, 8)));
    await later({ period: 'daily', date: '2021-04-21' }, localContext('review', 'v2'));
    const scored = (await store.get('recommendation', 'rec:daily:2021-04-20:0'))!.value;
    expect(scored.scores).toHaveLength(1);
    expect(scored.scores[0]).toMatchObject({ from: Date.UTC(2021, 3, 21), to: Date.UTC(2021, 3, 22, 8) });
    expect(['better', 'worse', 'same']).toContain(scored.scores[0]!.outcome);
  }, 120_000);

  it('Bedrock throttled throughout: the deterministic reviewer goes out instead, labelled, with the reason as a note', async () => {
    const table = await freshTable();
    brm.on(ConverseCommand).rejects(new ThrottlingException({ message: 'Too many requests', $metadata: {} }));
    const h = createReviewHandler(() => buildReviewDeps(reviewEnv(table, 'on'), clients(), () => Date.UTC(2025, 2, 5, 8), () => Promise.resolve()));
    const r = await h({ period: 'daily', date: '2025-03-04' }, localContext('review', 'v3'));
    expect(r).toMatchObject({ status: 'done', reviewer: 'deterministic' });
    expect(brm.commandCalls(ConverseCommand)).toHaveLength(3);
    const resp = JSON.parse(text('reviews/daily/2025-03-04/response.json')) as { label: string; notes: string[] };
    expect(resp.label).toContain('deterministic reviewer');
    expect(resp.notes.join(' ')).toContain('ThrottlingException');
    expect(await h('junk', localContext('review', 'v4'))).toMatchObject({ status: 'refused' });
  }, 60_000);
});
