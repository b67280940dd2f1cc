/**
 * Where paper trading gets its public market data: the port (`PublicMarketData`, the public half of
 * a VenueClient, which the live ccxt MEXC adapter implements) and an offline source that serves a
 * CandleReplay of real candles (`ReplayMarketData`) for tests, demos and replays.
 */
import type { BookTop, Candle, SymbolId } from '../core/types.js';
import { ExchangeRequestError, SymbolNotTradableError } from '../execution/exchangeErrors.js';
import { CandleReplay, marketEventTime, simMarketFromCandles, type CandleReplayOptions, type ReplaySeries } from '../sim/replay.js';
import type { MarketDataEvent, SimMarketSpec } from '../sim/types.js';
import type { FeedStats, KlineInterval, StreamHandle, StreamSubscription, Ticker24h, VenueClient, VenueEvent, VenueMarket } from '../venue/types.js';

/** The public half of a venue: markets, candles, tickers, book tops and public streams. */
export type PublicMarketData = Pick<VenueClient, 'loadMarkets' | 'market' | 'fetchKlines' | 'fetchTickers24h' | 'fetchBookTop' | 'stream' | 'close'>;

/** Milliseconds of each kline interval. */
export const KLINE_INTERVAL_MS: Readonly<Record<KlineInterval, number>> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

/** MEXC's default and largest kline page. */
const DEFAULT_KLINE_LIMIT = 500;
const MAX_KLINE_LIMIT = 1000;
/** 24 hours of 1m candles. */
const TICKER_WINDOW = 1440;

/** A simulator market as the venue port lists it. */
export function venueMarketFromSpec(spec: SimMarketSpec): VenueMarket {
  const tradable = spec.status === 'online' && spec.apiTradable;
  const reason = !spec.apiTradable ? 'not enabled for API trading' : spec.status !== 'online' ? `trading ${spec.status}` : undefined;
  return {
    symbol: spec.symbol,
    base: spec.base,
    quote: spec.quote,
    tickSize: spec.tickSize,
    stepSize: spec.stepSize,
    minNotional: spec.minNotional,
    minQuantity: spec.minQuantity,
    ...(spec.maxNotional ? { maxNotional: spec.maxNotional } : {}),
    makerFeePct: spec.makerFeePct,
    takerFeePct: spec.takerFeePct,
    tradable,
    ...(reason ? { notTradableReason: reason } : {}),
  };
}

export interface ReplayMarketDataOptions extends CandleReplayOptions {
  /** Per symbol, changes to the market simMarketFromCandles infers (fees, minimums, status). */
  readonly markets?: Readonly<Record<string, Partial<Omit<SimMarketSpec, 'symbol'>>>>;
}

/** What the source knows of one symbol so far (everything up to the replay's current time). */
interface SymbolState {
  readonly candles: readonly Candle[];
  /** How many of `candles` have closed (their closed kline was delivered). */
  closedCount: number;
  /** The candle being built (last non-closed kline update), already shifted. */
  current: Candle | undefined;
  book: BookTop | undefined;
}

interface Subscriber {
  readonly keys: ReadonlySet<string>;
  readonly onEvent: (e: VenueEvent) => void;
  frames: number;
  readonly lastEventAt: Record<string, number>;
}

function keyOf(e: MarketDataEvent): string {
  return e.type === 'trade' ? `trades:${e.symbol}` : e.type === 'book' ? `book:${e.symbol}` : `kline:${e.symbol}:${e.interval}`;
}

/**
 * Serves a CandleReplay as a public market-data source, offline. The caller drives time:
 * `advanceTo(time)` and `step()` deliver the replay's events to stream subscribers synchronously
 * (deterministic tests), `play(speed, setTimeoutFn)` paces them with a timer for interactive use.
 * Every answer only uses data up to the replay's current time; `receivedAt` is the event's own time
 * (the replay has no other clock).
 */
export class ReplayMarketData implements PublicMarketData {
  readonly replay: CandleReplay;
  private readonly specs = new Map<SymbolId, SimMarketSpec>();
  private readonly state = new Map<SymbolId, SymbolState>();
  private readonly subscribers = new Set<Subscriber>();
  private closed = false;

  constructor(series: readonly ReplaySeries[], options: ReplayMarketDataOptions = {}) {
    this.replay = new CandleReplay(series, options);
    for (const s of series) {
      this.specs.set(s.symbol, simMarketFromCandles(s.symbol, s.candles, options.markets?.[s.symbol] ?? {}));
      this.state.set(s.symbol, { candles: s.candles, closedCount: 0, current: undefined, book: undefined });
    }
  }

  /** The replay's current time: that of the last event delivered (undefined before the first). */
  get time(): number | undefined {
    return this.replay.time;
  }

