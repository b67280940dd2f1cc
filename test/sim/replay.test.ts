/**
 * CandleReplay: the backtest's intrabar path (open, low, high, close at +1 s, +20 s, +40 s,
 * +59.999 s) as trade, book and kline events, merged across symbols in time order.
 * Expected events are written out by hand from the candles in each test.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { symbolId, type Candle, type Trade } from '../../services/core/types.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { CandleReplay, marketEventTime, simMarketFromCandles } from '../../services/sim/replay.js';
import type { MarketDataEvent } from '../../services/sim/types.js';
import { DataValidationError } from '../../services/core/errors.js';

const T = Date.UTC(2024, 0, 1, 0, 0);
const MIN = 60_000;
const BTC = symbolId('BTCUSDT');
const ETH = symbolId('ETHUSDT');

/** tick 0.01 (two decimals in the prices), lot step 1 (integer volume). */
const C1: Candle = { openTime: T, open: 100.5, high: 103.25, low: 98.75, close: 101, volume: 8 };

/** An event as a short line: type, time offset from T, and its numbers. */
function line(e: MarketDataEvent): string {
  const dt = marketEventTime(e) - T;
  if (e.type === 'trade') return `${e.symbol} +${dt} trade ${e.trade.price} x${e.trade.quantity}${e.trade.buyerMaker ? ' sell' : ' buy'}`;
  if (e.type === 'book') return `${e.symbol} +${dt} book ${e.book.bid}/${e.book.ask} (${e.book.bidSize}/${e.book.askSize})`;
  const c = e.candle;
  return `${e.symbol} +${dt} kline${e.closed ? ' closed' : ''} @${c.openTime - T} o${c.open} h${c.high} l${c.low} c${c.close} v${c.volume}`;
}

function drain(r: CandleReplay): MarketDataEvent[] {
  const out: MarketDataEvent[] = [];
  for (let e = r.next(); e; e = r.next()) out.push(e);
  return out;
}

