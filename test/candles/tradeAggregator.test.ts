import { describe, it, expect } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Trade } from '../../services/core/types.js';
import { NO_CANDLES, TradeAggregator, parseTradesCsv, type ClosedCandle } from '../../services/candles/index.js';

// 46 s of real BTCUSDT trades from 2021-01-08 00:00:00.278Z to 00:00:46.355Z (2001 rows).
const path = resolve(import.meta.dirname, '../fixtures/ticks/BTCUSDT/trades-2021-01-08.csv.gz');
const text = gunzipSync(readFileSync(path)).toString('utf8');
const { trades } = parseTradesCsv(text, { source: path });

// Independent reference rows: split the text by hand.
const raw = text
  .split('\n')
  .slice(1)
  .filter((l) => l.trim() !== '')
  .map((l) => {
    const [t, , p, q] = l.trim().split(',');
    return { t: Number(t), p: Number(p), q: Number(q) };
  });
const START = Date.UTC(2021, 0, 8); // 1610064000000

/** OHLCV of the raw rows with START + fromS <= t < START + toS, in the obvious way. */
function reference(fromS: number, toS: number) {
  const rows = raw.filter((r) => r.t >= START + fromS * 1000 && r.t < START + toS * 1000);
  return {
    open: rows[0]!.p,
    high: Math.max(...rows.map((r) => r.p)),
    low: Math.min(...rows.map((r) => r.p)),
    close: rows[rows.length - 1]!.p,
    volume: rows.reduce((s, r) => s + r.q, 0),
    count: rows.length,
  };
}

function expectMatches(c: ClosedCandle, tf: string, fromS: number, toS: number) {
  const ref = reference(fromS, toS);
  expect(c.tf).toBe(tf);
  expect(c.candle.openTime).toBe(START + fromS * 1000);
  expect([c.candle.open, c.candle.high, c.candle.low, c.candle.close]).toEqual([ref.open, ref.high, ref.low, ref.close]);
  expect(c.candle.volume).toBeCloseTo(ref.volume, 8);
}

describe('TradeAggregator on real trades', () => {
  it('reads the fixture: 2001 trades in time order', () => {
    expect(trades.length).toBe(2001);
    expect(trades[0]).toEqual({ time: 1610064000278, price: 39432.48, quantity: 0.000263, buyerMaker: true });
    expect(raw.length).toBe(2001);
  });

  it('closes the first 30s candle when the first trade of the next bucket arrives', () => {
    const agg = new TradeAggregator(['30s', '1m']);
    const closed: ClosedCandle[] = [];
    let closingTrade: Trade | null = null;
    for (const t of trades) {
      const out = agg.push(t);
      if (out.length > 0 && closingTrade === null) closingTrade = t;
      closed.push(...out);
    }
    expect(closed.length).toBe(1);
    // awk over the fixture, rows with timestamp < 1610064030000:
    //   o=39432.48 h=39531.83 l=39430.3 c=39527.01 v=50.350736 n=1209
    expectMatches(closed[0]!, '30s', 0, 30);
    expect([closed[0]!.candle.open, closed[0]!.candle.high, closed[0]!.candle.low, closed[0]!.candle.close]).toEqual([39432.48, 39531.83, 39430.3, 39527.01]);
    expect(closed[0]!.candle.volume).toBeCloseTo(50.350736, 8);
    expect(reference(0, 30).count).toBe(1209);
    expect(closingTrade!.time).toBeGreaterThanOrEqual(START + 30_000);

    // The rest closes on flush: 30s from 00:00:30 (awk: o=39527.0 h=39550.0 l=39449.68 c=39491.76
    // v=36.72086 n=792) and the 1m candle of all 2001 trades (o=39432.48 h=39550 l=39430.3
    // c=39491.76 v=87.071596).
    const rest = agg.flush();
    expect(rest.length).toBe(2);
    expectMatches(rest[0]!, '30s', 30, 60);
    expectMatches(rest[1]!, '1m', 0, 60);
    expect(rest[1]!.candle.volume).toBeCloseTo(87.071596, 8);
    expect(rest.every((c) => !c.candle.partial)).toBe(true);
  });

  it('closes quiet buckets from the clock with advanceTo', () => {
    const agg = new TradeAggregator(['30s', '1m']);
    for (const t of trades) agg.push(t);
    expect(agg.advanceTo(START + 59_999)).toBe(NO_CANDLES);
    const out = agg.advanceTo(START + 60_000);
    expect(out.map((c) => [c.tf, c.candle.openTime])).toEqual([
      ['30s', START + 30_000],
      ['1m', START],
    ]);
    expect(agg.flush()).toEqual([]);
  });

  it('flags a bucket partial when the feed started inside it', () => {
    const agg = new TradeAggregator(['1m'], { startTime: trades[0]!.time });
    for (const t of trades) agg.push(t);
    const [c] = agg.flush();
    expect(c!.candle.partial).toBe(true);
  });
});

describe('TradeAggregator ordering rules', () => {
  const tr = (ms: number, price: number, quantity = 1): Trade => ({ time: START + ms, price, quantity, buyerMaker: false });

  it('drops a trade older than an already closed bucket, in every timeframe', () => {
    const agg = new TradeAggregator(['30s', '1m']);
    agg.push(tr(1_000, 100));
    expect(agg.push(tr(31_000, 101)).map((c) => c.tf)).toEqual(['30s']);
    // 00:00:10 belongs to the closed 30s bucket: dropped, so the 1m candle stays the sum of its 30s candles.
    expect(agg.push(tr(10_000, 50, 5))).toBe(NO_CANDLES);
    expect(agg.lateTrades).toBe(1);
    const [, m1] = agg.flush();
    // 1m: trades at 1 s (100) and 31 s (101): low 100, volume 2.
    expect(m1!.candle).toEqual({ openTime: START, open: 100, high: 101, low: 100, close: 101, volume: 2, partial: false });
  });

  it('orders open and close by trade time inside an open bucket', () => {
    const agg = new TradeAggregator(['1m']);
    agg.push(tr(5_000, 10));
    agg.push(tr(3_000, 9)); // arrives late but inside the open bucket: it is the open
    agg.push(tr(7_000, 11));
    agg.push(tr(6_000, 12)); // earlier than the 7 s trade: not the close
    const [c] = agg.flush();
    expect(c!.candle).toEqual({ openTime: START, open: 9, high: 12, low: 9, close: 11, volume: 4, partial: false });
  });

  it('makes no candle for a bucket without trades', () => {
    const agg = new TradeAggregator(['30s']);
    agg.push(tr(1_000, 100));
    // next trade 2 minutes later: buckets 00:00:30 .. 00:01:30 had no trades
    const out = agg.push(tr(121_000, 102));
    expect(out.map((c) => c.candle.openTime)).toEqual([START]);
    expect(agg.flush().map((c) => c.candle.openTime)).toEqual([START + 120_000]);
  });
});
