/**
 * Classic floor pivot points and the tracking of the period they come from.
 *
 * Floor traders compute, from the previous period's high H, low L and close C:
 * P = (H + L + C) / 3, R1 = 2P - L, S1 = 2P - H, R2 = P + (H - L), S2 = P - (H - L).
 * They are forward-looking reference prices for the current period.
 */
import { bucketStart, timeframeMs, type Timeframe } from '../core/timeframes.js';

/** The five classic pivot prices. */
export interface FloorPivots {
  readonly p: number;
  readonly r1: number;
  readonly s1: number;
  readonly r2: number;
  readonly s2: number;
}

/** Classic floor pivots of a period with high `h`, low `l` and close `c`. */
export function floorPivots(h: number, l: number, c: number): FloorPivots {
  const p = (h + l + c) / 3;
  return { p, r1: 2 * p - l, s1: 2 * p - h, r2: p + (h - l), s2: p - (h - l) };
}

/**
 * Follows the high, low and close of the current `period` (aligned to the UTC epoch with
 * `bucketStart`) from the candles it is fed, and keeps the pivots of the last completed period.
 *
 * Rules (all about not using a period that is not really known):
 * - A period is complete once its last candle has closed (`openTime + candleMs` reaches the
 *   period's end), or, if that candle is missing from the feed, when a candle of a later period
 *   arrives.
 * - The first period the tracker sees is ignored when the tracker started after its beginning:
 *   its high, low and close would be those of a fragment.
 * - Pivots are offered only for the period right after the completed one; after a gap of a whole
 *   period or more they are stale and `current` returns null.
 */
export class PivotPeriodTracker {
  private readonly periodMs: number;
  private curStart = Number.NaN;
  private curEnd = Number.NaN;
  private curOpen = false;
  private curUsable = false;
  private curH = 0;
  private curL = 0;
  private curC = 0;
  private seenAny = false;
  private prev: FloorPivots | null = null;
  private prevStart = Number.NaN;
  private lastCloseTime = Number.NaN;

  /** `period` is the pivot timeframe; `candleMs` the duration of the candles fed to `update`. */
  constructor(
    readonly period: Timeframe,
    readonly candleMs: number,
  ) {
    this.periodMs = timeframeMs(period);
  }

  /** Folds one closed candle into the current period. Candles must arrive in time order. */
  update(openTime: number, high: number, low: number, close: number): void {
    // Same period as the previous candle: two comparisons instead of a float modulo.
    const same = this.curOpen && openTime >= this.curStart && openTime < this.curEnd;
    if (!same) {
      if (this.curOpen) this.complete();
      const start = bucketStart(openTime, this.period);
      this.curStart = start;
      this.curEnd = start + this.periodMs;
      this.curOpen = true;
      this.curUsable = this.seenAny || openTime === start;
      this.curH = high;
      this.curL = low;
    } else {
      if (high > this.curH) this.curH = high;
      if (low < this.curL) this.curL = low;
    }
    this.curC = close;
    this.seenAny = true;
    this.lastCloseTime = openTime + this.candleMs;
    if (this.lastCloseTime >= this.curEnd) this.complete();
  }

  /**
   * Pivots for the period in progress after the latest candle closed, i.e. those of the period
   * just before it; null when that period was not (fully) observed.
   */
  current(): FloorPivots | null {
    if (this.prev === null) return null;
    // Valid while the latest close lies in the period right after the completed one.
    const t = this.lastCloseTime;
    return t >= this.prevStart + this.periodMs && t < this.prevStart + 2 * this.periodMs ? this.prev : null;
  }

  private complete(): void {
    this.prev = this.curUsable ? floorPivots(this.curH, this.curL, this.curC) : null;
    this.prevStart = this.curStart;
    this.curOpen = false;
  }
}
