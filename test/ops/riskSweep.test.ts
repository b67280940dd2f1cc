/**
 * The risk sweep on constructed state in dynalite: each limit trips on its own, nothing trips
 * within the limits, the switch is never lowered, an over-age position is closed under the symbol's
 * lease, and a symbol whose live lease the hot path holds is never traded.
 *
 * Expected values are worked out by hand from the conservative profile (daily loss 2%, weekly 5%),
 * the risk defaults (drawdown halt 10%, 3 consecutive stops) and the mode caps (6 h, HF 30 min).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { parseConfig } from '../../services/config/schema.js';
import { Dec } from '../../services/core/money.js';
import type { EmergencyCloseReport } from '../../services/ops/emergencyClose.js';
import type { OrderAck } from '../../services/model/orders.js';
import type { FlattenDeps } from '../../services/ops/flatten.js';
import { evaluateRisk, riskSweepLimits, runRiskSweep, collectRiskInputs, type RiskSweepLimits } from '../../services/ops/riskSweep.js';
import { utcDayOf, type StateStore } from '../../services/state/types.js';
import type { VenueMarket, VenueOrder } from '../../services/venue/types.js';
import { CachedSsmKillSwitchSource } from '../../lambdas/shared/killSwitchParam.js';
import { BTC, MINUTE, MemoryKillSwitch, RecordingPublisher, dayStats, freshStore, position, trade } from './helpers.js';

// Wednesday 2026-11-25 12:00 UTC; the ISO week started Monday 2026-11-23.
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const TODAY = utcDayOf(NOW);
const MONDAY = '2026-11-23';
const standard = riskSweepLimits(parseConfig({}));
const hf = riskSweepLimits(parseConfig({ mode: 'hf' }));

let local: LocalDynamo;
let store: StateStore;
let ks: MemoryKillSwitch;
let alerts: RecordingPublisher;

beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  await local.close();
});
beforeEach(async () => {
  ({ store } = await freshStore(local, () => NOW));
  ks = new MemoryKillSwitch('RUNNING');
  alerts = new RecordingPublisher();
});

/** A hot path that is alive: holds BTCUSDT's lease and beat 30 s ago. */
async function liveHotPath(): Promise<void> {
  await store.acquireLease('BTCUSDT', 'runtime-1', 60_000, NOW - 10_000);
  await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 30_000, mode: 'live', openPositions: 1 });
}

/** An exchange that records every call; it must not be used when a test says so. */
function recordingExchange() {
  const calls: string[] = [];
  const market = { symbol: BTC, base: 'BTC', quote: 'USDT', tickSize: Dec.from('0.01'), stepSize: Dec.from('0.000001'), minNotional: Dec.ONE } as unknown as VenueMarket;
  const order = { clientOrderId: 'p1T1', symbol: BTC } as unknown as VenueOrder;
  let built = 0;
  const deps: FlattenDeps = {
    venue: {
      market: () => market,
      fetchOpenOrders: () => {
        calls.push('fetchOpenOrders');
        return Promise.resolve([order]);
      },
      fetchBalances: () => {
        calls.push('fetchBalances');
        return Promise.resolve([{ asset: 'BTC', free: Dec.from('0.7'), locked: Dec.ZERO }]);
      },
    },
    exchange: {
      cancel: (_s, id): Promise<OrderAck> => {
        calls.push(`cancel ${id}`);
        return Promise.resolve({ clientOrderId: id, exchangeOrderId: 'x1', status: 'cancelled' });
      },
      emergencyClose: (symbol, quantity, tag): Promise<EmergencyCloseReport> => {
        calls.push(`close ${symbol} ${quantity.toString()}`);
        return Promise.resolve({ symbol, reasonTag: tag, requested: quantity, alreadySold: Dec.ZERO, sold: quantity, proceeds: quantity.mul(Dec.from(49_000)), averagePrice: Dec.from(49_000), remainder: Dec.ZERO, remainderIsDust: false, closed: true, steps: [] });
      },
    },
  };
  return {
    calls,
    get built() {
      return built;
    },
    factory: () => {
      built++;
      return Promise.resolve(deps);
    },
  };
}

async function sweep(limits: RiskSweepLimits = standard, exchange = recordingExchange(), hotPathOwners: string[] = []) {
  const report = await runRiskSweep({ store, killSwitch: ks, alerts, exchange: exchange.factory, now: () => NOW }, { limits, leaseTtlMs: 120_000, hotPathOwners });
  return { report, exchange };
}

