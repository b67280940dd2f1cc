/**
 * The runtime's records for the reports (fargate/opsLog.ts) on a memory store and a local folder:
 * one daily report per UTC day end on the market clock (not one per heartbeat), halts recorded once
 * and their lifting, kill-switch changes, rejected and stuck orders, uptime beats.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeOpsLog } from '../../fargate/opsLog.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { parseConfig } from '../../services/config/schema.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import { dayTrades, DAY, MIN } from '../review/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'opslog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RuntimeOpsLog', () => {
  it('writes the daily report once when the market clock passes midnight, however often it is asked', async () => {
    const { store } = createMemoryStore({ clock: () => 0 });
    for (const t of dayTrades()) await store.putClosedTradeOnce(t);
    let market = DAY + 600 * MIN;
    const lines: string[] = [];
    const log = new RuntimeOpsLog({ store, owner: 'rt-1', mode: 'paper', config: parseConfig({}), wall: () => 1, market: () => market, log: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), reports: { store: new LocalFolderStore(dir), root: dir } });
    const settle = () => Promise.resolve();
    expect(log.dayEnd(settle)).toBeUndefined();
    market = DAY + 1439 * MIN;
    expect(log.dayEnd(settle)).toBeUndefined();
    market = DAY + 1441 * MIN;
    await log.dayEnd(settle);
    for (let i = 0; i < 5; i++) {
      market += 20 * MIN;
      expect(log.dayEnd(settle)).toBeUndefined();
    }
    expect(log.stats.reports).toBe(1);
    expect(readdirSync(join(dir, 'reports/daily')).sort()).toEqual(['2025-03-04.csv', '2025-03-04.html', '2025-03-04.json']);
    expect(lines.filter((l) => l.startsWith('REPORT'))).toEqual([`REPORT daily 2025-03-04: 3 trade(s), net -1.4015 USDT, fees 0.4015 -> ${dir}/reports/daily/2025-03-04.html`]);
  });

  it('records a halt once, its lifting, the emergency latch, kill-switch changes and order anomalies', async () => {
    const { store } = createMemoryStore({ clock: () => 0 });
    let market = DAY + 100 * MIN;
    const log = new RuntimeOpsLog({ store, owner: 'rt-1', mode: 'paper', config: parseConfig({}), wall: () => DAY + 5 * MIN, market: () => market, log: () => undefined, err: () => undefined });
    const halt = { halted: true as const, reason: 'HALTED_CONSECUTIVE_STOPS' as const, since: DAY + 90 * MIN, detail: '3 losing stops in a row' };
    await log.halt(halt);
    expect(log.halt(halt)).toBeUndefined();
    market = DAY + 200 * MIN;
    await log.halt({ halted: false });
    await log.halt({ halted: false }, true);
    expect(log.halt({ halted: false }, true)).toBeUndefined();
    await log.killSwitch('RUNNING', 'PAUSED', 'file');
    await log.exchangeEvent({ type: 'rejected', clientOrderId: 'DOGEUSDTLaE', reason: 'insufficient balance', errorKind: 'insufficient_balance' });
    await log.exchangeEvent({ type: 'stuck_order', clientOrderId: 'DOGEUSDTLaX1', action: 'cancel', detail: 'no fill in 60 s' });
    expect(log.exchangeEvent({ type: 'resend', clientOrderId: 'x' })).toBeUndefined();
    await log.beat();
    const ops = await store.listOpsEvents('2025-03-04');
    expect(ops.map((e) => [e.type, e.code, e.at])).toEqual([
      ['kill_switch', 'PAUSED', DAY + 5 * MIN],
      ['halt', 'HALTED_CONSECUTIVE_STOPS', DAY + 90 * MIN],
      // Same instant: listed by id (halt:..., lifted:..., rejected:..., stuck:...).
      ['halt', 'EMERGENCY_STOP', DAY + 200 * MIN],
      ['halt_lifted', 'HALTED_CONSECUTIVE_STOPS', DAY + 200 * MIN],
      ['order_rejected', 'insufficient_balance', DAY + 200 * MIN],
      ['order_stuck', 'cancel', DAY + 200 * MIN],
    ]);
    expect((await store.listUptime('2025-03-04')).map((u) => u.owner)).toEqual(['rt-1']);
  });
});
