/**
 * What a Monte Carlo scenario is scored on: the path of account equity through time, and the
 * sequence of trade results. Return, maximum drawdown, time under water (the share of the time
 * the account sits below its previous peak, and the longest such stretch), the longest losing
 * streak, and whether the path reaches the risk engine's own limits: the daily and weekly loss
 * limits (from the day's or ISO week's starting equity, as services/risk/engine.ts measures them)
 * and a halt (the daily drawdown halt, or the consecutive stop-loss halt).
 */
import type { Config } from '../../config/schema.js';
import { DAY_MS, isoWeekStart, utcDayStart } from '../../risk/calendar.js';

export interface RiskLimits {
  readonly dailyLossPct: number;
  readonly weeklyLossPct: number;
  readonly haltDailyDrawdownPct: number;
  readonly haltConsecutiveStops: number;
}

/** The limits of a config's risk section (its profile's numbers after overrides). */
export function riskLimitsOf(cfg: Config): RiskLimits {
  return {
    dailyLossPct: cfg.riskProfile.dailyLossLimitPct,
    weeklyLossPct: cfg.riskProfile.weeklyLossLimitPct,
    haltDailyDrawdownPct: cfg.risk.haltDailyDrawdownPct,
    haltConsecutiveStops: cfg.risk.haltConsecutiveStops,
  };
}

export interface LimitHits {
  readonly daily: boolean;
  readonly weekly: boolean;
  readonly halt: boolean;
}

export interface PathStats {
  readonly returnPct: number;
  readonly maxDrawdownPct: number;
  /** Percent of the path's duration spent below the running peak. */
  readonly timeUnderWaterPct: number;
  /** Longest stretch below the running peak, days. */
  readonly longestUnderWaterDays: number;
  readonly longestLosingStreak: number;
  readonly hits: LimitHits;
}

/**
 * Scores a path: `times` ascending (epoch ms), `equity` the account value at each (the first is
 * the start), `results` the sequence of trade (or day) results for the losing streak, and
 * `stops` whether each was a stop-loss exit (for the consecutive-stops halt; null: not known).
 */
export function pathStats(times: ArrayLike<number>, equity: ArrayLike<number>, results: ArrayLike<number>, stops: ArrayLike<boolean> | null, limits: RiskLimits): PathStats {
  const n = equity.length;
  const first = equity[0] as number;
  let peak = first;
  let peakTime = times[0] as number;
  let worst = 0;
  let under = 0;
  let longest = 0;
  let day = utcDayStart(times[0] as number);
  let dayStart = first;
  let week = isoWeekStart(times[0] as number);
  let weekStart = first;
  let daily = false;
  let weekly = false;
  let halt = false;
  let prev = first;
  for (let i = 1; i < n; i++) {
    const t = times[i] as number;
    const e = equity[i] as number;
    const dt = t - (times[i - 1] as number);
    // Time below the peak counts from the previous sample (the account was under water all along).
    if (prev < peak) under += dt;
    const d = utcDayStart(t);
    if (d !== day) {
      day = d;
      dayStart = prev;
    }
    const w = isoWeekStart(t);
    if (w !== week) {
      week = w;
      weekStart = prev;
    }
    if (e <= dayStart * (1 - limits.dailyLossPct / 100)) daily = true;
    if (e <= weekStart * (1 - limits.weeklyLossPct / 100)) weekly = true;
    if (e <= dayStart * (1 - limits.haltDailyDrawdownPct / 100)) halt = true;
    if (e > peak) {
      peak = e;
      peakTime = t;
    } else if (peak > 0) {
      const dd = (peak - e) / peak;
      if (dd > worst) worst = dd;
      if (e < peak && t - peakTime > longest) longest = t - peakTime;
    }
    prev = e;
  }
  let streak = 0;
  let maxStreak = 0;
  for (let i = 0; i < results.length; i++) {
    if ((results[i] as number) < 0) {
      if (++streak > maxStreak) maxStreak = streak;
    } else streak = 0;
  }
  if (stops) {
    let s = 0;
    for (let i = 0; i < stops.length; i++) {
      if (stops[i] && (results[i] as number) < 0) {
        if (++s >= limits.haltConsecutiveStops) halt = true;
      } else s = 0;
    }
  }
  const span = (times[n - 1] as number) - (times[0] as number);
  return {
    returnPct: first > 0 ? ((equity[n - 1] as number) / first - 1) * 100 : 0,
    maxDrawdownPct: worst * 100,
    timeUnderWaterPct: span > 0 ? (under / span) * 100 : 0,
    longestUnderWaterDays: longest / DAY_MS,
    longestLosingStreak: maxStreak,
    hits: { daily, weekly, halt },
  };
}

export interface Distribution {
  readonly p5: number;
  readonly p50: number;
  readonly p95: number;
  readonly mean: number;
}

export interface ScenarioSummary {
  /** Scenarios scored. */
  readonly scenarios: number;
  readonly returnPct: Distribution;
  readonly maxDrawdownPct: Distribution;
  readonly timeUnderWaterPct: Distribution;
  readonly longestUnderWaterDays: Distribution;
  readonly longestLosingStreak: Distribution;
  /** Share of scenarios reaching each limit, and any of them (risk of ruin by the engine's own limits). */
  readonly riskOfRuin: { readonly daily: number; readonly weekly: number; readonly halt: number; readonly any: number };
}

function dist(xs: Float64Array): Distribution {
  const s = Float64Array.from(xs).sort();
  const q = (p: number): number => {
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    const hi = Math.min(s.length - 1, lo + 1);
    return (s[lo] as number) + (h - lo) * ((s[hi] as number) - (s[lo] as number));
  };
  let m = 0;
  for (const x of s) m += x;
  const r = (x: number): number => Math.round(x * 1e4) / 1e4;
  return { p5: r(q(0.05)), p50: r(q(0.5)), p95: r(q(0.95)), mean: r(m / (s.length || 1)) };
}

/** Percentiles (5th, 50th, 95th, linear between order statistics) and limit frequencies over scenarios. */
export function summarise(stats: readonly PathStats[]): ScenarioSummary {
  const col = (f: (s: PathStats) => number): Float64Array => Float64Array.from(stats, f);
  const share = (f: (s: PathStats) => boolean): number => Math.round((stats.filter(f).length / (stats.length || 1)) * 1e4) / 1e4;
  return {
    scenarios: stats.length,
    returnPct: dist(col((s) => s.returnPct)),
    maxDrawdownPct: dist(col((s) => s.maxDrawdownPct)),
    timeUnderWaterPct: dist(col((s) => s.timeUnderWaterPct)),
    longestUnderWaterDays: dist(col((s) => s.longestUnderWaterDays)),
    longestLosingStreak: dist(col((s) => s.longestLosingStreak)),
    riskOfRuin: { daily: share((s) => s.hits.daily), weekly: share((s) => s.hits.weekly), halt: share((s) => s.hits.halt), any: share((s) => s.hits.daily || s.hits.weekly || s.hits.halt) },
  };
}
