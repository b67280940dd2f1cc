/**
 * Rolling minimum and maximum of a symbol's prices over a time window, in O(1) amortised per price.
 *
 * A monotonic deque keeps only the prices that can still become the window's extreme: for the max,
 * a price is dropped as soon as a later price is at least as high (the later one outlives it and is
 * no lower), so the deque is decreasing from head to tail and its head is the max. The min deque is
 * the mirror image. Each price is pushed and removed at most once per deque.
 *
 * Deques are plain number arrays with a head index (no allocation per price); the consumed prefix is
 * cut off once it is more than half the array, which keeps the amortised cost O(1) and the memory
 * bounded by twice the prices inside the window.
 */
import { DataValidationError } from '../core/errors.js';
import type { PriceWindowState } from './types.js';

/** Compact a deque once its consumed prefix reaches this length and half the array. */
const COMPACT_MIN = 64;

class Deque {
  times: number[];
  prices: number[];
  head = 0;

  constructor(times: number[] = [], prices: number[] = []) {
    this.times = times;
    this.prices = prices;
  }

  get size(): number {
    return this.times.length - this.head;
  }

  /** Drops entries at or before `cutoff` from the head. */
  evict(cutoff: number): void {
    const times = this.times;
    let h = this.head;
    while (h < times.length && (times[h] as number) <= cutoff) h++;
    this.head = h;
    if (h >= COMPACT_MIN && h * 2 >= times.length) {
      times.splice(0, h);
      this.prices.splice(0, h);
      this.head = 0;
    }
  }

  headPrice(): number {
    return this.prices[this.head] as number;
  }

  clear(): void {
    this.times.length = 0;
    this.prices.length = 0;
    this.head = 0;
  }
}

/** Rolling min/max of prices whose time is within `windowMs` before the latest price. */
export class MinMaxWindow {
  private readonly maxQ: Deque;
  private readonly minQ: Deque;
  private lastTime = Number.NEGATIVE_INFINITY;

  constructor(state?: PriceWindowState) {
    this.maxQ = new Deque(state ? [...state.maxTimes] : [], state ? [...state.maxPrices] : []);
    this.minQ = new Deque(state ? [...state.minTimes] : [], state ? [...state.minPrices] : []);
    if (state && state.lastTime !== null) this.lastTime = state.lastTime;
  }

  /**
   * Adds a price and drops those that left the window: a price at time `t0` stays while
   * `time - t0 < windowMs`, so a 60-minute window over 1m closes holds 60 prices.
   * Throws DataValidationError for a non-positive or non-finite price or a time earlier than the last.
   */
  push(time: number, price: number, windowMs: number): void {
    if (!Number.isFinite(price) || price <= 0) throw new DataValidationError(`MinMaxWindow.push: price must be a positive finite number, got ${price}`);
    if (!Number.isFinite(time) || time < this.lastTime)
      throw new DataValidationError(`MinMaxWindow.push: time must be finite and not earlier than the last (${this.lastTime}), got ${time}`);
    this.lastTime = time;
    const mx = this.maxQ;
    while (mx.size > 0 && (mx.prices[mx.prices.length - 1] as number) <= price) {
      mx.times.pop();
      mx.prices.pop();
    }
    mx.times.push(time);
    mx.prices.push(price);
    const mn = this.minQ;
    while (mn.size > 0 && (mn.prices[mn.prices.length - 1] as number) >= price) {
      mn.times.pop();
      mn.prices.pop();
    }
    mn.times.push(time);
    mn.prices.push(price);
    const cutoff = time - windowMs;
    mx.evict(cutoff);
    mn.evict(cutoff);
  }

  /** Highest price in the window (NaN when empty). */
  max(): number {
    return this.maxQ.size > 0 ? this.maxQ.headPrice() : Number.NaN;
  }

  /** Lowest price in the window (NaN when empty). */
  min(): number {
    return this.minQ.size > 0 ? this.minQ.headPrice() : Number.NaN;
  }

  /** Forgets every price (after a move has been acted upon), keeping the time order check. */
  clear(): void {
    this.maxQ.clear();
    this.minQ.clear();
  }

  /** Plain-JSON copy of the live part of the deques. */
  toState(): PriceWindowState {
    return {
      lastTime: Number.isFinite(this.lastTime) ? this.lastTime : null,
      maxTimes: this.maxQ.times.slice(this.maxQ.head),
      maxPrices: this.maxQ.prices.slice(this.maxQ.head),
      minTimes: this.minQ.times.slice(this.minQ.head),
      minPrices: this.minQ.prices.slice(this.minQ.head),
    };
  }
}
