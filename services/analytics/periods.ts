/**
 * The report's figures beyond the headline summary: returns per UTC day, ISO week and month,
 * drawdown duration, CAGR and Calmar, trade durations, the best and worst trades, results in R
 * and the costs paid. Pure functions over the equity series and the closed trades; JSON-friendly
 * (null where a figure has no defined value).
 */
import { Dec } from '../core/money.js';
import { isoWeekStart, utcDayStart } from '../risk/calendar.js';
import { maxDrawdownPct } from './drawdown.js';
import { DAYS_PER_YEAR, DAY_MS } from './returns.js';
import { RATIO_DECIMALS, moneyNumber, ratio, roundTo } from './round.js';
import type { ClosedTrade, EquityPoint } from './types.js';

export type Period = 'day' | 'week' | 'month';

/** One period's return: equity at its end over equity at the previous period's end (the run's start for the first). */
export interface PeriodReturn {
  /** yyyy-mm-dd of the day, of the week's Monday (ISO weeks, UTC), or yyyy-mm of the month. */
  readonly period: string;
  readonly startEquity: number;
  readonly endEquity: number;
  readonly returnPct: number | null;
}

function monthStart(t: number): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function labelOf(start: number, period: Period): string {
  const iso = new Date(start).toISOString();
  return period === 'month' ? iso.slice(0, 7) : iso.slice(0, 10);
}

/**
 * Returns per period. A sample at exactly a period's start closes the previous period (as the
 * daily returns of returns.ts). Periods without samples inside the run are listed with 0%.
 */
export function periodReturns(points: readonly EquityPoint[], period: Period): PeriodReturn[] {
  const first = points[0];
  if (first === undefined) return [];
  const startOf = period === 'day' ? utcDayStart : period === 'week' ? isoWeekStart : monthStart;
  const next = (s: number): number => (period === 'day' ? s + DAY_MS : period === 'week' ? s + 7 * DAY_MS : monthStart(s + 32 * DAY_MS));
  // The period a sample closes: at a boundary, the one before it.
  const closes = (t: number): number => startOf(t - 1);
  const out: PeriodReturn[] = [];
  // The first sample opens the run: it belongs to the period it falls in.
  let cur = startOf(first.time);
  let startEquity = first.equity;
  let endEquity = first.equity;
  const push = (): void => {
    out.push({ period: labelOf(cur, period), startEquity, endEquity, returnPct: startEquity > 0 ? ratio((endEquity / startEquity - 1) * 100) : null });
  };
  for (let i = 1; i < points.length; i++) {
    const p = points[i] as EquityPoint;
    const k = closes(p.time);
    while (k > cur) {
      push();
      startEquity = endEquity;
      cur = next(cur);
    }
    endEquity = p.equity;
  }
  push();
  return out;
}

/** The longest stretch under water: from a peak until equity is back at it (or the run ends). */
export interface DrawdownDuration {
  /** Longest time below a previous peak, ms. */
  readonly maxMs: number;
  /** ISO times of its peak and of the recovery (or the last sample). */
  readonly from: string | null;
  readonly to: string | null;
  /** False when the run ended still below that peak. */
  readonly recovered: boolean;
  /** Time under water at the end of the run, ms (0 at a high). */
  readonly currentMs: number;
}

export function drawdownDuration(points: readonly EquityPoint[]): DrawdownDuration {
  let peak = -Infinity;
  let peakTime = 0;
  let below = false;
  let best = { ms: 0, from: 0, to: 0, recovered: true };
  for (const p of points) {
    if (p.equity >= peak) {
      if (below && p.time - peakTime > best.ms) best = { ms: p.time - peakTime, from: peakTime, to: p.time, recovered: true };
      peak = p.equity;
      peakTime = p.time;
      below = false;
    } else below = true;
  }
  const last = points[points.length - 1];
  const currentMs = last && below ? last.time - peakTime : 0;
  if (last && currentMs > best.ms) best = { ms: currentMs, from: peakTime, to: last.time, recovered: false };
  const iso = (t: number): string => new Date(t).toISOString();
  return { maxMs: best.ms, from: best.ms > 0 ? iso(best.from) : null, to: best.ms > 0 ? iso(best.to) : null, recovered: best.recovered, currentMs };
}

/**
 * Compound annual growth rate, percent: (final / initial)^(365 days / span) - 1. Null for a span
 * under one day (annualising hours says nothing) or a non-positive balance. A span of weeks
 * annualises a few weeks' luck: read it with the span.
 */
export function cagrPct(initial: number, final: number, spanMs: number): number | null {
  if (!(initial > 0) || !(final > 0) || !(spanMs >= DAY_MS)) return null;
  return (Math.pow(final / initial, (DAYS_PER_YEAR * DAY_MS) / spanMs) - 1) * 100;
}

/** Calmar ratio: CAGR / maximum drawdown (both percent); null without a drawdown or a CAGR. */
export function calmarRatio(cagr: number | null, maxDdPct: number): number | null {
  return cagr === null || !(maxDdPct > 0) ? null : cagr / maxDdPct;
}

