import { describe, it, expect } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, DataValidationError } from '../../services/core/errors.js';
import type { Candle } from '../../services/core/types.js';
import { CandleAggregator, NO_CANDLES, aggregateCandles, type ClosedCandle } from '../../services/candles/index.js';

const M = 60_000;
// 2024-01-01T03:00:00Z
const T = Date.UTC(2024, 0, 1, 3, 0);
/** A 1m candle at 03:00 + `minute` (UTC). */
const bar = (minute: number, open: number, high: number, low: number, close: number, volume: number): Candle => ({
  openTime: T + minute * M,
  open,
  high,
  low,
  close,
  volume,
});

function pushAll(agg: CandleAggregator, candles: readonly Candle[]): ClosedCandle[] {
  const out: ClosedCandle[] = [];
  for (const c of candles) out.push(...agg.push(c));
  return out;
}

describe('CandleAggregator 1m -> 5m', () => {
  const series = [
    bar(0, 10, 12, 9, 11, 1),
    bar(1, 11, 13, 10, 12, 2),
    bar(2, 12, 12.5, 8, 9, 3),
    bar(3, 9, 10, 7, 8, 4),
    bar(4, 8, 9, 7.5, 8.5, 5),
    bar(5, 8.5, 11, 8, 10, 1),
    bar(6, 10, 10.5, 9.5, 10.25, 1.5),
  ];

  it('closes the 03:00 bucket on its last minute (03:04) with the right OHLCV', () => {
    const agg = new CandleAggregator('1m', ['5m']);
    for (let i = 0; i < 4; i++) expect(agg.push(series[i]!)).toBe(NO_CANDLES);
    // open = first open 10; high = max(12, 13, 12.5, 10, 9) = 13; low = min(9, 10, 8, 7, 7.5) = 7;
    // close = last close 8.5; volume = 1 + 2 + 3 + 4 + 5 = 15; all 5 bars present.
    expect(agg.push(series[4]!)).toEqual([{ tf: '5m', candle: { openTime: T, open: 10, high: 13, low: 7, close: 8.5, volume: 15, partial: false } }]);
    expect(agg.push(series[5]!)).toBe(NO_CANDLES);
    expect(agg.push(series[6]!)).toBe(NO_CANDLES);
    // The 03:05 bucket has 2 of 5 bars: open 8.5, high max(11, 10.5) = 11, low min(8, 9.5) = 8,
    // close 10.25, volume 1 + 1.5 = 2.5.
    expect(agg.flush()).toEqual([{ tf: '5m', candle: { openTime: T + 5 * M, open: 8.5, high: 11, low: 8, close: 10.25, volume: 2.5, partial: true } }]);
    expect(agg.flush()).toEqual([]);
  });

  it('aggregateCandles returns closed buckets, and the open one on request', () => {
    expect(aggregateCandles(series, '1m', '5m').map((c) => c.openTime)).toEqual([T]);
    expect(aggregateCandles(series, '1m', '5m', { includeOpen: true }).map((c) => [c.openTime, c.partial])).toEqual([
      [T, false],
      [T + 5 * M, true],
    ]);
  });

  it('aligns buckets to the UTC epoch: a series starting at 03:02 gives a partial 03:00 bucket', () => {
    const agg = new CandleAggregator('1m', ['5m']);
    const out = pushAll(agg, [bar(2, 12, 12.5, 8, 9, 3), bar(3, 9, 10, 7, 8, 4), bar(4, 8, 9, 7.5, 8.5, 5)]);
    // Emitted when 03:04 arrives; 3 of 5 bars: open 12, high 12.5, low 7, close 8.5, volume 12.
    expect(out).toEqual([{ tf: '5m', candle: { openTime: T, open: 12, high: 12.5, low: 7, close: 8.5, volume: 12, partial: true } }]);
  });

  it('emits a bucket cut by a gap when a bar of a later bucket arrives, and invents nothing', () => {
    const agg = new CandleAggregator('1m', ['5m']);
    const out = pushAll(agg, [
      bar(0, 10, 12, 9, 11, 1),
      bar(1, 11, 13, 10, 12, 2),
      // gap: 03:02 to 03:06 missing
      bar(7, 20, 21, 19, 20.5, 7),
      bar(8, 20.5, 22, 20, 21, 8),
      bar(9, 21, 21.5, 18, 19, 9),
      // gap: 03:10 to 03:22 missing; the 03:10, 03:15 buckets get no candle at all
      bar(23, 30, 31, 29, 30, 1),
    ]);
    expect(out).toEqual([
      // 03:00: bars 03:00-03:01, emitted when 03:07 arrived. high max(12, 13), low min(9, 10), volume 1 + 2.
      { tf: '5m', candle: { openTime: T, open: 10, high: 13, low: 9, close: 12, volume: 3, partial: true } },
      // 03:05: bars 03:07-03:09, emitted at 03:09 (its last minute). high max(21, 22, 21.5), low min(19, 20, 18), volume 7 + 8 + 9.
      { tf: '5m', candle: { openTime: T + 5 * M, open: 20, high: 22, low: 18, close: 19, volume: 24, partial: true } },
    ]);
    expect(agg.flush()).toEqual([{ tf: '5m', candle: { openTime: T + 20 * M, open: 30, high: 31, low: 29, close: 30, volume: 1, partial: true } }]);
  });

  it('one push can close two buckets of one timeframe: the gap-cut one, then the one it completes', () => {
    const agg = new CandleAggregator('1m', ['3m']);
    expect(agg.push(bar(0, 1, 2, 0.5, 1.5, 1))).toBe(NO_CANDLES);
    // 03:05 is the last minute of the 03:03 bucket (03:03, 03:04, 03:05) and comes after a gap.
    expect(agg.push(bar(5, 2, 3, 1.5, 2.5, 2))).toEqual([
      { tf: '3m', candle: { openTime: T, open: 1, high: 2, low: 0.5, close: 1.5, volume: 1, partial: true } },
      { tf: '3m', candle: { openTime: T + 3 * M, open: 2, high: 3, low: 1.5, close: 2.5, volume: 2, partial: true } },
    ]);
  });
});

