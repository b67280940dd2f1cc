/** Infers a market's tick and lot size from its candles when no exchange metadata is at hand. */
import { Dec } from '../core/money.js';
import type { Candle } from '../core/types.js';

/** Decimal places of a float as it would be written (shortest round-trip form). */
export function decimalsOf(n: number): number {
  const s = String(n);
  const e = s.indexOf('e-');
  if (e >= 0) {
    const mantissa = s.slice(0, e);
    const dot = mantissa.indexOf('.');
    return Number(s.slice(e + 2)) + (dot >= 0 ? mantissa.length - dot - 1 : 0);
  }
  // 1e21 and above print as "1.5e+21": an integer, but the characters after the dot are not
  // decimals (counting them gave 5 for 1.5e21).
  if (s.includes('e+')) return 0;
  const dot = s.indexOf('.');
  return dot >= 0 ? s.length - dot - 1 : 0;
}

/**
 * Tick size = 10^-d where d is the most decimals seen in the prices of the first `sample` candles;
 * lot step likewise from the volumes (at most 8 decimals, MEXC's finest). A file that holds prices
 * with fewer decimals than the venue allows only makes the simulated tick coarser, i.e. costlier.
 */
export function inferPrecision(candles: readonly Candle[], sample = 2000): { tickSize: Dec; stepSize: Dec } {
  let pd = 0;
  let vd = 0;
  const n = Math.min(sample, candles.length);
  for (let i = 0; i < n; i++) {
    const c = candles[i] as Candle;
    pd = Math.max(pd, decimalsOf(c.open), decimalsOf(c.high), decimalsOf(c.low), decimalsOf(c.close));
    vd = Math.max(vd, decimalsOf(c.volume));
  }
  pd = Math.min(pd, 12);
  vd = Math.min(vd, 8);
  return { tickSize: Dec.fromRaw(10n ** BigInt(18 - pd)), stepSize: Dec.fromRaw(10n ** BigInt(18 - vd)) };
}
