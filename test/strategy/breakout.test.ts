/**
 * The Donchian breakout strategy on hand-made 15m candles (each made of fifteen identical 1m
 * candles, so the 15m candle has exactly their open, high, low and close).
 *
 * Settings: channel 3, exit channel 2, ATR(2), stop 1.5 ATR, target 3 ATR, time stop 1 h.
 * Candles s0..s3: low 99, high 101, close 100: true range 2 each, so ATR(2) = 2. s4 breaks out:
 * open 100, high 102.5, low 100.5, close 102: true range max(2, 102.5 - 100, 100.5 - 100) = 2.5,
 * Wilder's ATR (2 x 1 + 2.5) / 2 = 2.25. The channel before s4 is max(101, 101, 101) = 101 < 102:
 * a long, stop 102 - 1.5 x 2.25 = 98.625, target 102 + 3 x 2.25 = 108.75.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import type { EnterIntent, Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { BreakoutStrategy } from '../../services/strategy/breakout.js';

const MIN = 60_000;
const SLOW = 15 * MIN;
const T0 = Date.UTC(2024, 0, 1);
const SYM = symbolId('TESTUSDT');
type Bar = [o: number, h: number, l: number, c: number];
const RANGE: Bar = [100, 101, 99, 100];
const BREAK: Bar = [100, 102.5, 100.5, 102];

function config(over: Record<string, unknown> = {}, entry: Record<string, unknown> = {}): Config {
  return parseConfig({ breakout: { timeframe: '15m', channel: 3, exitChannel: 2, atrPeriod: 2, stopAtr: 1.5, targetAtr: 3, timeStopHours: 1, ...over }, entry });
}

/** Feeds slow candle `i` as fifteen 1m candles; returns the intents of its last one (the slow close). */
function slow(s: BreakoutStrategy, i: number, [o, h, l, c]: Bar, position?: PositionView, ctx = {}): readonly Intent[] {
  let out: readonly Intent[] = [];
  for (let m = 0; m < 15; m++) out = s.onCandle(SYM, { openTime: T0 + i * SLOW + m * MIN, open: o, high: h, low: l, close: c, volume: 10 }, position, ctx);
  return out;
}

function broke(over: Record<string, unknown> = {}, entry: Record<string, unknown> = {}): { s: BreakoutStrategy; intents: readonly Intent[] } {
  const s = new BreakoutStrategy(config(over, entry));
  for (let i = 0; i < 4; i++) expect(slow(s, i, RANGE)).toEqual([]);
  return { s, intents: slow(s, 4, BREAK) };
}

const DECISION = T0 + 5 * SLOW;
const pos = (over: Partial<PositionView> = {}): PositionView => ({
  id: 'B1',
  symbol: SYM,
  direction: 'long',
  state: 'open',
  entryPrice: 102,
  stop: 98.625,
  levelPrice: 101,
  openedAt: DECISION,
  expiresAt: DECISION + 3_600_000,
  breakevenMoved: false,
  quantity: 1,
  entryWorking: false,
  ...over,
});

