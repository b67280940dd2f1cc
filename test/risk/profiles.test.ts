import { describe, it, expect } from 'vitest';
import { RISK_PROFILES, PROFILES } from '../../services/config/schema.js';
import { dec } from '../../services/core/money.js';
import { RISK_REASONS, RISK_REASON_CODES } from '../../services/risk/index.js';
import { DAY, HOUR, MON, account, engine, long, plain } from './fixtures.js';

// The product brief's numbers: [risk per trade %, max positions, daily loss %, weekly loss %].
const BRIEF = {
  conservative: [1, 3, 2, 5],
  moderate: [1.5, 5, 3, 7],
  aggressive: [2, 8, 4, 10],
} as const;

describe('risk profiles', () => {
  it('match the brief', () => {
    for (const name of PROFILES) {
      const [riskPerTradePct, maxPositions, dailyLossLimitPct, weeklyLossLimitPct] = BRIEF[name];
      expect(RISK_PROFILES[name]).toEqual({ riskPerTradePct, maxPositions, dailyLossLimitPct, weeklyLossLimitPct, monthlyLossLimitPct: 10 });
    }
  });

  describe.each(PROFILES)('%s', (profile) => {
    const [riskPct, maxPositions, dailyPct, weeklyPct] = BRIEF[profile];

    it('risks its percent of equity per trade', () => {
      // equity 10000, entry 100, stop 80: risk = 100 x riskPct; quantity = risk / 20; notional = 100 x quantity
      // = 500 x riskPct (500, 750, 1000), never above the 10% cap of 1000.
      const risk = 100 * riskPct;
      expect(plain(engine({ profile }).evaluate(long(100, 80), account(10_000)))).toEqual({
        kind: 'approved',
        quantity: String(risk / 20),
        notional: String(500 * riskPct),
        riskAmount: String(risk),
        adjustments: [],
      });
    });

    it('allows maxPositions open positions', () => {
      const open = (n: number) => Array.from({ length: n }, (_, i) => [`ALT${i}USDT`, 100] as [string, number]);
      expect(engine({ profile }).evaluate(long(100, 80), account(10_000, 10_000, open(maxPositions - 1))).kind).toBe('approved');
      expect(plain(engine({ profile }).evaluate(long(100, 80), account(10_000, 10_000, open(maxPositions))))).toEqual({ kind: 'rejected', reason: 'MAX_POSITIONS' });
    });

    it('blocks at exactly its daily loss limit', () => {
      // floor = 10000 x (1 - dailyPct / 100): 9800, 9700, 9600.
      const floor = 10_000 - 100 * dailyPct;
      const e = engine({ profile });
      e.onTime(MON + HOUR, dec(10_000));
      expect(e.evaluate(long(100, 80, MON + 2 * HOUR), account(floor + 0.01)).kind).toBe('approved');
      expect(plain(e.evaluate(long(100, 80, MON + 3 * HOUR), account(floor)))).toEqual({ kind: 'rejected', reason: 'DAILY_LOSS_LIMIT' });
    });

    it('blocks at exactly its weekly loss limit', () => {
      // Lose just under the daily limit each day until the week is down weeklyPct: start 10000,
      // floor 10000 x (1 - weeklyPct / 100) = 9500, 9300, 9000.
      const floor = 10_000 - 100 * weeklyPct;
      const e = engine({ profile });
      let equity = 10_000;
      let day = 0;
      for (; equity - floor > 0; day++) {
        e.onTime(MON + day * DAY, dec(equity));
        // Next equity: lose 90% of the daily allowance, but not below the weekly floor.
        equity = Math.max(floor, Math.round(equity * (1 - (0.9 * dailyPct) / 100)));
        const d = e.evaluate(long(100, 80, MON + day * DAY + HOUR), account(equity));
        expect(plain(d)).toMatchObject(equity === floor ? { reason: 'WEEKLY_LOSS_LIMIT' } : { kind: 'approved' });
      }
      expect(day).toBeLessThan(7); // all within Monday..Sunday
    });
  });
});

describe('reason codes', () => {
  it('each code has a description', () => {
    expect(RISK_REASON_CODES.length).toBe(18);
    for (const code of RISK_REASON_CODES) expect(RISK_REASONS[code].length).toBeGreaterThan(10);
  });
});
