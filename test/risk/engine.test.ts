import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import { RiskEngine, type TradeExitReason } from '../../services/risk/index.js';
import { BTC, DAY, ETH, HOUR, MIN, MON, SOL, account, engine, long, riskConfig } from './fixtures.js';

const reason = (d: ReturnType<RiskEngine['evaluate']>) => (d.kind === 'rejected' ? d.reason : 'approved');

/** Closes a trade; equityAfter defaults to 10000 so equity-based limits stay out of the way. */
function close(e: RiskEngine, time: number, pnl: number, exitReason: TradeExitReason, symbol: SymbolId = SOL, equityAfter = 10_000) {
  e.onTradeClosed({ symbol, time, pnl: dec(pnl), exitReason, equityAfter: dec(equityAfter) });
}

/** A proposal that passes sizing on a 10000 account (5 units, 500 notional). */
const ok = (time: number, symbol: SymbolId = BTC) => long(100, 80, time, symbol);

describe('per-entry checks', () => {
  it('MAX_POSITIONS at the profile maximum (conservative: 3)', () => {
    const e = engine();
    expect(reason(e.evaluate(ok(MON), account(10_000, 10_000, [['ETHUSDT', 100], ['SOLUSDT', 100]])))).toBe('approved');
    expect(reason(e.evaluate(ok(MON), account(10_000, 10_000, [['ETHUSDT', 100], ['SOLUSDT', 100], ['XRPUSDT', 100]])))).toBe('MAX_POSITIONS');
  });

  it('ALREADY_IN_POSITION on the same symbol', () => {
    expect(reason(engine().evaluate(ok(MON), account(10_000, 10_000, [['BTCUSDT', 100]])))).toBe('ALREADY_IN_POSITION');
  });

  it('SYMBOL_COOLDOWN for 15 minutes after a close on that symbol only', () => {
    const e = engine();
    const t = MON + HOUR;
    close(e, t, 10, 'target', BTC);
    expect(reason(e.evaluate(ok(t + 15 * MIN - 1), account(10_000)))).toBe('SYMBOL_COOLDOWN');
    expect(reason(e.evaluate(ok(t + 1, ETH), account(10_000)))).toBe('approved');
    // Cooldown ends exactly 15 x 60,000 ms after the close.
    expect(reason(e.evaluate(ok(t + 15 * MIN), account(10_000)))).toBe('approved');
  });

  it('no cooldown when symbolCooldownMinutes is 0', () => {
    const e = engine({ symbolCooldownMinutes: 0 });
    close(e, MON + HOUR, -5, 'stop', BTC);
    expect(reason(e.evaluate(ok(MON + HOUR), account(10_000)))).toBe('approved');
  });

  it('checks in order: halt, loss limits, max positions, per-symbol, sizing', () => {
    const e = engine({ overrides: { dailyLossLimitPct: 2 } });
    const t = MON + HOUR;
    e.onTime(t, dec(10_000));
    const full = account(9_800, 9_800, [['BTCUSDT', 100], ['ETHUSDT', 100], ['XRPUSDT', 100]]);
    // 9800 = exactly 2% down -> daily limit beats max positions and already-in-position.
    expect(reason(e.evaluate(long(100, 100, t), full))).toBe('DAILY_LOSS_LIMIT');
    // Max positions beats already-in-position and an invalid stop (on a fresh engine).
    expect(reason(engine().evaluate(long(100, 100, t), account(10_000, 10_000, [['BTCUSDT', 100], ['ETHUSDT', 100], ['XRPUSDT', 100]])))).toBe('MAX_POSITIONS');
    // Already-in-position beats cooldown and an invalid stop.
    const e2 = engine();
    close(e2, t, 1, 'target', BTC);
    expect(reason(e2.evaluate(long(100, 100, t), account(10_000, 10_000, [['BTCUSDT', 100]])))).toBe('ALREADY_IN_POSITION');
    expect(reason(e2.evaluate(long(100, 100, t), account(10_000)))).toBe('SYMBOL_COOLDOWN');
    expect(reason(e2.evaluate(long(100, 100, t, ETH), account(10_000)))).toBe('INVALID_STOP');
    // A halt beats everything: three losing stops.
    close(e2, t, -1, 'stop');
    close(e2, t, -1, 'stop');
    close(e2, t, -1, 'stop');
    // (9700 is also 3% down, past the daily limit.)
    expect(reason(e2.evaluate(long(100, 100, t), account(9_700, 9_700, [['BTCUSDT', 100], ['ETHUSDT', 100], ['XRPUSDT', 100]])))).toBe(
      'HALTED_CONSECUTIVE_STOPS',
    );
  });
});

