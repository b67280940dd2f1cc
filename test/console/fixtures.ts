/**
 * A console wired as `npm start` wires it, around a fixed status document and a memory state
 * store: the real kill switch on a file, the real in-process queues, the real service.
 */
import { parseConfig } from '../../services/config/schema.js';
import { periodSoFarCaption } from '../../services/reporting/onDemand.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKillSwitchSource } from '../../services/adapters/file/fileKillSwitch.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { ConsoleService, type AccessConfig, type IgnoredUpdate } from '../../services/console/consoleService.js';
import { MemoryOnceStore, type ConsoleControl, type StatusView } from '../../services/console/ports.js';
import { deriveKey } from '../../services/console/signing.js';
import { base32Decode } from '../../services/console/totp.js';
import { KillSwitch } from '../../services/control/killSwitch.js';
import { Dec } from '../../services/core/money.js';
import { MemoryEventQueues } from '../../services/events/memoryQueue.js';
import type { RuntimeStatus } from '../../services/live/status.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { TableStateStore } from '../../services/state/store.js';

/** 2026-06-10 12:00 UTC, a Wednesday. */
export const T = Date.UTC(2026, 5, 10, 12, 0, 0);
export const OPERATOR = 100;
export const OPERATOR_2 = 101;
export const VIEWER = 200;
export const STRANGER = 300;
export const GROUP = -500;
export const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
export const ACCESS: AccessConfig = { operators: [OPERATOR, OPERATOR_2], viewers: [VIEWER], chatId: GROUP };

export function trade(id: string, exitTime: number, net: string, symbol = 'DOGEUSDT'): ClosedTrade {
  const n = Dec.from(net);
  return {
    id,
    symbol,
    direction: 'long',
    entryTime: exitTime - 600_000,
    exitTime,
    entryPrice: Dec.from('0.1'),
    exitPrice: Dec.from('0.101'),
    quantity: Dec.from('1000'),
    fees: Dec.from('0.05'),
    grossPnl: n.add(Dec.from('0.05')),
    netPnl: n,
    exitReason: n.isPositive() ? 'target' : 'stop',
    exits: 1,
    returnPct: 1,
  };
}

/** A status document of a paper run with one DOGEUSDT position (figures chosen by hand). */
export function statusDoc(killSwitch = 'RUNNING'): RuntimeStatus {
  return {
    mode: 'paper',
    venue: 'paper',
    killSwitch,
    startedAt: T - 3_600_000,
    now: T,
    startedAtIso: new Date(T - 3_600_000).toISOString(),
    nowIso: new Date(T).toISOString(),
    quoteAsset: 'USDT',
    health: { ok: true, reasons: [], live: true, trading: 'running' },
    feedLagMs: { 'kline:DOGEUSDT:1m': 1500, 'trades:DOGEUSDT': null },
    feed: { frames: 100, malformed: 1, duplicates: 0, reconnects: 2, connections: 1 },
    equity: '10012.3456',
    equityDisplay: '10012.35',
    todayPnl: '12.3456',
    todayPnlDisplay: '12.35',
    positions: [
      {
        id: 'DOGEUSDT-1',
        symbol: 'DOGEUSDT' as never,
        state: 'open',
        entryPrice: 0.1,
        stop: 0.0992,
        openedAt: T - 600_000,
        expiresAt: T + 13_800_000,
        openedAtIso: new Date(T - 600_000).toISOString(),
        expiresAtIso: new Date(T + 13_800_000).toISOString(),
        quantity: '9444.52',
        quantityDisplay: '9444.52',
        base: 'DOGE',
        entry: '0.1',
        entryDisplay: '0.10000',
        price: '0.10125',
        priceDisplay: '0.10125',
        valueDisplay: '956.26',
        unrealisedPnl: '11.80565',
        unrealisedPnlDisplay: '11.81',
        stopPrice: '0.0992',
        stopDisplay: '0.09920',
        breakevenMoved: false,
        targets: [
          { label: 'primary', price: '0.1015', priceDisplay: '0.10150', quantity: '3116.69', filled: '0' },
          { label: 'secondary', price: '0.1022', priceDisplay: '0.10220', quantity: '3116.69', filled: '0' },
        ],
        level: 0.1,
      },
    ],
    recentTrades: [],
    sessionPnl: { trades: 0, wins: 0, losses: 0, winRatePct: null, netPnl: '0', netPnlDisplay: '0.00', fees: '0', equityChange: null, equityChangeDisplay: null },
    risk: {
      asOf: T,
      halted: false,
      haltReason: null,
      haltSince: null,
      haltUntil: null,
      haltDetail: null,
      dailyLoss: { usedPct: 0, limitPct: 2, blocked: false, dayStart: T, dayStartEquity: '10000' },
      weeklyLoss: { usedPct: 0.5, limitPct: 5, blocked: false, weekStart: T, weekStartEquity: '10050' },
      monthlyLoss: { usedPct: 0.8, limitPct: 10, blocked: false, monthStart: T, monthStartEquity: '10080' },
      dailyDrawdown: { usedPct: 0, haltPct: 10 },
      consecutiveStops: { count: 1, max: 3 },
      winRate: { trades: 2, wins: 1, losses: 1, ratePct: 50, floorPct: 35, minTrades: 10 },
      openPositions: { count: 1, max: 3 },
      exposure: { notional: '956.26', cap: '5006.17', usedPct: 9.55, capPct: 50 },
      cooldowns: [],
    },
    session: { candlesClosed: 60, duplicateCandles: 0, signals: 1, trades: 0, books: 0, droppedMarketEvents: 0, entriesSubmitted: 1, entriesRejected: 0, entriesGated: 0, positionsOpened: 1, positionsClosed: 0, externalIntents: 0, handlerErrors: 0 },
    filtered: {},
  };
}

