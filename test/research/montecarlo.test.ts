/**
 * Monte Carlo: path statistics and the risk engine's limits on hand-worked paths, reshuffling
 * (the return cannot change, the path can), the block bootstrap, and resampled candle blocks
 * (continuous, on the tick grid, one time grid for every symbol), end to end on a real slice.
 */
import { describe, expect, it } from 'vitest';
import { pathStats, riskLimitsOf, summarise, type RiskLimits } from '../../services/research/montecarlo/paths.js';
import { reshuffleScenario, type TradeResult } from '../../services/research/montecarlo/reshuffle.js';
import { bootstrapScenario, defaultBlockDays } from '../../services/research/montecarlo/bootstrap.js';
import { resampleBlocks } from '../../services/research/montecarlo/candleBlocks.js';
import { monteCarlo, runReplays } from '../../services/research/montecarlo/monteCarlo.js';
import { parseConfig } from '../../services/config/schema.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { runBacktestSync } from '../../services/backtest/engine.js';
import { SrStrategy } from '../../services/strategy/srStrategy.js';
import { symbolId, type Candle } from '../../services/core/types.js';
import { DAY_MS } from '../../services/core/timeframes.js';

const MON = Date.UTC(2024, 0, 1); // a Monday
const H = 3_600_000;
const LIMITS: RiskLimits = { dailyLossPct: 2, weeklyLossPct: 5, haltDailyDrawdownPct: 10, haltConsecutiveStops: 3 };

describe('path statistics', () => {
  it('measures drawdown, time under water and streaks on a hand-worked path', () => {
    // 100 at 00:00, 110 at 06:00 (peak), 99 at 12:00 (10% below the peak), 105 at 18:00, 111 at 24:00.
    const s = pathStats([MON, MON + 6 * H, MON + 12 * H, MON + 18 * H, MON + 24 * H], [100, 110, 99, 105, 111], [10, -11, 6, 6], null, LIMITS);
    expect(s.returnPct).toBeCloseTo(11, 12);
    expect(s.maxDrawdownPct).toBeCloseTo(10, 12);
    // Equity holds each sample's value until the next: at the peak from 06:00 until the fall seen at
    // 12:00, below it from 12:00 until the new high at 24:00: 12 of 24 hours.
    expect(s.timeUnderWaterPct).toBeCloseTo(50, 12);
    expect(s.longestUnderWaterDays).toBeCloseTo(0.5, 12);
    expect(s.longestLosingStreak).toBe(1);
    // The day's start is 100: 99 is 1% down, not 2%. No limit reached.
    expect(s.hits).toEqual({ daily: false, weekly: false, halt: false });
  });

  it('reaches the daily limit from the day start, the weekly one from the week start, and the halts', () => {
    // Day 1 ends at 100; day 2 falls to 97.9 (2.1% below its start): daily limit.
    expect(pathStats([MON, MON + DAY_MS + H, MON + DAY_MS + 2 * H], [100, 100, 97.9], [0, -2.1], null, LIMITS).hits.daily).toBe(true);
    // 1.5% a day for four days: never 2% in a day, but 5.9% below the week's start.
    const days = [0, 1, 2, 3, 4].map((k) => MON + k * DAY_MS + H);
    const eq = [100, 98.5, 97.02, 95.57, 94.13];
    const w = pathStats(days, eq, [-1.5, -1.5, -1.5, -1.5], null, LIMITS);
    expect(w.hits).toEqual({ daily: false, weekly: true, halt: false });
    // Three losing stop-loss exits in a row: the consecutive-stops halt.
    expect(pathStats([MON, MON + H], [100, 99], [-1, -1, -1], [true, true, true], LIMITS).hits.halt).toBe(true);
    expect(pathStats([MON, MON + H], [100, 99], [-1, -1, 1, -1], [true, true, true, true], LIMITS).hits.halt).toBe(false);
    // The config's own numbers.
    expect(riskLimitsOf(parseConfig({ risk: { profile: 'moderate' } }))).toEqual({ dailyLossPct: 3, weeklyLossPct: 7, haltDailyDrawdownPct: 10, haltConsecutiveStops: 3 });
  });

  it('takes percentiles and limit shares over scenarios', () => {
    const mk = (r: number, daily: boolean) => ({ returnPct: r, maxDrawdownPct: 0, timeUnderWaterPct: 0, longestUnderWaterDays: 0, longestLosingStreak: 0, hits: { daily, weekly: false, halt: false } });
    const s = summarise(Array.from({ length: 21 }, (_, k) => mk(k, k < 3)));
    expect([s.returnPct.p5, s.returnPct.p50, s.returnPct.p95]).toEqual([1, 10, 19]);
    expect(s.riskOfRuin.daily).toBeCloseTo(3 / 21, 4);
    expect(s.riskOfRuin.any).toBeCloseTo(3 / 21, 4);
  });
});