describe('daily and weekly loss limits', () => {
  it('daily: blocks at exactly the limit, stays blocked all day, clears at 00:00 UTC', () => {
    const e = engine(); // conservative: daily 2%, weekly 5%
    e.onTime(MON + HOUR, dec(10_000)); // day start equity 10000; floor 10000 - 2% = 9800
    e.onTime(MON + 2 * HOUR, dec(9_800.01));
    expect(reason(e.evaluate(ok(MON + 2 * HOUR), account(9_800.01)))).toBe('approved');
    e.onTime(MON + 3 * HOUR, dec(9_800));
    expect(reason(e.evaluate(ok(MON + 3 * HOUR), account(9_800)))).toBe('DAILY_LOSS_LIMIT');
    // Recovering the same day does not lift it.
    expect(reason(e.evaluate(ok(MON + DAY - 1), account(9_950)))).toBe('DAILY_LOSS_LIMIT');
    // Next UTC day: new start equity 9950, no block.
    expect(reason(e.evaluate(ok(MON + DAY), account(9_950)))).toBe('approved');
    expect(e.status(account(9_950)).dailyLoss.dayStartEquity).toBe('9950');
  });

  it('daily: evaluate alone (without onTime) sees the loss', () => {
    const e = engine();
    expect(reason(e.evaluate(ok(MON + HOUR), account(10_000)))).toBe('approved');
    expect(reason(e.evaluate(ok(MON + 2 * HOUR), account(9_799)))).toBe('DAILY_LOSS_LIMIT');
  });

  it('daily: a trade close reports the equity after it', () => {
    const e = engine();
    e.onTime(MON + HOUR, dec(10_000));
    close(e, MON + 2 * HOUR, -200, 'time', ETH, 9_800);
    expect(reason(e.evaluate(ok(MON + 2 * HOUR), account(9_900)))).toBe('DAILY_LOSS_LIMIT');
  });

  it('weekly: blocks at exactly 5% below the Monday start, until next Monday 00:00 UTC', () => {
    const e = engine();
    // Mon start 10000, ends 9810 (1.9% down: daily limit not hit).
    e.onTime(MON, dec(10_000));
    e.onTime(MON + 20 * HOUR, dec(9_810));
    // Tue start 9810, ends 9620 (190 / 9810 = 1.94%).
    e.onTime(MON + DAY, dec(9_810));
    e.onTime(MON + DAY + 20 * HOUR, dec(9_620));
    // Wed start 9620; 9501 is 4.99% below 10000 -> allowed; 9500 is exactly 5% -> blocked
    // (daily: 120 / 9620 = 1.25%, not hit).
    e.onTime(MON + 2 * DAY, dec(9_620));
    expect(reason(e.evaluate(ok(MON + 2 * DAY + HOUR), account(9_501)))).toBe('approved');
    expect(reason(e.evaluate(ok(MON + 2 * DAY + 2 * HOUR), account(9_500)))).toBe('WEEKLY_LOSS_LIMIT');
    // Thursday, recovered: still blocked; Sunday 23:59:59.999 too.
    expect(reason(e.evaluate(ok(MON + 3 * DAY), account(9_700)))).toBe('WEEKLY_LOSS_LIMIT');
    expect(reason(e.evaluate(ok(MON + 7 * DAY - 1), account(9_700)))).toBe('WEEKLY_LOSS_LIMIT');
    // Monday 2024-01-08 00:00 UTC: a new week.
    expect(reason(e.evaluate(ok(MON + 7 * DAY), account(9_700)))).toBe('approved');
    expect(e.status(account(9_700)).weeklyLoss).toMatchObject({ weekStart: Date.UTC(2024, 0, 8), weekStartEquity: '9700', blocked: false });
  });
});

