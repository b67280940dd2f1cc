/**
 * The emergency-stop handler against the MEXC simulator over loopback (real ccxt, real HTTP),
 * dynalite for state and idempotency, SSM through aws-sdk-client-mock.
 *
 * Scenario: the hot path is dead (no lease, no heartbeat). It left two resting BTCUSDT orders
 * (a sell 0.2 @ 60,000 locking 0.2 BTC, a buy 0.01 @ 40,000), a resting ETHUSDT buy, and a 0.5 BTC
 * position. The parameter is set to EMERGENCY_STOP and the change event is delivered. Expected
 * (by hand): all three orders cancelled, 0.5 BTC sold with one market sell (the book bids 5 BTC at
 * 50,000), nothing else placed, the position closed in state, the lease released.
 *
 * The duration from the parameter write to the handler's return is measured and printed; the only
 * time bound is the test's hang guard.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import type { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { SafeExchange } from '../../services/execution/safeExchange.js';
import type { StateStore } from '../../services/state/types.js';
import { runEmergencyStop } from '../../services/ops/emergencyStop.js';
import { flattenExchange } from '../../services/ops/flatten.js';
import { createEmergencyStopHandler, parseEmergencyStopEnv } from '../../lambdas/emergency-stop/handler.js';
import { CachedSsmKillSwitchSource } from '../../lambdas/shared/killSwitchParam.js';
import { persistenceLayer } from '../../lambdas/shared/idempotency.js';
import { cryptoRandom, sleep } from '../../lambdas/shared/exchange.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BTC, RecordingPublisher, freshStore, position, setBook, simVenue, startSim } from './helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const ETH = symbolId('ETHUSDT');
const PARAM = '/mexc-sr/test/kill-switch';

let local: LocalDynamo;
let server: SimServer;
let venue: CcxtMexcVenue;
let store: StateStore;
let table: string;
let stored = 'RUNNING';
const ssm = mockClient(SSMClient);
const alerts = new RecordingPublisher();

beforeAll(async () => {
  local = await startLocalDynamo();
  ({ store, table } = await freshStore(local, () => Date.now()));
  server = await startSim({ USDT: '10000', BTC: '0.5', ETH: '0' });
  setBook(server, BTC, 50_000, 50_001);
  setBook(server, ETH, 3_000, 3_001);
  ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Name: PARAM, Value: stored } }));
});
afterAll(async () => {
  ssm.restore();
  await venue?.close();
  await server?.close();
  await local?.close();
});

function makeHandler() {
  const env = parseEmergencyStopEnv({ STAGE: 'test', STATE_TABLE: table, ALERTS_QUEUE_URL: 'http://127.0.0.1:1/alerts', KILL_SWITCH_PARAM: PARAM, MEXC_SECRET_ID: 'mexc', TRADING_SYMBOLS: 'BTCUSDT', LEASE_WAIT_SECONDS: '10' });
  let venueP: Promise<CcxtMexcVenue> | undefined;
  // Built on first use, as in a cold Lambda: loading the markets is inside the measured time.
  const getVenue = () => (venueP ??= simVenue(server).then((v) => (venue = v)));
  const killSwitch = new CachedSsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), PARAM, { fresh: true });
  return createEmergencyStopHandler(() =>
    Promise.resolve({
      env,
      store,
      killSwitch,
      alerts,
      venue: getVenue,
      exchangeOptions: { backoff: { baseMs: 50, maxMs: 200 } },
      persistence: persistenceLayer(table, local.client),
      now: () => Date.now(),
      sleep,
    }),
  );
}

function changeEvent(id: string) {
  return { version: '0', id, 'detail-type': 'Parameter Store Change', source: 'aws.ssm', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail: { name: PARAM, type: 'String', operation: 'Update' } };
}

describe('emergency stop against the simulator', () => {
  it('does nothing when the parameter does not say EMERGENCY_STOP (the event alone is not trusted)', async () => {
    const handler = makeHandler();
    const before = server.orderLog().length;
    const out = await handler(changeEvent('evt-running'), localContext('emergency-stop', 'req-0'));
    expect(out).toMatchObject({ acted: false, switch: 'RUNNING' });
    expect(server.orderLog().length).toBe(before);
  });

  it('a mistyped EMERGENCY STOP does nothing on the exchange but sends a critical alert saying so', async () => {
    const handler = makeHandler();
    const before = server.orderLog().length;
    const sent = alerts.alerts.length;
    stored = 'EMERGENCY STOP';
    try {
      const out = await handler(changeEvent('evt-typo'), localContext('emergency-stop', 'req-typo'));
      expect(out).toMatchObject({ acted: false, switch: 'invalid' });
    } finally {
      stored = 'RUNNING';
    }
    expect(server.orderLog().length).toBe(before);
    const fresh = alerts.alerts.slice(sent);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ severity: 'critical', title: 'Kill switch holds an unknown value' });
    expect(fresh[0]!.detail).toMatch(/"EMERGENCY STOP".*did NOTHING/);
  });

  it('cancels every open order and sells the position, with the lease, in one pass; a duplicate event does nothing more', async () => {
    const handler = makeHandler();
    // The dead hot path's leftovers, placed with the hot path's own client ids.
    const v = await simVenue(server);
    await v.createOrder({ clientOrderId: 'hpS1T1', symbol: BTC, side: 'sell', type: 'limit', quantity: Dec.from('0.2'), price: Dec.from('60000') });
    await v.createOrder({ clientOrderId: 'hpB2E', symbol: BTC, side: 'buy', type: 'limit', quantity: Dec.from('0.01'), price: Dec.from('40000') });
    await v.createOrder({ clientOrderId: 'hpE3E', symbol: ETH, side: 'buy', type: 'limit', quantity: Dec.from('0.1'), price: Dec.from('2500') });
    expect((await v.fetchOpenOrders()).length).toBe(3);
    await v.close();
    await store.put('position', position('p1', BTC, Date.now() - 60_000, '0.5'), undefined);
    // The target order as the hot path recorded it (acknowledged by the venue).
    await store.put(
      'order',
      { clientOrderId: 'hpS1T1', exchangeOrderId: 'x', symbol: BTC, side: 'sell', type: 'limit', role: 'target', positionId: 'p1', quantity: Dec.from('0.2'), price: Dec.from('60000'), state: 'submitted', sent: true, filledQuantity: Dec.ZERO, fillSum: Dec.ZERO, tradeIds: [], createdAt: Date.now(), updatedAt: Date.now() },
      undefined,
    );
    const logBefore = server.orderLog().length;

    // The operator's write, then the change event (EventBridge delivers it within about a second).
    const t0 = performance.now();
    stored = 'EMERGENCY_STOP';
    const out = (await handler(changeEvent('evt-es-1'), localContext('emergency-stop', 'req-1')));
    const ms = performance.now() - t0;
    console.log(`[emergency-stop] parameter write -> all flat: ${ms.toFixed(0)} ms (handler's own durationMs ${String(out['durationMs'])}, includes loading markets)`);

    expect(out).toMatchObject({ acted: true, allFlat: true });
    const symbols = out['symbols'] as { symbol: string; outcome: string; cancelled: number; sold: string }[];
    expect(symbols.map((s) => [s.symbol, s.outcome, s.cancelled, s.sold])).toEqual([
      ['BTCUSDT', 'flattened', 2, '0.5'],
      ['ETHUSDT', 'flattened', 1, '0'],
    ]);

    // The exchange's view.
    const check = await simVenue(server);
    expect(await check.fetchOpenOrders()).toEqual([]);
    const btc = (await check.fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.free.add(btc.locked).toString() ?? '0').toBe('0');
    await check.close();
    // The order log: exactly one order after the trigger, a market sell of BTCUSDT with an emergency id.
    const placed = server.orderLog().slice(logBefore);
    expect(placed.map((o) => [o.symbol, o.side, o.type, o.outcome])).toEqual([['BTCUSDT', 'sell', 'market', 'placed']]);
    expect(placed[0]?.clientOrderId).toMatch(/^ES[0-9a-z]+X1$/);

    // State: the position is closed with the sale, the lease is free again, the run is recorded.
    const p = await store.get('position', 'p1');
    expect(p?.value).toMatchObject({ state: 'closed', exitReason: 'emergency_stop' });
    expect(p?.value.exitQuantity.toString()).toBe('0.5');
    expect((await store.get('order', 'hpS1T1'))?.value).toMatchObject({ state: 'cancelled', reason: 'emergency stop' });
    expect(await store.getLease('BTCUSDT')).toBeUndefined();
    expect((await store.getHeartbeat('ops:emergency-stop'))?.detail).toContain('flattened');
    expect(alerts.alerts.at(-1)).toMatchObject({ severity: 'critical' });
    expect(alerts.alerts.at(-1)?.title).toContain('2 symbol(s) flat');

    // EventBridge delivers the same event again: idempotency returns the first result, nothing is sent.
    const again = await handler(changeEvent('evt-es-1'), localContext('emergency-stop', 'req-2'));
    expect(again).toEqual(out);
    expect(server.orderLog().length).toBe(logBefore + 1);

    // The risk sweep's follow-up while the switch stays at EMERGENCY_STOP: nothing to do, no page.
    const alertsBefore = alerts.alerts.length;
    const followUp = await runEmergencyStop(
      { store, killSwitch: new CachedSsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), PARAM, { fresh: true }), alerts, venue, exchange: flattenExchange(new SafeExchange(venue, { now: () => Date.now(), sleep, random: cryptoRandom })), now: () => Date.now(), sleep },
      { owner: 'risk-sweep:req-3', symbols: ['BTCUSDT', 'ETHUSDT'], trigger: 'risk sweep follow-up', alertWhenIdle: false },
    );
    expect(followUp.acted).toBe(true);
    expect(followUp.symbols.map((r) => [r.symbol, r.outcome, r.flatten?.cancelled.length, r.flatten?.close])).toEqual([
      ['BTCUSDT', 'flattened', 0, undefined],
      ['ETHUSDT', 'flattened', 0, undefined],
    ]);
    expect(alerts.alerts.length).toBe(alertsBefore);
    expect(server.orderLog().length).toBe(logBefore + 1);
  });
});
