/**
 * In-process event queues with SQS standard-queue semantics, for local runs and tests:
 *
 * - at-least-once: a received message is hidden for its visibility timeout and comes back unless
 *   acked in that time; each delivery has its own receipt handle and a receive count;
 * - a message received `maxReceives` times (default 5) that comes back once more goes to the
 *   dead-letter list instead (SQS's redrive policy with maxReceiveCount);
 * - a body that is not a valid event is reported and dead-lettered on receipt, never returned;
 * - bounded: at most `maxLength` messages (in flight included); publishing to a full queue throws
 *   QueueFullError, nothing is dropped. The dead-letter list holds at most `maxDeadLetters`; beyond
 *   that the oldest is discarded and reported;
 * - no order is promised to consumers (in practice: oldest first).
 *
 * Messages are stored as their JSON bodies, as on SQS, so what a consumer gets went through the same
 * serialisation and validation. Time comes from the injected clock; nothing runs in the background:
 * expiry is evaluated on each call.
 */
import { ConfigError } from '../core/errors.js';
import {
  QUEUE_NAMES,
  bodyPreview,
  checkDelayMs,
  checkReceiveArgs,
  guardedReporter,
  parseEventBody,
  queueFor,
  serialiseEvent,
  EventValidationError,
  QueueFullError,
  type DomainEvent,
  type EventPublisher,
  type EventQueue,
  type QueueName,
  type QueueProblem,
  type ReceivedEvent,
} from './types.js';

export const DEFAULT_MAX_RECEIVES = 5;
export const DEFAULT_MAX_LENGTH = 10_000;
export const DEFAULT_MAX_DEAD_LETTERS = 1000;

export interface MemoryQueueOptions {
  /** Clock, epoch ms. */
  readonly now: () => number;
  /** Receives before a message is dead-lettered (default 5). */
  readonly maxReceives?: number;
  /** Messages the queue holds at most, in flight included (default 10,000). */
  readonly maxLength?: number;
  /** Dead letters kept at most (default 1000). */
  readonly maxDeadLetters?: number;
  /** Malformed bodies and dead-letter overflow are reported here. */
  readonly onProblem?: (problem: QueueProblem) => void;
}

/** A message that could not be processed. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly reason: 'max_receives' | 'malformed';
  /** Why the body is malformed, for 'malformed'. */
  readonly detail?: string;
  readonly receiveCount: number;
  /** Epoch ms when it was dead-lettered. */
  readonly at: number;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  /** Epoch ms from which the message can be received (0 = at once). */
  visibleAt: number;
  /** Handle of the latest delivery; only it acks or nacks. */
  receiptHandle: string | undefined;
}

/** Runs `fn` and returns its result as a promise, a throw becoming a rejection (callers await either way). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`memory queue: ${name} must be an integer >= 1, got ${v}`);
  return v;
}

/** One in-process queue; see the file comment. */
export class MemoryEventQueue implements EventQueue {
  private readonly now: () => number;
  private readonly maxReceives: number;
  private readonly maxLength: number;
  private readonly maxDeadLetters: number;
  private readonly onProblem: (p: QueueProblem) => void;
  /** Insertion-ordered, so receives hand out the oldest visible messages first. */
  private readonly messages = new Map<string, StoredMessage>();
  private readonly dead: DeadLetter[] = [];
  private seq = 0;

  constructor(
    readonly name: string,
    options: MemoryQueueOptions,
  ) {
    this.now = options.now;
    this.maxReceives = positiveInt('maxReceives', options.maxReceives ?? DEFAULT_MAX_RECEIVES);
    this.maxLength = positiveInt('maxLength', options.maxLength ?? DEFAULT_MAX_LENGTH);
    this.maxDeadLetters = positiveInt('maxDeadLetters', options.maxDeadLetters ?? DEFAULT_MAX_DEAD_LETTERS);
    this.onProblem = guardedReporter(options.onProblem);
  }

  /** Validates and stores an event on this queue (no routing). Throws EventValidationError or QueueFullError. */
  sendEvent(event: DomainEvent): Promise<void> {
    return settle(() => this.store(serialiseEvent(event), `event ${event.id}`));
  }

  /**
   * Stores a raw body as is, without validation: what a foreign or buggy producer could put on an
   * SQS queue. Used to test the malformed-message path. Throws QueueFullError.
   */
  sendRaw(body: string): Promise<void> {
    return settle(() => this.store(body, 'message'));
  }

  /** Up to `max` visible messages, each hidden for `visibilityMs`. See EventQueue.receive. */
  receive(max: number, visibilityMs: number): Promise<ReceivedEvent[]> {
    return settle(() => this.receiveNow(max, visibilityMs));
  }

