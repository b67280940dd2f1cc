import { describe, it, expect } from 'vitest';
import { LevelTracker, countTouches, type Level } from '../../services/levels/index.js';
import { ConfigError, DataValidationError } from '../../services/core/errors.js';
import type { Candle } from '../../services/core/types.js';
import { MIN, T0, bar, levelsConfig, only, randomWalk, series } from './candles.js';

const Q = 15 * MIN; // one 15m candle

/** Feeds candles and returns the tracker. */
function feed(tracker: LevelTracker, candles: readonly Candle[]): LevelTracker {
  for (const c of candles) tracker.update(c);
  return tracker;
}

/** Prices of the levels, rounded to 1e-9 so float noise does not matter. */
const prices = (ls: readonly Level[]) => ls.map((l) => Math.round(l.price * 1e9) / 1e9);

// 15 one-minute candles climbing to a single peak at index 7 and falling back; low = high - 2,
// close = high - 1. Highs: 100..106, 110, 106..100. Index 7's high (110) is strictly above the
// three highs on each side, so it is the only swing high; lows rise then fall, so there is no
// interior swing low (indices 0 and 14 lack a full wing).
const PEAK_HIGHS = [100, 101, 102, 103, 104, 105, 106, 110, 106, 105, 104, 103, 102, 101, 100];
const peak = () => series(PEAK_HIGHS.map((h) => [h, h - 2, h - 1]));

describe('LevelTracker: swing extrema', () => {
  const cfg = levelsConfig({ lookback: 15, extremaWing: 3, minTouches: 0 }, only('extrema'));

  it('finds the swing high as a resistance, known only once its right wing has closed', () => {
    const t = new LevelTracker(cfg, '1m');
    const candles = peak();
    feed(t, candles.slice(0, 10)); // candles 0..9: index 7 has only 2 right-wing candles
    expect(t.levels()).toEqual([]);
    t.update(candles[10] as Candle); // candle 10 closes the wing
    // Touches of 110 (band 109.89..110.11): only candle 7 (108-110); its neighbours top at 106.
    expect(t.levels()).toEqual([{ price: 110, kind: 'resistance', sources: ['extrema'], sourceMask: 1, touches: 1, strength: 1 }]);
  });

  it('drops the swing once it leaves the lookback window', () => {
    // After the peak, flat candles (high 100, low 98): equal highs and lows make no new swing.
    const candles = [...peak(), ...series(Array.from({ length: 10 }, () => [100, 98]), MIN, T0 + 15 * MIN)];
    const t = new LevelTracker(cfg, '1m');
    feed(t, candles.slice(0, 22)); // window = candles 7..21 (15): the swing at 7 is still inside
    expect(prices(t.levels())).toEqual([110]);
    t.update(candles[22] as Candle); // window = 8..22
    expect(t.levels()).toEqual([]);
  });

  it('flips a level from resistance to support when the close crosses it', () => {
    const t = feed(new LevelTracker(cfg, '1m'), peak());
    expect(t.levels()[0]?.kind).toBe('resistance'); // last close 99 < 110
    expect(t.nearestResistance(105)?.price).toBe(110);
    expect(t.nearestSupport(105)).toBeNull();
    // A candle 109-111 closing at 110.5: above the level. No new swing is confirmed by it
    // (candle 12, now at the centre, is neither the highest nor the lowest of 9..15).
    t.update(bar(T0 + 15 * MIN, 111, 109, 110.5));
    // Touches: candle 7 and the new candle (109-111) -> 2.
    expect(t.levels()).toEqual([{ price: 110, kind: 'support', sources: ['extrema'], sourceMask: 1, touches: 2, strength: 2 }]);
    expect(t.nearestSupport(110.5)?.price).toBe(110);
    expect(t.nearestResistance(110.5)).toBeNull();
    // nearestLevel: |110 - 109.9| / 109.9 = 0.091% <= 0.1% -> found; from 109.8 it is 0.182%.
    expect(t.nearestLevel(109.9, 0.1)?.price).toBe(110);
    expect(t.nearestLevel(109.8, 0.1)).toBeNull();
  });

  it('agrees with a brute-force swing detector at every step of a random walk', () => {
    // Reference: candle c is a swing high at time t when c - 3 >= 0, c + 3 <= t (its right wing
    // has closed), c is inside the 30-candle window, and its high is strictly above the 3 highs
    // on each side (lows likewise). A tiny merge tolerance keeps every swing its own level, and
    // each level's touches must equal countTouches over the window.
    const lookback = 30;
    const wing = 3;
    const c = randomWalk(400, 11);
    const t = new LevelTracker(levelsConfig({ lookback, extremaWing: wing, minTouches: 0, mergeTolerancePct: 1e-9 }, only('extrema')), '1m');
    for (let now = 0; now < c.length; now++) {
      t.update(c[now] as Candle);
      const expected: number[] = [];
      for (let k = Math.max(wing, now - lookback + 1); k + wing <= now; k++) {
        const wingIdx = [1, 2, 3].flatMap((d) => [k - d, k + d]);
        const ck = c[k] as Candle;
        if (wingIdx.every((j) => (c[j] as Candle).high < ck.high)) expected.push(ck.high);
        if (wingIdx.every((j) => (c[j] as Candle).low > ck.low)) expected.push(ck.low);
      }
      expected.sort((a, b) => a - b);
      const got = t.levels();
      expect(got.map((l) => l.price)).toEqual(expected);
      const win = c.slice(Math.max(0, now - lookback + 1), now + 1);
      for (const l of got) {
        expect(l.touches).toBe(countTouches(l.price, win.map((x) => x.high), win.map((x) => x.low), win.length, 0.1));
      }
    }
  });
});

