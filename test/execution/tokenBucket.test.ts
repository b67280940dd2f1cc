/**
 * TokenBucket against hand-worked refills. Defaults: 5 tokens/s, burst 20, so one token comes back
 * every 1000 / 5 = 200 ms, and 0.5 token every 100 ms.
 */
import { describe, it, expect } from 'vitest';
import { TokenBucket } from '../../services/execution/tokenBucket.js';
import { ConfigError, DataValidationError } from '../../services/core/errors.js';

const T0 = 1_700_000_000_000;

/** A default bucket after taking all 20 tokens at T0. */
function emptied(): TokenBucket {
  const b = new TokenBucket();
  for (let i = 0; i < 20; i++) b.tryTake(T0);
  return b;
}

describe('TokenBucket', () => {
  it('starts full: a burst of 20 at one instant, then the 21st is refused', () => {
    const b = new TokenBucket({ ratePerSecond: 5, burst: 20 });
    expect(b.available(T0)).toBe(20);
    let granted = 0;
    for (let i = 0; i < 20; i++) if (b.tryTake(T0)) granted++;
    expect(granted).toBe(20);
    expect(b.tryTake(T0)).toBe(false);
    expect(b.available(T0)).toBe(0);
  });

  it('refills one token every 200 ms at 5/s', () => {
    const b = emptied();
    // 199 ms x 5/s = 0.995 token: not enough.
    expect(b.tryTake(T0 + 199)).toBe(false);
    // 200 ms x 5/s = 1 token exactly.
    expect(b.tryTake(T0 + 200)).toBe(true);
    expect(b.tryTake(T0 + 200)).toBe(false);
    // Another 200 ms: one more, and only one.
    expect(b.tryTake(T0 + 400)).toBe(true);
    expect(b.tryTake(T0 + 400)).toBe(false);
  });

  it('a refused take takes nothing', () => {
    const b = emptied();
    // At +400 ms there are 2 tokens; asking for 3 fails and leaves both.
    expect(b.tryTake(T0 + 400, 3)).toBe(false);
    expect(b.available(T0 + 400)).toBe(2);
    expect(b.tryTake(T0 + 400, 2)).toBe(true);
    expect(b.available(T0 + 400)).toBe(0);
  });

  it('msUntilAvailable gives exact waits', () => {
    const b = emptied();
    // Empty: 3 tokens need 3 x 200 = 600 ms; 1 token 200 ms; 20 tokens 20 x 200 = 4000 ms.
    expect(b.msUntilAvailable(T0, 3)).toBe(600);
    expect(b.msUntilAvailable(T0)).toBe(200);
    expect(b.msUntilAvailable(T0, 20)).toBe(4000);
    // 21 > burst: never.
    expect(b.msUntilAvailable(T0, 21)).toBe(Infinity);
    // At +50 ms there are 0.25 tokens; 1 token needs 0.75 x 200 = 150 ms more.
    expect(b.msUntilAvailable(T0 + 50)).toBe(150);
    // And the wait it gives is enough: at +50 + 150 = +200 the take succeeds.
    expect(b.tryTake(T0 + 200)).toBe(true);
    // Full bucket: no wait.
    expect(new TokenBucket().msUntilAvailable(T0, 20)).toBe(0);
  });

  it('rounds a fractional wait up to the whole ms that suffices', () => {
    // 3/s: one token every 333.33 ms. Empty, 1 token needs ceil(333.33) = 334 ms;
    // at +333 ms there are 333 x 3 / 1000 = 0.999 tokens, at +334 ms 1.002.
    const b = new TokenBucket({ ratePerSecond: 3, burst: 1 });
    expect(b.tryTake(T0)).toBe(true);
    expect(b.msUntilAvailable(T0)).toBe(334);
    expect(b.tryTake(T0 + 333)).toBe(false);
    expect(b.tryTake(T0 + 334)).toBe(true);
  });

  it('refills fractionally and adds small refills up exactly', () => {
    const b = emptied();
    // 100 ms -> 0.5 token; 30 ms -> 0.15 token.
    expect(b.available(T0 + 100)).toBe(0.5);
    expect(b.available(T0 + 130)).toBeCloseTo(0.65, 12);
    // Ten refills of 20 ms each (0.1 token each) make exactly 1 token at +200:
    // committing each step must not lose a float epsilon and refuse the token.
    for (let t = 20; t < 200; t += 20) expect(b.tryTake(T0 + t)).toBe(false);
    expect(b.tryTake(T0 + 200)).toBe(true);
  });

  it('never holds more than burst', () => {
    const b = emptied();
    // An hour idle would be 18,000 tokens; capped at 20.
    expect(b.available(T0 + 3_600_000)).toBe(20);
    expect(b.tryTake(T0 + 3_600_000, 20)).toBe(true);
    expect(b.tryTake(T0 + 3_600_000)).toBe(false);
  });

  it('a clock going backwards mints no tokens, and its return is not counted twice', () => {
    const b = emptied();
    // At +1000 ms: 5 tokens; take all 5.
    expect(b.tryTake(T0 + 1000, 5)).toBe(true);
    // Clock jumps back 10 s: no elapsed time, still empty.
    expect(b.available(T0 - 9000)).toBe(0);
    expect(b.tryTake(T0 - 9000)).toBe(false);
    expect(b.msUntilAvailable(T0 - 9000)).toBe(200);
    // Back to +1100: only 100 ms since the latest time seen (+1000) -> 0.5 token.
    expect(b.available(T0 + 1100)).toBe(0.5);
    expect(b.tryTake(T0 + 1100)).toBe(false);
    expect(b.tryTake(T0 + 1200)).toBe(true);
  });

  it('queries do not change the bucket', () => {
    const b = emptied();
    b.available(T0 + 1000);
    b.msUntilAvailable(T0 + 1000);
    // Reading at +1000 then taking at +200 still sees only 1 token at +200.
    expect(b.tryTake(T0 + 200, 2)).toBe(false);
    expect(b.tryTake(T0 + 200, 1)).toBe(true);
  });

  it('rejects bad options naming the option', () => {
    expect(() => new TokenBucket({ ratePerSecond: 0 })).toThrow(ConfigError);
    expect(() => new TokenBucket({ ratePerSecond: Number.NaN })).toThrow(/ratePerSecond/);
    expect(() => new TokenBucket({ ratePerSecond: Infinity })).toThrow(/ratePerSecond/);
    expect(() => new TokenBucket({ burst: 0 })).toThrow(ConfigError);
    expect(() => new TokenBucket({ burst: 2.5 })).toThrow(/burst/);
  });

  it('rejects a non-finite time and a bad count', () => {
    const b = new TokenBucket();
    expect(() => b.tryTake(Number.NaN)).toThrow(DataValidationError);
    expect(() => b.available(Infinity)).toThrow(/now/);
    expect(() => b.tryTake(T0, 0)).toThrow(/n must be/);
    expect(() => b.msUntilAvailable(T0, 1.5)).toThrow(DataValidationError);
  });
});
