/**
 * The incremental support/resistance tracker of one symbol and timeframe.
 *
 * `update` is called on every closed candle and does O(extremaWing) work: it stores the candle in
 * a ring buffer of the last `lookback` candles, confirms the swing (if any) `extremaWing` candles
 * back, and folds the candle into the pivot period (about 40 ns on the 1m BTCUSDT benchmark).
 * The level list itself is derived LAZILY: the first `levels()` / `nearest*()` call after an
 * update recomputes it from the ring buffer in place (volume profile, swing, touch counts of a
 * few dozen candidates, merge: about 3 us with the default config) and later calls reuse it
 * until the next update. The strategy asks only when its cheap pre-filters pass, so most candles
 * never pay for it.
 *
 * Candidate rules:
 * - every method's candidate must be touched by at least `minTouches` candles of the window;
 * - EXCEPT pivots: they are computed from the previous period to serve as reference prices for
 *   the period that follows, so they are kept even before the market has reached them (their
 *   touch count is still reported, and is what their strength is built from).
 */
import type { LevelsConfig } from '../config/schema.js';
import { ConfigError, DataValidationError } from '../core/errors.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { Candle } from '../core/types.js';
import { SWING_HIGH, SWING_LOW, SwingQueue, swingAt } from './extrema.js';
import { fibRetracements, findSwing } from './fibonacci.js';
import { mergeSorted } from './merge.js';
import { PivotPeriodTracker } from './pivots.js';
import { countTouchesSorted } from './touches.js';
import { SOURCE_BIT, levelStrength, sourcesOf, type Level } from './types.js';
import { buildVolumeProfile, volumeNodes } from './volumeProfile.js';

const EMPTY: readonly Level[] = Object.freeze([]);
// Read once: the hot path then uses plain constants.
const BIT_EXTREMA = SOURCE_BIT.extrema;
const BIT_VOLUME = SOURCE_BIT.volume;
const BIT_FIB = SOURCE_BIT.fib;
const BIT_PIVOT = SOURCE_BIT.pivot;

/** Detects support and resistance levels of one symbol on one timeframe, candle by candle. */
export class LevelTracker {
  private readonly lookback: number;
  private readonly wing: number;
  // Ring buffer of the last `lookback` candles: sequence number s lives at s % lookback.
  private readonly rHigh: Float64Array;
  private readonly rLow: Float64Array;
  private readonly rClose: Float64Array;
  private readonly rVolume: Float64Array;
  // Candidate levels of one recompute: price, source bit, touches (parallel arrays).
  private readonly cPrice: Float64Array;
  private readonly cMask: Uint8Array;
  private readonly cTouches: Int32Array;
  private readonly profileScratch: Float64Array;
  private readonly swingHighs: SwingQueue;
  private readonly swingLows: SwingQueue;
  private readonly pivots: PivotPeriodTracker;
  private seen = 0;
  /** Ring slot the next candle goes to (= seen % lookback, kept without a division). */
  private head = 0;
  private lastOpenTime = -Infinity;
  private close = Number.NaN;
  private cache: readonly Level[] = EMPTY;
  private dirty = false;

  /**
   * `cfg` is the validated `levels` config; `timeframe` that of the candles this tracker is fed
   * (it tells when a pivot period's last candle has closed). Throws ConfigError when the
   * combination cannot work: a swing (2 * extremaWing + 1 candles) longer than the lookback, or
   * candles longer than the pivot period while pivots are enabled.
   */
  constructor(
    private readonly cfg: LevelsConfig,
    readonly timeframe: Timeframe,
  ) {
    this.lookback = cfg.lookback;
    this.wing = cfg.extremaWing;
    if (2 * this.wing + 1 > this.lookback) {
      throw new ConfigError(
        `levels.extremaWing: a swing spans 2 * ${this.wing} + 1 candles, which must fit in levels.lookback (${this.lookback})`,
      );
    }
    const candleMs = timeframeMs(timeframe);
    if (cfg.methods.pivots && candleMs > timeframeMs(cfg.pivotTimeframe)) {
      throw new ConfigError(
        `levels.pivotTimeframe: ${cfg.pivotTimeframe} is shorter than the tracked timeframe ${timeframe}; expected a pivot period of at least one candle`,
      );
    }
    const n = this.lookback;
    this.rHigh = new Float64Array(n);
    this.rLow = new Float64Array(n);
    this.rClose = new Float64Array(n);
    this.rVolume = new Float64Array(n);
    this.profileScratch = new Float64Array(cfg.volumeProfileBins);
    // Strict swings of one kind are more than `wing` candles apart, so this bound is never hit.
    const swingCap = Math.ceil(n / (this.wing + 1)) + 1;
    this.swingHighs = new SwingQueue(swingCap);
    this.swingLows = new SwingQueue(swingCap);
    const maxCandidates = 2 * swingCap + cfg.volumeProfileNodes + cfg.fibRatios.length + 5;
    this.cPrice = new Float64Array(maxCandidates);
    this.cMask = new Uint8Array(maxCandidates);
    // One more slot: the difference array of countTouchesSorted writes one past the last level.
    this.cTouches = new Int32Array(maxCandidates + 1);
    this.pivots = new PivotPeriodTracker(cfg.pivotTimeframe, candleMs);
  }