describe('CandleAggregator with several timeframes', () => {
  it('emits shortest timeframe first when buckets end together', () => {
    const agg = new CandleAggregator('1m', ['15m', '5m', '5m']);
    expect(agg.targets).toEqual(['5m', '15m']);
    const candles: Candle[] = [];
    for (let m = 0; m < 15; m++) candles.push(bar(m, 100 + m, 101 + m, 99 + m, 100.5 + m, 1));
    const out = pushAll(agg, candles);
    expect(out.map((c) => [c.tf, (c.candle.openTime - T) / M])).toEqual([
      ['5m', 0],
      ['5m', 5],
      ['5m', 10],
      ['15m', 0],
    ]);
    // 15m: open 100 (03:00), high 101 + 14 = 115, low 99, close 100.5 + 14 = 114.5, volume 15 x 1.
    expect(out[3]!.candle).toEqual({ openTime: T, open: 100, high: 115, low: 99, close: 114.5, volume: 15, partial: false });
  });

  it('a gap closes open buckets of every timeframe before the new bar is counted', () => {
    const agg = new CandleAggregator('1m', ['5m', '15m']);
    pushAll(agg, [bar(12, 1, 1, 1, 1, 1), bar(13, 1, 1, 1, 1, 1)]);
    const out = agg.push(bar(16, 2, 2, 2, 2, 1));
    expect(out.map((c) => [c.tf, (c.candle.openTime - T) / M, c.candle.partial, c.candle.volume])).toEqual([
      ['5m', 10, true, 2],
      ['15m', 0, true, 2],
    ]);
  });

  it('aggregates 30s input into 1m and 3m', () => {
    const agg = new CandleAggregator('30s', ['1m', '3m']);
    const c = (i: number, v: number): Candle => ({ openTime: T + i * 30_000, open: v, high: v, low: v, close: v, volume: 1 });
    const out = pushAll(agg, [c(0, 1), c(1, 2), c(2, 3), c(3, 4), c(4, 5), c(5, 6)]);
    // 1m buckets of two 30s bars each; the 3m bucket of six bars closes with the third 1m.
    expect(out.map((x) => [x.tf, x.candle.open, x.candle.close, x.candle.volume])).toEqual([
      ['1m', 1, 2, 2],
      ['1m', 3, 4, 2],
      ['1m', 5, 6, 2],
      ['3m', 1, 6, 6],
    ]);
  });
});

