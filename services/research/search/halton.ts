/**
 * A seeded, scrambled Halton sequence: quasi-random points in the unit cube that cover it far more
 * evenly than independent random draws, for the search's start (before a model exists, even
 * coverage is what finds the promising regions).
 *
 * Dimension d uses the d-th prime as its base b; the i-th point's coordinate is the radical
 * inverse of i in base b (its digits mirrored about the radix point). Plain Halton points of
 * neighbouring high bases are strongly correlated, so every digit goes through a seeded random
 * permutation of 0..b-1 that keeps 0 fixed (digit scrambling, as Faure and Lemieux), and each
 * coordinate is then rotated by a seeded shift modulo 1 (Cranley-Patterson), so different seeds
 * give different, equally even designs. Both keep the net property: the first b^k points of a
 * coordinate fall one in each interval of width b^-k.
 */
import { seededRandom } from '../../ml/random.js';

const PRIMES = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131] as const;

/** The largest dimension supported (one prime each). */
export const HALTON_MAX_DIMENSIONS = PRIMES.length;

/** Radical inverse of `i` in `base`, each digit mapped through `perm` (identity when absent). */
export function radicalInverse(i: number, base: number, perm?: readonly number[]): number {
  let x = 0;
  let f = 1 / base;
  let n = i;
  while (n > 0) {
    const digit = n % base;
    x += (perm ? (perm[digit] as number) : digit) * f;
    n = Math.floor(n / base);
    f /= base;
  }
  return x;
}

export class HaltonSequence {
  private readonly perms: number[][];
  private readonly shifts: number[];

  /** `scramble: false` gives the plain sequence (for tests of the construction). */
  constructor(
    readonly dimensions: number,
    seed: number,
    private readonly scramble = true,
  ) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > HALTON_MAX_DIMENSIONS)
      throw new RangeError(`Halton: dimensions must be 1..${HALTON_MAX_DIMENSIONS}, got ${dimensions}`);
    const rand = seededRandom(seed ^ 0x48a170);
    this.perms = [];
    this.shifts = [];
    for (let d = 0; d < dimensions; d++) {
      const b = PRIMES[d] as number;
      const p = Array.from({ length: b }, (_, k) => k);
      // Fisher-Yates over 1..b-1: 0 stays 0, so trailing zero digits add nothing.
      for (let k = b - 1; k > 1; k--) {
        const j = 1 + Math.floor(rand() * k);
        const t = p[k] as number;
        p[k] = p[j] as number;
        p[j] = t;
      }
      this.perms.push(p);
      this.shifts.push(rand());
    }
  }

  /** The i-th point (i >= 0), a fresh array of `dimensions` coordinates in [0, 1). */
  point(i: number): number[] {
    const out = new Array<number>(this.dimensions);
    for (let d = 0; d < this.dimensions; d++) {
      const base = PRIMES[d] as number;
      if (!this.scramble) {
        out[d] = radicalInverse(i, base);
        continue;
      }
      const x = radicalInverse(i, base, this.perms[d]) + (this.shifts[d] as number);
      out[d] = x >= 1 ? x - 1 : x;
    }
    return out;
  }
}
