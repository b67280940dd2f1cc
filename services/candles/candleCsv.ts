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
 *
 * The text may come in chunks of any size (CandleCsvParser.push): a file over 512 MB cannot be one
 * JavaScript string (ERR_STRING_TOO_LONG), so services/adapters/candleFiles.ts streams it; lines may
 * cross chunk boundaries, and one line longer than MAX_LINE_CHARS is refused.
 *
 * Values beyond MAX_PRICE / MAX_VOLUME (e.g. 1e308) are no prices: they would overflow the money
 * arithmetic downstream (`outOfRange`). A handful of rows more than STRAY_GAP_MS from the rest of the
 * file (a row stamped 1970 or 2090 in a 2021 file) would silently stretch the run over decades and
 * change its PnL and per-day figures: they are quarantined (`strayTime`), or refused in strict mode.
 */
import { DataValidationError } from '../core/errors.js';
import type { Candle } from '../core/types.js';
import { countLines, CsvLineReader, MAX_COLUMNS, resolveHeader, type ColumnSpec } from './csvReader.js';
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
  /** A price above MAX_PRICE or a volume above MAX_VOLUME (1e308 is no price; it overflows the arithmetic downstream). */
  'outOfRange',
  /** high < low. Checked first, so such a row is not also counted under the two reasons below. */
  'highBelowLow',
  /** high < max(open, close): the high is not the highest price of the bar. */
  'highBelowOpenClose',
  /** low > min(open, close): the low is not the lowest price of the bar. */
  'lowAboveOpenClose',
  /** A valid row in a small cluster more than STRAY_GAP_MS away from the rest of the file (quarantined). */
  'strayTime',
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

/** Highest price accepted (quote per base unit); no listed asset is near it. */
export const MAX_PRICE = 1e9;
/** Highest volume accepted (base units per bar); memecoins trade up to ~1e13 a minute. */
export const MAX_VOLUME = 1e18;
/** Longest line accepted (characters): a candle row is under 200; a file without newlines is no CSV. */
export const MAX_LINE_CHARS = 1 << 20;
/** A cluster of rows this far (30 days) from the rest of the file is a stray candidate. */
export const STRAY_GAP_MS = 30 * 24 * 3600_000;
/** A cluster is stray when it is not the largest and holds at most this many rows, or 1% of them. */
export const STRAY_MAX_ROWS = 10;

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
  const parser = new CandleCsvParser(opts);
  parser.push(text);
  return parser.end();
}

/** parseCandleCsv over text that arrives in chunks: `push` each, then `end` (see the file comment). */
export class CandleCsvParser {
  private readonly source: string;
  private readonly repair: boolean;
  private carry = '';
  private nextLine = 1;
  private atStart = true;
  private headerDone = false;
  private cols = [0, 1, 2, 3, 4, 5];
  private names = COLUMNS.map((c) => c.name);
  private width = 6;
  private columnsText = EXPECTED_HEADER;
  private readonly dropped: Record<DropReason, number> = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  private readonly candles: Candle[] = [];
  private rows = 0;
  private droppedTotal = 0;
  private reordered = 0;
  private maxTime = -Infinity;
  private ended = false;

  constructor(private readonly opts: ParseCandleOptions) {
    this.source = opts.source;
    this.repair = opts.repair ?? false;
  }

  /** Parses every complete line of `chunk` (with what was left of the previous one). */
  push(chunk: string): void {
    if (this.ended) throw new Error('CandleCsvParser: push after end');
    let text = this.carry + chunk;
    const cut = text.lastIndexOf('\n');
    if (cut === -1) {
      this.carry = text;
      this.checkCarry();
      return;
    }
    this.carry = text.slice(cut + 1);
    text = text.slice(0, cut + 1);
    this.checkCarry();
    this.lines(text);
  }

