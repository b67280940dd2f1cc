/**
 * Candle files of a research run, from the object store to series: each key is downloaded once
 * per process into a scratch folder (the Lambda's /tmp) under its own key, so the symbol still
 * comes from the path (e.g. research/<run>/data/BTCUSDT/1m-....csv.gz or candles/BTCUSDT/<day>.csv),
 * then parsed and merged as `npm run backtest` does. The parsed series are kept for the next
 * batch of the same run (a warm worker parses its data once). Bounded: one data set kept.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ObjectStore } from '../../services/ml/archive.js';
import type { SymbolSeries } from '../../services/backtest/engine.js';
import { DataValidationError } from '../../services/core/errors.js';
import type { LoadData } from '../../services/research/cloudRun.js';
import { loadSeries } from '../../cli/loadSeries.js';

/**
 * Downloads `keys` into `scratch` under their own keys (so the symbol still comes from the path)
 * and returns the paths; a key already there is not fetched again. Throws DataValidationError for
 * a key the store does not have.
 */
export async function downloadKeys(store: ObjectStore, keys: readonly string[], scratch: string): Promise<string[]> {
  const paths: string[] = [];
  for (const key of keys) {
    const path = join(scratch, key);
    if (!existsSync(path)) {
      const body = await store.get(key);
      if (!body) throw new DataValidationError(`research data: no object ${key} in the store`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, body);
    }
    paths.push(path);
  }
  return paths;
}

export function storeCandleLoader(store: ObjectStore, scratch: string): LoadData {
  let cached: { key: string; series: readonly SymbolSeries[] } | null = null;
  return async (keys, symbols) => {
    const id = `${keys.join('\n')}|${symbols.join(',')}`;
    if (cached?.key === id) return cached.series;
    const paths = await downloadKeys(store, keys, scratch);
    const series = loadSeries(paths, symbols).series;
    cached = { key: id, series };
    return series;
  };
}
