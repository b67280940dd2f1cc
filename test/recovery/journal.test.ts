/**
 * The journal's write-ahead and the journaled exchange in front of SafeExchange, on the in-memory
 * state store (the same engine as DynamoDB's): an order is sent only after its record exists, a
 * client id is sent at most once across runs, an unavailable store refuses entries but lets exits
 * out, and a cancel that arrives during the journal write keeps the order from ever being sent.
 */
import { describe, expect, it } from 'vitest';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import type { SafeExchange } from '../../services/execution/safeExchange.js';
import type { OrderAck, OrderRequest, OrderUpdate } from '../../services/model/orders.js';
import type { ExchangeEvents } from '../../services/execution/types.js';
import { PositionJournal, intentOf, restoredPosition } from '../../services/recovery/journal.js';
import { JournaledExchange } from '../../services/recovery/journaledExchange.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { StateStore } from '../../services/state/types.js';
import type { EnterIntent } from '../../services/model/intents.js';

const BTC = symbolId('BTCUSDT');

/** Records what reaches it; answers every order as filled. */
class RecordingInner {
  readonly sent: string[] = [];
  private readonly tracked = new Set<string>();
  receiver: ExchangeEvents | undefined;
  market(): never {
    throw new Error('not used');
  }
  subscribe(e: ExchangeEvents): void {
    this.receiver = e;
  }
  isTracked(id: string): boolean {
    return this.tracked.has(id);
  }
  submit(req: OrderRequest): Promise<OrderAck> {
    if (!this.tracked.has(req.clientOrderId)) this.sent.push(req.clientOrderId);
    this.tracked.add(req.clientOrderId);
    return Promise.resolve({ clientOrderId: req.clientOrderId, exchangeOrderId: 'x', status: 'filled' });
  }
  cancel(_s: unknown, id: string): Promise<OrderAck> {
    return Promise.resolve({ clientOrderId: id, exchangeOrderId: 'x', status: 'cancelled' });
  }
  onVenueEvent(): void {}
}

function intent(id: string): EnterIntent {
  return {
    kind: 'enter',
    id,
    symbol: BTC,
    direction: 'long',
    time: 1_700_000_000_000,
    price: 50_000,
    stop: 49_500,
    targets: [
      { label: 'primary', price: 50_500, fraction: 0.33 },
      { label: 'secondary', price: 51_000, fraction: 0.33 },
      { label: 'aggressive', price: 51_500, fraction: 0.34 },
    ],
    level: { price: 49_900, touches: 4, sources: ['extrema', 'pivots'] },
    oppositeLevel: 52_000,
    reasons: ['test'],
    expiresAt: 1_700_014_400_000,
  };
}

const req = (clientOrderId: string, side: 'buy' | 'sell' = 'buy'): OrderRequest => ({ clientOrderId, symbol: BTC, side, type: 'market', quantity: Dec.from('0.01') });

function setup(store?: StateStore): { store: StateStore; journal: PositionJournal; inner: RecordingInner; ex: JournaledExchange; problems: string[] } {
  const s = store ?? createMemoryStore({ clock: () => 1_700_000_000_000 }).store;
  const journal = new PositionJournal({ store: s, now: () => 1_700_000_000_000, mode: 'live' });
  const inner = new RecordingInner();
  const problems: string[] = [];
  const ex = new JournaledExchange(inner as unknown as SafeExchange, journal, { onProblem: (l) => problems.push(l) });
  return { store: s, journal, inner, ex, problems };
}

