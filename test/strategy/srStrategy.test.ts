/**
 * Unit tests of SrStrategy: every entry rule passing and blocking (read from the funnel counters),
 * the exit plan, position management, the HF mode and deterministic ids. The market is the range
 * of test/helpers/rangeMarket.ts (its comment works out the levels, touches and ADX).
 */
import { describe, it, expect } from 'vitest';
import { SrStrategy, type EntryFunnel, type MarketContext } from '../../services/strategy/srStrategy.js';
import type { Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { DECISION, K, MIN, PERIOD, SIGNAL, SYM, T0, bar, cfg, delta, entered, feed, hammer, plain, r3, rangeBar, step, warm } from '../helpers/rangeMarket.js';

describe('SrStrategy: configuration per mode', () => {
  it('standard: 0.2% proximity, 1.5x volume, 4 h time stop, 1m/5m/15m', () => {
    const c = parseConfig({});
    expect(c.entry.proximityPct).toBe(0.2);
    expect(c.entry.volumeMultiplier).toBe(1.5);
    expect(c.entry.maxAdx).toBe(25);
    expect(c.entry.maxSpreadPct).toBe(0.1);
    expect(c.entry.minQuoteVolume24h).toBe(1_000_000);
    expect(c.exit.timeStopMinutes).toBe(240);
    expect(c.exit.stopBeyondLevelPct).toBe(0.8);
    expect(c.exit.breakevenAfterPct).toBe(1);
    expect(c.exit.scaleOut).toEqual([0.33, 0.33, 0.34]);
    expect(c.modeSettings.timeframes).toEqual(['1m', '5m', '15m']);
  });
  it('hf: 0.1% proximity, 1.2x volume, 30 min time stop, 1m/3m/5m', () => {
    const c = parseConfig({ mode: 'hf' });
    expect(c.entry.proximityPct).toBe(0.1);
    expect(c.entry.volumeMultiplier).toBe(1.2);
    expect(c.exit.timeStopMinutes).toBe(30);
    expect(c.modeSettings.timeframes).toEqual(['1m', '3m', '5m']);
  });
});

describe('SrStrategy: entry rules', () => {
  it('warmup: nothing is evaluated further until the 5m ADX exists', () => {
    // ADX(14) needs 2 x 14 - 1 = 27 5m candles; the 27th closes with 1m candle 4 + 26 x 5 = 134,
    // so candles 0..133 (134) stop at warmup. The other 481 - 134 = 347 have volume 100, not above
    // 1.5 x the average 100: they stop at the volume rule.
    const s = warm();
    expect(s.funnel).toEqual({ evaluated: 481, warmup: 134, quoteVolume: 0, spread: 0, volume: 347, regime: 0, regimeFilter: 0, noLevel: 0, confirmations: 0, rewardRisk: 0, signals: 0 });
  });

  it('a volume spike at the support after the warm-up is a signal', () => {
    const s = warm();
    const r = step(s, plain());
    expect(r.moved).toEqual(SIGNAL);
    const e = entered(r);
    expect(e.symbol).toBe(SYM);
    expect(e.direction).toBe('long');
    expect(e.time).toBe(DECISION);
    expect(e.price).toBe(100.1);
    expect(e.level.price).toBe(100);
    expect(e.level.touches).toBe(6); // see the file comment
    expect(e.level.sources).toEqual(['extrema']);
  });

  it('quote volume: blocks below $1M of 24 h volume, passes above it and when unknown', () => {
    expect(step(warm(), plain(), { quoteVolume24h: 999_999 }).moved).toEqual({ evaluated: 1, quoteVolume: 1 });
    expect(step(warm(), plain(), { quoteVolume24h: 1_000_001 }).moved).toEqual(SIGNAL);
    // "above $1M": exactly 1,000,000 is not above.
    expect(step(warm(), plain(), { quoteVolume24h: 1_000_000 }).moved).toEqual({ evaluated: 1, quoteVolume: 1 });
    expect(step(warm(), plain(), {}).moved).toEqual(SIGNAL);
  });

  it('spread: blocks above 0.1% when book data is present, passes below it', () => {
    const book = (bid: number, ask: number): MarketContext => ({ book: { time: DECISION, bid, ask, bidSize: 1, askSize: 1 } });
    // bid 100, ask 100.2: spread 0.2 / mid 100.1 = 0.1998% > 0.1%
    expect(step(warm(), plain(), book(100, 100.2)).moved).toEqual({ evaluated: 1, spread: 1 });
    // bid 100.09, ask 100.11: 0.02 / 100.1 = 0.02%
    expect(step(warm(), plain(), book(100.09, 100.11)).moved).toEqual(SIGNAL);
    // "below 0.1%": bid 999.5, ask 1000.5 is 1 / 1000 = exactly 0.1% (exact in floats), not below.
    expect(step(warm(), plain(), book(999.5, 1000.5)).moved).toEqual({ evaluated: 1, spread: 1 });
    // A book without a price (mid 0) is unusable: blocked.
    expect(step(warm(), plain(), book(0, 0)).moved).toEqual({ evaluated: 1, spread: 1 });
  });

  it('volume: needs strictly more than 1.5 x the average of the 20 candles before', () => {
    // average 100: 150 is not above 1.5 x 100; 151 is.
    expect(step(warm(), plain(100.1, 150)).moved).toEqual({ evaluated: 1, volume: 1 });
    expect(step(warm(), plain(100.1, 151)).moved).toEqual(SIGNAL);
  });

  it('regime: blocks when the 5m ADX is not below maxAdx', () => {
    // The range's 5m ADX is about 8: below the default 25, not below 5.
    expect(step(warm(cfg({ entry: { maxAdx: 5 } })), plain()).moved).toEqual({ evaluated: 1, regime: 1 });
    expect(step(warm(cfg({ entry: { maxAdx: 25 } })), plain()).moved).toEqual(SIGNAL);
  });

  it('regime: a steady trend has an ADX far above 25 and is blocked', () => {
    // 481 candles rising 0.01 per minute from 100: every 5m candle has a higher high and higher low,
    // only +DM: ADX -> 100. A volume spike then stops at the regime rule.
    const up = (k: number): Candle => bar(k, r3(100 + 0.01 * k), r3(100 + 0.01 * (k + 1) + 0.005), r3(100 + 0.01 * k - 0.005), r3(100 + 0.01 * (k + 1)), 100);
    const s = feed(new SrStrategy(cfg()), up, 0, K);
    const c = up(K);
    expect(step(s, { ...c, volume: 300 }).moved).toEqual({ evaluated: 1, regime: 1 });
  });

  it('level: the support must lie within 0.2% below the close', () => {
    // close 100.19: floor = 100.19 x 0.998 = 99.98962 <= 100 -> at the level
    expect(step(warm(), plain(100.19)).moved).toEqual(SIGNAL);
    // close 100.21: floor = 100.21 x 0.998 = 100.00958 > 100 -> too far above
    expect(step(warm(), plain(100.21)).moved).toEqual({ evaluated: 1, noLevel: 1 });
    // close 100.6, mid-range: no level near
    expect(step(warm(), plain(100.6)).moved).toEqual({ evaluated: 1, noLevel: 1 });
  });

  it('level: a level just above the close is resistance, not a support to bounce off', () => {
    // close 99.95: the level 100 is 0.05% away but above the price; no support below at all.
    expect(step(warm(), plain(99.95)).moved).toEqual({ evaluated: 1, noLevel: 1 });
  });

  it('level: the default detection methods find a support near 100 too', () => {
    // Volume profile, Fibonacci and pivots add levels inside the range, but the only one within
    // 0.2% below 100.1 is the swing low at 100 (its touches counted the same way: 6).
    const s = warm(parseConfig({}));
    const e = entered(step(s, plain()));
    expect(e.level.price).toBe(100);
    expect(e.level.touches).toBe(6);
  });
});

describe('SrStrategy: confirmations', () => {
  const only = (which: string, extra: Record<string, unknown> = {}): Config =>
    cfg({
      entry: {
        confirmations: { candlestickPattern: false, rsiDivergence: false, multiTimeframe: false, levelStrength: false, minConfirmations: 1, ...{ [which]: true }, ...extra },
      },
    });

  it('none needed: minConfirmations 0 takes any candle at the level', () => {
    const c = cfg({ entry: { confirmations: { candlestickPattern: false, multiTimeframe: false, levelStrength: false, minConfirmations: 0 } } });
    expect(step(warm(c), plain()).moved).toEqual(SIGNAL);
  });

  it('candlestick pattern: a hammer at the level confirms, a plain red candle does not', () => {
    expect(step(warm(only('candlestickPattern')), plain()).moved).toEqual({ evaluated: 1, confirmations: 1 });
    const e = entered(step(warm(only('candlestickPattern')), hammer()));
    expect(e.reasons).toContain('hammer');
  });

  it('level strength: confirms when the level has at least minLevelTouches touches', () => {
    // The level has 6 touches.
    expect(step(warm(only('levelStrength', { minLevelTouches: 6 })), plain()).moved).toEqual(SIGNAL);
    expect(step(warm(only('levelStrength', { minLevelTouches: 7 })), plain()).moved).toEqual({ evaluated: 1, confirmations: 1 });
  });

  it('multi-timeframe: confirms when the 15m trend is not down, blocks after a long 15m decline', () => {
    // In the range the 15m ADX is about 4: not trending.
    expect(step(warm(only('multiTimeframe')), plain()).moved).toEqual(SIGNAL);
    // 8 hours falling linearly from 115 to 100.525, then the range (indices shifted by 480, a whole
    // number of cycles, so the shape and the 5m alignment are the same). 201 minutes into the range
    // the 5m ADX has decayed to about 15 (< 25: the regime passes) while the 15m ADX is still about
    // 57 with -DI above +DI: the higher timeframe is trending down.
    const D = 480;
    const start = rangeBar(0).open;
    const fall = (k: number): Candle => {
      const o = r3(115 + ((start - 115) * k) / D);
      const c = r3(115 + ((start - 115) * (k + 1)) / D);
      return bar(k, o, r3(o + 0.01), r3(c - 0.01), c, 100);
    };
    const gen = (k: number): Candle => (k < D ? fall(k) : { ...rangeBar(k - D), openTime: T0 + k * MIN });
    const trigger = (c: Config): { moved: Partial<EntryFunnel> } => {
      const s = feed(new SrStrategy(c), gen, 0, D + 201);
      return step(s, bar(D + 201, 100.3, 100.32, 100.08, 100.1, 200));
    };
    expect(trigger(only('multiTimeframe')).moved).toEqual({ evaluated: 1, confirmations: 1 });
    // The same candle passes on level strength alone: it is the 15m trend that blocked it.
    expect(trigger(only('levelStrength', { minLevelTouches: 2 })).moved).toEqual(SIGNAL);
  });

  it('RSI divergence: confirms a lower low made on higher RSI, not equal lows', () => {
    // Equal lows (every cycle bottoms at exactly 100): no lower low, no divergence.
    expect(step(warm(only('rsiDivergence')), plain()).moved).toEqual({ evaluated: 1, confirmations: 1 });
    // Candles 0..482 as the range (the bottom wick to 100 at 482, after a 20-minute fall: low RSI),
    // 483..490 as the range's rise, then a single sharp drop at 491 to a low of 99.97 after 8 rising
    // candles: RSI(14) about 32 there against about 18.5 at 482 (after a 20-minute fall), so a lower
    // low on a higher RSI, 9 candles apart (>= the detector's minimum distance of 5).
    // 492 and 493 stay above 99.97 (the swing's right wing of 2), so the swing is confirmed at 493
    // and counts for 5 candles: the trigger at 496 (minute 1 of a 5m bucket) is within them.
    const gen = (k: number): Candle => {
      if (k <= 490) return rangeBar(k);
      if (k === 491) return bar(k, 101.305, 101.31, 99.97, 100.05, 100);
      return bar(k, 100.05, 100.12, 100.02, 100.1, 100);
    };
    const s = feed(new SrStrategy(only('rsiDivergence')), gen, 0, 496);
    const e = entered(step(s, bar(496, 100.12, 100.14, 100.08, 100.1, 200)));
    expect(e.reasons).toContain('RSI divergence');
  });

  it('several confirmations: minConfirmations 2 needs two of the enabled ones', () => {
    const two = (min: number): Config =>
      cfg({ entry: { confirmations: { candlestickPattern: true, rsiDivergence: false, multiTimeframe: false, levelStrength: true, minConfirmations: min, minLevelTouches: 3 } } });
    // plain candle: level strength only (1 of 2)
    expect(step(warm(two(2)), plain()).moved).toEqual({ evaluated: 1, confirmations: 1 });
    // hammer: pattern and level strength (2 of 2)
    expect(step(warm(two(2)), hammer()).moved).toEqual(SIGNAL);
  });
});

describe('SrStrategy: exit plan', () => {
  // Entry 100.1 off the support 100 (default exit config):
  //   stop    = 100 x (1 - 0.8%) = 99.2
  //   risk    = (100.1 - 99.2) / 100.1 = 0.8991%
  //   primary = max(1.5%, 2 x 0.8991%) = 1.7982% -> 100.1 x 1.017982 = 100.1 + 2 x 0.9 = 101.9
  //   the opposite level is the nearest resistance above entry + risk = 100.1 + 0.9 = 101.0.
  it('range 100..103: stop 99.2, targets 101.9 / 102.897 / 103 with 33/33/34', () => {
    const e = entered(step(warm(), plain()));
    expect(e.stop).toBeCloseTo(99.2, 9);
    expect(e.oppositeLevel).toBe(103);
    // secondary = 103 x (1 - 0.1%) = 102.897; aggressive at 103
    expect(e.targets.map((t) => t.label)).toEqual(['primary', 'secondary', 'aggressive']);
    expect(e.targets[0]?.price).toBeCloseTo(101.9, 9);
    expect(e.targets[1]?.price).toBeCloseTo(102.897, 9);
    expect(e.targets[2]?.price).toBe(103);
    expect(e.targets.map((t) => t.fraction)).toEqual([0.33, 0.33, 0.34]);
    // reward to risk of the primary: 1.8 / 0.9 = 2
    expect(((e.targets[0]?.price as number) - e.price) / (e.price - e.stop)).toBeCloseTo(2, 9);
    expect(e.expiresAt).toBe(DECISION + 240 * MIN);
  });

  it('range 100..102: the secondary (101.898) comes before the primary (101.9) and takes the first fraction', () => {
    const e = entered(step(warm(cfg(), { hi: 102 }), plain()));
    expect(e.oppositeLevel).toBe(102);
    expect(e.targets.map((t) => t.label)).toEqual(['secondary', 'primary', 'aggressive']);
    expect(e.targets[0]?.price).toBeCloseTo(101.898, 9);
    expect(e.targets[1]?.price).toBeCloseTo(101.9, 9);
    expect(e.targets[2]?.price).toBe(102);
    expect(e.targets.map((t) => t.fraction)).toEqual([0.33, 0.33, 0.34]);
  });

  it('range 100..100.8: a resistance nearer than entry + risk is ignored; without another, 1.5x and 2x the primary', () => {
    // 100.8 < 101.0: not worth a third of the position. No other resistance:
    // secondary = 100.1 + 1.5 x 1.8 = 102.8, aggressive = 100.1 + 2 x 1.8 = 103.7.
    const e = entered(step(warm(cfg(), { hi: 100.8 }), plain()));
    expect(e.oppositeLevel).toBeNull();
    expect(e.targets.map((t) => t.label)).toEqual(['primary', 'secondary', 'aggressive']);
    expect(e.targets[0]?.price).toBeCloseTo(101.9, 9);
    expect(e.targets[1]?.price).toBeCloseTo(102.8, 9);
    expect(e.targets[2]?.price).toBeCloseTo(103.7, 9);
  });

  it('the primary is at least 1.5% when 2 x risk is less', () => {
    // stop 0.5% beyond: 99.5; risk 0.6 / 100.1 = 0.5994%; 2 x risk = 1.1988% < 1.5%
    // primary = 100.1 x 1.015 = 101.6015
    const e = entered(step(warm(cfg({ exit: { stopBeyondLevelPct: 0.5 } })), plain()));
    expect(e.stop).toBeCloseTo(99.5, 9);
    expect(e.targets[0]?.label).toBe('primary');
    expect(e.targets[0]?.price).toBeCloseTo(101.6015, 9);
  });

  it('a trade whose primary would exceed 2% (2 x risk > 2%) is not taken', () => {
    // stop 1% beyond: 99.0; risk 1.1 / 100.1 = 1.0989%; 2 x risk = 2.1978% > 2% -> rejected
    expect(step(warm(cfg({ exit: { stopBeyondLevelPct: 1 } })), plain()).moved).toEqual({ evaluated: 1, rewardRisk: 1 });
    // stop 0.9% beyond: 99.1; risk 1.0 / 100.1 = 0.999%; 2 x risk = 1.998% <= 2% -> taken, primary 102.1
    const e = entered(step(warm(cfg({ exit: { stopBeyondLevelPct: 0.9 } })), plain()));
    expect(e.targets[0]?.price).toBeCloseTo(102.1, 9);
  });
});

describe('SrStrategy: management of an open position', () => {
  /** A long from 100.1 off the level 100, opened at the decision before minute 481. */
  const pos = (over: Partial<PositionView> = {}): PositionView => ({
    id: 'TESTUSDTLpos',
    symbol: SYM,
    direction: 'long',
    state: 'open',
    entryPrice: 100.1,
    stop: 99.2,
    levelPrice: 100,
    openedAt: T0 + 400 * MIN,
    expiresAt: T0 + 640 * MIN,
    breakevenMoved: false,
    quantity: 1,
    entryWorking: false,
    ...over,
  });
  const manage = (c: Candle, p: PositionView, config: Config = cfg()): { intents: Intent[]; moved: Partial<EntryFunnel> } => step(warm(config), c, {}, p);
  // A quiet candle at minute 481 (close time T0 + 482 min): no break, no breakeven.
  const quiet = bar(K, 100.3, 100.5, 100.2, 100.4, 100);

  it('does not evaluate entries while a position is open', () => {
    const r = manage(plain(), pos());
    expect(r.intents).toEqual([]);
    expect(r.moved).toEqual({});
  });

  it('time stop: exits once the candle closes at or after expiresAt', () => {
    expect(manage(quiet, pos({ expiresAt: DECISION + 1 })).intents).toEqual([]);
    expect(manage(quiet, pos({ expiresAt: DECISION })).intents).toEqual([
      { kind: 'exit', id: 'TESTUSDTLpos-time', symbol: SYM, positionId: 'TESTUSDTLpos', time: DECISION, reason: 'time', detail: 'time stop of 240 min reached' },
    ]);
  });

  it('breakeven: moves the stop to entry + 0.1% once the high reaches entry + 1%', () => {
    // trigger: high >= 100.1 x 1.01 = 101.101; new stop 100.1 x 1.001 = 100.2001
    const up = (high: number): Candle => bar(K, 100.5, high, 100.4, 101, 100);
    expect(manage(up(101.09), pos()).intents).toEqual([]);
    const r = manage(up(101.11), pos());
    expect(r.intents).toHaveLength(1);
    const m = r.intents[0] as Intent;
    expect(m).toMatchObject({ kind: 'move_stop', id: 'TESTUSDTLpos-be', positionId: 'TESTUSDTLpos', time: DECISION, reason: 'breakeven' });
    expect(m.kind === 'move_stop' ? m.stop : NaN).toBeCloseTo(100.2001, 9);
    // Not twice, and never to a lower stop.
    expect(manage(up(101.11), pos({ breakevenMoved: true })).intents).toEqual([]);
    expect(manage(up(101.11), pos({ stop: 100.3 })).intents).toEqual([]);
  });

  it('break: exits on a close below level x (1 - 0.2%) = 99.8 on volume above 2 x average (200)', () => {
    const exit = (close: number, volume: number): Intent[] => manage(bar(K, 100.2, 100.2, close - 0.02, close, volume), pos()).intents;
    const r = exit(99.79, 201);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ kind: 'exit', id: 'TESTUSDTLpos-break', reason: 'break', time: DECISION });
    // low volume: a dip through the level is not a break
    expect(exit(99.79, 200)).toEqual([]);
    expect(exit(99.5, 150)).toEqual([]);
    // heavy volume but the close is still within the band around the level
    expect(exit(99.85, 1000)).toEqual([]);
  });

  it('the time stop is checked before the break', () => {
    const r = manage(bar(K, 100.2, 100.2, 99.7, 99.72, 1000), pos({ expiresAt: DECISION }));
    expect(r.intents.map((i) => (i.kind === 'exit' ? i.reason : i.kind))).toEqual(['time']);
  });

  it('a position still entering is left alone', () => {
    expect(manage(quiet, pos({ state: 'entering', expiresAt: DECISION })).intents).toEqual([]);
  });
});

