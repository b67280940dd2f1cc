/**
 * The figures of a period report, computed from the records of `loadReportData` (dataset.ts) and
 * the live configuration's limits. Money is exact (decimal strings from Dec); percents and ratios
 * are plain numbers rounded to 4 decimals; null where a figure has no defined value.
 *
 * Definitions (stated in the report and README):
 * - the equity curve is the realized equity: the period's first recorded equity (the first daily
 *   stats' start equity) plus each closed trade's net PnL at its exit time; max drawdown is taken
 *   on it (open positions' marks between exits are not seen);
 * - return = net PnL / that start equity;
 * - slippage = entry price against the signal price (the close the entry was decided at), in basis
 *   points, positive when the fill was worse than the signal;
 * - uptime = the part of the period (up to now) covered by heartbeat spans of any runtime, spans
 *   closer than the gap bound joined; a gap is a hole longer than the bound.
 */
import { tradeStats } from '../analytics/tradeStats.js';
import type { ClosedTrade } from '../analytics/types.js';
import { Dec } from '../core/money.js';
import { DAY_MS } from '../core/timeframes.js';
import type { Config } from '../config/schema.js';
import { intentOf } from '../recovery/journal.js';
import { isoWeekStart } from '../risk/calendar.js';
import type { OpsEventRecord, UptimeRecord } from '../state/types.js';
import type { ReportDataset } from './dataset.js';
import { dayOf, type PeriodWindow } from './period.js';

const r4 = (x: number): number => {
  const v = Number(x.toFixed(4));
  return v === 0 ? 0 : v;
};
/** part / whole in percent, computed exactly and rounded to 4 decimals (half to even). */
const pctOf = (part: Dec, whole: Dec): number | null => {
  if (!whole.isPositive()) return null;
  const v = Number(part.mul(Dec.from(100)).div(whole).toFixed(4));
  return v === 0 ? 0 : v;
};

export interface GroupFigures {
  readonly trades: number;
  readonly wins: number;
  readonly winRatePct: number | null;
  readonly netPnl: string;
  readonly fees: string;
}

export interface TradeRef {
  readonly id: string;
  readonly symbol: string;
  readonly netPnl: string;
  readonly returnPct: number;
  readonly exitReason: string;
  readonly entryTime: number;
  readonly exitTime: number;
}

export interface UptimeFigures {
  /** Percent of the period up to `asOf` covered by heartbeats; null before the period started. */
  readonly pct: number | null;
  readonly coveredMs: number;
  readonly spanMs: number;
  readonly maxGapMs: number;
  /** Holes longer than the gap bound, oldest first (at most 50 listed; `gapCount` counts all). */
  readonly gaps: readonly { readonly from: number; readonly to: number; readonly minutes: number }[];
  readonly gapCount: number;
  readonly runtimes: readonly string[];
}

export interface ReportFigures {
  readonly period: PeriodWindow['period'];
  readonly label: string;
  readonly key: string;
  readonly start: number;
  readonly end: number;
  readonly dayBoundary: '00:00 UTC';
  readonly asOf: number;
  readonly empty: boolean;
  readonly truncated: boolean;
  readonly quoteAsset: string;
  readonly trades: number;
  readonly wins: number;
  readonly losses: number;
  readonly winRatePct: number | null;
  readonly grossPnl: string;
  readonly fees: string;
  readonly netPnl: string;
  readonly startEquity: string | null;
  readonly endEquity: string | null;
  readonly returnPct: number | null;
  readonly profitFactor: number | null;
  readonly expectancy: string | null;
  readonly maxDrawdownPct: number | null;
  readonly maxDrawdown: string;
  readonly avgHoldMinutes: number | null;
  readonly best: TradeRef | null;
  readonly worst: TradeRef | null;
  readonly bySymbol: Readonly<Record<string, GroupFigures>>;
  readonly byExitReason: Readonly<Record<string, GroupFigures>>;
  readonly riskLimits: {
    readonly dailyLossLimitPct: number;
    readonly worstDay: string | null;
    readonly worstDayLossPct: number | null;
    readonly dailyLimitUsedPct: number | null;
    readonly weeklyLossLimitPct: number;
    readonly worstWeekLossPct: number | null;
    readonly weeklyLimitUsedPct: number | null;
    readonly maxPositions: number;
    readonly peakOpenPositions: number;
  };
  readonly halts: readonly { readonly at: number; readonly code: string; readonly detail: string; readonly lifted: boolean }[];
  readonly killSwitch: readonly { readonly at: number; readonly state: string; readonly detail: string }[];
  readonly anomalies: { readonly rejectedOrders: number; readonly stuckOrders: number; readonly recoveries: number; readonly reconcileRepairs: number };
  readonly slippage: {
    readonly entries: number;
    readonly avgBps: number | null;
    readonly maxBps: number | null;
    readonly worstTradeId: string | null;
  };
  readonly uptime: UptimeFigures;
  readonly equity: readonly { readonly time: number; readonly equity: number }[];
  /** PnL per bucket for the bar chart: per hour for a daily report, per day otherwise. */
  readonly pnlBuckets: readonly { readonly label: string; readonly start: number; readonly netPnl: number }[];
  readonly perDay: readonly (GroupFigures & { readonly day: string; readonly startEquity: string | null; readonly endEquity: string | null })[];
  readonly perWeek: readonly (GroupFigures & { readonly week: string })[];
}

