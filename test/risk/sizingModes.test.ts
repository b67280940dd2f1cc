/**
 * Sizing modes (risk.sizing.mode), worked by hand. Common case: equity 10,000, a long at 100 with
 * the stop at 98 (2 a unit), the conservative profile (1% risk: 100 USDT, 50 BTC, 5,000 USDT) with
 * the position and exposure caps lifted to 100% so the mode's size shows, unless a test says so.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { ConfigError } from '../../services/core/errors.js';
import { parseConfig } from '../../services/config/schema.js';
import { BTC, ETH, HOUR, MIN, MON, account, engine, long, plain } from './fixtures.js';

const OPEN = { maxPositionPct: 100, maxTotalExposurePct: 100 };
const qty = (d: ReturnType<typeof plain>): string | undefined => ('quantity' in d ? d.quantity : undefined);

/** Closes `rs.length` trades on ETH (not the symbol entered, so no cooldown) with these R multiples. */
function history(e: ReturnType<typeof engine>, rs: readonly number[]): void {
  rs.forEach((r, i) => e.onTradeClosed({ symbol: ETH, time: MON + i * MIN, pnl: dec(r > 0 ? 1 : -1), exitReason: r > 0 ? 'target' : 'time', equityAfter: dec(10_000), rMultiple: r }));
}

describe('fixed risk (the default)', () => {
  it('risks the profile’s 1%: 100 / 2 = 50 BTC', () => {
    expect(plain(engine(OPEN).evaluate(long(100, 98), account(10_000)))).toMatchObject({ kind: 'approved', quantity: '50', riskAmount: '100' });
  });
});

