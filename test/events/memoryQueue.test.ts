import { describe, expect, it } from 'vitest';
import { MemoryEventQueue, MemoryEventQueues } from '../../services/events/memoryQueue.js';
import {
  closedTradeFromEvent,
  tradeClosedEvent,
  EventValidationError,
  QueueFullError,
  type QueueName,
  type QueueProblem,
  type TradeClosedEvent,
} from '../../services/events/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { Dec } from '../../services/core/money.js';
import { alert, eventQueueContract, receiveAll, tradeClosed } from './contract.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, set: (ms: number) => (t = start + ms), advance: (ms: number) => (t += ms) };
}

eventQueueContract('in-process queue', () => {
  const c = clock();
  const problems: QueueProblem[] = [];
  const qs = new MemoryEventQueues({ now: c.now, maxReceives: 3, onProblem: (p) => problems.push(p) });
  return Promise.resolve({
    publisher: qs,
    queue: (n: QueueName) => qs.queue(n),
    sendRaw: (n: QueueName, body: string) => qs.queue(n).sendRaw(body),
    advance: (ms: number) => {
      c.advance(ms);
      return Promise.resolve();
    },
    deadLetterBodies: (n: QueueName) => Promise.resolve(qs.queue(n).deadLetters().map((d) => d.body)),
    problems,
    maxReceives: 3,
    visibilityMs: 1000,
    close: () => Promise.resolve(),
  });
});

describe('MemoryEventQueue', () => {
  it('defaults to 5 receives before the dead-letter list', async () => {
    const c = clock();
    const q = new MemoryEventQueue('alerts', { now: c.now });
    await q.sendEvent(alert(1));
    for (let i = 1; i <= 5; i++) {
      const [r] = await q.receive(1, 30_000);
      expect(r!.receiveCount).toBe(i);
      c.advance(30_000);
    }
    expect(await q.receive(10, 30_000)).toEqual([]);
    expect(q.size()).toBe(0);
    expect(q.deadLetters()).toMatchObject([{ reason: 'max_receives', receiveCount: 5, at: 1_150_000 }]);
  });

  it('visibility ends exactly visibilityMs after the receive', async () => {
    const c = clock();
    const q = new MemoryEventQueue('alerts', { now: c.now });
    await q.sendEvent(alert(1));
    await q.receive(1, 2500);
    c.set(2499);
    expect(await q.receive(1, 2500)).toEqual([]);
    c.set(2500);
    expect(await q.receive(1, 2500)).toHaveLength(1);
  });

  it('nack with a delay hides the message for that long', async () => {
    const c = clock();
    const q = new MemoryEventQueue('alerts', { now: c.now });
    await q.sendEvent(alert(1));
    const [r] = await q.receive(1, 60_000);
    c.set(100);
    await q.nack(r!.receiptHandle, 1000);
    c.set(1099);
    expect(await q.receive(1, 60_000)).toEqual([]);
    c.set(1100);
    const [again] = await q.receive(1, 60_000);
    expect(again!.receiveCount).toBe(2);
  });

  it('a message nacked maxReceives times ends in the dead-letter list', async () => {
    const q = new MemoryEventQueue('alerts', { now: () => 0, maxReceives: 2 });
    await q.sendEvent(alert(1));
    for (let i = 0; i < 2; i++) {
      const [r] = await q.receive(1, 1000);
      await q.nack(r!.receiptHandle);
    }
    expect(await q.receive(1, 1000)).toEqual([]);
    expect(q.deadLetters()).toHaveLength(1);
  });

  it('publishing to a full queue rejects with QueueFullError and keeps what it holds; an ack makes room', async () => {
    const q = new MemoryEventQueue('alerts', { now: () => 0, maxLength: 2 });
    await q.sendEvent(alert(1));
    await q.sendEvent(alert(2));
    const err = await q.sendEvent(alert(3)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as Error).message).toContain('queue alerts is full (2 messages): event alert:test:3 was not stored');
    expect(q.size()).toBe(2);
    // In-flight messages count towards the bound: receiving does not make room, acking does.
    const got = await q.receive(10, 1000);
    await expect(q.sendEvent(alert(3))).rejects.toBeInstanceOf(QueueFullError);
    await q.ack(got[0]!.receiptHandle);
    await q.sendEvent(alert(3));
    expect(q.size()).toBe(2);
  });

  it('the dead-letter list is bounded: the oldest is discarded and reported', async () => {
    const problems: QueueProblem[] = [];
    const q = new MemoryEventQueue('alerts', { now: () => 0, maxDeadLetters: 2, onProblem: (p) => problems.push(p) });
    for (const b of ['bad 1', 'bad 2', 'bad 3']) await q.sendRaw(b);
    expect(await q.receive(10, 1000)).toEqual([]);
    expect(q.deadLetters().map((d) => d.body)).toEqual(['bad 2', 'bad 3']);
    expect(problems.map((p) => p.kind)).toEqual(['malformed', 'malformed', 'malformed', 'dead_letter_overflow']);
    expect(problems[3]!.bodyPreview).toBe('bad 1');
  });

  it('a malformed body is dead-lettered with the reason; the report quotes at most 200 characters', async () => {
    const problems: QueueProblem[] = [];
    const q = new MemoryEventQueue('events', { now: () => 0, onProblem: (p) => problems.push(p) });
    await q.sendRaw('x'.repeat(1000));
    expect(await q.receive(1, 1000)).toEqual([]);
    expect(q.deadLetters()[0]).toMatchObject({ reason: 'malformed', receiveCount: 1 });
    expect(problems[0]!.bodyPreview).toHaveLength(203);
  });

  it('receive returns at most max events', async () => {
    const q = new MemoryEventQueue('alerts', { now: () => 0 });
    for (let i = 0; i < 5; i++) await q.sendEvent(alert(i));
    expect(await q.receive(3, 1000)).toHaveLength(3);
    expect(await receiveAll(q, 5, 1000)).toHaveLength(2);
  });

  it('a nack or ack with an unknown handle is ignored; a bad delay is rejected', async () => {
    const q = new MemoryEventQueue('alerts', { now: () => 0 });
    await q.sendEvent(alert(1));
    await q.ack('m1#7');
    await q.nack('nonsense');
    expect(q.size()).toBe(1);
    const [r] = await q.receive(1, 1000);
    await expect(q.nack(r!.receiptHandle, -1)).rejects.toBeInstanceOf(EventValidationError);
  });

  it('rejects bounds that are not positive integers', () => {
    expect(() => new MemoryEventQueue('x', { now: () => 0, maxLength: 0 })).toThrow(/maxLength/);
    expect(() => new MemoryEventQueue('x', { now: () => 0, maxReceives: 1.5 })).toThrow(/maxReceives/);
  });
});

