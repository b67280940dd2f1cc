/**
 * The look-ahead check: a deliberately peeking strategy fails (with the first changed decision
 * named), the shipped strategies and the plug-in example pass, and the comparison itself reports
 * the earliest difference. The data is the 3,000-candle BTCUSDT fixture.
 */
import { describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { checkLookahead, cutTimesFor, describeFailure, firstDifference, LookaheadError, type Decision } from '../../services/backtest/lookahead.js';
import { parseConfig } from '../../services/config/schema.js';
import { symbolId } from '../../services/core/types.js';
import { lookaheadCommand } from '../../cli/lookahead.js';
import { loadStrategy } from '../../cli/strategy.js';
import { forget } from '../fixtures/strategies/peeking.js';

const FILE = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
const BTC = symbolId('BTCUSDT');
const candles = loadCandleFile(FILE, { repair: true }).candles;
const series = [{ symbol: BTC, candles }];
const quiet = { log: () => undefined, err: () => undefined };

describe('firstDifference and the cut points', () => {
  const d = (time: number, intents = 'a'): Decision => ({ symbol: BTC, time, intents });
  it('the earliest decision that differs, appears or disappears, before the cut only', () => {
    expect(firstDifference([d(1), d(2)], [d(1), d(2)])).toBeNull();
    expect(firstDifference([d(1), d(2, 'x')], [d(1), d(2, 'y')])).toMatchObject({ time: 2, expected: 'x', actual: 'y' });
    expect(firstDifference([d(1), d(3)], [d(1), d(2), d(3)])).toMatchObject({ time: 2, expected: null, actual: 'a' });
    expect(firstDifference([d(1), d(2)], [d(1)])).toMatchObject({ time: 2, expected: 'a', actual: null });
    expect(firstDifference([d(1), d(2)], [d(1)], 2)).toBeNull();
  });
  it('evenly spaced on minutes inside the span', () => {
    expect(cutTimesFor(0, 10 * 60_000, 4)).toEqual([120_000, 240_000, 360_000, 480_000]);
  });
});

describe('checkLookahead', () => {
  it('a peeking strategy fails, with the first changed decision named', async () => {
    const s = await loadStrategy('test/fixtures/strategies/peeking.ts');
    forget();
    const r = checkLookahead({ series, config: parseConfig({}), factory: s.factory, cuts: 2 });
    expect(r.ok).toBe(false);
    // The first run could not peek (nothing remembered yet); the second one does.
    expect(r.repeat).toMatchObject({ expected: null });
    expect(r.repeat?.actual).toContain('the next close is higher');
    expect(describeFailure(r)).toMatch(/decides differently on the same data run twice[\s\S]*reference run: \(no decision\)/);
  });

  it('a strategy whose leak only shows in the truncated copies fails at a cut', () => {
    // Remembers the run's last candle time; in any later run, a candle before it is "known to come".
    let lastOfFirstRun = -1;
    let runs = 0;
    const factory = () => {
      const run = ++runs;
      return {
        name: 'leaky',
        onCandle: (symbol: typeof BTC, c: { openTime: number; close: number }) => {
          if (run === 1) lastOfFirstRun = c.openTime;
          if (run === 2 || c.openTime !== lastOfFirstRun - 600_000) return [];
          return [{ kind: 'exit' as const, id: 'leak', symbol, positionId: 'none', time: c.openTime, reason: 'signal' as const, detail: 'leak' }];
        },
      };
    };
    const r = checkLookahead({ series, config: parseConfig({}), factory, cutTimes: [candles[candles.length - 1]!.openTime] });
    expect(r.repeat).toBeNull();
    expect(r.cuts[0]?.difference).toMatchObject({ time: candles[candles.length - 11]!.openTime, expected: null });
    expect(describeFailure(r)).toMatch(/LOOK-AHEAD in strategy leaky: with the data cut at/);
  });

  it('the shipped strategies and the plug-in example pass', async () => {
    for (const name of ['sr', 'breakout', 'examples/strategies/smaCross.ts']) {
      const s = await loadStrategy(name);
      const config = parseConfig(name === 'breakout' ? { breakout: { timeframe: '15m' } } : {});
      const r = checkLookahead({ series, config, factory: s.factory, cuts: 3 });
      expect(r.ok, name).toBe(true);
      expect(r.decisions, name).toBeGreaterThan(0);
      expect(r.cuts.map((c) => c.compared).every((n, i, a) => i === 0 || n >= (a[i - 1] as number)), name).toBe(true);
    }
  });
});

describe('npm run lookahead', () => {
  it('passes the S/R strategy and throws LookaheadError (exit 1) for the peeking one, printing the decision', async () => {
    const lines: string[] = [];
    const ok = await lookaheadCommand(['--strategy', 'sr', '--data', FILE, '--cuts', '2'], { log: (l) => lines.push(l), err: () => undefined });
    expect(ok.ok).toBe(true);
    expect(lines.at(-1)).toBe('passed: no decision depends on later data');
    forget();
    const bad = lookaheadCommand(['--strategy', 'test/fixtures/strategies/peeking.ts', '--data', FILE, '--cuts', '2'], quiet);
    await expect(bad).rejects.toBeInstanceOf(LookaheadError);
    await expect(bad).rejects.toThrow(/the decision on BTCUSDT at the candle opening 2021-04-1\d/);
  });
  it('a bad --cuts is a usage error', async () => {
    await expect(lookaheadCommand(['--data', FILE, '--cuts', '0'], quiet)).rejects.toThrow(/--cuts must be an integer from 1 to 50/);
  });
});