describe('CandleReplay', () => {
  it('walks a candle open -> low -> high -> close at +1 s/+20 s/+40 s/+59.999 s: trade, book (one tick each side), partial kline; then the closed kline', () => {
    const r = new CandleReplay([{ symbol: BTC, candles: [C1] }]);
    // Volume 8 -> 2 per trade. Book: price -/+ one tick (0.01). "sell" = the price went down (buyerMaker).
    expect(drain(r).map(line)).toEqual([
      'BTCUSDT +1000 trade 100.5 x2 buy',
      'BTCUSDT +1000 book 100.49/100.51 (2/2)',
      'BTCUSDT +1000 kline @0 o100.5 h100.5 l100.5 c100.5 v2',
      'BTCUSDT +20000 trade 98.75 x2 sell',
      'BTCUSDT +20000 book 98.74/98.76 (2/2)',
      'BTCUSDT +20000 kline @0 o100.5 h100.5 l98.75 c98.75 v4',
      'BTCUSDT +40000 trade 103.25 x2 buy',
      'BTCUSDT +40000 book 103.24/103.26 (2/2)',
      'BTCUSDT +40000 kline @0 o100.5 h103.25 l98.75 c103.25 v6',
      'BTCUSDT +59999 trade 101 x2 sell',
      'BTCUSDT +59999 book 100.99/101.01 (2/2)',
      'BTCUSDT +59999 kline @0 o100.5 h103.25 l98.75 c101 v8',
      'BTCUSDT +60000 kline closed @0 o100.5 h103.25 l98.75 c101 v8',
    ]);
    expect(r.done).toBe(true);
    expect(r.next()).toBeUndefined();
  });

  it('widens the book to spreadBps when that is more than a tick: 100.5 -/+ 10 bps = 100.3995/100.6005 -> 100.39/100.61', () => {
    const r = new CandleReplay([{ symbol: BTC, candles: [C1] }], { spreadBps: 10 });
    const book = drain(r).find((e) => e.type === 'book');
    expect(book && line(book)).toBe('BTCUSDT +1000 book 100.39/100.61 (2/2)');
  });

  it('keeps tiny prices exact: PEPE at 0.000003748 with a 1e-9 tick quotes 0.000003747/0.000003749', () => {
    const pepe = symbolId('PEPEUSDT');
    const c: Candle = { openTime: T, open: 0.000003748, high: 0.00000375, low: 0.000003747, close: 0.000003749, volume: 816699244 };
    const books = drain(new CandleReplay([{ symbol: pepe, candles: [c] }])).flatMap((e) => (e.type === 'book' ? [[e.book.bid, e.book.ask]] : []));
    expect(books).toEqual([
      [0.000003747, 0.000003749],
      [0.000003746, 0.000003748],
      [0.000003749, 0.000003751],
      [0.000003748, 0.00000375],
    ]);
  });

  it('merges symbols in time order; at equal times the series given first goes first', () => {
    const btc: Candle[] = [C1, { ...C1, openTime: T + MIN }];
    const eth: Candle[] = [{ ...C1, openTime: T + MIN }];
    const r = new CandleReplay([
      { symbol: ETH, candles: eth },
      { symbol: BTC, candles: btc },
    ]);
    const events = drain(r);
    expect(events).toHaveLength(3 * 13);
    const times = events.map(marketEventTime);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The first minute is BTC alone; its closed kline (T + 60 s) comes before the second minute's
    // first events (T + 61 s), where ETH (given first) precedes BTC for each of the same-time events.
    expect(events.slice(0, 13).every((e) => e.symbol === BTC)).toBe(true);
    expect(events.slice(13, 19).map((e) => `${e.symbol} ${e.type} ${marketEventTime(e) - T}`)).toEqual([
      'ETHUSDT trade 61000',
      'ETHUSDT book 61000',
      'ETHUSDT kline 61000',
      'BTCUSDT trade 61000',
      'BTCUSDT book 61000',
      'BTCUSDT kline 61000',
    ]);
    const closed = events.filter((e) => e.type === 'kline' && e.closed).map((e) => `${e.symbol} ${marketEventTime(e) - T}`);
    expect(closed).toEqual(['BTCUSDT 60000', 'ETHUSDT 120000', 'BTCUSDT 120000']);
  });

  it('peekTime, until (inclusive) and done', () => {
    const r = new CandleReplay([{ symbol: BTC, candles: [C1] }]);
    expect(r.peekTime()).toBe(T + 1000);
    expect(r.until(T + 20_000).map(line)).toHaveLength(6); // the +1 s and +20 s points, three events each
    expect(r.peekTime()).toBe(T + 40_000);
    expect(r.time).toBe(T + 20_000);
    expect(r.until(T + 39_999)).toEqual([]);
    expect(r.until(T + 60_000)).toHaveLength(7);
    expect(r.done).toBe(true);
    expect(r.peekTime()).toBeUndefined();
  });

  it('shiftTo moves every timestamp so the first candle opens then', () => {
    const at = Date.UTC(2026, 5, 1, 9, 30);
    const r = new CandleReplay([{ symbol: BTC, candles: [C1, { ...C1, openTime: T + MIN }] }], { shiftTo: at });
    expect(r.timeShift).toBe(at - T);
    const events = drain(r);
    expect(marketEventTime(events[0] as MarketDataEvent)).toBe(at + 1000);
    const closed = events.filter((e): e is Extract<MarketDataEvent, { type: 'kline' }> => e.type === 'kline' && e.closed);
    expect(closed.map((e) => [e.time, e.candle.openTime])).toEqual([
      [at + MIN, at],
      [at + 2 * MIN, at + MIN],
    ]);
    expect(events.filter((e) => e.type === 'book').every((e) => e.type === 'book' && e.book.time >= at)).toBe(true);
  });

  it('real trades replace the synthetic ones in the minutes they cover; trades outside every candle are dropped', () => {
    const trades: Trade[] = [
      { time: T - 5000, price: 99, quantity: 1, buyerMaker: false }, // before the data: dropped
      { time: T + 5000, price: 100.6, quantity: 0.3, buyerMaker: false },
      { time: T + 20_000, price: 98.8, quantity: 0.5, buyerMaker: true },
    ];
    const r = new CandleReplay([{ symbol: BTC, candles: [C1, { ...C1, openTime: T + MIN }], trades }]);
    const events = drain(r);
    // Minute 1: 4 books + 4 partial klines + 2 real trades + the closed kline = 11; minute 2: 13.
    expect(events).toHaveLength(24);
    const firstMinuteTrades = events.filter((e) => e.type === 'trade' && marketEventTime(e) < T + MIN).map(line);
    expect(firstMinuteTrades).toEqual(['BTCUSDT +5000 trade 100.6 x0.3 buy', 'BTCUSDT +20000 trade 98.8 x0.5 sell']);
    // The real trade at +20 s comes before the path's book of the same millisecond.
    const i = events.findIndex((e) => e.type === 'trade' && marketEventTime(e) === T + 20_000);
    expect(events[i + 1]?.type).toBe('book');
    expect(events.filter((e) => e.type === 'trade' && marketEventTime(e) >= T + MIN)).toHaveLength(4);
  });

  it('refuses unsorted candles and a symbol given twice', () => {
    expect(() => new CandleReplay([{ symbol: BTC, candles: [{ ...C1, openTime: T + MIN }, C1] }])).toThrow(DataValidationError);
    expect(
      () =>
        new CandleReplay([
          { symbol: BTC, candles: [C1] },
          { symbol: BTC, candles: [C1] },
        ]),
    ).toThrow(DataValidationError);
  });

  it('on real BTC candles: 13 events per candle, in time order, one closed kline per candle equal to it', () => {
    const { candles } = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz');
    const r = new CandleReplay([{ symbol: BTC, candles }]);
    let n = 0;
    let prev = -Infinity;
    let ordered = true;
    const closed: Candle[] = [];
    for (let e = r.next(); e; e = r.next()) {
      n++;
      const t = marketEventTime(e);
      if (t < prev) ordered = false;
      prev = t;
      if (e.type === 'kline' && e.closed) closed.push(e.candle);
    }
    expect(candles.length).toBe(3000);
    expect(n).toBe(candles.length * (4 * 3 + 1));
    expect(ordered).toBe(true);
    expect(closed).toEqual(candles);
  });

  it('on real PEPE and BTC candles every book is the path price -/+ one tick, as exact decimals', () => {
    for (const [sym, file, tick] of [
      ['PEPEUSDT', 'test/fixtures/candles/PEPEUSDT/1m-2026-05-20_2026-05-22-slice.csv.gz', '0.000000001'],
      ['BTCUSDT', 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', '0.01'],
    ] as const) {
      const { candles } = loadCandleFile(file);
      const r = new CandleReplay([{ symbol: symbolId(sym), candles }]);
      let last = 0;
      let wrong = 0;
      let books = 0;
      for (let e = r.next(); e; e = r.next()) {
        if (e.type === 'trade') last = e.trade.price;
        if (e.type !== 'book') continue;
        books++;
        // Independently: decimal price -/+ tick, back to the float a parser makes of that decimal.
        const bid = Number(dec(last).sub(dec(tick)).toString());
        const ask = Number(dec(last).add(dec(tick)).toString());
        if (e.book.bid !== bid || e.book.ask !== ask) wrong++;
      }
      expect([sym, books, wrong]).toEqual([sym, candles.length * 4, 0]);
    }
  });
});

describe('simMarketFromCandles', () => {
  it('infers tick and lot step from the data, minimum quantity one lot, 1 USDT minimum value, MEXC fees, online', () => {
    const candles: Candle[] = [{ openTime: T, open: 1.234, high: 1.3, low: 1.2, close: 1.25, volume: 10.5 }];
    const m = simMarketFromCandles(symbolId('DOGEUSDT'), candles);
    expect({ ...m, tickSize: m.tickSize.toString(), stepSize: m.stepSize.toString(), minQuantity: m.minQuantity.toString(), minNotional: m.minNotional.toString() }).toEqual({
      symbol: 'DOGEUSDT',
      base: 'DOGE',
      quote: 'USDT',
      tickSize: '0.001',
      stepSize: '0.1',
      minQuantity: '0.1',
      minNotional: '1',
      makerFeePct: 0,
      takerFeePct: 0.05,
      status: 'online',
      apiTradable: true,
    });
    const paused = simMarketFromCandles(symbolId('DOGEUSDT'), candles, { status: 'paused', minNotional: dec(5) });
    expect([paused.status, paused.minNotional.toString()]).toEqual(['paused', '5']);
  });
});
