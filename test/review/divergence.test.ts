/**
 * Live versus replay. First on hand-made trades whose differences are known (one identical, one
 * filled worse live, one only live, one only in the replay, one carried in from the day before,
 * one still open at the end); then on a constructed day: the BTCUSDT fixture archived, its replay's
 * own trades taken as "live" and changed in known ways, so the diff must find exactly those changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { runBacktest } from '../../services/backtest/engine.js';
import { dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { periodContaining } from '../../services/reporting/period.js';
import { diffTrades, replayDivergence } from '../../services/review/divergence.js';
import { DAY, LIVE, MIN, trade } from './helpers.js';

describe('diffTrades (hand-made trades)', () => {
  const w = periodContaining('daily', DAY);
  const base = { qty: '1000', entryPrice: '0.1000', fees: '0.1', reason: 'target' };
  const same = trade('A', { ...base, entry: DAY + 10 * MIN, exit: DAY + 40 * MIN, exitPrice: '0.1020' });
  const replayB = trade('B', { ...base, entry: DAY + 100 * MIN, exit: DAY + 130 * MIN, exitPrice: '0.1020' });
  // Live filled 0.1001 instead of 0.1000 and left at the stop: net (0.0990 - 0.1001) x 1000 - 0.1 = -1.2 against the replay's +1.9.
  const liveB = trade('B', { ...base, entry: DAY + 100 * MIN, exit: DAY + 120 * MIN, entryPrice: '0.1001', exitPrice: '0.0990', reason: 'stop' });
  const liveOnly = trade('C', { ...base, entry: DAY + 300 * MIN, exit: DAY + 320 * MIN, exitPrice: '0.1010' });
  const replayOnly = trade('D', { ...base, entry: DAY + 400 * MIN, exit: DAY + 420 * MIN, exitPrice: '0.0995', reason: 'stop' });
  const carried = trade('E', { ...base, entry: DAY - 30 * MIN, exit: DAY + 5 * MIN, exitPrice: '0.1005' });
  const open = trade('F', { ...base, entry: DAY + 1400 * MIN, exit: DAY + 1440 * MIN, exitPrice: '0.1001', reason: 'end_of_data' });
  const d = diffTrades([same, liveB, liveOnly, carried], [same, replayB, replayOnly, open], w);

  it('counts matched, identical, live-only and replay-only trades, and leaves carried-in and still-open ones apart', () => {
    expect(d).toMatchObject({ status: 'ok', liveTrades: 4, replayTrades: 4, matched: 2, identical: 1, liveOnlyCount: 1, replayOnlyCount: 1 });
    expect(d.liveOnly.map((t) => t.id)).toEqual(['C']);
    expect(d.replayOnly.map((t) => t.id)).toEqual(['D']);
    expect(d.carriedIn.map((t) => t.id)).toEqual(['E']);
    expect(d.stillOpenAtEnd.map((t) => t.id)).toEqual(['F']);
    // 2 matched of 4 compared (A, B, C, D).
    expect(d.matchRatePct).toBe(50);
  });

  it('diffs the differing trade field by field, exactly', () => {
    expect(d.differing).toEqual([
      { id: 'B', symbol: 'DOGEUSDT', entryPriceDiffBps: 10, exitPriceDiffBps: -294.1176, quantityDiff: '0', netPnlDiff: '-3.1', exitTimeDiffMinutes: -10, exitReasonLive: 'stop', exitReasonReplay: 'target' },
    ]);
    // Live: A 1.9 + B -1.2 + C 0.9 = 1.6. Replay: A 1.9 + B 1.9 + D -0.6 = 3.2.
    expect(d.liveNetPnl).toBe('1.6');
    expect(d.replayNetPnl).toBe('3.2');
    expect(d.netPnlDiff).toBe('-1.6');
  });
});

describe('replayDivergence (a constructed day on the archived BTCUSDT fixture)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'divergence-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
  const w = periodContaining('daily', Date.UTC(2021, 3, 20));
  const archive = new CandleArchive(new LocalFolderStore(dir));

  it('the replay of the live config reproduces the known trades; each change made to them is found, nothing else', async () => {
    await archive.write('BTCUSDT', candles, Date.UTC(2030, 0, 1));
    // What the kernel trades on the day (1000 minutes of warm-up, no entries before 00:00 UTC).
    const known = (
      await runBacktest({ series: [{ symbol: symbolId('BTCUSDT'), candles: candles.filter((c) => c.openTime >= w.start - 1000 * MIN && c.openTime < w.end) }], config: LIVE, entryGate: (i) => (i.time < w.start ? 'x' : undefined) })
    ).trades;
    const closed = known.filter((t) => t.exitReason !== 'end_of_data');
    expect(closed.length).toBeGreaterThanOrEqual(6);
    // Live = the known trades, with: the first filled 0.5% worse on exit, the second missing (downtime), one extra live-only trade.
    const [first, second, ...rest] = closed;
    const worse = { ...first!, exitPrice: first!.exitPrice.mul(dec('0.995')), netPnl: first!.netPnl.sub(first!.exitPrice.mul(dec('0.005')).mul(first!.quantity)) };
    const extra = { ...rest[0]!, id: 'BTCUSDTLmanual', entryTime: w.start + 5 * MIN };
    const live = [worse, ...rest, extra];
    const { divergence: d } = await replayDivergence({ archive, config: LIVE, window: w, live, warmupMinutes: 1000 });
    expect(d.status).toBe('ok');
    expect(d.replayTrades).toBe(known.length);
    expect(d.matched).toBe(closed.length - 1);
    expect(d.identical).toBe(closed.length - 2);
    expect(d.differing.map((x) => x.id)).toEqual([first!.id]);
    expect(d.differing[0]!.exitPriceDiffBps).toBe(-50);
    expect(d.replayOnly.map((t) => t.id)).toEqual([second!.id]);
    expect(d.liveOnly.map((t) => t.id)).toEqual(['BTCUSDTLmanual']);
    expect(d.stillOpenAtEnd.map((t) => t.id)).toEqual(known.filter((t) => t.exitReason === 'end_of_data').map((t) => t.id));
    // live - replay = (worse - first) + extra - second.
    const expected = worse.netPnl.sub(first!.netPnl).add(extra.netPnl).sub(second!.netPnl);
    expect(d.netPnlDiff).toBe(expected.toString());
    // The fixture is a slice with gaps: the minutes it lacks on the day are reported as missing.
    const onDay = candles.filter((c) => c.openTime >= w.start && c.openTime < w.end).length;
    expect(d.candles.BTCUSDT).toEqual({ replayed: onDay, missingMinutes: 1440 - onDay });
  });

  it('says so when nothing is archived for the period', async () => {
    const { divergence: d } = await replayDivergence({ archive, config: LIVE, window: periodContaining('daily', Date.UTC(2022, 0, 5)), live: [], symbols: ['BTCUSDT'], warmupMinutes: 100 });
    expect(d.status).toBe('no_candles');
    expect(d.detail).toContain('no archived candles for BTCUSDT');
  });
});
