import { describe, it, expect } from 'vitest';
import { MinMaxWindow, type PriceWindowState } from '../../services/risk/index.js';

/** Deterministic pseudo-random numbers in [0, 1) (a linear congruential generator). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('MinMaxWindow', () => {
  it('matches a brute-force min/max over the window for a long random walk', () => {
    // Reference: scan every price whose time is within windowMs before the latest (time - t0 < windowMs).
    const windowMs = 10 * 60_000;
    const rnd = lcg(42);
    const w = new MinMaxWindow();
    const seen: Array<[number, number]> = [];
    let t = 0;
    let price = 100;
    for (let i = 0; i < 5000; i++) {
      t += Math.floor(rnd() * 3) * 60_000; // 0, 1 or 2 minutes: repeated times included
      price = Math.max(1, price + (rnd() - 0.5) * 4);
      w.push(t, price, windowMs);
      seen.push([t, price]);
      let min = Infinity;
      let max = -Infinity;
      for (const [ts, p] of seen) {
        if (t - ts < windowMs) {
          min = Math.min(min, p);
          max = Math.max(max, p);
        }
      }
      expect(w.min()).toBe(min);
      expect(w.max()).toBe(max);
    }
  });

  it('continues identically after a JSON round trip of its state', () => {
    const windowMs = 5 * 60_000;
    const rnd = lcg(7);
    const a = new MinMaxWindow();
    const prices = Array.from({ length: 400 }, (_, i) => [i * 60_000, 50 + rnd() * 10] as const);
    for (const [t, p] of prices.slice(0, 200)) a.push(t, p, windowMs);
    const b = new MinMaxWindow(JSON.parse(JSON.stringify(a.toState())) as PriceWindowState);
    for (const [t, p] of prices.slice(200)) {
      a.push(t, p, windowMs);
      b.push(t, p, windowMs);
      expect([b.min(), b.max()]).toEqual([a.min(), a.max()]);
    }
  });

  it('is empty (NaN) before the first price and after clear()', () => {
    const w = new MinMaxWindow();
    expect(w.min()).toBeNaN();
    w.push(0, 5, 1000);
    expect([w.min(), w.max()]).toEqual([5, 5]);
    w.clear();
    expect(w.max()).toBeNaN();
    // The time order is still enforced after a clear.
    expect(() => w.push(-1, 5, 1000)).toThrow(/not earlier than the last/);
  });
});
