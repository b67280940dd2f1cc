/**
 * The report's figures and short forms on constructed records, worked out by hand: uptime from
 * heartbeat spans of two runtimes with a gap, the risk limits used, the per-week table of a month,
 * UTC period boundaries, and the Telegram caption's 1,024-character bound with many symbols.
 */
import { describe, expect, it } from 'vitest';
import { dec } from '../../services/core/money.js';
import type { ReportDataset } from '../../services/reporting/dataset.js';
import { computeFigures, uptimeFigures } from '../../services/reporting/figures.js';
import { periodContaining, reportWindow } from '../../services/reporting/period.js';
import { TELEGRAM_CAPTION_MAX, telegramCaption } from '../../services/reporting/text.js';
import { DAY, LIVE, MIN, dayTrades, trade } from '../review/helpers.js';

const H = 3_600_000;

describe('periods (UTC)', () => {
  it('the last complete day, ISO week and month before a time; a date inside a period picks it', () => {
    const now = Date.UTC(2026, 11, 7, 8, 0); // Monday 2026-12-07 08:00
    expect(reportWindow('daily', undefined, now)).toMatchObject({ key: '2026-12-06', start: Date.UTC(2026, 11, 6), end: Date.UTC(2026, 11, 7) });
    expect(reportWindow('weekly', undefined, now)).toMatchObject({ key: '2026-11-30', label: 'ISO week 2026-W49 (Mon 2026-11-30 to Sun 2026-12-06, UTC)' });
    expect(reportWindow('monthly', undefined, now)).toMatchObject({ key: '2026-11-01', end: Date.UTC(2026, 11, 1) });
    expect(reportWindow('weekly', '2027-01-01', now).label).toBe('ISO week 2026-W53 (Mon 2026-12-28 to Sun 2027-01-03, UTC)');
    expect(() => reportWindow('daily', '2026-02-30', now)).toThrow(/yyyy-mm-dd/);
  });
});

describe('uptime', () => {
  it('joins spans of two runtimes closer than the gap bound, and lists the holes longer than it', () => {
    const spans = (owner: string, s: { from: number; to: number }[]) => ({ day: '2025-03-04', owner, mode: 'paper', maxGapMs: 45_000, spans: s, beats: 1 });
    // A: 23:50 the day before to 06:00; B (a restart): 06:00:30 to 12:00; then nothing until 18:00 to 24:00.
    const u = uptimeFigures(
      [spans('a', [{ from: DAY - 10 * MIN, to: DAY + 6 * H }]), spans('b', [{ from: DAY + 6 * H + 30_000, to: DAY + 12 * H }, { from: DAY + 18 * H, to: DAY + 24 * H }])],
      DAY,
      DAY + 24 * H,
      DAY + 30 * H,
    );
    // The 30 s hole between A and B is within the bound: joined, 00:00-12:00 and 18:00-24:00 are covered, 18 of 24 h.
    expect(u.coveredMs).toBe(18 * H);
    expect(u.pct).toBe(75);
    expect(u.gaps).toEqual([{ from: DAY + 12 * H, to: DAY + 18 * H, minutes: 360 }]);
    expect(u.runtimes).toEqual(['a', 'b']);
    // A period still running counts up to now only.
    expect(uptimeFigures([spans('a', [{ from: DAY, to: DAY + 2 * H }])], DAY, DAY + 24 * H, DAY + 4 * H)).toMatchObject({ spanMs: 4 * H, pct: 50, gapCount: 1 });
  });
});

