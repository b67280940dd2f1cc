/**
 * The live configuration and a candidate on the same span of archived 1m candles, both through
 * the one kernel backtest: warmed up on the candles before the span (no entries there), entries
 * only inside it, positions still open at its end closed at the last close (both sides alike).
 * Used by the recommendation test (tester.ts) and by the ledger's scoring (ledger.ts).
 */
import type { ClosedTrade } from '../analytics/types.js';
import { maxDrawdownPct } from '../analytics/drawdown.js';
import { runBacktest } from '../backtest/engine.js';
import type { Config } from '../config/schema.js';
import { Dec } from '../core/money.js';
import { MINUTE_MS } from '../core/timeframes.js';
import type { Candle, SymbolId } from '../core/types.js';

export interface SideResult {
  readonly trades: readonly ClosedTrade[];
  readonly netPnl: Dec;
  readonly maxDrawdownPct: number;
}

export interface SpanComparison {
  readonly from: number;
  readonly to: number;
  /** False when no symbol has a candle inside the span. */
  readonly hasData: boolean;
  readonly live: SideResult;
  readonly candidate: SideResult;
}

const EMPTY: SideResult = { trades: [], netPnl: Dec.ZERO, maxDrawdownPct: 0 };

async function side(series: { symbol: SymbolId; candles: Candle[] }[], config: Config, from: number): Promise<SideResult> {
  const bt = await runBacktest({ series, config, entryGate: (intent) => (intent.time < from ? 'warm-up' : undefined) });
  return { trades: bt.trades, netPnl: Dec.sum(bt.trades.map((t) => t.netPnl)), maxDrawdownPct: maxDrawdownPct(bt.equity) };
}

/** Compares the two configs on [from, to) with `warmupMinutes` of candles before it; `candles` hold at least that range. */
export async function compareOnSpan(candles: ReadonlyMap<SymbolId, readonly Candle[]>, live: Config, candidate: Config, from: number, to: number, warmupMinutes: number): Promise<SpanComparison> {
  const start = from - warmupMinutes * MINUTE_MS;
  const series = [...candles.entries()]
    .map(([symbol, c]) => ({ symbol, candles: c.filter((x) => x.openTime >= start && x.openTime < to) }))
    .filter((s) => s.candles.some((x) => x.openTime >= from));
  if (series.length === 0) return { from, to, hasData: false, live: EMPTY, candidate: EMPTY };
  return { from, to, hasData: true, live: await side(series, live, from), candidate: await side(series, candidate, from) };
}