describe('monthly loss limit', () => {
  // Daily and weekly limits (and the drawdown halt) widened so the month is seen on its own.
  const wide = { overrides: { dailyLossLimitPct: 50, weeklyLossLimitPct: 50 }, haltDailyDrawdownPct: 60 };

  it('blocks entries from 10% below the month start (by default) until the 1st of the next month, across weeks', () => {
    const e = engine(wide);
    const ok = (t: number) => long(100, 99, t);
    // January 2024: the month starts at 10,000 on Monday the 1st, then loses 4% a week.
    e.onTime(MON, dec(10_000));
    e.onTime(MON + 7 * DAY, dec(9_600));
    e.onTime(MON + 14 * DAY, dec(9_200));
    expect(reason(e.evaluate(ok(MON + 14 * DAY + HOUR), account(9_001)))).toBe('approved');
    // Exactly 10% down: blocked; recovered later in the month: still blocked (like the week).
    expect(reason(e.evaluate(ok(MON + 15 * DAY), account(9_000)))).toBe('MONTHLY_LOSS_LIMIT');
    expect(reason(e.evaluate(ok(MON + 30 * DAY), account(9_800)))).toBe('MONTHLY_LOSS_LIMIT');
    expect(e.status(account(9_800)).monthlyLoss).toMatchObject({ limitPct: 10, blocked: true, monthStart: Date.UTC(2024, 0, 1), monthStartEquity: '10000' });
    // Thursday 2024-02-01 00:00 UTC: a new month (mid-week: the week does not matter).
    expect(reason(e.evaluate(ok(Date.UTC(2024, 1, 1)), account(9_800)))).toBe('approved');
    expect(e.status(account(9_800)).monthlyLoss).toMatchObject({ monthStart: Date.UTC(2024, 1, 1), monthStartEquity: '9800', blocked: false, usedPct: 0 });
  });

  it('survives a state round trip, and a state written before the monthly limit still loads', () => {
    const e = engine(wide);
    e.onTime(MON, dec(10_000));
    e.onTime(MON + 9 * DAY, dec(8_900));
    const restored = RiskEngine.fromState(riskConfig(wide), JSON.parse(JSON.stringify(e.toState())));
    expect(reason(restored.evaluate(long(100, 99, MON + 10 * DAY), account(9_900)))).toBe('MONTHLY_LOSS_LIMIT');
    const { month: _month, ...old } = e.toState();
    expect(() => RiskEngine.fromState(riskConfig(wide), old)).not.toThrow();
  });
});