describe('limits used', () => {
  it('come from the config: conservative profile, drawdown halt, stops, mode caps', () => {
    expect(standard).toMatchObject({ maxPositionAgeMs: 360 * MINUTE, dailyLossLimitPct: 2, dailyLossEmergencyPct: 10, weeklyLossLimitPct: 5, maxConsecutiveLosses: 3, staleHeartbeatMs: 90_000 });
    expect(hf.maxPositionAgeMs).toBe(30 * MINUTE);
  });
});

describe('risk sweep', () => {
  it('trips nothing, writes nothing and trades nothing within the limits', async () => {
    await liveHotPath();
    await store.put('position', position('p1', BTC, NOW - 359 * MINUTE), undefined);
    // Monday start 10,000; today 9,900 -> 9,820: 1.8% today (< 2), 1.8% this week (< 5).
    await store.put('day', dayStats(MONDAY, '10000', '9950', NOW), undefined);
    await store.put('day', dayStats(TODAY, '10000', '9820', NOW), undefined);
    // Two losses in a row, then a win before them: streak 2 (< 3).
    await store.putClosedTradeOnce(trade('t1', NOW - 50 * MINUTE, '5'));
    await store.putClosedTradeOnce(trade('t2', NOW - 40 * MINUTE, '-3'));
    await store.putClosedTradeOnce(trade('t3', NOW - 30 * MINUTE, '-2'));
    const { report, exchange } = await sweep();
    expect(report.findings).toEqual([]);
    expect(ks.writes).toEqual([]);
    expect(alerts.events).toEqual([]);
    expect(exchange.built).toBe(0);
  });

  it('daily loss at the profile limit pauses (2.5% down, limit 2%)', async () => {
    await store.put('day', dayStats(TODAY, '10000', '9750', NOW), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['DAILY_LOSS_LIMIT']);
    expect(ks.writes.map((w) => w.state)).toEqual(['PAUSED']);
    expect(alerts.alerts).toHaveLength(1);
    expect(alerts.alerts[0]).toMatchObject({ severity: 'warning', dedupKey: 'risk:DAILY_LOSS_LIMIT' });
    expect(alerts.alerts[0]?.detail).toContain('2.50%');
  });

  it('daily loss past the drawdown halt sets EMERGENCY_STOP (12% down, halt 10%; also 12% for the week and the month)', async () => {
    await store.put('day', dayStats(TODAY, '10000', '8800', NOW), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['DAILY_LOSS_EMERGENCY', 'WEEKLY_LOSS_LIMIT', 'MONTHLY_LOSS_LIMIT']);
    // One write: the most restrictive of EMERGENCY_STOP and PAUSED.
    expect(ks.writes.map((w) => w.state)).toEqual(['EMERGENCY_STOP']);
    expect(alerts.alerts[0]?.severity).toBe('critical');
  });

  it('weekly loss pauses (Monday 10,000 -> today 9,400: 6% this week, 1% today)', async () => {
    await store.put('day', dayStats(MONDAY, '10000', '9700', NOW), undefined);
    await store.put('day', dayStats(TODAY, '9500', '9400', NOW), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['WEEKLY_LOSS_LIMIT']);
    expect(ks.state).toBe('PAUSED');
  });

  it('monthly loss pauses (Nov 2 started at 10,000 -> today 8,950: 10.5% this month, 0.6% this week and today)', async () => {
    await store.put('day', dayStats('2026-11-02', '10000', '9800', NOW), undefined);
    await store.put('day', dayStats('2026-11-16', '9300', '9200', NOW), undefined);
    await store.put('day', dayStats(TODAY, '9000', '8950', NOW), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['MONTHLY_LOSS_LIMIT']);
    expect(report.findings[0]!.detail).toBe('equity down 10.50% this month, limit 10%');
    expect(ks.value).toBe('PAUSED');
  });

  it('three losing trades in a row pause, across days; a zero trade does not break the streak', async () => {
    await store.putClosedTradeOnce(trade('w', NOW - 2 * 1440 * MINUTE, '8'));
    await store.putClosedTradeOnce(trade('a', NOW - 1440 * MINUTE, '-1'));
    await store.putClosedTradeOnce(trade('b', NOW - 60 * MINUTE, '-2'));
    await store.putClosedTradeOnce(trade('z', NOW - 30 * MINUTE, '0'));
    await store.putClosedTradeOnce(trade('c', NOW - 10 * MINUTE, '-3'));
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['CONSECUTIVE_LOSSES']);
    expect(report.findings[0]?.detail).toContain('3 losing trades');
    expect(ks.state).toBe('PAUSED');
  });

  it('a stale heartbeat with an open position pauses and alerts critical; a fresh one does not', async () => {
    await store.acquireLease('BTCUSDT', 'runtime-1', 60_000, NOW - 30_000);
    await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 120_000, mode: 'live', openPositions: 1 });
    await store.put('position', position('p1', BTC, NOW - 20 * MINUTE), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['STALE_HEARTBEAT']);
    expect(report.findings[0]?.detail).toContain('120 s ago');
    expect(ks.state).toBe('PAUSED');
    expect(alerts.alerts[0]?.severity).toBe('critical');

    // Same state, heartbeat 60 s old: within 90 s.
    await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 60_000, mode: 'live', openPositions: 1 });
    const inputs = await collectRiskInputs(store, NOW);
    expect(evaluateRisk(inputs, standard)).toEqual([]);
  });

  it('a stale heartbeat without open positions is no finding (the hot path may simply be stopped)', async () => {
    await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 3_600_000, mode: 'live', openPositions: 0 });
    const { report } = await sweep(standard);
    expect(report.findings).toEqual([]);
  });

  it('closes a position past 6 h under its lease: cancels its orders, sells its remaining quantity, records it, releases the lease', async () => {
    // The hot path is alive (fresh heartbeat) but holds no lease on BTCUSDT.
    await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 5000, mode: 'live', openPositions: 1 });
    await store.put('position', position('p1', BTC, NOW - 361 * MINUTE, '0.5'), undefined);
    const { report, exchange } = await sweep(standard, recordingExchange(), ['runtime-1']);
    expect(report.findings.map((f) => f.code)).toEqual(['POSITION_TIME_LIMIT']);
    expect(report.positionActions.map((a) => a.outcome)).toEqual(['closed']);
    // Balance is 0.7 BTC but the position holds 0.5: only 0.5 is sold.
    expect(exchange.calls).toEqual(['fetchOpenOrders', 'cancel p1T1', 'fetchBalances', 'close BTCUSDT 0.5']);
    const p = await store.get('position', 'p1');
    expect(p?.value.state).toBe('closed');
    expect(p?.value.exitQuantity.toString()).toBe('0.5');
    expect(p?.value.exitReason).toBe('risk_sweep_time_limit');
    expect(await store.getLease('BTCUSDT')).toBeUndefined();
    // Nothing asked for a switch change: the position was handled.
    expect(ks.writes).toEqual([]);
  });

  it('HF mode: 31 minutes trips, standard mode does not', async () => {
    await store.put('position', position('p1', BTC, NOW - 31 * MINUTE), undefined);
    await store.putHeartbeat({ owner: 'runtime-1', at: NOW - 1000, mode: 'live', openPositions: 1 });
    const inputs = await collectRiskInputs(store, NOW, ['runtime-1']);
    expect(evaluateRisk(inputs, standard)).toEqual([]);
    expect(evaluateRisk(inputs, hf).map((f) => f.code)).toEqual(['POSITION_TIME_LIMIT']);
  });

  it('does not trade a symbol whose live lease the hot path holds: pauses and alerts instead', async () => {
    await liveHotPath();
    await store.put('position', position('p1', BTC, NOW - 400 * MINUTE), undefined);
    const { report, exchange } = await sweep();
    expect(report.positionActions).toMatchObject([{ outcome: 'lease_held', holder: 'runtime-1' }]);
    expect(exchange.built).toBe(0);
    expect(exchange.calls).toEqual([]);
    expect(ks.writes.map((w) => w.state)).toEqual(['PAUSED']);
    expect((await store.getLease('BTCUSDT'))?.owner).toBe('runtime-1');
    expect((await store.get('position', 'p1'))?.value.state).toBe('open');
    expect(alerts.alerts.some((a) => a.severity === 'critical' && a.title.includes('lease held'))).toBe(true);
  });

  it('never downgrades EMERGENCY_STOP to PAUSED', async () => {
    ks.value = 'EMERGENCY_STOP';
    await store.put('day', dayStats(TODAY, '10000', '9700', NOW), undefined);
    const { report } = await sweep();
    expect(report.findings.map((f) => f.code)).toEqual(['DAILY_LOSS_LIMIT']);
    expect(ks.writes).toEqual([]);
    expect(ks.value).toBe('EMERGENCY_STOP');
    expect(report.escalation).toMatchObject({ wanted: 'PAUSED', after: 'EMERGENCY_STOP', wrote: false });
  });

  it('does not write PAUSED over a value it cannot read as a state (a mistyped EMERGENCY_STOP stays for the operator)', async () => {
    ks.value = 'EMERGENCY_STP';
    await store.put('day', dayStats(TODAY, '10000', '9700', NOW), undefined);
    const { report } = await sweep();
    expect(ks.writes).toEqual([]);
    expect(report.escalation?.problem).toContain('could be a downgrade');
    expect(alerts.alerts.some((a) => a.dedupKey === 'risk:SWITCH')).toBe(true);
  });
});

