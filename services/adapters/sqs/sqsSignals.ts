/**
 * The signals queue on Amazon SQS: the hot path receives and acks raw bodies (SignalInbox), the
 * webhook Lambda sends them (`sendSignalMessage`). The queue, its dead-letter queue and the grants
 * are in lib/signalWebhook.ts. Every call is bounded in time (the request is aborted), so a hung
 * connection cannot stall the poller.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { InboxMessage, SignalInbox } from '../../signals/inbox.js';

/** Bound on one SQS call (plus the long-poll wait). */
const CALL_TIMEOUT_MS = 5000;

/** A failed call to the signals queue (network, throttling, permissions). */
export class SignalQueueError extends Error {
  override readonly name: string = 'SignalQueueError';
}

async function bounded<T>(ms: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    return await call(controller.signal);
  } catch (e) {
    throw new SignalQueueError(e instanceof Error ? `${e.name}: ${e.message}` : String(e), { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

export class SqsSignalInbox implements SignalInbox {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    /** Long-poll wait per receive, 0-20 s. */
    private readonly waitTimeSeconds = 0,
  ) {}

  async receive(max: number, visibilityMs: number): Promise<InboxMessage[]> {
    const out = await bounded(CALL_TIMEOUT_MS + this.waitTimeSeconds * 1000, (abortSignal) =>
      this.client.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: max, VisibilityTimeout: Math.ceil(visibilityMs / 1000), WaitTimeSeconds: this.waitTimeSeconds }), { abortSignal }),
    );
    return (out.Messages ?? []).flatMap((m) => (m.ReceiptHandle ? [{ receiptHandle: m.ReceiptHandle, body: m.Body ?? '' }] : []));
  }

  async ack(receiptHandle: string): Promise<void> {
    await bounded(CALL_TIMEOUT_MS, (abortSignal) => this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }), { abortSignal }));
  }
}

/** Sends one signal body to the queue (the webhook Lambda); rejects with SignalQueueError. */
export async function sendSignalMessage(client: SQSClient, queueUrl: string, body: string): Promise<void> {
  await bounded(CALL_TIMEOUT_MS, (abortSignal) => client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }), { abortSignal }));
}
