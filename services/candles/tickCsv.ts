/**
 * Parsing of tick CSV text: public trades (`timestamp_ms,trade_id,price,quantity,buyer_maker`) and
 * top-of-book quotes (`timestamp_ms,bid,bid_size,ask,ask_size`).
 *
 * Same conventions as the candle parser: a header is optional (columns by name when present),
 * timestamps may be epoch ms/s/µs or ISO-8601, strict mode throws `source:line: ... (expected ...)`
 * on the first bad row and repair mode drops and counts. Rows are sorted by time if needed (stable,
 * so trades with the same millisecond keep file order); nothing is deduplicated, since several
 * trades in one millisecond are normal.
 *
 * Like candle files, tick files are streamed (tradesCsvParser / quotesCsvParser take the text in
 * chunks), so a tick file over 512 MB, the longest JavaScript string, is read rather than refused.
 */
import { DataValidationError } from '../core/errors.js';
import type { BookTop, Trade } from '../core/types.js';
import { countLines, CsvLineReader, MAX_COLUMNS, resolveHeader, type ColumnSpec } from './csvReader.js';
import { MAX_LINE_CHARS } from './candleCsv.js';

/** Why a tick row was dropped or rejected. */
export const TICK_DROP_REASONS = [
  /** More or fewer fields than the header. */
  'columnCount',
  /** The time is not a timestamp. */
  'badTime',
  /** A number is empty, not a number, NaN or ±Infinity. */
  'nonNumeric',
  /** A price is <= 0 or a size/quantity is < 0. */
  'outOfRange',
  /** `buyer_maker` is not true/false/1/0. */
  'badFlag',
  /** Quotes: ask below bid (a crossed book cannot be a real top of book). */
  'crossed',
] as const;
export type TickDropReason = (typeof TICK_DROP_REASONS)[number];

/** What the tick parser found. */
export interface TickReport {
  readonly source: string;
  /** Data rows read (header and blank lines excluded). */
  readonly rows: number;
  /** Rows returned. */
  readonly kept: number;
  readonly dropped: Readonly<Record<TickDropReason, number>>;
  readonly droppedTotal: number;
  /** Rows that came after a row with a later time (the output is sorted anyway). */
  readonly reordered: number;
  /** Time of the first and last row kept, epoch ms. */
  readonly firstTime: number;
  readonly lastTime: number;
}

/** Options of the tick parsers (see parseCandleCsv for `source` and `repair`). */
export interface ParseTickOptions {
  source: string;
  repair?: boolean;
}

const TRADE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'timestamp_ms', aliases: ['timestamp_ms', 'timestamp', 'time'] },
  { name: 'trade_id', aliases: ['trade_id', 'id'], optional: true },
  { name: 'price', aliases: ['price'] },
  { name: 'quantity', aliases: ['quantity', 'qty'] },
  { name: 'buyer_maker', aliases: ['buyer_maker', 'is_buyer_maker'] },
];
const QUOTE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'timestamp_ms', aliases: ['timestamp_ms', 'timestamp', 'time'] },
  { name: 'bid', aliases: ['bid', 'bid_price'] },
  { name: 'bid_size', aliases: ['bid_size', 'bid_qty'] },
  { name: 'ask', aliases: ['ask', 'ask_price'] },
  { name: 'ask_size', aliases: ['ask_size', 'ask_qty'] },
];

interface Problem {
  reason: TickDropReason;
  what: string;
  expected: string;
}

/** A row checker: fills the parsed row or returns what is wrong. */
type RowParser<T> = (reader: CsvLineReader, cols: readonly number[], names: readonly string[], time: number) => T | Problem;

/**
 * The shared driver, over text that arrives in chunks (`push` each, then `end`): header detection,
 * column count and time checks, strict/repair handling, sorting. `specs` lists the columns in
 * headerless order. Lines may cross chunk boundaries; one longer than MAX_LINE_CHARS is refused.
 */
class TickCsvParser<T extends { readonly time: number }> {
  private readonly source: string;
  private readonly repair: boolean;
  private readonly expectedHeader: string;
  private carry = '';
  private nextLine = 1;
  private atStart = true;
  private headerDone = false;
  private cols: number[];
  private names: string[];
  private width: number;
  private readonly dropped = Object.fromEntries(TICK_DROP_REASONS.map((r) => [r, 0])) as Record<TickDropReason, number>;
  private readonly rows: T[] = [];
  private count = 0;
  private droppedTotal = 0;
  private reordered = 0;
  private maxTime = -Infinity;
  private ended = false;

