/**
 * The risk engine: approves, resizes or rejects each entry the strategy proposes, and halts trading
 * when the account or the market misbehaves.
 *
 * It holds only risk STATE (day/week start equity, the day's trade counts, the stop-loss streak,
 * symbol cooldowns, the halt, rolling price windows); the account is passed in on every call. The
 * state is plain JSON (`toState()` / `RiskEngine.fromState`) so the hot path can persist it.
 *
 * Calendar. A "day" is a UTC day; a "week" is an ISO week starting Monday 00:00 UTC. The first call
 * that carries a time and an equity in a new day (onTime, onTradeClosed or evaluate) rolls the day:
 * its start equity becomes that equity and the day's counters reset. The week rolls the same way.
 *
 * Halts (no entry on any symbol):
 * - HALTED_DAILY_DRAWDOWN: equity <= day start x (1 - haltDailyDrawdownPct/100). Fires at most once
 *   per day (so a manual resume holds) and lifts at the next 00:00 UTC.
 * - HALTED_CONSECUTIVE_STOPS: haltConsecutiveStops losing stop-loss exits in a row. The streak spans
 *   days (two stops before midnight and one after are three in a row), but the halt, like the other
 *   daily ones, lifts at the next 00:00 UTC, and a streak at the maximum is cleared when a halt lifts
 *   so trading restarts with a fresh count.
 * - HALTED_LOW_WIN_RATE: after a close, the day has >= haltWinRateMinTrades trades and
 *   wins/trades < haltMinWinRatePct%. Lifts at the next 00:00 UTC. It is checked at every close, so
 *   after a manual resume it fires again at the next close while the day's rate is still too low.
 * - HALTED_ABNORMAL_VOLATILITY: a symbol's (max - min) / min over the last abnormalMoveWindowMinutes
 *   exceeds abnormalMovePct%. Lifts one window after the move was seen; the symbol's window is
 *   cleared on the trigger, so only new prices can raise it again.
 * One halt is held at a time: a new trigger replaces the current halt only if it lifts later.
 * `manualResume()` lifts any halt at once.
 *
 * Loss limits (not halts, they only block new entries): equity <= day start x (1 - dailyLossLimitPct
 * /100) blocks entries until the next UTC day (DAILY_LOSS_LIMIT); likewise the week with
 * weeklyLossLimitPct until next Monday (WEEKLY_LOSS_LIMIT), and the UTC month with monthlyLossLimitPct
 * until the 1st (MONTHLY_LOSS_LIMIT). Exactly at the limit counts as reached.
 *
 * evaluate() checks, returning the first failure: (1) halts; (2) daily, weekly and monthly loss limits,
 * max open positions; (3) already in a position on the symbol, symbol cooldown; (4) sizing: stop
 * validity, balance, caps and minimum notional (see sizing.ts).
 */
import { Dec } from '../core/money.js';
import { DataValidationError } from '../core/errors.js';
import type { SymbolId } from '../core/types.js';
import { DAY_MS, MINUTE_MS, isoWeekStart, nextUtcMonthStart, utcDayStart, utcMonthStart } from './calendar.js';
import { MinMaxWindow } from './priceWindow.js';
import { openNotional, percentOf, sizeEntry, sizingParams, type SizingParams } from './sizing.js';
import { parseRiskState } from './state.js';
import type {
  HaltReason,
  HaltState,
  EntryProposal,
  RiskAccount,
  RiskDecision,
  RiskEngineConfig,
  RiskState,
  RiskStatus,
  TradeClosedEvent,
} from './types.js';

const HUNDRED = Dec.from(100);

interface Day {
  start: number;
  startEquity: Dec;
  trades: number;
  wins: number;
  losses: number;
  lossLimitHit: boolean;
  drawdownHaltFired: boolean;
  /** Equity at or below which the daily loss limit is reached (derived from config, not persisted). */
  lossFloor: Dec;
  /** Equity at or below which the drawdown halt fires. */
  drawdownFloor: Dec;
}

interface Week {
  start: number;
  startEquity: Dec;
  lossLimitHit: boolean;
  lossFloor: Dec;
}

/** `equity` minus `pct` percent of it: the equity at which a loss of `pct`% is reached. */
function floorBelow(equity: Dec, pct: Dec): Dec {
  return equity.sub(percentOf(equity, pct));
}

