/** The headline figures of a backtest run (summary.json and the report's summary table). */

import { DataValidationError } from '../core/errors.js';
import { maxDrawdownPct } from './drawdown.js';
import { exposurePct } from './exposure.js';
import { DAY_MS, dailyReturns, sharpeRatio, sortinoRatio } from './returns.js';
import { RATIO_DECIMALS, moneyNumber, ratio, roundTo } from './round.js';
import { tradeStats } from './tradeStats.js';
import type { BacktestSummary, ClosedTrade, EquityPoint, SummaryInput, SymbolSummary } from './types.js';

/**
 * Checks that the equity series is usable: finite numbers in ascending time order.
 * Throws a DataValidationError naming the first bad sample.
 */
export function validateEquity(points: readonly EquityPoint[]): void {
  let prev = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    if (!Number.isFinite(p.time) || !Number.isFinite(p.equity)) {
      throw new DataValidationError(`equity[${i}]: expected finite time and equity, got time=${p.time} equity=${p.equity}`);
    }
    if (p.time < prev) {
      throw new DataValidationError(`equity[${i}]: time ${p.time} is before the previous sample's ${prev}; expected ascending times`);
    }
    prev = p.time;
  }
}

/** Percent change last close / first open - 1; null when the first open is not a positive number. */
function buyAndHoldPct(firstOpen: number, lastClose: number): number | null {
  if (!(firstOpen > 0) || !Number.isFinite(lastClose)) return null;
  return (lastClose / firstOpen - 1) * 100;
}

function isoOrEmpty(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/**
 * Computes the summary of a run. See `BacktestSummary` for each field's definition and rounding.
 * Throws a DataValidationError for a non-positive initial balance or an unusable equity series.
 */
export function computeSummary(input: SummaryInput): BacktestSummary {
  if (!input.initialBalance.isPositive()) {
    throw new DataValidationError(`summary: initialBalance must be positive, got ${input.initialBalance.toString()}`);
  }
  validateEquity(input.equity);

  const stats = tradeStats(input.trades);
  const netPnl = input.finalBalance.sub(input.initialBalance);
  const span = input.endTime - input.startTime;
  const returns = dailyReturns(input.equity);

  // Buy and hold: equal weight over the symbols for which the backtester gave prices.
  const bh = new Map<string, number | null>();
  let bhSum = 0;
  let bhCount = 0;
  for (const b of input.buyAndHold) {
    const pct = buyAndHoldPct(b.firstOpen, b.lastClose);
    bh.set(b.symbol, pct);
    if (pct !== null) {
      bhSum += pct;
      bhCount++;
    }
  }

  const bySymbol = new Map<string, ClosedTrade[]>();
  for (const s of input.symbols) bySymbol.set(s, []);
  for (const t of input.trades) {
    let list = bySymbol.get(t.symbol);
    if (list === undefined) bySymbol.set(t.symbol, (list = []));
    list.push(t);
  }
  const perSymbol = new Map<string, SymbolSummary>();
  for (const [symbol, list] of bySymbol) {
    const s = tradeStats(list);
    const bhPct = bh.get(symbol) ?? null;
    perSymbol.set(symbol, {
      trades: s.trades,
      netPnl: moneyNumber(s.netPnl),
      winRate: ratio(s.winRate),
      buyAndHoldReturnPct: ratio(bhPct),
    });
  }

  return {
    initialBalance: moneyNumber(input.initialBalance),
    finalBalance: moneyNumber(input.finalBalance),
    candles: input.candles,
    symbols: [...input.symbols],
    start: isoOrEmpty(input.startTime),
    end: isoOrEmpty(input.endTime),
    trades: stats.trades,
    wins: stats.wins,
    losses: stats.losses,
    winRate: ratio(stats.winRate),
    netPnl: moneyNumber(netPnl),
    grossPnl: moneyNumber(stats.grossPnl),
    netReturnPct: roundTo(netPnl.div(input.initialBalance).toNumber() * 100, RATIO_DECIMALS),
    maxDrawdownPct: roundTo(maxDrawdownPct(input.equity), RATIO_DECIMALS),
    sharpe: ratio(sharpeRatio(returns)),
    sortino: ratio(sortinoRatio(returns)),
    profitFactor: ratio(stats.profitFactor),
    fees: moneyNumber(stats.fees),
    exposurePct: ratio(exposurePct(input.trades, input.startTime, input.endTime)),
    tradesPerDay: ratio(span > 0 ? stats.trades / (span / DAY_MS) : null),
    buyAndHoldReturnPct: ratio(bhCount > 0 ? bhSum / bhCount : null),
    elapsedMs: input.elapsedMs,
    candlesPerSecond: input.elapsedMs > 0 ? Math.round(input.candles / (input.elapsedMs / 1000)) : null,
    avgWinPct: ratio(stats.avgWinPct),
    avgLossPct: ratio(stats.avgLossPct),
    expectancy: stats.expectancy === null ? null : moneyNumber(stats.expectancy),
    maxConsecutiveLosses: stats.maxConsecutiveLosses,
    exitReasons: stats.exitReasons,
    perSymbol: Object.fromEntries(perSymbol),
  };
}
