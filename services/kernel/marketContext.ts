/**
 * The market context the strategy reads beside candles, built the same way in backtest, paper and
 * live: the book top of each symbol (from book events; the backtest's are the synthetic quotes of
 * services/sim/candlePath.ts, the same the replay shows paper trading) and its 24h quote volume.
 *
 * 24h quote volume: once the kernel has seen a full day of closed 1m candles (warm-up included),
 * the sum of volume x close over the last 1,440 of them, updated on every candle, the same in every
 * mode. Before that, the venue's own figure when it gives one (MEXC's 24h ticker, which the runtime
 * polls every few minutes of wall time: at replay speed that is days of market time, too stale to
 * decide on once candles can say it); otherwise the candles' sum extrapolated to a day
 * (x 1440 / minutes seen) once an hour is there; before that it is unknown and the liquidity rule
 * does not apply yet.
 */
import type { BookTop, Candle, SymbolId } from '../core/types.js';

const DAY_MINUTES = 1440;
/** Minutes of candles before the rolling volume is extrapolated to a day. */
const MIN_MINUTES = 60;

/** A book top the context owns and updates in place (read-only to everyone else). */
interface MutableBook {
  time: number;
  bid: number;
  bidSize: number;
  ask: number;
  askSize: number;
}

class SymbolContext {
  hasBook = false;
  /** Updated in place: the backtest sets it four times a candle, and nothing allocates. */
  readonly book: MutableBook = { time: 0, bid: 0, bidSize: 0, ask: 0, askSize: 0 };
  /** Ring of the last 1,440 candles' quote volumes and their running sum. */
  readonly ring = new Float64Array(DAY_MINUTES);
  head = 0;
  count = 0;
  sum = 0;
  venueVolume: number | undefined;
}

export class MarketContextBuilder {
  private readonly symbols = new Map<SymbolId, SymbolContext>();

  private of(symbol: SymbolId): SymbolContext {
    let s = this.symbols.get(symbol);
    if (!s) this.symbols.set(symbol, (s = new SymbolContext()));
    return s;
  }

  /** A new best bid and ask (numbers: the backtest calls this four times a candle). */
  onBook(symbol: SymbolId, bid: number, bidSize: number, ask: number, askSize: number, time: number): void {
    const s = this.of(symbol);
    s.hasBook = true;
    const b = s.book;
    b.bid = bid;
    b.ask = ask;
    b.bidSize = bidSize;
    b.askSize = askSize;
    b.time = time;
  }

  /** A closed 1m candle: its quote volume joins the rolling day. */
  onCandle(symbol: SymbolId, c: Candle): void {
    const s = this.of(symbol);
    const v = c.volume * c.close;
    const q = Number.isFinite(v) && v > 0 ? v : 0;
    if (s.count === DAY_MINUTES) s.sum -= s.ring[s.head] as number;
    else s.count++;
    s.ring[s.head] = q;
    s.sum += q;
    s.head = (s.head + 1) % DAY_MINUTES;
    // Once a day, the sum is recomputed from the ring, so float drift never builds up.
    if (s.head === 0) {
      let t = 0;
      for (let i = 0; i < s.count; i++) t += s.ring[i] as number;
      s.sum = t;
    }
  }

  /** The venue's own 24h quote volume (used until a full day of candles is there). */
  setVenueQuoteVolume(symbol: SymbolId, quoteVolume: number): void {
    if (Number.isFinite(quoteVolume) && quoteVolume >= 0) this.of(symbol).venueVolume = quoteVolume;
  }

  /** The 24h quote volume (see the file comment), or undefined while unknown. */
  quoteVolume24h(symbol: SymbolId): number | undefined {
    const s = this.symbols.get(symbol);
    if (!s) return undefined;
    if (s.count >= DAY_MINUTES) return s.sum;
    if (s.venueVolume !== undefined) return s.venueVolume;
    if (s.count < MIN_MINUTES) return undefined;
    return (s.sum * DAY_MINUTES) / s.count;
  }

  /**
   * The last book top, or undefined before any. The object is the context's own and changes with
   * the next book: read it, do not keep it.
   */
  book(symbol: SymbolId): BookTop | undefined {
    const s = this.symbols.get(symbol);
    return s && s.hasBook ? s.book : undefined;
  }
}