  /** The simulator markets of the replayed symbols (what the paper venue's engine lists). */
  simMarkets(): SimMarketSpec[] {
    return [...this.specs.values()];
  }

  loadMarkets(): Promise<ReadonlyMap<SymbolId, VenueMarket>> {
    const out = new Map<SymbolId, VenueMarket>();
    for (const [sym, spec] of this.specs) out.set(sym, venueMarketFromSpec(spec));
    return Promise.resolve(out);
  }

  market(symbol: SymbolId): VenueMarket {
    const spec = this.specs.get(symbol);
    if (!spec) throw new SymbolNotTradableError(`${symbol} is not in the replay`);
    return venueMarketFromSpec(spec);
  }

  /**
   * Closed candles and the current one, oldest first, up to the replay's time. Intervals above 1m
   * are built from the 1m candles in buckets aligned to the epoch (the last one may be partial).
   * With `since`: the first `limit` from that open time; without: the last `limit` (default 500,
   * at most 1000, as MEXC).
   */
  fetchKlines(symbol: SymbolId, interval: KlineInterval, since?: number, limit?: number): Promise<Candle[]> {
    return settle(() => {
      const st = this.symbolState(symbol);
      const n = Math.min(Math.max(1, Math.floor(limit ?? DEFAULT_KLINE_LIMIT)), MAX_KLINE_LIMIT);
      const ms = KLINE_INTERVAL_MS[interval];
      const lastOpen = st.current?.openTime ?? (st.closedCount > 0 ? (st.candles[st.closedCount - 1] as Candle).openTime + this.replay.timeShift : undefined);
      if (lastOpen === undefined) return [];
      const from = since ?? Math.floor(lastOpen / ms) * ms - (n - 1) * ms;
      const start = Math.min(st.closedCount, lowerBound(st.candles, Math.floor(from / ms) * ms - this.replay.timeShift));
      const out: Candle[] = [];
      for (const c of this.minuteCandles(st, start)) {
        const bucket = Math.floor(c.openTime / ms) * ms;
        const last = out[out.length - 1];
        if (last && last.openTime === bucket) {
          out[out.length - 1] = { openTime: bucket, open: last.open, high: Math.max(last.high, c.high), low: Math.min(last.low, c.low), close: c.close, volume: last.volume + c.volume };
        } else {
          out.push({ ...c, openTime: bucket });
        }
      }
      const inRange = since === undefined ? out : out.filter((c) => c.openTime >= since);
      return since === undefined ? inRange.slice(-n) : inRange.slice(0, n);
    });
  }

  /**
   * 24h statistics over the last 1440 1m candles (the current one included). quoteVolume is
   * approximated as the sum of volume x close per candle (the data has no per-trade prices).
   * Symbols with no data yet are left out.
   */
  fetchTickers24h(symbols?: readonly SymbolId[]): Promise<Ticker24h[]> {
    return settle(() => {
      const out: Ticker24h[] = [];
      for (const sym of symbols ?? [...this.specs.keys()]) {
        const st = this.symbolState(sym);
        const window = this.minuteCandles(st, Math.max(0, st.closedCount - (st.current ? TICKER_WINDOW - 1 : TICKER_WINDOW)));
        if (window.length === 0) continue;
        let high = -Infinity;
        let low = Infinity;
        let volume = 0;
        let quoteVolume = 0;
        for (const c of window) {
          high = Math.max(high, c.high);
          low = Math.min(low, c.low);
          volume += c.volume;
          quoteVolume += c.volume * c.close;
        }
        const first = window[0] as Candle;
        const last = window[window.length - 1] as Candle;
        out.push({
          symbol: sym,
          last: last.close,
          open: first.open,
          high,
          low,
          volume,
          quoteVolume,
          ...(st.book ? { bid: st.book.bid, ask: st.book.ask } : {}),
          time: this.replay.time ?? last.openTime,
        });
      }
      return out;
    });
  }

  fetchBookTop(symbol: SymbolId): Promise<BookTop> {
    return settle(() => {
      const book = this.symbolState(symbol).book;
      if (!book) throw new ExchangeRequestError(`no book for ${symbol} yet: the replay has not reached its first candle`);
      return book;
    });
  }

