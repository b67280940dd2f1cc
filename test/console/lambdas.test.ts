/**
 * The console's AWS pieces without AWS: the dashboard Lambda's handler (nothing served without a
 * valid signed link, on any path; the snapshot as the page's data), the DynamoDB OnceStore on a
 * dynalite idempotency table, `npm run telegram:webhook` against the Bot API stand-in, and the
 * Telegram webhook's /backtest on a local SQS backtests queue.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { telegramWebhookCommand } from '../../cli/telegramWebhook.js';
import { createDashboardHandler } from '../../lambdas/dashboard/handler.js';
import { buildWebhookDeps, createTelegramWebhookHandler, parseTelegramWebhookEnv } from '../../lambdas/telegram-webhook/handler.js';
import { startLocalSqs, type LocalSqs } from '../../services/adapters/sqs/localSqs.js';
import { SqsEventPublisher } from '../../services/adapters/sqs/sqsEvents.js';
import { parseEventBody } from '../../services/events/types.js';
import { DynamoOnceStore } from '../../services/adapters/dynamo/dynamoOnceStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { deriveKey, signDashboardToken } from '../../services/console/signing.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { PublicationRecord, StatusSnapshotRecord } from '../../services/state/types.js';
import { startBotApiStandIn, textUpdate, type BotApiStandIn } from './botApiStandIn.js';
import { GROUP, OPERATOR, statusDoc, T, TOTP_SECRET, VIEWER } from './fixtures.js';

const key = deriveKey('link-secret', 'dashboard-link');

function event(path: string, token?: string, method = 'GET'): LambdaFunctionURLEvent {
  return { rawPath: path, queryStringParameters: token ? { t: token } : undefined, headers: {}, requestContext: { http: { method } } } as unknown as LambdaFunctionURLEvent;
}

describe('dashboard Lambda', () => {
  let snapshot: StatusSnapshotRecord | undefined;
  let now = T;
  // The publication records in a real (memory) state store; the snapshot by hand.
  const { store } = createMemoryStore({ clock: () => now });
  const handler = createDashboardHandler(() => Promise.resolve({ store: { getStatusSnapshot: () => Promise.resolve(snapshot), listPublications: () => store.listPublications() }, linkKey: key, chartsJs: () => '/* charts */', now: () => now }));
  type Res = { statusCode: number; headers: Record<string, string>; body: string };
  const call = async (e: LambdaFunctionURLEvent) => (await handler(e)) as Res;

  it('serves nothing without a valid link: missing, forged, other key, expired; on every path', async () => {
    const good = signDashboardToken(key, 42, T);
    for (const path of ['/', '/app.js', '/vendor/lightweight-charts.js', '/api/dashboard', '/nope']) {
      for (const token of [undefined, `${good}x`, signDashboardToken(deriveKey('other', 'dashboard-link'), 42, T)]) {
        const r = await call(event(path, token));
        expect(r.statusCode, `${path} ${token}`).toBe(401);
        expect(r.body).not.toContain('equity');
      }
    }
    now = T + 15 * 60_000;
    expect((await call(event('/', good))).body).toContain('expired');
    now = T;
  });

  it('with a valid link: the page under a strict CSP and no referrer, its scripts, and the snapshot as data', async () => {
    const token = signDashboardToken(key, 42, T);
    const page = await call(event('/', token));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain(`src="/app.js?t=${token}"`);
    expect(page.body).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    expect((await call(event('/vendor/lightweight-charts.js', token))).body).toBe('/* charts */');
    expect((await call(event('/api/dashboard', token))).statusCode).toBe(503);
    snapshot = { owner: 'task', at: T - 5000, data: { status: statusDoc(), charts: [], equity: [], stats: { today: null, week: null }, reports: [], controls: true } };
    const data = JSON.parse((await call(event('/api/dashboard', token))).body) as { generatedAt: number; controls: boolean; status: { equity: string } };
    expect(data).toMatchObject({ generatedAt: T - 5000, controls: false, status: { equity: '10012.3456' } });
    expect((data as unknown as { reports: unknown[] }).reports).toEqual([]);
    // The latest report and review of each period, newest first; a newer daily report replaces the older one.
    const pub = (p: Partial<PublicationRecord> & Pick<PublicationRecord, 'kind' | 'period' | 'key' | 'at'>): PublicationRecord => ({ label: `${p.key} (UTC day)`, headline: `net 1 USDT`, path: `reports/${p.period}/${p.key}.html`, ...p });
    await store.putPublication(pub({ kind: 'report', period: 'daily', key: '2026-06-08', at: T - 2 * 86_400_000 }));
    await store.putPublication(pub({ kind: 'report', period: 'daily', key: '2026-06-09', at: T - 86_400_000, headline: 'net +3.00 USDT, 2 trades' }));
    await store.putPublication(pub({ kind: 'review', period: 'weekly', key: '2026-06-01', at: T - 3 * 86_400_000, path: 'reviews/weekly/2026-06-01/review.html' }));
    const withReports = JSON.parse((await call(event('/api/dashboard', token))).body) as { reports: { kind: string; period: string; label: string; atIso: string; headline: string; path: string }[] };
    expect(withReports.reports).toEqual([
      { kind: 'report', period: 'daily', label: '2026-06-09 (UTC day)', at: T - 86_400_000, atIso: '2026-06-09T12:00:00.000Z', headline: 'net +3.00 USDT, 2 trades', path: 'reports/daily/2026-06-09.html' },
      { kind: 'review', period: 'weekly', label: '2026-06-01 (UTC day)', at: T - 3 * 86_400_000, atIso: '2026-06-07T12:00:00.000Z', headline: 'net 1 USDT', path: 'reviews/weekly/2026-06-01/review.html' },
    ]);
    expect((await call(event('/api/dashboard', token, 'POST'))).statusCode).toBe(405);
  });
});

