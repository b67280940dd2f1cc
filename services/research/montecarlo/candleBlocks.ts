/**
 * Resampled candle blocks replayed through the kernel: each scenario is a new market history as
 * long as the real one, made of blocks of real 1m candles (a day by default) drawn at random with
 * replacement, and the whole strategy (kernel, risk engine, matching engine) is run on it. Unlike
 * reshuffling trades, the strategy decides anew on every path, so it answers "what if the same
 * kinds of days had come in another order".
 *
 * Blocks are cut on one time grid for every symbol and drawn by the same index for all of them,
 * so the symbols stay as correlated as they were. Each block's prices are scaled to start at the
 * previous block's close (a continuous path, as a real market's), and rounded to the symbol's own
 * tick; volumes are unchanged. Candle times are restamped so the scenario runs minute after minute
 * from the real start.
 */
import { seededRandom } from '../../ml/random.js';
import { mixSeed } from '../walkForward.js';
import type { Candle } from '../../core/types.js';
import { MINUTE_MS } from '../../core/timeframes.js';
import { inferPrecision, decimalsOf } from '../../candles/precision.js';
import type { SymbolSeries } from '../../backtest/engine.js';

/** Scenario i's resampled series: `blockMinutes` per block, as many blocks as cover the real span. */
export function resampleBlocks(series: readonly SymbolSeries[], blockMinutes: number, seed: number, i: number): SymbolSeries[] {
  if (!(blockMinutes >= 1)) throw new RangeError(`blockMinutes must be >= 1, got ${blockMinutes}`);
  const start = Math.min(...series.map((s) => (s.candles[0] as Candle).openTime));
  const end = Math.max(...series.map((s) => (s.candles[s.candles.length - 1] as Candle).openTime + MINUTE_MS));
  const blockMs = blockMinutes * MINUTE_MS;
  const blocks = Math.max(1, Math.ceil((end - start) / blockMs));
  const rand = seededRandom(mixSeed(seed, 0xcb, i));
  const picks = Array.from({ length: blocks }, () => Math.floor(rand() * blocks));
  return series.map((s) => {
    const { tickSize } = inferPrecision(s.candles);
    const decimals = decimalsOf(tickSize.toNumber());
    const tick = tickSize.toNumber();
    const round = (x: number): number => Number((Math.round(x / tick) * tick).toFixed(decimals));
    // The candles of each block, found by open time.
    const byBlock: Candle[][] = Array.from({ length: blocks }, () => []);
    for (const c of s.candles) {
      const b = Math.min(blocks - 1, Math.floor((c.openTime - start) / blockMs));
      (byBlock[b] as Candle[]).push(c);
    }
    const out: Candle[] = [];
    let last: number | null = null;
    picks.forEach((b, k) => {
      const src = byBlock[b] as Candle[];
      if (src.length === 0) return;
      const first = (src[0] as Candle).open;
      const f = last === null || !(first > 0) ? 1 : last / first;
      const base = start + k * blockMs;
      const origin = start + b * blockMs;
      for (const c of src) {
        const open = round(c.open * f);
        const close = round(c.close * f);
        const high = Math.max(round(c.high * f), open, close);
        const low = Math.max(tick, Math.min(round(c.low * f), open, close));
        out.push({ openTime: base + (c.openTime - origin), open, high, low, close, volume: c.volume });
      }
      last = (out[out.length - 1] as Candle).close;
    });
    return { symbol: s.symbol, candles: out };
  });
}