describe('an unknown kill-switch value', () => {
  it.each(['emergency_stop', 'EMERGENCY STOP', ''])('%j: every sweep alerts critical, even with nothing to escalate, and writes nothing', async (bad) => {
    ks.value = bad;
    const { report } = await sweep();
    expect(report.findings).toEqual([]);
    expect(ks.writes).toEqual([]);
    const a = alerts.alerts.filter((x) => x.dedupKey === 'risk:KILL-SWITCH-UNKNOWN');
    expect(a).toHaveLength(1);
    expect(a[0]).toMatchObject({ severity: 'critical', title: 'Kill switch holds an unknown value' });
    expect(a[0]!.detail).toContain(`unknown kill-switch value "${bad}"`);
  });

  it('a valid value sends no such alert', async () => {
    await sweep();
    expect(alerts.alerts.filter((x) => x.dedupKey === 'risk:KILL-SWITCH-UNKNOWN')).toEqual([]);
  });
});

describe('risk sweep through the SSM parameter (aws-sdk-client-mock)', () => {
  it('reads EMERGENCY_STOP from SSM and sends no PutParameter for a PAUSED finding; raises RUNNING to PAUSED', async () => {
    const ssm = mockClient(SSMClient);
    try {
      let stored = 'EMERGENCY_STOP';
      ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Name: '/mexc/kill', Value: stored } }));
      ssm.on(PutParameterCommand).callsFake((input: { Value?: string }) => {
        stored = input.Value ?? stored;
        return { Version: 2 };
      });
      await store.put('day', dayStats(TODAY, '10000', '9700', NOW), undefined);
      const source = new CachedSsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), '/mexc/kill', { fresh: true });
      await runRiskSweep({ store, killSwitch: source, alerts, now: () => NOW }, { limits: standard });
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);

      stored = 'RUNNING';
      await runRiskSweep({ store, killSwitch: source, alerts, now: () => NOW }, { limits: standard });
      const puts = ssm.commandCalls(PutParameterCommand);
      expect(puts).toHaveLength(1);
      expect(puts[0]?.args[0].input).toMatchObject({ Name: '/mexc/kill', Value: 'PAUSED', Overwrite: true });
      expect(stored).toBe('PAUSED');
    } finally {
      ssm.restore();
    }
  });
});

