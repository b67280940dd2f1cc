import { describe, it, expect } from 'vitest';
import { dec } from '../../services/core/money.js';
import { DataValidationError } from '../../services/core/errors.js';
import {
  computeSummary,
  dailyCloses,
  dailyReturns,
  drawdownSeries,
  exposurePct,
  maxDrawdownPct,
  sharpeRatio,
  sortinoRatio,
  tradeStats,
  type ClosedTrade,
  type EquityPoint,
  type SummaryInput,
} from '../../services/analytics/index.js';

const H = 3_600_000;
const DAY0 = Date.UTC(2024, 0, 1); // 2024-01-01T00:00:00Z

function trade(p: {
  id: string;
  symbol: string;
  entryH: number;
  exitH: number;
  gross: string;
  fees: string;
  returnPct: number;
  exitReason: string;
}): ClosedTrade {
  const gross = dec(p.gross);
  const fees = dec(p.fees);
  return {
    id: p.id,
    symbol: p.symbol,
    direction: 'long',
    entryTime: DAY0 + p.entryH * H,
    exitTime: DAY0 + p.exitH * H,
    entryPrice: dec('100'),
    exitPrice: dec('101'),
    quantity: dec('1'),
    fees,
    grossPnl: gross,
    netPnl: gross.sub(fees),
    exitReason: p.exitReason,
    exits: 1,
    returnPct: p.returnPct,
  };
}

// The hand-made set (times are hours after 2024-01-01 00:00 UTC):
//   T1 BTC  01:00-03:00  gross +32 fees 2 -> net +30  (+3.0 %)  target
//   T2 ETH  02:00-05:00  gross  -8 fees 2 -> net -10  (-1.0 %)  stop
//   T3 BTC  10:00-12:00  gross  -4 fees 1 -> net  -5  (-0.5 %)  stop
//   T4 ETH  20:00-22:00  gross +16 fees 1 -> net +15  (+1.5 %)  time
//   T5 BTC  23:00-25:00  gross  +1 fees 1 -> net   0  ( 0.0 %)  breakeven (neither win nor loss)
// Given out of exit order on purpose (the losing streak must follow exit times).
const TRADES: ClosedTrade[] = [
  trade({ id: 'T4', symbol: 'ETHUSDT', entryH: 20, exitH: 22, gross: '16', fees: '1', returnPct: 1.5, exitReason: 'time' }),
  trade({ id: 'T1', symbol: 'BTCUSDT', entryH: 1, exitH: 3, gross: '32', fees: '2', returnPct: 3, exitReason: 'target' }),
  trade({ id: 'T3', symbol: 'BTCUSDT', entryH: 10, exitH: 12, gross: '-4', fees: '1', returnPct: -0.5, exitReason: 'stop' }),
  trade({ id: 'T2', symbol: 'ETHUSDT', entryH: 2, exitH: 5, gross: '-8', fees: '2', returnPct: -1, exitReason: 'stop' }),
  trade({ id: 'T5', symbol: 'BTCUSDT', entryH: 23, exitH: 25, gross: '1', fees: '1', returnPct: 0, exitReason: 'breakeven' }),
];

const pts = (values: number[], stepMs = H): EquityPoint[] => values.map((equity, i) => ({ time: DAY0 + i * stepMs, equity }));

describe('maxDrawdownPct', () => {
  it('takes the largest peak-to-trough fall', () => {
    // 100, 120, 90, 130, 104: peak 120 -> 90 is 30/120 = 25 %; peak 130 -> 104 is 26/130 = 20 %. Max 25.
    expect(maxDrawdownPct(pts([100, 120, 90, 130, 104]))).toBeCloseTo(25, 12);
  });
  it('is 0 for a rising or empty series', () => {
    expect(maxDrawdownPct(pts([100, 101, 102]))).toBe(0);
    expect(maxDrawdownPct([])).toBe(0);
  });
  it('drawdownSeries gives the negative percent below the running peak', () => {
    // peaks: 100, 120, 120, 130, 130 -> 0, 0, (90-120)/120 = -25, 0, (104-130)/130 = -20
    const dd = drawdownSeries(pts([100, 120, 90, 130, 104])).map((p) => p.drawdownPct);
    expect(dd[0]).toBe(0);
    expect(dd[1]).toBe(0);
    expect(dd[2]).toBeCloseTo(-25, 12);
    expect(dd[3]).toBe(0);
    expect(dd[4]).toBeCloseTo(-20, 12);
  });
});

