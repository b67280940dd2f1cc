import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventQueues, localSqsClient, startLocalSqs, type LocalSqs, type QueueUrls } from '../../services/adapters/sqs/localSqs.js';
import { isTransientSqsError, SqsEventPublisher, SqsEventQueue } from '../../services/adapters/sqs/sqsEvents.js';
import { EventPublishError, EventQueueError, QUEUE_NAMES, type QueueName, type QueueProblem } from '../../services/events/types.js';
import { alert, eventQueueContract, receiveAll, tradeClosed } from './contract.js';

let sqs: LocalSqs;
let seq = 0;

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

/** Fresh queues (and DLQs) for one test, so tests never see each other's messages. */
async function freshQueues(maxReceives: number): Promise<Record<QueueName, QueueUrls>> {
  return createEventQueues(sqs.client, { prefix: `t${++seq}`, maxReceives });
}

function urlsOf(queues: Record<QueueName, QueueUrls>): Record<QueueName, string> {
  return Object.fromEntries(QUEUE_NAMES.map((n) => [n, queues[n].url])) as Record<QueueName, string>;
}

/** A client whose SendMessage fails `times` times (or while `when` says so) before reaching the server. */
function faultyClient(fault: () => Error | undefined): SQSClient {
  const client = localSqsClient(sqs.endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageCommand') {
        const e = fault();
        if (e) throw e;
      }
      return next(args);
    },
    { step: 'initialize', name: 'injectFault' },
  );
  return client;
}

const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'RequestThrottled', $metadata: { httpStatusCode: 400 } });

/**
 * Reads a queue's messages directly, hiding them for 30 s: with a visibility of 0, local-aws-sqs
 * hands the same message out several times within one long receive.
 */
async function rawReceive(url: string) {
  const out = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, MessageAttributeNames: ['All'] }));
  return out.Messages ?? [];
}

eventQueueContract('SQS on local-aws-sqs', async () => {
  // 3, not 2: local-aws-sqs counts a nack as a receive, so with 2 the nack test's message would
  // reach the dead-letter queue on the nack itself.
  const queues = await freshQueues(3);
  const problems: QueueProblem[] = [];
  const consumers = new Map<QueueName, SqsEventQueue>();
  return {
    publisher: new SqsEventPublisher({ client: sqs.client, queueUrls: urlsOf(queues) }),
    queue: (n: QueueName) => {
      let q = consumers.get(n);
      if (!q) {
        q = new SqsEventQueue({ client: sqs.client, queueUrl: queues[n].url, deadLetterQueueUrl: queues[n].deadLetterUrl, onProblem: (p) => problems.push(p) });
        consumers.set(n, q);
      }
      return q;
    },
    sendRaw: async (n: QueueName, body: string) => {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queues[n].url, MessageBody: body }));
    },
    // SQS's visibility timers run on the server's clock: wait for real.
    advance: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    deadLetterBodies: async (n: QueueName) => (await rawReceive(queues[n].deadLetterUrl)).map((m) => m.Body ?? ''),
    problems,
    maxReceives: 3,
    visibilityMs: 1000,
    close: () => Promise.resolve(),
  };
});