  /** Parses the last line and returns the candles and the report (throws as parseCandleCsv does). */
  end(): ParsedCandles {
    if (this.ended) throw new Error('CandleCsvParser: end called twice');
    this.ended = true;
    if (this.carry !== '') this.lines(this.carry);
    this.carry = '';
    const { source, dropped, candles } = this;
    if (!this.headerDone) throw new DataValidationError(`${source}: no data rows (expected a header ${EXPECTED_HEADER} followed by one candle per line)`);
    if (this.rows === 0) throw new DataValidationError(`${source}: no data rows after the header (expected one candle per line: ${EXPECTED_HEADER})`);
    if (candles.length === 0) throw this.noneLeft();

    // Array.prototype.sort is stable, so among equal open times the first in file order stays first.
    if (this.reordered > 0) candles.sort((a, b) => a.openTime - b.openTime);
    let duplicates = 0;
    let w = 1;
    for (let r = 1; r < candles.length; r++) {
      const c = candles[r]!;
      if (c.openTime === candles[w - 1]!.openTime) duplicates++;
      else candles[w++] = c;
    }
    candles.length = w;
    this.quarantineStrays();

    let zeroVolumeBars = 0;
    for (const c of candles) if (c.volume === 0) zeroVolumeBars++;
    const intervalMs = this.opts.intervalMs ?? inferIntervalMs(candles);
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
        rows: this.rows,
        candles: candles.length,
        dropped,
        droppedTotal: this.droppedTotal,
        duplicates,
        reordered: this.reordered,
        gaps,
        missingBars,
        zeroVolumeBars,
        firstOpenTime: candles[0]!.openTime,
        lastOpenTime: candles[candles.length - 1]!.openTime,
        intervalMs,
      },
    };
  }

  private checkCarry(): void {
    if (this.carry.length > MAX_LINE_CHARS) {
      throw new DataValidationError(`${this.source}:${this.nextLine}: a line longer than ${MAX_LINE_CHARS} characters (expected one candle per line: ${EXPECTED_HEADER})`);
    }
  }

  private noneLeft(): DataValidationError {
    const why = DROP_REASONS.filter((r) => this.dropped[r] > 0)
      .map((r) => `${r} ${this.dropped[r]}`)
      .join(', ');
    return new DataValidationError(`${this.source}: no valid candles: all ${this.rows} data rows were dropped (${why})`);
  }

  /** Parses whole lines (the last may lack its newline only at the end of the input). */
  private lines(text: string): void {
    const reader = new CsvLineReader(text, this.nextLine, this.atStart);
    this.atStart = false;
    let hasRow = reader.next();
    if (hasRow && !this.headerDone) {
      this.headerDone = true;
      hasRow = this.header(reader);
    }
    for (; hasRow; hasRow = reader.next()) this.row(reader);
    // Lines in this text, blank ones included: the next text continues the count.
    this.nextLine += countLines(text);
  }

  /** Header detection on the first non-blank line; true when that line is a data row. */
  private header(reader: CsvLineReader): boolean {
    const { source } = this;
    // A first line whose first field is not a timestamp is a header.
    if (!(Number.isNaN(reader.time(0)) && !looksLikeDataRow(reader))) return true;
    if (reader.count > MAX_COLUMNS) throw new DataValidationError(`${source}:${reader.line}: header has ${reader.count} columns (expected at most ${MAX_COLUMNS})`);
    const resolved = resolveHeader(reader, COLUMNS);
    if ('missing' in resolved) {
      const m = resolved.missing;
      throw new DataValidationError(
        `${source}:${reader.line}: header "${reader.lineText()}" has no ${m.name} column (expected ${m.aliases.join('|')}; full header ${EXPECTED_HEADER})`,
      );
    }
    this.cols = resolved.indexes;
    this.names = this.cols.map((c) => reader.field(c).trim());
    this.width = reader.count;
    this.columnsText = reader.lineText();
    return reader.next();
  }

  private row(reader: CsvLineReader): void {
    this.rows++;
    const [cT, cO, cH, cL, cC, cV] = this.cols as [number, number, number, number, number, number];
    let problem: RowProblem | null = null;
    let time = NaN;
    let open = NaN;
    let high = NaN;
    let low = NaN;
    let close = NaN;
    let volume = NaN;
    if (reader.count !== this.width) {
      problem = { reason: 'columnCount', what: `${reader.count} columns`, expected: `${this.width}: ${this.columnsText}` };
    } else {
      time = reader.time(cT);
      open = reader.num(cO);
      high = reader.num(cH);
      low = reader.num(cL);
      close = reader.num(cC);
      volume = reader.num(cV);
      // One comparison chain for the common, valid row (NaN fails every comparison); the detailed
      // checks only run for a row that fails it.
      const ok =
        time >= 0 && open > 0 && close > 0 && low > 0 && volume >= 0 && high >= low && high >= open && high >= close && low <= open && low <= close && high <= MAX_PRICE && volume <= MAX_VOLUME;
      if (!ok) {
        problem = Number.isNaN(time)
          ? { reason: 'badTime', what: `${this.names[0]} "${reader.field(cT)}" is not a timestamp`, expected: 'epoch ms, epoch seconds or ISO-8601 such as 2021-03-26T03:00:00Z' }
          : checkValues([open, high, low, close, volume], this.names, reader, [cO, cH, cL, cC, cV]);
      }
    }
    if (problem) {
      if (!this.repair) throw new DataValidationError(`${this.source}:${reader.line}: ${problem.what} (expected ${problem.expected})`);
      this.dropped[problem.reason]++;
      this.droppedTotal++;
      return;
    }
    if (time < this.maxTime) this.reordered++;
    else this.maxTime = time;
    this.candles.push({ openTime: time, open, high, low, close, volume });
  }

  /**
   * Splits the sorted candles where two neighbours are more than STRAY_GAP_MS apart and removes
   * the small clusters (see STRAY_MAX_ROWS) that are not the largest one: quarantined and counted
   * in repair mode, refused in strict mode.
   */
  private quarantineStrays(): void {
    const c = this.candles;
    const clusters: { from: number; to: number }[] = [];
    let from = 0;
    for (let i = 1; i <= c.length; i++) {
      if (i === c.length || c[i]!.openTime - c[i - 1]!.openTime > STRAY_GAP_MS) {
        clusters.push({ from, to: i });
        from = i;
      }
    }
    if (clusters.length < 2) return;
    const size = (k: { from: number; to: number }) => k.to - k.from;
    const largest = clusters.reduce((a, b) => (size(b) > size(a) ? b : a));
    const small = Math.max(STRAY_MAX_ROWS, Math.floor(c.length / 100));
    const strays = clusters.filter((k) => k !== largest && size(k) <= small);
    if (strays.length === 0) return;
    const n = strays.reduce((t, k) => t + size(k), 0);
    if (!this.repair) {
      const first = strays[0]!;
      throw new DataValidationError(
        `${this.source}: ${n} row(s) lie more than ${STRAY_GAP_MS / 86_400_000} days from the rest of the file, the first at ${new Date(c[first.from]!.openTime).toISOString()} (expected one continuous period; a stray row would stretch the run over the gap)`,
      );
    }
    const drop = new Set<number>();
    for (const k of strays) for (let i = k.from; i < k.to; i++) drop.add(i);
    let w = 0;
    for (let i = 0; i < c.length; i++) if (!drop.has(i)) c[w++] = c[i]!;
    c.length = w;
    this.dropped.strayTime += n;
    this.droppedTotal += n;
  }
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
  for (let i = 0; i < 5; i++) {
    const max = i === 4 ? MAX_VOLUME : MAX_PRICE;
    if (v[i]! > max) return { reason: 'outOfRange', what: `${names[i + 1]} ${v[i]} is out of range`, expected: `${i === 4 ? 'a volume' : 'a price'} at most ${max}` };
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
