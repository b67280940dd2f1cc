/**
 * The dashboard's document: the status (positions, risk, health, kill switch, recent trades), the
 * charts (candles, levels, markers per symbol), the equity curve with its drawdown, and today's and
 * this week's figures from the daily stats. Built by the runtime every push (locally) and stored
 * as the status snapshot (for the dashboard Lambda), so both pages read the same document.
 */
import type { DailyStatsRecord, PublicationRecord } from '../state/types.js';
import { utcDayOf } from '../state/types.js';
import { DAY_MS } from '../core/timeframes.js';
import type { RuntimeStatus } from '../live/status.js';
import { drawdownOf, type EquityPoint, type SymbolChart } from './chartFeed.js';

export interface PeriodStats {
  readonly trades: number;
  readonly wins: number;
  readonly winRatePct: number | null;
  readonly netPnl: string;
  readonly fees: string;
}

/** One published report or review, as the page lists it. */
export interface DashboardReport {
  readonly kind: 'report' | 'review';
  readonly period: 'daily' | 'weekly' | 'monthly';
  readonly label: string;
  readonly at: number;
  readonly atIso: string;
  readonly headline: string;
  /** The page's key in the artifact store. */
  readonly path: string;
}

/** The page's rows of the publication records, newest first. */
export function dashboardReports(list: readonly PublicationRecord[]): DashboardReport[] {
  return [...list].sort((a, b) => b.at - a.at).map((p) => ({ kind: p.kind, period: p.period, label: p.label, at: p.at, atIso: new Date(p.at).toISOString(), headline: p.headline, path: p.path }));
}

export interface DashboardData {
  readonly generatedAt: number;
  readonly generatedAtIso: string;
  readonly status: RuntimeStatus;
  readonly charts: readonly SymbolChart[];
  readonly equity: readonly EquityPoint[];
  readonly drawdown: { readonly peak: number; readonly drawdownPct: number; readonly maxDrawdownPct: number } | null;
  readonly stats: { readonly today: PeriodStats | null; readonly week: PeriodStats | null };
  /** The latest report and review of each period (the state table's publication records), newest first. */
  readonly reports: readonly DashboardReport[];
  /** Whether the page may show the pause and resume buttons (local only). */
  readonly controls: boolean;
}

function sum(days: readonly DailyStatsRecord[], quoteDp: number): PeriodStats | null {
  if (days.length === 0) return null;
  let trades = 0;
  let wins = 0;
  let net = days[0]!.realizedPnl.sub(days[0]!.realizedPnl);
  let fees = net;
  for (const d of days) {
    trades += d.trades;
    wins += d.wins;
    net = net.add(d.realizedPnl);
    fees = fees.add(d.fees);
  }
  return { trades, wins, winRatePct: trades ? (wins / trades) * 100 : null, netPnl: net.toFixed(quoteDp), fees: fees.toFixed(quoteDp) };
}

/** Today's and this ISO week's stats (Monday 00:00 UTC on), from daily stats of at least the last 7 days. */
export function periodStats(days: readonly DailyStatsRecord[], now: number, quoteDp: number): DashboardData['stats'] {
  const today = utcDayOf(now);
  const dayStart = Date.parse(`${today}T00:00:00Z`);
  const monday = utcDayOf(dayStart - ((new Date(dayStart).getUTCDay() + 6) % 7) * DAY_MS);
  return { today: sum(days.filter((d) => d.day === today), quoteDp), week: sum(days.filter((d) => d.day >= monday && d.day <= today), quoteDp) };
}

export function buildDashboardData(input: {
  readonly now: number;
  readonly status: RuntimeStatus;
  readonly charts: readonly SymbolChart[];
  readonly equity: readonly EquityPoint[];
  readonly days: readonly DailyStatsRecord[];
  readonly quoteDp: number;
  readonly controls: boolean;
  readonly publications?: readonly PublicationRecord[];
}): DashboardData {
  return {
    generatedAt: input.now,
    generatedAtIso: new Date(input.now).toISOString(),
    status: input.status,
    charts: input.charts,
    equity: input.equity,
    drawdown: drawdownOf(input.equity),
    // The days of the stats are market days (a replay runs ahead of the wall clock): "today" is the market's.
    stats: periodStats(input.days, input.status.risk.asOf ?? input.status.now, input.quoteDp),
    reports: dashboardReports(input.publications ?? []),
    controls: input.controls,
  };
}
