/**
 * The public market record the simulator serves over REST and pushes over the WebSocket: per
 * symbol, its 1m candles (closed, and the one being built), its recent public trades and its book
 * version, as far as the market data has got. Higher intervals are aggregated from the 1m candles
 * by the shared candle aggregation (services/candles), the same code the backtest and the hot path
 * use, with exact volume sums so a 5m volume prints as the sum a person would write.
 */
import { aggregateCandles } from '../../candles/candleAggregator.js';
import { Dec } from '../../core/money.js';
import type { Candle, Trade } from '../../core/types.js';
import type { SimMarketSpec } from '../../sim/types.js';
import type { MexcInterval } from './channels.js';
import { num, quoteVolume, type PublicTrade } from './mexcJson.js';

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Bounds of what is kept per symbol. */
const MAX_PUBLIC_TRADES = 1_000;
const MAX_CANDLES_PER_SYMBOL = 200_000;

/** Public market state of one symbol, as far as the server has emitted it. */
export interface SymbolState {
  readonly spec: SimMarketSpec;
  /** Closed 1m candles, oldest first. */
  readonly closed: Candle[];
  /** The 1m candle being built. */
  live: Candle | undefined;
  /** Recent public trades, oldest first (bounded). */
  readonly trades: PublicTrade[];
  tradeSeq: number;
  /** Book version: bumped on every book event (depth `lastUpdateId`, depth-stream versions). */
  bookVersion: number;
  prevBid: number | undefined;
  prevAsk: number | undefined;
  /** Time of the last event of the symbol. */
  lastTime: number;
  lastPrice: number | undefined;
}

/** A new, empty symbol state. */
export function newSymbolState(spec: SimMarketSpec): SymbolState {
  return { spec, closed: [], live: undefined, trades: [], tradeSeq: 0, bookVersion: 0, prevBid: undefined, prevAsk: undefined, lastTime: 0, lastPrice: undefined };
}

/** Records a public trade. */
export function recordTrade(st: SymbolState, t: Trade): PublicTrade {
  st.lastTime = Math.max(st.lastTime, t.time);
  st.lastPrice = t.price;
  const pt: PublicTrade = { id: ++st.tradeSeq, price: t.price, qty: t.quantity, time: t.time, buyerMaker: t.buyerMaker };
  st.trades.push(pt);
  if (st.trades.length > MAX_PUBLIC_TRADES) st.trades.splice(0, st.trades.length - MAX_PUBLIC_TRADES);
  return pt;
}

/** Whether a 1m candle can be kept: open time on the minute grid (the aggregation needs it). */
export function isOnMinuteGrid(c: Candle): boolean {
  return Number.isSafeInteger(c.openTime) && c.openTime % MINUTE === 0;
}

/** Keeps the 1m history: a closed candle joins `closed`, an open one replaces `live`. */
export function storeCandle(st: SymbolState, c: Candle, closed: boolean, time: number): void {
  st.lastTime = Math.max(st.lastTime, time);
  st.lastPrice = c.close;
  const last = st.closed[st.closed.length - 1];
  if (last && c.openTime <= last.openTime) {
    if (c.openTime === last.openTime) st.closed[st.closed.length - 1] = c;
    return;
  }
  // A live candle never closed explicitly is final once a later one starts.
  if (st.live && st.live.openTime < c.openTime) st.closed.push(st.live);
  if (closed) {
    st.closed.push(c);
    st.live = undefined;
  } else {
    st.live = c;
  }
  if (st.closed.length > MAX_CANDLES_PER_SYMBOL) st.closed.splice(0, st.closed.length - MAX_CANDLES_PER_SYMBOL);
}

/** 1m candles (closed, then the live one) with open time in [from, to]. */
export function candlesBetween(st: SymbolState, from: number, to: number): Candle[] {
  const list = st.closed;
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.openTime < from) lo = mid + 1;
    else hi = mid;
  }
  const out: Candle[] = [];
  for (let i = lo; i < list.length && list[i]!.openTime <= to; i++) out.push(list[i]!);
  if (st.live && st.live.openTime >= from && st.live.openTime <= to) out.push(st.live);
  return out;
}