function group(trades: readonly ClosedTrade[]): GroupFigures {
  const s = tradeStats(trades);
  return { trades: s.trades, wins: s.wins, winRatePct: s.winRate === null ? null : r4(s.winRate), netPnl: s.netPnl.toString(), fees: s.fees.toString() };
}

function groupBy(trades: readonly ClosedTrade[], key: (t: ClosedTrade) => string): Record<string, GroupFigures> {
  const m = new Map<string, ClosedTrade[]>();
  for (const t of trades) {
    const k = key(t);
    let l = m.get(k);
    if (!l) m.set(k, (l = []));
    l.push(t);
  }
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, l]) => [k, group(l)]));
}

function ref(t: ClosedTrade): TradeRef {
  return { id: t.id, symbol: t.symbol, netPnl: t.netPnl.toString(), returnPct: r4(t.returnPct), exitReason: t.exitReason, entryTime: t.entryTime, exitTime: t.exitTime };
}

/** Entry slippage of a trade against its signal price in bps (positive = worse), or undefined without a stored intent. */
export function entrySlippageBps(t: ClosedTrade, signalPrice: number | undefined): number | undefined {
  if (signalPrice === undefined || !(signalPrice > 0)) return undefined;
  const diff = (t.entryPrice.toNumber() - signalPrice) / signalPrice;
  return r4((t.direction === 'long' ? diff : -diff) * 10_000);
}

/** The signal price of a trade from its position record (the journaled intent), if any. */
export function signalPriceOf(ds: Pick<ReportDataset, 'positions'>, tradeId: string): number | undefined {
  const p = ds.positions.get(tradeId);
  if (!p) return undefined;
  try {
    return intentOf(p).price;
  } catch {
    return undefined;
  }
}

/** Uptime over [start, min(end, asOf)) from the spans of every runtime (see the file comment). */
export function uptimeFigures(items: readonly UptimeRecord[], start: number, end: number, asOf: number): UptimeFigures {
  const until = Math.min(end, asOf);
  const maxGapMs = items.reduce((m, u) => Math.max(m, u.maxGapMs), 0) || 45_000;
  const spans = items.flatMap((u) => u.spans).sort((a, b) => a.from - b.from);
  const merged: { from: number; to: number }[] = [];
  for (const s of spans) {
    const last = merged[merged.length - 1];
    if (last && s.from - last.to <= maxGapMs) last.to = Math.max(last.to, s.to);
    else merged.push({ from: s.from, to: s.to });
  }
  const spanMs = Math.max(0, until - start);
  const clipped = merged.map((s) => ({ from: Math.max(s.from, start), to: Math.min(s.to, until) })).filter((s) => s.to > s.from || (s.to === s.from && s.from >= start && s.from < until));
  const coveredMs = clipped.reduce((n, s) => n + (s.to - s.from), 0);
  const gaps: { from: number; to: number; minutes: number }[] = [];
  let cursor = start;
  for (const s of clipped) {
    if (s.from - cursor > maxGapMs) gaps.push({ from: cursor, to: s.from, minutes: r4((s.from - cursor) / 60_000) });
    cursor = Math.max(cursor, s.to);
  }
  if (until - cursor > maxGapMs) gaps.push({ from: cursor, to: until, minutes: r4((until - cursor) / 60_000) });
  return {
    pct: spanMs > 0 ? r4((coveredMs / spanMs) * 100) : null,
    coveredMs,
    spanMs,
    maxGapMs,
    gaps: gaps.slice(0, 50),
    gapCount: gaps.length,
    runtimes: [...new Set(items.filter((u) => u.spans.some((s) => s.to >= start && s.from < until)).map((u) => u.owner))].sort(),
  };
}