  private receiveNow(max: number, visibilityMs: number): ReceivedEvent[] {
    checkReceiveArgs(max, visibilityMs);
    const t = this.now();
    const out: ReceivedEvent[] = [];
    for (const m of this.messages.values()) {
      if (out.length >= max) break;
      if (m.visibleAt > t) continue;
      if (m.receiveCount >= this.maxReceives) {
        this.deadLetter(m, 'max_receives', undefined, t);
        continue;
      }
      m.receiveCount += 1;
      const parsed = parseEventBody(m.body);
      if (!parsed.ok) {
        this.onProblem({ kind: 'malformed', queue: this.name, messageId: m.messageId, detail: parsed.detail, bodyPreview: bodyPreview(m.body) });
        this.deadLetter(m, 'malformed', parsed.detail, t);
        continue;
      }
      m.visibleAt = t + visibilityMs;
      m.receiptHandle = `${m.messageId}#${m.receiveCount}`;
      out.push({ receiptHandle: m.receiptHandle, event: parsed.event, receiveCount: m.receiveCount });
    }
    return out;
  }

  /** Deletes the message if `receiptHandle` is its latest delivery; a stale or unknown handle is ignored. */
  ack(receiptHandle: string): Promise<void> {
    const m = this.byHandle(receiptHandle);
    if (m) this.messages.delete(m.messageId);
    return Promise.resolve();
  }

  /** Makes the message visible again after `delayMs` (default 0); a stale or unknown handle is ignored. */
  nack(receiptHandle: string, delayMs = 0): Promise<void> {
    return settle(() => {
      checkDelayMs('nack delayMs', delayMs);
      const m = this.byHandle(receiptHandle);
      if (m) m.visibleAt = this.now() + delayMs;
    });
  }

  /** Messages held, in flight included (dead letters not counted). */
  size(): number {
    return this.messages.size;
  }

  /** The dead-letter list, oldest first. */
  deadLetters(): readonly DeadLetter[] {
    return [...this.dead];
  }

  private store(body: string, what: string): void {
    if (this.messages.size >= this.maxLength) {
      throw new QueueFullError(`queue ${this.name} is full (${this.maxLength} messages): ${what} was not stored; consumers are behind or stopped`);
    }
    const messageId = `m${++this.seq}`;
    this.messages.set(messageId, { messageId, body, receiveCount: 0, visibleAt: 0, receiptHandle: undefined });
  }

  private byHandle(handle: string): StoredMessage | undefined {
    const id = handle.split('#', 1)[0] ?? '';
    const m = this.messages.get(id);
    return m && m.receiptHandle === handle ? m : undefined;
  }

  private deadLetter(m: StoredMessage, reason: DeadLetter['reason'], detail: string | undefined, at: number): void {
    this.messages.delete(m.messageId);
    if (this.dead.length >= this.maxDeadLetters) {
      const dropped = this.dead.shift();
      if (dropped) {
        this.onProblem({
          kind: 'dead_letter_overflow',
          queue: this.name,
          messageId: dropped.messageId,
          detail: `dead-letter list of ${this.name} is full (${this.maxDeadLetters}); the oldest dead letter was discarded`,
          bodyPreview: bodyPreview(dropped.body),
        });
      }
    }
    this.dead.push({ messageId: m.messageId, body: m.body, reason, ...(detail !== undefined ? { detail } : {}), receiveCount: m.receiveCount, at });
  }
}

/** The three queues (events, alerts, retrain) in process, with a publisher that routes by event type. */
export class MemoryEventQueues implements EventPublisher {
  private readonly queues: Record<QueueName, MemoryEventQueue>;

  /** Every queue gets the same options. */
  constructor(options: MemoryQueueOptions) {
    const make = (n: QueueName) => new MemoryEventQueue(n, options);
    this.queues = Object.fromEntries(QUEUE_NAMES.map((n) => [n, make(n)])) as Record<QueueName, MemoryEventQueue>;
  }

  /** Validates the event and stores it on its queue (see QUEUE_FOR_EVENT). */
  publish(event: DomainEvent): Promise<void> {
    // Looked up defensively: an untyped caller could pass an object with an unknown type.
    const q = this.queues[queueFor(event)] as MemoryEventQueue | undefined;
    if (!q) return Promise.reject(new EventValidationError(`unknown event type ${String((event as { type?: unknown }).type)}`));
    return q.sendEvent(event);
  }

  /** The queue of that name. */
  queue(name: QueueName): MemoryEventQueue {
    return this.queues[name];
  }
}
