/**
 * The reports' records in the state table (services/state/reportRecords.ts): the operations log,
 * uptime spans and the recommendation ledger, against the in-memory store and dynalite alike.
 * Expected spans are worked out by hand from the beat times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable, createDynamoStore } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import { MAX_UPTIME_SPANS, VersionConflictError, withBeat, type RecommendationRecord, type StateStore } from '../../services/state/types.js';

const DAY0 = Date.UTC(2025, 2, 3); // 2025-03-03T00:00Z
const S = 1000;

function rec(id: string, createdAt: number): RecommendationRecord {
  return {
    id,
    createdAt,
    period: 'weekly',
    periodStart: DAY0 - 7 * 86_400_000,
    periodEnd: DAY0,
    reviewer: 'deterministic',
    title: 'wider stop',
    rationale: 'stops dominate the losses',
    evidence: ['trades.byExitReason.stop.netPnl'],
    changes: [{ key: 'exit.stopBeyondLevelPct', from: 0.8, to: 1 }],
    test: { verdict: 'not_supported', tester: 'kernel-rolling-oos', rule: 'r', reasons: ['x'], figures: { spans: 4, liveNetPnl: '1.5' } },
    scores: [],
  };
}

let local: LocalDynamo;
let n = 0;
beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  await local.close();
});

const stores: [string, () => Promise<StateStore>][] = [
  ['memory', () => Promise.resolve(createMemoryStore({ clock: () => 0 }).store)],
  [
    'dynalite',
    async () => {
      const tableName = `report-records-${++n}`;
      await createTable(local.client, tableName);
      return createDynamoStore({ client: local.client, tableName, clock: () => 0 });
    },
  ],
];

describe.each(stores)('report records (%s)', (_name, make) => {
  it('the operations log stores an event once and lists a UTC day in time order', async () => {
    const store = await make();
    const halt = { id: 'halt:HALTED_CONSECUTIVE_STOPS:1', at: DAY0 + 3600 * S, type: 'halt' as const, code: 'HALTED_CONSECUTIVE_STOPS', detail: '3 stops in a row' };
    expect(await store.putOpsEventOnce(halt)).toBe(true);
    expect(await store.putOpsEventOnce({ ...halt, detail: 'again' })).toBe(false);
    await store.putOpsEventOnce({ id: 'kill:1', at: DAY0 + 60 * S, type: 'kill_switch', code: 'PAUSED', detail: 'RUNNING -> PAUSED' });
    await store.putOpsEventOnce({ id: 'kill:2', at: DAY0 - S, type: 'kill_switch', code: 'RUNNING', detail: 'day before' });
    const day = await store.listOpsEvents('2025-03-03');
    expect(day.map((e) => e.id)).toEqual(['kill:1', 'halt:HALTED_CONSECUTIVE_STOPS:1']);
    expect(day[1]!.detail).toBe('3 stops in a row');
    expect((await store.listOpsEvents('2025-03-02')).map((e) => e.id)).toEqual(['kill:2']);
  });

  it('uptime: beats 15 s apart extend a span, a 2-minute silence opens a new one, each owner and day apart', async () => {
    const store = await make();
    const beat = (owner: string, at: number) => store.recordUptime({ owner, mode: 'paper', at, maxGapMs: 45 * S });
    for (const t of [0, 15, 30, 45]) await beat('a', DAY0 + t * S);
    await beat('a', DAY0 + 165 * S); // 120 s after the last: a gap
    await beat('a', DAY0 + 180 * S);
    await beat('b', DAY0 + 100 * S);
    await beat('a', DAY0 - 10 * S); // the day before: its own item
    const items = await store.listUptime('2025-03-03');
    const a = items.find((u) => u.owner === 'a')!;
    expect(a.spans).toEqual([
      { from: DAY0, to: DAY0 + 45 * S },
      { from: DAY0 + 165 * S, to: DAY0 + 180 * S },
    ]);
    expect(a.beats).toBe(6);
    expect(items.find((u) => u.owner === 'b')!.spans).toEqual([{ from: DAY0 + 100 * S, to: DAY0 + 100 * S }]);
    expect((await store.listUptime('2025-03-02')).map((u) => u.owner)).toEqual(['a']);
  });

  it('the recommendation ledger lists by creation time from `since`, and updates are versioned', async () => {
    const store = await make();
    await store.put('recommendation', rec('rec:weekly:2025-02-24:0', DAY0 + 10), undefined);
    await store.put('recommendation', rec('rec:weekly:2025-02-17:0', DAY0 - 7 * 86_400_000), undefined);
    const all = await store.listRecommendations(0);
    expect(all.map((r) => r.value.id)).toEqual(['rec:weekly:2025-02-17:0', 'rec:weekly:2025-02-24:0']);
    expect((await store.listRecommendations(DAY0)).map((r) => r.value.id)).toEqual(['rec:weekly:2025-02-24:0']);
    const cur = all[1]!;
    const score = { at: DAY0 + 86_400_000, from: DAY0, to: DAY0 + 86_400_000, liveNetPnl: '1', candidateNetPnl: '2', liveTrades: 3, candidateTrades: 3, outcome: 'better' as const };
    await store.put('recommendation', { ...cur.value, scores: [score] }, cur.version);
    await expect(store.put('recommendation', { ...cur.value, scores: [] }, cur.version)).rejects.toBeInstanceOf(VersionConflictError);
    expect((await store.get('recommendation', 'rec:weekly:2025-02-24:0'))!.value.scores).toEqual([score]);
  });
});

describe('withBeat', () => {
  const base = { day: '2025-03-03', owner: 'a', mode: 'paper', maxGapMs: 45 * S };
  it('ignores a beat older than the last span (a clock step back): counted, no span moves', () => {
    const r1 = withBeat(undefined, { ...base, at: DAY0 + 100 * S });
    const r2 = withBeat(r1, { ...base, at: DAY0 + 50 * S });
    expect(r2.spans).toEqual(r1.spans);
    expect(r2.beats).toBe(2);
  });
  it(`keeps at most ${MAX_UPTIME_SPANS} spans by merging the two oldest`, () => {
    let r = withBeat(undefined, { ...base, at: DAY0 });
    for (let i = 1; i <= MAX_UPTIME_SPANS; i++) r = withBeat(r, { ...base, at: DAY0 + i * 100 * S });
    expect(r.spans).toHaveLength(MAX_UPTIME_SPANS);
    // Beats at 0 and 100 s were separate spans; merged, the first span covers both.
    expect(r.spans[0]).toEqual({ from: DAY0, to: DAY0 + 100 * S });
    expect(r.spans[1]).toEqual({ from: DAY0 + 200 * S, to: DAY0 + 200 * S });
  });
});
