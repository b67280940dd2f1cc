/** Search spaces: validated like the config (errors name the field), mapped to values and back, with constraints. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SearchSpace, sameValue, setPath } from '../../services/research/space.js';
import { parseTrialLog } from '../../services/research/trialLog.js';
import { buildRunSpec, OPTIMIZE_DEFAULTS } from '../../services/research/runSpec.js';
import { ConfigError } from '../../services/core/errors.js';

const messageOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('search space validation', () => {
  it('names an unknown config key and the keys expected', () => {
    const m = messageOf(() => SearchSpace.parse({ parameters: { 'entry.proximityPc': { type: 'float', min: 0.1, max: 0.3 } } }));
    expect(m).toContain('space.parameters.entry.proximityPc');
    expect(m).toContain('entry.proximityPc: unknown key');
    expect(m).toContain('proximityPct');
  });

  it('names a range end the config refuses', () => {
    const m = messageOf(() => SearchSpace.parse({ parameters: { 'levels.lookback': { type: 'int', min: 5, max: 100 } } }));
    expect(m).toContain('space.parameters.levels.lookback.min');
    expect(m).toMatch(/levels\.lookback: .*10/);
  });

  it('is strict about its own fields', () => {
    expect(messageOf(() => SearchSpace.parse({ parameters: { 'entry.maxAdx': { type: 'int', min: 10, max: 30, stepp: 5 } } }))).toContain('stepp');
    expect(messageOf(() => SearchSpace.parse({ parameters: {}, extra: 1 }))).toContain('extra');
    expect(messageOf(() => SearchSpace.parse({ parameters: {} }))).toContain('at least one parameter');
    expect(messageOf(() => SearchSpace.parse({ parameters: { 'entry.maxAdx': { type: 'int', min: 30, max: 10 } } }))).toContain('min (30) must be below max (10)');
    expect(messageOf(() => SearchSpace.parse({ parameters: { 'entry.orderType': { type: 'choice', values: ['market', 'stop'] } } }))).toContain('value "stop"');
  });

  it('checks constraints name parameters', () => {
    const p = { 'exit.primaryTargetMinPct': { type: 'float', min: 0.5, max: 2 } };
    expect(messageOf(() => SearchSpace.parse({ parameters: p, constraints: ['exit.primaryTargetMinPct <= exit.nope'] }))).toContain('space.constraints[0]: exit.nope');
    expect(messageOf(() => SearchSpace.parse({ parameters: p, constraints: ['exit.primaryTargetMinPct ~ 1'] }))).toContain('expected "<term> <op> <term>"');
  });

  it('ships a default S/R space the config accepts', () => {
    const s = SearchSpace.parse(JSON.parse(readFileSync('spaces/sr.json', 'utf8')));
    expect(s.keys.length).toBeGreaterThanOrEqual(6);
    const mid = s.decode(s.dims.map((d) => (d.kind === 'choice' ? 0 : 0.5)));
    expect(s.config(mid).ok).toBe(true);
  });
});

describe('the shipped breakout space', () => {
  const input = JSON.parse(readFileSync('spaces/breakout.json', 'utf8')) as Record<string, unknown>;

  it('is valid for the breakout strategy, its points parse, and a trailing stop of none (null) is a choice', () => {
    const s = SearchSpace.parse(input);
    expect(s.spec.strategy).toBe('breakout');
    expect(s.keys).toEqual(expect.arrayContaining(['breakout.channel', 'breakout.exitChannel', 'breakout.stopAtr', 'breakout.timeframe', 'breakout.trailAtr', 'breakout.timeStopHours']));
    const lo = s.decode(s.dims.map(() => 0));
    expect(lo['breakout.trailAtr']).toBeNull();
    const c = s.config(lo);
    expect(c.ok).toBe(true);
    if (c.ok) expect(c.config.breakout).toMatchObject({ channel: 10, exitChannel: 5, stopAtr: 1, timeframe: '15m', trailAtr: null });
    // The constraint: the exit channel never longer than the entry one.
    expect(s.config({ ...lo, 'breakout.channel': 10, 'breakout.exitChannel': 20 })).toEqual({ ok: false, reason: 'constraint breakout.exitChannel <= breakout.channel' });
  });

  it('brings its own run defaults (warm-up, minimum trades), which a flag overrides', () => {
    const range = { start: Date.UTC(2024, 0, 1), end: Date.UTC(2024, 1, 5) };
    const spec = buildRunSpec({ space: input, objective: 'sharpe' }, range, ['x']);
    expect(spec.strategy).toEqual({ name: 'breakout' });
    expect(spec.minTrades).toBe(5);
    expect(spec.foldSettings).toMatchObject({ warmupDays: 3, trainDays: OPTIMIZE_DEFAULTS.trainDays, testDays: OPTIMIZE_DEFAULTS.testDays });
    expect(spec.plan.warmupMs).toBe(3 * 86_400_000);
    const flags = buildRunSpec({ space: input, objective: 'sharpe', minTrades: 12, warmupDays: 2, trainDays: 8 }, range, ['x']);
    expect(flags.minTrades).toBe(12);
    expect(flags.foldSettings).toMatchObject({ warmupDays: 2, trainDays: 8 });
    // The S/R space sets none: the optimiser's defaults.
    const sr = buildRunSpec({ space: JSON.parse(readFileSync('spaces/sr.json', 'utf8')), objective: 'sharpe' }, range, ['x']);
    expect(sr.minTrades).toBe(OPTIMIZE_DEFAULTS.minTrades);
    expect(sr.foldSettings.warmupDays).toBe(OPTIMIZE_DEFAULTS.warmupDays);
    expect(messageOf(() => SearchSpace.parse({ ...input, defaults: { minTrade: 3 } }))).toContain('minTrade');
  });
});

describe('points and values', () => {
  const space = SearchSpace.parse({
    parameters: {
      'entry.proximityPct': { type: 'float', min: 0.05, max: 0.5, step: 0.05 },
      'levels.lookback': { type: 'int', min: 30, max: 200, step: 10 },
      'entry.orderType': { type: 'choice', values: ['market', 'limit'] },
      'exit.stopBeyondLevelPct': { type: 'float', min: 0.1, max: 10, log: true },
      'exit.primaryTargetMinPct': { type: 'float', min: 0.5, max: 3 },
    },
    constraints: ['exit.primaryTargetMinPct <= 2 * exit.stopBeyondLevelPct'],
  });

  it('snaps to the grid: 10 cells of 0.05 from 0.05, 18 of 10 from 30', () => {
    // u = 0.999 is the last cell; u = 0.5 the 6th of 10 (0.05 + 5 x 0.05 = 0.3) and the 10th of 18 (30 + 9 x 10).
    expect(space.decode([0.999, 0.999, 1, 0.5, 0])).toMatchObject({ 'entry.proximityPct': 0.5, 'levels.lookback': 200, 'entry.orderType': 'limit' });
    expect(space.decode([0.5, 0.5, 0, 0, 0])).toMatchObject({ 'entry.proximityPct': 0.3, 'levels.lookback': 120, 'entry.orderType': 'market' });
    // Log scale: the middle of [0.1, 10] is 1.
    expect(space.decode([0, 0, 0, 0.5, 0])['exit.stopBeyondLevelPct']).toBeCloseTo(1, 9);
  });

  it('round-trips values through points', () => {
    const v = { 'entry.proximityPct': 0.35, 'levels.lookback': 70, 'entry.orderType': 'limit', 'exit.stopBeyondLevelPct': 2.5, 'exit.primaryTargetMinPct': 1.25 };
    expect(space.decode(space.encode(v))).toEqual(v);
  });

  it('refuses points that break a constraint or the config, saying which', () => {
    const base = { 'entry.proximityPct': 0.2, 'levels.lookback': 50, 'entry.orderType': 'market', 'exit.stopBeyondLevelPct': 0.5 };
    expect(space.config({ ...base, 'exit.primaryTargetMinPct': 1 }).ok).toBe(true);
    const broken = space.config({ ...base, 'exit.primaryTargetMinPct': 1.5 });
    expect(broken).toEqual({ ok: false, reason: 'constraint exit.primaryTargetMinPct <= 2 * exit.stopBeyondLevelPct' });
    // The config itself: primaryTargetMinPct above the (default 2) max.
    const refused = space.config({ ...base, 'exit.stopBeyondLevelPct': 5, 'exit.primaryTargetMinPct': 2.5 });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.reason).toContain('exit.primaryTargetMinPct');
  });

  it('sets dotted paths without touching the original', () => {
    const a = { entry: { proximityPct: 0.2 } };
    expect(setPath(a, 'entry.confirmations.minConfirmations', 2)).toEqual({ entry: { proximityPct: 0.2, confirmations: { minConfirmations: 2 } } });
    expect(a).toEqual({ entry: { proximityPct: 0.2 } });
  });
});

describe('array-valued choices (JSON values)', () => {
  const space = SearchSpace.parse({
    parameters: {
      'entry.regimes': { type: 'choice', values: [[], ['ranging'], ['ranging', 'quiet']] },
      'levels.timeframes': { type: 'choice', values: [['5m', '15m'], ['1h']] },
      'entry.proximityPct': { type: 'float', min: 0.1, max: 0.3, step: 0.1 },
    },
  });

  it('searches array-valued config keys: points decode to the arrays and the config takes them', () => {
    const v = space.decode([2, 1, 0.5]);
    expect(v).toEqual({ 'entry.regimes': ['ranging', 'quiet'], 'levels.timeframes': ['1h'], 'entry.proximityPct': 0.2 });
    const c = space.config(v);
    expect(c.ok).toBe(true);
    if (c.ok) {
      expect(c.config.entry.regimes).toEqual(['ranging', 'quiet']);
      expect(c.config.levels.timeframes).toEqual(['1h']);
    }
  });

  it('encodes a value read back from JSON (a trial log) to its choice, by content', () => {
    const fromLog = JSON.parse(JSON.stringify({ 'entry.regimes': ['ranging'], 'levels.timeframes': ['5m', '15m'], 'entry.proximityPct': 0.3 })) as Record<string, unknown>;
    expect(space.encode(fromLog as never).slice(0, 2)).toEqual([1, 0]);
    expect(sameValue(['ranging', 'quiet'], JSON.parse('["ranging","quiet"]') as string[])).toBe(true);
    expect(sameValue(['ranging'], ['quiet'])).toBe(false);
    const logged = { v: 1, runId: 'r', trial: 0, fold: 0, phase: 'search', values: fromLog, status: 'invalid', reason: 'x', metrics: null, returns: [], elapsedMs: 0 };
    expect(parseTrialLog(JSON.stringify(logged) + '\n', 'r').outcomes.get(0)?.values).toEqual(fromLog);
  });

  it('checks every array choice with the config parser, naming the one it refuses, and refuses a repeated choice', () => {
    const m = messageOf(() => SearchSpace.parse({ parameters: { 'entry.regimes': { type: 'choice', values: [[], ['sideways']] } } }));
    expect(m).toContain('space.parameters.entry.regimes value ["sideways"]');
    expect(m).toContain('entry.regimes');
    expect(messageOf(() => SearchSpace.parse({ parameters: { 'levels.timeframes': { type: 'choice', values: [['1h'], '1h'] } } }))).toContain('value "1h"');
    expect(messageOf(() => SearchSpace.parse({ parameters: { 'entry.regimes': { type: 'choice', values: [['quiet'], ['quiet']] } } }))).toContain('the choice ["quiet"] is listed twice');
  });
});
