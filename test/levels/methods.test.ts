import { describe, it, expect } from 'vitest';
import {
  CONFLUENCE_BONUS,
  SOURCE_BIT,
  SWING_HIGH,
  SWING_LOW,
  SwingQueue,
  buildVolumeProfile,
  countTouches,
  countTouchesSorted,
  fibRetracements,
  findSwing,
  floorPivots,
  levelStrength,
  mergeCandidates,
  sourceCount,
  sourcesOf,
  swingAt,
  volumeNodes,
} from '../../services/levels/index.js';
import { lcg } from './candles.js';

describe('swingAt (strict local extrema)', () => {
  it('finds a swing high and a swing low, strictly, including across the ring wrap-around', () => {
    // Capacity 7 holds sequence numbers 5..11 at slots 5,6,0,1,2,3,4 (s % 7).
    // Highs by sequence:  5:1  6:2  7:3  8:9  9:3  10:2  11:1  -> seq 8 is a swing high (9 > all).
    const high = new Float64Array(7);
    const low = new Float64Array(7);
    const put = (seq: number, h: number, l: number) => {
      high[seq % 7] = h;
      low[seq % 7] = l;
    };
    put(5, 1, 0.5);
    put(6, 2, 1.5);
    put(7, 3, 2.5);
    put(8, 9, 0.1); // also the lowest low: both a swing high and a swing low
    put(9, 3, 2.5);
    put(10, 2, 1.5);
    put(11, 1, 0.5);
    expect(swingAt(high, low, 7, 8, 3)).toBe(SWING_HIGH | SWING_LOW);
    // An equal high in either wing means it is not strictly the highest: no swing high.
    put(10, 9, 1.5);
    expect(swingAt(high, low, 7, 8, 3)).toBe(SWING_LOW);
    put(10, 2, 1.5);
    put(5, 9, 0.5);
    expect(swingAt(high, low, 7, 8, 3)).toBe(SWING_LOW);
    // Likewise an equal low on either side: no swing low.
    put(5, 1, 0.1);
    expect(swingAt(high, low, 7, 8, 3)).toBe(SWING_HIGH);
    put(5, 1, 0.5);
    put(11, 1, 0.1);
    expect(swingAt(high, low, 7, 8, 3)).toBe(SWING_HIGH);
  });

  it('SwingQueue keeps swings in order and expires those that left the window', () => {
    const q = new SwingQueue(3);
    q.push(1, 10);
    q.push(5, 11);
    q.push(9, 12);
    q.expireBefore(5); // seq 1 leaves
    expect([q.size, q.seqAt(0), q.priceAt(0), q.priceAt(1)]).toEqual([2, 5, 11, 12]);
    q.push(13, 13);
    q.push(17, 14); // full: the oldest (5) is dropped
    expect([q.size, q.seqAt(0), q.seqAt(2)]).toEqual([3, 9, 17]);
  });
});

describe('volume profile', () => {
  // Window low 100, high 110, 5 bins -> width 2: [100,102) [102,104) [104,106) [106,108) [108,110].
  // c0 100-110 v10 covers all 5 buckets       -> +2 each
  // c1 104.5-105.5 v6 -> bucket 2              -> +6
  // c2 104.2-105.8 v4 -> bucket 2              -> +4
  // c3 108.5-109.5 v3 -> bucket 4              -> +3
  // c4 102.5-103.5 v1 -> bucket 1              -> +1
  // Profile: [2, 3, 12, 2, 5]. Local maxima: bucket 2 (12) and bucket 4 (5, at the edge, above 2).
  const high = [110, 105.5, 105.8, 109.5, 103.5];
  const low = [100, 104.5, 104.2, 108.5, 102.5];
  const vol = [10, 6, 4, 3, 1];

  it('spreads each candle volume evenly over the buckets its range covers', () => {
    const p = buildVolumeProfile(high, low, vol, 5, 5);
    expect(p).not.toBeNull();
    expect(p?.low).toBe(100);
    expect(p?.width).toBe(2);
    expect(Array.from(p?.volumes ?? [])).toEqual([2, 3, 12, 2, 5]);
  });

  it('keeps the highest local maxima at their bucket centres', () => {
    const p = buildVolumeProfile(high, low, vol, 5, 5);
    if (!p) throw new Error('expected a profile');
    // Bucket 2 centre = 100 + 2.5 * 2 = 105; bucket 4 centre = 100 + 4.5 * 2 = 109.
    expect(volumeNodes(p, 3)).toEqual([
      { price: 105, volume: 12 },
      { price: 109, volume: 5 },
    ]);
    expect(volumeNodes(p, 1)).toEqual([{ price: 105, volume: 12 }]);
  });

  it('treats a plateau as one node at its centre and a flat profile as no node', () => {
    // Buckets 1 and 2 equal (4): the node spans [2, 6), centre 4.
    const plateau = { low: 0, high: 10, width: 2, volumes: Float64Array.from([1, 4, 4, 1, 0]) };
    expect(volumeNodes(plateau, 3)).toEqual([{ price: 4, volume: 4 }]);
    // A plateau that rises again on its right is not a maximum: only bucket 3 (5) is.
    const shoulder = { low: 0, high: 10, width: 2, volumes: Float64Array.from([1, 4, 4, 5, 0]) };
    expect(volumeNodes(shoulder, 3)).toEqual([{ price: 7, volume: 5 }]);
    const flat = { low: 0, high: 10, width: 2, volumes: Float64Array.from([3, 3, 3, 3, 3]) };
    expect(volumeNodes(flat, 3)).toEqual([]);
  });

  it('has no profile for a window without a price range', () => {
    expect(buildVolumeProfile([5, 5], [5, 5], [1, 1], 2, 4)).toBeNull();
    expect(buildVolumeProfile([], [], [], 0, 4)).toBeNull();
  });
});