describe('cached SSM kill-switch source', () => {
  it('caches reads for maxAge, reads fresh after its own write, and always with fresh: true', async () => {
    const ssm = mockClient(SSMClient);
    try {
      let stored = 'RUNNING';
      ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Name: '/k', Value: stored } }));
      ssm.on(PutParameterCommand).callsFake((input: { Value?: string }) => {
        stored = input.Value ?? stored;
        return {};
      });
      const client = new SSMClient({ region: 'us-east-1' });
      const cached = new CachedSsmKillSwitchSource(client, '/k', { maxAgeSeconds: 300 });
      expect((await cached.read()).value).toBe('RUNNING');
      stored = 'PAUSED';
      expect((await cached.read()).value).toBe('RUNNING');
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
      await cached.write('EMERGENCY_STOP', 'test');
      expect((await cached.read()).value).toBe('EMERGENCY_STOP');
      const fresh = new CachedSsmKillSwitchSource(client, '/k', { fresh: true });
      stored = 'RUNNING';
      expect((await fresh.read()).value).toBe('RUNNING');
      expect((await fresh.read()).value).toBe('RUNNING');
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(4);
    } finally {
      ssm.restore();
    }
  });

  it('a missing parameter reads as unusable (treated as PAUSED by every reader), other errors throw', async () => {
    const ssm = mockClient(SSMClient);
    try {
      ssm.on(GetParameterCommand).rejectsOnce(Object.assign(new Error('nope'), { name: 'ParameterNotFound' })).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
      const src = new CachedSsmKillSwitchSource(new SSMClient({ region: 'us-east-1' }), '/k', { fresh: true });
      expect((await src.read()).problem).toContain('does not exist');
      await expect(src.read()).rejects.toMatchObject({ name: 'KillSwitchReadError', retryable: true });
    } finally {
      ssm.restore();
    }
  });
});