describe('DynamoOnceStore (dynalite)', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startLocalDynamo({});
    await dynamo.client.send(new CreateTableCommand({ TableName: 'idem', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }] }));
  });
  afterAll(async () => dynamo?.close());

  it('claims a key once within its time, again after it expired (decided by the record, not by TTL)', async () => {
    let now = T;
    const once = new DynamoOnceStore(dynamo.client, 'idem', () => now);
    expect(await once.claim('telegram-update:1', 60_000)).toBe(true);
    expect(await once.claim('telegram-update:1', 60_000)).toBe(false);
    expect(await once.claim('telegram-update:2', 60_000)).toBe(true);
    // Two instances of the Lambda racing for one update: one wins.
    const other = new DynamoOnceStore(dynamo.client, 'idem', () => now);
    const race = await Promise.all([once.claim('telegram-update:3', 60_000), other.claim('telegram-update:3', 60_000)]);
    expect(race.filter(Boolean)).toHaveLength(1);
    now = T + 61_000;
    expect(await once.claim('telegram-update:1', 60_000)).toBe(true);
  });
});

describe('npm run telegram:webhook', () => {
  let api: BotApiStandIn;
  beforeAll(async () => (api = await startBotApiStandIn('42:tok')));
  afterAll(async () => api?.close());

  it('registers the URL with the secret token for messages and taps only, without printing a secret', async () => {
    const lines: string[] = [];
    const secrets: Record<string, string> = { 'arn:token': '{"token":"42:tok"}', 'arn:hook': 'AbcDEF123_-xyz\n' };
    await telegramWebhookCommand(['--url', 'https://abc.lambda-url.us-east-1.on.aws/', '--token-secret-id', 'arn:token', '--webhook-secret-id', 'arn:hook', '--api-url', api.apiRoot], { log: (s) => lines.push(s), env: {}, secret: (id) => Promise.resolve(secrets[id]!) });
    const [set] = api.callsOf('setWebhook');
    expect(set!.payload).toMatchObject({ url: 'https://abc.lambda-url.us-east-1.on.aws/', secret_token: 'AbcDEF123_-xyz', allowed_updates: ['message', 'callback_query'] });
    expect(lines.join('\n')).toContain('webhook registered');
    expect(lines.join('\n')).not.toContain('AbcDEF123');
    expect(lines.join('\n')).not.toContain('42:tok');
  });

  it('refuses a bad URL or secret with one line, and deletes on --delete', async () => {
    const io = { log: () => undefined, env: { TELEGRAM_BOT_TOKEN: '42:tok', TELEGRAM_WEBHOOK_SECRET: 'ok' } };
    await expect(telegramWebhookCommand(['--url', 'http://plain', '--api-url', api.apiRoot], io)).rejects.toThrow(/https URL/);
    await expect(telegramWebhookCommand(['--url', 'https://x/', '--api-url', api.apiRoot], { ...io, env: { ...io.env, TELEGRAM_WEBHOOK_SECRET: 'has space' } })).rejects.toThrow(/A-Z, a-z, 0-9/);
    await expect(telegramWebhookCommand(['--urll', 'https://x/'], io)).rejects.toThrow(/did you mean --url\?/);
    await telegramWebhookCommand(['--delete', '--api-url', api.apiRoot], io);
    expect(api.callsOf('deleteWebhook')).toHaveLength(1);
  });
});