/** Start of the interval's bucket holding `time` (UTC-epoch aligned, negative times too). */
function bucketOf(time: number, ms: number): number {
  return time - (((time % ms) + ms) % ms);
}

/**
 * The interval's candles built from the 1m candles with open time in [from, to], the bucket still
 * open included: MEXC serves the current window as it stands.
 */
export function aggregated(st: SymbolState, iv: MexcInterval, from: number, to: number): Candle[] {
  const minutes = candlesBetween(st, from, to);
  if (iv.ms === MINUTE) return minutes;
  return aggregateCandles(minutes, '1m', iv.tf, { includeOpen: true, exactVolume: true }).map(({ partial: _p, ...k }) => k);
}

/** The interval's candle whose window holds `openTime`, as it stands; undefined when it has no 1m candle. */
export function windowCandle(st: SymbolState, iv: MexcInterval, openTime: number): Candle | undefined {
  const start = bucketOf(openTime, iv.ms);
  return aggregated(st, iv, start, start + iv.ms - 1)[0];
}

/**
 * `GET /api/v3/klines`: with `start`, the first `limit` windows from there (to `end`); without,
 * the last `limit` windows up to `end` or the latest candle.
 */
export function klines(st: SymbolState, iv: MexcInterval, start: number | undefined, end: number, limit: number): Candle[] {
  if (start !== undefined) {
    const from = bucketOf(start, iv.ms);
    // Only as many 1m candles as `limit` windows can hold.
    const to = Math.min(end, from + limit * iv.ms - 1);
    return aggregated(st, iv, from, to)
      .filter((k) => k.openTime >= start && k.openTime <= end)
      .slice(0, limit);
  }
  const lastOpen = st.live?.openTime ?? st.closed[st.closed.length - 1]?.openTime ?? 0;
  const top = Math.min(end, lastOpen);
  const from = bucketOf(top, iv.ms) - (limit - 1) * iv.ms;
  const rows = aggregated(st, iv, from, top).filter((k) => k.openTime <= end);
  return rows.slice(Math.max(0, rows.length - limit));
}

/** The book top fields a ticker needs. */
export interface BookTopView {
  readonly bid: number;
  readonly bidSize: number;
  readonly ask: number;
  readonly askSize: number;
}

/** `GET /api/v3/ticker/24hr`: rolling 24 h statistics up to the symbol's last event, from its 1m candles. */
export function ticker24h(st: SymbolState, book: BookTopView | undefined): Record<string, unknown> {
  const to = st.lastTime;
  const candles = candlesBetween(st, to - DAY + 1, to);
  const first = candles[0];
  const lastC = candles[candles.length - 1];
  const last = st.lastPrice ?? lastC?.close;
  let high = -Infinity;
  let low = Infinity;
  let volume = Dec.ZERO;
  let quote = Dec.ZERO;
  for (const c of candles) {
    if (c.high > high) high = c.high;
    if (c.low < low) low = c.low;
    volume = volume.add(Dec.from(c.volume));
    quote = quote.add(Dec.from(quoteVolume(c)));
  }
  const open = first?.open;
  const change = open !== undefined && last !== undefined ? Dec.from(last).sub(Dec.from(open)) : undefined;
  return {
    symbol: st.spec.symbol,
    priceChange: change?.toString() ?? '0',
    // A fraction, as MEXC sends it (ccxt multiplies by 100).
    priceChangePercent: change && open ? change.div(Dec.from(open)).toFixed(4) : '0',
    prevClosePrice: open !== undefined ? num(open) : null,
    lastPrice: last !== undefined ? num(last) : null,
    bidPrice: book ? num(book.bid) : null,
    bidQty: book ? num(book.bidSize) : null,
    askPrice: book ? num(book.ask) : null,
    askQty: book ? num(book.askSize) : null,
    openPrice: open !== undefined ? num(open) : null,
    highPrice: candles.length ? num(high) : null,
    lowPrice: candles.length ? num(low) : null,
    volume: volume.toString(),
    quoteVolume: quote.toString(),
    openTime: first?.openTime ?? to,
    closeTime: to,
    count: null,
  };
}
