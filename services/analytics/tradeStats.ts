/**
 * Statistics over closed trades. A win is a trade with net PnL > 0, a loss one with net PnL < 0;
 * a trade of exactly 0 is neither (it still counts in the trade total and breaks a losing streak).
 */

import { Dec } from '../core/money.js';
import type { ClosedTrade } from './types.js';

/** Exact sums and counts over a set of trades; ratios are null where their denominator is 0. */
export interface TradeStats {
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  /** Percent of trades that are wins. */
  readonly winRate: number | null;
  readonly grossPnl: Dec;
  readonly netPnl: Dec;
  readonly fees: Dec;
  /** Sum of the wins' net PnL. */
  readonly grossWins: Dec;
  /** Sum of the losses' net PnL (<= 0). */
  readonly grossLosses: Dec;
  /** grossWins / |grossLosses|; null without losses. */
  readonly profitFactor: number | null;
  readonly avgWinPct: number | null;
  readonly avgLossPct: number | null;
  /** Mean net PnL per trade (quote asset). */
  readonly expectancy: Dec | null;
  readonly maxConsecutiveLosses: number;
  readonly exitReasons: Record<string, number>;
}

/** Computes `TradeStats`. The losing streak is counted in exit-time order (ties keep input order). */
export function tradeStats(trades: readonly ClosedTrade[]): TradeStats {
  let wins = 0;
  let losses = 0;
  let grossPnlRaw = 0n;
  let netPnlRaw = 0n;
  let feesRaw = 0n;
  let winsRaw = 0n;
  let lossesRaw = 0n;
  let winPctSum = 0;
  let lossPctSum = 0;
  // A Map, not an object literal: an exit reason such as '__proto__' must stay an ordinary key.
  const reasons = new Map<string, number>();
  for (const t of trades) {
    grossPnlRaw += t.grossPnl.raw;
    netPnlRaw += t.netPnl.raw;
    feesRaw += t.fees.raw;
    if (t.netPnl.isPositive()) {
      wins++;
      winsRaw += t.netPnl.raw;
      winPctSum += t.returnPct;
    } else if (t.netPnl.isNegative()) {
      losses++;
      lossesRaw += t.netPnl.raw;
      lossPctSum += t.returnPct;
    }
    reasons.set(t.exitReason, (reasons.get(t.exitReason) ?? 0) + 1);
  }

  // Array.prototype.sort is stable, so trades closing at the same instant keep their input order.
  const byExit = [...trades].sort((a, b) => a.exitTime - b.exitTime);
  let streak = 0;
  let maxStreak = 0;
  for (const t of byExit) {
    if (t.netPnl.isNegative()) {
      streak++;
      if (streak > maxStreak) maxStreak = streak;
    } else streak = 0;
  }

  const n = trades.length;
  const netPnl = Dec.fromRaw(netPnlRaw);
  const grossWins = Dec.fromRaw(winsRaw);
  const grossLosses = Dec.fromRaw(lossesRaw);
  return {
    trades: n,
    wins,
    losses,
    winRate: n > 0 ? (wins / n) * 100 : null,
    grossPnl: Dec.fromRaw(grossPnlRaw),
    netPnl,
    fees: Dec.fromRaw(feesRaw),
    grossWins,
    grossLosses,
    profitFactor: losses > 0 && !grossLosses.isZero() ? grossWins.div(grossLosses.abs()).toNumber() : null,
    avgWinPct: wins > 0 ? winPctSum / wins : null,
    avgLossPct: losses > 0 ? lossPctSum / losses : null,
    expectancy: n > 0 ? netPnl.div(Dec.from(n)) : null,
    maxConsecutiveLosses: maxStreak,
    exitReasons: Object.fromEntries(reasons),
  };
}
