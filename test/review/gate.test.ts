/**
 * The gate every recommendation goes through before it is reported. On constructed spans (trades
 * with hand-picked PnLs) one candidate must pass and others must fail, each for its stated reason;
 * then the kernel tester on the archived BTCUSDT fixture: spans lie before the reviewed period, the
 * same config cannot beat itself, and a real candidate with too few trades is not supported; and
 * the whole tester (kernel backtests, the research folds and Monte Carlo, the rule) on a synthetic
 * range market where a change genuinely helps (supported) and one where it genuinely hurts (not).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { Dec } from '../../services/core/money.js';
import { DAY_MS } from '../../services/core/timeframes.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { tradeResults } from '../../services/research/montecarlo/monteCarlo.js';
import { parseReviewConfig } from '../../services/review/config.js';
import { applyChanges } from '../../services/review/configKeys.js';
import type { SpanComparison } from '../../services/review/spanCompare.js';
import { bootstrapProbability, judge, KernelRollingOosTester, shuffledDrawdownP95 } from '../../services/review/tester.js';
import { DAY, LIVE, MIN, trade } from './helpers.js';
import { cfg, rangeBar, SYM, T0 } from '../helpers/rangeMarket.js';
import type { Candle } from '../../services/core/types.js';

const settings = parseReviewConfig({}).tester;

/** A side of a span from its trades' net PnLs (each a 1000-unit trade whose exit price gives that PnL, no fees). */
function sideOf(pnls: number[]): SpanComparison['live'] {
  const trades = pnls.map((p, i) => trade(`T${i}${p}`, { entry: DAY + i * MIN, exit: DAY + (i + 1) * MIN, qty: '1000', entryPrice: '1', exitPrice: String(1 + p / 1000), fees: '0', reason: p > 0 ? 'target' : 'stop' }));
  return { trades, netPnl: Dec.sum(trades.map((t) => t.netPnl)), maxDrawdownPct: 0 };
}
function span(k: number, live: number[], candidate: number[]): SpanComparison {
  return { from: DAY + k * 86_400_000, to: DAY + (k + 1) * 86_400_000, hasData: true, live: sideOf(live), candidate: sideOf(candidate) };
}

describe('the gate (judge) on constructed spans', () => {
  it('passes a candidate that beats live in every span, with enough trades, no worse drawdown', () => {
    const spans = [span(0, [-5, 2, -4], [3, 2, -1]), span(1, [-6, 3, 1], [2, 3, 1]), span(2, [-2, -3, 4], [1, -1, 4]), span(3, [1, -7, 2], [1, 2, 2])];
    const r = judge(spans, settings, 10_000, 1, 'test');
    expect(r.verdict).toBe('supported');
    expect(r.reasons).toEqual(['all five conditions held']);
    expect(r.figures).toMatchObject({ spans: 4, spansWithData: 4, candidateWins: 4, liveTrades: 12, candidateTrades: 12, liveNetPnl: '-14', candidateNetPnl: '19' });
    expect(r.figures.bootstrapProbability as number).toBeGreaterThanOrEqual(0.9);
  });

  it('fails a candidate that wins in total on one lucky span but loses the others: condition (3), and the bootstrap too', () => {
    const spans = [span(0, [1, 1, 1], [30, 1, 1]), span(1, [2, 1, 1], [-1, 1, 1]), span(2, [2, 2, 1], [1, 1, 1]), span(3, [1, 2, 2], [0, 1, 1])];
    const r = judge(spans, settings, 10_000, 1, 'test');
    expect(r.verdict).toBe('not_supported');
    expect(r.reasons.some((x) => x.startsWith('(3) it beat live in 1 of 4 spans (need 3)'))).toBe(true);
    expect(r.reasons.some((x) => x.startsWith('(2)'))).toBe(false);
  });

  it('fails for too few trades, and for too few spans with data', () => {
    const few = judge([span(0, [-1], [1]), span(1, [-1], [1])], settings, 10_000, 1, 'test');
    expect(few.reasons).toContain('(1) the candidate made 2 trades (need 10)');
    const one = judge([span(0, Array<number>(10).fill(-1), Array<number>(10).fill(1)), { ...span(1, [], []), hasData: false }], settings, 10_000, 1, 'test');
    expect(one.reasons).toContain('(1) only 1 span(s) with archived candles (need 2)');
  });

  it('bootstrap and Monte Carlo drawdown: certain wins are certain; a path that must fall 30 of 1000 shows at least that', () => {
    const results = (pnls: number[]) => tradeResults(sideOf(pnls).trades, 1000);
    expect(bootstrapProbability(results([1, 1, 1]), results([-1, -1]), 500, 1000, 3)).toBe(1);
    expect(bootstrapProbability([], results([1]), 500, 1000, 3)).toBe(0);
    // All losses: whatever the order the equity falls 30 from 1000 = 3%.
    expect(shuffledDrawdownP95(results([-10, -10, -10]), 1000, 200, 3)).toBeCloseTo(3, 10);
  });
});