export interface ConsoleHarness {
  service: ConsoleService;
  store: TableStateStore;
  queues: MemoryEventQueues;
  killSwitch: KillSwitch;
  source: FileKillSwitchSource;
  notices: string[];
  /** Updates the service ignored (its onIgnored calls). */
  ignored: IgnoredUpdate[];
  clock: { now: number };
  setStatus(doc: RuntimeStatus | undefined): void;
}

export function consoleHarness(opts: { backtest?: ConsoleControl['runBacktest']; optimize?: ConsoleControl['startOptimize'] } = {}): ConsoleHarness {
  const clock = { now: T };
  const now = (): number => clock.now;
  const { store } = createMemoryStore({ clock: now });
  const dir = mkdtempSync(join(tmpdir(), 'console-'));
  const source = new FileKillSwitchSource(join(dir, 'kill-switch.json'), { now });
  // No caching: the tests read the file right after writing it.
  const killSwitch = new KillSwitch(source, { now, minReadIntervalMs: 0 });
  const queues = new MemoryEventQueues({ now });
  const notices: string[] = [];
  const ignored: IgnoredUpdate[] = [];
  let status: StatusView | undefined = { doc: statusDoc(), at: T - 2000 };
  const service = new ConsoleService({
    access: ACCESS,
    view: { status: () => Promise.resolve(status), killSwitch: () => killSwitch.current(), store },
    control: {
      setKillSwitch: (state, reason) => killSwitch.set(state, reason),
      sendCommand: (c) => queues.publish(c),
      requestRetrain: (r) => queues.publish(r),
      logCommand: async (e) => void (await store.putCommandLogOnce(e)),
      dashboardLink: (userId) => `https://dash.example/?t=token-for-${userId}`,
      // The real on-demand report over the same memory store, with the default strategy config.
      periodReport: (period, at) => periodSoFarCaption(store, parseConfig({}), period, at),
      ...(opts.backtest ? { runBacktest: opts.backtest } : {}),
      ...(opts.optimize ? { startOptimize: opts.optimize } : {}),
    },
    once: new MemoryOnceStore(now),
    confirmKey: deriveKey('webhook-secret', 'confirm'),
    totpKey: base32Decode(TOTP_SECRET),
    now,
    notify: (html) => Promise.resolve(void notices.push(html)),
    symbols: ['DOGEUSDT', 'PEPEUSDT'],
    onIgnored: (e) => void ignored.push(e),
  });
  return { service, store, queues, killSwitch, source, notices, ignored, clock, setStatus: (doc) => (status = doc ? { doc, at: T - 2000 } : undefined) };
}
