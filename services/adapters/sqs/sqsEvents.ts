/**
 * Domain events on Amazon SQS (standard queues): a publisher that routes each event to its queue,
 * and a consumer of one queue.
 *
 * Publisher: SendMessage with the event's JSON as the body and a `type` message attribute (so a
 * subscription filter or an operator can tell messages apart without parsing). Throttling, 5xx and
 * network errors are retried with exponential backoff, at most `maxAttempts` times in all; the SDK
 * client's own retries (its `maxAttempts`) run inside each of these attempts, so the bound on
 * requests is the product of both. A retry after an unknown outcome can store the event twice: that
 * is the at-least-once contract, and consumers de-duplicate on the event id.
 *
 * Consumer: ReceiveMessage with a visibility timeout (whole seconds, rounded up) and the
 * ApproximateReceiveCount attribute; DeleteMessage to ack; ChangeMessageVisibility to nack. After
 * the queue's maxReceiveCount the redrive policy (set by the deployment, or by localSqs) moves the
 * message to the dead-letter queue. A body that is not a valid event is never returned and never
 * thrown: it is reported, copied to the dead-letter queue with the reason as a message attribute,
 * and deleted from the source; if that copy fails, the message is left for the redrive policy.
 *
 * Every call is bounded in time (`timeoutMs`, default 5 s, plus the long-poll wait for receives):
 * the request is aborted, so a hung connection cannot stall the hot path.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffDelayMs } from '../../execution/backoff.js';
import {
  EventPublishError,
  EventQueueError,
  EventValidationError,
  QUEUE_FOR_EVENT,
  bodyPreview,
  checkDelayMs,
  checkReceiveArgs,
  guardedReporter,
  parseEventBody,
  serialiseEvent,
  type DomainEvent,
  type EventPublisher,
  type EventQueue,
  type QueueName,
  type QueueProblem,
  type ReceivedEvent,
} from '../../events/types.js';
import { isTransientAwsError } from '../awsErrors.js';

/** Attempts per publish, the first included, unless configured. */
export const DEFAULT_PUBLISH_ATTEMPTS = 4;
/** Backoff between publish attempts: 100 ms doubling, at most 2 s. */
export const DEFAULT_PUBLISH_BACKOFF = { baseMs: 100, maxMs: 2000 } as const;
/** Default bound on one SQS call (plus the long-poll wait for receives). */
export const DEFAULT_CALL_TIMEOUT_MS = 5000;
/** Longest reason stored in the `dead_letter_reason` attribute. */
const MAX_REASON_ATTRIBUTE = 256;

/** Error names SQS uses for throttling and transient server faults. */
const TRANSIENT_NAMES = new Set([
  'ThrottlingException',
  'RequestThrottled',
  'AWS.SimpleQueueService.RequestThrottled',
  'KmsThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'RequestTimeout',
  'TimeoutError',
  'SqsTimeoutError',
]);

/** Whether an SQS call's error is throttling, a 5xx or a network fault (worth another attempt). */
export function isTransientSqsError(e: unknown): boolean {
  return isTransientAwsError(e, TRANSIENT_NAMES);
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function positiveMs(name: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new EventValidationError(`${name} must be a positive number of ms, got ${v}`);
  return v;
}

/** An SQS call that did not answer within its bound; it was aborted. */
export class SqsTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqsTimeoutError';
  }
}

/**
 * Runs one call with an abort signal and a timer: the signal cancels the HTTP request, and the race
 * releases the caller even if the request ignores it. A timed-out send has an unknown outcome.
 */