describe('LevelTracker: volume profile and the min-touches filter', () => {
  // Same 5 candles as the profile unit test: profile [2, 3, 12, 2, 5] over 100..110 in 5 bins;
  // nodes at 105 (bucket 2) and 109 (bucket 4).
  // Touches of 105 (band 104.895..105.105): c0 100-110, c1 104.5-105.5, c2 104.2-105.8 -> 3.
  // Touches of 109 (band 108.891..109.109): c0 and c3 108.5-109.5 -> 2.
  const candles = series([
    [110, 100, 105, 10],
    [105.5, 104.5, 105, 6],
    [105.8, 104.2, 105, 4],
    [109.5, 108.5, 109, 3],
    [103.5, 102.5, 103, 1],
  ]);
  const cfg = (minTouches: number) => levelsConfig({ lookback: 10, volumeProfileBins: 5, volumeProfileNodes: 3, minTouches }, only('volumeProfile'));

  it('keeps the high-volume nodes touched at least minTouches times', () => {
    const two = feed(new LevelTracker(cfg(2), '1m'), candles).levels();
    expect(two.map((l) => [l.price, l.touches, l.kind])).toEqual([
      [105, 3, 'resistance'], // last close 103
      [109, 2, 'resistance'],
    ]);
    const three = feed(new LevelTracker(cfg(3), '1m'), candles).levels();
    expect(three.map((l) => l.price)).toEqual([105]);
  });
});

describe('LevelTracker: Fibonacci', () => {
  // Up-swing from low 100 (candle 1) to high 110 (candle 4): levels 110 - r * 10 =
  // 102.14, 103.82, 105, 106.18, 107.64. Touch bands (+-0.1%) against the 6 candles
  // (102/101, 101/100, 104/101, 107/103, 110/108, 109/107):
  // 102.14 [102.038, 102.242]: 104/101 -> 1        103.82 [103.716, 103.924]: 104/101, 107/103 -> 2
  // 105 [104.895, 105.105]: 107/103 -> 1           106.18 [106.074, 106.286]: 107/103 -> 1
  // 107.64 [107.532, 107.748]: 109/107 -> 1
  const candles = series([
    [102, 101],
    [101, 100],
    [104, 101],
    [107, 103],
    [110, 108],
    [109, 107],
  ]);

  it('places the retracements of the window swing', () => {
    const t = feed(new LevelTracker(levelsConfig({ lookback: 10, minTouches: 0 }, only('fibonacci')), '1m'), candles);
    expect(prices(t.levels())).toEqual([102.14, 103.82, 105, 106.18, 107.64]);
    expect(t.levels().map((l) => l.touches)).toEqual([1, 2, 1, 1, 1]);
  });

  it('follows the swing of the sliding window at every step of a random walk', () => {
    // Reference: the retracements of the highest high and lowest low of the last 20 candles,
    // computed from a plain slice (the tracker reads its ring buffer in place).
    const ratios = [0.236, 0.382, 0.5, 0.618, 0.786];
    const c = randomWalk(200, 5);
    const t = new LevelTracker(levelsConfig({ lookback: 20, minTouches: 0, mergeTolerancePct: 1e-9 }, only('fibonacci')), '1m');
    for (let now = 0; now < c.length; now++) {
      t.update(c[now] as Candle);
      const win = c.slice(Math.max(0, now - 19), now + 1);
      let hi = 0;
      let lo = 0;
      win.forEach((x, i) => {
        if (x.high >= (win[hi] as Candle).high) hi = i;
        if (x.low <= (win[lo] as Candle).low) lo = i;
      });
      const H = (win[hi] as Candle).high;
      const L = (win[lo] as Candle).low;
      const up = hi > lo || (hi === lo && (win[hi] as Candle).close >= (H + L) / 2);
      const expected = ratios.map((r) => (up ? H - r * (H - L) : L + r * (H - L))).sort((a, b) => a - b);
      const got = t.levels().map((l) => l.price);
      expect(got).toHaveLength(5);
      got.forEach((p, i) => expect(p).toBeCloseTo(expected[i] as number, 9));
    }
  });

  it('drops the retracements with too few touches', () => {
    const t = feed(new LevelTracker(levelsConfig({ lookback: 10, minTouches: 2 }, only('fibonacci')), '1m'), candles);
    expect(prices(t.levels())).toEqual([103.82]);
  });
});