describe('KernelRollingOosTester on the archived fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new CandleArchive(new LocalFolderStore(dir));
  const s = parseReviewConfig({ tester: { spans: 2, spanDays: { daily: 1 }, samples: 300 } }).tester;
  const tester = new KernelRollingOosTester({ archive, symbols: ['BTCUSDT'], settings: s });
  const shownFrom = Date.UTC(2021, 3, 20);

  it('tests only on spans before the reviewed period; the live config cannot beat itself; a candidate with few trades is not supported', async () => {
    const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
    await archive.write('BTCUSDT', candles, Date.UTC(2030, 0, 1));
    expect(tester.spansFor({ period: 'daily', shownFrom })).toEqual([
      { from: Date.UTC(2021, 3, 18), to: Date.UTC(2021, 3, 19) },
      { from: Date.UTC(2021, 3, 19), to: Date.UTC(2021, 3, 20) },
    ]);
    const itself = await tester.test({ period: 'daily', live: LIVE, candidate: applyChanges(LIVE, []), changes: [], shownFrom });
    expect(itself.verdict).toBe('not_supported');
    expect(itself.figures.liveNetPnl).toBe(itself.figures.candidateNetPnl);
    expect(itself.reasons.some((r) => r.startsWith('(2)'))).toBe(true);
    // Over 2021-04-19 the live config makes 10 trades; with volumeMultiplier 2 only 5 (fewer losses, too few to count).
    const fewer = await tester.test({ period: 'daily', live: LIVE, candidate: applyChanges(LIVE, [{ key: 'entry.volumeMultiplier', value: 2 }]), changes: [{ key: 'entry.volumeMultiplier', from: 1.5, to: 2 }], shownFrom });
    expect(fewer.verdict).toBe('not_supported');
    expect(fewer.figures).toMatchObject({ spansWithData: 2, liveTrades: 10, candidateTrades: 5 });
    expect(fewer.reasons).toContain('(1) the candidate made 5 trades (need 10)');
    expect(Number(fewer.figures.candidateNetPnl)).toBeGreaterThan(Number(fewer.figures.liveNetPnl));
  });
});

describe('KernelRollingOosTester end to end on a synthetic range market', () => {
  // The range of test/helpers/rangeMarket.ts (support 100, resistance 103, a 40-minute cycle, volume
  // 100), with each cycle's support wick closing at 100.1 (inside the 0.2% proximity) on volume 140:
  // 1.4x the average. The live config (volumeMultiplier 1.5) never enters; 1.3 enters every bounce,
  // and every bounce in this range pays (18 winning trades a day).
  const gen = (k: number): Candle => {
    const c = rangeBar(k);
    if (k % 40 === 2) return { ...c, close: 100.1, volume: 140 };
    if (k % 40 === 3) return { ...c, open: 100.1, low: Math.min(c.low, 100.09) };
    return c;
  };
  const dir = mkdtempSync(join(tmpdir(), 'gate-synth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const archive = new CandleArchive(new LocalFolderStore(dir));
  const s = parseReviewConfig({ tester: { spans: 3, spanDays: { daily: 1 }, samples: 500 } }).tester;
  const tester = new KernelRollingOosTester({ archive, symbols: [SYM], settings: s });
  const shownFrom = T0 + 4 * DAY_MS;
  const live = cfg();

  it('supports a change that wins every bounce the live config skips; refuses one that skips bounces live wins', async () => {
    await archive.write(SYM, Array.from({ length: 4 * 1440 }, (_, k) => gen(k)), Date.UTC(2030, 0, 1));
    const better = await tester.test({ period: 'daily', live, candidate: applyChanges(live, [{ key: 'entry.volumeMultiplier', value: 1.3 }]), changes: [{ key: 'entry.volumeMultiplier', from: 1.5, to: 1.3 }], shownFrom });
    expect(better.reasons).toEqual(['all five conditions held']);
    expect(better.verdict).toBe('supported');
    expect(better.figures).toMatchObject({ spans: 3, spansWithData: 3, candidateWins: 3, liveTrades: 0, candidateTrades: 54, liveNetPnl: '0', bootstrapProbability: 1, candidateDrawdownP95Pct: 0 });
    expect(Number(better.figures.candidateNetPnl)).toBeGreaterThan(0);

    // With 1.3 live, a 120-minute cooldown after each trade: still profitable, but a third of the bounces.
    const live13 = applyChanges(live, [{ key: 'entry.volumeMultiplier', value: 1.3 }]);
    const worse = await tester.test({ period: 'daily', live: live13, candidate: applyChanges(live13, [{ key: 'risk.symbolCooldownMinutes', value: 120 }]), changes: [{ key: 'risk.symbolCooldownMinutes', from: 15, to: 120 }], shownFrom });
    expect(worse.verdict).toBe('not_supported');
    expect(worse.figures).toMatchObject({ spansWithData: 3, candidateWins: 0, liveTrades: 54 });
    expect(Number(worse.figures.candidateNetPnl)).toBeGreaterThan(0);
    expect(Number(worse.figures.candidateNetPnl)).toBeLessThan(Number(worse.figures.liveNetPnl));
    expect(worse.reasons.some((r) => r.startsWith('(2) candidate net'))).toBe(true);
    expect(worse.reasons).toContain('(3) it beat live in 0 of 3 spans (need 2)');
    expect(worse.reasons.some((r) => r.startsWith('(4) bootstrap P(candidate > live) = 0 <'))).toBe(true);
  });
});