describe('SrStrategy: HF mode', () => {
  const hf = (over: Record<string, unknown> = {}): Config => cfg({ mode: 'hf', ...over });

  it('warms up on the 3m ADX: 27 3m candles, the 27th closing with 1m candle 2 + 26 x 3 = 80', () => {
    const s = warm(hf());
    expect(s.funnel.warmup).toBe(80);
    expect(s.funnel.signals).toBe(0);
  });

  it('volume above 1.2x is enough (1.25x would not be in standard mode)', () => {
    expect(step(warm(hf()), plain(100.09, 125)).moved).toEqual(SIGNAL);
    expect(step(warm(hf()), plain(100.09, 120)).moved).toEqual({ evaluated: 1, volume: 1 });
    expect(step(warm(), plain(100.09, 125)).moved).toEqual({ evaluated: 1, volume: 1 });
  });

  it('proximity 0.1%: 100.09 is at the level, 100.15 is not (it is in standard mode)', () => {
    // 100.09 x 0.999 = 99.98991 <= 100; 100.15 x 0.999 = 100.04985 > 100; 100.15 x 0.998 = 99.9497
    expect(step(warm(hf()), plain(100.09)).moved).toEqual(SIGNAL);
    expect(step(warm(hf()), plain(100.15)).moved).toEqual({ evaluated: 1, noLevel: 1 });
    expect(step(warm(), plain(100.15)).moved).toEqual(SIGNAL);
  });

  it('time stop of 30 minutes', () => {
    const e = entered(step(warm(hf()), plain(100.09)));
    expect(e.expiresAt - e.time).toBe(30 * MIN);
    // stop 99.2, risk 0.89 / 100.09; primary = 100.09 + 2 x 0.89 = 101.87
    expect(e.stop).toBeCloseTo(99.2, 9);
    expect(e.targets.find((t) => t.label === 'primary')?.price).toBeCloseTo(101.87, 9);
  });

  it('break band of 0.1%: a heavy close at 99.85 breaks the level in HF (band 99.9), not in standard (99.8)', () => {
    const p: PositionView = { id: 'P', symbol: SYM, direction: 'long', state: 'open', entryPrice: 100.05, stop: 99.2, levelPrice: 100, openedAt: T0, expiresAt: DECISION + 10 * MIN, breakevenMoved: false, quantity: 1, entryWorking: false };
    const c = bar(K, 100.1, 100.1, 99.8, 99.85, 500);
    expect(step(warm(hf()), c, {}, p).intents.map((i) => i.kind)).toEqual(['exit']);
    expect(step(warm(), c, {}, p).intents).toEqual([]);
  });
});

