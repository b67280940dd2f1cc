/** The report's extra figures, worked by hand on small equity series and trades. */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import { cagrPct, calmarRatio, drawdownDuration, extendedSummary, periodReturns } from '../../services/analytics/periods.js';
import type { ClosedTrade } from '../../services/analytics/types.js';

const D = 86_400_000;
const T = Date.UTC(2024, 0, 1); // a Monday
const pt = (t: number, equity: number) => ({ time: t, equity });

describe('periodReturns', () => {
  const eq = [pt(T, 100), pt(T + 0.5 * D, 110), pt(T + D, 99), pt(T + 2.5 * D, 121), pt(T + 8 * D, 133.1)];
  it('daily: the sample at 00:00 closes the day before; a day without samples is 0%', () => {
    // Jan 1 closes at 99 (the Jan 2 00:00 sample): -1%; Jan 2 no sample: 0%; Jan 3 121: +22.22%;
    // Jan 4..8 flat; Jan 9 00:00 closes Jan 8 at 133.1: +10%.
    const r = periodReturns(eq, 'day');
    expect(r.map((x) => x.period)).toEqual(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-06', '2024-01-07', '2024-01-08']);
    expect(r.map((x) => x.returnPct)).toEqual([-1, 0, 22.2222, 0, 0, 0, 0, 10]);
  });
  it('weekly (ISO, Monday) and monthly', () => {
    // Week of Jan 1 ends at the Jan 8 00:00... the last sample (Jan 9 00:00) closes Jan 8, in the week of Jan 8.
    expect(periodReturns(eq, 'week').map((x) => [x.period, x.returnPct])).toEqual([
      ['2024-01-01', 21],
      ['2024-01-08', 10],
    ]);
    expect(periodReturns(eq, 'month').map((x) => [x.period, x.returnPct])).toEqual([['2024-01', 33.1]]);
    expect(periodReturns([], 'day')).toEqual([]);
  });
});

describe('drawdownDuration', () => {
  it('the longest stretch below a peak, recovered or not', () => {
    // Peak 110 at 12 h, below until 121 at 60 h: 48 h. Then a new peak 133 at 8 d, 120 at the end (9 d): 1 d, not recovered.
    const r = drawdownDuration([pt(T, 100), pt(T + 0.5 * D, 110), pt(T + D, 99), pt(T + 2.5 * D, 121), pt(T + 8 * D, 133), pt(T + 9 * D, 120)]);
    expect(r).toEqual({ maxMs: 2 * D, from: new Date(T + 0.5 * D).toISOString(), to: new Date(T + 2.5 * D).toISOString(), recovered: true, currentMs: D });
    const never = drawdownDuration([pt(T, 100), pt(T + D, 90), pt(T + 5 * D, 95)]);
    expect(never).toMatchObject({ maxMs: 5 * D, recovered: false, currentMs: 5 * D });
    expect(drawdownDuration([pt(T, 1), pt(T + D, 2)])).toMatchObject({ maxMs: 0, from: null });
  });
});

describe('CAGR and Calmar', () => {
  it('a year at +21% is 21%; half a year at +10% compounds to 21%; under a day is null', () => {
    expect(cagrPct(100, 121, 365 * D)).toBeCloseTo(21, 10);
    expect(cagrPct(100, 110, 182.5 * D)).toBeCloseTo(21, 10);
    expect(cagrPct(100, 110, D - 1)).toBeNull();
    expect(cagrPct(100, 0, 365 * D)).toBeNull();
    expect(calmarRatio(21, 7)).toBe(3);
    expect(calmarRatio(21, 0)).toBeNull();
  });
});

describe('extendedSummary', () => {
  const trade = (id: string, net: string, minutes: number, plan?: ClosedTrade['plan']): ClosedTrade => ({
    id,
    symbol: 'BTCUSDT',
    direction: 'long',
    entryTime: T,
    exitTime: T + minutes * 60_000,
    entryPrice: dec(100),
    exitPrice: dec(101),
    quantity: dec(1),
    fees: dec('0.1'),
    grossPnl: dec(net).add(dec('0.1')),
    netPnl: dec(net),
    exitReason: 'target',
    exits: 1,
    returnPct: Number(net),
    ...(plan ? { plan } : {}),
  });
  const plan = (r: number, high: number, low: number): ClosedTrade['plan'] => ({
    stop: dec(98),
    finalStop: dec(98),
    targets: [dec(104)],
    initialRisk: dec(2),
    rMultiple: r,
    highPrice: high,
    lowPrice: low,
    entryFees: dec('0.04'),
    exitFees: dec('0.06'),
    entryReference: 100,
    entrySlippage: dec('0.01'),
    exitSlippage: dec('0.02'),
  });
  it('durations, best and worst, R and excursions in R, costs by kind', () => {
    const trades = [trade('a', '2', 30, plan(1, 103, 99)), trade('b', '-1', 90, plan(-0.5, 100.5, 98)), trade('c', '0.5', 60)];
    const x = extendedSummary({ equity: [pt(T, 100), pt(T + D, 101.5)], trades, initial: 100, final: 101.5, start: T, end: T + D });
    expect(x.tradeDuration).toEqual({ meanMin: 60, medianMin: 60, maxMin: 90, minMin: 30 });
    expect([x.bestTrade?.id, x.worstTrade?.id, x.bestTrade?.rMultiple]).toEqual(['a', 'b', 1]);
    // R over the two trades with a plan: (1 - 0.5) / 2 = 0.25; excursions per unit of 2: mfe (3 + 0.5) / 2 / 2, mae (1 + 2) / 2 / 2.
    expect(x.r).toEqual({ trades: 2, mean: 0.25, total: 0.5, meanMfe: 0.875, meanMae: 0.75 });
    expect(x.costsPaid).toEqual({ fees: 0.3, entryFees: 0.08, exitFees: 0.12, entrySlippage: 0.02, exitSlippage: 0.04 });
    expect(x.cagrPct).toBeCloseTo((1.015 ** 365 - 1) * 100, 2);
  });
});
