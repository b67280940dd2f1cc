/** Candle timeframes and their durations. */

/** Milliseconds in a minute and in a UTC day. */
export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** The strategy uses 30s to 4h; 30m, 8h and 1d are MEXC kline intervals the simulator serves. */
export const TIMEFRAMES = ['30s', '1m', '3m', '5m', '15m', '30m', '1h', '4h', '8h', '1d'] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];

const MS: Record<Timeframe, number> = {
  '30s': 30_000,
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '8h': 28_800_000,
  '1d': 86_400_000,
};

/** Duration of one candle of the timeframe, in milliseconds. */
export function timeframeMs(tf: Timeframe): number {
  return MS[tf];
}

export function isTimeframe(s: string): s is Timeframe {
  return (TIMEFRAMES as readonly string[]).includes(s);
}

/** Start of the bucket (aligned to the UTC epoch) that contains `time`. */
export function bucketStart(time: number, tf: Timeframe): number {
  const ms = MS[tf];
  return time - (((time % ms) + ms) % ms);
}
