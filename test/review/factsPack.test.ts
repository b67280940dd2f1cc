/**
 * The facts pack on a constructed day whose trades are known (test/review/helpers.ts): groups,
 * slippage against journaled signal prices, level methods, regimes on synthetic candles, anomalies
 * from the operations log; the answer schema's validation against it; the deterministic reviewer.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import type { Candle } from '../../services/core/types.js';
import { computeFigures } from '../../services/reporting/figures.js';
import type { ReportDataset } from '../../services/reporting/dataset.js';
import { periodContaining } from '../../services/reporting/period.js';
import { parseReviewAnswer, resolveEvidence } from '../../services/review/answer.js';
import { DEFAULT_TUNABLES } from '../../services/review/config.js';
import { DeterministicReviewer, stepFrom } from '../../services/review/deterministicReviewer.js';
import { diffTrades } from '../../services/review/divergence.js';
import { buildFactsPack, regimeAt } from '../../services/review/factsPack.js';
import type { PositionRecord } from '../../services/state/types.js';
import { DAY, dayFacts, dayTrades, LIVE, MIN } from './helpers.js';

function position(id: string, signal: number, sources: string[]): PositionRecord {
  const intent = { id, symbol: 'DOGEUSDT', direction: 'long', time: DAY, price: signal, stop: signal * 0.99, targets: [], level: { price: signal, touches: 3, sources }, oppositeLevel: null, expiresAt: DAY + 1 };
  return { id, symbol: 'DOGEUSDT' as never, direction: 'long', state: 'closed', entryQuantity: dec(1), entryCost: dec(1), exitQuantity: dec(1), exitProceeds: dec(1), fees: dec(0), stopPrice: dec(1), targets: [], openedAt: DAY, orderIds: [], updatedAt: DAY, extras: { intent: JSON.stringify(intent) } };
}

/** 1m candles from `start` with closes given by f(i). */
function candles(start: number, n: number, f: (i: number) => number): Candle[] {
  return Array.from({ length: n }, (_, i) => ({ openTime: start + i * MIN, open: f(i), high: f(i) * 1.001, low: f(i) * 0.999, close: f(i), volume: 1 }));
}

describe('facts pack', () => {
  const window = periodContaining('daily', DAY);
  const trades = dayTrades();
  // Signals: a 0.0999 (filled 0.1000: 10.01 bps worse), b 0.1000 (0 bps), c unknown (no position).
  const positions = new Map([
    ['DOGEUSDTLa', position('DOGEUSDTLa', 0.0999, ['extrema', 'pivots'])],
    ['DOGEUSDTLb', position('DOGEUSDTLb', 0.1, ['fibonacci'])],
  ]);
  const ops = [
    { id: 'halt:HALTED_CONSECUTIVE_STOPS:1', at: DAY + 961 * MIN, type: 'halt' as const, code: 'HALTED_CONSECUTIVE_STOPS', detail: '3 stops' },
    { id: 'rejected:x', at: DAY + 100 * MIN, type: 'order_rejected' as const, code: 'insufficient_balance', detail: 'x' },
  ];
  const dataset: ReportDataset = { window, trades, positions, days: [], fills: [], ops, uptime: [], truncated: false };
  const figures = computeFigures(dataset, LIVE, window.end);
  // An up-trend for the symbol before trade a (entry 01:00): +3% over the 240 minutes before it, smooth (calm).
  const up = candles(DAY - 300 * MIN, 400, (i) => 0.1 * (1 + 0.0002 * i));
  const facts = buildFactsPack({ dataset, figures, divergence: diffTrades(trades, trades, window), live: LIVE, tunables: DEFAULT_TUNABLES, candles: new Map([['DOGEUSDT', up]]) });

  it('groups the trades by exit reason and UTC entry hour, with exact sums', () => {
    // a: (0.0990 - 0.1000) x 1000 - 0.0995 = -1.0995; c: (0.1000 - 0.1010) x 2000 - 0.201 = -2.201.
    expect(facts.trades.byExitReason.stop).toEqual({ trades: 2, wins: 0, winRatePct: 0, netPnl: '-3.3005', fees: '0.3005' });
    // b: 0.002 x 1000 - 0.101 = 1.899.
    expect(facts.trades.byExitReason.target).toEqual({ trades: 1, wins: 1, winRatePct: 100, netPnl: '1.899', fees: '0.101' });
    expect(Object.keys(facts.trades.byEntryHourUtc)).toEqual(['h01', 'h10', 'h15']);
    expect(facts.figures.netPnl).toBe('-1.4015');
  });

  it('level methods and slippage come from the journaled intents; a trade without one is unknown', () => {
    expect(Object.keys(facts.trades.byLevelMethod)).toEqual(['extrema+pivots', 'fibonacci', 'unknown']);
    expect(facts.anomalies.slippage.entries).toBe(2);
    expect(facts.anomalies.slippage.worstEntries[0]).toEqual({ id: 'DOGEUSDTLa', symbol: 'DOGEUSDT', bps: 10.01 });
    expect(facts.anomalies.slippage.avgBps).toBe(5.005);
    expect(facts.anomalies.halts).toEqual([{ at: new Date(DAY + 961 * MIN).toISOString(), code: 'HALTED_CONSECUTIVE_STOPS', detail: '3 stops', lifted: false }]);
    expect(facts.anomalies.rejectedOrders).toBe(1);
  });

  it('regimes: trend over the 240 minutes before entry, hourly volatility; unknown without history', () => {
    // 240 minutes of +0.02% a minute on a base near 1.012: about +4.6%, calm.
    expect(regimeAt(up, DAY + 60 * MIN)).toBe('up/calm');
    const flatNoisy = candles(DAY - 300 * MIN, 400, (i) => 0.1 * (1 + (i % 2 ? 0.004 : -0.004)));
    expect(regimeAt(flatNoisy, DAY + 60 * MIN)).toBe('range/volatile');
    expect(regimeAt(up, DAY - 100 * MIN)).toBe('unknown');
    expect(facts.trades.byRegime['up/calm']?.trades).toBe(3);
  });

  it('lists the tunables with their live values, and is the same for the same records', () => {
    expect(facts.config.tunables.find((t) => t.key === 'exit.stopBeyondLevelPct')).toEqual({ key: 'exit.stopBeyondLevelPct', value: 0.8, min: 0.3, max: 2, step: 0.1 });
    expect(facts.config.tunables.find((t) => t.key === 'risk.symbolCooldownMinutes')?.value).toBe(15);
    const again = buildFactsPack({ dataset, figures, divergence: diffTrades(trades, trades, window), live: LIVE, tunables: DEFAULT_TUNABLES, candles: new Map([['DOGEUSDT', up]]) });
    expect(JSON.stringify(again)).toBe(JSON.stringify(facts));
    expect(resolveEvidence(facts, 'trades.byExitReason.stop.netPnl')).toBe('-3.3005');
    expect(resolveEvidence(facts, 'anomalies.slippage.worstEntries[0].bps')).toBe(10.01);
    expect(resolveEvidence(facts, 'trades.byExitReason.nothing')).toBeUndefined();
  });
});

