/**
 * CircuitBreaker against hand-worked timelines. Defaults: 5 failures within 60,000 ms open it,
 * it stays open 30,000 ms, then 1 probe.
 */
import { describe, it, expect } from 'vitest';
import { CircuitBreaker, CircuitBreakers } from '../../services/execution/circuitBreaker.js';
import { ConfigError, DataValidationError, InvalidStateError } from '../../services/core/errors.js';

const T0 = 1_700_000_000_000;

/** A default breaker opened by 5 failures at T0, T0+1, ..., T0+4 (so it opens at T0+4). */
function opened(): CircuitBreaker {
  const b = new CircuitBreaker();
  for (let i = 0; i < 5; i++) b.onFailure(T0 + i);
  return b;
}

describe('CircuitBreaker', () => {
  it('opens exactly at the threshold, not before', () => {
    const b = new CircuitBreaker({ failureThreshold: 5, windowMs: 60_000, openMs: 30_000, halfOpenMaxProbes: 1 });
    for (let i = 0; i < 4; i++) {
      b.onFailure(T0 + i * 1000);
      expect(b.state(T0 + i * 1000)).toBe('closed');
      expect(b.canRequest(T0 + i * 1000)).toBe(true);
    }
    expect(b.snapshot(T0 + 3000).recentFailures).toBe(4);
    b.onFailure(T0 + 4000); // 5th failure, 4,000 ms after the 1st < 60,000
    expect(b.state(T0 + 4000)).toBe('open');
    expect(b.canRequest(T0 + 4000)).toBe(false);
  });

  it('rejects while open; half-open at openMs exactly, not 1 ms before', () => {
    const b = opened(); // opened at T0+4 -> half-open at T0+4+30,000 = T0+30,004
    expect(b.canRequest(T0 + 10_000)).toBe(false);
    expect(b.state(T0 + 30_003)).toBe('open');
    expect(b.canRequest(T0 + 30_003)).toBe(false);
    expect(b.snapshot(T0 + 30_003)).toEqual({
      state: 'open',
      recentFailures: 0,
      openedAt: T0 + 4,
      halfOpenAt: T0 + 30_004,
      probesInFlight: 0,
      timesOpened: 1,
    });
    expect(b.state(T0 + 30_004)).toBe('half_open');
  });

  it('half-open lets through only halfOpenMaxProbes probes', () => {
    const b = opened();
    expect(b.canRequest(T0 + 30_004)).toBe(true); // the one probe
    expect(b.canRequest(T0 + 30_005)).toBe(false); // slot taken
    expect(b.snapshot(T0 + 30_005).probesInFlight).toBe(1);

    const b3 = new CircuitBreaker({ failureThreshold: 1, openMs: 1000, halfOpenMaxProbes: 3 });
    b3.onFailure(T0); // threshold 1: opens at T0, half-open at T0+1000
    expect([1, 2, 3, 4].map(() => b3.canRequest(T0 + 1000))).toEqual([true, true, true, false]);
  });

  it('a probe success closes it and clears the failure run', () => {
    const b = opened();
    expect(b.canRequest(T0 + 30_004)).toBe(true);
    b.onSuccess(T0 + 30_100);
    expect(b.state(T0 + 30_100)).toBe('closed');
    expect(b.canRequest(T0 + 30_100)).toBe(true);
    // The 5 old failures do not count: 4 new ones keep it closed.
    for (let i = 0; i < 4; i++) b.onFailure(T0 + 30_200 + i);
    expect(b.state(T0 + 30_203)).toBe('closed');
  });

  it('a probe failure reopens it for another openMs', () => {
    const b = opened();
    expect(b.canRequest(T0 + 30_004)).toBe(true);
    b.onFailure(T0 + 30_500); // reopens at T0+30,500 -> half-open at T0+60,500
    expect(b.state(T0 + 30_500)).toBe('open');
    expect(b.canRequest(T0 + 60_499)).toBe(false);
    expect(b.state(T0 + 60_500)).toBe('half_open');
    expect(b.canRequest(T0 + 60_500)).toBe(true);
    expect(b.snapshot(T0 + 60_500).timesOpened).toBe(2);
  });

  it('failures older than the window expire', () => {
    const b = new CircuitBreaker();
    // Failures at 0, 10 s, 20 s, 30 s, then the 5th at 60 s: the 1st is 60,000 ms old, which is
    // not < 60,000, so only 4 count -> still closed.
    for (const t of [0, 10_000, 20_000, 30_000, 60_000]) b.onFailure(T0 + t);
    expect(b.state(T0 + 60_000)).toBe('closed');
    // At 60 s the 1st has left the window: 4 recent (10 s, 20 s, 30 s, 60 s).
    expect(b.snapshot(T0 + 60_000).recentFailures).toBe(4);
    // A 6th at 69,999: the last five span 10,000..69,999 = 59,999 ms < 60,000 -> opens.
    b.onFailure(T0 + 69_999);
    expect(b.state(T0 + 69_999)).toBe('open');
  });

  it('a success in the closed state resets the run', () => {
    const b = new CircuitBreaker();
    for (let i = 0; i < 4; i++) b.onFailure(T0 + i);
    b.onSuccess(T0 + 10);
    expect(b.snapshot(T0 + 10).recentFailures).toBe(0);
    for (let i = 0; i < 4; i++) b.onFailure(T0 + 20 + i);
    expect(b.state(T0 + 23)).toBe('closed'); // 4 since the success, not 8
    b.onFailure(T0 + 24);
    expect(b.state(T0 + 24)).toBe('open');
  });

  it('ignores outcomes reported while open', () => {
    const b = opened(); // half-open at T0+30,004
    b.onFailure(T0 + 20_000); // a late failure does not extend the open period
    b.onSuccess(T0 + 20_001); // nor does a late success close it
    expect(b.state(T0 + 20_001)).toBe('open');
    expect(b.state(T0 + 30_004)).toBe('half_open');
  });

  it('rejects bad options naming the option, and a non-finite time', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrow(ConfigError);
    expect(() => new CircuitBreaker({ failureThreshold: 1.5 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker({ windowMs: 0 })).toThrow(/windowMs/);
    expect(() => new CircuitBreaker({ openMs: -1 })).toThrow(/openMs/);
    expect(() => new CircuitBreaker({ halfOpenMaxProbes: 0 })).toThrow(/halfOpenMaxProbes/);
    expect(() => new CircuitBreaker().canRequest(Number.NaN)).toThrow(DataValidationError);
  });
});

describe('CircuitBreakers', () => {
  it('keeps one independent breaker per endpoint, with shared options', () => {
    const r = new CircuitBreakers({ failureThreshold: 2, openMs: 1000 });
    const create = r.get('createOrder');
    expect(r.get('createOrder')).toBe(create);
    create.onFailure(T0);
    create.onFailure(T0 + 1); // 2nd failure: threshold 2 -> open until T0+1,001
    expect(r.get('createOrder').canRequest(T0 + 2)).toBe(false);
    expect(r.get('cancelOrder').canRequest(T0 + 2)).toBe(true);
    const snap = r.snapshot(T0 + 1001);
    expect(Object.keys(snap).sort()).toEqual(['cancelOrder', 'createOrder']);
    expect(snap.createOrder?.state).toBe('half_open');
    expect(snap.cancelOrder?.state).toBe('closed');
  });

  it('is bounded by maxEndpoints and validates its options', () => {
    const r = new CircuitBreakers({}, 2);
    r.get('a');
    r.get('b');
    expect(() => r.get('c')).toThrow(InvalidStateError);
    expect(r.get('a')).toBeDefined();
    expect(() => new CircuitBreakers({ windowMs: -5 })).toThrow(/windowMs/);
    expect(() => new CircuitBreakers({}, 0)).toThrow(/maxEndpoints/);
  });
});
