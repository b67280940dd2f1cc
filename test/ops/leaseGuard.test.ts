/**
 * The lease policy with a manual clock (deterministic): a held lease is waited for, never stolen;
 * the wait ends when the lease expires, when the holder has settled the symbol, or at the budget.
 * And the kill-switch escalation table: only ever more restrictive.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import { acquireOrWait } from '../../services/ops/leaseGuard.js';
import { escalateKillSwitch } from '../../services/ops/killSwitchEscalation.js';
import type { KillSwitchReading, KillSwitchSource, KillSwitchState } from '../../services/control/killSwitch.js';
import { MemoryKillSwitch } from './helpers.js';

function clock(start = 1_000_000) {
  let t = start;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}

describe('acquireOrWait', () => {
  it('takes a free lease at once', async () => {
    const c = clock();
    const { store } = createMemoryStore({ clock: c.now });
    const r = await acquireOrWait(store, 'BTCUSDT', 'es', { ttlMs: 120_000, waitMs: 75_000, pollMs: 1000 }, c);
    expect(r).toMatchObject({ kind: 'acquired', attempts: 1, waitedMs: 0 });
    expect((await store.getLease('BTCUSDT'))?.owner).toBe('es');
  });

  it('waits for a held lease that is not renewed and takes it the moment it expires (never before)', async () => {
    const c = clock();
    const { store } = createMemoryStore({ clock: c.now });
    await store.acquireLease('BTCUSDT', 'hot-path', 60_000, c.now() - 58_500); // expires in 1.5 s
    const r = await acquireOrWait(store, 'BTCUSDT', 'es', { ttlMs: 120_000, waitMs: 75_000, pollMs: 1000 }, c);
    expect(r.kind).toBe('acquired');
    // Polls at +1000, then sleeps exactly to expiry +1 ms: acquired at +1501 ms.
    expect(c.sleeps).toEqual([1000, 501]);
    expect(r.waitedMs).toBe(1501);
  });

  it('defers when a live holder keeps renewing for the whole budget, and never touches its lease', async () => {
    const c = clock();
    const { store } = createMemoryStore({ clock: c.now });
    await store.acquireLease('BTCUSDT', 'hot-path', 60_000, c.now());
    const renewing = async () => {
      await store.renewLease('BTCUSDT', 'hot-path', 60_000, c.now());
      return false;
    };
    const r = await acquireOrWait(store, 'BTCUSDT', 'es', { ttlMs: 120_000, waitMs: 5000, pollMs: 1000 }, c, renewing);
    expect(r).toMatchObject({ kind: 'deferred', holder: 'hot-path', waitedMs: 5000, attempts: 6 });
    expect((await store.getLease('BTCUSDT'))?.owner).toBe('hot-path');
  });

  it('stops waiting when the holder has settled the symbol', async () => {
    const c = clock();
    const { store } = createMemoryStore({ clock: c.now });
    await store.acquireLease('BTCUSDT', 'hot-path', 60_000, c.now());
    let checks = 0;
    const r = await acquireOrWait(store, 'BTCUSDT', 'es', { ttlMs: 120_000, waitMs: 75_000, pollMs: 1000 }, c, () => Promise.resolve(++checks >= 3));
    expect(r).toMatchObject({ kind: 'settled_by_holder', holder: 'hot-path', attempts: 3, waitedMs: 2000 });
  });
});

class FailingSwitch implements KillSwitchSource {
  readonly writes: KillSwitchState[] = [];
  read(): Promise<KillSwitchReading> {
    return Promise.reject(new Error('throttled'));
  }
  write(s: KillSwitchState): Promise<void> {
    this.writes.push(s);
    return Promise.resolve();
  }
}

describe('escalateKillSwitch', () => {
  const cases: [string, KillSwitchState, KillSwitchState | undefined][] = [
    ['RUNNING', 'PAUSED', 'PAUSED'],
    ['RUNNING', 'EMERGENCY_STOP', 'EMERGENCY_STOP'],
    ['PAUSED', 'PAUSED', undefined],
    ['PAUSED', 'EMERGENCY_STOP', 'EMERGENCY_STOP'],
    ['EMERGENCY_STOP', 'PAUSED', undefined],
    ['EMERGENCY_STOP', 'RUNNING', undefined],
    ['PAUSED', 'RUNNING', undefined],
    ['garbage', 'PAUSED', undefined],
    ['garbage', 'EMERGENCY_STOP', 'EMERGENCY_STOP'],
  ];
  it.each(cases)('stored %s, wanted %s -> writes %s', async (stored, wanted, written) => {
    const ks = new MemoryKillSwitch(stored);
    await escalateKillSwitch(ks, wanted, 'test');
    expect(ks.writes.map((w) => w.state)).toEqual(written ? [written] : []);
  });

  it('an unreadable switch gets only EMERGENCY_STOP', async () => {
    const f = new FailingSwitch();
    expect((await escalateKillSwitch(f, 'PAUSED', 't')).problem).toContain('unreadable');
    await escalateKillSwitch(f, 'EMERGENCY_STOP', 't');
    expect(f.writes).toEqual(['EMERGENCY_STOP']);
  });
});