/** Loss from `start` to `equity` in percent of `start`, 0 when not down (for display). */
function lossPct(start: Dec, equity: Dec): number {
  if (!start.isPositive() || equity.gte(start)) return 0;
  return start.sub(equity).mul(HUNDRED).div(start).toNumber();
}

function checkTime(where: string, time: number): void {
  if (!Number.isFinite(time)) throw new DataValidationError(`RiskEngine.${where}: time must be finite epoch milliseconds, got ${time}`);
}

/** Risk decisions and halts; see the file comment for the rules and their order. */
export class RiskEngine {
  private readonly config: RiskEngineConfig;
  private readonly sizing: SizingParams;
  private readonly dailyLossPct: Dec;
  private readonly weeklyLossPct: Dec;
  private readonly monthlyLossPct: Dec;
  private readonly drawdownPct: Dec;
  private readonly cooldownMs: number;
  private readonly windowMs: number;

  private lastTime: number | null = null;
  private day: Day | null = null;
  private week: Week | null = null;
  private month: Week | null = null;
  private consecutiveStops = 0;
  private readonly cooldownUntil = new Map<string, number>();
  private halt: HaltState = { halted: false };
  private readonly windows = new Map<string, MinMaxWindow>();

  /** A fresh engine: no history, not halted. */
  constructor(config: RiskEngineConfig) {
    this.config = config;
    this.sizing = sizingParams(config);
    this.dailyLossPct = Dec.from(config.riskProfile.dailyLossLimitPct);
    this.weeklyLossPct = Dec.from(config.riskProfile.weeklyLossLimitPct);
    this.monthlyLossPct = Dec.from(config.riskProfile.monthlyLossLimitPct);
    this.drawdownPct = Dec.from(config.risk.haltDailyDrawdownPct);
    this.cooldownMs = config.risk.symbolCooldownMinutes * MINUTE_MS;
    this.windowMs = config.risk.abnormalMoveWindowMinutes * MINUTE_MS;
  }

  /**
   * Restores an engine from `toState()` output (after a JSON round trip). Limits are recomputed from
   * `config`, so a changed profile applies to the restored day. Throws DataValidationError for a
   * state that does not have the expected shape.
   */
  static fromState(config: RiskEngineConfig, state: unknown): RiskEngine {
    const s = parseRiskState(state);
    const engine = new RiskEngine(config);
    engine.lastTime = s.lastTime;
    if (s.day) engine.day = engine.newDay(s.day.start, Dec.from(s.day.startEquity), s.day);
    if (s.week) engine.week = engine.newWeek(s.week.start, Dec.from(s.week.startEquity), s.week.lossLimitHit);
    if (s.month) engine.month = engine.newMonth(s.month.start, Dec.from(s.month.startEquity), s.month.lossLimitHit);
    engine.consecutiveStops = s.consecutiveStops;
    for (const [symbol, until] of Object.entries(s.cooldownUntil)) engine.cooldownUntil.set(symbol, until);
    engine.halt = s.halt;
    for (const [symbol, w] of Object.entries(s.priceWindows)) engine.windows.set(symbol, new MinMaxWindow(w));
    return engine;
  }

  /** The whole state as plain JSON, for persistence. */
  toState(): RiskState {
    const d = this.day;
    const w = this.week;
    const priceWindows: RiskState['priceWindows'] = {};
    for (const [symbol, win] of this.windows) priceWindows[symbol] = win.toState();
    return {
      version: 1,
      lastTime: this.lastTime,
      day: d
        ? { start: d.start, startEquity: d.startEquity.toString(), trades: d.trades, wins: d.wins, losses: d.losses, lossLimitHit: d.lossLimitHit, drawdownHaltFired: d.drawdownHaltFired }
        : null,
      week: w ? { start: w.start, startEquity: w.startEquity.toString(), lossLimitHit: w.lossLimitHit } : null,
      month: this.month ? { start: this.month.start, startEquity: this.month.startEquity.toString(), lossLimitHit: this.month.lossLimitHit } : null,
      consecutiveStops: this.consecutiveStops,
      cooldownUntil: Object.fromEntries(this.cooldownUntil),
      halt: { ...this.halt },
      priceWindows,
    };
  }

  /** The current halt (it may have expired if no call with a later time has been made since). */
  haltState(): HaltState {
    return this.halt;
  }