describe('BreakoutStrategy', () => {
  it('warms up on the channel and the ATR, then refuses closes inside the channel', () => {
    const { s } = broke();
    // s0, s1, s2: the 3-candle channel before them is not full; s3: inside (100 <= 101); s4: the signal.
    expect(s.funnel).toEqual({ evaluated: 5, warmup: 3, quoteVolume: 0, spread: 0, noBreakout: 1, signals: 1 });
  });

  it('a close above the channel high enters with the ATR stop and target (worked in the file comment)', () => {
    const { intents } = broke();
    expect(intents).toHaveLength(1);
    const e = intents[0] as EnterIntent;
    expect(e).toMatchObject({ kind: 'enter', id: `TESTUSDTB${DECISION.toString(36)}`, time: DECISION, price: 102, level: { price: 101, touches: 0, sources: ['donchian'] }, expiresAt: DECISION + 3_600_000 });
    expect(e.stop).toBeCloseTo(98.625, 12);
    expect(e.targets.map((t) => [t.label, t.fraction])).toEqual([['primary', 1]]);
    expect(e.targets[0]?.price).toBeCloseTo(108.75, 12);
    expect(e.limitPrice).toBeUndefined();
  });

  it('without a target (the default) the trade has none; with limitPrice level it rests at the broken high', () => {
    expect((broke({ targetAtr: null }).intents[0] as EnterIntent).targets).toEqual([]);
    const e = broke({}, { orderType: 'maker', limitPrice: 'level' }).intents[0] as EnterIntent;
    expect(e.limitPrice).toBe(101);
    expect(e.stop).toBeCloseTo(101 - 3.375, 12);
    expect(e.targets[0]?.price).toBeCloseTo(101 + 6.75, 12);
  });

  it('decides only at slow closes: the 1m candles inside a bucket give nothing', () => {
    const s = new BreakoutStrategy(config());
    for (let i = 0; i < 4; i++) slow(s, i, RANGE);
    const [o, h, l, c] = BREAK;
    for (let m = 0; m < 14; m++) expect(s.onCandle(SYM, { openTime: T0 + 4 * SLOW + m * MIN, open: o, high: h, low: l, close: c, volume: 10 }, undefined)).toEqual([]);
  });

  it('the market filters of the entry section apply', () => {
    const s = new BreakoutStrategy(config());
    for (let i = 0; i < 4; i++) slow(s, i, RANGE);
    expect(slow(s, 4, BREAK, undefined, { quoteVolume24h: 5 })).toEqual([]);
    expect(s.funnel.quoteVolume).toBe(1);
  });

  it('exits when a close falls below the exit channel low (min of the 2 candles before: 99)', () => {
    const { s } = broke();
    expect(slow(s, 5, [101, 101.5, 98.5, 98.9], pos())).toEqual([expect.objectContaining({ kind: 'exit', reason: 'signal', id: 'B1-chan', time: T0 + 6 * SLOW })]);
  });

  it('trails the stop by trailAtr ATRs below the highest high, only upwards', () => {
    const { s } = broke({ trailAtr: 1 });
    // s5: true range max(2, 104 - 102, 0) = 2; ATR (2.25 + 2) / 2 = 2.125; trail 104 - 2.125 = 101.875.
    const r = slow(s, 5, [102, 104, 102, 103.5], pos());
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ kind: 'move_stop', reason: 'trail' });
    expect((r[0] as Extract<Intent, { kind: 'move_stop' }>).stop).toBeCloseTo(101.875, 12);
    // s6 lower: the highest high stays 104; ATR (2.125 + 2) / 2 = 2.0625 -> 101.9375, above 101.875
    const r2 = slow(s, 6, [103.5, 103.6, 101.6, 102], pos({ stop: 101.875 }));
    expect((r2[0] as Extract<Intent, { kind: 'move_stop' }>).stop).toBeCloseTo(101.9375, 12);
    // s7: ATR (2.0625 + 0.7) / 2 = 1.38125, trail 104 - 1.38125 = 102.61875: below a stop of 103, no move
    expect(slow(s, 7, [102, 102.5, 101.8, 102.2], pos({ stop: 103 }))).toEqual([]);
  });

  it('the time stop is checked on every 1m close, not only at slow closes', () => {
    const { s } = broke();
    const p = pos({ expiresAt: DECISION + 3 * MIN });
    const c = (m: number): Candle => ({ openTime: DECISION + m * MIN, open: 102, high: 102.2, low: 101.8, close: 102, volume: 10 });
    expect(s.onCandle(SYM, c(1), p)).toEqual([]);
    expect(s.onCandle(SYM, c(2), p)).toEqual([expect.objectContaining({ kind: 'exit', reason: 'time', id: 'B1-time' })]);
  });

  it('levels() gives the channel bounds in force: exit low 99 and entry high 101 after s4', () => {
    expect(broke().s.levels(SYM)).toEqual([99, 101]);
  });
});