describe('Fibonacci retracements', () => {
  it('retraces an up-swing down from the high', () => {
    // Low 100 at index 1, high 110 at index 4: up-swing. 110 - r * 10:
    // 0.236 -> 107.64, 0.382 -> 106.18, 0.5 -> 105, 0.618 -> 103.82, 0.786 -> 102.14.
    const swing = findSwing([102, 101, 104, 107, 110, 109], [101, 100, 101, 103, 108, 107], [101.5, 100.5, 103, 106, 109, 108], 6);
    expect(swing).toMatchObject({ high: 110, low: 100, highIndex: 4, lowIndex: 1, up: true });
    const levels = fibRetracements(swing ?? { high: 0, low: 0, up: true }, [0.236, 0.382, 0.5, 0.618, 0.786]);
    [107.64, 106.18, 105, 103.82, 102.14].forEach((v, i) => expect(levels[i]).toBeCloseTo(v, 10));
  });

  it('retraces a down-swing up from the low', () => {
    // High 110 at index 1, low 100 at index 4: down-swing. 100 + r * 10:
    // 102.36, 103.82, 105, 106.18, 107.86.
    const swing = findSwing([108, 110, 107, 103, 101, 102], [107, 108, 103, 101, 100, 101], [107.5, 109, 104, 102, 100.5, 101.5], 6);
    expect(swing).toMatchObject({ high: 110, low: 100, highIndex: 1, lowIndex: 4, up: false });
    const levels = fibRetracements(swing ?? { high: 0, low: 0, up: false }, [0.236, 0.382, 0.5, 0.618, 0.786]);
    [102.36, 103.82, 105, 106.18, 107.86].forEach((v, i) => expect(levels[i]).toBeCloseTo(v, 10));
  });

  it('reads a full ring buffer in chronological order from its oldest slot', () => {
    // Slots 0..3 hold highs/lows 110/108, 105/103, 101/100, 104/102. Read from slot 2 the order
    // is 101/100, 104/102, 110/108, 105/103: low first (position 0), high later (2) -> up-swing.
    const high = [110, 105, 101, 104];
    const low = [108, 103, 100, 102];
    const close = [109, 104, 100.5, 103];
    expect(findSwing(high, low, close, 4, 2)).toMatchObject({ highIndex: 2, lowIndex: 0, up: true });
    // Read from slot 0 the high (position 0) precedes the low (2): down-swing.
    expect(findSwing(high, low, close, 4)).toMatchObject({ highIndex: 0, lowIndex: 2, up: false });
  });

  it('uses the close of the candle when one candle holds both extremes, and the latest of equal extremes', () => {
    // Candle 1 spans 100-110 and closes at 108 (upper half): up-swing.
    expect(findSwing([105, 110, 106], [103, 100, 104], [104, 108, 105], 3)?.up).toBe(true);
    // Closing at 101 (lower half): down-swing.
    expect(findSwing([105, 110, 106], [103, 100, 104], [104, 101, 105], 3)?.up).toBe(false);
    // Highs 110 at 0 and at 3, low 100 at 1: the latest high (3) is after the low -> up.
    expect(findSwing([110, 103, 105, 110], [105, 100, 101, 106], [106, 101, 104, 108], 4)).toMatchObject({ highIndex: 3, up: true });
  });
});

describe('floor pivots', () => {
  it('computes the classic formulas', () => {
    // H=110 L=100 C=105: P=(110+100+105)/3=105, R1=2*105-100=110, S1=2*105-110=100,
    // R2=105+(110-100)=115, S2=105-10=95.
    const p = floorPivots(110, 100, 105);
    expect(p.p).toBeCloseTo(105, 12);
    expect(p.r1).toBeCloseTo(110, 12);
    expect(p.s1).toBeCloseTo(100, 12);
    expect(p.r2).toBeCloseTo(115, 12);
    expect(p.s2).toBeCloseTo(95, 12);
  });
});