  /**
   * Advances the clock: rolls the UTC day and ISO week (the first equity seen in each becomes its
   * start equity), lifts expired halts, and checks equity against the loss limits and the drawdown
   * halt. Call it on every closed candle (or at least once a minute) with the marked-to-market equity.
   */
  onTime(time: number, equity: Dec): void {
    checkTime('onTime', time);
    this.advance(time, equity);
  }

  /**
   * Feeds a price (a closed 1m candle's close, say) to the abnormal-volatility check of `symbol`.
   * O(1) amortised, no allocation in the common case. Prices must not go back in time per symbol.
   */
  onPrice(symbol: SymbolId, time: number, price: number): void {
    let win = this.windows.get(symbol);
    if (win === undefined) {
      win = new MinMaxWindow();
      this.windows.set(symbol, win);
    }
    win.push(time, price, this.windowMs);
    if (this.lastTime === null || time > this.lastTime) this.lastTime = time;
    this.liftExpiredHalt(time);
    const min = win.min();
    const max = win.max();
    // (max - min) / min > pct / 100, multiplied out so round numbers compare exactly.
    if ((max - min) * 100 > min * this.config.risk.abnormalMovePct) {
      const movePct = ((max - min) / min) * 100;
      this.raiseHalt(
        'HALTED_ABNORMAL_VOLATILITY',
        time,
        time + this.windowMs,
        `${symbol} moved ${movePct.toFixed(2)}% (low ${min}, high ${max}) within ${this.config.risk.abnormalMoveWindowMinutes} minutes; limit ${this.config.risk.abnormalMovePct}%`,
      );
      win.clear();
    }
  }

  /**
   * Records a closed trade: day counts, the stop-loss streak (a losing 'stop' exit extends it, a
   * winning trade of any kind resets it, other exits leave it), the symbol's cooldown, and the halts
   * (drawdown and loss limits from `equityAfter`, the streak, the win-rate floor).
   */
  onTradeClosed(event: TradeClosedEvent): void {
    checkTime('onTradeClosed', event.time);
    const { symbol, time, pnl } = event;
    const day = this.advance(time, event.equityAfter);
    day.trades++;
    if (pnl.isPositive()) {
      day.wins++;
      this.consecutiveStops = 0;
    } else if (pnl.isNegative()) {
      day.losses++;
      if (event.exitReason === 'stop') this.consecutiveStops++;
    }
    if (this.cooldownMs > 0) {
      const until = time + this.cooldownMs;
      const current = this.cooldownUntil.get(symbol);
      if (current === undefined || until > current) this.cooldownUntil.set(symbol, until);
    }
    const nextDay = day.start + DAY_MS;
    const r = this.config.risk;
    if (this.consecutiveStops >= r.haltConsecutiveStops) {
      this.raiseHalt('HALTED_CONSECUTIVE_STOPS', time, nextDay, `${this.consecutiveStops} losing stop-loss exits in a row (limit ${r.haltConsecutiveStops}), last on ${symbol}`);
    }
    if (day.trades >= r.haltWinRateMinTrades && day.wins * 100 < day.trades * r.haltMinWinRatePct) {
      this.raiseHalt(
        'HALTED_LOW_WIN_RATE',
        time,
        nextDay,
        `win rate ${((day.wins / day.trades) * 100).toFixed(2)}% (${day.wins}/${day.trades}) is below ${r.haltMinWinRatePct}%`,
      );
    }
  }

