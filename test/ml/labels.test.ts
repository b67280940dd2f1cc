/**
 * Triple-barrier labels on hand-built candle paths (entry at the close of candle 0 = 100, target
 * +2% = 102, stop -1% = 99, time limit 5 minutes), the barriers implied by the strategy config
 * (worked out from the defaults by hand), and the recency weights.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../services/config/schema.js';
import type { Candle } from '../../services/core/types.js';
import { barriersFromConfig, recencyWeights, tripleBarrierLabels, type BarrierSpec } from '../../services/ml/labels.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0);
const M = 60_000;
/** A candle at minute `i` with the given high, low and close (open = close of the previous = 100 when absent). */
function k(i: number, high: number, low: number, close = (high + low) / 2, open = close): Candle {
  return { openTime: T0 + i * M, open, high: Math.max(high, open, close), low: Math.min(low, open, close), close, volume: 1 };
}
const SPEC: BarrierSpec = { mode: 'percent', target: 2, stop: 1, horizonMinutes: 5 };
const entry = k(0, 100, 100, 100);

describe('triple barrier', () => {
  it('target first: up = 1', () => {
    const path = [entry, k(1, 100.5, 99.5), k(2, 102.1, 100.2), k(3, 100, 98)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(l.up[0]).toBe(1);
    expect(l.outcome[0]).toBe('target');
    expect(l.minutesToExit[0]).toBe(2);
  });

  it('stop first: up = 0, even if the target is reached later', () => {
    const path = [entry, k(1, 100.2, 98.9), k(2, 103, 100), k(3, 100, 100)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(l.up[0]).toBe(0);
    expect(l.outcome[0]).toBe('stop');
    expect(l.minutesToExit[0]).toBe(1);
  });

  it('target and stop in the same candle: the conservative outcome, stop', () => {
    const path = [entry, k(1, 100.5, 99.6), k(2, 102.5, 98.5), k(3, 100, 100)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(l.up[0]).toBe(0);
    expect(l.outcome[0]).toBe('stop');
  });

  it('exactly at the barrier counts as touched', () => {
    expect(tripleBarrierLabels([entry, k(1, 102, 100)], SPEC).up[0]).toBe(1);
    expect(tripleBarrierLabels([entry, k(1, 100, 99)], SPEC).up[0]).toBe(0);
  });

  it('time limit: no barrier within 5 minutes is up = 0, a target after the limit does not count', () => {
    const path = [entry, k(1, 101, 99.5), k(2, 101, 99.5), k(3, 101, 99.5), k(4, 101, 99.5), k(5, 101, 99.5), k(6, 105, 101)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(l.outcome[0]).toBe('time');
    expect(l.up[0]).toBe(0);
    expect(l.minutesToExit[0]).toBe(5);
    // Candle 1's own sample: its window is minutes 2..6 and candle 6 hits its target (101 * 1.02 = 103.02).
    expect(l.outcome[1]).toBe('target');
  });

  it('the limit is measured in time across a gap in the data', () => {
    // Candles 1 and 2, then nothing until minute 9: the limit (minute 5) passes inside the gap.
    const path = [entry, k(1, 101, 99.5), k(2, 101, 99.5), k(9, 110, 100)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(l.outcome[0]).toBe('time');
    expect(l.up[0]).toBe(0);
  });

  it('no label when the data ends before any barrier or the limit', () => {
    const path = [entry, k(1, 101, 99.5), k(2, 101, 99.5)];
    const l = tripleBarrierLabels(path, SPEC);
    expect(Number.isNaN(l.up[0]!)).toBe(true);
    expect(l.outcome[0]).toBe('none');
    expect(Number.isNaN(l.up[2]!)).toBe(true); // the last candle has no future at all
  });

  it('distances in ATR units: 2% and 1% of 100 with an ATR of 0.5 are 4 and 2 ATRs', () => {
    const l = tripleBarrierLabels([entry, k(1, 102, 100)], SPEC, [0.5, 0.5]);
    expect(l.targetDistance[0]).toBeCloseTo(4, 6);
    expect(l.stopDistance[0]).toBeCloseTo(2, 6);
  });

  it('ATR mode: barriers are ATR multiples', () => {
    const atrSpec: BarrierSpec = { mode: 'atr', target: 2, stop: 1, horizonMinutes: 5 };
    // ATR 0.5: target 101, stop 99.5.
    const path = [entry, k(1, 100.9, 99.6), k(2, 101.1, 99.7)];
    const l = tripleBarrierLabels(path, atrSpec, [0.5, 0.5, 0.5]);
    expect(l.up[0]).toBe(1);
    expect(l.minutesToExit[0]).toBe(2);
    // Without an ATR there is no label in ATR mode.
    expect(Number.isNaN(tripleBarrierLabels(path, atrSpec).up[0]!)).toBe(true);
  });
});

describe('barriers from the strategy config', () => {
  it('standard: stop 0.8% + 0.2%/2 = 0.9%, target max(1.5, 2 x 0.9) = 1.8%, 240 min', () => {
    const b = barriersFromConfig(parseConfig({}));
    expect(b.mode).toBe('percent');
    expect(b.stop).toBeCloseTo(0.9, 12);
    expect(b.target).toBeCloseTo(1.8, 12);
    expect(b.horizonMinutes).toBe(240);
  });

  it('hf: stop 0.8% + 0.1%/2 = 0.85%, target 1.7%, 30 min; the target is clamped to primaryTargetMaxPct', () => {
    const b = barriersFromConfig(parseConfig({ mode: 'hf' }));
    expect(b.stop).toBeCloseTo(0.85, 12);
    expect(b.target).toBeCloseTo(1.7, 12);
    expect(b.horizonMinutes).toBe(30);
    const wide = barriersFromConfig(parseConfig({ exit: { stopBeyondLevelPct: 1.5 } }));
    expect(wide.stop).toBeCloseTo(1.6, 12);
    expect(wide.target).toBe(2); // 2 x 1.6 = 3.2 clamped to 2
  });
});

describe('recency weights', () => {
  it('halve every half-life and average 1', () => {
    const day = 86_400_000;
    const w = recencyWeights([0, 7 * day, 14 * day], 7);
    // Raw 0.25, 0.5, 1 -> scaled by 3 / 1.75.
    expect(w[0]).toBeCloseTo((0.25 * 3) / 1.75, 6);
    expect(w[1]).toBeCloseTo((0.5 * 3) / 1.75, 6);
    expect(w[2]).toBeCloseTo(3 / 1.75, 6);
    expect(recencyWeights([1, 2, 3], 0)).toEqual(new Float32Array([1, 1, 1]));
  });
});