function peakConcurrent(trades: readonly ClosedTrade[]): number {
  const ev: [number, number][] = [];
  for (const t of trades) ev.push([t.entryTime, 1], [t.exitTime, -1]);
  // Exits before entries at the same instant: a position closed and another opened at once are not both open.
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let peak = 0;
  for (const [, d] of ev) {
    n += d;
    peak = Math.max(peak, n);
  }
  return peak;
}

function opsOf(ops: readonly OpsEventRecord[], type: OpsEventRecord['type']): OpsEventRecord[] {
  return ops.filter((e) => e.type === type);
}

/** Computes the figures of a period. `asOf` is the time the report is made (the uptime's end for a period still running). */
export function computeFigures(ds: ReportDataset, config: Config, asOf: number): ReportFigures {
  const w = ds.window;
  const trades = ds.trades;
  const s = tradeStats(trades);
  const quote = config.backtest.quoteAsset;
  const firstDay = ds.days.find((d) => d.startEquity.isPositive());
  const lastDay = [...ds.days].reverse().find((d) => d.endEquity.isPositive());
  const startEquity = firstDay?.startEquity ?? null;

  // Realized equity curve and its drawdown.
  const base = startEquity ?? Dec.ZERO;
  let eq = base;
  let peak = base;
  let maxDd = Dec.ZERO;
  let maxDdPct: number | null = startEquity ? 0 : null;
  const equity: { time: number; equity: number }[] = [{ time: w.start, equity: base.toNumber() }];
  for (const t of trades) {
    eq = eq.add(t.netPnl);
    equity.push({ time: t.exitTime, equity: eq.toNumber() });
    if (eq.gt(peak)) peak = eq;
    const dd = peak.sub(eq);
    if (dd.gt(maxDd)) maxDd = dd;
    if (startEquity && peak.isPositive()) maxDdPct = Math.max(maxDdPct ?? 0, r4(dd.div(peak).toNumber() * 100));
  }
  equity.push({ time: Math.min(w.end, Math.max(asOf, trades[trades.length - 1]?.exitTime ?? w.start)), equity: eq.toNumber() });

  // PnL buckets: hours of a day, days otherwise.
  const bucketMs = w.period === 'daily' ? 3_600_000 : DAY_MS;
  const pnlBuckets: { label: string; start: number; netPnl: number }[] = [];
  for (let t = w.start; t < w.end; t += bucketMs) {
    const inB = trades.filter((x) => x.exitTime >= t && x.exitTime < t + bucketMs);
    pnlBuckets.push({ label: w.period === 'daily' ? new Date(t).toISOString().slice(11, 13) : dayOf(t).slice(5), start: t, netPnl: Dec.sum(inB.map((x) => x.netPnl)).toNumber() });
  }

  const perDay = w.period === 'daily' ? [] : w.days.map((day) => {
    const t0 = Date.parse(`${day}T00:00:00Z`);
    const st = ds.days.find((d) => d.day === day);
    return { day, ...group(trades.filter((t) => t.exitTime >= t0 && t.exitTime < t0 + DAY_MS)), startEquity: st?.startEquity.toString() ?? null, endEquity: st?.endEquity.toString() ?? null };
  });
  const weeks = new Map<number, ClosedTrade[]>();
  if (w.period === 'monthly') {
    for (let t = isoWeekStart(w.start); t < w.end; t += 7 * DAY_MS) weeks.set(t, []);
    for (const t of trades) weeks.get(isoWeekStart(t.exitTime))?.push(t);
  }
  const perWeek = [...weeks.entries()].map(([t, l]) => ({ week: dayOf(t), ...group(l) }));

  // Risk limits used: the worst day's realized loss against the daily limit, the worst ISO week's against the weekly one.
  let worstDay: string | null = null;
  let worstDayLossPct: number | null = null;
  for (const d of ds.days) {
    if (!d.startEquity.isPositive()) continue;
    const loss = d.realizedPnl.isNegative() ? pctOf(d.realizedPnl.neg(), d.startEquity) ?? 0 : 0;
    if (worstDayLossPct === null || loss > worstDayLossPct) {
      worstDayLossPct = loss;
      worstDay = d.day;
    }
  }
  let worstWeekLossPct: number | null = null;
  const byWeek = new Map<number, Dec>();
  for (const t of trades) byWeek.set(isoWeekStart(t.exitTime), (byWeek.get(isoWeekStart(t.exitTime)) ?? Dec.ZERO).add(t.netPnl));
  for (const [wk, pnl] of byWeek) {
    const st = ds.days.filter((d) => isoWeekStart(Date.parse(`${d.day}T00:00:00Z`)) === wk && d.startEquity.isPositive())[0]?.startEquity;
    if (!st) continue;
    const loss = pnl.isNegative() ? pctOf(pnl.neg(), st) ?? 0 : 0;
    worstWeekLossPct = Math.max(worstWeekLossPct ?? 0, loss);
  }
  if (worstWeekLossPct === null && startEquity) worstWeekLossPct = 0;
  const rp = config.riskProfile;

  // Slippage against the signal price.
  const slips: { id: string; bps: number }[] = [];
  for (const t of trades) {
    const bps = entrySlippageBps(t, signalPriceOf(ds, t.id));
    if (bps !== undefined) slips.push({ id: t.id, bps });
  }
  const worstSlip = slips.reduce<{ id: string; bps: number } | undefined>((a, b) => (a === undefined || b.bps > a.bps ? b : a), undefined);

  const halts = opsOf(ds.ops, 'halt').map((h) => ({
    at: h.at,
    code: h.code ?? 'HALT',
    detail: h.detail,
    lifted: ds.ops.some((l) => l.type === 'halt_lifted' && l.at >= h.at && (l.code === undefined || l.code === h.code)),
  }));
  const byPnl = [...trades].sort((a, b) => a.netPnl.cmp(b.netPnl));
  return {
    period: w.period,
    label: w.label,
    key: w.key,
    start: w.start,
    end: w.end,
    dayBoundary: '00:00 UTC',
    asOf,
    empty: trades.length === 0,
    truncated: ds.truncated,
    quoteAsset: quote,
    trades: s.trades,
    wins: s.wins,
    losses: s.losses,
    winRatePct: s.winRate === null ? null : r4(s.winRate),
    grossPnl: s.grossPnl.toString(),
    fees: s.fees.toString(),
    netPnl: s.netPnl.toString(),
    startEquity: startEquity?.toString() ?? null,
    endEquity: lastDay?.endEquity.toString() ?? null,
    returnPct: startEquity ? pctOf(s.netPnl, startEquity) : null,
    profitFactor: s.profitFactor === null ? null : r4(s.profitFactor),
    expectancy: s.expectancy?.toString() ?? null,
    maxDrawdownPct: maxDdPct,
    maxDrawdown: maxDd.toString(),
    avgHoldMinutes: trades.length ? r4(trades.reduce((n, t) => n + (t.exitTime - t.entryTime), 0) / trades.length / 60_000) : null,
    best: byPnl.length ? ref(byPnl[byPnl.length - 1]!) : null,
    worst: byPnl.length ? ref(byPnl[0]!) : null,
    bySymbol: groupBy(trades, (t) => t.symbol),
    byExitReason: groupBy(trades, (t) => t.exitReason),
    riskLimits: {
      dailyLossLimitPct: rp.dailyLossLimitPct,
      worstDay,
      worstDayLossPct,
      dailyLimitUsedPct: worstDayLossPct === null ? null : r4((worstDayLossPct / rp.dailyLossLimitPct) * 100),
      weeklyLossLimitPct: rp.weeklyLossLimitPct,
      worstWeekLossPct,
      weeklyLimitUsedPct: worstWeekLossPct === null ? null : r4((worstWeekLossPct / rp.weeklyLossLimitPct) * 100),
      maxPositions: rp.maxPositions,
      peakOpenPositions: peakConcurrent(trades),
    },
    halts,
    killSwitch: opsOf(ds.ops, 'kill_switch').map((k) => ({ at: k.at, state: k.code ?? '?', detail: k.detail })),
    anomalies: {
      rejectedOrders: opsOf(ds.ops, 'order_rejected').length,
      stuckOrders: opsOf(ds.ops, 'order_stuck').length,
      recoveries: opsOf(ds.ops, 'recovery').length,
      reconcileRepairs: opsOf(ds.ops, 'reconcile_repair').length,
    },
    slippage: {
      entries: slips.length,
      avgBps: slips.length ? r4(slips.reduce((n, x) => n + x.bps, 0) / slips.length) : null,
      maxBps: worstSlip?.bps ?? null,
      worstTradeId: worstSlip?.id ?? null,
    },
    uptime: uptimeFigures(ds.uptime, w.start, w.end, asOf),
    equity,
    pnlBuckets,
    perDay,
    perWeek,
  };
}
