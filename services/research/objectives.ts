/**
 * What the optimiser maximises: a few standard figures of a backtest span, each undefined (null)
 * when the span has fewer than the minimum number of trades, so that a parameter set that barely
 * trades cannot win on a lucky handful of trades.
 */
import { ConfigError } from '../core/errors.js';

export const OBJECTIVES = ['net-return', 'sharpe', 'sortino', 'calmar', 'profit-factor'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

/** The figures of one backtest span that objectives and reports read. */
export interface SpanMetrics {
  /** Span length in days. */
  readonly days: number;
  readonly trades: number;
  readonly netReturnPct: number;
  readonly maxDrawdownPct: number;
  /** Annualised, from daily returns (services/analytics/returns.ts). */
  readonly sharpe: number | null;
  readonly sortino: number | null;
  /**
   * Annualised simple return (netReturnPct x 365 / days) over the maximum drawdown; null without a
   * drawdown. Simple, not compounded: a 10-day span compounded to a year is meaningless.
   */
  readonly calmar: number | null;
  readonly profitFactor: number | null;
  readonly winRate: number | null;
  readonly fees: number;
}

/** Parses `--objective a,b`; ConfigError listing the valid names. */
export function parseObjectives(s: string): ObjectiveName[] {
  const names = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(`--objective: expected one or more of ${OBJECTIVES.join(', ')}`);
  for (const n of names) if (!(OBJECTIVES as readonly string[]).includes(n)) throw new ConfigError(`--objective: unknown objective "${n}" (expected one of ${OBJECTIVES.join(', ')})`);
  if (new Set(names).size !== names.length) throw new ConfigError(`--objective: "${s}" names an objective twice`);
  return names as ObjectiveName[];
}

/** The objective's value (higher is better), or null when undefined or below the minimum trade count. */
export function objectiveValue(name: ObjectiveName, m: SpanMetrics, minTrades: number): number | null {
  if (m.trades < minTrades) return null;
  switch (name) {
    case 'net-return':
      return m.netReturnPct;
    case 'sharpe':
      return m.sharpe;
    case 'sortino':
      return m.sortino;
    case 'calmar':
      return m.calmar;
    case 'profit-factor':
      return m.profitFactor;
  }
}