describe('touch counting', () => {
  it('counts the candles whose range comes within the tolerance, each once', () => {
    // Level 100, tolerance 0.1% -> band [99.9, 100.1].
    const candles = [
      [101, 100.05], // low inside the band: touch
      [101, 100.2], // entirely above: no
      [99.95, 98], // high inside the band: touch
      [99.8, 98], // entirely below: no
      [101, 99], // spans the band: one touch, not two
    ];
    const high = candles.map((c) => c[0] as number);
    const low = candles.map((c) => c[1] as number);
    expect(countTouches(100, high, low, 5, 0.1)).toBe(3);
    // Only the first 2 candles: 1 touch.
    expect(countTouches(100, high, low, 2, 0.1)).toBe(1);
  });

  it('gives the same counts with the sorted many-levels form as with the definition', () => {
    const rnd = lcg(7);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rnd() * 60);
      const high: number[] = [];
      const low: number[] = [];
      for (let i = 0; i < n; i++) {
        const mid = 100 + rnd() * 2;
        const half = rnd() * 0.3;
        high.push(mid + half);
        low.push(mid - half);
      }
      const prices = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => 99.5 + rnd() * 3).sort((a, b) => a - b);
      const out = new Int32Array(prices.length + 1);
      countTouchesSorted(prices, prices.length, high, low, n, 0.1, out);
      prices.forEach((p, k) => expect(out[k]).toBe(countTouches(p, high, low, n, 0.1)));
    }
  });
});

describe('merging', () => {
  const c = (price: number, source: keyof typeof SOURCE_BIT, touches: number) => ({ price, sourceMask: SOURCE_BIT[source], touches });

  it('merges candidates 0.1% apart with a 0.15% tolerance', () => {
    // 100 (3 touches) and 100.1 (1 touch): (100.1 - 100) / 100 = 0.1% < 0.15%.
    // Touch-weighted price = (3 * 100 + 1 * 100.1) / 4 = 100.025; touches = max(3, 1) = 3.
    const merged = mergeCandidates([c(100.1, 'fib', 1), c(100, 'extrema', 3)], 0.15);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.price).toBeCloseTo(100.025, 10);
    expect(merged[0]?.touches).toBe(3);
    expect(sourcesOf(merged[0]?.sourceMask ?? 0)).toEqual(['extrema', 'fib']);
  });

  it('does not merge candidates 0.2% apart', () => {
    const merged = mergeCandidates([c(100, 'extrema', 3), c(100.2, 'fib', 1)], 0.15);
    expect(merged.map((m) => m.price)).toEqual([100, 100.2]);
  });

  it('anchors a group at its lowest price so a chain of close candidates does not collapse', () => {
    // 100, 100.1, 100.2: 100.1 is within 0.15% of 100, 100.2 is not (0.2%) -> two groups.
    // Group 1 (2 touches each): (100 + 100.1) / 2 = 100.05.
    const merged = mergeCandidates([c(100, 'extrema', 2), c(100.1, 'extrema', 2), c(100.2, 'volume', 2)], 0.15);
    expect(merged).toHaveLength(2);
    expect(merged[0]?.price).toBeCloseTo(100.05, 10);
    expect(merged[1]?.price).toBe(100.2);
  });

  it('falls back to the plain mean when no candidate has touches', () => {
    // Two pivots at 100 and 100.1, 0 touches: (100 + 100.1) / 2 = 100.05.
    const merged = mergeCandidates([c(100, 'pivot', 0), c(100.1, 'pivot', 0)], 0.15);
    expect(merged[0]?.price).toBeCloseTo(100.05, 10);
    expect(merged[0]?.touches).toBe(0);
  });
});

describe('strength', () => {
  it('adds the confluence bonus per extra agreeing method', () => {
    expect(CONFLUENCE_BONUS).toBe(2);
    expect(levelStrength(3, SOURCE_BIT.extrema)).toBe(3);
    // 3 touches, two methods: 3 + 2 * (2 - 1) = 5; three methods: 3 + 2 * 2 = 7.
    expect(levelStrength(3, SOURCE_BIT.extrema | SOURCE_BIT.pivot)).toBe(5);
    expect(levelStrength(3, SOURCE_BIT.extrema | SOURCE_BIT.volume | SOURCE_BIT.fib)).toBe(7);
    expect(sourceCount(15)).toBe(4);
    expect(sourcesOf(SOURCE_BIT.pivot | SOURCE_BIT.volume)).toEqual(['volume', 'pivot']);
  });
});
