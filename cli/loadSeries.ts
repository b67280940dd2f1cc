/** Loads candle files into one time-ordered series per symbol, with a data-quality report. */
import { basename } from 'node:path';
import { expandDataPaths, loadCandleFile, symbolFromPath } from '../services/adapters/candleFiles.js';
import { detectGaps, type DataQualityReport } from '../services/candles/index.js';
import { DataValidationError } from '../services/core/errors.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { symbolId, type Candle, type SymbolId } from '../services/core/types.js';
import type { SymbolSeries } from '../services/backtest/engine.js';

export interface LoadedData {
  readonly series: SymbolSeries[];
  /** Per file, what the loader dropped or found, plus per-symbol merge counts. */
  readonly quality: Record<string, Record<string, number | string | null>>;
  readonly files: string[];
}


/** `BTCUSDT=some/file.csv.gz`: an explicit symbol for the files of a path. */
const EXPLICIT_SYMBOL_RE = /^([A-Za-z0-9]{2,20})=(.+)$/;

/**
 * Expands the paths (`SYMBOL=path` gives the symbol explicitly), parses every file in repair mode (bad rows dropped and counted), and merges
 * files of the same symbol in time order. Overlapping candles keep the first file's copy and are
 * counted; the gaps between files are reported, never filled with invented prices.
 */
export function loadSeries(paths: readonly string[], only: readonly string[] = []): LoadedData {
  // `SYMBOL=path` names the symbol of every file under the path; otherwise the path tells it.
  const given = new Map<string, SymbolId>();
  const plain = paths.map((p) => {
    const m = EXPLICIT_SYMBOL_RE.exec(p);
    if (!m) return p;
    // The pattern only admits what symbolId accepts (2-20 letters or digits).
    const symbol = symbolId(m[1] as string);
    for (const f of expandDataPaths([m[2] as string])) given.set(f, symbol);
    return m[2] as string;
  });
  const files = expandDataPaths(plain);
  const bySymbol = new Map<SymbolId, Candle[][]>();
  const quality: LoadedData['quality'] = {};
  for (const file of files) {
    const symbol = given.get(file) ?? symbolFromPath(file);
    if (only.length > 0 && !only.includes(symbol)) continue;
    const parsed = loadCandleFile(file, { repair: true, intervalMs: MINUTE_MS });
    const candles = dropOffGrid(parsed.candles, file);
    // Keyed by symbol and file name for a readable report; the full path only if two files share a name.
    const key = `${symbol} ${basename(file)}`;
    quality[key in quality ? file : key] = qualityRow(symbol, parsed.report, candles);
    const list = bySymbol.get(symbol) ?? [];
    list.push(candles);
    bySymbol.set(symbol, list);
  }
  if (bySymbol.size === 0) throw new DataValidationError(`no candle files${only.length ? ` for ${only.join(', ')}` : ''} in ${paths.join(', ')}`);
  const series: SymbolSeries[] = [];
  for (const [symbol, parts] of bySymbol) {
    parts.sort((a, b) => (a[0]?.openTime ?? 0) - (b[0]?.openTime ?? 0));
    const merged: Candle[] = [];
    let overlaps = 0;
    for (const part of parts) {
      for (const c of part) {
        const last = merged[merged.length - 1];
        if (last && c.openTime <= last.openTime) {
          overlaps++;
          continue;
        }
        merged.push(c);
      }
    }
    if (parts.length > 1) {
      const gaps = detectGaps(merged, MINUTE_MS);
      quality[`${symbol} (merged)`] = { files: parts.length, candles: merged.length, overlappingCandlesDropped: overlaps, gaps: gaps.length, missingBars: gaps.reduce((n, g) => n + g.missingBars, 0) };
    }
    series.push({ symbol, candles: merged });
  }
  series.sort((a, b) => a.symbol.localeCompare(b.symbol));
  return { series, quality, files };
}

/**
 * Drops candles whose open time is not a whole minute (e.g. 03:00:30 in a 1m file). The candle
 * aggregator needs every 1m candle on the minute grid and threw on the first off-grid one, which
 * aborted the whole run; the backtester repairs data, so they are dropped here and counted as
 * `offGrid` instead. Returns the input array itself when every candle is on the grid.
 */
function dropOffGrid(candles: Candle[], file: string): Candle[] {
  let offGrid = 0;
  for (const c of candles) if (c.openTime % MINUTE_MS !== 0) offGrid++;
  if (offGrid === 0) return candles;
  if (offGrid === candles.length) {
    throw new DataValidationError(`${file}: no candle on the 1m grid: all ${offGrid} open times fall between whole minutes (expected 1m candles opening at hh:mm:00.000 UTC)`);
  }
  return candles.filter((c) => c.openTime % MINUTE_MS === 0);
}

/** One file's row of the data-quality report; `kept` are the candles left after dropOffGrid. */
function qualityRow(symbol: string, r: DataQualityReport, kept: readonly Candle[]): Record<string, number | string | null> {
  const offGrid = r.candles - kept.length;
  const row: Record<string, number | string | null> = { symbol, rows: r.rows, candles: kept.length };
  for (const [k, v] of Object.entries(r.dropped)) if (v > 0) row[`dropped ${k}`] = v;
  row.offGrid = offGrid;
  row.duplicates = r.duplicates;
  row.reordered = r.reordered;
  // The parser counted gaps with the off-grid candles in place (a 1.5-minute step counts as a
  // missing bar); count them again on what is kept.
  const gaps = offGrid > 0 ? detectGaps(kept, MINUTE_MS) : null;
  row.gaps = gaps ? gaps.length : r.gaps;
  row.missingBars = gaps ? gaps.reduce((n, g) => n + g.missingBars, 0) : r.missingBars;
  row.zeroVolumeBars = offGrid > 0 ? kept.reduce((n, c) => n + (c.volume === 0 ? 1 : 0), 0) : r.zeroVolumeBars;
  return row;
}
