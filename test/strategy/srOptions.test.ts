/**
 * The S/R strategy's options that are off by default, on the range market of
 * test/helpers/rangeMarket.ts (support 100, resistance 103 on 5m; the trigger candle closes at
 * 100.1 at minute 481). ATR values are computed independently here, with trading-signals' ATR over
 * the 5m candles aggregated from the same 1m candles, so the strategy's plan is checked against a
 * reference rather than against itself.
 */
import { describe, expect, it } from 'vitest';
import { ATR } from 'trading-signals';
import { aggregateCandles } from '../../services/candles/index.js';
import { ConfigError } from '../../services/core/errors.js';
import type { Candle } from '../../services/core/types.js';
import type { Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { SrStrategy } from '../../services/strategy/srStrategy.js';
import { DECISION, K, SIGNAL, SYM, T0, bar, cfg, entered, plain, rangeBar, step, warm } from '../helpers/rangeMarket.js';

/** ATR(14) of the closed 5m candles of the range up to (not including) 1m candle `k`. */
function atr5m(k: number): number {
  const ones: Candle[] = [];
  for (let i = 0; i < k; i++) ones.push(rangeBar(i));
  const a = new ATR(14);
  let v: number | null = null;
  for (const c of aggregateCandles(ones, '1m', '5m')) v = a.update(c, false);
  return v as number;
}

const pos = (over: Partial<PositionView> = {}): PositionView => ({
  id: 'P1',
  symbol: SYM,
  direction: 'long',
  state: 'open',
  entryPrice: 100.1,
  stop: 99.2,
  levelPrice: 100,
  openedAt: T0,
  expiresAt: DECISION + 60 * 60_000,
  breakevenMoved: false,
  quantity: 1,
  entryWorking: false,
  ...over,
});
const quiet = bar(K, 100.3, 100.5, 100.2, 100.4, 100);

describe('entries resting at the level (entry.limitPrice level)', () => {
  it('the intent rests at the level and the plan is made from it', () => {
    const e = entered(step(warm(cfg({ entry: { orderType: 'maker', limitPrice: 'level' } })), plain()));
    expect(e.price).toBe(100.1); // the decision price stays the signal close
    expect(e.limitPrice).toBe(100);
    // From 100: stop 99.2, risk 0.8%; primary max(1.5%, 2 x 0.8%) = 1.6% -> 101.6; the opposite
    // level above 100 x 1.008 is 103: secondary 102.897, aggressive 103.
    expect(e.stop).toBeCloseTo(99.2, 9);
    expect(e.targets.map((t) => t.price)).toEqual([expect.closeTo(101.6, 9), expect.closeTo(102.897, 9), 103]);
  });

  it('the signal close by default, and a level entry needs a limit or maker order type', () => {
    expect(entered(step(warm(cfg({ entry: { orderType: 'maker' } })), plain())).limitPrice).toBeUndefined();
    expect(() => cfg({ entry: { limitPrice: 'level' } })).toThrow(/entry\.limitPrice: 'level' needs entry\.orderType limit or maker/);
  });
});

describe('the break exit (exit.breakExit, exit.breakBandPct)', () => {
  const exitOn = (close: number, volume: number, over: Record<string, unknown> = {}): Intent[] => step(warm(cfg({ exit: over })), bar(K, 100.2, 100.2, close - 0.02, close, volume), {}, pos()).intents;

  it('switched off, a heavy close through the level is no exit', () => {
    expect(exitOn(99.79, 201).map((i) => i.kind)).toEqual(['exit']);
    expect(exitOn(99.79, 201, { breakExit: false })).toEqual([]);
  });

  it('its own band: 0.5% puts the break price at 99.5 instead of 99.8', () => {
    expect(exitOn(99.79, 201, { breakBandPct: 0.5 })).toEqual([]);
    expect(exitOn(99.49, 201, { breakBandPct: 0.5 })[0]).toMatchObject({ kind: 'exit', reason: 'break' });
    // and its own volume threshold stays breakVolumeMultiplier: 3 x 100 = 300 needs more than 300
    expect(exitOn(99.49, 300, { breakBandPct: 0.5, breakVolumeMultiplier: 3 })).toEqual([]);
  });
});

describe('maker time exits (exit.timeExit maker)', () => {
  const at = { expiresAt: DECISION };
  it('sells at the best ask with the configured wait; at the close without a book', () => {
    const c = cfg({ exit: { timeExit: 'maker', makerExitWaitSeconds: 90 } });
    const withBook = step(warm(c), quiet, { book: { time: DECISION, bid: 100.39, bidSize: 1, ask: 100.41, askSize: 1 } }, pos(at)).intents;
    expect(withBook).toEqual([expect.objectContaining({ kind: 'exit', reason: 'time', maker: { price: 100.41, waitMs: 90_000 } })]);
    const noBook = step(warm(c), quiet, {}, pos(at)).intents;
    expect(noBook[0]).toMatchObject({ maker: { price: 100.4, waitMs: 90_000 } });
  });
  it('a market time exit by default (no maker field)', () => {
    expect(step(warm(), quiet, {}, pos(at)).intents[0]).not.toHaveProperty('maker');
  });
});

describe('level timeframes (levels.timeframes)', () => {
  it('only the chosen timeframes give levels: 5m has the support, 15m none (no strict 15m swing)', () => {
    expect(step(warm(cfg({ levels: { methods: { volumeProfile: false, fibonacci: false, pivots: false }, timeframes: ['5m'] } })), plain()).moved).toEqual(SIGNAL);
    expect(step(warm(cfg({ levels: { methods: { volumeProfile: false, fibonacci: false, pivots: false }, timeframes: ['15m'] } })), plain()).moved).toEqual({ evaluated: 1, noLevel: 1 });
  });
  it('levels() lists the levels in force: 100 and 103', () => {
    const s = warm();
    expect(s.levels(SYM)).toEqual([100, 103]);
  });
  it('a level timeframe longer than the pivot period is a config error naming the field', () => {
    expect(() => new SrStrategy(cfg({ levels: { timeframes: ['4h'], pivotTimeframe: '1h' } }))).toThrow(ConfigError);
    expect(() => new SrStrategy(cfg({ levels: { timeframes: ['4h'], pivotTimeframe: '1h' } }))).toThrow(/levels\.timeframes: 4h/);
  });
});

describe('stops and targets in ATR units', () => {
  const atr = atr5m(K + 1);
  it('stop stopAtr ATRs below the level, primary targetAtr ATRs above the entry (at least 2 x risk)', () => {
    expect(atr).toBeGreaterThan(0);
    const e = entered(step(warm(cfg({ exit: { stopAtr: 1, targetAtr: 4, atrTimeframe: '5m' } })), plain()));
    const stop = 100 - atr;
    expect(e.stop).toBeCloseTo(stop, 9);
    const dist = Math.max(4 * atr, 2 * (100.1 - stop));
    expect(e.targets[0]?.label).toBe('primary');
    expect(e.targets[0]?.price).toBeCloseTo(100.1 + dist, 9);
    // the opposite level (103) places the other two as with the percent rules
    expect(e.targets.map((t) => t.price).slice(1)).toEqual([expect.closeTo(102.897, 9), 103]);
  });
  it('a target nearer than minRewardRisk x risk is pushed out to it', () => {
    const e = entered(step(warm(cfg({ exit: { stopAtr: 1, targetAtr: 0.1, atrTimeframe: '5m' } })), plain()));
    expect(e.targets[0]?.price).toBeCloseTo(100.1 + 2 * (100.1 - (100 - atr)), 9);
  });
  it('an ATR not ready yet holds the entry in warm-up (4h ATR after 8 hours)', () => {
    expect(step(warm(cfg({ exit: { stopAtr: 1, atrTimeframe: '4h' }, levels: { methods: { volumeProfile: false, fibonacci: false, pivots: false } } })), plain()).moved).toEqual({ evaluated: 1, warmup: 1 });
  });
});

describe('the ATR trailing stop (exit.trailAtr)', () => {
  const atr = atr5m(K + 1);
  const c = cfg({ exit: { trailAtr: 0.5, atrTimeframe: '5m' } });
  it('moves the stop to the highest high since entry minus trailAtr ATRs, as a trail', () => {
    const up = bar(K, 100.3, 100.8, 100.2, 100.7, 100);
    const r = step(warm(c), up, {}, pos());
    expect(r.intents).toEqual([expect.objectContaining({ kind: 'move_stop', reason: 'trail', id: `P1-tr${DECISION.toString(36)}` })]);
    expect((r.intents[0] as Extract<Intent, { kind: 'move_stop' }>).stop).toBeCloseTo(100.8 - 0.5 * atr, 9);
  });
  it('never proposes a lower stop', () => {
    expect(step(warm(c), bar(K, 100.3, 100.8, 100.2, 100.7, 100), {}, pos({ stop: 100.79 })).intents).toEqual([]);
  });
  it('keeps the highest high: a lower candle after a high one trails from the high', () => {
    const s = warm(c);
    step(s, bar(K, 100.3, 100.8, 100.2, 100.7, 100), {}, pos());
    const r = step(s, bar(K + 1, 100.6, 100.65, 100.5, 100.6, 100), {}, pos());
    // the 5m ATR is unchanged (minute 482 closes no 5m candle): the trail is the same, so only a higher stop than p.stop
    expect((r.intents[0] as Extract<Intent, { kind: 'move_stop' }>).stop).toBeCloseTo(100.8 - 0.5 * atr, 9);
  });
  it('breakeven and trail together: the higher stop wins', () => {
    // high 101.2 >= 101.101: breakeven 100.2001; trail 101.2 - 0.5 ATR
    const r = step(warm(c), bar(K, 100.5, 101.2, 100.4, 101, 100), {}, pos());
    const trail = 101.2 - 0.5 * atr;
    const m = r.intents[0] as Extract<Intent, { kind: 'move_stop' }>;
    expect(m.reason).toBe(trail > 100.2001 ? 'trail' : 'breakeven');
    expect(m.stop).toBeCloseTo(Math.max(trail, 100.2001), 9);
  });
});

describe('the regime filter (entry.regimes)', () => {
  // In the steady range the 5m ATR sits at its own mean (neither volatile nor quiet) and the 5m ADX
  // is about 8: ranging.
  const c = (regimes: string[]) => cfg({ entry: { regimes }, regime: { lookback: 20 } });
  it('allows the regimes listed, refuses the others', () => {
    const e = entered(step(warm(c(['ranging'])), plain()));
    expect(e.reasons).toContain('regime ranging');
    expect(step(warm(c(['trending', 'volatile'])), plain()).moved).toEqual({ evaluated: 1, regimeFilter: 1 });
  });
  it('is off by default (no regime in the reasons)', () => {
    expect(entered(step(warm(), plain())).reasons.some((r) => r.startsWith('regime'))).toBe(false);
  });
});