  /**
   * Approves (possibly resized) or rejects an entry. First advances the clock to `proposal.time`
   * with `account.equity`, exactly like onTime, so a missed onTime cannot leave stale day limits.
   * Checks in the order given in the file comment and returns the first rejection.
   */
  evaluate(proposal: EntryProposal, account: RiskAccount): RiskDecision {
    const { symbol, time } = proposal;
    checkTime('evaluate', time);
    const day = this.advance(time, account.equity);
    const week = this.week as Week;
    const month = this.month as Week;

    const halt = this.halt;
    if (halt.halted) {
      const until = halt.until === undefined ? 'until resumed' : `until ${new Date(halt.until).toISOString()}`;
      return { kind: 'rejected', reason: halt.reason, detail: `${halt.detail}; halted ${until}` };
    }

    if (day.lossLimitHit) {
      return {
        kind: 'rejected',
        reason: 'DAILY_LOSS_LIMIT',
        detail: `daily loss limit ${this.config.riskProfile.dailyLossLimitPct}% of day-start equity ${day.startEquity.toString()} reached (floor ${day.lossFloor.toString()}); equity now ${account.equity.toString()}`,
      };
    }
    if (week.lossLimitHit) {
      return {
        kind: 'rejected',
        reason: 'WEEKLY_LOSS_LIMIT',
        detail: `weekly loss limit ${this.config.riskProfile.weeklyLossLimitPct}% of week-start equity ${week.startEquity.toString()} reached (floor ${week.lossFloor.toString()}); equity now ${account.equity.toString()}`,
      };
    }
    if (month.lossLimitHit) {
      return {
        kind: 'rejected',
        reason: 'MONTHLY_LOSS_LIMIT',
        detail: `monthly loss limit ${this.config.riskProfile.monthlyLossLimitPct}% of month-start equity ${month.startEquity.toString()} reached (floor ${month.lossFloor.toString()}); equity now ${account.equity.toString()}; entries resume ${new Date(nextUtcMonthStart(time)).toISOString()}`,
      };
    }
    const maxPositions = this.config.riskProfile.maxPositions;
    if (account.openPositions.length >= maxPositions) {
      return { kind: 'rejected', reason: 'MAX_POSITIONS', detail: `${account.openPositions.length} positions open, maximum ${maxPositions}` };
    }

    if (account.openPositions.some((p) => p.symbol === symbol)) {
      return { kind: 'rejected', reason: 'ALREADY_IN_POSITION', detail: `a position on ${symbol} is already open` };
    }
    const cooldown = this.cooldownUntil.get(symbol);
    if (cooldown !== undefined && time < cooldown) {
      return { kind: 'rejected', reason: 'SYMBOL_COOLDOWN', detail: `${symbol} cools down until ${new Date(cooldown).toISOString()}` };
    }

    return sizeEntry(proposal, account, this.sizing);
  }

  /** Lifts the current halt (an operator action). Returns false when there was none. */
  manualResume(): boolean {
    if (!this.halt.halted) return false;
    this.liftHalt();
    return true;
  }

  /** How close each limit is, from the current state and `account`. Does not change the state. */
  status(account: RiskAccount): RiskStatus {
    const day = this.day;
    const week = this.week;
    const r = this.config.risk;
    const p = this.config.riskProfile;
    const halt = this.halt;
    const equity = account.equity;
    const exposure = openNotional(account);
    const dayLoss = day ? lossPct(day.startEquity, equity) : 0;
    const asOf = this.lastTime;
    const cooldowns: { symbol: string; until: number }[] = [];
    for (const [symbol, until] of this.cooldownUntil) if (asOf === null || until > asOf) cooldowns.push({ symbol, until });
    return {
      asOf,
      halted: halt.halted,
      haltReason: halt.halted ? halt.reason : null,
      haltSince: halt.halted ? halt.since : null,
      haltUntil: halt.halted ? (halt.until ?? null) : null,
      haltDetail: halt.halted ? halt.detail : null,
      dailyLoss: {
        usedPct: dayLoss,
        limitPct: p.dailyLossLimitPct,
        blocked: day !== null && (day.lossLimitHit || equity.lte(day.lossFloor)),
        dayStart: day?.start ?? null,
        dayStartEquity: day?.startEquity.toString() ?? null,
      },
      weeklyLoss: {
        usedPct: week ? lossPct(week.startEquity, equity) : 0,
        limitPct: p.weeklyLossLimitPct,
        blocked: week !== null && (week.lossLimitHit || equity.lte(week.lossFloor)),
        weekStart: week?.start ?? null,
        weekStartEquity: week?.startEquity.toString() ?? null,
      },
      monthlyLoss: {
        usedPct: this.month ? lossPct(this.month.startEquity, equity) : 0,
        limitPct: p.monthlyLossLimitPct,
        blocked: this.month !== null && (this.month.lossLimitHit || equity.lte(this.month.lossFloor)),
        monthStart: this.month?.start ?? null,
        monthStartEquity: this.month?.startEquity.toString() ?? null,
      },
      dailyDrawdown: { usedPct: dayLoss, haltPct: r.haltDailyDrawdownPct },
      consecutiveStops: { count: this.consecutiveStops, max: r.haltConsecutiveStops },
      winRate: {
        trades: day?.trades ?? 0,
        wins: day?.wins ?? 0,
        losses: day?.losses ?? 0,
        ratePct: day && day.trades > 0 ? (day.wins / day.trades) * 100 : null,
        floorPct: r.haltMinWinRatePct,
        minTrades: r.haltWinRateMinTrades,
      },
      openPositions: { count: account.openPositions.length, max: p.maxPositions },
      exposure: {
        notional: exposure.toString(),
        cap: percentOf(equity, this.sizing.maxTotalExposurePct).toString(),
        usedPct: equity.isPositive() ? exposure.mul(HUNDRED).div(equity).toNumber() : 0,
        capPct: r.maxTotalExposurePct,
      },
      cooldowns,
    };
  }

