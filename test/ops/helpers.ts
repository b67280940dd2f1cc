/** Shared fixtures of the ops tests: dynalite stores, a recording kill switch and publisher, record builders, the simulator. */
import { randomUUID } from 'node:crypto';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import type { LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId, type SymbolId } from '../../services/core/types.js';
import { isKillSwitchState, type KillSwitchReading, type KillSwitchSource, type KillSwitchState } from '../../services/control/killSwitch.js';
import type { DomainEvent, AlertEvent, EventPublisher } from '../../services/events/types.js';
import { simMarketFromCandles } from '../../services/sim/replay.js';
import type { ClosedTradeRecord, DailyStatsRecord, PositionRecord, StateStore } from '../../services/state/types.js';
import { fixtureCandles, BTC_FILE } from '../sim/helpers.js';

/** A fresh table on the shared dynalite and a store on it. */
export async function freshStore(local: LocalDynamo, clock: () => number): Promise<{ store: StateStore; table: string }> {
  const table = `ops-${randomUUID().slice(0, 8)}`;
  await createTable(local.client, table);
  return { store: createDynamoStore({ client: local.client, tableName: table, clock }), table };
}

/** A kill switch in memory that records every write. */
export class MemoryKillSwitch implements KillSwitchSource {
  readonly writes: { state: KillSwitchState; reason: string }[] = [];
  constructor(public value: string = 'RUNNING') {}
  read(): Promise<KillSwitchReading> {
    return Promise.resolve({ value: this.value });
  }
  write(state: KillSwitchState, reason: string): Promise<void> {
    this.writes.push({ state, reason });
    this.value = state;
    return Promise.resolve();
  }
  get state(): KillSwitchState | undefined {
    return isKillSwitchState(this.value) ? this.value : undefined;
  }
}

/** A publisher that keeps what it is given. */
export class RecordingPublisher implements EventPublisher {
  readonly events: DomainEvent[] = [];
  publish(event: DomainEvent): Promise<void> {
    this.events.push(event);
    return Promise.resolve();
  }
  get alerts(): AlertEvent[] {
    return this.events.filter((e): e is AlertEvent => e.type === 'alert');
  }
}

export const BTC: SymbolId = symbolId('BTCUSDT');
export const MINUTE = 60_000;

/** An open long position of `qty` entered at `price`, opened at `openedAt`. */
export function position(id: string, symbol: SymbolId, openedAt: number, qty = '0.5', price = '50000'): PositionRecord {
  const q = Dec.from(qty);
  return {
    id,
    symbol,
    direction: 'long',
    state: 'open',
    entryQuantity: q,
    entryCost: q.mul(Dec.from(price)),
    exitQuantity: Dec.ZERO,
    exitProceeds: Dec.ZERO,
    fees: Dec.ZERO,
    stopPrice: Dec.from(price).mul(Dec.from('0.99')),
    targets: [],
    openedAt,
    orderIds: [`${id}E`],
    updatedAt: openedAt,
  };
}

export function dayStats(day: string, start: string, end: string, at: number): DailyStatsRecord {
  return { day, startEquity: Dec.from(start), endEquity: Dec.from(end), realizedPnl: Dec.from(end).sub(Dec.from(start)), fees: Dec.ZERO, trades: 1, wins: 0, losses: 1, updatedAt: at };
}

export function trade(id: string, exitTime: number, netPnl: string): ClosedTradeRecord {
  const pnl = Dec.from(netPnl);
  return {
    id,
    symbol: 'BTCUSDT',
    direction: 'long',
    entryTime: exitTime - 10 * MINUTE,
    exitTime,
    entryPrice: Dec.from('50000'),
    exitPrice: Dec.from('50000').add(pnl.mul(Dec.from(10))),
    quantity: Dec.from('0.1'),
    fees: Dec.ZERO,
    grossPnl: pnl,
    netPnl: pnl,
    exitReason: pnl.isNegative() ? 'stop' : 'target',
    exits: 1,
    returnPct: 0,
  };
}

export const SIM_KEY = 'ops-test-key';
export const SIM_SECRET = 'ops-test-secret';

/** The simulator with BTCUSDT (tick 0.01, step 0.000001, min notional 1) and ETHUSDT, one account. */
export async function startSim(deposits: Record<string, string>): Promise<SimServer> {
  const candles = fixtureCandles(BTC_FILE, 30);
  const spec = { tickSize: Dec.from('0.01'), stepSize: Dec.from('0.000001'), minNotional: Dec.ONE, makerFeePct: 0, takerFeePct: 0.05 } as const;
  return startSimServer({
    markets: [simMarketFromCandles(BTC, candles, { ...spec, minQuantity: spec.stepSize }), simMarketFromCandles(symbolId('ETHUSDT'), candles, { ...spec, minQuantity: spec.stepSize })],
    accounts: [{ apiKey: SIM_KEY, apiSecret: SIM_SECRET, deposits: Object.fromEntries(Object.entries(deposits).map(([k, v]) => [k, Dec.from(v)])) }],
  });
}

/** A CcxtMexcVenue on the simulator, markets loaded. */
export async function simVenue(server: SimServer): Promise<CcxtMexcVenue> {
  const venue = new CcxtMexcVenue({ apiKey: SIM_KEY, secret: SIM_SECRET, restUrl: server.restUrl, wsUrl: server.wsUrl, timeoutMs: 5000, enableRateLimit: false, onWarning: () => undefined });
  await venue.loadMarkets();
  return venue;
}

/** Pushes a book top (bid/ask with 5 units each side) for `symbol`. */
export function setBook(server: SimServer, symbol: SymbolId, bid: number, ask: number, size = 5): void {
  server.pushMarketData({ type: 'book', symbol, book: { time: Date.now(), bid, bidSize: size, ask, askSize: size } });
}
