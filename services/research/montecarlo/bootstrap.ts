/**
 * A circular block bootstrap of daily returns (Politis and Romano's circular variant of Kunsch's
 * moving blocks): each scenario is as many days as the run, built from blocks of `block`
 * consecutive days starting at random days (wrapping at the end), so a few days of dependence
 * (a trending week, a volatile stretch) survive the resampling. It gives confidence intervals of
 * the result itself, not only of its path.
 */
import { seededRandom } from '../../ml/random.js';
import { mixSeed } from '../walkForward.js';
import { pathStats, type PathStats, type RiskLimits } from './paths.js';
import { DAY_MS } from '../../core/timeframes.js';

/** A block length for n days: the cube root of n, rounded, at least 1 (the usual order for the mean). */
export function defaultBlockDays(n: number): number {
  return Math.max(1, Math.round(Math.cbrt(n)));
}

/** Scenario i of the bootstrap: daily returns resampled in blocks, scored on day closes from `start`. */
export function bootstrapScenario(daily: readonly number[], block: number, start: number, initial: number, limits: RiskLimits, seed: number, i: number): PathStats {
  const n = daily.length;
  const rand = seededRandom(mixSeed(seed, 0xb0, i));
  const times = new Float64Array(n + 1);
  const equity = new Float64Array(n + 1);
  const results = new Float64Array(n);
  times[0] = start;
  equity[0] = initial;
  let e = initial;
  let k = 0;
  while (k < n) {
    const from = Math.floor(rand() * n);
    for (let j = 0; j < block && k < n; j++, k++) {
      const r = daily[(from + j) % n] as number;
      e *= 1 + r;
      results[k] = r;
      times[k + 1] = start + (k + 1) * DAY_MS;
      equity[k + 1] = e;
    }
  }
  return pathStats(times, equity, results, null, limits);
}
