/**
 * The per-symbol price chart: light for a month of 1m candles (only what is drawn is reduced, and
 * extremes survive), well-formed, and every trade's entry, exit, stop and targets drawn.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import type { Candle } from '../../services/core/types.js';
import type { ClosedTrade } from '../../services/analytics/types.js';
import { bucketCandles, levelSegments, priceChartSvg } from '../../services/report/priceChart.js';
import { xmlProblem } from './xmlCheck.js';

const T = Date.UTC(2024, 0, 1);
const MONTH = 30 * 1440;
function month(): Candle[] {
  const out: Candle[] = [];
  for (let i = 0; i < MONTH; i++) {
    const mid = 100 + 5 * Math.sin(i / 3000);
    out.push({ openTime: T + i * 60_000, open: mid, high: mid + 0.1, low: mid - 0.1, close: mid + 0.01, volume: 1 });
  }
  // One spike each way in the middle of a bucket: a column must keep them.
  out[20_001] = { ...out[20_001]!, high: 130 };
  out[30_002] = { ...out[30_002]!, low: 70 };
  return out;
}
const trade = (i: number, win: boolean): ClosedTrade => ({
  id: `t${i}`,
  symbol: 'BTCUSDT',
  direction: 'long',
  entryTime: T + i * 200 * 60_000,
  exitTime: T + (i * 200 + 90) * 60_000,
  entryPrice: dec(100),
  exitPrice: dec(win ? 101 : 99),
  quantity: dec(1),
  fees: dec(0),
  grossPnl: dec(win ? 1 : -1),
  netPnl: dec(win ? 1 : -1),
  exitReason: win ? 'target' : 'stop',
  exits: 1,
  returnPct: win ? 1 : -1,
  plan: { stop: dec(99), finalStop: dec(i % 2 ? '99.5' : 99), targets: [dec(101), dec(102)], initialRisk: dec(1), rMultiple: win ? 1 : -1, highPrice: 101, lowPrice: 99, entryFees: dec(0), exitFees: dec(0), entryReference: 100, entrySlippage: dec(0), exitSlippage: dec(0) },
});

describe('bucketCandles and levelSegments', () => {
  it('a month of 1m candles into at most 1,000 columns keeps the true extremes', () => {
    const b = bucketCandles(month(), 1000);
    expect(b.length).toBeLessThanOrEqual(1000);
    expect(Math.max(...b.map((x) => x.hi))).toBe(130);
    expect(Math.min(...b.map((x) => x.lo))).toBe(70);
  });
  it('a price present in consecutive snapshots is one segment', () => {
    const segs = levelSegments([{ time: 0, prices: [1, 2] }, { time: 10, prices: [1, 3] }, { time: 20, prices: [1] }], 30);
    expect(segs.sort((a, b) => a.price - b.price || a.from - b.from)).toEqual([
      { price: 1, from: 0, to: 30 },
      { price: 2, from: 0, to: 10 },
      { price: 3, from: 10, to: 20 },
    ]);
  });
});

describe('priceChartSvg', () => {
  const candles = month();
  const trades = Array.from({ length: 200 }, (_, i) => trade(i, i % 3 === 0));
  const levels = Array.from({ length: 300 }, (_, i) => ({ time: T + i * 144 * 60_000, prices: [95, 100 + (i % 7) * 0.5, 105] }));
  const svg = priceChartSvg({ symbol: 'BTCUSDT', candles, trades: [...trades, { ...trade(999, true), symbol: 'ETHUSDT' }], levels });

  it('is well-formed and light: under 150 KB for a month of 1m candles, 200 trades and 300 level snapshots', () => {
    expect(xmlProblem(svg)).toBeNull();
    expect(svg.length).toBeLessThan(150_000);
    const price = /class="price" points="([^"]*)"/.exec(svg)?.[1] ?? '';
    expect(price.split(' ').length).toBeLessThanOrEqual(1000);
  });

  it('draws every trade of the symbol: entries, exits coloured by result, stops, moved stops and targets', () => {
    expect(svg.match(/class="entry"/g)).toHaveLength(200);
    expect(svg.match(/class="exit"[^>]*fill="#16a34a"/g)).toHaveLength(67);
    expect(svg.match(/class="exit"[^>]*fill="#dc2626"/g)).toHaveLength(133);
    const segments = (cls: string): number => (new RegExp(`class="${cls}" d="([^"]*)"`).exec(svg)?.[1] ?? '').split('M').length - 1;
    expect(segments('stops')).toBe(200);
    expect(segments('moved-stops')).toBe(100);
    expect(segments('targets')).toBe(400);
    expect(segments('levels')).toBeGreaterThan(0);
  });

  it('says so when there are no candles', () => {
    const empty = priceChartSvg({ symbol: 'X', candles: [], trades: [] });
    expect(empty).toContain('No candles');
    expect(xmlProblem(empty)).toBeNull();
  });
});
