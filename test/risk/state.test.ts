import { describe, it, expect } from 'vitest';
import { DataValidationError } from '../../services/core/errors.js';
import { dec } from '../../services/core/money.js';
import { RiskEngine } from '../../services/risk/index.js';
import { BTC, DAY, ETH, HOUR, MIN, MON, SOL, account, long, plain, riskConfig, short } from './fixtures.js';

const config = riskConfig();

/** History before the snapshot: trades, a cooldown, price windows, a halt. */
function history(e: RiskEngine): void {
  e.onTime(MON + HOUR, dec(10_000));
  e.onTradeClosed({ symbol: BTC, time: MON + 2 * HOUR, pnl: dec(-40), exitReason: 'stop', equityAfter: dec(9_960) });
  e.onTradeClosed({ symbol: ETH, time: MON + 3 * HOUR, pnl: dec(-30.5), exitReason: 'stop', equityAfter: dec(9_929.5) });
  for (let i = 0; i < 90; i++) {
    e.onPrice(BTC, MON + 2 * HOUR + i * MIN, 100 + (i % 7));
    e.onPrice(SOL, MON + 2 * HOUR + i * MIN, 20 + (i % 3) * 0.5);
  }
  e.onPrice(ETH, MON + 3 * HOUR, 100);
  e.onPrice(ETH, MON + 3 * HOUR + MIN, 125); // volatility halt until MON + 4h01m
}

/** The same calls after the snapshot, returning every decision. */
function future(e: RiskEngine) {
  const out = [];
  out.push(plain(e.evaluate(long(100, 99, MON + 3 * HOUR + 30 * MIN), account(9_929.5)))); // halted
  out.push(plain(e.evaluate(long(100, 99, MON + 4 * HOUR + MIN, ETH), account(9_929.5)))); // halt lifted
  e.onPrice(BTC, MON + 3 * HOUR + 31 * MIN, 128); // min of BTC's window is 100..106: > 20%
  out.push(plain(e.evaluate(long(100, 80, MON + 4 * HOUR + 2 * MIN, SOL), account(9_929.5))));
  e.onTradeClosed({ symbol: SOL, time: MON + 5 * HOUR, pnl: dec(-10), exitReason: 'stop', equityAfter: dec(9_919.5) }); // 3rd stop
  out.push(plain(e.evaluate(short(50, 51, MON + 6 * HOUR, SOL), account(9_919.5))));
  out.push(plain(e.evaluate(short(50, 51, MON + DAY + 5 * MIN, SOL), account(9_700, 5_000, [['BTCUSDT', 2_000]]))));
  out.push(plain(e.evaluate(long(10, 9, MON + 7 * DAY, BTC), account(9_000, 9_000))));
  return { decisions: out, status: e.status(account(9_000)) };
}

describe('risk state persistence', () => {
  it('a JSON round trip restores the same state and the same decisions', () => {
    const a = new RiskEngine(config);
    history(a);
    const json = JSON.stringify(a.toState());
    const b = RiskEngine.fromState(config, JSON.parse(json));
    expect(JSON.stringify(b.toState())).toBe(json);
    const fa = future(a);
    const fb = future(b);
    expect(fb).toEqual(fa);
    expect(b.toState()).toEqual(a.toState());
    // The scenario exercises what it claims to (hand-checked reasons).
    expect(fa.decisions.map((d) => (d.kind === 'rejected' ? d.reason : d.kind))).toEqual([
      'HALTED_ABNORMAL_VOLATILITY',
      'approved',
      'HALTED_ABNORMAL_VOLATILITY', // BTC 100 -> 128 within the hour
      'HALTED_CONSECUTIVE_STOPS', // 3rd losing stop at 5h (BTC's halt lifted at 4h31m)
      'approved', // next day: stop halt lifted, SOL cooldown over
      'MONTHLY_LOSS_LIMIT', // next week, but 9,000 is 10% below January's start of 10,000
    ]);
  });

  it('rejects a malformed state with the path of the bad field', () => {
    const good = new RiskEngine(config);
    history(good);
    const s = JSON.parse(JSON.stringify(good.toState())) as Record<string, unknown>;
    expect(() => RiskEngine.fromState(config, { ...s, version: 2 })).toThrow(DataValidationError);
    expect(() => RiskEngine.fromState(config, { ...s, day: { ...(s.day as object), startEquity: 'ten' } })).toThrow(/day\.startEquity/);
    expect(() => RiskEngine.fromState(config, { ...s, consecutiveStops: -1 })).toThrow(/consecutiveStops/);
    expect(() => RiskEngine.fromState(config, { ...s, halt: { halted: true } })).toThrow(/halt/);
    expect(() => RiskEngine.fromState(config, null)).toThrow(/invalid risk state/);
  });
});
