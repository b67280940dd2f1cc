/**
 * The hand-made range market the S/R strategy's tests share (test/strategy/srStrategy.test.ts,
 * srOptions.test.ts), and helpers to feed it.
 *
 * The market used throughout is a hand-made RANGE of 1m candles (see `rangeBar`): a triangle wave
 * with a 40-minute period whose bodies swing between 100.265 and hi - 0.265, with one wick per
 * cycle down to exactly 100 (the candle at cycle minute 2) and one up to exactly `hi` (minute 22),
 * every candle with volume 100. On the 5m candles this gives:
 * - exactly one swing low per cycle, at 100 (the 5m candle [0, 5) of a cycle is the only one whose
 *   low is below 100.255), and one swing high at `hi`: with the extrema-only level config the
 *   5m levels are exactly 100 (support) and `hi` (resistance);
 * - touches of 100 (candles whose low is within 0.1%, i.e. <= 100.1): only those wick candles; at
 *   minute 481 the 5m window (50 candles, minutes 230..480) holds the bottoms at 242, 282, ..., 442:
 *   6 touches;
 * - +DM and -DM that alternate every 4 5m candles, so the 5m ADX stays low (about 8, < 25).
 * The 15m buckets do not divide the 40-minute cycle, so two wick candles always sit within 3 of each
 * other there: no strict 15m swing, hence no 15m extrema levels.
 *
 * Warm-up: `warm` feeds candles 0..480 (481 candles). The trigger candle is minute 481, which is
 * minute 1 of a 5m bucket: it closes no 5m or 15m candle, so it cannot change the levels.
 * Its close time (the decision time) is T0 + 482 min. The volume average the trigger is measured
 * against is that of the 20 candles before it: 100.
 */
import { expect } from 'vitest';
import { SrStrategy, type EntryFunnel, type MarketContext } from '../../services/strategy/srStrategy.js';
import type { EnterIntent, Intent } from '../../services/model/intents.js';
import type { PositionView } from '../../services/model/positions.js';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { symbolId, type Candle, type SymbolId } from '../../services/core/types.js';

export const MIN = 60_000;
/** 2024-01-01T00:00Z, aligned to every timeframe. */
export const T0 = Date.UTC(2024, 0, 1);
export const SYM = symbolId('TESTUSDT');
export const PERIOD = 40;
/** Index of the trigger candle (after candles 0..480) and its close time. */
export const K = 481;
export const DECISION = T0 + (K + 1) * MIN;

export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export interface RangeOpts {
  /** Price of the wick that forms the support (default 100). */
  readonly lo?: number;
  /** Price of the wick that forms the resistance (default 103). */
  readonly hi?: number;
}

/** Price at the boundary between candles k-1 and k: the triangle wave, bottom at k = 2.5. */
export function wave(k: number, lo: number, hi: number): number {
  const d = (((k - 2.5) % PERIOD) + PERIOD) % PERIOD;
  const tri = Math.min(d, PERIOD - d); // 0 .. 20
  return r3(lo + 0.2 + ((hi - lo - 0.4) * tri) / (PERIOD / 2));
}

/** Candle k of the range (see the file comment). */
export function rangeBar(k: number, o: RangeOpts = {}): Candle {
  const lo = o.lo ?? 100;
  const hi = o.hi ?? 103;
  const open = wave(k, lo, hi);
  const close = wave(k + 1, lo, hi);
  const m = k % PERIOD;
  const low = m === 2 ? lo : r3(Math.min(open, close) - 0.01);
  const high = m === 22 ? hi : r3(Math.max(open, close) + 0.01);
  return { openTime: T0 + k * MIN, open, high, low, close, volume: 100 };
}

/** A candle at minute k. */
export function bar(k: number, open: number, high: number, low: number, close: number, volume: number): Candle {
  return { openTime: T0 + k * MIN, open, high, low, close, volume };
}

/** Level detection by swing extrema only, so the levels are exactly the wicks. */
export const EXTREMA_ONLY = { methods: { volumeProfile: false, fibonacci: false, pivots: false } };

/** A config with extrema-only levels plus overrides. */
export function cfg(over: Record<string, unknown> = {}): Config {
  return parseConfig({ levels: EXTREMA_ONLY, ...over });
}

/** A strategy fed candles `from`..`to` - 1 of `gen` without a position; returns it. */
export function feed(s: SrStrategy, gen: (k: number) => Candle, from: number, to: number, symbol: SymbolId = SYM): SrStrategy {
  for (let k = from; k < to; k++) s.onCandle(symbol, gen(k), undefined);
  return s;
}

/** A fresh strategy warmed up on the range candles 0..480. */
export function warm(config: Config = cfg(), o: RangeOpts = {}): SrStrategy {
  return feed(new SrStrategy(config), (k) => rangeBar(k, o), 0, K);
}

/** The counters that changed between two funnel snapshots. */
export function delta(before: EntryFunnel, after: EntryFunnel): Partial<EntryFunnel> {
  const out: Partial<EntryFunnel> = {};
  for (const key of Object.keys(after) as (keyof EntryFunnel)[]) if (after[key] !== before[key]) out[key] = after[key] - before[key];
  return out;
}

/** Feeds one candle and returns the intents plus the funnel counters it moved. */
export function step(s: SrStrategy, c: Candle, ctx: MarketContext = {}, position?: PositionView): { intents: Intent[]; moved: Partial<EntryFunnel> } {
  const before = { ...s.funnel };
  const intents = [...s.onCandle(SYM, c, position, ctx)];
  return { intents, moved: delta(before, s.funnel) };
}

/** The one enter intent of a step (fails the test otherwise). */
export function entered(r: { intents: Intent[] }): EnterIntent {
  expect(r.intents).toHaveLength(1);
  const it = r.intents[0] as Intent;
  expect(it.kind).toBe('enter');
  return it as EnterIntent;
}

// Trigger candles at minute 481, all closing at 100.1 (0.1% above the support 100) unless stated.
// No pattern: bearish body 100.3 -> 100.1, lower wick 0.02 of a 0.24 range (no hammer or pin bar),
// and not bullish, so no engulfing.
export const plain = (close = 100.1, volume = 200): Candle => bar(K, 100.3, 100.32, close - 0.02, close, volume);
// Hammer: O 100.05, H 100.11, L 99.8, C 100.1: range 0.31, body 0.05, upper wick 0.01, lower 0.25:
// upper + body = 0.06 <= 0.103 (range/3), lower 0.25 >= 0.1 (2 x body), upper 0.01 <= 0.05 (body).
// Not an engulfing: the previous candle (minute 480) opened at 100.525 > 100.1.
export const hammer = (volume = 200): Candle => bar(K, 100.05, 100.11, 99.8, 100.1, volume);
export const SIGNAL = { evaluated: 1, signals: 1 };

