/**
 * Swing extrema (local highs and lows) over a ring buffer of candles.
 *
 * A *swing high* is a candle whose high is strictly above the highs of the `wing` candles on each
 * side of it; a *swing low* likewise with lows, strictly below. Because the right wing must have
 * closed, a swing at sequence number `c` is known only once candle `c + wing` has closed: checking
 * the candle `wing` positions back from each new candle is exactly the no-look-ahead rule.
 */

/** Bit returned by `swingAt` when the centre candle is a swing high. */
export const SWING_HIGH = 1;
/** Bit returned by `swingAt` when the centre candle is a swing low. */
export const SWING_LOW = 2;

/**
 * Classifies the candle with sequence number `center` (0 = first candle ever seen) as a swing high
 * and/or low. The arrays are a ring buffer: sequence number `s` lives at index `s % capacity`, and
 * the caller guarantees that `center - wing .. center + wing` are all still held.
 * Returns a bitmask of `SWING_HIGH` and `SWING_LOW` (0 when neither).
 */
export function swingAt(high: ArrayLike<number>, low: ArrayLike<number>, capacity: number, center: number, wing: number): number {
  const ci = center % capacity;
  const h = high[ci] as number;
  const l = low[ci] as number;
  let isHigh = true;
  let isLow = true;
  // Walk both wings with wrap-around instead of a modulo per step (integer division is slow).
  let a = ci;
  let b = ci;
  for (let d = 1; d <= wing && (isHigh || isLow); d++) {
    a = a === 0 ? capacity - 1 : a - 1;
    b = b === capacity - 1 ? 0 : b + 1;
    if (isHigh && ((high[a] as number) >= h || (high[b] as number) >= h)) isHigh = false;
    if (isLow && ((low[a] as number) <= l || (low[b] as number) <= l)) isLow = false;
  }
  return (isHigh ? SWING_HIGH : 0) | (isLow ? SWING_LOW : 0);
}

/**
 * A bounded FIFO of confirmed swings (sequence number and price), oldest first. Swings are
 * confirmed in sequence order, so expiring the ones that left the lookback window only ever
 * removes from the front: O(1) amortised per candle, no allocation after construction.
 */
export class SwingQueue {
  private readonly seq: Float64Array;
  private readonly price: Float64Array;
  private head = 0;
  private len = 0;

  /** `capacity` bounds how many swings are held; when full, the oldest is dropped. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`SwingQueue: capacity must be a positive integer, got ${capacity}`);
    this.seq = new Float64Array(capacity);
    this.price = new Float64Array(capacity);
  }

  /** Number of swings held. */
  get size(): number {
    return this.len;
  }

  /** Appends a swing (sequence numbers must not decrease). */
  push(seq: number, price: number): void {
    if (this.len === this.capacity) this.shift();
    const i = (this.head + this.len) % this.capacity;
    this.seq[i] = seq;
    this.price[i] = price;
    this.len++;
  }

  /** Drops swings whose sequence number is below `minSeq` (they left the window). */
  expireBefore(minSeq: number): void {
    while (this.len > 0 && (this.seq[this.head] as number) < minSeq) this.shift();
  }

  /** Price of the i-th held swing, oldest first. */
  priceAt(i: number): number {
    return this.price[(this.head + i) % this.capacity] as number;
  }

  /** Sequence number of the i-th held swing, oldest first. */
  seqAt(i: number): number {
    return this.seq[(this.head + i) % this.capacity] as number;
  }

  /** Empties the queue. */
  clear(): void {
    this.head = 0;
    this.len = 0;
  }

  private shift(): void {
    this.head = (this.head + 1) % this.capacity;
    this.len--;
  }
}