describe('halts', () => {
  // Loss limits widened so the halts can be seen on their own.
  const wide = { overrides: { dailyLossLimitPct: 50, weeklyLossLimitPct: 50, monthlyLossLimitPct: 50 } };

  it('HALTED_DAILY_DRAWDOWN at exactly 10% below the day start; lifts at the next UTC day', () => {
    const e = engine(wide);
    e.onTime(MON + HOUR, dec(10_000));
    e.onTime(MON + 2 * HOUR, dec(9_000.01));
    expect(e.haltState().halted).toBe(false);
    e.onTime(MON + 3 * HOUR, dec(9_000)); // 1000 / 10000 = 10%
    expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_DAILY_DRAWDOWN', since: MON + 3 * HOUR, until: MON + DAY });
    expect(reason(e.evaluate(ok(MON + DAY - 1), account(9_500)))).toBe('HALTED_DAILY_DRAWDOWN');
    expect(reason(e.evaluate(ok(MON + DAY), account(9_500)))).toBe('approved');
  });

  it('HALTED_DAILY_DRAWDOWN fires once a day, so a manual resume holds', () => {
    const e = engine(wide);
    e.onTime(MON + HOUR, dec(10_000));
    e.onTime(MON + 2 * HOUR, dec(8_900));
    expect(e.manualResume()).toBe(true);
    e.onTime(MON + 3 * HOUR, dec(8_800));
    expect(reason(e.evaluate(ok(MON + 3 * HOUR), account(8_800)))).toBe('approved');
    expect(e.manualResume()).toBe(false);
  });

  it('HALTED_CONSECUTIVE_STOPS on the 3rd losing stop in a row', () => {
    const e = engine();
    const t = MON + HOUR;
    close(e, t, -10, 'stop');
    close(e, t + 1, -10, 'stop');
    expect(e.haltState().halted).toBe(false);
    close(e, t + 2, -10, 'stop');
    expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_CONSECUTIVE_STOPS', until: MON + DAY });
    expect(e.status(account(10_000)).consecutiveStops).toEqual({ count: 3, max: 3 });
    expect(reason(e.evaluate(ok(MON + DAY - 1), account(10_000)))).toBe('HALTED_CONSECUTIVE_STOPS');
    // Lifts at the next UTC day, and the streak starts afresh: one more stop does not halt.
    expect(reason(e.evaluate(ok(MON + DAY), account(10_000)))).toBe('approved');
    close(e, MON + DAY + 1, -10, 'stop');
    expect(e.haltState().halted).toBe(false);
    expect(e.status(account(10_000)).consecutiveStops.count).toBe(1);
  });

  it('a winning trade resets the streak; other exits neither extend nor reset it', () => {
    const e = engine({ haltWinRateMinTrades: 50 }); // keep the win-rate halt out of the way
    const t = MON + HOUR;
    close(e, t, -10, 'stop');
    close(e, t, -10, 'stop');
    close(e, t, 5, 'target'); // win: reset
    close(e, t, -10, 'stop');
    close(e, t, -10, 'time'); // a loss, but not a stop
    close(e, t, 0, 'breakeven'); // flat
    close(e, t, 3, 'stop'); // a stop in profit (trailed) is a win: reset
    close(e, t, -10, 'stop');
    close(e, t, -10, 'stop');
    expect(e.haltState().halted).toBe(false);
    close(e, t, -10, 'time');
    close(e, t, -10, 'stop'); // 3rd losing stop since the last win
    expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_CONSECUTIVE_STOPS' });
  });

  it('the stop streak spans midnight', () => {
    const e = engine();
    close(e, MON + 23 * HOUR, -10, 'stop');
    close(e, MON + 23 * HOUR + 1, -10, 'stop');
    close(e, MON + DAY + 30 * MIN, -10, 'stop');
    expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_CONSECUTIVE_STOPS', until: MON + 2 * DAY });
  });

  it('manual resume of a stop halt also restarts the streak', () => {
    const e = engine();
    for (let i = 0; i < 3; i++) close(e, MON + HOUR, -10, 'stop');
    expect(e.manualResume()).toBe(true);
    expect(reason(e.evaluate(ok(MON + 2 * HOUR), account(10_000)))).toBe('approved');
    close(e, MON + 2 * HOUR, -10, 'stop');
    expect(e.haltState().halted).toBe(false);
  });

  it('HALTED_LOW_WIN_RATE only once the day has 10 trades', () => {
    // 3 wins then 6 losses: 3/9 = 33% < 35% but only 9 trades -> no halt; 10th (loss): 3/10 = 30% -> halt.
    const e = engine();
    const t = MON + HOUR;
    for (let i = 0; i < 3; i++) close(e, t, 10, 'target');
    for (let i = 0; i < 6; i++) close(e, t, -10, 'time');
    expect(e.haltState().halted).toBe(false);
    close(e, t, -10, 'time');
    expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_LOW_WIN_RATE', until: MON + DAY });
    expect(reason(e.evaluate(ok(t), account(10_000)))).toBe('HALTED_LOW_WIN_RATE');
  });

  it('HALTED_LOW_WIN_RATE: 4/10 = 40% passes; exactly 35% passes; below halts', () => {
    const a = engine();
    for (let i = 0; i < 4; i++) close(a, MON + HOUR, 10, 'target');
    for (let i = 0; i < 6; i++) close(a, MON + HOUR, -10, 'time');
    expect(a.haltState().halted).toBe(false);

    // 7 wins then 13 losses: 7/20 = 35% exactly -> no halt (the floor is "below 35%").
    const b = engine();
    for (let i = 0; i < 7; i++) close(b, MON + HOUR, 10, 'target');
    for (let i = 0; i < 13; i++) close(b, MON + HOUR, -10, 'time');
    expect(b.haltState().halted).toBe(false);
    expect(b.status(account(10_000)).winRate).toMatchObject({ trades: 20, wins: 7, losses: 13, ratePct: 35 });
    // 21st trade, a loss: 7/21 = 33.3% -> halt.
    close(b, MON + HOUR, -10, 'time');
    expect(b.haltState()).toMatchObject({ halted: true, reason: 'HALTED_LOW_WIN_RATE' });
  });

  it("the win-rate counts are the UTC day's", () => {
    // 9 losses on Monday, 1 on Tuesday: Tuesday has 1 trade -> no halt.
    const e = engine();
    for (let i = 0; i < 9; i++) close(e, MON + HOUR, -10, 'time');
    close(e, MON + DAY + HOUR, -10, 'time');
    expect(e.haltState().halted).toBe(false);
    expect(e.status(account(10_000)).winRate).toMatchObject({ trades: 1, wins: 0, losses: 1 });
  });

  describe('HALTED_ABNORMAL_VOLATILITY (more than 20% within 60 minutes)', () => {
    it('exactly 20% does not halt, more does', () => {
      const e = engine();
      e.onPrice(BTC, MON, 100);
      e.onPrice(BTC, MON + 30 * MIN, 120); // (120 - 100) / 100 = 20% exactly
      expect(e.haltState().halted).toBe(false);
      e.onPrice(BTC, MON + 31 * MIN, 120.01); // 20.01%
      expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_ABNORMAL_VOLATILITY', since: MON + 31 * MIN, until: MON + 91 * MIN });
    });

    it('a fall is measured from the low: 100 -> 84 is 19.05%, 100 -> 83 is 20.48%', () => {
      const e = engine();
      e.onPrice(ETH, MON, 100);
      e.onPrice(ETH, MON + MIN, 84);
      expect(e.haltState().halted).toBe(false);
      e.onPrice(ETH, MON + 2 * MIN, 83);
      expect(e.haltState()).toMatchObject({ halted: true, reason: 'HALTED_ABNORMAL_VOLATILITY' });
    });

    it('a price 60 minutes old has left the window', () => {
      const e = engine();
      e.onPrice(BTC, MON, 100);
      e.onPrice(BTC, MON + 60 * MIN, 121); // 100 was at t - 60m: outside
      expect(e.haltState().halted).toBe(false);
      const f = engine();
      f.onPrice(BTC, MON, 100);
      f.onPrice(BTC, MON + 59 * MIN, 121); // 21% within 59 minutes
      expect(f.haltState().halted).toBe(true);
    });

    it('symbols are measured separately', () => {
      const e = engine();
      e.onPrice(BTC, MON, 100);
      e.onPrice(ETH, MON + MIN, 130);
      expect(e.haltState().halted).toBe(false);
    });

    it('lifts one window after the move, blocking every symbol meanwhile', () => {
      const e = engine();
      e.onPrice(BTC, MON, 100);
      e.onPrice(BTC, MON + 10 * MIN, 125);
      expect(reason(e.evaluate(ok(MON + 70 * MIN - 1, ETH), account(10_000)))).toBe('HALTED_ABNORMAL_VOLATILITY');
      // The window was cleared on the trigger; a calm price does not re-trigger.
      e.onPrice(BTC, MON + 11 * MIN, 125);
      expect(reason(e.evaluate(ok(MON + 70 * MIN, ETH), account(10_000)))).toBe('approved');
    });

    it('a new abnormal move while halted extends the halt', () => {
      const e = engine();
      e.onPrice(BTC, MON, 100);
      e.onPrice(BTC, MON + 10 * MIN, 125); // until MON + 70m
      e.onPrice(BTC, MON + 20 * MIN, 125);
      e.onPrice(BTC, MON + 30 * MIN, 90); // 125 / 90 - 1 = 38.9% -> until MON + 90m
      expect(e.haltState()).toMatchObject({ halted: true, since: MON + 30 * MIN, until: MON + 90 * MIN });
    });
  });

  it('a later-lifting halt replaces an earlier one, not the other way round', () => {
    const e = engine();
    for (let i = 0; i < 3; i++) close(e, MON + 23 * HOUR, -10, 'stop'); // until MON + DAY
    e.onPrice(BTC, MON + 23 * HOUR + 10 * MIN, 100);
    e.onPrice(BTC, MON + 23 * HOUR + 20 * MIN, 130); // until MON + 24h20m: later -> replaces
    expect(e.haltState()).toMatchObject({ reason: 'HALTED_ABNORMAL_VOLATILITY', until: MON + DAY + 20 * MIN });
    const f = engine();
    f.onPrice(BTC, MON + HOUR, 100);
    f.onPrice(BTC, MON + HOUR + MIN, 130); // until MON + 2h01m
    for (let i = 0; i < 3; i++) close(f, MON + HOUR + 2 * MIN, -10, 'stop'); // until MON + DAY: later -> replaces
    expect(f.haltState()).toMatchObject({ reason: 'HALTED_CONSECUTIVE_STOPS', until: MON + DAY });
    const g = engine();
    g.onPrice(BTC, MON + 23 * HOUR + 30 * MIN, 100);
    g.onPrice(BTC, MON + 23 * HOUR + 31 * MIN, 130); // until MON + 24h31m
    for (let i = 0; i < 3; i++) close(g, MON + 23 * HOUR + 32 * MIN, -10, 'stop'); // until MON + DAY: earlier -> kept
    expect(g.haltState()).toMatchObject({ reason: 'HALTED_ABNORMAL_VOLATILITY' });
  });

  it('rejects invalid times and prices', () => {
    const e = engine();
    expect(() => e.onTime(Number.NaN, dec(1))).toThrow(/onTime: time must be finite/);
    expect(() => e.onPrice(BTC, MON, 0)).toThrow(/price must be a positive finite number/);
    e.onPrice(BTC, MON + MIN, 10);
    expect(() => e.onPrice(BTC, MON, 10)).toThrow(/not earlier than the last/);
  });
});