describe('the position journal', () => {
  it('writes the order and the position (with its intent) before the send; the intent reads back the same', async () => {
    const { store, journal, inner, ex } = setup();
    const it1 = intent('BTCUSDTLabc');
    journal.noteIntent(it1);
    const ack = await ex.submit(req('BTCUSDTLabcE'));
    expect(ack.status).toBe('filled');
    expect(inner.sent).toEqual(['BTCUSDTLabcE']);
    const order = (await store.get('order', 'BTCUSDTLabcE'))?.value;
    expect(order).toMatchObject({ role: 'entry', positionId: 'BTCUSDTLabc', state: 'pending', sent: true });
    const pos = (await store.get('position', 'BTCUSDTLabc'))?.value;
    expect(pos?.orderIds).toEqual(['BTCUSDTLabcE']);
    expect(pos?.extras?.mode).toBe('live');
    const back = intentOf(pos!);
    expect(back).toMatchObject({ id: it1.id, symbol: BTC, price: 50_000, stop: 49_500, expiresAt: it1.expiresAt, oppositeLevel: 52_000 });
    expect(back.targets).toEqual(it1.targets);
    // A later order of the position joins its record; the restore sees both.
    await ex.submit(req('BTCUSDTLabcT1', 'sell'));
    const after = (await store.get('position', 'BTCUSDTLabc'))!.value;
    expect(after.orderIds).toEqual(['BTCUSDTLabcE', 'BTCUSDTLabcT1']);
    const orders = [(await store.get('order', 'BTCUSDTLabcE'))!.value, (await store.get('order', 'BTCUSDTLabcT1'))!.value];
    expect(restoredPosition(after, orders).orders.map((o) => [o.clientOrderId, o.role])).toEqual([
      ['BTCUSDTLabcE', 'entry'],
      ['BTCUSDTLabcT1', 'target'],
    ]);
  });

  it('a client id journaled by an earlier run is never sent again (a new run, same table)', async () => {
    const first = setup();
    first.journal.noteIntent(intent('BTCUSDTLdup'));
    await first.ex.submit(req('BTCUSDTLdupE'));
    const second = setup(first.store);
    second.journal.noteIntent(intent('BTCUSDTLdup'));
    const ack = await second.ex.submit(req('BTCUSDTLdupE'));
    expect(ack.status).toBe('rejected');
    expect(ack.reason).toMatch(/DUPLICATE_CLIENT_ORDER_ID/);
    expect(ack.errorKind).toBe('duplicate_client_order_id');
    expect(second.inner.sent).toEqual([]);
  });

  it('an unavailable store refuses entries (nothing sent) but lets a sell out, and says so', async () => {
    const { store } = createMemoryStore({ clock: () => 1 });
    const broken = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'put' || prop === 'applyEvent') return () => Promise.reject(new Error('table unavailable'));
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const { ex, inner, problems } = setup(broken);
    const entry = await ex.submit(req('BTCUSDTLdownE'));
    expect(entry).toMatchObject({ status: 'rejected', errorKind: 'state_unavailable', reason: expect.stringMatching(/STATE_UNAVAILABLE/) as unknown });
    const exit = await ex.submit(req('BTCUSDTLdownX1', 'sell'));
    expect(exit.status).toBe('filled');
    expect(inner.sent).toEqual(['BTCUSDTLdownX1']);
    expect(problems.some((p) => /sent without its journal entry/.test(p))).toBe(true);
  });

  it('a cancel during the journal write keeps the order from being sent, and the executor hears it ended', async () => {
    const { ex, inner, journal } = setup();
    const updates: OrderUpdate[] = [];
    ex.subscribe({ onFill: () => undefined, onOrderUpdate: (u) => updates.push(u) });
    journal.noteIntent(intent('BTCUSDTLcan'));
    const submitted = ex.submit(req('BTCUSDTLcanT1', 'sell'));
    const cancelled = await ex.cancel(BTC, 'BTCUSDTLcanT1');
    expect(cancelled.status).toBe('cancelled');
    expect((await submitted).status).toBe('cancelled');
    expect(inner.sent).toEqual([]);
    expect(updates).toEqual([expect.objectContaining({ clientOrderId: 'BTCUSDTLcanT1', status: 'cancelled' })]);
  });

  it('refuses every order while the lease check says no', async () => {
    const { store, journal } = setup();
    const inner = new RecordingInner();
    const ex = new JournaledExchange(inner as unknown as SafeExchange, journal, { mayTrade: () => 'lease lost' });
    const ack = await ex.submit(req('BTCUSDTLleaseE'));
    expect(ack).toMatchObject({ status: 'rejected', errorKind: 'lease_not_held', reason: expect.stringMatching(/LEASE_NOT_HELD/) as unknown });
    expect(inner.sent).toEqual([]);
    expect(await store.get('order', 'BTCUSDTLleaseE')).toBeUndefined();
  });
});