describe('trade-closed events through the queue', () => {
  it('a ClosedTrade survives the JSON trip with exact decimals and a deterministic id', async () => {
    const trade: ClosedTrade = {
      id: 'PEPEUSDT-1764590400000',
      symbol: 'PEPEUSDT',
      direction: 'long',
      entryTime: 1_764_590_400_000,
      exitTime: 1_764_591_000_000,
      // Prices below a double's comfortable precision on purpose: 18 decimals must survive.
      entryPrice: Dec.from('0.000004123456789012'),
      exitPrice: Dec.from('0.000004200000000001'),
      quantity: Dec.from('24000000'),
      fees: Dec.from('0.0504'),
      // (0.000004200000000001 - 0.000004123456789012) x 24,000,000, by hand; net = gross - fees.
      grossPnl: Dec.from('1.837037063736'),
      netPnl: Dec.from('1.786637063736'),
      exitReason: 'target',
      exits: 2,
      returnPct: 1.8053,
    };
    const e = tradeClosedEvent(trade, 1_764_591_000_500);
    expect(e.id).toBe('trade_closed:PEPEUSDT-1764590400000');
    expect(tradeClosedEvent(trade, 1_764_591_000_500)).toEqual(e);
    expect(e.trade.entryPrice).toBe('0.000004123456789012');
    const qs = new MemoryEventQueues({ now: () => 0 });
    await qs.publish(e);
    const [r] = await qs.queue('events').receive(1, 1000);
    const back = closedTradeFromEvent(r!.event as TradeClosedEvent);
    expect(back.entryPrice.eq(trade.entryPrice)).toBe(true);
    expect(back.exitPrice.toString()).toBe('0.000004200000000001');
    expect(back.netPnl.eq(Dec.from('1.786637063736'))).toBe(true);
    expect(back.quantity.toString()).toBe('24000000');
    expect({ ...back, entryPrice: 0, exitPrice: 0, quantity: 0, fees: 0, grossPnl: 0, netPnl: 0 }).toEqual({ ...trade, entryPrice: 0, exitPrice: 0, quantity: 0, fees: 0, grossPnl: 0, netPnl: 0 });
  });

  it('a decimal that is not a plain decimal string is refused at publish', async () => {
    const qs = new MemoryEventQueues({ now: () => 0 });
    const bad = { ...tradeClosed, trade: { ...tradeClosed.trade, netPnl: '1e-7' } };
    await expect(qs.publish(bad)).rejects.toThrow(/trade\.netPnl/);
  });
});