describe('SqsEventPublisher', () => {
  it('sends the JSON body with a type attribute', async () => {
    const queues = await freshQueues(5);
    await new SqsEventPublisher({ client: sqs.client, queueUrls: urlsOf(queues) }).publish(tradeClosed);
    const [m] = await rawReceive(queues.events.url);
    expect(JSON.parse(m!.Body!)).toEqual(tradeClosed);
    expect(m!.MessageAttributes?.type).toMatchObject({ DataType: 'String', StringValue: 'trade_closed' });
  });

  it('retries throttling with backoff (100 ms, 200 ms) and stores the event once', async () => {
    const queues = await freshQueues(5);
    let failures = 2;
    const client = faultyClient(() => (failures-- > 0 ? throttled() : undefined));
    const sleeps: number[] = [];
    const pub = new SqsEventPublisher({ client, queueUrls: urlsOf(queues), sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    await pub.publish(alert(1));
    client.destroy();
    expect(sleeps).toEqual([100, 200]);
    const got = await rawReceive(queues.alerts.url);
    expect(got.map((m) => (JSON.parse(m.Body!) as { id: string }).id)).toEqual(['alert:test:1']);
  });

  it('gives up after maxAttempts with EventPublishError, keeping the cause', async () => {
    const queues = await freshQueues(5);
    const client = faultyClient(() => Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    const sleeps: number[] = [];
    const pub = new SqsEventPublisher({ client, queueUrls: urlsOf(queues), maxAttempts: 4, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    const err = await pub.publish(alert(2)).catch((e: unknown) => e);
    client.destroy();
    expect(err).toBeInstanceOf(EventPublishError);
    expect((err as EventPublishError).attempts).toBe(4);
    expect((err as Error).cause).toMatchObject({ name: 'ServiceUnavailable' });
    expect(sleeps).toEqual([100, 200, 400]);
    expect(await rawReceive(queues.alerts.url)).toEqual([]);
  });

  it('a SendMessage that never answers is aborted after timeoutMs and retried within the bound', async () => {
    const queues = await freshQueues(5);
    const client = localSqsClient(sqs.endpoint);
    let attempts = 0;
    client.middlewareStack.add(
      () => () => {
        attempts++;
        return new Promise(() => undefined);
      },
      { step: 'initialize', name: 'hang' },
    );
    const pub = new SqsEventPublisher({ client, queueUrls: urlsOf(queues), maxAttempts: 2, timeoutMs: 20, sleep: () => Promise.resolve() });
    const err = await pub.publish(alert(4)).catch((e: unknown) => e);
    client.destroy();
    expect(err).toBeInstanceOf(EventPublishError);
    expect((err as EventPublishError).attempts).toBe(2);
    expect((err as Error).cause).toMatchObject({ name: 'SqsTimeoutError' });
    expect(attempts).toBe(2);
  });

  it('does not retry a permanent error (queue does not exist)', async () => {
    const sleeps: number[] = [];
    const urls = { events: `${sqs.endpoint}/123456789012/missing`, alerts: `${sqs.endpoint}/123456789012/missing`, retrain: `${sqs.endpoint}/123456789012/missing` };
    const pub = new SqsEventPublisher({ client: sqs.client, queueUrls: urls, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    const err = await pub.publish(alert(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EventPublishError);
    expect((err as EventPublishError).attempts).toBe(1);
    expect(sleeps).toEqual([]);
  });
});

describe('SqsEventQueue', () => {
  it('a malformed body is copied to the DLQ with the reason and deleted from the queue', async () => {
    const queues = await freshQueues(5);
    const problems: QueueProblem[] = [];
    const q = new SqsEventQueue({ client: sqs.client, queueUrl: queues.retrain.url, deadLetterQueueUrl: queues.retrain.deadLetterUrl, onProblem: (p) => problems.push(p) });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.retrain.url, MessageBody: '{"type":"retrain_request"}' }));
    expect(await receiveAll(q, 1, 1000)).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ kind: 'malformed', queue: 't' + String(seq) + '-retrain' });
    const [dead] = await rawReceive(queues.retrain.deadLetterUrl);
    expect(dead!.Body).toBe('{"type":"retrain_request"}');
    expect(dead!.MessageAttributes?.dead_letter_reason?.StringValue).toMatch(/does not fit the event schema/);
    expect(dead!.MessageAttributes?.source_queue?.StringValue).toBe(`t${seq}-retrain`);
    expect(await rawReceive(queues.retrain.url)).toEqual([]);
  });

  it('when the DLQ copy fails, reports it and leaves the message for the redrive policy', async () => {
    const queues = await freshQueues(5);
    await sqs.client.send(new SendMessageCommand({ QueueUrl: queues.alerts.url, MessageBody: 'garbage' }));
    const client = faultyClient(() => throttled());
    const problems: QueueProblem[] = [];
    const q = new SqsEventQueue({ client, queueUrl: queues.alerts.url, deadLetterQueueUrl: queues.alerts.deadLetterUrl, onProblem: (p) => problems.push(p) });
    expect(await q.receive(10, 1000)).toEqual([]);
    client.destroy();
    expect(problems.map((p) => p.kind)).toEqual(['malformed', 'dead_letter_failed']);
    expect(await rawReceive(queues.alerts.deadLetterUrl)).toEqual([]);
    // Not deleted: after its 1 s visibility it can be received again.
    await new Promise((r) => setTimeout(r, 1200));
    expect((await rawReceive(queues.alerts.url)).map((m) => m.Body)).toEqual(['garbage']);
  });

  it('an unreachable SQS is an EventQueueError from receive, ack and nack', async () => {
    // Port 9 (discard) is closed on loopback: connections are refused at once. One SDK attempt keeps it quick.
    const dead = new SQSClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
    const q = new SqsEventQueue({ client: dead, queueUrl: 'http://127.0.0.1:9/1/q', deadLetterQueueUrl: 'http://127.0.0.1:9/1/q-dlq' });
    await expect(q.receive(1, 1000)).rejects.toBeInstanceOf(EventQueueError);
    await expect(q.ack('h')).rejects.toBeInstanceOf(EventQueueError);
    await expect(q.nack('h')).rejects.toBeInstanceOf(EventQueueError);
    dead.destroy();
  });
});

describe('isTransientSqsError', () => {
  it.each([
    [{ name: 'RequestThrottled' }, true],
    [{ name: 'AWS.SimpleQueueService.RequestThrottled' }, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 502 } }, true],
    [{ name: 'Error', code: 'ECONNRESET' }, true],
    [{ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } }, false],
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, false],
    ['a string', false],
  ])('%j -> %s', (e, expected) => {
    expect(isTransientSqsError(e)).toBe(expected);
  });
});
