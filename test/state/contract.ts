/**
 * The StateStore contract: one suite, run against the in-memory store and the DynamoDB store
 * (dynalite). Expected values are worked out by hand in each test.
 */
import { beforeEach, afterEach, describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { DataValidationError, InvalidStateError } from '../../services/core/errors.js';
import type { SymbolId } from '../../services/core/types.js';
import {
  APPLIED_EVENTS_MAX,
  LeaseHeldError,
  VersionConflictError,
  type ClosedTradeRecord,
  type DailyStatsRecord,
  type FillRecord,
  type OrderRecord,
  type PositionRecord,
  type IndexName,
  type ItemTable,
  type QuarantineReport,
  type RawItem,
  type SortRange,
  type StateStore,
  type WriteCondition,
} from '../../services/state/types.js';
import { TableStateStore, type StateStoreOptions } from '../../services/state/store.js';
import { parseRiskState } from '../../services/risk/state.js';

/** A table under test plus a way to plant raw items behind the store's back. */
export interface StoreHarness {
  readonly table: ItemTable;
  /** Writes a raw item directly into the table (bypassing the store), strings and numbers only. */
  plant(item: Record<string, string | number>): Promise<void>;
  /** Whether a raw item exists at PK/SK. */
  exists(pk: string, sk: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Builds a fresh, empty table. */
export type HarnessFactory = () => Promise<StoreHarness>;

/**
 * Passes every call through, and runs `beforeNextPut` (once) before the next put: a test uses it
 * to make another writer win the race between a store's read and its conditional write.
 */
class HookedTable implements ItemTable {
  beforeNextPut: (() => Promise<unknown>) | undefined;
  constructor(private readonly inner: ItemTable) {}
  get(pk: string, sk: string): Promise<RawItem | undefined> {
    return this.inner.get(pk, sk);
  }
  async put(item: RawItem, condition: WriteCondition): Promise<boolean> {
    const hook = this.beforeNextPut;
    this.beforeNextPut = undefined;
    if (hook !== undefined) await hook();
    return this.inner.put(item, condition);
  }
  delete(pk: string, sk: string, condition: WriteCondition): Promise<boolean> {
    return this.inner.delete(pk, sk, condition);
  }
  query(index: IndexName | undefined, pk: string, range: SortRange | undefined, limit: number): Promise<RawItem[]> {
    return this.inner.query(index, pk, range, limit);
  }
}

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0); // 2025-01-15T12:00:00Z
const DAY = 86_400_000;
const sym = (s: string) => s as SymbolId;

export function position(id: string, over: Partial<PositionRecord> = {}): PositionRecord {
  return {
    id,
    symbol: sym('DOGEUSDT'),
    direction: 'long',
    state: 'open',
    entryQuantity: dec('1000'),
    entryCost: dec('123.456789012345678901'),
    exitQuantity: dec('0'),
    exitProceeds: dec('0'),
    fees: dec('0.0617'),
    stopPrice: dec('0.1224'),
    targets: [{ price: dec('0.1255'), quantity: dec('330'), filled: dec('0'), clientOrderId: `${id}-t1` }],
    openedAt: T0,
    orderIds: [`${id}-entry`, `${id}-t1`],
    updatedAt: T0,
    ...over,
  };
}

export function order(clientOrderId: string, over: Partial<OrderRecord> = {}): OrderRecord {
  return {
    clientOrderId,
    symbol: sym('DOGEUSDT'),
    side: 'buy',
    type: 'limit',
    role: 'entry',
    quantity: dec('1000'),
    price: dec('0.1234'),
    state: 'submitted',
    sent: true,
    filledQuantity: dec('0'),
    fillSum: dec('0'),
    tradeIds: [],
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

export function fill(tradeId: string, clientOrderId: string, time: number, over: Partial<FillRecord> = {}): FillRecord {
  return {
    tradeId,
    clientOrderId,
    exchangeOrderId: `x-${clientOrderId}`,
    symbol: sym('DOGEUSDT'),
    side: 'buy',
    price: dec('0.1234'),
    quantity: dec('100'),
    fee: dec('0.00617'),
    feeAsset: 'USDT',
    liquidity: 'taker',
    time,
    ...over,
  };
}

function trade(id: string, exitTime: number): ClosedTradeRecord {
  return {
    id,
    symbol: 'DOGEUSDT',
    direction: 'long',
    entryTime: exitTime - 60_000,
    exitTime,
    entryPrice: dec('0.1234'),
    exitPrice: dec('0.1255'),
    quantity: dec('1000'),
    fees: dec('0.1'),
    grossPnl: dec('2.1'),
    netPnl: dec('2'),
    exitReason: 'target',
    exits: 3,
    returnPct: 1.62,
  };
}

function dayStats(day: string, trades = 0): DailyStatsRecord {
  return { day, startEquity: dec('10000'), endEquity: dec('10000'), realizedPnl: dec('0'), fees: dec('0'), trades, wins: 0, losses: 0, updatedAt: T0 };
}

/** Runs the contract against stores built by `factory`. */
export function stateStoreContract(name: string, factory: HarnessFactory): void {
  describe(`StateStore contract: ${name}`, () => {
    let h: StoreHarness;
    let table: HookedTable;
    let store: StateStore;
    let reports: QuarantineReport[];
    /** A store over the harness's table (the same table when called again within a test). */
    const make = (over: Partial<StateStoreOptions> = {}) => {
      reports = [];
      table = new HookedTable(h.table);
      store = new TableStateStore(table, { clock: () => T0, onQuarantine: (r) => reports.push(r), ...over });
    };
    beforeEach(async () => {
      h = await factory();
      make();
    });
    afterEach(async () => {
      await h.close();
    });

    describe('versioned get/put', () => {
      it('round-trips a record with exact decimals and counts versions from 1', async () => {
        expect(await store.get('position', 'p1')).toBeUndefined();
        const w1 = await store.put('position', position('p1'), undefined);
        expect(w1.version).toBe(1);
        const r1 = await store.get('position', 'p1');
        expect(r1?.version).toBe(1);
        // 21 significant decimals survive the trip through the table as a decimal string.
        expect(r1?.value.entryCost.toString()).toBe('123.456789012345678901');
        expect(r1?.value.targets[0]?.clientOrderId).toBe('p1-t1');
        const w2 = await store.put('position', { ...position('p1'), stopPrice: dec('0.1236') }, 1);
        expect(w2.version).toBe(2);
        expect((await store.get('position', 'p1'))?.value.stopPrice.toString()).toBe('0.1236');
      });

      it('two writers of the same version: one wins, the loser gets VersionConflictError', async () => {
        await store.put('order', order('o1'), undefined);
        const a = await store.get('order', 'o1');
        const b = await store.get('order', 'o1');
        expect(a?.version).toBe(1);
        expect(b?.version).toBe(1);
        await store.put('order', { ...order('o1'), state: 'partially_filled', filledQuantity: dec('10'), fillSum: dec('10'), tradeIds: ['t1'] }, 1);
        await expect(store.put('order', { ...order('o1'), state: 'cancelled' }, 1)).rejects.toBeInstanceOf(VersionConflictError);
        const now = await store.get('order', 'o1');
        expect(now?.version).toBe(2);
        expect(now?.value.state).toBe('partially_filled');
      });

      it('creating what exists, or updating what does not, is a conflict', async () => {
        await store.put('position', position('p1'), undefined);
        await expect(store.put('position', position('p1'), undefined)).rejects.toBeInstanceOf(VersionConflictError);
        await expect(store.put('position', position('p2'), 1)).rejects.toBeInstanceOf(VersionConflictError);
        expect(await store.get('position', 'p2')).toBeUndefined();
      });

      it('refuses a record that does not fit its schema, and stores nothing', async () => {
        await expect(store.put('position', { ...position('p1'), symbol: sym('doge/usdt') }, undefined)).rejects.toBeInstanceOf(DataValidationError);
        expect(await store.get('position', 'p1')).toBeUndefined();
      });

      it('stores the risk state and reads it back through the risk parser', async () => {
        const state = parseRiskState({
          version: 1,
          lastTime: T0,
          day: { start: T0 - 12 * 3_600_000, startEquity: '10000', trades: 3, wins: 1, losses: 2, lossLimitHit: false, drawdownHaltFired: false },
          week: null,
          consecutiveStops: 2,
          cooldownUntil: { DOGEUSDT: T0 + 900_000 },
          halt: { halted: true, reason: 'HALTED_CONSECUTIVE_STOPS', since: T0, until: T0 + DAY, detail: '3 stops' },
          priceWindows: {},
        });
        await store.put('risk', { state, updatedAt: T0 }, undefined);
        const back = await store.get('risk', 'main');
        expect(back?.value.state).toEqual(state);
      });
    });

    describe('applyEvent', () => {
      const addTrade = (pnl: string) => (cur: DailyStatsRecord | undefined): DailyStatsRecord => {
        const base = cur ?? dayStats('2025-01-15');
        return { ...base, trades: base.trades + 1, realizedPnl: base.realizedPnl.add(dec(pnl)) };
      };

      it('applies an event once: the same event id again changes nothing', async () => {
        const first = await store.applyEvent('day', '2025-01-15', 'trade-closed:t1', addTrade('2.5'));
        expect(first.applied).toBe(true);
        expect(first.current?.version).toBe(1);
        const again = await store.applyEvent('day', '2025-01-15', 'trade-closed:t1', addTrade('2.5'));
        expect(again.applied).toBe(false);
        expect(again.current?.version).toBe(1);
        const stored = await store.get('day', '2025-01-15');
        expect(stored?.version).toBe(1);
        expect(stored?.value.trades).toBe(1);
        expect(stored?.value.realizedPnl.toString()).toBe('2.5');
      });

      it('applies different event ids in order', async () => {
        const seen: string[] = [];
        for (const [id, pnl] of [['e1', '2.5'], ['e2', '-1.25'], ['e3', '0.5']] as const) {
          await store.applyEvent('day', '2025-01-15', id, (cur) => {
            seen.push(`${id}@${cur?.realizedPnl.toString() ?? 'none'}`);
            return addTrade(pnl)(cur);
          });
        }
        expect(seen).toEqual(['e1@none', 'e2@2.5', 'e3@1.25']);
        const stored = await store.get('day', '2025-01-15');
        expect(stored?.version).toBe(3);
        expect(stored?.value.trades).toBe(3);
        expect(stored?.value.realizedPnl.toString()).toBe('1.75');
      });

      it('an update returning its argument unchanged is not applied and writes nothing', async () => {
        await store.put('position', position('p1'), undefined);
        const r = await store.applyEvent('position', 'p1', 'noop', (cur) => cur);
        expect(r.applied).toBe(false);
        expect(r.current?.version).toBe(1);
        // Not remembered either: a later real change under the same id still applies.
        const r2 = await store.applyEvent('position', 'p1', 'noop', (cur) => cur && { ...cur, stopPrice: dec('0.13') });
        expect(r2.applied).toBe(true);
        expect(r2.current?.version).toBe(2);
      });

      it('re-reads and re-applies after losing to a concurrent writer', async () => {
        await store.put('day', dayStats('2025-01-15'), undefined);
        let calls = 0;
        const res = await store.applyEvent('day', '2025-01-15', 'e1', (cur) => {
          calls++;
          // Another process writes between our read and our conditional write.
          if (calls === 1) table.beforeNextPut = () => store.put('day', { ...dayStats('2025-01-15'), trades: 10 }, 1);
          return addTrade('1')(cur);
        });
        expect(calls).toBe(2);
        expect(res.applied).toBe(true);
        // The retry saw the competitor's 10 trades and added ours on top.
        expect(res.current?.version).toBe(3);
        expect(res.current?.value.trades).toBe(11);
      });

      it('two concurrent events on one item both apply', async () => {
        await store.put('day', dayStats('2025-01-15'), undefined);
        const [a, b] = await Promise.all([
          store.applyEvent('day', '2025-01-15', 'e1', addTrade('1')),
          store.applyEvent('day', '2025-01-15', 'e2', addTrade('2')),
        ]);
        expect(a.applied && b.applied).toBe(true);
        const stored = await store.get('day', '2025-01-15');
        expect(stored?.version).toBe(3);
        expect(stored?.value.trades).toBe(2);
        expect(stored?.value.realizedPnl.toString()).toBe('3');
      });

      it('gives up with VersionConflictError after the retry bound', async () => {
        make({ maxConflictRetries: 2 });
        await store.put('day', dayStats('2025-01-15'), undefined);
        let calls = 0;
        const attempt = store.applyEvent('day', '2025-01-15', 'e1', (cur) => {
          calls++;
          const n = calls;
          table.beforeNextPut = async () => {
            const c = await store.get('day', '2025-01-15');
            await store.put('day', { ...dayStats('2025-01-15'), trades: 100 + n }, c!.version);
          };
          return addTrade('1')(cur);
        });
        await expect(attempt).rejects.toBeInstanceOf(VersionConflictError);
        expect(calls).toBe(3); // the first try and 2 retries
        const stored = await store.get('day', '2025-01-15');
        expect(stored?.value.trades).toBe(103);
        expect(stored?.version).toBe(4);
      });

      it('a plain put keeps the remembered event ids', async () => {
        await store.applyEvent('day', '2025-01-15', 'e1', addTrade('1'));
        const cur = await store.get('day', '2025-01-15');
        await store.put('day', { ...cur!.value, endEquity: dec('10001') }, cur!.version);
        const replay = await store.applyEvent('day', '2025-01-15', 'e1', addTrade('1'));
        expect(replay.applied).toBe(false);
        expect(replay.current?.value.trades).toBe(1);
      });

      it(`remembers the last ${APPLIED_EVENTS_MAX} event ids per item`, async () => {
        const n = APPLIED_EVENTS_MAX + 6; // events e1..e70: e7..e70 are remembered
        for (let i = 1; i <= n; i++) await store.applyEvent('day', '2025-01-15', `e${i}`, addTrade('1'));
        expect((await store.applyEvent('day', '2025-01-15', `e${n - APPLIED_EVENTS_MAX + 1}`, addTrade('1'))).applied).toBe(false);
        expect((await store.applyEvent('day', '2025-01-15', 'e6', addTrade('1'))).applied).toBe(true);
        expect((await store.get('day', '2025-01-15'))?.value.trades).toBe(n + 1);
      });

      it('refuses an update that returns a record with another id', async () => {
        await expect(store.applyEvent('position', 'p1', 'e1', () => position('p2'))).rejects.toBeInstanceOf(InvalidStateError);
        expect(await store.get('position', 'p2')).toBeUndefined();
      });
    });

    describe('fills and closed trades', () => {
      it('putFillOnce stores a fill once by trade id', async () => {
        expect(await store.putFillOnce(fill('t1', 'o1', T0))).toBe(true);
        expect(await store.putFillOnce(fill('t1', 'o1', T0))).toBe(false);
        const fills = await store.listFillsOfOrder('o1');
        expect(fills).toHaveLength(1);
        expect(fills[0]?.fee.toString()).toBe('0.00617');
      });

      it('lists the fills of an order oldest first, and fills between two times across UTC days', async () => {
        await store.putFillOnce(fill('t3', 'o1', T0 + 2000));
        await store.putFillOnce(fill('t1', 'o1', T0));
        await store.putFillOnce(fill('t2', 'o2', T0 + 1000));
        await store.putFillOnce(fill('t4', 'o3', T0 + DAY)); // next UTC day
        await store.putFillOnce(fill('t0', 'o0', T0 - DAY)); // previous UTC day
        expect((await store.listFillsOfOrder('o1')).map((f) => f.tradeId)).toEqual(['t1', 't3']);
        expect((await store.listFillsBetween(T0, T0 + DAY)).map((f) => f.tradeId)).toEqual(['t1', 't2', 't3', 't4']);
        // Both bounds inclusive.
        expect((await store.listFillsBetween(T0 + 1000, T0 + 2000)).map((f) => f.tradeId)).toEqual(['t2', 't3']);
        expect((await store.listFillsBetween(T0 - DAY, T0 + DAY, 2)).map((f) => f.tradeId)).toEqual(['t0', 't1']);
        await expect(store.listFillsBetween(T0 - 400 * DAY, T0)).rejects.toBeInstanceOf(DataValidationError);
      });

      it('stores a closed trade once and lists the trades of a UTC day by exit time', async () => {
        const dayStart = Date.UTC(2025, 0, 15);
        expect(await store.putClosedTradeOnce(trade('c2', dayStart + 5000))).toBe(true);
        expect(await store.putClosedTradeOnce(trade('c2', dayStart + 5000))).toBe(false);
        await store.putClosedTradeOnce(trade('c1', dayStart)); // 00:00:00.000 belongs to the day
        await store.putClosedTradeOnce(trade('c3', dayStart + DAY)); // next day
        await store.putClosedTradeOnce(trade('c0', dayStart - 1)); // previous day
        const trades = await store.listClosedTrades('2025-01-15');
        expect(trades.map((t) => t.id)).toEqual(['c1', 'c2']);
        expect(trades[0]?.netPnl.toString()).toBe('2');
        expect((await store.listClosedTrades('2025-01-16')).map((t) => t.id)).toEqual(['c3']);
      });

      it('appends a signal audit event once per (trace, seq) and lists a UTC day oldest first', async () => {
        const dayStart = Date.UTC(2025, 0, 15);
        const ev = (traceId: string, seq: number, time: number) => ({ type: 'ORDER_BLOCKED' as const, traceId, seq, time, channel: 'webhook', reason: 'LOW_CONFIDENCE', detail: 'confidence 0.5 < 0.75' });
        expect(await store.putAuditOnce(ev('tb', 1, dayStart + 2000))).toBe(true);
        expect(await store.putAuditOnce(ev('tb', 1, dayStart + 2000))).toBe(false);
        await store.putAuditOnce({ type: 'RISK_SLTP', traceId: 'ta', seq: 1, time: dayStart + 1000, channel: 'queue', entry: 100.01, stop: 97.01, takeProfit: 106.01, stopSource: 'atr', takeProfitSource: 'reward_risk', atr: 2 });
        await store.putAuditOnce(ev('ta', 2, dayStart + 1000));
        await store.putAuditOnce(ev('tc', 1, dayStart + DAY)); // next day
        const day = await store.listAudit('2025-01-15');
        expect(day.map((e) => `${e.traceId}#${e.seq}:${e.type}`)).toEqual(['ta#1:RISK_SLTP', 'ta#2:ORDER_BLOCKED', 'tb#1:ORDER_BLOCKED']);
        expect(day[0]).toMatchObject({ stop: 97.01, takeProfit: 106.01, atr: 2 });
        expect((await store.listAudit('2025-01-16')).map((e) => e.traceId)).toEqual(['tc']);
        await expect(store.putAuditOnce({ ...ev('td', 1, dayStart), type: 'NOPE' as 'ORDER_NEW' })).rejects.toBeInstanceOf(DataValidationError);
      });
    });

    describe('queries', () => {
      it('lists open positions; a closed one leaves the list', async () => {
        await store.put('position', position('p2', { symbol: sym('PEPEUSDT') }), undefined);
        await store.put('position', position('p1'), undefined);
        await store.put('position', position('p3', { state: 'closed', closedAt: T0 + 1 }), undefined);
        expect((await store.listOpenPositions()).map((p) => p.value.id)).toEqual(['p1', 'p2']); // by symbol
        await store.put('position', position('p1', { state: 'closed', closedAt: T0 + 5 }), 1);
        const open = await store.listOpenPositions();
        expect(open.map((p) => [p.value.id, p.version])).toEqual([['p2', 1]]);
      });

      it('lists open orders, all or by state; terminal orders are not listed', async () => {
        await store.put('order', order('a', { state: 'pending', sent: false }), undefined);
        await store.put('order', order('b', { state: 'submitted' }), undefined);
        await store.put('order', order('c', { state: 'unknown' }), undefined);
        await store.put('order', order('d', { state: 'filled', filledQuantity: dec('1000'), fillSum: dec('1000'), tradeIds: ['t'] }), undefined);
        await store.put('order', order('e', { state: 'partially_filled', filledQuantity: dec('1'), fillSum: dec('1'), tradeIds: ['u'] }), undefined);
        const all = (await store.listOpenOrders()).map((o) => o.value.clientOrderId).sort();
        expect(all).toEqual(['a', 'b', 'c', 'e']);
        expect((await store.listOpenOrders(['unknown', 'pending'])).map((o) => o.value.clientOrderId)).toEqual(['c', 'a']);
        expect(await store.listOpenOrders(['filled'])).toEqual([]);
        await store.put('order', order('b', { state: 'cancelled' }), 1);
        expect((await store.listOpenOrders(['submitted'])).map((o) => o.value.clientOrderId)).toEqual([]);
      });

      it('lists daily stats over a range of days, inclusive', async () => {
        for (const d of ['2025-01-13', '2025-01-14', '2025-01-15', '2025-01-16']) await store.put('day', dayStats(d), undefined);
        expect((await store.listDailyStats('2025-01-14', '2025-01-15')).map((d) => d.value.day)).toEqual(['2025-01-14', '2025-01-15']);
        expect(await store.listDailyStats('2025-01-16', '2025-01-14')).toEqual([]);
        await expect(store.listDailyStats('2025-1-14', '2025-01-15')).rejects.toBeInstanceOf(DataValidationError);
      });
    });

    describe('leases', () => {
      const TTL = 30_000;

      it('a second owner is refused a live lease and gets it once the lease has expired', async () => {
        const a = await store.acquireLease('DOGEUSDT', 'task-a', TTL, T0);
        expect(a).toEqual({ symbol: 'DOGEUSDT', owner: 'task-a', acquiredAt: T0, renewedAt: T0, expiresAt: T0 + TTL });
        const refused = store.acquireLease('DOGEUSDT', 'task-b', TTL, T0 + TTL - 1);
        await expect(refused).rejects.toBeInstanceOf(LeaseHeldError);
        await expect(refused).rejects.toMatchObject({ holder: 'task-a', expiresAt: T0 + TTL });
        // At expiresAt the lease is free (read from the item: dynalite has no TTL expiry).
        const b = await store.acquireLease('DOGEUSDT', 'task-b', TTL, T0 + TTL);
        expect(b.owner).toBe('task-b');
        expect(b.acquiredAt).toBe(T0 + TTL);
        expect((await store.getLease('DOGEUSDT'))?.owner).toBe('task-b');
      });

      it('acquiring a lease one already holds extends it and keeps acquiredAt', async () => {
        await store.acquireLease('DOGEUSDT', 'task-a', TTL, T0);
        const again = await store.acquireLease('DOGEUSDT', 'task-a', TTL, T0 + 10_000);
        expect(again).toEqual({ symbol: 'DOGEUSDT', owner: 'task-a', acquiredAt: T0, renewedAt: T0 + 10_000, expiresAt: T0 + 10_000 + TTL });
        // Leases are per symbol.
        expect((await store.acquireLease('PEPEUSDT', 'task-b', TTL, T0)).owner).toBe('task-b');
      });

      it('only the owner renews, and only a live lease', async () => {
        await store.acquireLease('DOGEUSDT', 'task-a', TTL, T0);
        await expect(store.renewLease('DOGEUSDT', 'task-b', TTL, T0 + 1)).rejects.toBeInstanceOf(LeaseHeldError);
        const renewed = await store.renewLease('DOGEUSDT', 'task-a', TTL, T0 + 20_000);
        expect(renewed.expiresAt).toBe(T0 + 20_000 + TTL);
        expect(renewed.acquiredAt).toBe(T0);
        // Past expiry the owner must acquire again: renewing would hide the gap.
        await expect(store.renewLease('DOGEUSDT', 'task-a', TTL, T0 + 20_000 + TTL)).rejects.toMatchObject({ name: 'LeaseHeldError', holder: undefined });
        await expect(store.renewLease('PEPEUSDT', 'task-a', TTL, T0)).rejects.toBeInstanceOf(LeaseHeldError);
      });

      it('only the owner releases', async () => {
        await store.acquireLease('DOGEUSDT', 'task-a', TTL, T0);
        expect(await store.releaseLease('DOGEUSDT', 'task-b')).toBe(false);
        expect((await store.getLease('DOGEUSDT'))?.owner).toBe('task-a');
        expect(await store.releaseLease('DOGEUSDT', 'task-a')).toBe(true);
        expect(await store.getLease('DOGEUSDT')).toBeUndefined();
        expect(await store.releaseLease('DOGEUSDT', 'task-a')).toBe(false);
        // Free again at once, without waiting for the expiry.
        expect((await store.acquireLease('DOGEUSDT', 'task-b', TTL, T0 + 1)).owner).toBe('task-b');
      });
    });

    describe('heartbeat and model pointer', () => {
      it('keeps the latest heartbeat per owner', async () => {
        expect(await store.getHeartbeat('task-a')).toBeUndefined();
        await store.putHeartbeat({ owner: 'task-a', at: T0, mode: 'paper', openPositions: 1 });
        await store.putHeartbeat({ owner: 'task-a', at: T0 + 15_000, mode: 'paper', openPositions: 2, detail: 'ok' });
        await store.putHeartbeat({ owner: 'task-b', at: T0, mode: 'live', openPositions: 0 });
        expect(await store.getHeartbeat('task-a')).toEqual({ owner: 'task-a', at: T0 + 15_000, mode: 'paper', openPositions: 2, detail: 'ok' });
        expect((await store.getHeartbeat('task-b'))?.mode).toBe('live');
      });

      it('promotes models keeping the previous one, and rolls back once', async () => {
        expect(await store.getModelPointer()).toBeUndefined();
        await expect(store.rollbackModel(T0)).rejects.toBeInstanceOf(InvalidStateError);
        await store.promoteModel('v1', 's3://models/v1', T0);
        const p2 = await store.promoteModel('v2', 's3://models/v2', T0 + 1000);
        expect(p2).toEqual({ current: { version: 'v2', uri: 's3://models/v2', promotedAt: T0 + 1000 }, previous: { version: 'v1', uri: 's3://models/v1', promotedAt: T0 } });
        // Promoting the live version again changes nothing.
        expect(await store.promoteModel('v2', 's3://models/v2', T0 + 2000)).toEqual(p2);
        const back = await store.rollbackModel(T0 + 3000);
        expect(back).toEqual({ current: { version: 'v1', uri: 's3://models/v1', promotedAt: T0 + 3000 } });
        expect(await store.getModelPointer()).toEqual(back);
        await expect(store.rollbackModel(T0 + 4000)).rejects.toBeInstanceOf(InvalidStateError);
      });
    });

    describe('quarantine', () => {
      it('a malformed item is skipped by reads, copied to quarantine, reported once, and never thrown', async () => {
        // Valid JSON but not a position: stopPrice is not a decimal string.
        const bad = JSON.stringify({ ...JSON.parse(JSON.stringify(position('bad'))), stopPrice: 'NaN' });
        await h.plant({ PK: 'POS#bad', SK: 'POS', kind: 'position', version: 3, data: bad, GSI1PK: 'OPEN#POS', GSI1SK: 'DOGEUSDT#bad' });
        await store.put('position', position('good'), undefined);

        expect(await store.get('position', 'bad')).toBeUndefined();
        expect(reports).toHaveLength(1);
        expect(reports[0]).toMatchObject({ pk: 'POS#bad', sk: 'POS', kind: 'position', at: T0, stored: true });
        expect(reports[0]?.reason).toContain('stopPrice');
        expect(reports[0]?.error.name).toBe('QuarantinedItemError');
        expect(await h.exists('POS#bad', 'POS')).toBe(false);

        // Later reads neither see it nor report it again.
        expect(await store.get('position', 'bad')).toBeUndefined();
        expect((await store.listOpenPositions()).map((p) => p.value.id)).toEqual(['good']);
        expect(reports).toHaveLength(1);

        const q = await store.listQuarantined();
        expect(q).toHaveLength(1);
        expect(q[0]).toMatchObject({ pk: 'POS#bad', sk: 'POS', kind: 'position', at: T0 });
        expect(JSON.parse(q[0]!.raw)).toMatchObject({ PK: 'POS#bad', version: 3, data: bad });
      });

      it('quarantines malformed items met in a query and lists the rest', async () => {
        await h.plant({ PK: 'FILL#DOGEUSDT#x', SK: 'FILL', version: 1, data: 'not json', GSI1PK: 'ORDERFILLS#o1', GSI1SK: '0000000000001#x' });
        // A well-formed record under a key that is not its own.
        const misplaced = JSON.stringify(fill('t9', 'o1', T0 + 5));
        await h.plant({ PK: 'FILL#DOGEUSDT#other', SK: 'FILL', version: 1, data: misplaced, GSI1PK: 'ORDERFILLS#o1', GSI1SK: '0000000000002#y' });
        await store.putFillOnce(fill('t1', 'o1', T0));
        expect((await store.listFillsOfOrder('o1')).map((f) => f.tradeId)).toEqual(['t1']);
        expect(reports.map((r) => r.pk).sort()).toEqual(['FILL#DOGEUSDT#other', 'FILL#DOGEUSDT#x']);
        expect(reports.find((r) => r.pk === 'FILL#DOGEUSDT#x')?.reason).toContain('not JSON');
        expect(reports.find((r) => r.pk === 'FILL#DOGEUSDT#other')?.reason).toContain('key');
        expect((await store.listFillsOfOrder('o1')).map((f) => f.tradeId)).toEqual(['t1']);
        expect(reports).toHaveLength(2);
        expect(await store.listQuarantined()).toHaveLength(2);
      });

      it('putFillOnce over a malformed item at the same key quarantines it and stores the fill', async () => {
        await h.plant({ PK: 'FILL#DOGEUSDT#t5', SK: 'FILL', version: 1, data: '{"tradeId":"t5"}' });
        expect(await store.putFillOnce(fill('t5', 'o1', T0))).toBe(true);
        expect(reports.map((r) => r.pk)).toEqual(['FILL#DOGEUSDT#t5']);
        expect((await store.listFillsOfOrder('o1')).map((f) => f.tradeId)).toEqual(['t5']);
        expect(await store.putFillOnce(fill('t5', 'o1', T0))).toBe(false);
      });

      it('an item without a valid version is quarantined; a throwing alert callback does not reach the caller', async () => {
        make({ onQuarantine: () => { throw new Error('alerting is down'); } });
        await h.plant({ PK: 'LEASE#DOGEUSDT', SK: 'LEASE', version: 'one', data: '{}' });
        expect(await store.getLease('DOGEUSDT')).toBeUndefined();
        expect(await h.exists('LEASE#DOGEUSDT', 'LEASE')).toBe(false);
        // The symbol's lease is free again.
        expect((await store.acquireLease('DOGEUSDT', 'task-a', 1000, T0)).owner).toBe('task-a');
      });
    });

    describe('console records', () => {
      it('the status snapshot: last writer wins, read back as written', async () => {
        expect(await store.getStatusSnapshot()).toBeUndefined();
        await store.putStatusSnapshot({ owner: 'task-a', at: T0, data: { equity: '10000.5', positions: [] } });
        await store.putStatusSnapshot({ owner: 'task-a', at: T0 + 30_000, data: { equity: '10001', positions: [{ symbol: 'DOGEUSDT' }] } });
        expect(await store.getStatusSnapshot()).toEqual({ owner: 'task-a', at: T0 + 30_000, data: { equity: '10001', positions: [{ symbol: 'DOGEUSDT' }] } });
      });

      it('publications: the latest report and review per period, last writer wins, newest first; a bad one refused', async () => {
        expect(await store.listPublications()).toEqual([]);
        const pub = (kind: 'report' | 'review', period: 'daily' | 'weekly', key: string, at: number) => ({ kind, period, key, label: key, at, headline: `h ${key}`, path: `${kind}s/${period}/${key}.html` });
        await store.putPublication(pub('report', 'daily', '2026-06-01', T0));
        await store.putPublication(pub('review', 'daily', '2026-06-01', T0 + 1000));
        await store.putPublication(pub('report', 'weekly', '2026-05-25', T0 + 500));
        await store.putPublication(pub('report', 'daily', '2026-06-02', T0 + 2000));
        expect((await store.listPublications()).map((p) => `${p.kind} ${p.period} ${p.key}`)).toEqual(['report daily 2026-06-02', 'review daily 2026-06-01', 'report weekly 2026-05-25']);
        await expect(store.putPublication({ ...pub('report', 'daily', 'x', T0), period: 'hourly' as 'daily' })).rejects.toThrow();
      });

      it('the command log: once per update id, listed by UTC day in time order', async () => {
        const entry = (id: string, at: number) => ({ id, at, userId: '42', user: '@ana', role: 'operator' as const, command: '/pause', result: 'PAUSED' });
        expect(await store.putCommandLogOnce(entry('telegram:2', T0 + 2000))).toBe(true);
        expect(await store.putCommandLogOnce(entry('telegram:1', T0 + 1000))).toBe(true);
        expect(await store.putCommandLogOnce({ ...entry('telegram:1', T0 + 1000), result: 'again' })).toBe(false);
        const day = new Date(T0).toISOString().slice(0, 10);
        expect((await store.listCommandLog(day)).map((c) => [c.id, c.result])).toEqual([['telegram:1', 'PAUSED'], ['telegram:2', 'PAUSED']]);
        expect(await store.listCommandLog('2000-01-01')).toEqual([]);
      });
    });
  });
}
