/** Small candle builders for the level-detection tests. */
import { levelsSchema, type LevelsConfig } from '../../services/config/schema.js';
import type { Candle } from '../../services/core/types.js';

export const MIN = 60_000;
/** 2024-01-01T00:00:00Z: aligned to every timeframe up to 4h. */
export const T0 = Date.UTC(2024, 0, 1);

/** A candle; open and close default to the middle of the range. */
export function bar(openTime: number, high: number, low: number, close = (high + low) / 2, volume = 1, open = close): Candle {
  return { openTime, open, high, low, close, volume };
}

/** A series of candles `stepMs` apart from `start`, one per [high, low, close?, volume?] row. */
export function series(rows: readonly (readonly number[])[], stepMs = MIN, start = T0): Candle[] {
  return rows.map((r, i) => bar(start + i * stepMs, r[0] as number, r[1] as number, r[2], r[3]));
}

/** A full LevelsConfig from overrides (defaults from the schema). */
export function levelsConfig(over: Record<string, unknown> = {}, methods: Record<string, boolean> = {}): LevelsConfig {
  return levelsSchema.parse({ ...over, methods });
}

/** Only the named methods enabled. */
export function only(...names: ('extrema' | 'volumeProfile' | 'fibonacci' | 'pivots')[]): Record<string, boolean> {
  return {
    extrema: names.includes('extrema'),
    volumeProfile: names.includes('volumeProfile'),
    fibonacci: names.includes('fibonacci'),
    pivots: names.includes('pivots'),
  };
}

/** Deterministic pseudo-random numbers in [0, 1) (a 32-bit LCG), so tests need no Math.random. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A random-walk series of 1m candles around `start` price. */
export function randomWalk(n: number, seed: number, startPrice = 100, startTime = T0): Candle[] {
  const rnd = lcg(seed);
  const out: Candle[] = [];
  let price = startPrice;
  for (let i = 0; i < n; i++) {
    const open = price;
    const close = open * (1 + (rnd() - 0.5) * 0.004);
    const high = Math.max(open, close) * (1 + rnd() * 0.001);
    const low = Math.min(open, close) * (1 - rnd() * 0.001);
    out.push({ openTime: startTime + i * MIN, open, high, low, close, volume: 1 + rnd() * 10 });
    price = close;
  }
  return out;
}
