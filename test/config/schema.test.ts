/**
 * The validated configuration: defaults from the product brief, mode defaults (standard vs HF),
 * risk profiles, and error messages that name the field's path and what was expected.
 *
 * The expected numbers are copied from the product brief, not from the schema.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, RISK_PROFILES, type Config } from '../../services/config/schema.js';
import { ConfigError } from '../../services/core/errors.js';

/** Runs parseConfig and returns the ConfigError it throws (fails the test if it does not throw). */
function configError(input: unknown, source?: string): ConfigError {
  try {
    parseConfig(input, source);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected parseConfig(${JSON.stringify(input)}) to throw`);
}

describe('defaults (product brief)', () => {
  const c: Config = parseConfig();

  it('standard mode: proximity 0.2%, volume 1.5x, time stop 240 min, 1m/5m/15m', () => {
    expect(c.mode).toBe('standard');
    expect(c.entry.proximityPct).toBe(0.2);
    expect(c.entry.volumeMultiplier).toBe(1.5);
    expect(c.exit.timeStopMinutes).toBe(240);
    expect(c.modeSettings.timeframes).toEqual(['1m', '5m', '15m']);
  });

  it('HF mode: proximity 0.1%, volume 1.2x, time stop 30 min, 1m/3m/5m', () => {
    const hf = parseConfig({ mode: 'hf' });
    expect(hf.entry.proximityPct).toBe(0.1);
    expect(hf.entry.volumeMultiplier).toBe(1.2);
    expect(hf.exit.timeStopMinutes).toBe(30);
    expect(hf.modeSettings.timeframes).toEqual(['1m', '3m', '5m']);
  });

  it('exit plan: stop 0.8% beyond the level, breakeven after 1%, scale-out 33/33/34, primary 1.5-2%, R:R >= 2', () => {
    expect(c.exit.stopBeyondLevelPct).toBe(0.8);
    expect(c.exit.breakevenAfterPct).toBe(1);
    expect(c.exit.scaleOut).toEqual([0.33, 0.33, 0.34]);
    expect(c.exit.primaryTargetMinPct).toBe(1.5);
    expect(c.exit.primaryTargetMaxPct).toBe(2);
    expect(c.exit.minRewardRisk).toBe(2);
  });

  it('risk: conservative profile, max position 10% of the balance', () => {
    expect(c.risk.profile).toBe('conservative');
    expect(c.riskProfile).toEqual({ riskPerTradePct: 1, maxPositions: 3, dailyLossLimitPct: 2, weeklyLossLimitPct: 5, monthlyLossLimitPct: 10 });
    expect(c.risk.maxPositionPct).toBe(10);
  });

  it('fees: maker 0%, taker 0.05%', () => {
    expect(c.backtest.makerFeePct).toBe(0);
    expect(c.backtest.takerFeePct).toBe(0.05);
  });

  it('the three profiles: risk 1/1.5/2 %, positions 3/5/8, daily 2/3/4 %, weekly 5/7/10 %', () => {
    const want = {
      conservative: { riskPerTradePct: 1, maxPositions: 3, dailyLossLimitPct: 2, weeklyLossLimitPct: 5, monthlyLossLimitPct: 10 },
      moderate: { riskPerTradePct: 1.5, maxPositions: 5, dailyLossLimitPct: 3, weeklyLossLimitPct: 7, monthlyLossLimitPct: 10 },
      aggressive: { riskPerTradePct: 2, maxPositions: 8, dailyLossLimitPct: 4, weeklyLossLimitPct: 10, monthlyLossLimitPct: 10 },
    } as const;
    expect(RISK_PROFILES).toEqual(want);
    for (const profile of ['conservative', 'moderate', 'aggressive'] as const) {
      expect(parseConfig({ risk: { profile } }).riskProfile).toEqual(want[profile]);
    }
  });

  it('no input, {} and null give the same config', () => {
    expect(parseConfig({})).toEqual(c);
    expect(parseConfig(null)).toEqual(c);
  });
});

describe('bad values name the path and what was expected', () => {
  it('risk.profile', () => {
    const e = configError({ risk: { profile: 'yolo' } });
    expect(e.message).toMatch(/risk\.profile/);
    expect(e.message).toMatch(/conservative.*moderate.*aggressive/);
  });

  it('entry.proximityPct', () => {
    const e = configError({ entry: { proximityPct: -1 } });
    expect(e.message).toMatch(/entry\.proximityPct: .*>0/);
    expect(configError({ entry: { proximityPct: 'close' } }).message).toMatch(/entry\.proximityPct: .*expected number/);
  });

  it('exit.scaleOut: three fractions that sum to 1', () => {
    expect(configError({ exit: { scaleOut: [0.5, 0.5] } }).message).toMatch(/exit\.scaleOut: .*3/);
    // 0.5 + 0.3 + 0.3 = 1.1
    expect(configError({ exit: { scaleOut: [0.5, 0.3, 0.3] } }).message).toMatch(/exit\.scaleOut: fractions must sum to 1, got 1\.1/);
    expect(configError({ exit: { scaleOut: [0.5, 0.5, 0] } }).message).toMatch(/exit\.scaleOut\.2: .*>0/);
  });

  it('backtest.takerFeePct', () => {
    const e = configError({ backtest: { takerFeePct: 5 } });
    expect(e.message).toMatch(/backtest\.takerFeePct: .*<=1/);
  });

  it('nested paths: risk.overrides.maxPositions, entry.confirmations.minConfirmations', () => {
    expect(configError({ risk: { overrides: { maxPositions: 2.5 } } }).message).toMatch(/risk\.overrides\.maxPositions: .*int/);
    expect(configError({ entry: { confirmations: { minConfirmations: 9 } } }).message).toMatch(/entry\.confirmations\.minConfirmations: .*<=4/);
  });

  it('mode', () => {
    expect(configError({ mode: 'turbo' }).message).toMatch(/mode: .*standard.*hf/);
  });

  it('cross-field rules', () => {
    // 3% min target above the 2% max default
    expect(configError({ exit: { primaryTargetMinPct: 3 } }).message).toMatch(/exit\.primaryTargetMinPct: must not exceed exit\.primaryTargetMaxPct/);
    expect(configError({ risk: { minNotional: 10, maxNotional: 5 } }).message).toMatch(/risk\.minNotional: must not exceed risk\.maxNotional/);
  });

  it('names every bad field at once, and the source', () => {
    const e = configError({ risk: { profile: 'x' }, backtest: { takerFeePct: -1 } }, 'config (my.json)');
    expect(e.message.startsWith('invalid config (my.json): ')).toBe(true);
    expect(e.message).toMatch(/risk\.profile/);
    expect(e.message).toMatch(/backtest\.takerFeePct/);
  });

  it('is a ConfigError that keeps the zod error as its cause', () => {
    const e = configError({ backtest: { takerFeePct: 5 } });
    expect(e.name).toBe('ConfigError');
    expect(e.cause).toBeDefined();
  });

  it('rejects a non-object config', () => {
    expect(configError([]).message).toMatch(/\(root\): .*expected object/);
    expect(configError('standard').message).toMatch(/expected object/);
    expect(configError({ entry: 5 }).message).toMatch(/entry: /);
  });
});

describe('unknown keys are rejected, naming the key', () => {
  it('at the top level', () => {
    const e = configError({ proximityPct: 0.3 });
    expect(e.message).toMatch(/proximityPct: unknown key/);
    // says which keys are valid there
    expect(e.message).toMatch(/expected one of .*entry/);
  });

  it('in entry (a typo: proximty)', () => {
    const e = configError({ entry: { proximty: 0.3 } });
    expect(e.message).toMatch(/entry\.proximty: unknown key/);
    expect(e.message).toMatch(/proximityPct/);
    expect(e.message).not.toMatch(/\(root\)/);
  });

  it('deeper down: levels.methods, risk.overrides, entry.confirmations, exit, backtest', () => {
    expect(configError({ levels: { methods: { pivot: true } } }).message).toMatch(/levels\.methods\.pivot: unknown key .*pivots/);
    expect(configError({ risk: { overrides: { maxPosition: 2 } } }).message).toMatch(/risk\.overrides\.maxPosition: unknown key .*maxPositions/);
    expect(configError({ entry: { confirmations: { rsi: true } } }).message).toMatch(/entry\.confirmations\.rsi: unknown key .*rsiDivergence/);
    expect(configError({ exit: { timeStop: 5 } }).message).toMatch(/exit\.timeStop: unknown key .*timeStopMinutes/);
    expect(configError({ backtest: { takerFee: 0.1 } }).message).toMatch(/backtest\.takerFee: unknown key .*takerFeePct/);
  });

  it('names each of several unknown keys', () => {
    const e = configError({ foo: 1, bar: 2 });
    expect(e.message).toMatch(/foo: unknown key/);
    expect(e.message).toMatch(/bar: unknown key/);
  });
});

describe('overrides', () => {
  it('user values beat the mode defaults; unset fields keep the mode default', () => {
    const c = parseConfig({ mode: 'hf', entry: { proximityPct: 0.3 }, exit: { timeStopMinutes: 45 } });
    expect(c.entry.proximityPct).toBe(0.3);
    expect(c.entry.volumeMultiplier).toBe(1.2); // HF default, not overridden
    expect(c.exit.timeStopMinutes).toBe(45);
    const s = parseConfig({ entry: { volumeMultiplier: 2 } });
    expect(s.entry.volumeMultiplier).toBe(2);
    expect(s.entry.proximityPct).toBe(0.2);
    expect(s.exit.timeStopMinutes).toBe(240);
  });

  it('profile overrides merge over the chosen profile', () => {
    const c = parseConfig({ risk: { profile: 'aggressive', overrides: { maxPositions: 4 } } });
    // aggressive 2 / 8 / 4 / 10 with maxPositions replaced by 4
    expect(c.riskProfile).toEqual({ riskPerTradePct: 2, maxPositions: 4, dailyLossLimitPct: 4, weeklyLossLimitPct: 10, monthlyLossLimitPct: 10 });
    // the built-in table is not modified by the merge
    expect(RISK_PROFILES.aggressive.maxPositions).toBe(8);
    const m = parseConfig({ risk: { profile: 'moderate', overrides: { riskPerTradePct: 0.5, weeklyLossLimitPct: 6, monthlyLossLimitPct: 10 } } });
    expect(m.riskProfile).toEqual({ riskPerTradePct: 0.5, maxPositions: 5, dailyLossLimitPct: 3, weeklyLossLimitPct: 6, monthlyLossLimitPct: 10 });
  });

  it('partial nested objects keep the other defaults', () => {
    const c = parseConfig({ backtest: { takerFeePct: 0.1 }, levels: { methods: { fibonacci: false } } });
    expect(c.backtest.takerFeePct).toBe(0.1);
    expect(c.backtest.makerFeePct).toBe(0);
    expect(c.levels.methods).toEqual({ extrema: true, volumeProfile: true, fibonacci: false, pivots: true });
  });
});

describe('execution (safe order path, issue 3)', () => {
  it('defaults from the brief: 5 orders/s burst 20; backoff 1 s to 30 s, 5 attempts; breaker 5 failures/60 s, open 30 s, 1 probe; stuck 60 s cancel; emergency 2%', () => {
    expect(parseConfig().execution).toEqual({
      rateLimit: { ordersPerSecond: 5, burst: 20 },
      retry: { baseMs: 1000, maxMs: 30_000, maxAttempts: 5 },
      circuitBreaker: { failureThreshold: 5, windowMs: 60_000, openMs: 30_000, halfOpenMaxProbes: 1 },
      stuckOrders: { timeoutMs: 60_000, policy: 'cancel' },
      emergency: { throughBookPct: 2 },
      priceCheck: { maxDeviationPct: 1, maxAgeMs: 120_000, whenUnavailable: 'refuse', timeoutMs: 1500 },
    });
  });

  it('the price check: 1 % by default, bounded, and its unavailable policy is one of two words', () => {
    expect(parseConfig({ execution: { priceCheck: { maxDeviationPct: 0.5, whenUnavailable: 'allow' } } }).execution.priceCheck).toEqual({ maxDeviationPct: 0.5, maxAgeMs: 120_000, whenUnavailable: 'allow', timeoutMs: 1500 });
    expect(configError({ execution: { priceCheck: { maxDeviationPct: 0 } } }).message).toMatch(/execution\.priceCheck\.maxDeviationPct: .*>0/);
    expect(configError({ execution: { priceCheck: { maxDeviationPct: 80 } } }).message).toMatch(/execution\.priceCheck\.maxDeviationPct: .*<=50/);
    expect(configError({ execution: { priceCheck: { whenUnavailable: 'ignore' } } }).message).toMatch(/execution\.priceCheck\.whenUnavailable: .*refuse.*allow/);
    expect(configError({ execution: { priceCheck: { maxDeviation: 1 } } }).message).toMatch(/execution\.priceCheck\.maxDeviation: unknown key .*maxDeviationPct/);
  });

  it('partial overrides keep the other defaults', () => {
    const c = parseConfig({ execution: { stuckOrders: { policy: 'replace' }, retry: { maxAttempts: 3 } } });
    expect(c.execution.stuckOrders).toEqual({ timeoutMs: 60_000, policy: 'replace' });
    expect(c.execution.retry).toEqual({ baseMs: 1000, maxMs: 30_000, maxAttempts: 3 });
    expect(c.execution.rateLimit).toEqual({ ordersPerSecond: 5, burst: 20 });
  });

  it('bad values name their path', () => {
    expect(configError({ execution: { rateLimit: { burst: 0 } } }).message).toMatch(/execution\.rateLimit\.burst: .*>=1/);
    expect(configError({ execution: { rateLimit: { ordersPerSecond: -5 } } }).message).toMatch(/execution\.rateLimit\.ordersPerSecond: .*>0/);
    expect(configError({ execution: { retry: { maxAttempts: 2.5 } } }).message).toMatch(/execution\.retry\.maxAttempts: .*int/);
    expect(configError({ execution: { stuckOrders: { policy: 'chase' } } }).message).toMatch(/execution\.stuckOrders\.policy: .*cancel.*replace/);
    expect(configError({ execution: { emergency: { throughBookPct: 0 } } }).message).toMatch(/execution\.emergency\.throughBookPct: .*>0/);
    expect(configError({ execution: { circuitBreaker: { halfOpenMaxProbes: 0 } } }).message).toMatch(/execution\.circuitBreaker\.halfOpenMaxProbes: .*>=1/);
  });

  it('unknown keys and the backoff order are rejected', () => {
    expect(configError({ execution: { retry: { attempts: 3 } } }).message).toMatch(/execution\.retry\.attempts: unknown key .*maxAttempts/);
    expect(configError({ execution: { rateLimit: { perSecond: 3 } } }).message).toMatch(/execution\.rateLimit\.perSecond: unknown key .*ordersPerSecond/);
    // 40 s base above the 30 s default cap
    expect(configError({ execution: { retry: { baseMs: 40_000 } } }).message).toMatch(/execution\.retry\.baseMs: must not exceed execution\.retry\.maxMs/);
  });
});

describe('the research options (all off by default)', () => {
  it('defaults reproduce today’s behaviour', () => {
    const c = parseConfig({});
    expect([c.entry.orderType, c.entry.limitPrice, c.entry.regimes]).toEqual(['market', 'signal', []]);
    expect(c.exit).toMatchObject({ breakExit: true, breakBandPct: null, timeExit: 'market', makerExitWaitSeconds: 60, stopAtr: null, targetAtr: null, trailAtr: null, atrTimeframe: null });
    expect(c.levels.timeframes).toEqual([]);
    expect(c.regime).toEqual({ timeframe: null, trendAdx: 25, volatileRatio: 1.5, quietRatio: 0.67, lookback: 100 });
    expect(c.breakout).toEqual({ timeframe: '1h', channel: 20, exitChannel: 10, atrPeriod: 14, stopAtr: 2, targetAtr: null, trailAtr: null, timeStopHours: 168 });
    expect(c.strategyParams).toEqual({});
  });

  it('bad values and unknown keys name their path', () => {
    expect(configError({ entry: { orderType: 'stop' } }).message).toMatch(/entry\.orderType: .*market.*limit.*maker/);
    expect(configError({ entry: { regimes: ['bullish'] } }).message).toMatch(/entry\.regimes\.0: /);
    expect(configError({ exit: { trailAtr: 0 } }).message).toMatch(/exit\.trailAtr: /);
    expect(configError({ exit: { timeExit: 'limit' } }).message).toMatch(/exit\.timeExit: /);
    expect(configError({ levels: { timeframes: ['2m'] } }).message).toMatch(/levels\.timeframes\.0: /);
    expect(configError({ regime: { quietRatio: 1.2 } }).message).toMatch(/regime\.quietRatio: /);
    expect(configError({ breakout: { chanel: 20 } }).message).toMatch(/breakout\.chanel: unknown key .*channel/);
    expect(configError({ risk: { sizing: { kelly: 0.5 } } }).message).toMatch(/risk\.sizing\.kelly: unknown key .*kellyFraction/);
  });
});