describe('LevelTracker: floor pivots', () => {
  // 15m candles, 1h pivot period. Period 1 (4 candles): H=110, L=100, C=105 ->
  // P=105, R1=110, S1=100, R2=115, S2=95.
  const period1 = series(
    [
      [104, 100, 102],
      [110, 103, 108],
      [109, 104, 106],
      [107, 104, 105],
    ],
    Q,
  );
  // Period 2: H=112, L=104, C=110 -> P = 326/3 = 108.666..., R1 = 2P - 104 = 113.333...,
  // S1 = 2P - 112 = 105.333..., R2 = P + 8 = 116.666..., S2 = P - 8 = 100.666...
  const period2 = series(
    [
      [106, 104, 105],
      [108, 105, 107],
      [112, 106, 111],
      [111, 108, 110],
    ],
    Q,
    T0 + 60 * MIN,
  );
  const cfg = levelsConfig({ pivotTimeframe: '1h', minTouches: 5 }, only('pivots'));

  it('offers the previous period pivots once its last candle closed, exempt from min touches', () => {
    const t = new LevelTracker(cfg, '15m');
    feed(t, period1.slice(0, 3));
    expect(t.levels()).toEqual([]);
    t.update(period1[3] as Candle);
    // Touches (4 candles): 95 -> 0; 100 -> candle 104/100 -> 1; 105 [104.895, 105.105] ->
    // 110/103, 109/104, 107/104 -> 3; 110 -> 110/103 -> 1; 115 -> 0. All below minTouches 5,
    // all kept. Close 105: 95, 100, 105 are support (105 <= 105), 110 and 115 resistance.
    expect(t.levels().map((l) => [Math.round(l.price * 1e9) / 1e9, l.kind, l.touches, l.sources.join()])).toEqual([
      [95, 'support', 0, 'pivot'],
      [100, 'support', 1, 'pivot'],
      [105, 'support', 3, 'pivot'],
      [110, 'resistance', 1, 'pivot'],
      [115, 'resistance', 0, 'pivot'],
    ]);
  });

  it('keeps them through the next period and then rolls over', () => {
    const t = feed(new LevelTracker(cfg, '15m'), [...period1, ...period2.slice(0, 3)]);
    expect(prices(t.levels())).toEqual([95, 100, 105, 110, 115]);
    t.update(period2[3] as Candle);
    expect(prices(t.levels())).toEqual([100.666666667, 105.333333333, 108.666666667, 113.333333333, 116.666666667]);
  });

  it('ignores a first period the tracker joined late, and stale pivots after a gap', () => {
    // Started at T0+15m: period 1 is a fragment, so no pivots during period 2...
    const late = feed(new LevelTracker(cfg, '15m'), [...period1.slice(1), ...period2.slice(0, 3)]);
    expect(late.levels()).toEqual([]);
    // ...but period 2 was seen whole, so its pivots follow it.
    late.update(period2[3] as Candle);
    expect(prices(late.levels())).toEqual([100.666666667, 105.333333333, 108.666666667, 113.333333333, 116.666666667]);
    // Period 2 missing entirely: period 1's pivots are two periods old at 02:00 -> none.
    const gap = feed(new LevelTracker(cfg, '15m'), [...period1, bar(T0 + 120 * MIN, 106, 104)]);
    expect(gap.levels()).toEqual([]);
  });
});

describe('LevelTracker: merging methods into one level', () => {
  it('merges a swing high with a pivot at the same price and adds the confluence bonus', () => {
    // 15m candles, 4h pivots, extrema (wing 3) and pivots, minTouches 2 (default).
    // Period 1: 16 identical candles 100-110 closing at 105 -> P=105, R1=110, S1=100, R2=115, S2=95.
    // Equal highs and lows: no strict swing among them.
    // Period 2: highs 106, 107, 108, 110, 108, 107, 106 (low = high - 1, close = high - 0.5):
    // candle 19 (110) is a swing high, confirmed by candle 22. Last close 105.5.
    // Touches (band +-0.1%): 95 -> 0 and 115 -> 0 (pivots, kept anyway);
    // 100 -> the 16 period-1 candles; 105 -> 16 + candles 16 and 22 (106/105) = 18;
    // 110 -> 16 + candle 19 (110/109) = 17; sources extrema + pivot -> strength 17 + 2 = 19.
    const p1 = series(Array.from({ length: 16 }, () => [110, 100, 105]), Q);
    const p2 = series([106, 107, 108, 110, 108, 107, 106].map((h) => [h, h - 1, h - 0.5]), Q, T0 + 240 * MIN);
    const t = feed(new LevelTracker(levelsConfig({}, only('extrema', 'pivots')), '15m'), [...p1, ...p2]);
    expect(t.levels().map((l) => [Math.round(l.price * 1e9) / 1e9, l.kind, l.sources.join('+'), l.touches, l.strength])).toEqual([
      [95, 'support', 'pivot', 0, 0],
      [100, 'support', 'pivot', 16, 16],
      [105, 'support', 'pivot', 18, 18],
      [110, 'resistance', 'extrema+pivot', 17, 19],
      [115, 'resistance', 'pivot', 0, 0],
    ]);
  });
});

