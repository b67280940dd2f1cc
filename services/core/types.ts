/**
 * Market-data and domain types shared by every layer of the core.
 *
 * Prices and volumes of market data are plain numbers (they feed indicators and level detection,
 * where float arithmetic is fine). Money that is booked (balances, fees, PnL) is `Dec` (see money.ts).
 */

declare const brand: unique symbol;
/** A nominal type: the same runtime value, but not assignable from a plain `T`. */
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An exchange symbol such as `BTCUSDT` (upper-case, base then quote). */
export type SymbolId = Brand<string, 'SymbolId'>;

const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

/** Validates and brands a symbol; throws a RangeError naming the bad value. */
export function symbolId(raw: string): SymbolId {
  const s = raw.trim().toUpperCase();
  if (!SYMBOL_RE.test(s)) throw new RangeError(`invalid symbol "${raw}": expected 2-20 letters or digits, e.g. BTCUSDT`);
  return s as SymbolId;
}

/** Quote assets we recognise when splitting a symbol into base and quote. */
export const QUOTE_ASSETS = ['USDT', 'USDC', 'USD1', 'BTC', 'ETH', 'EUR'] as const;

/** Splits `BTCUSDT` into `{ base: 'BTC', quote: 'USDT' }`. */
export function splitSymbol(symbol: SymbolId): { base: string; quote: string } {
  for (const q of QUOTE_ASSETS) {
    if (symbol.endsWith(q) && symbol.length > q.length) return { base: symbol.slice(0, -q.length), quote: q };
  }
  throw new RangeError(`cannot split symbol ${symbol}: unknown quote asset (expected one of ${QUOTE_ASSETS.join(', ')})`);
}

/** One OHLCV candle. `openTime` is epoch milliseconds (UTC); volume is in the base asset. */
export interface Candle {
  readonly openTime: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

/** One public trade (tick). `buyerMaker` true means the aggressor sold. */
export interface Trade {
  readonly time: number;
  readonly price: number;
  readonly quantity: number;
  readonly buyerMaker: boolean;
}

/** Best bid and ask. */
export interface BookTop {
  readonly time: number;
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
}

export type Side = 'buy' | 'sell';
/** Trade direction. Spot accounts can only be long; `short` exists for venues/modes that allow it. */
export type Direction = 'long' | 'short';
