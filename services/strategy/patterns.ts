/**
 * Candlestick reversal patterns: the "candlestick pattern" confirmation of an entry at a level.
 *
 * Terms, for a candle with open O, high H, low L, close C:
 * - range = H - L (the candle's full extent);
 * - body = |C - O| (the "real body");
 * - upper wick (upper shadow) = H - max(O, C); lower wick (lower shadow) = min(O, C) - L.
 *
 * The functions only look at the shape of one or two candles. The context the textbook patterns
 * also ask for (a preceding down- or up-move, price at support or resistance) is the caller's job:
 * the strategy only asks at a level. They are called once per closed candle, so they allocate
 * nothing and return string literals.
 *
 * A zero-range candle (H == L, common on illiquid pairs where a minute has one trade or none) has
 * no shape and never matches; neither does a candle with a NaN price (every comparison is false).
 */
import type { Candle } from '../core/types.js';

/** Names of the bullish reversal patterns, most specific first. */
export type BullishPattern = 'bullish_engulfing' | 'hammer' | 'bullish_pin_bar';
/** Names of the bearish reversal patterns, mirrors of the bullish ones. */
export type BearishPattern = 'bearish_engulfing' | 'shooting_star' | 'bearish_pin_bar';

/** A doji's body is at most this fraction of its range (open and close nearly equal). */
export const DOJI_MAX_BODY_FRACTION = 0.1;

/**
 * Hammer / shooting star: the whole body lies within this fraction of the range at the candle's
 * top (hammer) or bottom (shooting star), i.e. the body is small and sits at one end.
 */
export const STAR_BODY_ZONE_FRACTION = 1 / 3;
/** Hammer / shooting star: the long wick is at least this multiple of the body. */
export const STAR_MIN_LONG_WICK_TO_BODY = 2;
/** Hammer / shooting star: the short wick (the one on the body's side) is at most this multiple of the body. */
export const STAR_MAX_SHORT_WICK_TO_BODY = 1;

/** Pin bar: the rejection wick (the "nose") is at least this fraction of the range. */
export const PIN_BAR_MIN_WICK_FRACTION = 2 / 3;

/**
 * Float tolerance of the threshold comparisons, as a fraction of the price (the candle's high).
 * Wicks and bodies are differences of decimal prices (100.8 - 98 = 2.7999999999999972), so a
 * candle exactly on a threshold could miss it by one rounding; 1e-12 of the price is above that
 * rounding (about 2e-16 of the price per operation) and far below any exchange tick (about 1e-8 of
 * the price at the finest).
 */
const PRICE_TOLERANCE = 1e-12;

/**
 * True when the candle is a doji: range > 0 and body <= DOJI_MAX_BODY_FRACTION x range (open and
 * close nearly equal: indecision). A zero-range candle ("four-price doji") is not a doji here:
 * on an illiquid pair it means no trading, not indecision.
 */
export function isDoji(c: Candle): boolean {
  const range = c.high - c.low;
  if (!(range > 0)) return false;
  return Math.abs(c.close - c.open) <= DOJI_MAX_BODY_FRACTION * range + PRICE_TOLERANCE * c.high;
}

/**
 * The hammer / shooting-star shape, in terms of the candle's wicks: `longWick` is the rejection
 * wick (the lower one for a hammer, the upper one for a shooting star), `shortWick` the other.
 * With range > 0:
 * - the body lies within STAR_BODY_ZONE_FRACTION (1/3) of the range at the short wick's end:
 *   short wick + body <= range/3;
 * - long wick >= STAR_MIN_LONG_WICK_TO_BODY (2) x body;
 * - short wick <= STAR_MAX_SHORT_WICK_TO_BODY (1) x body.
 * (The first rule already implies the second, since then long wick >= 2/3 range >= 2 x body; the
 * second is kept so the code reads as the textbook definition.) Colour does not matter.
 */
