import { describe, expect, it } from 'vitest';
import { MemoryTable, createMemoryStore } from '../../services/state/memoryStore.js';
import { dec } from '../../services/core/money.js';
import { InvalidStateError } from '../../services/core/errors.js';
import { applyOrderEvent, orderOf } from '../../services/state/types.js';
import { stateStoreContract, order, position } from './contract.js';

stateStoreContract('memory', () => {
  const table = new MemoryTable();
  return Promise.resolve({
    table,
    plant: async (item) => {
      await table.put(item, { kind: 'none' });
    },
    exists: async (pk, sk) => (await table.get(pk, sk)) !== undefined,
    close: () => Promise.resolve(),
  });
});

describe('MemoryTable', () => {
  it('hands out copies: changing a read item does not change the stored one', async () => {
    const { store, table } = createMemoryStore({ clock: () => 0 });
    await store.put('position', position('p1'), undefined);
    const raw = (await table.get('POS#p1', 'POS')) as Record<string, unknown>;
    raw.version = 99;
    expect((await table.get('POS#p1', 'POS'))?.version).toBe(1);
    expect(table.size).toBe(1);
  });
});

describe('order records through the state machine', () => {
  it('applies fills once by event id and by trade id, and a filled order leaves the open list', async () => {
    const { store } = createMemoryStore({ clock: () => 0 });
    await store.put('order', order('o1', { quantity: dec('100') }), undefined);
    const fillEv = (tradeId: string, q: string) => ({ type: 'fill' as const, tradeId, quantity: dec(q) });

    const a = await store.applyEvent('order', 'o1', 'ws:t1', (cur) => cur && applyOrderEvent(cur, fillEv('t1', '40'), 10));
    expect(a.applied).toBe(true);
    expect(a.current?.value).toMatchObject({ state: 'partially_filled', tradeIds: ['t1'], updatedAt: 10 });
    expect(a.current?.value.filledQuantity.toString()).toBe('40');

    // The same trade delivered again under another event id (REST catch-up): the state machine
    // returns the order unchanged, so nothing is written.
    const b = await store.applyEvent('order', 'o1', 'rest:t1', (cur) => cur && applyOrderEvent(cur, fillEv('t1', '40'), 11));
    expect(b.applied).toBe(false);
    expect(b.current?.version).toBe(2);

    const c = await store.applyEvent('order', 'o1', 'ws:t2', (cur) => cur && applyOrderEvent(cur, fillEv('t2', '60'), 12));
    expect(c.current?.value.state).toBe('filled');
    expect(c.current?.value.fillSum.toString()).toBe('100');
    expect(await store.listOpenOrders()).toEqual([]);
  });

  it('orderOf and applyOrderEvent keep the pending flag, the exchange id and the reason', () => {
    const rec = order('o2', { state: 'pending', sent: false });
    expect(orderOf(rec)).toMatchObject({ state: 'pending', sent: false });
    const sent = applyOrderEvent(rec, { type: 'sent' }, 5);
    expect(sent).toMatchObject({ state: 'pending', sent: true, updatedAt: 5 });
    const acked = applyOrderEvent(sent, { type: 'acknowledged', exchangeOrderId: 'X1' }, 6);
    expect(acked).toMatchObject({ state: 'submitted', exchangeOrderId: 'X1' });
    const cancelled = applyOrderEvent(acked, { type: 'cancelled', reason: 'target moved' }, 7);
    expect(cancelled).toMatchObject({ state: 'cancelled', exchangeOrderId: 'X1', reason: 'target moved' });
    expect(() => applyOrderEvent(cancelled, { type: 'sent' }, 8)).toThrow(InvalidStateError);
  });
});