describe('SrStrategy: determinism', () => {
  it('the same candles give the same intents, ids included; ids differ by symbol and time', () => {
    const a = entered(step(warm(), plain()));
    const b = entered(step(warm(), plain()));
    expect(b).toEqual(a);
    expect(a.id).toContain('TESTUSDT');

    // Another symbol fed the same candles: same decision, another id.
    const other = symbolId('OTHERUSDT');
    const s = feed(new SrStrategy(cfg()), (k) => rangeBar(k), 0, K, other);
    const [c] = s.onCandle(other, plain(), undefined);
    expect(c?.kind).toBe('enter');
    expect(c?.id).not.toBe(a.id);

    // The same symbol one cycle (40 min) later: another id.
    const later = feed(new SrStrategy(cfg()), (k) => rangeBar(k), 0, K + PERIOD);
    const [d] = later.onCandle(SYM, { ...plain(), openTime: T0 + (K + PERIOD) * MIN }, undefined);
    expect(d?.kind).toBe('enter');
    expect(d?.id).not.toBe(a.id);
    expect(d?.time).toBe(DECISION + PERIOD * MIN);
  });

  it('symbols are independent: one symbol warming up does not warm another', () => {
    const s = warm();
    const other = symbolId('OTHERUSDT');
    const before = { ...s.funnel };
    s.onCandle(other, rangeBar(0), undefined);
    expect(delta(before, s.funnel)).toEqual({ evaluated: 1, warmup: 1 });
  });
});