  constructor(
    opts: ParseTickOptions,
    private readonly specs: readonly ColumnSpec[],
    private readonly parseRow: RowParser<T>,
  ) {
    this.source = opts.source;
    this.repair = opts.repair ?? false;
    this.expectedHeader = specs.map((s) => s.name).join(',');
    this.cols = specs.map((_, i) => i);
    this.names = specs.map((s) => s.name);
    this.width = specs.length;
  }

  /** Parses every complete line of `chunk` (with what was left of the previous one). */
  push(chunk: string): void {
    if (this.ended) throw new Error('TickCsvParser: push after end');
    const text = this.carry + chunk;
    const cut = text.lastIndexOf('\n');
    this.carry = cut === -1 ? text : text.slice(cut + 1);
    if (this.carry.length > MAX_LINE_CHARS) {
      throw new DataValidationError(`${this.source}:${this.nextLine}: a line longer than ${MAX_LINE_CHARS} characters (expected one row per line: ${this.expectedHeader})`);
    }
    if (cut !== -1) this.lines(text.slice(0, cut + 1));
  }

  /** Parses the last line; returns the rows sorted by time and the report. */
  end(): { rows: T[]; report: TickReport } {
    if (this.ended) throw new Error('TickCsvParser: end called twice');
    this.ended = true;
    if (this.carry !== '') this.lines(this.carry);
    this.carry = '';
    const { source, rows, expectedHeader } = this;
    if (!this.headerDone) throw new DataValidationError(`${source}: no data rows (expected a header ${expectedHeader} followed by one row per line)`);
    if (this.count === 0) throw new DataValidationError(`${source}: no data rows after the header (expected one row per line: ${expectedHeader})`);
    if (rows.length === 0) throw new DataValidationError(`${source}: no valid rows: all ${this.count} data rows were dropped`);
    if (this.reordered > 0) rows.sort((a, b) => a.time - b.time);
    return {
      rows,
      report: { source, rows: this.count, kept: rows.length, dropped: this.dropped, droppedTotal: this.droppedTotal, reordered: this.reordered, firstTime: rows[0]!.time, lastTime: rows[rows.length - 1]!.time },
    };
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

  /** On the first non-blank line: a header when its first field is not a time; true when it is a data row. */
  private header(reader: CsvLineReader): boolean {
    if (!Number.isNaN(reader.time(0))) return true;
    const { source, specs } = this;
    if (reader.count > MAX_COLUMNS) throw new DataValidationError(`${source}:${reader.line}: header has ${reader.count} columns (expected at most ${MAX_COLUMNS})`);
    const resolved = resolveHeader(reader, specs);
    if ('missing' in resolved) {
      const m = resolved.missing;
      throw new DataValidationError(`${source}:${reader.line}: header "${reader.lineText()}" has no ${m.name} column (expected ${m.aliases.join('|')}; full header ${this.expectedHeader})`);
    }
    const cols = resolved.indexes;
    this.cols = [...cols];
    this.names = specs.map((s, i) => (cols[i]! >= 0 ? reader.field(cols[i]!).trim() : s.name));
    this.width = reader.count;
    return reader.next();
  }

  private row(reader: CsvLineReader): void {
    this.count++;
    const { cols, names } = this;
    let result: T | Problem;
    if (reader.count !== this.width) {
      result = { reason: 'columnCount', what: `${reader.count} columns`, expected: `${this.width}: ${names.join(',')}` };
    } else {
      const time = reader.time(cols[0]!);
      result = Number.isNaN(time)
        ? { reason: 'badTime', what: `${names[0]} "${reader.field(cols[0]!)}" is not a timestamp`, expected: 'epoch ms, epoch seconds or ISO-8601' }
        : this.parseRow(reader, cols, names, time);
    }
    if ('reason' in result) {
      if (!this.repair) throw new DataValidationError(`${this.source}:${reader.line}: ${result.what} (expected ${result.expected})`);
      this.dropped[result.reason]++;
      this.droppedTotal++;
      return;
    }
    if (result.time < this.maxTime) this.reordered++;
    else this.maxTime = result.time;
    this.rows.push(result);
  }
}

/** A tick parser fed in chunks (services/adapters/candleFiles.ts streams files through it). */
export interface TickStream<R> {
  push(chunk: string): void;
  end(): R;
}

function numberProblem(reader: CsvLineReader, col: number, name: string): Problem {
  return { reason: 'nonNumeric', what: `${name} "${reader.field(col)}" is not a finite number`, expected: 'a decimal number such as 39432.48' };
}

const TRUE_FLAGS = new Set(['true', '1']);
const FALSE_FLAGS = new Set(['false', '0']);

/** The row check of a trades file. */
const tradeRow: RowParser<Trade> = (reader, cols, names, time) => {
  const price = reader.num(cols[2]!);
  if (Number.isNaN(price)) return numberProblem(reader, cols[2]!, names[2]!);
  const quantity = reader.num(cols[3]!);
  if (Number.isNaN(quantity)) return numberProblem(reader, cols[3]!, names[3]!);
  if (price <= 0) return { reason: 'outOfRange', what: `${names[2]} ${price} is not positive`, expected: 'a price > 0' };
  if (quantity < 0) return { reason: 'outOfRange', what: `${names[3]} ${quantity} is negative`, expected: 'a quantity >= 0' };
  const flag = reader.field(cols[4]!).toLowerCase();
  const buyerMaker = TRUE_FLAGS.has(flag) ? true : FALSE_FLAGS.has(flag) ? false : null;
  if (buyerMaker === null) return { reason: 'badFlag', what: `${names[4]} "${reader.field(cols[4]!)}" is not a boolean`, expected: 'True, False, 1 or 0' };
  return { time, price, quantity, buyerMaker };
};

/** The row check of a top-of-book file. */
const quoteRow: RowParser<BookTop> = (reader, cols, names, time) => {
  const v = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    v[i] = reader.num(cols[i + 1]!);
    if (Number.isNaN(v[i])) return numberProblem(reader, cols[i + 1]!, names[i + 1]!);
  }
  const [bid, bidSize, ask, askSize] = v as [number, number, number, number];
  if (bid <= 0) return { reason: 'outOfRange', what: `${names[1]} ${bid} is not positive`, expected: 'a price > 0' };
  if (ask <= 0) return { reason: 'outOfRange', what: `${names[3]} ${ask} is not positive`, expected: 'a price > 0' };
  if (bidSize < 0) return { reason: 'outOfRange', what: `${names[2]} ${bidSize} is negative`, expected: 'a size >= 0' };
  if (askSize < 0) return { reason: 'outOfRange', what: `${names[4]} ${askSize} is negative`, expected: 'a size >= 0' };
  if (ask < bid) return { reason: 'crossed', what: `ask ${ask} is below bid ${bid}`, expected: 'ask >= bid' };
  return { time, bid, bidSize, ask, askSize };
};

