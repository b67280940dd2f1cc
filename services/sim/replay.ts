/**
 * Turns real 1m candles (and, where given, real trades) of several symbols into one time-ordered
 * stream of public market-data events, for the simulator and for offline paper trading.
 *
 * Each candle is walked along the shared intrabar path (candlePath.ts, the backtest's too): open,
 * low, high, close at +1 s, +20 s, +40 s and +59.999 s into the minute. At each path point, in this
 * order and at the same time:
 * - a synthetic trade at the point's price for a quarter of the candle's volume (four trades make
 *   the candle's volume, so participationPct of each trade gives the backtest's per-candle budget);
 *   `buyerMaker` is true when the price went down from the previous point (a seller took);
 * - a book top around the price: half-spread = max(one tick, price x spreadBps / 10,000), bid
 *   rounded down and ask up to the tick, a quarter of the candle's volume on each side;
 * - a kline update of the candle built so far (closed = false; volume = the quarters so far).
 * At the minute's end (openTime + 60 s) comes the closed kline (closed = true). So a candle makes
 * 4 x 3 + 1 = 13 events.
 *
 * Real trades, when given for a symbol, replace the four synthetic trades in every minute that has
 * at least one real trade (book and kline events stay on the path); they are merged in at their own
 * times, before a path event of the same millisecond. Trades outside every candle's minute are
 * dropped. Kept simple on purpose: the candle stays the truth for prices, books and volumes.
 *
 * Memory: the events of one candle per symbol are built at a time (13 plus that minute's real
 * trades), and the merge across symbols picks the earliest head, so memory is O(symbols).
 */
import { DataValidationError } from '../core/errors.js';
import { Dec } from '../core/money.js';
import { MINUTE_MS } from '../core/timeframes.js';
import { splitSymbol, type Candle, type SymbolId, type Trade } from '../core/types.js';
import { inferPrecision } from '../candles/precision.js';
import { PATH_OFFSETS, SyntheticQuotes } from './candlePath.js';
import type { MarketDataEvent, SimMarketSpec } from './types.js';

/** Offsets of the four path points within the minute (candlePath.ts, shared with the backtest). */
export const REPLAY_PATH_OFFSETS = PATH_OFFSETS;

/** One symbol's data for a replay: 1m candles sorted by open time, and optional real trades sorted by time. */
export interface ReplaySeries {
  readonly symbol: SymbolId;
  readonly candles: readonly Candle[];
  readonly trades?: readonly Trade[];
}

export interface CandleReplayOptions {
  /** Half-spread of the synthetic book in basis points (at least one tick is used). Default 0. */
  readonly spreadBps?: number;
  /** Shift every timestamp so the earliest candle (over all symbols) opens at this time. */
  readonly shiftTo?: number;
  /** Tick size per symbol for the synthetic book; by default inferred from the candles (inferPrecision). */
  readonly tickSizes?: Readonly<Record<string, Dec>>;
}


/** Time of a market-data event (the trade's, the book's, or the kline update's). */
export function marketEventTime(e: MarketDataEvent): number {
  return e.type === 'trade' ? e.trade.time : e.type === 'book' ? e.book.time : e.time;
}

/** Reads one symbol candle by candle, building that candle's events when the previous ones are used up. */
class SeriesCursor {
  private candleIdx = 0;
  private tradeIdx = 0;
  private buf: MarketDataEvent[] = [];
  private bufIdx = 0;
  private prevPrice: number | undefined;
  private readonly quotes: SyntheticQuotes;

  constructor(
    readonly series: ReplaySeries,
    tick: Dec,
    spreadBps: number,
    private readonly shift: number,
  ) {
    this.quotes = new SyntheticQuotes(tick, spreadBps);
  }

  peek(): MarketDataEvent | undefined {
    if (this.bufIdx >= this.buf.length) this.refill();
    return this.buf[this.bufIdx];
  }

  take(): MarketDataEvent | undefined {
    const e = this.peek();
    if (e) this.bufIdx++;
    return e;
  }

  private refill(): void {
    this.buf = [];
    this.bufIdx = 0;
    const { candles, trades, symbol } = this.series;
    const c = candles[this.candleIdx];
    if (!c) return;
    this.candleIdx++;
    const start = c.openTime;
    const end = start + MINUTE_MS;
    const real: MarketDataEvent[] = [];
    if (trades) {
      while (this.tradeIdx < trades.length && (trades[this.tradeIdx] as Trade).time < end) {
        const t = trades[this.tradeIdx] as Trade;
        this.tradeIdx++;
        if (t.time >= start) real.push({ type: 'trade', symbol, trade: { ...t, time: t.time + this.shift } });
      }
    }
    const open = start + this.shift;
    const quarter = c.volume / 4;
    const path = [c.open, c.low, c.high, c.close];
    let high = c.open;
    let low = c.open;
    const synthetic: MarketDataEvent[] = [];
    for (let j = 0; j < 4; j++) {
      const p = path[j] as number;
      const time = open + (REPLAY_PATH_OFFSETS[j] as number);
      high = Math.max(high, p);
      low = Math.min(low, p);
      if (real.length === 0) synthetic.push({ type: 'trade', symbol, trade: { time, price: p, quantity: quarter, buyerMaker: this.prevPrice !== undefined && p < this.prevPrice } });
      this.prevPrice = p;
      synthetic.push({ type: 'book', symbol, book: this.bookAround(p, quarter, time) });
      // quarter x (j + 1) is exact for j = 3 (a division by 4 and a product by 4 round-trip in binary).
      synthetic.push({ type: 'kline', symbol, interval: '1m', candle: { openTime: open, open: c.open, high, low, close: p, volume: quarter * (j + 1) }, closed: false, time });
    }
    if (real.length > 0) this.prevPrice = c.close;
    synthetic.push({ type: 'kline', symbol, interval: '1m', candle: { ...c, openTime: open }, closed: true, time: open + MINUTE_MS });
    // Real trades go first among events of the same millisecond (a stable sort keeps that).
    this.buf = real.length === 0 ? synthetic : [...real, ...synthetic].sort((a, b) => marketEventTime(a) - marketEventTime(b));
  }

