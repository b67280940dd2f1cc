/**
 * The signal risk policy per profile, with the numbers worked out by hand (entry 100, ATR 2 unless
 * said otherwise): stop = entry - k x ATR, take-profit = entry + R x (entry - stop).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../services/config/schema.js';
import { SIGNAL_PROFILES, deriveLevels, signalNotional } from '../../services/signals/policy.js';

const bounds = parseConfig({}).signals.levels; // min 0.1 %, stop at most 10 %, take-profit at most 50 %
const notionalCfg = parseConfig({}).signals; // default 25, minimum 5, no extra maximum

describe('derived stop and take-profit per profile (entry 100, ATR 2)', () => {
  it('conservative: 1.5 x ATR = 3 -> stop 97; 2 x 3 = 6 -> take-profit 106', () => {
    const r = deriveLevels({ entry: 100, atr: 2 }, SIGNAL_PROFILES.conservative, bounds);
    expect(r).toEqual({ ok: true, levels: { entry: 100, stop: 97, takeProfit: 106, stopSource: 'atr', takeProfitSource: 'reward_risk', atr: 2, notes: [] } });
  });

  it('moderate: 2 x ATR = 4 -> stop 96; 2.5 x 4 = 10 -> take-profit 110', () => {
    const r = deriveLevels({ entry: 100, atr: 2 }, SIGNAL_PROFILES.moderate, bounds);
    expect(r.ok && [r.levels.stop, r.levels.takeProfit]).toEqual([96, 110]);
  });

  it('aggressive: 2.5 x ATR = 5 -> stop 95; 3 x 5 = 15 -> take-profit 115', () => {
    const r = deriveLevels({ entry: 100, atr: 2 }, SIGNAL_PROFILES.aggressive, bounds);
    expect(r.ok && [r.levels.stop, r.levels.takeProfit]).toEqual([95, 115]);
  });

  it('exact decimals on awkward numbers: entry 2712.345, ATR 12.3, moderate -> stop 2687.745, take-profit 2773.845', () => {
    // 2 x 12.3 = 24.6 (0.91 % of the entry); 2712.345 - 24.6 = 2687.745; 2.5 x 24.6 = 61.5;
    // 2712.345 + 61.5 = 2773.845 (in floats the stop would be 2687.7450000000003).
    const r = deriveLevels({ entry: 2712.345, atr: 12.3 }, SIGNAL_PROFILES.moderate, bounds);
    expect(r.ok && [r.levels.stop, r.levels.takeProfit]).toEqual([2687.745, 2773.845]);
  });

  it("the signal's own sane stop is used, and the take-profit derived from its distance", () => {
    // Stop 98 (2 % away, within 0.1..10 %); risk 2; conservative R 2 -> take-profit 104.
    const r = deriveLevels({ entry: 100, atr: 2, stopLoss: 98 }, SIGNAL_PROFILES.conservative, bounds);
    expect(r).toEqual({ ok: true, levels: { entry: 100, stop: 98, takeProfit: 104, stopSource: 'signal', takeProfitSource: 'reward_risk', atr: null, notes: [] } });
  });

  it("the signal's own sane stop and take-profit are both used", () => {
    const r = deriveLevels({ entry: 100, atr: 2, stopLoss: 99, takeProfit: 103 }, SIGNAL_PROFILES.aggressive, bounds);
    expect(r.ok && [r.levels.stop, r.levels.takeProfit, r.levels.stopSource, r.levels.takeProfitSource]).toEqual([99, 103, 'signal', 'signal']);
  });

  it('an insane stop (above the entry, too close, too far) is ignored with a note and derived instead', () => {
    for (const stopLoss of [101, 99.95, 85]) {
      const r = deriveLevels({ entry: 100, atr: 2, stopLoss }, SIGNAL_PROFILES.conservative, bounds);
      expect(r.ok && [r.levels.stop, r.levels.stopSource, r.levels.notes.length]).toEqual([97, 'atr', 1]);
    }
  });

  it('an insane take-profit (below the entry, too far) is ignored with a note and derived instead', () => {
    for (const takeProfit of [99, 151]) {
      const r = deriveLevels({ entry: 100, atr: 2, takeProfit }, SIGNAL_PROFILES.conservative, bounds);
      expect(r.ok && [r.levels.takeProfit, r.levels.takeProfitSource, r.levels.notes.length]).toEqual([106, 'reward_risk', 1]);
    }
  });

  it('a derived stop closer than 0.1 % is widened to it; farther than 10 % narrowed to it', () => {
    // ATR 0.01: 1.5 x 0.01 = 0.015 < 0.1 (0.1 % of 100) -> stop 99.9, take-profit 100 + 2 x 0.1 = 100.2.
    const tight = deriveLevels({ entry: 100, atr: 0.01 }, SIGNAL_PROFILES.conservative, bounds);
    expect(tight.ok && [tight.levels.stop, tight.levels.takeProfit]).toEqual([99.9, 100.2]);
    // ATR 10: 2.5 x 10 = 25 > 10 -> stop 90, take-profit 100 + 3 x 10 = 130.
    const wide = deriveLevels({ entry: 100, atr: 10 }, SIGNAL_PROFILES.aggressive, bounds);
    expect(wide.ok && [wide.levels.stop, wide.levels.takeProfit]).toEqual([90, 130]);
  });

  it('without an ATR and without a usable stop: NO_ATR', () => {
    expect(deriveLevels({ entry: 100, atr: undefined }, SIGNAL_PROFILES.moderate, bounds)).toMatchObject({ ok: false, reason: 'NO_ATR' });
    expect(deriveLevels({ entry: 100, atr: undefined, stopLoss: 101 }, SIGNAL_PROFILES.moderate, bounds)).toMatchObject({ ok: false, reason: 'NO_ATR' });
    // A usable stop needs no ATR.
    expect(deriveLevels({ entry: 100, atr: undefined, stopLoss: 97 }, SIGNAL_PROFILES.moderate, bounds)).toMatchObject({ ok: true });
  });
});

describe('signal notional per profile', () => {
  it('defaults to signals.defaultNotional (25) and caps at the profile maximum (100 / 250 / 500)', () => {
    expect(signalNotional(undefined, notionalCfg, SIGNAL_PROFILES.conservative)).toEqual({ ok: true, notional: 25, capped: null });
    expect(signalNotional(1000, notionalCfg, SIGNAL_PROFILES.conservative)).toEqual({ ok: true, notional: 100, capped: 'profile' });
    expect(signalNotional(1000, notionalCfg, SIGNAL_PROFILES.moderate)).toEqual({ ok: true, notional: 250, capped: 'profile' });
    expect(signalNotional(1000, notionalCfg, SIGNAL_PROFILES.aggressive)).toEqual({ ok: true, notional: 500, capped: 'profile' });
  });

  it('signals.maxNotional caps below the profile; below signals.minNotional is refused', () => {
    expect(signalNotional(300, { ...notionalCfg, maxNotional: 40 }, SIGNAL_PROFILES.aggressive)).toEqual({ ok: true, notional: 40, capped: 'config' });
    expect(signalNotional(4.99, notionalCfg, SIGNAL_PROFILES.aggressive)).toMatchObject({ ok: false, reason: 'NOTIONAL_TOO_SMALL' });
  });
});
