/**
 * Parsing and validation of candle CSV text (`open_time,open,high,low,close,volume`).
 *
 * Two modes. Strict (the default): the first bad row throws a DataValidationError whose message is
 * one line, `source:line: what is wrong (expected ...)`, so a broken file is fixed at its source.
 * Repair (what the backtester asks for): bad rows are dropped and counted by reason in the
 * DataQualityReport, so a long real file with one bad row is still usable and the damage is visible.
 *
 * In both modes rows are put in time order (counted as `reordered`) and a row whose open time
 * repeats an earlier one is dropped, the first in file order being kept (counted as `duplicates`):
 * neither changes a price, and everything downstream needs one candle per open time, in order.
 * Gaps are counted, not filled (see gaps.ts).
 */
import { DataValidationError } from '../core/errors.js';
import type { Candle } from '../core/types.js';
import { CsvLineReader, MAX_COLUMNS, resolveHeader, type ColumnSpec } from './csvReader.js';
import { detectGaps, inferIntervalMs } from './gaps.js';

/** Why a row was dropped (repair mode) or rejected (strict mode). */
export const DROP_REASONS = [
  /** The row has more or fewer fields than the header (6 without a header). */
  'columnCount',
  /** The open time is not epoch ms, epoch seconds, epoch µs or ISO-8601. */
  'badTime',
  /** A price or the volume is empty, not a number, NaN or ±Infinity. */
  'nonNumeric',
  /** A price or the volume is below zero. */
  'negative',
  /** A price is zero (no market trades at zero; it is a placeholder or a broken feed). */
  'zeroPrice',
  /** high < low. Checked first, so such a row is not also counted under the two reasons below. */
  'highBelowLow',
  /** high < max(open, close): the high is not the highest price of the bar. */
  'highBelowOpenClose',
  /** low > min(open, close): the low is not the lowest price of the bar. */
  'lowAboveOpenClose',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** What the parser found in a candle file. Counts refer to data rows (header and blank lines excluded). */
export interface DataQualityReport {
  /** The `source` passed to the parser (usually the file path), as used in messages. */
  readonly source: string;
  /** Data rows read. */
  readonly rows: number;
  /** Candles returned: rows minus dropped minus duplicates. */
  readonly candles: number;
  /** Rows dropped as invalid, by reason (repair mode; all zero in strict mode). */
  readonly dropped: Readonly<Record<DropReason, number>>;
  /** Sum of `dropped`. */
  readonly droppedTotal: number;
  /** Valid rows dropped because an earlier row had the same open time. */
  readonly duplicates: number;
  /** Valid rows that came after a row with a later open time (the output is sorted anyway). */
  readonly reordered: number;
  /** Number of gaps (see detectGaps), using `intervalMs`. */
  readonly gaps: number;
  /** Total bars missing inside the gaps. */
  readonly missingBars: number;
  /** Candles with zero volume (no trade in the bar; the exchange repeats the last price). */
  readonly zeroVolumeBars: number;
  /** Open time of the first and last candle, epoch ms. */
  readonly firstOpenTime: number;
  readonly lastOpenTime: number;
  /** Bar interval: given in the options, or inferred (most frequent step); null for a single candle. */
  readonly intervalMs: number | null;
}

/** Options of parseCandleCsv. */
export interface ParseCandleOptions {
  /** Names the input in messages and in the report, e.g. the file path. */
  source: string;
  /** Drop and count bad rows instead of throwing on the first. Default false (strict). */
  repair?: boolean;
  /** Bar interval for gap detection; inferred from the data when absent. */
  intervalMs?: number;
}

/** Validated candles in time order, one per open time, and what was done to get them. */
export interface ParsedCandles {
  readonly candles: Candle[];
  readonly report: DataQualityReport;
}

const COLUMNS: readonly ColumnSpec[] = [
  { name: 'open_time', aliases: ['open_time', 'timestamp', 'time'] },
  { name: 'open', aliases: ['open'] },
  { name: 'high', aliases: ['high'] },
  { name: 'low', aliases: ['low'] },
  { name: 'close', aliases: ['close'] },
  { name: 'volume', aliases: ['volume'] },
];
const EXPECTED_HEADER = 'open_time,open,high,low,close,volume';

/** Row-check result: the reason and, for strict-mode messages, what exactly was wrong. */
interface RowProblem {
  reason: DropReason;
  what: string;
  expected: string;
}

/**
 * Parses candle CSV text into validated candles sorted by open time.
 *
 * Accepts a header (columns found by name: `open_time|timestamp|time, open, high, low, close,
 * volume`; extra columns are ignored) or no header (exactly those six columns in that order).
 * Timestamps may be epoch ms, seconds or µs (told apart by magnitude) or ISO-8601 (UTC if no zone).
 * Throws DataValidationError for a file with no data rows, a header lacking a column, no valid row
 * left after repair, and (strict mode) the first bad row.
 */
export function parseCandleCsv(text: string, opts: ParseCandleOptions): ParsedCandles {
  const { source } = opts;
  const repair = opts.repair ?? false;
  const reader = new CsvLineReader(text);
  if (!reader.next()) throw new DataValidationError(`${source}: no data rows (expected a header ${EXPECTED_HEADER} followed by one candle per line)`);

  // Header detection: a first line whose first field is not a timestamp is a header.
  let cols = [0, 1, 2, 3, 4, 5];
  let names = COLUMNS.map((c) => c.name);
  let width = 6;
  let columnsText = EXPECTED_HEADER;
  let hasRow = true;
  if (Number.isNaN(reader.time(0)) && !looksLikeDataRow(reader)) {
    if (reader.count > MAX_COLUMNS) throw new DataValidationError(`${source}:${reader.line}: header has ${reader.count} columns (expected at most ${MAX_COLUMNS})`);
    const resolved = resolveHeader(reader, COLUMNS);
    if ('missing' in resolved) {
      const m = resolved.missing;
      throw new DataValidationError(
        `${source}:${reader.line}: header "${reader.lineText()}" has no ${m.name} column (expected ${m.aliases.join('|')}; full header ${EXPECTED_HEADER})`,
      );
    }
    cols = resolved.indexes;
    names = cols.map((c) => reader.field(c).trim());
    width = reader.count;
    columnsText = reader.lineText();
    hasRow = reader.next();
  }
  const [cT, cO, cH, cL, cC, cV] = cols as [number, number, number, number, number, number];

  const dropped: Record<DropReason, number> = {
    columnCount: 0,
    badTime: 0,
    nonNumeric: 0,
    negative: 0,
    zeroPrice: 0,
    highBelowLow: 0,
    highBelowOpenClose: 0,
    lowAboveOpenClose: 0,
  };
  const candles: Candle[] = [];
  let rows = 0;
  let droppedTotal = 0;
  let reordered = 0;
  let maxTime = -Infinity;
  const valueCols = [cO, cH, cL, cC, cV];

  for (; hasRow; hasRow = reader.next()) {
    rows++;
    let problem: RowProblem | null = null;
    let time = NaN;
    let open = NaN;
    let high = NaN;
    let low = NaN;
    let close = NaN;
    let volume = NaN;
    if (reader.count !== width) {
      problem = { reason: 'columnCount', what: `${reader.count} columns`, expected: `${width}: ${columnsText}` };
    } else {
      time = reader.time(cT);
      open = reader.num(cO);
      high = reader.num(cH);
      low = reader.num(cL);
      close = reader.num(cC);
      volume = reader.num(cV);
      // One comparison chain for the common, valid row (NaN fails every comparison); the detailed
      // checks only run for a row that fails it.
      const ok = time >= 0 && open > 0 && close > 0 && low > 0 && volume >= 0 && high >= low && high >= open && high >= close && low <= open && low <= close;
      if (!ok) {
        problem = Number.isNaN(time)
          ? { reason: 'badTime', what: `${names[0]} "${reader.field(cT)}" is not a timestamp`, expected: 'epoch ms, epoch seconds or ISO-8601 such as 2021-03-26T03:00:00Z' }
          : checkValues([open, high, low, close, volume], names, reader, valueCols);
      }
    }
    if (problem) {
      if (!repair) throw new DataValidationError(`${source}:${reader.line}: ${problem.what} (expected ${problem.expected})`);
      dropped[problem.reason]++;
      droppedTotal++;
      continue;
    }
    if (time < maxTime) reordered++;
    else maxTime = time;
    candles.push({ openTime: time, open, high, low, close, volume });
  }

  if (rows === 0) throw new DataValidationError(`${source}: no data rows after the header (expected one candle per line: ${EXPECTED_HEADER})`);
  if (candles.length === 0) {
    const why = DROP_REASONS.filter((r) => dropped[r] > 0)
      .map((r) => `${r} ${dropped[r]}`)
      .join(', ');
    throw new DataValidationError(`${source}: no valid candles: all ${rows} data rows were dropped (${why})`);
  }

  // Array.prototype.sort is stable, so among equal open times the first in file order stays first.
  if (reordered > 0) candles.sort((a, b) => a.openTime - b.openTime);
  let duplicates = 0;
  let w = 1;
  for (let r = 1; r < candles.length; r++) {
    const c = candles[r]!;
    if (c.openTime === candles[w - 1]!.openTime) duplicates++;
    else candles[w++] = c;
  }
  candles.length = w;

  let zeroVolumeBars = 0;
  for (const c of candles) if (c.volume === 0) zeroVolumeBars++;
  const intervalMs = opts.intervalMs ?? inferIntervalMs(candles);
  let gaps = 0;
  let missingBars = 0;
  if (intervalMs !== null) {
    for (const g of detectGaps(candles, intervalMs)) {
      gaps++;
      missingBars += g.missingBars;
    }
  }

  return {
    candles,
    report: {
      source,
      rows,
      candles: candles.length,
      dropped,
      droppedTotal,
      duplicates,
      reordered,
      gaps,
      missingBars,
      zeroVolumeBars,
      firstOpenTime: candles[0]!.openTime,
      lastOpenTime: candles[candles.length - 1]!.openTime,
      intervalMs,
    },
  };
}

/**
 * A headerless first row whose time is broken still has five numbers after it; treating it as a
 * data row gives the precise "not a timestamp" message instead of a confusing header complaint.
 */
function looksLikeDataRow(reader: CsvLineReader): boolean {
  if (reader.count !== 6) return false;
  for (let i = 1; i < 6; i++) if (Number.isNaN(reader.num(i))) return false;
  return true;
}

/** Says what is wrong with open, high, low, close, volume (in `v`, in that order) of a row that failed the fast check. */
function checkValues(v: readonly number[], names: readonly string[], reader: CsvLineReader, cols: readonly number[]): RowProblem {
  for (let i = 0; i < 5; i++) {
    if (Number.isNaN(v[i])) {
      return { reason: 'nonNumeric', what: `${names[i + 1]} "${reader.field(cols[i]!)}" is not a finite number`, expected: 'a decimal number such as 51696.7' };
    }
  }
  for (let i = 0; i < 5; i++) {
    if (v[i]! < 0) return { reason: 'negative', what: `${names[i + 1]} ${v[i]} is negative`, expected: i === 4 ? 'volume >= 0' : 'a price > 0' };
  }
  for (let i = 0; i < 4; i++) {
    if (v[i] === 0) return { reason: 'zeroPrice', what: `${names[i + 1]} is 0`, expected: 'a price > 0' };
  }
  const [open, high, low, close] = v as [number, number, number, number];
  if (high < low) return { reason: 'highBelowLow', what: `high ${high} is below low ${low}`, expected: 'high >= low' };
  if (high < Math.max(open, close)) {
    return { reason: 'highBelowOpenClose', what: `high ${high} is below max(open, close) ${Math.max(open, close)}`, expected: 'high >= open and high >= close' };
  }
  if (low > Math.min(open, close)) {
    return { reason: 'lowAboveOpenClose', what: `low ${low} is above min(open, close) ${Math.min(open, close)}`, expected: 'low <= open and low <= close' };
  }
  throw new Error('checkValues called on a valid row'); // unreachable: the caller's fast check failed
}