  /** Number of candles fed so far. */
  get count(): number {
    return this.seen;
  }

  /** True once the window holds `lookback` candles (before that, levels come from fewer). */
  get ready(): boolean {
    return this.seen >= this.lookback;
  }

  /** Close of the latest candle (NaN before the first): the price `kind` is relative to. */
  get lastClose(): number {
    return this.close;
  }

  /**
   * Feeds one CLOSED candle. O(extremaWing), no allocation. Throws DataValidationError for a
   * candle with non-positive, non-finite or inconsistent prices, a negative or non-finite volume,
   * or an openTime not after the previous candle's (the candle is then not applied).
   */
  update(c: Candle): void {
    const { openTime, open, high, low, close, volume } = c;
    // Error messages are built in a separate function: a large template literal inlined here
    // measurably slowed every call, even though it only runs for a bad candle.
    if (!(openTime > this.lastOpenTime)) throw outOfOrder(openTime, this.lastOpenTime);
    if (
      !(low <= high) ||
      !(high < Infinity) ||
      !(low > 0) ||
      !(open >= low && open <= high) ||
      !(close >= low && close <= high) ||
      !(volume >= 0 && volume < Infinity)
    ) {
      throw invalidCandle(c);
    }
    const seq = this.seen;
    const i = this.head;
    this.head = i + 1 === this.lookback ? 0 : i + 1;
    this.rHigh[i] = high;
    this.rLow[i] = low;
    this.rClose[i] = close;
    this.rVolume[i] = volume;
    this.seen = seq + 1;
    this.lastOpenTime = openTime;
    this.close = close;

    if (this.cfg.methods.extrema) {
      // The candle `wing` back now has its full right wing; its left wing must exist too.
      const center = seq - this.wing;
      if (center - this.wing >= 0) {
        const s = swingAt(this.rHigh, this.rLow, this.lookback, center, this.wing);
        if (s !== 0) {
          const ci = center % this.lookback;
          if ((s & SWING_HIGH) !== 0) this.swingHighs.push(center, this.rHigh[ci] as number);
          if ((s & SWING_LOW) !== 0) this.swingLows.push(center, this.rLow[ci] as number);
        }
      }
      const oldest = seq + 1 - this.lookback;
      this.swingHighs.expireBefore(oldest);
      this.swingLows.expireBefore(oldest);
    }
    if (this.cfg.methods.pivots) this.pivots.update(openTime, high, low, close);
    this.dirty = true;
  }

  /**
   * The current levels, sorted by price (ascending). Recomputed only on the first call after an
   * update; the returned array and its objects are frozen snapshots that later updates never change.
   */
  levels(): readonly Level[] {
    if (this.dirty) {
      this.cache = this.recompute();
      this.dirty = false;
    }
    return this.cache;
  }

  /** The highest level at or below `price`, or null. */
  nearestSupport(price: number): Level | null {
    const ls = this.levels();
    const k = upperBound(ls, price); // first level above price
    return k > 0 ? (ls[k - 1] as Level) : null;
  }

  /** The lowest level strictly above `price`, or null. */
  nearestResistance(price: number): Level | null {
    const ls = this.levels();
    const k = upperBound(ls, price);
    return k < ls.length ? (ls[k] as Level) : null;
  }

  /**
   * The level closest to `price` if it lies within `maxDistancePct` percent of `price`, else
   * null. When two levels are equally close, the stronger wins (then the lower).
   */
  nearestLevel(price: number, maxDistancePct: number): Level | null {
    const below = this.nearestSupport(price);
    const above = this.nearestResistance(price);
    const max = (Math.abs(price) * maxDistancePct) / 100;
    const db = below ? price - below.price : Infinity;
    const da = above ? above.price - price : Infinity;
    let best: Level | null;
    if (db < da) best = below;
    else if (da < db) best = above;
    else best = below && above ? (above.strength > below.strength ? above : below) : null;
    if (best === null) return null;
    return Math.abs(best.price - price) <= max ? best : null;
  }

