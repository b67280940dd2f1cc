/**
 * The replay pump (issue 15, defect 5): a backlog is handed out in bounded turns with the event
 * loop free in between, in the replay's order, and the clock ends where it was asked to.
 */
import { describe, expect, it } from 'vitest';
import { ReplayPump, type ReplaySource } from '../../services/adapters/mexcSim/replayPump.js';
import { symbolId } from '../../services/core/types.js';
import type { MarketDataEvent } from '../../services/sim/types.js';

const BTC = symbolId('BTCUSDT');

/** A replay of trades at the given times, in order, with `until` as CandleReplay defines it. */
function source(times: readonly number[]): ReplaySource {
  const events: MarketDataEvent[] = times.map((t, i) => ({ type: 'trade', symbol: BTC, trade: { price: 100 + i, quantity: 1, time: t, buyerMaker: false } }));
  let i = 0;
  return {
    peekTime: () => (i < events.length ? (events[i] as Extract<MarketDataEvent, { type: 'trade' }>).trade.time : undefined),
    until(time) {
      const out: MarketDataEvent[] = [];
      while (i < events.length && (events[i] as Extract<MarketDataEvent, { type: 'trade' }>).trade.time <= time) out.push(events[i++]!);
      return out;
    },
    get done() {
      return i >= events.length;
    },
  };
}

const priceOf = (e: MarketDataEvent): number => (e as Extract<MarketDataEvent, { type: 'trade' }>).trade.price;

describe('ReplayPump', () => {
  it('catches up in turns of at most maxEventsPerTurn, yielding between them, in order', async () => {
    const times = Array.from({ length: 95 }, (_, i) => 1_000 + i * 10);
    const log: (number | 'yield')[] = [];
    const pump = new ReplayPump(source(times), (e) => log.push(priceOf(e)), 999, {
      maxEventsPerTurn: 10,
      yieldTurn: (next) => {
        log.push('yield');
        setImmediate(next);
      },
    });
    // Something else the event loop must run while the pump catches up.
    let otherWorkRanBeforeDone = false;
    setImmediate(() => (otherWorkRanBeforeDone = log.length < 95 + 9));
    await pump.catchUpTo(5_000);
    const events = log.filter((x): x is number => x !== 'yield');
    expect(events).toEqual(times.map((_, i) => 100 + i));
    // 95 events in turns of 10: 9 yields, and never more than 10 events between two of them.
    expect(log.filter((x) => x === 'yield')).toHaveLength(9);
    const runs = log.join(',').split('yield').map((r) => r.split(',').filter(Boolean).length);
    expect(Math.max(...runs)).toBe(10);
    expect(otherWorkRanBeforeDone).toBe(true);
    expect(pump.clock).toBe(5_000);
    expect(pump.done).toBe(true);
  });

  it('keeps the events of one timestamp in one turn, and stops at the target', async () => {
    // Three events at t=10 with a turn of 2: the turn takes the whole instant.
    const seen: number[] = [];
    let yields = 0;
    const pump = new ReplayPump(source([10, 10, 10, 20, 30]), (e) => seen.push(priceOf(e)), 0, {
      maxEventsPerTurn: 2,
      yieldTurn: (next) => {
        yields++;
        setImmediate(next);
      },
    });
    await pump.catchUpTo(20);
    expect(seen).toEqual([100, 101, 102, 103]);
    expect(yields).toBe(1);
    expect(pump.clock).toBe(20);
    expect(pump.done).toBe(false);
    // By hand, synchronously, the rest.
    expect(pump.advanceTo(40)).toBe(1);
    expect(pump.clock).toBe(40);
  });

  it('releases a pending catch-up when stopped', async () => {
    const seen: number[] = [];
    let held: (() => void) | undefined;
    const pump = new ReplayPump(source([1, 2, 3, 4]), (e) => seen.push(priceOf(e)), 0, { maxEventsPerTurn: 1, yieldTurn: (next) => (held = next) });
    const p = pump.catchUpTo(10);
    expect(seen).toEqual([100]);
    pump.stop();
    await p;
    held?.();
    expect(seen).toEqual([100]);
  });

  it('refuses a turn size that is not a positive integer', () => {
    expect(() => new ReplayPump(source([]), () => undefined, 0, { maxEventsPerTurn: 0 })).toThrow(/maxEventsPerTurn/);
  });
});
