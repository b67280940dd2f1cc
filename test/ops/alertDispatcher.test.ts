/**
 * The alert-dispatcher handler: SQS batches with partial failures, SNS through aws-sdk-client-mock,
 * Telegram through a loopback HTTP server, de-duplication through Powertools idempotency on dynalite.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { SnsAlertChannel } from '../../services/adapters/sns/snsAlertChannel.js';
import { TelegramChannel } from '../../services/adapters/telegram/telegramChannel.js';
import type { AlertEvent } from '../../services/events/types.js';
import { formatAlert, roundNumbers } from '../../services/ops/alertFormat.js';
import { ChannelSendError } from '../../services/ops/errors.js';
import { createAlertDispatcherHandler } from '../../lambdas/alert-dispatcher/handler.js';
import { PowertoolsDeliveryLedger, persistenceLayer } from '../../lambdas/shared/idempotency.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { freshStore } from './helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const TOKEN = '123456:FAKE-test-token-not-a-secret';
const CHAT = '-1001';

/** A Telegram Bot API stand-in: records sendMessage calls; `failNext` answers with that status instead. */
class FakeTelegram {
  readonly messages: { path: string; chatId: unknown; text: string }[] = [];
  failWith: number | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (this.failWith !== undefined) {
          res.writeHead(this.failWith, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error_code: this.failWith, description: `Unauthorized for bot${TOKEN}` }));
          return;
        }
        const j = JSON.parse(body) as { chat_id: unknown; text: string };
        this.messages.push({ path: req.url ?? '', chatId: j.chat_id, text: j.text });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, result: { message_id: this.messages.length } }));
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }
}

let local: LocalDynamo;
const telegram = new FakeTelegram();
const sns = mockClient(SNSClient);
let handler: ReturnType<typeof createAlertDispatcherHandler>;
let seq = 0;

function alert(id: string, over: Partial<AlertEvent> = {}): AlertEvent {
  return { type: 'alert', id, time: Date.UTC(2026, 11, 1, 14, 3), severity: 'critical', title: 'BTCUSDT over time limit: closed', detail: 'sold 0.50000000 for 24870.123456 at 49740.246912', ...over };
}

