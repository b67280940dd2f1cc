/**
 * The optimiser's objectives on hand-worked trade lists: the span figures a trial is scored on
 * (spanMetrics, the same definitions as summary.json) and objectiveValue's minimum trade count;
 * then a fold's choice with two objectives, which must come from the Pareto front even where a
 * dominated plateau has the better neighbourhood score.
 */
import { describe, expect, it } from 'vitest';
import { Dec } from '../../services/core/money.js';
import { DAY_MS } from '../../services/core/timeframes.js';
import type { BacktestResult } from '../../services/backtest/engine.js';
import type { ClosedTrade, EquityPoint } from '../../services/analytics/types.js';
import { objectiveValue, parseObjectives, type SpanMetrics } from '../../services/research/objectives.js';
import { spanMetrics, type TrialOutcome } from '../../services/research/trial.js';
import { planFolds } from '../../services/research/folds.js';
import { WalkForwardPlanner, type RunSpec } from '../../services/research/walkForward.js';
import { selectFold } from '../../services/research/selection.js';

const T0 = Date.UTC(2024, 0, 1);
const H12 = DAY_MS / 2;

function trade(i: number, net: string): ClosedTrade {
  const exitTime = T0 + i * DAY_MS + H12;
  return {
    id: `t${i}`,
    symbol: 'BTCUSDT',
    direction: 'long',
    entryTime: exitTime - 3_600_000,
    exitTime,
    entryPrice: Dec.from('100'),
    exitPrice: Dec.from('100'),
    quantity: Dec.from('10'),
    fees: Dec.from('0'),
    grossPnl: Dec.from(net),
    netPnl: Dec.from(net),
    exitReason: 'target',
    exits: 1,
    returnPct: Number(net) / 10,
  };
}

/** 1,000 USDT, one trade closing at noon on each of four days with these net results; the span is the four UTC days. */
function result(nets: readonly string[]): { r: BacktestResult; span: { start: number; end: number } } {
  let eq = 1000;
  const equity: EquityPoint[] = [{ time: T0, equity: 1000 }];
  nets.forEach((n, i) => {
    eq += Number(n);
    equity.push({ time: T0 + i * DAY_MS + H12, equity: eq });
  });
  const r = {
    trades: nets.map((n, i) => trade(i, n)),
    equity,
    initialBalance: Dec.from('1000'),
    finalBalance: Dec.from(String(eq)),
    fees: Dec.from('0'),
    candles: 4 * 1440,
    symbols: ['BTCUSDT'],
  } as unknown as BacktestResult;
  return { r, span: { start: T0, end: T0 + nets.length * DAY_MS } };
}

describe('objectives on hand-worked trades', () => {
  // +10%, -5%, +10%, -5% of equity: 1000 -> 1100 -> 1045 -> 1149.5 -> 1092.025.
  const { r, span } = result(['100', '-55', '104.5', '-57.475']);
  const m = spanMetrics(r, span);

  it('computes the span figures: return, drawdown, Sharpe, Sortino, Calmar, profit factor', () => {
    expect(m.trades).toBe(4);
    expect(m.days).toBe(4);
    expect(m.netReturnPct).toBeCloseTo(9.2025, 4);
    // The deepest fall from a peak: 1100 -> 1045 and 1149.5 -> 1092.025, both 5%.
    expect(m.maxDrawdownPct).toBeCloseTo(5, 4);
    // Daily returns 0.10, -0.05, 0.10, -0.05: mean 0.025, sample sd 0.0866025, downside deviation sqrt(2 x 0.05^2 / 4) = 0.0353553.
    expect(m.sharpe).toBeCloseTo((0.025 / Math.sqrt(0.0225 / 3)) * Math.sqrt(365), 3); // 5.5151
    expect(m.sortino).toBeCloseTo((0.025 / Math.sqrt(0.005 / 4)) * Math.sqrt(365), 3); // 13.5092
    // Calmar: 9.2025% x 365 / 4 days / 5% drawdown.
    expect(m.calmar).toBeCloseTo((9.2025 * 365) / 4 / 5, 3); // 167.9456
    // Profit factor: (100 + 104.5) / (55 + 57.475).
    expect(m.profitFactor).toBeCloseTo(204.5 / 112.475, 4); // 1.8182
    expect(m.winRate).toBe(50);
  });

  it('gives each objective its figure, and none below the minimum trade count', () => {
    expect(objectiveValue('net-return', m, 4)).toBe(m.netReturnPct);
    expect(objectiveValue('sharpe', m, 4)).toBe(m.sharpe);
    expect(objectiveValue('sortino', m, 4)).toBe(m.sortino);
    expect(objectiveValue('calmar', m, 4)).toBe(m.calmar);
    expect(objectiveValue('profit-factor', m, 4)).toBe(m.profitFactor);
    for (const name of parseObjectives('net-return,sharpe,sortino,calmar,profit-factor')) {
      expect(objectiveValue(name, m, 5)).toBeNull();
      expect(objectiveValue(name, m, 0)).not.toBeNull();
    }
  });

  it('leaves Sortino, Calmar and profit factor undefined without a losing day, a drawdown or a loss', () => {
    const { r: wins, span: s } = result(['10', '20', '10', '5']);
    const w = spanMetrics(wins, s);
    expect(w.netReturnPct).toBeCloseTo(4.5, 6);
    expect(w.maxDrawdownPct).toBe(0);
    expect(w.sortino).toBeNull();
    expect(w.calmar).toBeNull();
    expect(w.profitFactor).toBeNull();
    expect(objectiveValue('profit-factor', w, 1)).toBeNull();
    expect(objectiveValue('net-return', w, 1)).toBeCloseTo(4.5, 6);
    // All losing: profit factor 0, Sortino negative, Calmar negative.
    const { r: losses, span: s2 } = result(['-10', '-20', '-10', '-5']);
    const l = spanMetrics(losses, s2);
    expect(l.profitFactor).toBe(0);
    expect(l.sortino as number).toBeLessThan(0);
    expect(l.calmar as number).toBeLessThan(0);
  });
});

