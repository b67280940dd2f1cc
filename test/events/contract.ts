/**
 * The event-queue contract: one suite, run against the in-process queue (memoryQueue.test.ts) and
 * against SQS on local-aws-sqs (sqsEvents.test.ts), so local success means something.
 *
 * The expectations come from SQS's documented standard-queue behaviour: at-least-once delivery, a
 * visibility timeout that hides a received message, ApproximateReceiveCount starting at 1, a redrive
 * policy that moves a message to the dead-letter queue after maxReceiveCount receives, and no order.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventValidationError,
  type AlertEvent,
  type DomainEvent,
  type EventPublisher,
  type EventQueue,
  type QueueName,
  type QueueProblem,
  type ReceivedEvent,
  type RetrainRequestEvent,
  type TradeClosedEvent,
} from '../../services/events/types.js';

export interface QueueHarness {
  readonly publisher: EventPublisher;
  queue(name: QueueName): EventQueue;
  /** Stores a body as is (no validation), as a foreign producer could. */
  sendRaw(name: QueueName, body: string): Promise<void>;
  /** Lets `ms` pass for the queue's visibility timers (a fake clock, or a real wait). */
  advance(ms: number): Promise<void>;
  /** The bodies now in the dead-letter queue of `name`. */
  deadLetterBodies(name: QueueName): Promise<string[]>;
  /** Problems the queues reported. */
  readonly problems: QueueProblem[];
  /** The queues' maximum number of receives before dead-lettering. */
  readonly maxReceives: number;
  /** A visibility timeout the transport can express (SQS: whole seconds). */
  readonly visibilityMs: number;
  close(): Promise<void>;
}

export const alert = (n: number, extra: Partial<AlertEvent> = {}): AlertEvent => ({
  type: 'alert',
  id: `alert:test:${n}`,
  time: 1_764_590_400_000 + n,
  severity: 'warning',
  title: `Feed lag on BTCUSDT (${n})`,
  detail: 'kline stream 12 s behind',
  dedupKey: 'feed-lag:BTCUSDT',
  ...extra,
});

export const tradeClosed: TradeClosedEvent = {
  type: 'trade_closed',
  id: 'trade_closed:BTCUSDT-1764590400000',
  time: 1_764_594_000_000,
  trade: {
    id: 'BTCUSDT-1764590400000',
    symbol: 'BTCUSDT',
    direction: 'long',
    entryTime: 1_764_590_400_000,
    exitTime: 1_764_594_000_000,
    entryPrice: '91234.56',
    exitPrice: '91500.1',
    quantity: '0.010958',
    fees: '0.50137659',
    grossPnl: '2.90978742',
    netPnl: '2.40841083',
    exitReason: 'target',
    exits: 3,
    returnPct: 0.2409,
  },
};

export const retrain: RetrainRequestEvent = { type: 'retrain_request', id: 'retrain:2026-12-01', time: 1_764_547_200_000, reason: 'weekly schedule', symbol: 'ETHUSDT' };

/**
 * Receives until `count` events arrived or a few empty receives in a row: a receive may return fewer
 * messages than are available (SQS samples servers), so one call proves nothing.
 */
export async function receiveAll(q: EventQueue, count: number, visibilityMs: number, emptyTries = 3): Promise<ReceivedEvent[]> {
  const got: ReceivedEvent[] = [];
  let empty = 0;
  while (got.length < count && empty < emptyTries) {
    const batch = await q.receive(10, visibilityMs);
    if (batch.length === 0) empty++;
    got.push(...batch);
  }
  return got;
}

const ids = (rs: readonly { event: DomainEvent }[]) => rs.map((r) => r.event.id).sort();

