/**
 * The search: the scrambled Halton start (its construction and its even coverage), TPE on
 * functions with known optima (it must beat the same budget of quasi-random points), Pareto
 * ranks, and neighbourhood scores preferring a plateau to a sharp peak.
 */
import { describe, expect, it } from 'vitest';
import { HaltonSequence, radicalInverse } from '../../services/research/search/halton.js';
import { proposeTpe, goodCount, type Dimension, type Point } from '../../services/research/search/tpe.js';
import { dominates, paretoRanks } from '../../services/research/search/pareto.js';
import { neighbourhoodScores } from '../../services/research/search/neighbourhood.js';
import { seededRandom } from '../../services/ml/random.js';

describe('Halton sequence', () => {
  it('is the radical inverse in prime bases', () => {
    expect([1, 2, 3, 4].map((i) => radicalInverse(i, 2))).toEqual([0.5, 0.25, 0.75, 0.125]);
    expect([1, 2, 3, 4].map((i) => radicalInverse(i, 3))).toEqual([1 / 3, 2 / 3, 1 / 9, 4 / 9]);
    const plain = new HaltonSequence(2, 1, false);
    expect(plain.point(3)).toEqual([0.75, 1 / 9]);
  });

  it('keeps one point per cell of width b^-2 in the first b^2 points of each coordinate, for any seed', () => {
    for (const seed of [1, 2, 99]) {
      const h = new HaltonSequence(4, seed);
      [2, 3, 5, 7].forEach((b, d) => {
        const n = b * b;
        const cells = new Set<number>();
        for (let i = 0; i < n; i++) {
          // The shift rotates the grid: measure cells from the shifted origin.
          const x = h.point(i)[d] as number;
          const x0 = h.point(0)[d] as number;
          cells.add(Math.floor((((x - x0 + 1) % 1) + 1e-12) * n));
        }
        expect(cells.size).toBe(n);
      });
    }
    expect(new HaltonSequence(3, 1).point(5)).not.toEqual(new HaltonSequence(3, 2).point(5));
  });
});

/** Minimises f over `dims` with `startup` Halton points then TPE; returns the best value found. */
function minimise(f: (x: Point) => number, dims: Dimension[], budget: number, startup: number, seed: number, useTpe = true): number {
  const h = new HaltonSequence(dims.length, seed);
  const seen: { x: Point; y: number }[] = [];
  const rand = seededRandom(seed);
  for (let i = 0; i < budget; i++) {
    let x: Point;
    if (i < startup || !useTpe) {
      const u = h.point(i);
      x = dims.map((d, j) => (d.kind === 'choice' ? Math.floor((u[j] as number) * d.size) : (u[j] as number)));
    } else {
      x = proposeTpe(dims, [...seen].sort((a, b) => a.y - b.y).map((s) => s.x), rand);
    }
    seen.push({ x, y: f(x) });
  }
  return Math.min(...seen.map((s) => s.y));
}

describe('TPE', () => {
  const num: Dimension = { kind: 'number' };

  it('finds the minimum of a 3-d bowl and beats quasi-random search on the same budget', () => {
    const bowl = (x: Point): number => x.reduce((s, v) => s + (v - 0.3) ** 2, 0);
    for (const seed of [1, 2, 3]) {
      const tpe = minimise(bowl, [num, num, num], 100, 20, seed);
      const qmc = minimise(bowl, [num, num, num], 100, 20, seed, false);
      expect(tpe).toBeLessThan(0.004);
      expect(tpe).toBeLessThan(qmc);
    }
  });

  it('gets close to the Branin minimum 0.397887', () => {
    // Branin on [-5, 10] x [0, 15]; three global minima of 0.397887 (e.g. at (pi, 2.275)).
    const branin = (p: Point): number => {
      const x = -5 + 15 * (p[0] as number);
      const y = 15 * (p[1] as number);
      return (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
    };
    for (const seed of [1, 2, 3]) expect(minimise(branin, [num, num], 150, 20, seed)).toBeLessThan(0.5);
  });

  it('learns which category is best', () => {
    const f = (x: Point): number => ((x[0] as number) - 0.7) ** 2 + ((x[1] as number) === 2 ? 0 : 1);
    for (const seed of [4, 5]) expect(minimise(f, [num, { kind: 'choice', size: 4 }], 60, 12, seed)).toBeLessThan(0.01);
  });

  it('keeps the good set small', () => {
    expect([1, 10, 11, 100, 1000].map(goodCount)).toEqual([1, 1, 2, 10, 25]);
  });
});

describe('Pareto ranks', () => {
  it('sorts points into fronts (both objectives maximised)', () => {
    expect(dominates([2, 2], [1, 2])).toBe(true);
    expect(dominates([2, 1], [1, 2])).toBe(false);
    // (3,1) (1,3) (2,2) are the front; (1,1) is dominated by all of them; (0,0) by everything.
    expect(paretoRanks([[3, 1], [1, 3], [2, 2], [1, 1], [0, 0]])).toEqual([0, 0, 0, 1, 2]);
  });
});

describe('neighbourhood scores', () => {
  it('prefer a broad plateau to a higher sharp peak', () => {
    // 1-d: a plateau of height 6 on [0.15, 0.45] and a spike of 10 at exactly 0.8, elsewhere 0.
    const xs = Array.from({ length: 41 }, (_, i) => i / 40);
    const f = (x: number): number => (Math.abs(x - 0.8) < 1e-9 ? 10 : x >= 0.15 && x <= 0.45 ? 6 : 0);
    const ys = xs.map(f);
    const scores = neighbourhoodScores([{ kind: 'number' }], xs.map((x) => [x]), ys, 4) as number[];
    const best = scores.indexOf(Math.max(...scores));
    expect(ys.indexOf(10)).toBe(32);
    expect(xs[best]).toBeGreaterThanOrEqual(0.15);
    expect(xs[best]).toBeLessThanOrEqual(0.45);
    // The spike: itself 10 and four neighbours of 0 -> 2.
    expect(scores[32]).toBeCloseTo(2, 12);
  });

  it('counts a trial without an objective as the worst defined one', () => {
    const s = neighbourhoodScores([{ kind: 'number' }], [[0], [0.1], [0.9]], [4, null, 1], 1);
    // Trial 0's nearest is trial 1 (null -> worst defined, 1): (4 + 1) / 2.
    expect(s).toEqual([2.5, null, 1]);
  });
});
