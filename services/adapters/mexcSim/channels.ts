/**
 * MEXC's kline intervals and WebSocket channel names as the simulator serves them
 * (/work/shared/mexc/PROTOCOL.md §2), and the parser that tells which stream a channel means.
 */
import type { Timeframe } from '../../core/timeframes.js';
import type { SymbolId } from '../../core/types.js';

/** One MEXC kline interval: its REST name, its WebSocket name, the project's timeframe, its duration. */
export interface MexcInterval {
  readonly rest: string;
  readonly ws: string;
  readonly tf: Timeframe;
  readonly ms: number;
}

const MINUTE = 60_000;

/** The intervals MEXC offers, shortest first. */
export const INTERVALS: readonly MexcInterval[] = [
  { rest: '1m', ws: 'Min1', tf: '1m', ms: MINUTE },
  { rest: '5m', ws: 'Min5', tf: '5m', ms: 5 * MINUTE },
  { rest: '15m', ws: 'Min15', tf: '15m', ms: 15 * MINUTE },
  { rest: '30m', ws: 'Min30', tf: '30m', ms: 30 * MINUTE },
  { rest: '60m', ws: 'Min60', tf: '1h', ms: 60 * MINUTE },
  { rest: '4h', ws: 'Hour4', tf: '4h', ms: 240 * MINUTE },
  { rest: '8h', ws: 'Hour8', tf: '8h', ms: 480 * MINUTE },
  { rest: '1d', ws: 'Day1', tf: '1d', ms: 1_440 * MINUTE },
];

export const CH_ORDERS = 'spot@private.orders.v3.api.pb';
export const CH_DEALS = 'spot@private.deals.v3.api.pb';
export const CH_ACCOUNT = 'spot@private.account.v3.api.pb';
export const PRIVATE_CHANNELS: ReadonlySet<string> = new Set([CH_ORDERS, CH_DEALS, CH_ACCOUNT]);

/** The public streams pushed at each of MEXC's two aggregation speeds. */
export const AGGREGATION_SPEEDS = ['100ms', '10ms'] as const;
export const DEALS_STREAM = 'public.aggre.deals.v3.api.pb';
export const BOOK_TICKER_STREAM = 'public.aggre.bookTicker.v3.api.pb';
export const DEPTH_STREAM = 'public.aggre.depth.v3.api.pb';
const KLINE_STREAM = 'public.kline.v3.api.pb';

/** The kline channel of a symbol and interval. */
export function klineChannel(symbol: string, iv: MexcInterval): string {
  return `spot@${KLINE_STREAM}@${symbol}@${iv.ws}`;
}

export type ParsedChannel =
  | { readonly kind: 'kline'; readonly symbol: SymbolId; readonly ms: number; readonly name: string }
  | { readonly kind: 'deals' | 'book' | 'depth'; readonly symbol: SymbolId }
  | { readonly kind: 'private' };

/** Which public or private stream a channel name means; undefined for one the simulator does not serve. */
export function parseChannel(ch: string): ParsedChannel | undefined {
  if (PRIVATE_CHANNELS.has(ch)) return { kind: 'private' };
  const parts = ch.split('@');
  if (parts[0] !== 'spot') return undefined;
  const sym = (s: string | undefined): SymbolId | undefined => (s && /^[A-Z0-9]{2,20}$/.test(s) ? (s as SymbolId) : undefined);
  switch (parts[1]) {
    case KLINE_STREAM: {
      const symbol = sym(parts[2]);
      const iv = INTERVALS.find((i) => i.ws === parts[3]);
      return symbol && iv && parts.length === 4 ? { kind: 'kline', symbol, ms: iv.ms, name: iv.ws } : undefined;
    }
    case DEALS_STREAM:
    case BOOK_TICKER_STREAM:
    case DEPTH_STREAM: {
      const symbol = sym(parts[3]);
      if (!symbol || parts.length !== 4 || (parts[2] !== '100ms' && parts[2] !== '10ms')) return undefined;
      const kind = parts[1] === DEALS_STREAM ? 'deals' : parts[1] === DEPTH_STREAM ? 'depth' : 'book';
      return { kind, symbol };
    }
    default:
      return undefined;
  }
}