async function bounded<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new SqsTimeoutError(`no answer from SQS within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SqsEventPublisherOptions {
  /** Created once per process by the caller. */
  readonly client: SQSClient;
  /** The URL of each logical queue this publisher sends to; publishing to one without a URL fails at once. */
  readonly queueUrls: Readonly<Partial<Record<QueueName, string>>>;
  /** Attempts per publish, the first included (default 4). */
  readonly maxAttempts?: number;
  /** Bound on one SendMessage attempt (default 5000 ms); a hung request is aborted and retried. */
  readonly timeoutMs?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Waits between attempts (default setTimeout); tests pass a recorder. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * A draw in [0, 1) for jitter (default: none). One task publishes, so there is no herd of clients
   * to spread out; pass a random source when there are many publishers.
   */
  readonly jitter?: () => number;
}

/** EventPublisher on SQS; see the file comment. */
export class SqsEventPublisher implements EventPublisher {
  private readonly client: SQSClient;
  private readonly queueUrls: Readonly<Partial<Record<QueueName, string>>>;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly jitter: () => number;

  constructor(options: SqsEventPublisherOptions) {
    const attempts = options.maxAttempts ?? DEFAULT_PUBLISH_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1 || attempts > 10) throw new EventValidationError(`maxAttempts must be an integer from 1 to 10, got ${attempts}`);
    this.client = options.client;
    this.queueUrls = options.queueUrls;
    this.maxAttempts = attempts;
    this.timeoutMs = positiveMs('timeoutMs', options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.backoff = options.backoff ?? DEFAULT_PUBLISH_BACKOFF;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.jitter = options.jitter ?? (() => 0);
  }

  /**
   * Validates the event, sends it to its queue, and retries transient failures with backoff.
   * Throws EventValidationError (bad event, nothing sent) or EventPublishError (after the retries,
   * or at once for a non-transient error such as a missing queue or denied access).
   */
  async publish(event: DomainEvent): Promise<void> {
    const body = serialiseEvent(event);
    const queue = QUEUE_FOR_EVENT[event.type];
    const url = this.queueUrls[queue];
    if (!url) throw new EventPublishError(`cannot publish ${event.type} event ${event.id}: no URL is configured for the ${queue} queue`, { attempts: 0 });
    const command = new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageAttributes: { type: { DataType: 'String', StringValue: event.type } },
    });
    for (let attempt = 1; ; attempt++) {
      try {
        await bounded(this.timeoutMs, (signal) => this.client.send(command, { abortSignal: signal }));
        return;
      } catch (e) {
        if (!isTransientSqsError(e) || attempt >= this.maxAttempts) {
          throw new EventPublishError(`cannot publish ${event.type} event ${event.id} after ${attempt} attempt(s): ${describe(e)}`, { cause: e, attempts: attempt });
        }
        await this.sleep(backoffDelayMs(attempt, { ...this.backoff, jitter: this.jitter() }));
      }
    }
  }
}

export interface SqsEventQueueOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Where malformed bodies are copied to: the queue's dead-letter queue. */
  readonly deadLetterQueueUrl: string;
  /** Name used in reports (default: the last segment of the URL). */
  readonly name?: string;
  /** Long-polling wait per receive, 0-20 s (default 0: return at once). */
  readonly waitTimeSeconds?: number;
  /** Bound on one SQS call, on top of the long-poll wait (default 5000 ms). */
  readonly timeoutMs?: number;
  /** Malformed bodies and failed dead-letter copies are reported here. */
  readonly onProblem?: (problem: QueueProblem) => void;
}

/** EventQueue over one SQS queue; see the file comment. */
export class SqsEventQueue implements EventQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly deadLetterQueueUrl: string;
  private readonly name: string;
  private readonly waitTimeSeconds: number;
  private readonly timeoutMs: number;
  private readonly onProblem: (p: QueueProblem) => void;

  constructor(options: SqsEventQueueOptions) {
    const wait = options.waitTimeSeconds ?? 0;
    if (!Number.isInteger(wait) || wait < 0 || wait > 20) throw new EventValidationError(`waitTimeSeconds must be an integer from 0 to 20, got ${wait}`);
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.name = options.name ?? options.queueUrl.slice(options.queueUrl.lastIndexOf('/') + 1);
    this.waitTimeSeconds = wait;
    this.timeoutMs = positiveMs('timeoutMs', options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
    this.onProblem = guardedReporter(options.onProblem);
  }

  /**
   * Up to `max` events hidden for `visibilityMs` (rounded up to whole seconds, SQS's unit).
   * Malformed messages are dead-lettered and left out. Throws EventValidationError for bad arguments
   * and EventQueueError when SQS cannot be reached.
   */
  async receive(max: number, visibilityMs: number): Promise<ReceivedEvent[]> {
    checkReceiveArgs(max, visibilityMs);
    let messages: Message[];
    try {
      const out = await this.call(this.waitTimeSeconds * 1000, (signal) =>
        this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: max,
            VisibilityTimeout: Math.ceil(visibilityMs / 1000),
            WaitTimeSeconds: this.waitTimeSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            // The deprecated parameter too: local-aws-sqs only understands this one (SQS accepts both);
            // its type allows only 'All' for the system attributes.
            AttributeNames: ['All'],
            MessageAttributeNames: ['type'],
          }),
          { abortSignal: signal },
        ),
      );
      messages = out.Messages ?? [];
    } catch (e) {
      throw new EventQueueError(`cannot receive from ${this.name}: ${describe(e)}`, { cause: e });
    }
    const events: ReceivedEvent[] = [];
    for (const m of messages) {
      const body = m.Body ?? '';
      const handle = m.ReceiptHandle;
      if (handle === undefined) continue;
      const parsed = parseEventBody(body);
      if (!parsed.ok) {
        await this.deadLetterMalformed(m, body, handle, parsed.detail);
        continue;
      }
      const count = Number(m.Attributes?.ApproximateReceiveCount);
      events.push({ receiptHandle: handle, event: parsed.event, receiveCount: Number.isInteger(count) && count >= 1 ? count : 1 });
    }
    return events;
  }

  /** DeleteMessage. Throws EventQueueError when SQS refuses or cannot be reached (the message then comes back). */
  async ack(receiptHandle: string): Promise<void> {
    try {
      await this.call(0, (signal) => this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }), { abortSignal: signal }));
    } catch (e) {
      throw new EventQueueError(`cannot ack a message of ${this.name}: ${describe(e)}`, { cause: e });
    }
  }

  /** ChangeMessageVisibility to `delayMs` (rounded up to whole seconds; default 0). Throws EventQueueError. */
  async nack(receiptHandle: string, delayMs = 0): Promise<void> {
    checkDelayMs('nack delayMs', delayMs);
    try {
      await this.call(0, (signal) =>
        this.client.send(
          new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.ceil(delayMs / 1000) }),
          { abortSignal: signal },
        ),
      );
    } catch (e) {
      throw new EventQueueError(`cannot nack a message of ${this.name}: ${describe(e)}`, { cause: e });
    }
  }

  /** One SQS call bounded by timeoutMs plus `extraMs` (the long-poll wait). */
  private call<T>(extraMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return bounded(this.timeoutMs + extraMs, fn);
  }

  /** Reports a malformed message, copies it to the DLQ and deletes it; never throws. */
  private async deadLetterMalformed(m: Message, body: string, handle: string, detail: string): Promise<void> {
    const messageId = m.MessageId;
    this.onProblem({ kind: 'malformed', queue: this.name, ...(messageId ? { messageId } : {}), detail, bodyPreview: bodyPreview(body) });
    try {
      await this.call(0, (signal) =>
        this.client.send(
          new SendMessageCommand({
            QueueUrl: this.deadLetterQueueUrl,
            // SQS refuses an empty body; a body cannot be empty on SQS in the first place, but be safe.
            MessageBody: body === '' ? '(empty body)' : body,
            MessageAttributes: {
              dead_letter_reason: { DataType: 'String', StringValue: detail.slice(0, MAX_REASON_ATTRIBUTE) },
              source_queue: { DataType: 'String', StringValue: this.name },
            },
          }),
          { abortSignal: signal },
        ),
      );
      await this.call(0, (signal) => this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle }), { abortSignal: signal }));
    } catch (e) {
      // Left in place: it comes back after its visibility timeout, and the redrive policy moves it
      // to the dead-letter queue after maxReceiveCount receives. A copy that worked before a failed
      // delete is a duplicate in the DLQ, which is harmless.
      this.onProblem({
        kind: 'dead_letter_failed',
        queue: this.name,
        ...(messageId ? { messageId } : {}),
        detail: `could not move a malformed message to the dead-letter queue: ${describe(e)}`,
        bodyPreview: bodyPreview(body),
      });
    }
  }
}