describe('a multi-objective fold choice', () => {
  const spec = (objectives: RunSpec['objectives']): RunSpec => ({
    v: 1,
    runId: 'pareto',
    strategy: { name: 'sr' },
    space: { parameters: { 'entry.proximityPct': { type: 'float', min: 0.05, max: 0.5 } } },
    baseConfig: {},
    objectives,
    minTrades: 5,
    trialsPerFold: 8,
    startupTrials: 8,
    batchSize: 1,
    seed: 1,
    neighbours: 2,
    pboBlocks: 4,
    plan: planFolds({ start: T0, end: T0 + 20 * DAY_MS, scheme: { kind: 'rolling' }, trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 }),
    foldSettings: { scheme: 'rolling', trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 },
    data: ['hand-made'],
  });
  // proximity -> (net return %, profit factor, trades). A plateau at 0.20-0.24 (5.0, 1.1), all
  // dominated by 0.45 (5.2, 1.3), whose neighbours are poor; 0.05 trades a low return for the best
  // profit factor; 0.35 has the best figures of all on 2 trades (below the minimum).
  const trials: [number, number, number, number][] = [
    [0.05, 0.5, 2.0, 20],
    [0.2, 5.0, 1.1, 20],
    [0.22, 5.0, 1.1, 20],
    [0.24, 4.9, 1.1, 20],
    [0.45, 5.2, 1.3, 20],
    [0.5, -3, 0.5, 20],
    [0.35, 9, 3, 2],
  ];
  const log = new Map<number, TrialOutcome>();
  trials.forEach(([x, ret, pf, n], k) => {
    const metrics: SpanMetrics = { days: 6, trades: n, netReturnPct: ret, maxDrawdownPct: 1, sharpe: ret, sortino: ret, calmar: ret, profitFactor: pf, winRate: 50, fees: 1 };
    log.set(k, { v: 1, runId: 'pareto', trial: k, fold: 0, phase: 'search', values: { 'entry.proximityPct': x }, status: 'ok', metrics, returns: [], elapsedMs: 1 });
  });

  it('chooses from the Pareto front of the objectives, by neighbourhood score there, never a dominated or thin trial', () => {
    const multi = new WalkForwardPlanner(spec(['net-return', 'profit-factor']));
    const c = selectFold(multi, multi.folds[0] as never, log);
    // Front by hand: 0.05 (best profit factor) and 0.45 (best return); the plateau is dominated by 0.45, 0.35 is below 5 trades.
    expect([...(c?.front ?? [])].sort()).toEqual([0, 4]);
    // Neighbourhood scores (2 neighbours) on the front: 0.05 -> (0.5 + 5 + 5) / 3 = 3.5; 0.45 -> (5.2 - 3 - 3) / 3 (0.5, and 0.35 counting as the worst).
    expect(c?.trial).toBe(0);
    expect(c?.values).toEqual({ 'entry.proximityPct': 0.05 });
    expect(c?.objectives).toEqual([0.5, 2.0]);
    expect(c?.score).toBeCloseTo(3.5, 9);
    expect(c?.rawBest).toEqual({ trial: 4, objective: 5.2 });

    // One objective: the plateau's neighbourhood wins (a dominated point with two objectives).
    const single = new WalkForwardPlanner(spec(['net-return']));
    const s = selectFold(single, single.folds[0] as never, log);
    expect([1, 2]).toContain(s?.trial);
    expect(s?.front).toEqual([]);
  });
});
