/**
 * Types of support/resistance level detection.
 *
 * A *level* is a price where the market has reacted before (or is expected to react): buyers
 * stepped in (support) or sellers did (resistance). The tracker finds candidates by four methods
 * (swing extrema, volume profile, Fibonacci retracements, floor pivots), keeps those the price has
 * actually touched, and merges candidates that sit at nearly the same price into one level.
 */

/** The detection methods that can produce a level. */
export type LevelSource = 'extrema' | 'volume' | 'fib' | 'pivot';

/** Every source, in the canonical order used for `Level.sources` and the bitmask. */
export const LEVEL_SOURCES: readonly LevelSource[] = ['extrema', 'volume', 'fib', 'pivot'];

/** Bit of each source in `Level.sourceMask` (so agreement of methods is a cheap popcount). */
export const SOURCE_BIT: Readonly<Record<LevelSource, number>> = { extrema: 1, volume: 2, fib: 4, pivot: 8 };

/**
 * Bonus added to a level's strength for each detection method beyond the first that agrees on it.
 * Two methods landing on the same price are independent evidence, worth more than one extra candle
 * passing nearby, so one extra method counts as two touches.
 */
export const CONFLUENCE_BONUS = 2;

/** One support or resistance level. Objects are immutable snapshots. */
export interface Level {
  readonly price: number;
  /** Relative to the latest close: a level at or below it is support, above it resistance. */
  readonly kind: 'support' | 'resistance';
  /** The methods that found this level (after merging), in the order of `LEVEL_SOURCES`. */
  readonly sources: readonly LevelSource[];
  /** The same set as a bitmask of `SOURCE_BIT`. */
  readonly sourceMask: number;
  /**
   * Historical touches: candles of the lookback window whose [low, high] range came within
   * `touchTolerancePct` of the price. For a merged level, the highest count among its candidates.
   */
  readonly touches: number;
  /** `touches + CONFLUENCE_BONUS * (number of sources - 1)`: the ranking score of the level. */
  readonly strength: number;
}

/** A level found by one method, before merging. */
export interface LevelCandidate {
  readonly price: number;
  /** Bitmask of `SOURCE_BIT`. */
  readonly sourceMask: number;
  readonly touches: number;
}

/** Number of set bits of a source mask: how many methods agree. */
export function sourceCount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

const SOURCES_BY_MASK: readonly (readonly LevelSource[])[] = Array.from({ length: 16 }, (_, mask) =>
  Object.freeze(LEVEL_SOURCES.filter((s) => (mask & SOURCE_BIT[s]) !== 0)),
);

/** The sources of a mask in canonical order (a shared frozen array, so no allocation). */
export function sourcesOf(mask: number): readonly LevelSource[] {
  const list = SOURCES_BY_MASK[mask & 15];
  if (list === undefined) throw new RangeError(`sourcesOf: mask ${mask} outside 0..15`);
  return list;
}

/** The documented strength score of a level. */
export function levelStrength(touches: number, sourceMask: number): number {
  return touches + CONFLUENCE_BONUS * Math.max(0, sourceCount(sourceMask) - 1);
}
