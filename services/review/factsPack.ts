/**
 * The deterministic facts pack a review is written from: the period report's figures; the trades
 * by symbol, exit reason, UTC hour of entry, regime and level method; the anomalies (slippage,
 * rejected and stuck orders, recoveries and reconcile repairs, halts, kill-switch changes); the
 * live-versus-replay divergence; and the tunable config keys with their live values, bounds and
 * steps. The same records give the same pack, byte for byte. Every recommendation's evidence is a
 * path into it (services/review/answer.ts).
 *
 * Regime of a trade, from the archived 1m candles before its entry (stated in `definitions`):
 * trend `up`/`down` when the close moved more than 1.5% over the 240 minutes before the entry, else
 * `range`; volatility `calm` / `normal` / `volatile` when the standard deviation of the 60 one-minute
 * returns before it, scaled to an hour (x sqrt 60), is below 0.5%, below 1.5%, or above.
 */
import type { ClosedTrade } from '../analytics/types.js';
import type { Config } from '../config/schema.js';
import type { Candle, SymbolId } from '../core/types.js';
import { intentOf } from '../recovery/journal.js';
import type { ReportDataset } from '../reporting/dataset.js';
import { entrySlippageBps, signalPriceOf, type GroupFigures, type ReportFigures } from '../reporting/figures.js';
import { tradeStats } from '../analytics/tradeStats.js';
import type { Tunable } from './config.js';
import { readKey } from './configKeys.js';
import type { Divergence } from './divergence.js';

export const FACTS_VERSION = 1;

const r4 = (x: number): number => {
  const v = Number(x.toFixed(4));
  return v === 0 ? 0 : v;
};

function group(trades: readonly ClosedTrade[]): GroupFigures {
  const s = tradeStats(trades);
  return { trades: s.trades, wins: s.wins, winRatePct: s.winRate === null ? null : r4(s.winRate), netPnl: s.netPnl.toString(), fees: s.fees.toString() };
}

function groupBy(trades: readonly ClosedTrade[], key: (t: ClosedTrade) => string): Record<string, GroupFigures> {
  const m = new Map<string, ClosedTrade[]>();
  for (const t of trades) {
    const k = key(t);
    m.set(k, [...(m.get(k) ?? []), t]);
  }
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, l]) => [k, group(l)]));
}

/** The regime of an entry at `time` from the symbol's candles (see the file comment); `unknown` without 240 minutes before it. */
export function regimeAt(candles: readonly Candle[] | undefined, time: number): string {
  if (!candles || candles.length === 0) return 'unknown';
  // The last candle that closed at or before the decision.
  let hi = candles.length - 1;
  while (hi >= 0 && candles[hi]!.openTime + 60_000 > time) hi--;
  if (hi < 240) return 'unknown';
  const last = candles[hi]!;
  const past = candles[hi - 240]!;
  const move = (last.close - past.close) / past.close;
  const trend = move > 0.015 ? 'up' : move < -0.015 ? 'down' : 'range';
  const rets: number[] = [];
  for (let i = hi - 59; i <= hi; i++) rets.push(Math.log(candles[i]!.close / candles[i - 1]!.close));
  const mean = rets.reduce((a, b) => a + b, 0) / rets.length;
  const sd = Math.sqrt(rets.reduce((a, b) => a + (b - mean) ** 2, 0) / (rets.length - 1)) * Math.sqrt(60);
  const vol = sd < 0.005 ? 'calm' : sd < 0.015 ? 'normal' : 'volatile';
  return `${trend}/${vol}`;
}

function levelMethod(ds: Pick<ReportDataset, 'positions'>, id: string): string {
  const p = ds.positions.get(id);
  if (!p) return 'unknown';
  try {
    const src = intentOf(p).level.sources;
    return src.length ? [...src].sort().join('+') : 'unknown';
  } catch {
    return 'unknown';
  }
}