/** Registers the contract suite under `label`; `make` builds a fresh, empty harness per test. */
export function eventQueueContract(label: string, make: () => Promise<QueueHarness>): void {
  describe(`EventQueue contract: ${label}`, () => {
    let h: QueueHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('publish -> receive -> ack -> gone', async () => {
      const e = alert(1);
      await h.publisher.publish(e);
      const [r, ...more] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      expect(more).toEqual([]);
      expect(r!.event).toEqual(e);
      expect(r!.receiveCount).toBe(1);
      await h.queue('alerts').ack(r!.receiptHandle);
      await h.advance(h.visibilityMs + 200);
      expect(await receiveAll(h.queue('alerts'), 1, h.visibilityMs, 2)).toEqual([]);
      expect(await h.deadLetterBodies('alerts')).toEqual([]);
    });

    it('routes each type to its queue, with decimals intact', async () => {
      await h.publisher.publish(tradeClosed);
      await h.publisher.publish(alert(2));
      await h.publisher.publish(retrain);
      const [ev] = await receiveAll(h.queue('events'), 1, h.visibilityMs);
      const [al] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      const [rt] = await receiveAll(h.queue('retrain'), 1, h.visibilityMs);
      expect(ev!.event).toEqual(tradeClosed);
      expect(al!.event.id).toBe('alert:test:2');
      expect(rt!.event).toEqual(retrain);
      expect(await receiveAll(h.queue('events'), 1, h.visibilityMs, 1)).toEqual([]);
    });

    it('a received message is hidden, and comes back after its visibility timeout with receiveCount 2', async () => {
      await h.publisher.publish(alert(3));
      const [first] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      expect(first!.receiveCount).toBe(1);
      expect(await h.queue('alerts').receive(10, h.visibilityMs)).toEqual([]);
      await h.advance(h.visibilityMs + 200);
      const [again, ...more] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      expect(more).toEqual([]);
      expect(again!.event.id).toBe('alert:test:3');
      expect(again!.receiveCount).toBe(2);
      expect(again!.receiptHandle).not.toBe(first!.receiptHandle);
      await h.queue('alerts').ack(again!.receiptHandle);
    });

    it('nack makes the message visible again at once', async () => {
      await h.publisher.publish(alert(4));
      const [first] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      await h.queue('alerts').nack(first!.receiptHandle);
      const [again] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      expect(again!.event.id).toBe('alert:test:4');
      // SQS counts 2; local-aws-sqs also counts the nack itself (see localSqs.ts), so at least 2.
      expect(again!.receiveCount).toBeGreaterThanOrEqual(2);
    });

    it('after maxReceives receives without an ack, the message goes to the dead-letter queue', async () => {
      const e = alert(5);
      await h.publisher.publish(e);
      for (let i = 1; i <= h.maxReceives; i++) {
        const [r, ...more] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
        expect(more).toEqual([]);
        expect(r!.receiveCount).toBe(i);
        await h.advance(h.visibilityMs + 200);
      }
      expect(await receiveAll(h.queue('alerts'), 1, h.visibilityMs, 2)).toEqual([]);
      const dead = await h.deadLetterBodies('alerts');
      expect(dead).toHaveLength(1);
      expect(JSON.parse(dead[0]!)).toEqual(e);
    });

    it('a malformed body is reported and dead-lettered, never returned; good messages still flow', async () => {
      const badSeverity = JSON.stringify({ type: 'alert', id: 'alert:bad', time: 1, severity: 'urgent', title: 't', detail: '' });
      await h.sendRaw('alerts', 'not json at all');
      await h.sendRaw('alerts', badSeverity);
      await h.publisher.publish(alert(6));
      const got = await receiveAll(h.queue('alerts'), 3, h.visibilityMs);
      expect(ids(got)).toEqual(['alert:test:6']);
      const malformed = h.problems.filter((p) => p.kind === 'malformed');
      expect(malformed).toHaveLength(2);
      expect(malformed.map((p) => p.detail).join('\n')).toMatch(/not JSON/);
      expect(malformed.map((p) => p.detail).join('\n')).toMatch(/severity/);
      expect((await h.deadLetterBodies('alerts')).sort()).toEqual([badSeverity, 'not json at all'].sort());
    });

    it('no order is assumed: every event of a burst arrives once', async () => {
      const burst = [1, 2, 3, 4, 5, 6, 7].map((n) => alert(100 + n));
      for (const e of burst) await h.publisher.publish(e);
      const got = await receiveAll(h.queue('alerts'), burst.length, h.visibilityMs);
      expect(ids(got)).toEqual(burst.map((e) => e.id).sort());
      expect(got.every((r) => r.receiveCount === 1)).toBe(true);
    });

    it('the queue does not de-duplicate: the same event published twice is delivered twice (consumers dedupe by id)', async () => {
      await h.publisher.publish(alert(8));
      await h.publisher.publish(alert(8));
      const got = await receiveAll(h.queue('alerts'), 2, h.visibilityMs);
      expect(got.map((r) => r.event.id)).toEqual(['alert:test:8', 'alert:test:8']);
    });

    it('rejects an invalid event at publish, naming the field; nothing is sent', async () => {
      const bad = { ...alert(9), severity: 'urgent' } as unknown as DomainEvent;
      await expect(h.publisher.publish(bad)).rejects.toThrow(EventValidationError);
      await expect(h.publisher.publish(bad)).rejects.toThrow(/severity/);
      expect(await receiveAll(h.queue('alerts'), 1, h.visibilityMs, 1)).toEqual([]);
    });

    it('rejects a receive batch outside 1-10', async () => {
      await expect(h.queue('alerts').receive(0, h.visibilityMs)).rejects.toThrow(EventValidationError);
      await expect(h.queue('alerts').receive(11, h.visibilityMs)).rejects.toThrow(EventValidationError);
    });

    it('an ack with an older receipt handle does not throw; the latest one deletes', async () => {
      await h.publisher.publish(alert(10));
      const [first] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      await h.advance(h.visibilityMs + 200);
      const [second] = await receiveAll(h.queue('alerts'), 1, h.visibilityMs);
      await h.queue('alerts').ack(first!.receiptHandle);
      await h.queue('alerts').ack(second!.receiptHandle);
      await h.advance(h.visibilityMs + 200);
      expect(await receiveAll(h.queue('alerts'), 1, h.visibilityMs, 2)).toEqual([]);
    });
  });
}