  /**
   * Public streams of the replayed symbols (klines: 1m only, the replay's own interval). Private
   * streams do not exist here (the paper venue serves them from its engine).
   */
  stream(subscriptions: readonly StreamSubscription[], onEvent: (e: VenueEvent) => void): Promise<StreamHandle> {
    if (this.closed) return Promise.reject(new ExchangeRequestError('the replay source is closed'));
    const keys = new Set<string>();
    for (const s of subscriptions) {
      if (s.kind === 'orders' || s.kind === 'fills' || s.kind === 'balances') return Promise.reject(new ExchangeRequestError(`a public data source has no ${s.kind} stream`));
      if (!this.specs.has(s.symbol)) return Promise.reject(new SymbolNotTradableError(`${s.symbol} is not in the replay`));
      if (s.kind === 'kline') {
        if (s.interval !== '1m') return Promise.reject(new ExchangeRequestError(`the replay streams 1m klines only, not ${s.interval}`));
        keys.add(`kline:${s.symbol}:1m`);
      } else keys.add(`${s.kind}:${s.symbol}`);
    }
    const sub: Subscriber = { keys, onEvent, frames: 0, lastEventAt: {} };
    this.subscribers.add(sub);
    const handle: StreamHandle = {
      close: () => {
        this.subscribers.delete(sub);
        return Promise.resolve();
      },
      stats: (): FeedStats => ({ frames: sub.frames, malformed: 0, duplicates: 0, reconnects: 0, connections: 0, lastEventAt: { ...sub.lastEventAt } }),
    };
    return Promise.resolve(handle);
  }

  /** Delivers every event up to `time` (inclusive); returns how many there were. */
  advanceTo(time: number): number {
    let n = 0;
    for (let t = this.replay.peekTime(); t !== undefined && t <= time && !this.closed; t = this.replay.peekTime()) {
      this.deliver(this.replay.next() as MarketDataEvent);
      n++;
    }
    return n;
  }

  /** Delivers the next event; undefined when the replay is over. */
  step(): MarketDataEvent | undefined {
    if (this.closed) return undefined;
    const e = this.replay.next();
    if (e) this.deliver(e);
    return e;
  }

  /**
   * Plays the replay in (scaled) real time: each time step's events are delivered together, then
   * the next is scheduled (gap between event times) / speed ms later with `setTimeoutFn`. Returns
   * a function that stops playing; `close()` stops it too.
   */
  play(speed: number, setTimeoutFn: (fn: () => void, ms: number) => unknown): () => void {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`play speed must be a positive number, got ${speed}`);
    let stopped = false;
    const tick = (): void => {
      if (stopped || this.closed) return;
      const t = this.replay.peekTime();
      if (t === undefined) return;
      this.advanceTo(t);
      const next = this.replay.peekTime();
      if (next !== undefined) setTimeoutFn(tick, (next - t) / speed);
    };
    setTimeoutFn(tick, 0);
    return () => {
      stopped = true;
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.subscribers.clear();
    return Promise.resolve();
  }

  private deliver(e: MarketDataEvent): void {
    const st = this.state.get(e.symbol) as SymbolState;
    if (e.type === 'book') st.book = e.book;
    else if (e.type === 'kline') {
      if (e.closed) {
        st.closedCount++;
        st.current = undefined;
      } else st.current = e.candle;
    }
    if (this.subscribers.size === 0) return;
    const key = keyOf(e);
    const time = marketEventTime(e);
    const ve: VenueEvent =
      e.type === 'trade'
        ? { type: 'trade', symbol: e.symbol, trade: e.trade, receivedAt: time }
        : e.type === 'book'
          ? { type: 'book', symbol: e.symbol, book: e.book, receivedAt: time }
          : { type: 'kline', symbol: e.symbol, interval: e.interval, candle: e.candle, closed: e.closed, receivedAt: time };
    // A subscriber that throws does not keep the others from the event; its error surfaces after.
    let failed = false;
    let firstError: unknown;
    for (const sub of [...this.subscribers]) {
      if (!sub.keys.has(key)) continue;
      sub.frames++;
      sub.lastEventAt[key] = time;
      try {
        sub.onEvent(ve);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
        }
      }
    }
    if (failed) throw firstError;
  }

  private symbolState(symbol: SymbolId): SymbolState {
    const st = this.state.get(symbol);
    if (!st) throw new SymbolNotTradableError(`${symbol} is not in the replay`);
    return st;
  }

  /** The 1m candles seen so far from index `start`, shifted like the events: the closed ones, then the current one. */
  private minuteCandles(st: SymbolState, start: number): Candle[] {
    const shift = this.replay.timeShift;
    const out: Candle[] = [];
    for (let i = start; i < st.closedCount; i++) {
      const c = st.candles[i] as Candle;
      out.push(shift === 0 ? c : { ...c, openTime: c.openTime + shift });
    }
    if (st.current) out.push(st.current);
    return out;
  }
}

/** Runs `fn` now and gives its result or its error as a promise (the port's methods never throw synchronously). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** Index of the first candle opening at or after `time` (candles sorted by open time). */
function lowerBound(candles: readonly Candle[], time: number): number {
  let lo = 0;
  let hi = candles.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((candles[mid] as Candle).openTime < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