/** parseTradesCsv over text in chunks: `push` each, then `end`. */
export function tradesCsvParser(opts: ParseTickOptions): TickStream<{ trades: Trade[]; report: TickReport }> {
  const p = new TickCsvParser<Trade>(opts, TRADE_COLUMNS, tradeRow);
  return { push: (t) => p.push(t), end: () => ((r) => ({ trades: r.rows, report: r.report }))(p.end()) };
}

/** parseQuotesCsv over text in chunks: `push` each, then `end`. */
export function quotesCsvParser(opts: ParseTickOptions): TickStream<{ quotes: BookTop[]; report: TickReport }> {
  const p = new TickCsvParser<BookTop>(opts, QUOTE_COLUMNS, quoteRow);
  return { push: (t) => p.push(t), end: () => ((r) => ({ quotes: r.rows, report: r.report }))(p.end()) };
}

/**
 * Parses trades CSV into Trades sorted by time. `buyer_maker` accepts true/false/1/0 in any case
 * (true: the buyer was the resting order, i.e. the aggressor sold). Price must be > 0, quantity >= 0.
 */
export function parseTradesCsv(text: string, opts: ParseTickOptions): { trades: Trade[]; report: TickReport } {
  const p = tradesCsvParser(opts);
  p.push(text);
  return p.end();
}

/** Parses top-of-book CSV into BookTops sorted by time. Prices must be > 0, sizes >= 0, ask >= bid. */
export function parseQuotesCsv(text: string, opts: ParseTickOptions): { quotes: BookTop[]; report: TickReport } {
  const p = quotesCsvParser(opts);
  p.push(text);
  return p.end();
}