  // ---- internals -------------------------------------------------------------------------------

  private newDay(start: number, startEquity: Dec, counts?: Pick<Day, 'trades' | 'wins' | 'losses' | 'lossLimitHit' | 'drawdownHaltFired'>): Day {
    return {
      start,
      startEquity,
      trades: counts?.trades ?? 0,
      wins: counts?.wins ?? 0,
      losses: counts?.losses ?? 0,
      lossLimitHit: counts?.lossLimitHit ?? false,
      drawdownHaltFired: counts?.drawdownHaltFired ?? false,
      lossFloor: floorBelow(startEquity, this.dailyLossPct),
      drawdownFloor: floorBelow(startEquity, this.drawdownPct),
    };
  }

  private newWeek(start: number, startEquity: Dec, lossLimitHit: boolean): Week {
    return { start, startEquity, lossLimitHit, lossFloor: floorBelow(startEquity, this.weeklyLossPct) };
  }

  private newMonth(start: number, startEquity: Dec, lossLimitHit: boolean): Week {
    return { start, startEquity, lossLimitHit, lossFloor: floorBelow(startEquity, this.monthlyLossPct) };
  }

  /** Rolls day, week and month, lifts an expired halt, checks equity; returns the current day. */
  private advance(time: number, equity: Dec): Day {
    if (this.lastTime === null || time > this.lastTime) this.lastTime = time;
    const dayStart = utcDayStart(time);
    let day = this.day;
    if (day === null || dayStart > day.start) {
      day = this.newDay(dayStart, equity);
      this.day = day;
      // Cooldowns that ended are of no further use; dropping them keeps the state small.
      for (const [symbol, until] of this.cooldownUntil) if (until <= time) this.cooldownUntil.delete(symbol);
    }
    const weekStart = isoWeekStart(time);
    let week = this.week;
    if (week === null || weekStart > week.start) {
      week = this.newWeek(weekStart, equity, false);
      this.week = week;
    }
    const monthStart = utcMonthStart(time);
    let month = this.month;
    if (month === null || monthStart > month.start) {
      month = this.newMonth(monthStart, equity, false);
      this.month = month;
    }
    this.liftExpiredHalt(time);

    if (!day.lossLimitHit && equity.lte(day.lossFloor)) day.lossLimitHit = true;
    if (!week.lossLimitHit && equity.lte(week.lossFloor)) week.lossLimitHit = true;
    if (!month.lossLimitHit && equity.lte(month.lossFloor)) month.lossLimitHit = true;
    if (!day.drawdownHaltFired && equity.lte(day.drawdownFloor)) {
      day.drawdownHaltFired = true;
      this.raiseHalt(
        'HALTED_DAILY_DRAWDOWN',
        time,
        day.start + DAY_MS,
        `equity ${equity.toString()} is ${lossPct(day.startEquity, equity).toFixed(2)}% below the day start ${day.startEquity.toString()} (limit ${this.config.risk.haltDailyDrawdownPct}%)`,
      );
    }
    return day;
  }

  private liftExpiredHalt(time: number): void {
    const h = this.halt;
    if (h.halted && h.until !== undefined && time >= h.until) this.liftHalt();
  }

  private liftHalt(): void {
    this.halt = { halted: false };
    // A streak that reached the maximum has been acted on; start counting afresh.
    if (this.consecutiveStops >= this.config.risk.haltConsecutiveStops) this.consecutiveStops = 0;
  }

  /** Halts, unless the current halt lifts no earlier than this one would. */
  private raiseHalt(reason: HaltReason, time: number, until: number, detail: string): void {
    const h = this.halt;
    if (h.halted && (h.until === undefined || h.until >= until)) return;
    this.halt = { halted: true, reason, since: time, until, detail };
  }
}