describe('LevelTracker: no look-ahead', () => {
  const cfg = levelsConfig({ pivotTimeframe: '1h' });
  const a = randomWalk(400, 1);
  const lastShared = a[199] as Candle;
  // Same first 200 candles, a different future.
  const b = [...a.slice(0, 200), ...randomWalk(200, 2, lastShared.close, lastShared.openTime + MIN)];

  it('gives identical levels at every time t to trackers whose series differ only after t', () => {
    const ta = new LevelTracker(cfg, '1m');
    const tb = new LevelTracker(cfg, '1m');
    let withLevels = 0;
    for (let i = 0; i < 200; i++) {
      ta.update(a[i] as Candle);
      tb.update(b[i] as Candle);
      expect(ta.levels()).toEqual(tb.levels());
      if (ta.levels().length > 0) withLevels++;
    }
    expect(withLevels).toBeGreaterThan(100); // the comparison was not between empty lists
    ta.update(a[200] as Candle);
    tb.update(b[200] as Candle);
    expect(ta.levels()).not.toEqual(tb.levels());
  });

  it('never changes a snapshot once later candles arrive', () => {
    const t = feed(new LevelTracker(cfg, '1m'), a.slice(0, 150));
    const snapshot = t.levels();
    const copy = structuredClone(snapshot);
    expect(Object.isFrozen(snapshot)).toBe(true);
    feed(t, a.slice(150));
    expect(snapshot).toEqual(copy);
    expect(t.levels()).not.toBe(snapshot);
  });

  it('recomputes lazily: the same array until the next update', () => {
    const t = feed(new LevelTracker(cfg, '1m'), a.slice(0, 100));
    const first = t.levels();
    expect(t.levels()).toBe(first);
    expect(t.nearestLevel(first[0]?.price ?? 0, 1)).toBe(first[0]);
    t.update(a[100] as Candle);
    expect(t.levels()).not.toBe(first);
  });
});

describe('LevelTracker: inputs and configuration', () => {
  it('reports readiness once the lookback is full', () => {
    const t = new LevelTracker(levelsConfig({ lookback: 10 }), '1m');
    const c = randomWalk(10, 3);
    feed(t, c.slice(0, 9));
    expect([t.count, t.ready]).toEqual([9, false]);
    t.update(c[9] as Candle);
    expect([t.count, t.ready, t.lastClose]).toEqual([10, true, (c[9] as Candle).close]);
  });

  it('rejects candles out of order or with impossible prices', () => {
    const t = new LevelTracker(levelsConfig(), '1m');
    t.update(bar(T0 + MIN, 101, 99));
    expect(() => t.update(bar(T0 + MIN, 101, 99))).toThrow(DataValidationError);
    expect(() => t.update(bar(T0 + 2 * MIN, 99, 101, 100))).toThrow(DataValidationError);
    expect(() => t.update(bar(T0 + 2 * MIN, Number.NaN, 99, 100))).toThrow(/expected positive finite prices/);
    expect(() => t.update(bar(T0 + 2 * MIN, 1, 0, 0.5))).toThrow(DataValidationError);
    expect(() => t.update(bar(T0 + 2 * MIN, 101, 99, 100, -1))).toThrow(DataValidationError);
    expect(t.count).toBe(1);
  });

  it('rejects configurations that cannot work', () => {
    // A swing needs 2 * 5 + 1 = 11 candles, more than the lookback of 10.
    expect(() => new LevelTracker(levelsConfig({ lookback: 10, extremaWing: 5 }), '1m')).toThrow(ConfigError);
    // 4h candles cannot build 1h pivot periods...
    expect(() => new LevelTracker(levelsConfig({ pivotTimeframe: '1h' }), '4h')).toThrow(ConfigError);
    // ...unless pivots are off.
    expect(() => new LevelTracker(levelsConfig({ pivotTimeframe: '1h' }, { pivots: false }), '4h')).not.toThrow();
  });
});