describe('daily resampling and ratios', () => {
  // Samples (UTC):            equity
  //   Jan 1 00:00              100    (opening)
  //   Jan 1 08:00              104
  //   Jan 2 00:00              110    (exactly at the day end: this is Jan 1's close)
  //   Jan 2 15:00               95
  //   Jan 2 20:00               99    (Jan 2's close)
  //   Jan 3 10:00           103.95    (last sample: the partial Jan 3 closes here)
  const series: EquityPoint[] = [
    { time: DAY0, equity: 100 },
    { time: DAY0 + 8 * H, equity: 104 },
    { time: DAY0 + 24 * H, equity: 110 },
    { time: DAY0 + 39 * H, equity: 95 },
    { time: DAY0 + 44 * H, equity: 99 },
    { time: DAY0 + 58 * H, equity: 103.95 },
  ];

  it('closes each UTC day with the last sample at or before its end', () => {
    expect(dailyCloses(series)).toEqual([100, 110, 99, 103.95]);
  });

  it('carries the previous close over a day without samples', () => {
    // Jan 1 00:00 = 100, Jan 1 12:00 = 110, nothing on Jan 2, Jan 3 06:00 = 99
    // -> opening 100, Jan 1 110, Jan 2 110 (carried), Jan 3 99.
    const gap = [
      { time: DAY0, equity: 100 },
      { time: DAY0 + 12 * H, equity: 110 },
      { time: DAY0 + 54 * H, equity: 99 },
    ];
    expect(dailyCloses(gap)).toEqual([100, 110, 110, 99]);
  });

  it('computes sharpe and sortino from 3 daily returns', () => {
    // Returns: 110/100-1 = 0.10, 99/110-1 = -0.10, 103.95/99-1 = 0.05.
    const r = dailyReturns(series);
    expect(r).toHaveLength(3);
    expect(r[0]).toBeCloseTo(0.1, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(r[2]).toBeCloseTo(0.05, 12);
    // mean = 0.05/3 = 0.0166667
    // deviations 0.0833333, -0.1166667, 0.0333333; squares 0.0069444 + 0.0136111 + 0.0011111 = 0.0216667
    // sample variance = 0.0216667 / 2 = 0.0108333; sd = 0.1040833
    // daily sharpe = 0.0166667 / 0.1040833 = 0.1601282; x sqrt(365) = x 19.1049732 -> 3.0592
    expect(sharpeRatio(r)).toBeCloseTo(3.0592, 4);
    // downside: only -0.10 -> 0.01 / 3 = 0.0033333; dd = sqrt = 0.0577350
    // 0.0166667 / 0.0577350 = 0.2886751; x 19.1049732 -> 5.5151
    expect(sortinoRatio(r)).toBeCloseTo(5.5151, 4);
  });

  it('returns null with fewer than 2 returns, no deviation or no losing day', () => {
    expect(sharpeRatio([0.01])).toBeNull();
    expect(sortinoRatio([])).toBeNull();
    expect(sharpeRatio([0.01, 0.01])).toBeNull(); // sd 0
    expect(sortinoRatio([0.01, 0.02])).toBeNull(); // no downside
  });
});

describe('trade statistics', () => {
  it('counts wins, losses, profit factor and the losing streak by hand', () => {
    const s = tradeStats(TRADES);
    expect(s.trades).toBe(5);
    expect(s.wins).toBe(2); // T1, T4
    expect(s.losses).toBe(2); // T2, T3 (T5 is exactly 0)
    expect(s.winRate).toBe(40); // 2/5
    // profit factor = (30 + 15) / |-10 - 5| = 45 / 15 = 3
    expect(s.profitFactor).toBe(3);
    expect(s.fees.toString()).toBe('7'); // 2+2+1+1+1
    expect(s.grossPnl.toString()).toBe('37'); // 32-8-4+16+1
    expect(s.netPnl.toString()).toBe('30'); // 30-10-5+15+0
    expect(s.avgWinPct).toBe(2.25); // (3 + 1.5)/2
    expect(s.avgLossPct).toBe(-0.75); // (-1 - 0.5)/2
    expect(s.expectancy?.toString()).toBe('6'); // 30 / 5
    // exit order T1(+) T2(-) T3(-) T4(+) T5(0): longest losing run is T2,T3 = 2
    expect(s.maxConsecutiveLosses).toBe(2);
    expect(s.exitReasons).toEqual({ time: 1, target: 1, stop: 2, breakeven: 1 });
  });

  it('has a null profit factor without losses and null ratios without trades', () => {
    expect(tradeStats(TRADES.filter((t) => t.netPnl.isPositive())).profitFactor).toBeNull();
    const empty = tradeStats([]);
    expect(empty.winRate).toBeNull();
    expect(empty.expectancy).toBeNull();
    expect(empty.maxConsecutiveLosses).toBe(0);
  });
});

describe('exposure', () => {
  it('merges overlapping positions and clips to the run', () => {
    // Run 00:00-24:00. Intervals 1-3 and 2-5 overlap -> 1-5 = 4 h; 10-12 = 2 h; 20-22 = 2 h;
    // 23-25 clipped to 23-24 = 1 h. Total 9 h of 24 h = 37.5 %.
    expect(exposurePct(TRADES, DAY0, DAY0 + 24 * H)).toBe(37.5);
  });
  it('is null for an empty span', () => {
    expect(exposurePct(TRADES, DAY0, DAY0)).toBeNull();
  });
});

describe('computeSummary', () => {
  const input: SummaryInput = {
    initialBalance: dec('1000'),
    finalBalance: dec('1030'),
    candles: 4320,
    symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
    startTime: DAY0,
    endTime: DAY0 + 24 * H,
    elapsedMs: 2000,
    buyAndHold: [
      { symbol: 'BTCUSDT', firstOpen: 40000, lastClose: 42000 }, // +5 %
      { symbol: 'ETHUSDT', firstOpen: 2000, lastClose: 1900 }, // -5 %
      { symbol: 'SOLUSDT', firstOpen: 100, lastClose: 112 }, // +12 %
    ],
    trades: TRADES,
    // 1000, 1200, 900, 1300, 1040 every 6 h: max drawdown 300/1200 = 25 %; ends exactly at Jan 2 00:00,
    // so the run has a single daily return and no sharpe/sortino.
    equity: pts([1000, 1200, 900, 1300, 1040], 6 * H),
  };

  it('fills every figure as worked out by hand', () => {
    const s = computeSummary(input);
    expect(s.initialBalance).toBe(1000);
    expect(s.finalBalance).toBe(1030);
    expect(s.netPnl).toBe(30); // 1030 - 1000
    expect(s.netReturnPct).toBe(3); // 30 / 1000
    expect(s.grossPnl).toBe(37);
    expect(s.fees).toBe(7);
    expect(s.trades).toBe(5);
    expect(s.winRate).toBe(40);
    expect(s.profitFactor).toBe(3);
    expect(s.maxDrawdownPct).toBe(25);
    expect(s.sharpe).toBeNull();
    expect(s.sortino).toBeNull();
    expect(s.exposurePct).toBe(37.5);
    expect(s.tradesPerDay).toBe(5); // 5 trades / 1 day
    expect(s.buyAndHoldReturnPct).toBe(4); // (5 - 5 + 12) / 3
    expect(s.candlesPerSecond).toBe(2160); // 4320 / 2 s
    expect(s.expectancy).toBe(6);
    expect(s.avgWinPct).toBe(2.25);
    expect(s.avgLossPct).toBe(-0.75);
    expect(s.maxConsecutiveLosses).toBe(2);
    expect(s.start).toBe('2024-01-01T00:00:00.000Z');
    expect(s.end).toBe('2024-01-02T00:00:00.000Z');
    // BTC: T1 +30, T3 -5, T5 0 -> 25, 1 win of 3 = 33.3333 %; ETH: T2 -10, T4 +15 -> 5, 1 of 2 = 50 %.
    expect(s.perSymbol).toEqual({
      BTCUSDT: { trades: 3, netPnl: 25, winRate: 33.3333, buyAndHoldReturnPct: 5 },
      ETHUSDT: { trades: 2, netPnl: 5, winRate: 50, buyAndHoldReturnPct: -5 },
      SOLUSDT: { trades: 0, netPnl: 0, winRate: null, buyAndHoldReturnPct: 12 },
    });
    // JSON-safe: no NaN or Infinity survive serialisation as null by accident.
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('rounds money to 8 decimals', () => {
    const s = computeSummary({ ...input, finalBalance: dec('1000.123456789') });
    expect(s.netPnl).toBe(0.12345679); // 0.123456789 to 8 decimals: the 9th digit 9 rounds up -> 0.12345679
  });

  it('rejects an unordered equity series with the index', () => {
    const bad = { ...input, equity: [{ time: DAY0 + H, equity: 1 }, { time: DAY0, equity: 1 }] };
    expect(() => computeSummary(bad)).toThrow(DataValidationError);
    expect(() => computeSummary(bad)).toThrow(/equity\[1\]/);
  });
});

describe('exit reason keys', () => {
  it('counts a reason named like an Object.prototype member as an ordinary key', () => {
    const t = { ...TRADES[0]!, exitReason: '__proto__' };
    const s = tradeStats([t, t]);
    expect(Object.keys(s.exitReasons)).toEqual(['__proto__']);
    expect(s.exitReasons['__proto__']).toBe(2);
  });
});