  private bookAround(price: number, size: number, time: number): { time: number; bid: number; bidSize: number; ask: number; askSize: number } {
    this.quotes.quote(price);
    return { time, bid: this.quotes.bid, bidSize: size, ask: this.quotes.ask, askSize: size };
  }
}

/** A time-ordered merge of several symbols' candle replays (see the file comment). */
export class CandleReplay {
  private readonly cursors: SeriesCursor[];
  /** Milliseconds added to every original timestamp (0 unless `shiftTo` was given). */
  readonly timeShift: number;
  private last: number | undefined;

  constructor(series: readonly ReplaySeries[], options: CandleReplayOptions = {}) {
    const spreadBps = options.spreadBps ?? 0;
    if (!Number.isFinite(spreadBps) || spreadBps < 0) throw new RangeError(`spreadBps must be a finite number >= 0, got ${spreadBps}`);
    const seen = new Set<string>();
    for (const s of series) {
      if (seen.has(s.symbol)) throw new DataValidationError(`replay: symbol ${s.symbol} appears twice`);
      seen.add(s.symbol);
      checkSorted(s);
    }
    const firsts = series.filter((s) => s.candles.length > 0).map((s) => (s.candles[0] as Candle).openTime);
    this.timeShift = options.shiftTo !== undefined && firsts.length > 0 ? options.shiftTo - Math.min(...firsts) : 0;
    this.cursors = series.map((s) => new SeriesCursor(s, options.tickSizes?.[s.symbol] ?? inferPrecision(s.candles).tickSize, spreadBps, this.timeShift));
  }

  /** Time of the next event, or undefined when the replay is done. */
  peekTime(): number | undefined {
    const c = this.head();
    const e = c?.peek();
    return e ? marketEventTime(e) : undefined;
  }

  /** The next event in time order (ties: the order the series were given in), or undefined at the end. */
  next(): MarketDataEvent | undefined {
    const e = this.head()?.take();
    if (e) this.last = marketEventTime(e);
    return e;
  }

  /** Every remaining event with time <= `time`, in order. */
  until(time: number): MarketDataEvent[] {
    const out: MarketDataEvent[] = [];
    for (let t = this.peekTime(); t !== undefined && t <= time; t = this.peekTime()) out.push(this.next() as MarketDataEvent);
    return out;
  }

  /** Time of the last event handed out, or undefined before the first. */
  get time(): number | undefined {
    return this.last;
  }

  get done(): boolean {
    return this.peekTime() === undefined;
  }

  /** The cursor whose next event is earliest (first given wins a tie). Linear: symbols are few. */
  private head(): SeriesCursor | undefined {
    let best: SeriesCursor | undefined;
    let bestTime = Infinity;
    for (const c of this.cursors) {
      const e = c.peek();
      if (!e) continue;
      const t = marketEventTime(e);
      if (t < bestTime) {
        best = c;
        bestTime = t;
      }
    }
    return best;
  }
}

function checkSorted(s: ReplaySeries): void {
  for (let i = 1; i < s.candles.length; i++) {
    if ((s.candles[i] as Candle).openTime <= (s.candles[i - 1] as Candle).openTime)
      throw new DataValidationError(`replay: ${s.symbol} candles are not sorted by open time (index ${i})`);
  }
  const trades = s.trades ?? [];
  for (let i = 1; i < trades.length; i++) {
    if ((trades[i] as Trade).time < (trades[i - 1] as Trade).time) throw new DataValidationError(`replay: ${s.symbol} trades are not sorted by time (index ${i})`);
  }
}

/**
 * A simulator market for candle data: tick and lot step inferred from the candles (inferPrecision),
 * minimum quantity one lot, minimum order value 1 (quote), MEXC's published fees (maker 0%, taker
 * 0.05%), online and API-tradable; `overrides` replace any of these.
 */
export function simMarketFromCandles(symbol: SymbolId, candles: readonly Candle[], overrides: Partial<Omit<SimMarketSpec, 'symbol'>> = {}): SimMarketSpec {
  const { base, quote } = splitSymbol(symbol);
  const { tickSize, stepSize } = inferPrecision(candles);
  return {
    symbol,
    base,
    quote,
    tickSize,
    stepSize,
    minQuantity: stepSize,
    minNotional: Dec.ONE,
    makerFeePct: 0,
    takerFeePct: 0.05,
    status: 'online',
    apiTradable: true,
    ...overrides,
  };
}
