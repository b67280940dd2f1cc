/**
 * The real status builder (buildStatus) over a session stand-in whose position, fills and prices
 * are chosen so every figure can be worked out by hand: the held quantity, the unrealised PnL and
 * its display (money to the quote's 2 decimals, prices to the tick), the session's PnL from the
 * real TradeLog, and the last-20 cap of recent trades (newest first).
 */
import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { buildStatus, type StatusInputs } from '../../services/live/status.js';
import { RECENT_TRADES, TradeLog } from '../../services/live/tradeLog.js';
import type { TradingSession } from '../../services/live/tradingSession.js';
import type { MarketInfo } from '../../services/model/orders.js';
import type { RiskStatus } from '../../services/risk/types.js';

const S = symbolId('DOGEUSDT');
const T = Date.UTC(2026, 5, 10, 12, 0, 0);
const d = (s: string): Dec => Dec.from(s);

/** One open position: 1,000 DOGE bought for 150 USDT (entry 0.15), 400 sold at the first target. */
function sessionStandIn(): TradingSession {
  const position = { id: 'p1', symbol: S, state: 'open', entryPrice: 0.15, stop: 0.147, openedAt: T - 600_000, expiresAt: T + 3_600_000, breakevenMoved: true, levelPrice: 0.149 };
  const snapshot = {
    filledQty: d('1000'),
    exitQty: d('400'),
    entryCost: d('150'),
    stop: d('0.15'),
    intent: { targets: [{ label: 'T1', price: 0.153 }, { label: 'T2', price: 0.156 }] },
    orders: [
      { role: 'target', price: d('0.156'), quantity: d('600'), filled: d('0') },
      { role: 'target', price: d('0.153'), quantity: d('400'), filled: d('400') },
    ],
  };
  return {
    executor: { position: (s: string) => (s === S ? position : undefined), snapshot: () => snapshot, account: () => ({}) },
    counters: { candlesClosed: 10 },
    kernel: { filtered: new Map() },
  } as unknown as TradingSession;
}

const market = { symbol: S, base: 'DOGE', quote: 'USDT', tickSize: d('0.00001'), stepSize: d('1') } as unknown as MarketInfo;
const risk = { halted: false, haltUntil: null, haltReason: null, haltDetail: null, dailyLoss: { dayStartEquity: '10000' } } as unknown as RiskStatus;

function trade(i: number): ClosedTrade {
  // Every third trade loses 1.5 net, the others win 2.25; 0.1 fees each.
  const net = i % 3 === 0 ? d('-1.5') : d('2.25');
  return { id: `t${i}`, symbol: S, direction: 'long', entryTime: T - (30 - i) * 60_000, exitTime: T - (29 - i) * 60_000, entryPrice: d('0.15'), exitPrice: d('0.151'), quantity: d('100'), fees: d('0.1'), grossPnl: net.add(d('0.1')), netPnl: net, returnPct: 1, exitReason: 'target' } as unknown as ClosedTrade;
}

function inputs(price: number | undefined, log: TradeLog): StatusInputs {
  return {
    mode: 'paper',
    venue: 'paper',
    killSwitch: 'RUNNING',
    startedAt: T - 3_600_000,
    now: T,
    symbols: [S],
    session: sessionStandIn(),
    equity: d('10026.254'),
    feed: { frames: 1, malformed: 0, duplicates: 0, reconnects: 0, connections: 1, lastEventAt: {} },
    requiredStreams: {},
    startupGraceMs: 0,
    risk,
    quoteAsset: 'USDT',
    market: () => market,
    lastPrice: () => price,
    recentTrades: log.recent(),
    sessionTotals: log.totals(),
    sessionStartEquity: d('10000'),
  };
}

describe('buildStatus', () => {
  it('an open position: held quantity, price to the tick, value and unrealised PnL in USDT (exact and rounded), targets and stop', () => {
    const p = buildStatus(inputs(0.15234, new TradeLog())).positions[0]!;
    // Held 1000 - 400 = 600; entry 150 / 1000 = 0.15; (0.15234 - 0.15) x 600 = 1.404; value 0.15234 x 600 = 91.404.
    expect(p).toMatchObject({ quantity: '600', quantityDisplay: '600', base: 'DOGE', entry: '0.15', entryDisplay: '0.15000', price: '0.15234', priceDisplay: '0.15234', valueDisplay: '91.40', unrealisedPnl: '1.404', unrealisedPnlDisplay: '1.40', stopPrice: '0.15', stopDisplay: '0.15000' });
    // Each plan matched to the target order nearest its price.
    expect(p.targets).toEqual([
      { label: 'T1', price: '0.153', priceDisplay: '0.15300', quantity: '400', filled: '400' },
      { label: 'T2', price: '0.156', priceDisplay: '0.15600', quantity: '600', filled: '0' },
    ]);
    // Below the entry: (0.14875 - 0.15) x 600 = -0.75.
    const down = buildStatus(inputs(0.14875, new TradeLog())).positions[0]!;
    expect([down.unrealisedPnl, down.unrealisedPnlDisplay, down.priceDisplay]).toEqual(['-0.75', '-0.75', '0.14875']);
    // Before the first price: no price, value or PnL (not zero).
    const none = buildStatus(inputs(undefined, new TradeLog())).positions[0]!;
    expect([none.price, none.priceDisplay, none.valueDisplay, none.unrealisedPnl, none.unrealisedPnlDisplay]).toEqual([null, null, null, null, null]);
  });

  it("the session's PnL from every trade, and only the last 20 trades listed, newest first", () => {
    const log = new TradeLog();
    for (let i = 1; i <= 25; i++) log.add(trade(i));
    expect(log.add(trade(25))).toBe(false); // a replayed trade counts once
    const doc = buildStatus(inputs(0.15234, log));
    // 25 trades: 8 losers (3, 6, ..., 24) and 17 winners; net 17 x 2.25 - 8 x 1.5 = 26.25; fees 25 x 0.1 = 2.5.
    expect(doc.sessionPnl).toEqual({ trades: 25, wins: 17, losses: 8, winRatePct: 68, netPnl: '26.25', netPnlDisplay: '26.25', fees: '2.5', equityChange: '26.254', equityChangeDisplay: '26.25' });
    expect(RECENT_TRADES).toBe(20);
    expect(doc.recentTrades.map((t) => t.id)).toEqual(Array.from({ length: 20 }, (_, k) => `t${25 - k}`));
    expect(doc.recentTrades[0]).toMatchObject({ netPnl: '2.25', netPnlDisplay: '2.25', exitTimeIso: new Date(T - 4 * 60_000).toISOString() });
    expect([doc.todayPnl, doc.todayPnlDisplay, doc.equityDisplay]).toEqual(['26.254', '26.25', '10026.25']);
  });
});