describe('figures', () => {
  const days = [{ day: '2025-03-04', startEquity: dec('1000'), endEquity: dec('998.5985'), realizedPnl: dec('-1.4015'), fees: dec('0.4015'), trades: 3, wins: 1, losses: 2, updatedAt: DAY }];
  it('a month: per-week rows (ISO weeks touching it), risk limits used from the worst day, peak open positions', () => {
    const w = periodContaining('monthly', DAY);
    // Two overlapping positions on 2025-03-20 besides the three of the 4th.
    const extra = [
      trade('X1', { entry: Date.UTC(2025, 2, 20, 10), exit: Date.UTC(2025, 2, 20, 12), qty: '10', entryPrice: '1', exitPrice: '1.1', fees: '0', reason: 'target' }),
      trade('X2', { entry: Date.UTC(2025, 2, 20, 11), exit: Date.UTC(2025, 2, 20, 13), qty: '10', entryPrice: '1', exitPrice: '1.1', fees: '0', reason: 'target' }),
    ];
    const ds: ReportDataset = { window: w, trades: [...dayTrades(), ...extra], positions: new Map(), days, fills: [], ops: [], uptime: [], truncated: false };
    const f = computeFigures(ds, LIVE, w.end);
    expect(f.perWeek.map((x) => [x.week, x.trades])).toEqual([
      ['2025-02-24', 0],
      ['2025-03-03', 3],
      ['2025-03-10', 0],
      ['2025-03-17', 2],
      ['2025-03-24', 0],
      ['2025-03-31', 0],
    ]);
    expect(f.perDay).toHaveLength(31);
    // Worst day: -1.4015 of 1000 = 0.14015% -> 0.1402 (half to even); of the 2% limit: 7.01%.
    expect(f.riskLimits).toMatchObject({ worstDay: '2025-03-04', worstDayLossPct: 0.1402, dailyLimitUsedPct: 7.01, maxPositions: 3, peakOpenPositions: 2 });
    // Net -1.4015 + 1 + 1 = 0.5985; the drawdown from 1000: trade a (-1.0995), b (+1.899), c (-2.201): peak 1000.7995 down to 998.5985 = 2.201.
    expect(f.netPnl).toBe('0.5985');
    expect(f.maxDrawdown).toBe('2.201');
  });

  it('a day of three hand-worked trades: profit factor, expectancy, win rate, best and worst trade, average hold', () => {
    const w = periodContaining('daily', DAY);
    const ds: ReportDataset = { window: w, trades: dayTrades(), positions: new Map(), days: [], fills: [], ops: [], uptime: [], truncated: false };
    const f = computeFigures(ds, LIVE, w.end);
    // Nets: a (0.0990 - 0.1000) x 1000 - 0.0995 = -1.0995 (30 min); b 2 - 0.101 = 1.899 (100 min);
    // c (0.1000 - 0.1010) x 2000 - 0.201 = -2.201 (60 min).
    expect(f).toMatchObject({ trades: 3, wins: 1, losses: 2, netPnl: '-1.4015', fees: '0.4015' });
    // Gross profit over gross loss: 1.899 / (1.0995 + 2.201) = 1.899 / 3.3005 = 0.57536... -> 0.5754.
    expect(f.profitFactor).toBe(0.5754);
    // Net per trade: -1.4015 / 3 = -0.4671666...
    expect(Number(f.expectancy)).toBeCloseTo(-1.4015 / 3, 12);
    // (30 + 100 + 60) / 3 = 63.3333 minutes.
    expect(f.avgHoldMinutes).toBe(63.3333);
    expect(f.winRatePct).toBe(33.3333);
    expect(f.best).toMatchObject({ id: 'DOGEUSDTLb', netPnl: '1.899', exitReason: 'target' });
    expect(f.worst).toMatchObject({ id: 'DOGEUSDTLc', netPnl: '-2.201', exitReason: 'stop' });
  });

  it('the caption stays within 1,024 characters whatever the period holds, and is HTML-escaped', () => {
    const w = periodContaining('daily', DAY);
    const many = Array.from({ length: 400 }, (_, i) => trade(`T${i}`, { symbol: `S${i}<&>USDT`, entry: DAY + i * MIN, exit: DAY + i * MIN + 30_000, qty: '1', entryPrice: '1', exitPrice: '1.01', fees: '0', reason: 'target' }));
    const f = computeFigures({ window: w, trades: many, positions: new Map(), days, fills: [], ops: [], uptime: [], truncated: false }, LIVE, w.end);
    const c = telegramCaption(f, Array.from({ length: 60 }, (_, i) => `extra line ${i} with <tags> & more`));
    expect(c.length).toBeLessThanOrEqual(TELEGRAM_CAPTION_MAX);
    expect(c).toContain('&lt;tags&gt; &amp; more');
    expect(c.endsWith('…')).toBe(true);
    expect(c.startsWith('<b>daily report 2025-03-04 (UTC day)</b>')).toBe(true);
  });
});