export interface FactsPackInput {
  readonly dataset: ReportDataset;
  readonly figures: ReportFigures;
  readonly divergence: Divergence;
  readonly live: Config;
  readonly tunables: readonly Tunable[];
  /** Archived 1m candles per symbol covering the period and the hours before (for regimes). */
  readonly candles: ReadonlyMap<SymbolId | string, readonly Candle[]>;
}

/** Builds the facts pack (see the file comment). Pure. */
export function buildFactsPack(i: FactsPackInput) {
  const f = i.figures;
  const trades = i.dataset.trades;
  const slips = trades
    .map((t) => ({ id: t.id, symbol: t.symbol, bps: entrySlippageBps(t, signalPriceOf(i.dataset, t.id)) }))
    .filter((s): s is { id: string; symbol: string; bps: number } => s.bps !== undefined)
    .sort((a, b) => b.bps - a.bps);
  return {
    version: FACTS_VERSION,
    period: { kind: f.period, label: f.label, start: new Date(f.start).toISOString(), end: new Date(f.end).toISOString(), dayBoundary: f.dayBoundary },
    figures: {
      trades: f.trades,
      wins: f.wins,
      losses: f.losses,
      winRatePct: f.winRatePct,
      netPnl: f.netPnl,
      grossPnl: f.grossPnl,
      fees: f.fees,
      startEquity: f.startEquity,
      returnPct: f.returnPct,
      profitFactor: f.profitFactor,
      expectancy: f.expectancy,
      maxDrawdownPct: f.maxDrawdownPct,
      avgHoldMinutes: f.avgHoldMinutes,
      best: f.best,
      worst: f.worst,
      quoteAsset: f.quoteAsset,
    },
    trades: {
      bySymbol: f.bySymbol,
      byExitReason: f.byExitReason,
      // `h07`, not `07`: integer-like keys would be ordered apart from the others in JSON.
      byEntryHourUtc: groupBy(trades, (t) => `h${new Date(t.entryTime).toISOString().slice(11, 13)}`),
      byRegime: groupBy(trades, (t) => regimeAt(i.candles.get(t.symbol), t.entryTime)),
      byLevelMethod: groupBy(trades, (t) => levelMethod(i.dataset, t.id)),
    },
    anomalies: {
      slippage: { ...f.slippage, worstEntries: slips.slice(0, 10) },
      rejectedOrders: f.anomalies.rejectedOrders,
      stuckOrders: f.anomalies.stuckOrders,
      recoveries: f.anomalies.recoveries,
      reconcileRepairs: f.anomalies.reconcileRepairs,
      halts: f.halts.map((h) => ({ at: new Date(h.at).toISOString(), code: h.code, detail: h.detail, lifted: h.lifted })),
      killSwitch: f.killSwitch.map((k) => ({ at: new Date(k.at).toISOString(), state: k.state, detail: k.detail })),
    },
    uptime: { pct: f.uptime.pct, gapCount: f.uptime.gapCount, longestGapMinutes: f.uptime.gaps.reduce((m, g) => Math.max(m, g.minutes), 0) },
    riskLimits: f.riskLimits,
    divergence: i.divergence,
    config: {
      mode: i.live.mode,
      profile: i.live.risk.profile,
      tunables: i.tunables.map((t) => ({ key: t.key, value: readKey(i.live, t.key) ?? null, min: t.min, max: t.max, step: t.step })),
    },
    definitions: {
      equity: 'realized equity: first recorded equity plus each trade net PnL at its exit',
      slippage: 'entry fill against the signal close, basis points, positive = worse',
      regime: 'trend over the 240 min before entry (+-1.5%: up/down, else range) / hourly volatility of 1m returns (<0.5% calm, <1.5% normal, else volatile)',
      divergence: 'live trades against the archived candles replayed through the backtester with the live config; netPnlDiff = live - replay',
    },
  };
}
export type FactsPack = ReturnType<typeof buildFactsPack>;