/** A trade as the report names it. */
export interface TradeRef {
  readonly id: string;
  readonly symbol: string;
  readonly exitTime: string;
  readonly netPnl: number;
  readonly returnPct: number;
  readonly rMultiple: number | null;
  readonly exitReason: string;
}

function ref(t: ClosedTrade): TradeRef {
  return {
    id: t.id,
    symbol: t.symbol,
    exitTime: new Date(t.exitTime).toISOString(),
    netPnl: moneyNumber(t.netPnl),
    returnPct: roundTo(t.returnPct, RATIO_DECIMALS),
    rMultiple: ratio(t.plan?.rMultiple ?? null),
    exitReason: t.exitReason,
  };
}

/** Everything the report adds to the summary (summary.json keeps it beside the headline fields). */
export interface ExtendedSummary {
  readonly returns: { readonly daily: PeriodReturn[]; readonly weekly: PeriodReturn[]; readonly monthly: PeriodReturn[] };
  readonly cagrPct: number | null;
  readonly calmar: number | null;
  readonly drawdownDuration: DrawdownDuration;
  /** Minutes from first entry fill to last exit fill; nulls without trades. */
  readonly tradeDuration: { readonly meanMin: number | null; readonly medianMin: number | null; readonly maxMin: number | null; readonly minMin: number | null };
  readonly bestTrade: TradeRef | null;
  readonly worstTrade: TradeRef | null;
  /** Results in R (net PnL / initial risk) over the trades that carry a plan. */
  readonly r: { readonly trades: number; readonly mean: number | null; readonly total: number | null; readonly meanMfe: number | null; readonly meanMae: number | null };
  /** Costs paid over all trades (quote): fees, and slippage against the decision prices where measured. */
  readonly costsPaid: { readonly fees: number; readonly entryFees: number; readonly exitFees: number; readonly entrySlippage: number; readonly exitSlippage: number };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** See ExtendedSummary. `initial`/`final` are the balances, `start`/`end` the run's span. */
export function extendedSummary(input: { readonly equity: readonly EquityPoint[]; readonly trades: readonly ClosedTrade[]; readonly initial: number; readonly final: number; readonly start: number; readonly end: number }): ExtendedSummary {
  const { equity, trades } = input;
  const cagr = cagrPct(input.initial, input.final, input.end - input.start);
  const durations = trades.map((t) => (t.exitTime - t.entryTime) / 60_000);
  let best: ClosedTrade | null = null;
  let worst: ClosedTrade | null = null;
  let fees = Dec.ZERO;
  let entryFees = Dec.ZERO;
  let exitFees = Dec.ZERO;
  let entrySlip = Dec.ZERO;
  let exitSlip = Dec.ZERO;
  const rs: number[] = [];
  const mfes: number[] = [];
  const maes: number[] = [];
  for (const t of trades) {
    if (best === null || t.netPnl.gt(best.netPnl)) best = t;
    if (worst === null || t.netPnl.lt(worst.netPnl)) worst = t;
    fees = fees.add(t.fees);
    const p = t.plan;
    if (!p) continue;
    entryFees = entryFees.add(p.entryFees);
    exitFees = exitFees.add(p.exitFees);
    entrySlip = entrySlip.add(p.entrySlippage);
    exitSlip = exitSlip.add(p.exitSlippage);
    if (p.rMultiple !== null) rs.push(p.rMultiple);
    const entry = t.entryPrice.toNumber();
    const unit = entry - p.stop.toNumber();
    if (unit > 0 && Number.isFinite(p.highPrice) && Number.isFinite(p.lowPrice)) {
      mfes.push(Math.max(0, p.highPrice - entry) / unit);
      maes.push(Math.max(0, entry - p.lowPrice) / unit);
    }
  }
  const avg = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const dd = maxDrawdownPct(equity);
  return {
    returns: { daily: periodReturns(equity, 'day'), weekly: periodReturns(equity, 'week'), monthly: periodReturns(equity, 'month') },
    cagrPct: ratio(cagr),
    calmar: ratio(calmarRatio(cagr, dd)),
    drawdownDuration: drawdownDuration(equity),
    tradeDuration: {
      meanMin: ratio(avg(durations)),
      medianMin: ratio(median(durations)),
      maxMin: durations.length ? ratio(Math.max(...durations)) : null,
      minMin: durations.length ? ratio(Math.min(...durations)) : null,
    },
    bestTrade: best ? ref(best) : null,
    worstTrade: worst ? ref(worst) : null,
    r: { trades: rs.length, mean: ratio(avg(rs)), total: rs.length ? ratio(rs.reduce((a, b) => a + b, 0)) : null, meanMfe: ratio(avg(mfes)), meanMae: ratio(avg(maes)) },
    costsPaid: { fees: moneyNumber(fees), entryFees: moneyNumber(entryFees), exitFees: moneyNumber(exitFees), entrySlippage: moneyNumber(entrySlip), exitSlippage: moneyNumber(exitSlip) },
  };
}