describe('reshuffle and bootstrap', () => {
  const trades: TradeResult[] = [0.01, -0.02, 0.015, -0.005, -0.01, 0.02].map((r, k) => ({ exitTime: MON + (k + 1) * H, equityReturn: r, stop: r < 0 }));

  it('keeps the return and moves the path', () => {
    const product = trades.reduce((e, t) => e * (1 + t.equityReturn), 1);
    const dd = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = reshuffleScenario(trades, MON, 1000, LIMITS, 7, i);
      expect(s.returnPct).toBeCloseTo((product - 1) * 100, 9);
      dd.add(Math.round(s.maxDrawdownPct * 1e6));
    }
    expect(dd.size).toBeGreaterThan(3);
    expect(reshuffleScenario(trades, MON, 1000, LIMITS, 7, 3)).toEqual(reshuffleScenario(trades, MON, 1000, LIMITS, 7, 3));
  });

  it('resamples whole blocks of days', () => {
    expect(defaultBlockDays(35)).toBe(3);
    // With blocks as long as the series and one distinct large day, every path holds it exactly once.
    const daily = [0, 0, 0.1, 0, 0];
    for (let i = 0; i < 20; i++) expect(bootstrapScenario(daily, 5, MON, 100, LIMITS, 1, i).returnPct).toBeCloseTo(10, 9);
    // One-day blocks: some paths draw the large day twice or never.
    const r = new Set(Array.from({ length: 40 }, (_, i) => Math.round(bootstrapScenario(daily, 1, MON, 100, LIMITS, 1, i).returnPct)));
    expect(r.has(0)).toBe(true);
    expect([...r].some((x) => x >= 20)).toBe(true);
  });
});

describe('resampled candle blocks', () => {
  const { series } = loadSeries(['test/fixtures/candles/BTCUSDT']);

  it('builds a continuous market on the tick grid with the real volumes', () => {
    const src = series[0]!.candles;
    const out = resampleBlocks(series, 6 * 60, 11, 0)[0]!.candles;
    expect(out.length).toBeGreaterThan(src.length * 0.8);
    for (let k = 1; k < out.length; k++) {
      const a = out[k - 1] as Candle;
      const b = out[k] as Candle;
      expect(b.openTime).toBeGreaterThan(a.openTime);
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
      expect(Math.round(b.close * 100)).toBeCloseTo(b.close * 100, 6);
      // At a block boundary the new block opens where the last one closed (scaled), within a tick of the real gap.
      if ((b.openTime - out[0]!.openTime) % (6 * 3_600_000) === 0) expect(Math.abs(b.open - a.close) / a.close).toBeLessThan(0.01);
    }
    const volumes = new Set(src.map((c) => c.volume));
    expect(out.every((c) => volumes.has(c.volume))).toBe(true);
  });

  it('draws the same blocks for every symbol', () => {
    const btc = series[0]!;
    const twin = { symbol: symbolId('ETHUSDT'), candles: btc.candles.map((c) => ({ ...c, open: c.open / 20, high: c.high / 20, low: c.low / 20, close: c.close / 20 })) };
    const [a, b] = resampleBlocks([btc, twin], 120, 5, 3);
    expect(b!.candles.map((c) => c.volume)).toEqual(a!.candles.map((c) => c.volume));
  });

  it('runs end to end: reshuffles, bootstrap and kernel replays of a real backtest', () => {
    const config = parseConfig({});
    const r = runBacktestSync({ series, config });
    const replay = runReplays(series, config, (c) => new SrStrategy(c), { count: 3, budgetMs: 1e9, blockHours: 6, seed: 1, now: () => 0 });
    const mc = monteCarlo({ trades: r.trades, equity: r.equity, initialBalance: 10_000, start: r.start, config, seed: 1, scenarios: 500 }, replay);
    expect(mc.reshuffle.scenarios).toBe(r.trades.length > 0 ? 500 : 0);
    expect(mc.bootstrap.scenarios).toBe(500);
    expect(replay.scenarios).toBe(3);
    expect(replay.budgetReached).toBe(false);
    // Reshuffling never changes the return: every percentile is the run's own.
    if (r.trades.length > 0) expect(mc.reshuffle.returnPct.p5).toBeCloseTo(mc.observed.returnPct, 2);
    expect(mc.bootstrap.returnPct.p5).toBeLessThanOrEqual(mc.bootstrap.returnPct.p95);
  });
});