describe('telegram webhook: /backtest on the backtests queue', () => {
  const TOKEN = '123:webhook-backtest';
  const SECRET = 'webhook-secret-token';
  let api: BotApiStandIn;
  let sqs: LocalSqs;
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    [api, sqs, dynamo] = await Promise.all([startBotApiStandIn(TOKEN), startLocalSqs(), startLocalDynamo({})]);
    await dynamo.client.send(new CreateTableCommand({ TableName: 'idem', BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'PK', AttributeType: 'S' }, { AttributeName: 'SK', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }] }));
  }, 30_000);
  afterAll(async () => Promise.all([api?.close(), sqs?.close(), dynamo?.close()]));

  /** The webhook Lambda's handler over the real pieces (local SQS, dynalite, the Bot API stand-in), with or without BACKTESTS_QUEUE_URL. */
  async function webhook(withQueue: boolean) {
    const env = parseTelegramWebhookEnv({
      STAGE: 'dev',
      STATE_TABLE: 'state',
      IDEMPOTENCY_TABLE: 'idem',
      KILL_SWITCH_PARAM: '/k',
      COMMANDS_QUEUE_URL: sqs.queues.commands.url,
      RETRAIN_QUEUE_URL: sqs.queues.retrain.url,
      ...(withQueue ? { BACKTESTS_QUEUE_URL: sqs.queues.backtests.url } : {}),
      TELEGRAM_SECRET_ID: 'tok',
      WEBHOOK_SECRET_ID: 'hook',
      TOTP_SECRET_ID: 'totp',
      DASHBOARD_LINK_SECRET_ID: 'link',
      TELEGRAM_CHAT_ID: String(GROUP),
      TELEGRAM_OPERATORS: String(OPERATOR),
      TELEGRAM_VIEWERS: String(VIEWER),
      TRADING_SYMBOLS: 'PEPEUSDT',
      TELEGRAM_API_URL: api.apiRoot,
    });
    const secrets: Record<string, string> = { tok: TOKEN, hook: SECRET, totp: TOTP_SECRET, link: 'link-secret' };
    const { store } = createMemoryStore({ clock: () => T });
    const deps = await buildWebhookDeps(env, {
      store,
      once: new DynamoOnceStore(dynamo.client, 'idem', () => Date.now()),
      killSwitch: { read: () => Promise.resolve({ value: 'RUNNING' }), write: () => Promise.resolve() },
      publisher: new SqsEventPublisher({ client: sqs.client, queueUrls: { commands: env.COMMANDS_QUEUE_URL, retrain: env.RETRAIN_QUEUE_URL, ...(env.BACKTESTS_QUEUE_URL ? { backtests: env.BACKTESTS_QUEUE_URL } : {}) } }),
      secret: (id) => Promise.resolve(secrets[id]!),
    });
    const handler = createTelegramWebhookHandler(() => Promise.resolve(deps));
    let updateId = withQueue ? 5000 : 6000;
    return async (text: string): Promise<string> => {
      const before = api.callsOf('sendMessage').length;
      const r = (await handler({ headers: { 'x-telegram-bot-api-secret-token': SECRET }, body: JSON.stringify(textUpdate(OPERATOR, GROUP, text, ++updateId)), isBase64Encoded: false } as unknown as LambdaFunctionURLEvent)) as { statusCode: number };
      expect(r.statusCode).toBe(200);
      await api.waitFor((c) => c.filter((x) => x.method === 'sendMessage').length > before);
      return String(api.callsOf('sendMessage').at(-1)!.payload.text);
    };
  }

  it('publishes a backtest request with a job id derived id, who asked and the days, and says it is queued', async () => {
    const say = await webhook(true);
    const answer = await say('/backtest');
    expect(answer).toMatch(/^Backtest queued as job backtest-[0-9a-z]+-5001: the traded symbols over the candle archive's last 30 day\(s\)/);
    expect(answer).toContain('net of fees and slippage');
    const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queues.backtests.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(got.Messages).toHaveLength(1);
    const parsed = parseEventBody(got.Messages![0]!.Body!);
    if (!parsed.ok || parsed.event.type !== 'backtest_request') throw new Error(`not a backtest request: ${JSON.stringify(parsed)}`);
    const jobId = /job (backtest-[0-9a-z]+-5001)/.exec(answer)![1]!;
    expect(parsed.event).toEqual({ type: 'backtest_request', id: `backtest_request:${jobId}`, time: expect.any(Number) as number, jobId, requestedBy: `telegram ${OPERATOR} @user${OPERATOR}`, days: 30 });
    // The days asked for travel with the request; nothing goes to the other queues.
    expect(await say('/backtest 7')).toContain("last 7 day(s)");
    const second = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queues.backtests.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(second.Messages!.map((m) => (JSON.parse(m.Body!) as { days: number }).days)).toEqual([7]);
    const retrain = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queues.retrain.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(retrain.Messages ?? []).toHaveLength(0);
  }, 30_000);

  it('without BACKTESTS_QUEUE_URL: says no runner is wired and queues nothing', async () => {
    const say = await webhook(false);
    const answer = await say('/backtest');
    expect(answer).toContain('/backtest is not available here');
    expect(answer).toContain('Nothing was queued');
    const got = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: sqs.queues.backtests.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(got.Messages ?? []).toHaveLength(0);
  }, 30_000);
});
