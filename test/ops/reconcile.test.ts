/**
 * The reconcile job against the simulator (real ccxt) and dynalite: every kind of drift is
 * constructed on the exchange or in the state, and the job must repair the state (never the
 * exchange) and raise one alert per repair. Expected values come from the exchange's own records.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import type { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { reconcileAlerts, reconcileState } from '../../services/ops/reconcile.js';
import type { OrderRecord } from '../../services/state/types.js';
import { createReconcileHandler, parseReconcileEnv } from '../../lambdas/reconcile/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BTC, RecordingPublisher, freshStore, position, setBook, SIM_KEY, simVenue, startSim } from './helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

describe('reconcile (state against the exchange)', () => {
  let local: LocalDynamo;
  let server: SimServer;
  let venue: CcxtMexcVenue;

  beforeAll(async () => {
    local = await startLocalDynamo();
    server = await startSim({ USDT: '100000' });
    venue = await simVenue(server);
    setBook(server, BTC, 50_000, 50_001);
  });
  afterAll(async () => {
    await venue.close();
    await server.close();
    await local.close();
  });

  function orderRecord(clientOrderId: string, state: OrderRecord['state'], at: number): OrderRecord {
    return {
      clientOrderId,
      symbol: BTC,
      side: 'buy',
      type: 'limit',
      role: 'entry',
      quantity: Dec.from('0.01'),
      price: Dec.from('40000'),
      state,
      sent: true,
      filledQuantity: Dec.ZERO,
      fillSum: Dec.ZERO,
      tradeIds: [],
      createdAt: at,
      updatedAt: at,
    };
  }

  it('adopts unknown open orders, settles ended ones, fills the ledger, reports unexplained holdings; touches nothing on the exchange', async () => {
    const now = Date.now();
    const { store } = await freshStore(local, Date.now);
    // On the exchange, unknown to the state: a resting limit.
    await venue.createOrder({ clientOrderId: 'stray1', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.01'), price: Dec.from('40000') });
    // In the state as open, but never on the exchange (and old enough to repair).
    await store.put('order', orderRecord('ghost1E', 'submitted', now - 10 * 60_000), undefined);
    // In the state as open, journaled a moment ago: inside the grace period, left alone.
    await store.put('order', orderRecord('fresh1E', 'pending', now - 5_000), undefined);
    // A market buy the state never heard of: a fill for the ledger and a holding no position explains.
    await venue.createOrder({ clientOrderId: 'stray2', symbol: BTC, side: 'buy', type: 'market', quantity: Dec.from('0.02') });
    const exchangeTrades = server.engine.myTrades(SIM_KEY, BTC, 0, 1000);
    const logBefore = server.orderLog().length;

    const report = await reconcileState({ symbols: [BTC] }, { store, venue, now: Date.now });
    expect(report.problems).toEqual([]);
    expect(report.repairs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'order_adopted', clientOrderId: 'stray1' }),
        expect.objectContaining({ kind: 'order_status', clientOrderId: 'ghost1E', from: 'submitted', to: 'cancelled' }),
        { kind: 'fills_added', symbol: BTC, count: exchangeTrades.length },
      ]),
    );
    expect(report.repairs).toHaveLength(3);
    expect((await store.get('order', 'stray1'))?.value.state).toBe('submitted');
    expect((await store.get('order', 'ghost1E'))?.value.state).toBe('cancelled');
    expect((await store.get('order', 'fresh1E'))?.value.state).toBe('pending');
    const held = server.engine.balances(SIM_KEY).find((b) => b.asset === 'BTC');
    expect(report.drift).toEqual([{ symbol: BTC, held: held!.free.add(held!.locked).toString(), positions: '0' }]);
    // The exchange was only read.
    expect(server.orderLog().length).toBe(logBefore);
    expect(server.engine.openOrders(SIM_KEY, BTC).map((o) => o.clientOrderId)).toEqual(['stray1']);

    const alerts = reconcileAlerts(report, now);
    expect(alerts).toHaveLength(4); // three repairs and one drift
    expect(new Set(alerts.map((a) => a.dedupKey)).size).toBe(4);

    // A second run finds nothing new to repair (the ledger and the records now agree).
    const again = await reconcileState({ symbols: [BTC] }, { store, venue, now: Date.now });
    expect(again.repairs).toEqual([]);
  });

  it('an open position that explains the holding is not drift; the handler publishes its alerts', async () => {
    const { store, table } = await freshStore(local, Date.now);
    const held = server.engine.balances(SIM_KEY).find((b) => b.asset === 'BTC')!;
    const qty = held.free.add(held.locked);
    const p = position('P1', BTC, Date.now() - 60_000, qty.toString());
    await store.put('position', { ...p, extras: { ...(p.extras ?? {}), mode: 'live' } }, undefined);
    const alerts = new RecordingPublisher();
    const env = parseReconcileEnv({ STAGE: 'dev', STATE_TABLE: table, ALERTS_QUEUE_URL: 'q', MEXC_SECRET_ID: 'm', TRADING_SYMBOLS: 'BTCUSDT' });
    const handler = createReconcileHandler(() => Promise.resolve({ env, store, alerts, venue: () => Promise.resolve(venue), now: Date.now }));
    const out = (await handler({}, localContext('reconcile', 'r1'))) as { drift: unknown[]; repairs: { kind: string }[] };
    expect(out.drift).toEqual([]);
    // The stray order and the ledger's fills are new to this table: repaired and alerted.
    expect(out.repairs.map((r) => r.kind).sort()).toEqual(['fills_added', 'order_adopted']);
    expect(alerts.alerts).toHaveLength(2);
  });
});