  private recompute(): readonly Level[] {
    const n = Math.min(this.seen, this.lookback);
    if (n === 0) return EMPTY;
    const { rHigh, rLow, rClose, rVolume, cPrice, cMask, cTouches, cfg } = this;
    // The methods read the ring buffer in place. Until it is full, slots 0..n-1 hold the
    // candles oldest first; once full, all slots are used and the oldest is at `head`. Only the
    // swing search depends on the order; volume profile and touch counts do not.
    const oldest = this.seen > this.lookback ? this.head : 0;

    // Gather every method's candidates into the scratch arrays.
    let m = 0;
    if (cfg.methods.extrema) {
      for (let k = 0; k < this.swingHighs.size; k++, m++) {
        cPrice[m] = this.swingHighs.priceAt(k);
        cMask[m] = BIT_EXTREMA;
      }
      for (let k = 0; k < this.swingLows.size; k++, m++) {
        cPrice[m] = this.swingLows.priceAt(k);
        cMask[m] = BIT_EXTREMA;
      }
    }
    if (cfg.methods.volumeProfile) {
      const profile = buildVolumeProfile(rHigh, rLow, rVolume, n, cfg.volumeProfileBins, this.profileScratch);
      if (profile) {
        for (const node of volumeNodes(profile, cfg.volumeProfileNodes)) {
          cPrice[m] = node.price;
          cMask[m++] = BIT_VOLUME;
        }
      }
    }
    if (cfg.methods.fibonacci) {
      const swing = findSwing(rHigh, rLow, rClose, n, oldest);
      if (swing) {
        for (const p of fibRetracements(swing, cfg.fibRatios)) {
          cPrice[m] = p;
          cMask[m++] = BIT_FIB;
        }
      }
    }
    if (cfg.methods.pivots) {
      const pv = this.pivots.current();
      if (pv) {
        for (const p of [pv.s2, pv.s1, pv.p, pv.r1, pv.r2]) {
          cPrice[m] = p;
          cMask[m++] = BIT_PIVOT;
        }
      }
    }

    // Sort by price (insertion sort: a few dozen items, no comparator calls).
    for (let a = 1; a < m; a++) {
      const p = cPrice[a] as number;
      const b = cMask[a] as number;
      let j = a - 1;
      while (j >= 0 && (cPrice[j] as number) > p) {
        cPrice[j + 1] = cPrice[j] as number;
        cMask[j + 1] = cMask[j] as number;
        j--;
      }
      cPrice[j + 1] = p;
      cMask[j + 1] = b;
    }

    // Touches, then the min-touches filter (compacting in place keeps the order).
    countTouchesSorted(cPrice, m, rHigh, rLow, n, cfg.touchTolerancePct, cTouches);
    let kept = 0;
    for (let k = 0; k < m; k++) {
      const t = cTouches[k] as number;
      if (t >= cfg.minTouches || cMask[k] === BIT_PIVOT) {
        cPrice[kept] = cPrice[k] as number;
        cMask[kept] = cMask[k] as number;
        cTouches[kept] = t;
        kept++;
      }
    }

    const close = this.close;
    const out = mergeSorted(cPrice, cMask, cTouches, kept, cfg.mergeTolerancePct).map(
      (c): Level => ({
        price: c.price,
        kind: c.price <= close ? 'support' : 'resistance',
        sources: sourcesOf(c.sourceMask),
        sourceMask: c.sourceMask,
        touches: c.touches,
        strength: levelStrength(c.touches, c.sourceMask),
      }),
    );
    return Object.freeze(out);
  }
}

/** The error for a candle that is not after the previous one. */
function outOfOrder(openTime: number, previous: number): DataValidationError {
  return new DataValidationError(
    `LevelTracker.update: candle openTime ${openTime} is not after the previous ${previous}; expected closed candles in time order`,
  );
}

/** The error for a candle with unusable numbers. */
function invalidCandle(c: Candle): DataValidationError {
  return new DataValidationError(
    `LevelTracker.update: candle at ${c.openTime} has o=${c.open} h=${c.high} l=${c.low} c=${c.close} v=${c.volume}; expected positive finite prices with low <= open, close <= high and a finite volume >= 0`,
  );
}

/** Index of the first level whose price is above `price` (levels sorted ascending). */
function upperBound(levels: readonly Level[], price: number): number {
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((levels[mid] as Level).price <= price) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