function isStarShape(body: number, shortWick: number, longWick: number, range: number, eps: number): boolean {
  return (
    shortWick + body <= STAR_BODY_ZONE_FRACTION * range + eps &&
    longWick >= STAR_MIN_LONG_WICK_TO_BODY * body - eps &&
    shortWick <= STAR_MAX_SHORT_WICK_TO_BODY * body + eps
  );
}

/**
 * Bullish engulfing: prev is bearish (C < O), cur is bullish (C > O), and cur's body covers prev's
 * body: cur.open <= prev.close and cur.close >= prev.open, with cur's body strictly larger.
 * The textbook asks cur to open below prev's close; on a 24/7 market a candle opens at the previous
 * close, so equality is allowed and the strictly larger body keeps identical bodies out.
 */
function isBullishEngulfing(prev: Candle, cur: Candle): boolean {
  return (
    prev.close < prev.open &&
    cur.close > cur.open &&
    cur.open <= prev.close &&
    cur.close >= prev.open &&
    cur.close - cur.open > prev.open - prev.close
  );
}

/** Bearish engulfing: the mirror of bullish engulfing (prev bullish, cur bearish, cur's body covers prev's and is larger). */
function isBearishEngulfing(prev: Candle, cur: Candle): boolean {
  return (
    prev.close > prev.open &&
    cur.close < cur.open &&
    cur.open >= prev.close &&
    cur.close <= prev.open &&
    cur.open - cur.close > prev.close - prev.open
  );
}

/**
 * The bullish reversal pattern `cur` forms (with `prev`, the candle before it), or null.
 * Checked in this order, the first match wins:
 * 1. 'bullish_engulfing' (see above: prev bearish, cur bullish with a larger body covering prev's);
 * 2. 'hammer': small body in the top third of cur's range, lower wick >= 2 x body, upper wick <= body;
 * 3. 'bullish_pin_bar': cur's lower wick >= 2/3 of its range (any colour; a hammer is a pin bar with
 *    a short upper wick, so it is checked first as the more specific name).
 * A zero-range `cur` never matches.
 */
export function bullishReversalPattern(prev: Candle, cur: Candle): BullishPattern | null {
  const range = cur.high - cur.low;
  if (!(range > 0)) return null;
  if (isBullishEngulfing(prev, cur)) return 'bullish_engulfing';
  const top = cur.open > cur.close ? cur.open : cur.close;
  const bottom = cur.open > cur.close ? cur.close : cur.open;
  const lowerWick = bottom - cur.low;
  const eps = PRICE_TOLERANCE * cur.high;
  if (isStarShape(top - bottom, cur.high - top, lowerWick, range, eps)) return 'hammer';
  if (lowerWick >= PIN_BAR_MIN_WICK_FRACTION * range - eps) return 'bullish_pin_bar';
  return null;
}

/**
 * The bearish reversal pattern `cur` forms (with `prev`), or null: the mirror of
 * `bullishReversalPattern`. Checked in this order, the first match wins:
 * 1. 'bearish_engulfing': prev bullish, cur bearish, cur.open >= prev.close, cur.close <= prev.open,
 *    cur's body strictly larger;
 * 2. 'shooting_star': small body in the bottom third of the range, upper wick >= 2 x body,
 *    lower wick <= body;
 * 3. 'bearish_pin_bar': upper wick >= 2/3 of the range.
 * A zero-range `cur` never matches.
 */
export function bearishReversalPattern(prev: Candle, cur: Candle): BearishPattern | null {
  const range = cur.high - cur.low;
  if (!(range > 0)) return null;
  if (isBearishEngulfing(prev, cur)) return 'bearish_engulfing';
  const top = cur.open > cur.close ? cur.open : cur.close;
  const bottom = cur.open > cur.close ? cur.close : cur.open;
  const upperWick = cur.high - top;
  const eps = PRICE_TOLERANCE * cur.high;
  if (isStarShape(top - bottom, bottom - cur.low, upperWick, range, eps)) return 'shooting_star';
  if (upperWick >= PIN_BAR_MIN_WICK_FRACTION * range - eps) return 'bearish_pin_bar';
  return null;
}