describe('CandleAggregator input checks', () => {
  it('rejects targets that are not whole multiples of the input', () => {
    expect(() => new CandleAggregator('1m', ['30s'])).toThrow(ConfigError);
    expect(() => new CandleAggregator('3m', ['5m'])).toThrow('cannot aggregate 3m candles into 5m: expected a timeframe whose duration is a multiple of 3m (180000 ms)');
    expect(() => new CandleAggregator('1m', [])).toThrow(ConfigError);
  });

  it('rejects out-of-order, repeated and misaligned candles', () => {
    const agg = new CandleAggregator('1m', ['5m']);
    agg.push(bar(1, 1, 1, 1, 1, 1));
    expect(() => agg.push(bar(1, 1, 1, 1, 1, 1))).toThrow(DataValidationError);
    expect(() => agg.push(bar(0, 1, 1, 1, 1, 1))).toThrow(/is not after the previous one at 2024-01-01T03:01:00.000Z/);
    expect(() => agg.push({ ...bar(2, 1, 1, 1, 1, 1), openTime: T + 2 * M + 1000 })).toThrow(/not aligned to 1m/);
  });
});

describe('CandleAggregator 1m -> 4h on the real BTCUSDT slice (with its 150-bar gap)', () => {
  // Independent reference: read the fixture with zlib and split, group rows by
  // floor(openTime / 4h) in a Map, and compute OHLCV per group in the obvious way.
  const path = resolve(import.meta.dirname, '../fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz');
  const rows = gunzipSync(readFileSync(path))
    .toString('utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(',').map(Number) as [number, number, number, number, number, number]);
  const H4 = 4 * 3_600_000;
  const groups = new Map<number, [number, number, number, number, number, number][]>();
  for (const r of rows) {
    const key = Math.floor(r[0] / H4) * H4;
    const g = groups.get(key) ?? [];
    g.push(r);
    groups.set(key, g);
  }

  it('matches the independent computation bucket by bucket', () => {
    const candles: Candle[] = rows.map(([openTime, open, high, low, close, volume]) => ({ openTime, open, high, low, close, volume }));
    const got = aggregateCandles(candles, '1m', '4h', { includeOpen: true });
    const keys = [...groups.keys()];
    expect(got.map((c) => c.openTime)).toEqual(keys);
    for (const c of got) {
      const g = groups.get(c.openTime)!;
      expect(c.open).toBe(g[0]![1]);
      expect(c.high).toBe(Math.max(...g.map((r) => r[2])));
      expect(c.low).toBe(Math.min(...g.map((r) => r[3])));
      expect(c.close).toBe(g[g.length - 1]![4]);
      expect(c.volume).toBeCloseTo(g.reduce((s, r) => s + r[5], 0), 6);
      expect(c.partial).toBe(g.length < 240);
    }
    // Without includeOpen the last bucket (Apr 21 00:00, 157 bars, still waiting for 02:37-03:59)
    // is not emitted.
    expect(aggregateCandles(candles, '1m', '4h').length).toBe(keys.length - 1);
  });

  it('matches figures computed with zcat | awk for the buckets around the gap', () => {
    // awk over the fixture, grouping int($1/14400000)*14400000:
    //   04-18 20:00  o=56378.62 h=56688.28 l=56004.33 c=56150.01 v=4772.123595  n=113 (slice starts 22:07)
    //   04-20 00:00  o=55633.14 h=55792.15 l=54237.04 c=54764.12 v=9222.585057  n=120 (gap from 02:00)
    //   04-20 04:00  o=54764.13 h=55486.31 l=53329.96 c=54410.57 v=12643.076660 n=210 (data resumes 04:30)
    //   04-20 08:00  o=54410.57 h=56419.13 l=54230.38 c=56266.83 v=13231.942552 n=240
    const agg = new CandleAggregator('1m', ['4h']);
    const out: ClosedCandle[] = [];
    for (const [openTime, open, high, low, close, volume] of rows) out.push(...agg.push({ openTime, open, high, low, close, volume }));
    const at = (iso: string) => out.find((c) => c.candle.openTime === Date.parse(iso))!.candle;
    const expectCandle = (iso: string, o: number, h: number, l: number, c: number, v: number, partial: boolean) => {
      const k = at(iso);
      expect([k.open, k.high, k.low, k.close, k.partial]).toEqual([o, h, l, c, partial]);
      expect(k.volume).toBeCloseTo(v, 5);
    };
    expectCandle('2021-04-18T20:00:00Z', 56378.62, 56688.28, 56004.33, 56150.01, 4772.123595, true);
    expectCandle('2021-04-20T00:00:00Z', 55633.14, 55792.15, 54237.04, 54764.12, 9222.585057, true);
    expectCandle('2021-04-20T04:00:00Z', 54764.13, 55486.31, 53329.96, 54410.57, 12643.07666, true);
    expectCandle('2021-04-20T08:00:00Z', 54410.57, 56419.13, 54230.38, 56266.83, 13231.942552, false);
    // 13 closed buckets: Apr 18 20:00, six on Apr 19, six on Apr 20.
    expect(out.length).toBe(13);
  });
});

describe('exact volume sums (the simulator prints volumes as MEXC would)', () => {
  it('sums volumes as decimals when asked, as floats by default', () => {
    // 0.1 + 0.2 + 0.3 in floats is 0.6000000000000001; as decimals it is 0.6.
    const bars = [bar(0, 10, 11, 9, 10, 0.1), bar(1, 10, 11, 9, 10, 0.2), bar(2, 10, 11, 9, 10, 0.3), bar(3, 10, 11, 9, 10, 0), bar(4, 10, 11, 9, 10, 0)];
    expect(0.1 + 0.2 + 0.3).not.toBe(0.6);
    expect(aggregateCandles(bars, '1m', '5m')[0]!.volume).toBe(0.1 + 0.2 + 0.3);
    expect(aggregateCandles(bars, '1m', '5m', { exactVolume: true })[0]!.volume).toBe(0.6);
  });

  it('serves the intervals MEXC adds: 30m, 8h and 1d on the UTC grid', () => {
    const day = Date.UTC(2024, 0, 1);
    const minutes: Candle[] = Array.from({ length: 1440 }, (_, i) => ({ openTime: day + i * M, open: 10, high: 10 + (i === 700 ? 5 : 0), low: 10, close: 10, volume: 1 }));
    const d = aggregateCandles(minutes, '1m', '1d');
    expect(d).toEqual([{ openTime: day, open: 10, high: 15, low: 10, close: 10, volume: 1440, partial: false }]);
    expect(aggregateCandles(minutes, '1m', '8h').map((c) => [c.openTime - day, c.volume])).toEqual([
      [0, 480],
      [8 * 60 * M, 480],
      [16 * 60 * M, 480],
    ]);
    expect(aggregateCandles(minutes, '1m', '30m')).toHaveLength(48);
  });
});
