/** The kernel's entryConfidence hook feeds risk.sizing.mode 'confidence' (BTCUSDT fixture, 3,000 candles). */
import { describe, expect, it } from 'vitest';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { runBacktest } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { symbolId } from '../../services/core/types.js';

const series = [{ symbol: symbolId('BTCUSDT'), candles: loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles }];

describe('sizing by a model’s confidence in the backtest', () => {
  it('without a confidence every sized entry is SIZING_REFUSED; with one the entries trade', async () => {
    const config = parseConfig({ risk: { sizing: { mode: 'confidence' } } });
    const none = await runBacktest({ series, config });
    expect(none.trades).toHaveLength(0);
    expect(none.rejections.SIZING_REFUSED).toBeGreaterThan(0);
    const asked: number[] = [];
    const some = await runBacktest({
      series,
      config,
      entryConfidence: (it, now) => {
        expect(it.time).toBe(now);
        asked.push(now);
        return 0.9;
      },
    });
    expect(some.trades.length).toBeGreaterThan(0);
    expect(some.rejections.SIZING_REFUSED).toBeUndefined();
    expect(asked.length).toBe(some.funnel.signals);
  });
});
