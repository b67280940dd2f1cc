/**
 * The gate every recommendation goes through before it is reported. On constructed spans (trades
 * with hand-picked PnLs) one candidate must pass and others must fail, each for its stated reason;
 * then the kernel tester on the archived BTCUSDT fixture: spans lie before the reviewed period, the
 * same config cannot beat itself, and a real candidate with too few trades is not supported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { Dec } from '../../services/core/money.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { seededRandom } from '../../services/ml/random.js';
import { parseReviewConfig } from '../../services/review/config.js';
import { applyChanges } from '../../services/review/configKeys.js';
import type { SpanComparison } from '../../services/review/spanCompare.js';
import { bootstrapProbability, judge, KernelRollingOosTester, shuffledDrawdownP95 } from '../../services/review/tester.js';
import { DAY, LIVE, MIN, trade } from './helpers.js';

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
    const r = judge(spans, settings, 10_000, seededRandom(1), 'test');
    expect(r.verdict).toBe('supported');
    expect(r.reasons).toEqual(['all five conditions held']);
    expect(r.figures).toMatchObject({ spans: 4, spansWithData: 4, candidateWins: 4, liveTrades: 12, candidateTrades: 12, liveNetPnl: '-14', candidateNetPnl: '19' });
    expect(r.figures.bootstrapProbability as number).toBeGreaterThanOrEqual(0.9);
  });

  it('fails a candidate that wins in total on one lucky span but loses the others: condition (3), and the bootstrap too', () => {
    const spans = [span(0, [1, 1, 1], [30, 1, 1]), span(1, [2, 1, 1], [-1, 1, 1]), span(2, [2, 2, 1], [1, 1, 1]), span(3, [1, 2, 2], [0, 1, 1])];
    const r = judge(spans, settings, 10_000, seededRandom(1), 'test');
    expect(r.verdict).toBe('not_supported');
    expect(r.reasons.some((x) => x.startsWith('(3) it beat live in 1 of 4 spans (need 3)'))).toBe(true);
    expect(r.reasons.some((x) => x.startsWith('(2)'))).toBe(false);
  });

  it('fails for too few trades, and for too few spans with data', () => {
    const few = judge([span(0, [-1], [1]), span(1, [-1], [1])], settings, 10_000, seededRandom(1), 'test');
    expect(few.reasons).toContain('(1) the candidate made 2 trades (need 10)');
    const one = judge([span(0, Array<number>(10).fill(-1), Array<number>(10).fill(1)), { ...span(1, [], []), hasData: false }], settings, 10_000, seededRandom(1), 'test');
    expect(one.reasons).toContain('(1) only 1 span(s) with archived candles (need 2)');
  });

  it('bootstrap and Monte Carlo drawdown: certain wins are certain; a path that must fall 30 of 1000 shows at least that', () => {
    expect(bootstrapProbability([1, 1, 1], [-1, -1], 500, seededRandom(3))).toBe(1);
    expect(bootstrapProbability([], [1], 500, seededRandom(3))).toBe(0);
    // All losses: whatever the order the equity falls 30 from 1000 = 3%.
    expect(shuffledDrawdownP95([-10, -10, -10], 1000, 200, seededRandom(3))).toBeCloseTo(3, 10);
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