describe('the answer check', () => {
  const facts = dayFacts();
  const base = { narrative: 'A short review of three trades.', findings: [], recommendations: [] as unknown[] };
  const ctx = { tunables: DEFAULT_TUNABLES, maxRecommendations: 3, live: LIVE, facts };
  const rec = (changes: unknown[]) => ({ ...base, recommendations: [{ title: 'A change', rationale: 'because of the stops', evidence: ['figures.trades'], changes }] });

  it('accepts a change on the grid; refuses an unknown key, a value out of bounds, two changes of one key, the live value, three keys', () => {
    expect(parseReviewAnswer(rec([{ key: 'exit.stopBeyondLevelPct', value: 1.2 }]), ctx).ok).toBe(true);
    const bad = (changes: unknown[]) => {
      const r = parseReviewAnswer(rec(changes), ctx);
      return r.ok ? [] : r.issues;
    };
    expect(bad([{ key: 'risk.maxPositionPct', value: 20 }]).join()).toContain('recommendations.0.changes.0');
    expect(bad([{ key: 'entry.maxAdx', value: 50 }]).join()).toContain('<=40');
    expect(bad([{ key: 'entry.maxAdx', value: 20 }, { key: 'entry.maxAdx', value: 21 }]).join()).toContain('a key appears twice');
    expect(bad([{ key: 'exit.stopBeyondLevelPct', value: 0.8 }]).join()).toContain('is the live value already');
    expect(bad([{ key: 'entry.maxAdx', value: 20 }, { key: 'exit.timeStopMinutes', value: 60 }, { key: 'entry.proximityPct', value: 0.3 }]).join()).toContain('recommendations.0.changes');
    expect(bad([{ key: 'exit.timeStopMinutes', value: 50 }]).join()).toContain('50 is not 15 + a multiple of 15');
  });
});

describe('deterministic reviewer', () => {
  it('fires the stop rule on two stops of three losing trades: one step wider, on the grid, with evidence that resolves', async () => {
    const facts = dayFacts();
    const out = await new DeterministicReviewer().review({ period: 'daily', facts, live: LIVE, tunables: DEFAULT_TUNABLES, maxRecommendations: 3 });
    expect(out.label).toContain('deterministic');
    expect(out.answer.recommendations.map((r) => r.changes)).toEqual([[{ key: 'exit.stopBeyondLevelPct', value: 0.9 }]]);
    const check = parseReviewAnswer(out.answer, { tunables: DEFAULT_TUNABLES, maxRecommendations: 3, live: LIVE, facts });
    expect(check.ok).toBe(true);
  });

  it('stepFrom moves along the grid and stops at the bounds', () => {
    const t = { key: 'exit.timeStopMinutes', min: 15, max: 480, step: 15 };
    expect(stepFrom(t, 240, -1)).toBe(225);
    expect(stepFrom(t, 480, 1)).toBeUndefined();
    // An off-grid live value moves to the next grid point in the direction asked.
    expect(stepFrom(t, 250, 1)).toBe(255);
    expect(stepFrom(t, 250, -1)).toBe(240);
  });
});