describe('fractional Kelly from the rolling R history', () => {
  const kelly = (over: Record<string, unknown> = {}) => engine({ ...OPEN, sizing: { mode: 'kelly', kellyFraction: 0.02, kellyWindow: 20, kellyMinTrades: 20, ...over } });
  const tenTen = (win: number) => [...Array<number>(10).fill(win), ...Array<number>(10).fill(-1)];

  it('W 0.5, B 2: f* = 0.5 - 0.5 / 2 = 0.25; 0.02 x 0.25 = 0.5% of equity: 50 / 2 = 25 BTC', () => {
    const e = kelly();
    history(e, tenTen(2));
    expect(e.sizingPolicy?.kellyBet()).toBeCloseTo(0.25, 12);
    expect(qty(plain(e.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('25');
  });

  it('never above the profile’s risk: quarter Kelly of 0.25 is 6.25%, capped at 1% (50 BTC)', () => {
    const e = kelly({ kellyFraction: 0.25 });
    history(e, tenTen(2));
    expect(qty(plain(e.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('50');
  });

  it('the floor minRiskPct (0.1%: 10 / 2 = 5 BTC) with too short a history or no edge', () => {
    const short = kelly();
    history(short, tenTen(2).slice(1)); // 19 trades
    expect(short.sizingPolicy?.kellyBet()).toBeNull();
    expect(qty(plain(short.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('5');
    const noEdge = kelly();
    history(noEdge, tenTen(0.5)); // f* = 0.5 - 0.5 / 0.5 = -0.5
    expect(noEdge.sizingPolicy?.kellyBet()).toBeCloseTo(-0.5, 12);
    expect(qty(plain(noEdge.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('5');
  });

  it('the window rolls: 20 newer losing trades replace an edge', () => {
    const e = kelly();
    history(e, tenTen(2));
    history(e, [...Array<number>(5).fill(3), ...Array<number>(15).fill(-1)]); // W 0.25, B 3: 0.25 - 0.75 / 3 = 0
    expect(e.sizingPolicy?.kellyBet()).toBeCloseTo(0, 12);
  });
});

describe('volatility target', () => {
  // 31 closes alternating +1% and -1%: 30 returns, mean 0, sample deviation 0.01 x sqrt(30 / 29);
  // daily: x sqrt(1440), in percent: 38.5911...%. Notional = 10,000 x 0.5 / 38.5911 = 129.56.
  const feed = (e: ReturnType<typeof engine>, n: number): void => {
    let p = 100;
    for (let i = 0; i < n; i++) {
      e.onPrice(BTC, MON + i * MIN, p);
      p *= i % 2 === 0 ? 1.01 : 0.99;
    }
  };
  const sigmaDayPct = 0.01 * Math.sqrt(30 / 29) * Math.sqrt(1440) * 100;

  it('sizes the notional so that a day’s expected move is volTargetPct of equity', () => {
    const e = engine({ ...OPEN, sizing: { mode: 'vol_target', volTargetPct: 0.5, volWindowMinutes: 30 } });
    feed(e, 31);
    const d = e.evaluate(long(100, 98, MON + HOUR), account(10_000));
    expect(d.kind).toBe('approved');
    if (d.kind === 'approved') expect(d.notional.toNumber()).toBeCloseTo((10_000 * 0.5) / sigmaDayPct, 1);
  });

  it('fixed risk until the window is full; never more risk than the profile’s', () => {
    const warming = engine({ ...OPEN, sizing: { mode: 'vol_target', volTargetPct: 0.5, volWindowMinutes: 30 } });
    feed(warming, 30); // 29 returns
    expect(qty(plain(warming.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('50');
    const big = engine({ ...OPEN, sizing: { mode: 'vol_target', volTargetPct: 100, volWindowMinutes: 30 } });
    feed(big, 31); // wants 25,913 USDT; the 1% risk allows 5,000
    expect(qty(plain(big.evaluate(long(100, 98, MON + HOUR), account(10_000))))).toBe('50');
  });
});

describe('model confidence', () => {
  const conf = (c: number | undefined, risk: Record<string, unknown> = OPEN) =>
    plain(engine({ ...risk, sizing: { mode: 'confidence', confidenceFloor: 0.5 } }).evaluate({ ...long(100, 98), ...(c !== undefined ? { confidence: c } : {}) }, account(10_000)));

  it('risk grows linearly from the floor: 0.75 -> 0.5% (25 BTC), 1 -> 1% (50 BTC), 0.51 -> the 0.1% floor (5 BTC)', () => {
    expect(qty(conf(0.75))).toBe('25');
    expect(qty(conf(1))).toBe('50');
    expect(qty(conf(0.51))).toBe('5');
  });

  it('no confidence, or one at the floor, is SIZING_REFUSED', () => {
    expect(conf(undefined)).toEqual({ kind: 'rejected', reason: 'SIZING_REFUSED' });
    expect(conf(0.5)).toEqual({ kind: 'rejected', reason: 'SIZING_REFUSED' });
  });

  it('the risk engine’s caps still apply: the default 10% position cap binds at 1,000 USDT', () => {
    expect(conf(1, {})).toMatchObject({ kind: 'approved', quantity: '10', adjustments: ['CAPPED_MAX_POSITION_PCT'] });
  });
});

describe('sizing config', () => {
  it('a floor above the profile’s risk and a minimum history longer than the window are errors naming the field', () => {
    expect(() => parseConfig({ risk: { sizing: { minRiskPct: 2 } } })).toThrow(ConfigError);
    expect(() => parseConfig({ risk: { sizing: { minRiskPct: 2 } } })).toThrow(/risk\.sizing\.minRiskPct/);
    expect(() => parseConfig({ risk: { sizing: { kellyWindow: 10, kellyMinTrades: 20 } } })).toThrow(/risk\.sizing\.kellyMinTrades/);
    expect(() => parseConfig({ risk: { sizing: { mode: 'martingale' } } })).toThrow(/risk\.sizing\.mode/);
  });
  it('defaults: fixed risk, the others’ numbers declared', () => {
    expect(parseConfig({}).risk.sizing).toEqual({ mode: 'fixed_risk', kellyFraction: 0.25, kellyWindow: 50, kellyMinTrades: 20, minRiskPct: 0.1, volTargetPct: 0.5, volWindowMinutes: 1440, confidenceFloor: 0.5 });
  });
});