function record(body: string): SQSRecord {
  seq++;
  return {
    messageId: `msg-${seq}`,
    receiptHandle: `rh-${seq}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:alerts',
    awsRegion: 'us-east-1',
  };
}

const batch = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const invoke = (e: SQSEvent) => handler(e, localContext('alert-dispatcher', `req-${seq}`));

beforeAll(async () => {
  local = await startLocalDynamo();
  await telegram.start();
});
afterAll(async () => {
  sns.restore();
  await telegram.stop();
  await local.close();
});
beforeEach(async () => {
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  telegram.messages.length = 0;
  telegram.failWith = undefined;
  const { table } = await freshStore(local, () => Date.now());
  const ledger = new PowertoolsDeliveryLedger(persistenceLayer(table, local.client), 900);
  const channels = [
    new SnsAlertChannel(new SNSClient({ region: 'us-east-1' }), 'arn:aws:sns:us-east-1:000000000000:alerts'),
    new TelegramChannel({ token: () => Promise.resolve(TOKEN), chatId: CHAT, fetch: (u, i) => fetch(u, i), baseUrl: telegram.url }),
  ];
  handler = createAlertDispatcherHandler(() => Promise.resolve({ stage: 'test', channels, ledger }));
});

describe('alert dispatcher handler', () => {
  it('a malformed record and a non-alert event fail alone: batchItemFailures holds exactly their ids', async () => {
    const good1 = record(JSON.stringify(alert('a-1')));
    const bad = record('{not json');
    const wrongType = record(JSON.stringify({ type: 'retrain_request', id: 'r-1', time: 1, reason: 'x' }));
    const good2 = record(JSON.stringify(alert('a-2', { title: 'ETHUSDT daily loss limit: PAUSED' })));
    const out = await invoke(batch(good1, bad, wrongType, good2));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }, { itemIdentifier: wrongType.messageId }]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(telegram.messages).toHaveLength(2);
    expect(telegram.messages[0]?.path).toBe(`/bot${TOKEN}/sendMessage`);
    expect(telegram.messages[0]?.text).toBe('CRITICAL BTCUSDT over time limit: closed\nsold 0.5 for 24870.12 at 49740.25\n14:03 UTC [test]');
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input).toMatchObject({
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:alerts',
      Subject: 'CRITICAL BTCUSDT over time limit: closed',
      Message: telegram.messages[0]?.text,
    });
    expect(telegram.messages[0]?.chatId).toBe(CHAT);
  });

  it('delivers a duplicated alert once per channel (same id twice in a batch, then again in a later batch)', async () => {
    const body = JSON.stringify(alert('dup-1'));
    const first = await invoke(batch(record(body), record(body)));
    expect(first.batchItemFailures).toEqual([]);
    const later = await invoke(batch(record(body)));
    expect(later.batchItemFailures).toEqual([]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(telegram.messages).toHaveLength(1);
  });

  it('de-duplicates by dedupKey: another event id for the same problem is not sent again within the window', async () => {
    await invoke(batch(record(JSON.stringify(alert('k-1', { dedupKey: 'risk:DAILY_LOSS_LIMIT' })))));
    await invoke(batch(record(JSON.stringify(alert('k-2', { dedupKey: 'risk:DAILY_LOSS_LIMIT' })))));
    await invoke(batch(record(JSON.stringify(alert('k-3', { dedupKey: 'risk:WEEKLY_LOSS_LIMIT' })))));
    expect(telegram.messages).toHaveLength(2);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  it('an undeliverable record fails (so SQS retries it and the DLQ catches it); the retry sends only to the channel that failed', async () => {
    telegram.failWith = 500;
    const r1 = record(JSON.stringify(alert('t-1')));
    const out = await invoke(batch(r1));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: r1.messageId }]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(telegram.messages).toHaveLength(0);

    telegram.failWith = undefined;
    const retry = await invoke(batch(record(r1.body)));
    expect(retry.batchItemFailures).toEqual([]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(telegram.messages).toHaveLength(1);
  });

  it('an SNS failure fails the record too', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottledException' }));
    const r = record(JSON.stringify(alert('s-1')));
    expect((await invoke(batch(r))).batchItemFailures).toEqual([{ itemIdentifier: r.messageId }]);
  });
});

describe('Telegram channel', () => {
  it('never puts the token in an error, also when Telegram quotes it back', async () => {
    telegram.failWith = 401;
    const ch = new TelegramChannel({ token: () => Promise.resolve(TOKEN), chatId: CHAT, fetch: (u, i) => fetch(u, i), baseUrl: telegram.url });
    const err = await ch.send({ subject: 's', text: 't' }, alert('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelSendError);
    expect((err as ChannelSendError).retryable).toBe(false);
    expect((err as Error).message).toContain('HTTP 401');
    expect(JSON.stringify({ m: (err as Error).message, s: (err as Error).stack, c: String((err as Error).cause) })).not.toContain(TOKEN);
  });

  it('a closed port is a retryable failure without the token in it', async () => {
    const ch = new TelegramChannel({ token: () => Promise.resolve(TOKEN), chatId: CHAT, fetch: (u, i) => fetch(u, i), baseUrl: 'http://127.0.0.1:1' });
    const err = (await ch.send({ subject: 's', text: 't' }, alert('x')).catch((e: unknown) => e)) as ChannelSendError;
    expect(err.retryable).toBe(true);
    expect(`${err.message}${err.stack ?? ''}`).not.toContain(TOKEN);
  });
});

describe('formatting for a phone', () => {
  it('puts severity and symbol first, rounds numbers, adds time and stage', () => {
    const f = formatAlert(alert('f-1', { title: 'position over time limit: closed', detail: 'BTCUSDT sold 0.50000000 for 24870.123456 at 49740.246912; PEPEUSDT bid 0.0000123456' }), 'prod');
    expect(f.text.split('\n')).toEqual(['CRITICAL BTCUSDT position over time limit: closed', 'BTCUSDT sold 0.5 for 24870.12 at 49740.25; PEPEUSDT bid 0.00001235', '14:03 UTC [prod]']);
    expect(f.subject).toBe('CRITICAL BTCUSDT position over time limit: closed');
  });

  it('keeps long details short and subjects within SNS limits', () => {
    const f = formatAlert(alert('f-2', { title: 'x'.repeat(200), detail: 'y'.repeat(4000) }));
    expect(f.text.length).toBeLessThanOrEqual(700);
    expect(f.subject.length).toBeLessThanOrEqual(100);
    expect(f.subject).not.toMatch(/\n/);
  });

  it('leaves integers (counts, ids, times) alone', () => {
    expect(roundNumbers('3 losses, order 123456789, -2.456 pct')).toBe('3 losses, order 123456789, -2.46 pct');
  });
});
