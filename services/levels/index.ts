/**
 * Support/resistance level detection: swing extrema, volume profile, Fibonacci retracements and
 * floor pivots, validated by historical touches and merged, maintained incrementally per symbol
 * and timeframe by `LevelTracker`.
 */
export { LevelTracker } from './levelTracker.js';
export {
  CONFLUENCE_BONUS,
  LEVEL_SOURCES,
  SOURCE_BIT,
  levelStrength,
  sourceCount,
  sourcesOf,
  type Level,
  type LevelCandidate,
  type LevelSource,
} from './types.js';
export { SWING_HIGH, SWING_LOW, SwingQueue, swingAt } from './extrema.js';
export { buildVolumeProfile, volumeNodes, type VolumeNode, type VolumeProfile } from './volumeProfile.js';
export { fibRetracements, findSwing, type Swing } from './fibonacci.js';
export { PivotPeriodTracker, floorPivots, type FloorPivots } from './pivots.js';
export { countTouches, countTouchesSorted } from './touches.js';
export { mergeCandidates, mergeSorted } from './merge.js';
