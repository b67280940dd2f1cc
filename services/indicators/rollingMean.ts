/**
 * The mean of the last `period` values in O(1) per value: a ring and a running sum. trading-signals'
 * SMA recomputes the sum over its window on every update (and shifts its array), which was 12% of a
 * backtest's time for the 20-candle volume average alone. The running sum is rebuilt from the ring
 * once per period, so float drift never accumulates beyond one window's worth of additions.
 */
export class RollingMean {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private sum = 0;

  constructor(readonly period: number) {
    if (!Number.isInteger(period) || period < 1) throw new RangeError(`RollingMean: period must be an integer >= 1, got ${period}`);
    this.ring = new Float64Array(period);
  }

  update(value: number): number | null {
    const ring = this.ring;
    if (this.count === this.period) this.sum -= ring[this.head] as number;
    else this.count++;
    ring[this.head] = value;
    this.sum += value;
    this.head++;
    if (this.head === this.period) {
      this.head = 0;
      let t = 0;
      for (let i = 0; i < this.count; i++) t += ring[i] as number;
      this.sum = t;
    }
    return this.result();
  }

  /** The mean once `period` values were seen, else null. */
  result(): number | null {
    return this.count === this.period ? this.sum / this.period : null;
  }
}