describe('status', () => {
  it('reports how close each limit is', () => {
    const e = engine();
    e.onTime(MON + HOUR, dec(10_000));
    close(e, MON + 2 * HOUR, -50, 'stop', BTC, 9_950);
    close(e, MON + 3 * HOUR, 20, 'target', ETH, 9_970);
    close(e, MON + 4 * HOUR, -120, 'stop', SOL, 9_850);
    const { winRate, exposure, ...s } = e.status(account(9_850, 7_350, [['XRPUSDT', 1_000], ['ADAUSDT', 1_500]]));
    // 1 win of 3 = 33.33..%
    expect(winRate).toMatchObject({ trades: 3, wins: 1, losses: 2, floorPct: 35, minTrades: 10 });
    expect(winRate.ratePct).toBeCloseTo(33.3333333333, 8);
    // 2500 open; cap 50% of 9850 = 4925; 2500 / 9850 = 25.3807106599...%
    expect(exposure).toMatchObject({ notional: '2500', cap: '4925', capPct: 50 });
    expect(exposure.usedPct).toBeCloseTo(25.3807106599, 8);
    expect(s).toEqual({
      asOf: MON + 4 * HOUR,
      halted: false,
      haltReason: null,
      haltSince: null,
      haltUntil: null,
      haltDetail: null,
      // (10000 - 9850) / 10000 = 1.5%
      dailyLoss: { usedPct: 1.5, limitPct: 2, blocked: false, dayStart: MON, dayStartEquity: '10000' },
      weeklyLoss: { usedPct: 1.5, limitPct: 5, blocked: false, weekStart: MON, weekStartEquity: '10000' },
      monthlyLoss: { usedPct: 1.5, limitPct: 10, blocked: false, monthStart: MON, monthStartEquity: '10000' },
      dailyDrawdown: { usedPct: 1.5, haltPct: 10 },
      // stop, win (reset), stop -> 1
      consecutiveStops: { count: 1, max: 3 },
      openPositions: { count: 2, max: 3 },
      // each close at 2h/3h/4h starts a 15-minute cooldown; at 4h only SOL's (closed at 4h) is live
      cooldowns: [{ symbol: 'SOLUSDT', until: MON + 4 * HOUR + 15 * MIN }],
    });
  });

  it('reports a halt', () => {
    const e = engine();
    e.onPrice(BTC, MON, 100);
    e.onPrice(BTC, MON + MIN, 150);
    const s = e.status(account(10_000));
    expect(s).toMatchObject({ halted: true, haltReason: 'HALTED_ABNORMAL_VOLATILITY', haltSince: MON + MIN, haltUntil: MON + 61 * MIN });
    expect(s.haltDetail).toContain('BTCUSDT moved 50.00%');
  });
});
