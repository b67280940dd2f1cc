/**
 * The session's closed trades as the runtime saw them: running totals (count, wins, net and gross
 * PnL, fees) over every trade of the session, and the most recent ones for `/status` and the
 * console. Totals are exact decimals; the list is bounded (RECENT_TRADES), the totals are not a
 * list and so need no bound. A trade id seen twice (a replayed event) counts once.
 */
import { Dec } from '../core/money.js';
import type { ClosedTrade } from '../analytics/types.js';

/** Trades kept for `/status` ("the last 20 trades"). */
export const RECENT_TRADES = 20;
/** Trade ids remembered for de-duplication; older ones can no longer be replayed by the executor. */
const SEEN_BOUND = 1000;

/** What a session did, for the graceful-stop summary and `/status`. */
export interface SessionTotals {
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  /** Percent of trades with a positive net PnL; null before the first trade. */
  readonly winRatePct: number | null;
  readonly grossPnl: Dec;
  readonly netPnl: Dec;
  readonly fees: Dec;
}

export class TradeLog {
  private readonly recentTrades: ClosedTrade[] = [];
  private readonly seen = new Set<string>();
  private count = 0;
  private winCount = 0;
  private gross = Dec.ZERO;
  private net = Dec.ZERO;
  private feeSum = Dec.ZERO;

  /** Records a closed trade; false (and nothing changes) when its id was recorded before. */
  add(trade: ClosedTrade): boolean {
    if (this.seen.has(trade.id)) return false;
    this.seen.add(trade.id);
    if (this.seen.size > SEEN_BOUND) this.seen.delete(this.seen.values().next().value as string);
    this.count++;
    if (trade.netPnl.isPositive()) this.winCount++;
    this.gross = this.gross.add(trade.grossPnl);
    this.net = this.net.add(trade.netPnl);
    this.feeSum = this.feeSum.add(trade.fees);
    this.recentTrades.push(trade);
    if (this.recentTrades.length > RECENT_TRADES) this.recentTrades.shift();
    return true;
  }

  /** The most recent trades, newest first. */
  recent(): readonly ClosedTrade[] {
    return [...this.recentTrades].reverse();
  }

  totals(): SessionTotals {
    return {
      trades: this.count,
      wins: this.winCount,
      losses: this.count - this.winCount,
      winRatePct: this.count === 0 ? null : (this.winCount / this.count) * 100,
      grossPnl: this.gross,
      netPnl: this.net,
      fees: this.feeSum,
    };
  }
}

/** The one-line summary printed on a graceful stop. */
export function describeTotals(t: SessionTotals, quote: string, decimals: number): string {
  if (t.trades === 0) return `session summary: no trade closed this session; fees 0 ${quote}`;
  return (
    `session summary: ${t.trades} trade(s), ${t.wins} won, ${t.losses} lost (win rate ${(t.winRatePct ?? 0).toFixed(1)}%), ` +
    `net PnL ${signed(t.netPnl.toFixed(decimals))} ${quote} (gross ${signed(t.grossPnl.toFixed(decimals))}), fees ${t.fees.toFixed(decimals)} ${quote}`
  );
}

function signed(s: string): string {
  return s.startsWith('-') ? s : `+${s}`;
}
