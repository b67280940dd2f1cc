/**
 * The signals queue as the hot path consumes it: raw message bodies (each one signal as JSON),
 * received with a visibility timeout and acked once decided. The body is parsed by the router like
 * any other channel's (a malformed one is refused, audited and acked: it would never parse on a
 * redelivery either). Delivery is at least once; the router de-duplicates on the signal id.
 *
 * Implementations: `MemorySignalInbox` here (bounded, for local runs and tests) and
 * `SqsSignalInbox` (services/adapters/sqs/sqsSignals.ts) on the queue the CDK creates
 * (lib/signalWebhook.ts), which the webhook Lambda sends to.
 */
import type { SignalIntake } from './intake.js';

/** One delivery of a message. */
export interface InboxMessage {
  readonly receiptHandle: string;
  readonly body: string;
}

export interface SignalInbox {
  /** Up to `max` (1-10) messages, hidden for `visibilityMs`; [] when none. Rejects when the queue cannot be reached. */
  receive(max: number, visibilityMs: number): Promise<InboxMessage[]>;
  /** Deletes a delivered message. */
  ack(receiptHandle: string): Promise<void>;
}

/** In-process signals queue: visibility timeout and redelivery like SQS, at most `maxLength` messages. */
export class MemorySignalInbox implements SignalInbox {
  private readonly messages = new Map<string, { body: string; visibleAt: number; handle: string | undefined }>();
  private seq = 0;

  constructor(
    private readonly now: () => number,
    private readonly maxLength = 1000,
  ) {}

  /** Adds a message; false (nothing stored) when the queue is full. */
  send(body: string): boolean {
    if (this.messages.size >= this.maxLength) return false;
    this.messages.set(`m${++this.seq}`, { body, visibleAt: 0, handle: undefined });
    return true;
  }

  receive(max: number, visibilityMs: number): Promise<InboxMessage[]> {
    const t = this.now();
    const out: InboxMessage[] = [];
    for (const [id, m] of this.messages) {
      if (out.length >= max) break;
      if (m.visibleAt > t) continue;
      m.handle = `${id}:${++this.seq}`;
      m.visibleAt = t + visibilityMs;
      out.push({ receiptHandle: m.handle, body: m.body });
    }
    return Promise.resolve(out);
  }

  ack(receiptHandle: string): Promise<void> {
    const id = receiptHandle.slice(0, receiptHandle.indexOf(':'));
    if (this.messages.get(id)?.handle === receiptHandle) this.messages.delete(id);
    return Promise.resolve();
  }

  get length(): number {
    return this.messages.size;
  }
}

/** Decisions that are not final: the message is left for a redelivery rather than acked. */
const RETRY_REASONS = new Set(['INTERNAL_ERROR', 'OVERLOADED']);

export interface PollResult {
  readonly received: number;
  readonly acked: number;
  readonly left: number;
}

/**
 * One poll of the inbox: every message is decided through the intake (channel `queue`) and acked
 * unless its decision is not final. Never rejects: a queue that cannot be reached is logged, and
 * the next poll tries again.
 */
export async function pollSignalInbox(inbox: SignalInbox, intake: Pick<SignalIntake, 'submit'>, log: (line: string) => void, visibilityMs = 30_000): Promise<PollResult> {
  let messages: InboxMessage[];
  try {
    messages = await inbox.receive(10, visibilityMs);
  } catch (e) {
    log(`signals queue: receive failed (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}); next poll retries`);
    return { received: 0, acked: 0, left: 0 };
  }
  let acked = 0;
  let left = 0;
  for (const m of messages) {
    const r = await intake.submit(m.body, 'queue');
    if (!r.ok && r.reason !== undefined && RETRY_REASONS.has(r.reason)) {
      left++;
      continue;
    }
    try {
      await inbox.ack(m.receiptHandle);
      acked++;
    } catch (e) {
      // Redelivered later and refused as DUPLICATE then: nothing is sent twice.
      left++;
      log(`signals queue: ack failed (${e instanceof Error ? e.message : String(e)}); the message comes back and is refused as a duplicate`);
    }
  }
  return { received: messages.length, acked, left };
}
