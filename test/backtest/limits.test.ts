/** The backtest refuses inputs it cannot run honestly, with a message that says what to do. */
import { describe, expect, it } from 'vitest';
import { runBacktest, type SymbolSeries } from '../../services/backtest/engine.js';
import { parseConfig } from '../../services/config/schema.js';
import { ConfigError } from '../../services/core/errors.js';
import { symbolId } from '../../services/core/types.js';

const T0 = Date.UTC(2025, 0, 1);
const series = (n: number): SymbolSeries[] =>
  Array.from({ length: n }, (_, i) => ({
    symbol: symbolId(`S${String.fromCharCode(65 + i)}USDT`),
    candles: [{ openTime: T0, open: 1, high: 1, low: 1, close: 1, volume: 1 }],
  }));

describe('runBacktest limits', () => {
  it('standard mode trades at most 10 pairs, HF at most 15', async () => {
    await expect(runBacktest({ series: series(10), config: parseConfig({}) })).resolves.toMatchObject({ candles: 10 });
    await expect(runBacktest({ series: series(11), config: parseConfig({}) })).rejects.toThrow(ConfigError);
    await expect(runBacktest({ series: series(11), config: parseConfig({}) })).rejects.toThrow(/mode standard trades at most 10 pairs, the data has 11 .*--symbols/);
    await expect(runBacktest({ series: series(15), config: parseConfig({ mode: 'hf' }) })).resolves.toMatchObject({ candles: 15 });
    await expect(runBacktest({ series: series(16), config: parseConfig({ mode: 'hf' }) })).rejects.toThrow(/at most 15 pairs/);
  });

  it('refuses empty input and a symbol given twice', async () => {
    await expect(runBacktest({ series: [], config: parseConfig({}) })).rejects.toThrow(/no candles/);
    const [a] = series(1);
    await expect(runBacktest({ series: [a!, a!], config: parseConfig({}) })).rejects.toThrow(/appears twice/);
  });
});
