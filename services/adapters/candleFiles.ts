/**
 * File access for market data: reads candle and tick CSV files (plain or gzip) from disk and hands
 * the text to the pure parsers in services/candles. Also finds data files under folders and takes
 * the symbol from a path such as `candles/binance-spot/BTCUSDT/1m-2021-03-26_2021-04-30.csv.gz`.
 *
 * Candle and tick files are streamed: read (or, gzip, decompressed) into bytes and handed to the parser in
 * chunks, never as one string, which JavaScript caps at 512 MB (ERR_STRING_TOO_LONG). Only regular
 * files are read: a FIFO named `x.csv` would block the read for ever, so it is refused (opened
 * non-blocking and checked before any read).
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { gunzipSync } from 'node:zlib';
import { DataValidationError } from '../core/errors.js';
import { symbolId, type SymbolId } from '../core/types.js';
import { CandleCsvParser, type ParsedCandles } from '../candles/candleCsv.js';
import { quotesCsvParser, tradesCsvParser, type TickReport } from '../candles/tickCsv.js';
import type { BookTop, Trade } from '../core/types.js';

const DATA_FILE_RE = /\.csv(\.gz)?$/i;

/** Bytes read (or decompressed bytes handed on) at a time by the streaming reader. */
export const READ_CHUNK_BYTES = 8 << 20;

/** What a non-regular file is, in words. */
function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isDirectory()) return 'a folder';
  return 'not a regular file';
}

/** Opens a data file for reading; anything but a regular file is refused before a byte is read. */
function openRegular(path: string): number {
  let fd: number;
  try {
    // Non-blocking: opening a FIFO for reading would otherwise wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isNotFound(err)) throw new DataValidationError(`no such file or folder: ${path}`, { cause: err });
    throw new DataValidationError(`${path}: cannot read file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new DataValidationError(`${path}: ${kindOf(st)}, not a regular file; refusing to read it (expected a .csv or .csv.gz file)`);
  }
  return fd;
}

/**
 * Hands the file's text to `onText` in chunks (UTF-8 decoded across chunk boundaries). Gzip is told
 * by content (magic bytes 1f 8b), not by name. Throws DataValidationError naming the path.
 */
export function readDataFileChunks(path: string, onText: (text: string) => void, chunkBytes = READ_CHUNK_BYTES): void {
  const fd = openRegular(path);
  try {
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    const gzip = n === 2 && head[0] === 0x1f && head[1] === 0x8b;
    if (!gzip && /\.gz$/i.test(path)) throw new DataValidationError(`${path}: not a gzip file (expected gzip-compressed CSV for a .gz name)`);
    const decoder = new StringDecoder('utf8');
    if (gzip) {
      let plain: Buffer;
      try {
        plain = gunzipSync(readFileSync(fd));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (err instanceof RangeError || code === 'ERR_BUFFER_TOO_LARGE') {
          throw new DataValidationError(`${path}: too large to decompress in memory (${(err as Error).message}); decompress it and pass the .csv`, { cause: err });
        }
        throw new DataValidationError(`${path}: not a valid gzip file (${(err as Error).message}; expected gzip-compressed CSV)`, { cause: err });
      }
      for (let i = 0; i < plain.length; i += chunkBytes) onText(decoder.write(plain.subarray(i, i + chunkBytes)));
    } else {
      const buf = Buffer.allocUnsafe(chunkBytes);
      for (let pos = 0; ; ) {
        const got = readSync(fd, buf, 0, chunkBytes, pos);
        if (got === 0) break;
        pos += got;
        onText(decoder.write(buf.subarray(0, got)));
      }
    }
    const rest = decoder.end();
    if (rest !== '') onText(rest);
  } finally {
    closeSync(fd);
  }
}

/** Options of loadCandleFile (see parseCandleCsv). */
export interface LoadCandleOptions {
  /** Drop and count bad rows instead of throwing. Default false (strict). */
  repair?: boolean;
  /** Bar interval for gap detection; inferred from the data when absent. */
  intervalMs?: number;
  /** Read size of the stream (tests use small ones to cross chunk boundaries). */
  chunkBytes?: number;
}

/** Reads and parses a candle file, streamed; the path is the `source` in messages and in the report. */
export function loadCandleFile(path: string, opts: LoadCandleOptions = {}): ParsedCandles {
  const { chunkBytes, ...parse } = opts;
  const parser = new CandleCsvParser({ source: path, ...parse });
  readDataFileChunks(path, (t) => parser.push(t), chunkBytes);
  return parser.end();
}

/** Reads and parses a trades file (`timestamp_ms,trade_id,price,quantity,buyer_maker`), streamed. */
export function loadTradesFile(path: string, opts: { repair?: boolean; chunkBytes?: number } = {}): { trades: Trade[]; report: TickReport } {
  const { chunkBytes, ...parse } = opts;
  const parser = tradesCsvParser({ source: path, ...parse });
  readDataFileChunks(path, (t) => parser.push(t), chunkBytes);
  return parser.end();
}

/** Reads and parses a top-of-book file (`timestamp_ms,bid,bid_size,ask,ask_size`), streamed. */
export function loadQuotesFile(path: string, opts: { repair?: boolean; chunkBytes?: number } = {}): { quotes: BookTop[]; report: TickReport } {
  const { chunkBytes, ...parse } = opts;
  const parser = quotesCsvParser({ source: path, ...parse });
  readDataFileChunks(path, (t) => parser.push(t), chunkBytes);
  return parser.end();
}

// A symbol is a base asset (2-15 letters/digits) followed by a quote asset we trade against.
const SYMBOL_TOKEN_RE = /^[A-Z0-9]{2,15}(USDT|USDC|BTC|ETH)$/i;

/**
 * Takes the symbol from a path: the file name is tried first (without its extensions), then the
 * parent folders from the nearest up. Each name is split into alphanumeric tokens
 * (`btcusdt-1m.csv` -> `btcusdt`, `1m`) and the first token that is a whole symbol wins, matched
 * case-insensitively and returned upper-case. Throws DataValidationError when no name holds one.
 */
export function symbolFromPath(path: string): SymbolId {
  const segments = path.split(/[\\/]+/).filter((s) => s.length > 0);
  for (let i = segments.length - 1; i >= 0; i--) {
    let name = segments[i]!;
    if (i === segments.length - 1) name = name.replace(/(\.[a-z0-9]+)+$/i, '');
    for (const token of name.split(/[^A-Za-z0-9]+/)) {
      if (SYMBOL_TOKEN_RE.test(token)) return symbolId(token);
    }
  }
  throw new DataValidationError(
    `cannot tell the symbol from path "${path}" (expected a file or folder named like BTCUSDT: a base asset followed by USDT, USDC, BTC or ETH)`,
  );
}

/**
 * Expands files and folders into the candle/tick data files they hold: a folder is searched
 * recursively for .csv and .csv.gz files (hidden entries skipped), a file is taken as is. The
 * result is sorted and without duplicates. Throws DataValidationError for a missing path, a
 * file that is not .csv/.csv.gz, or a folder with no data file.
 */
export function expandDataPaths(paths: readonly string[]): string[] {
  const found = new Set<string>();
  for (const p of paths) {
    const st = statOrNull(p);
    if (!st) throw new DataValidationError(`no such file or folder: ${p}`);
    if (st.isDirectory()) {
      const before = found.size;
      walk(p, found);
      if (found.size === before) throw new DataValidationError(`${p}: no .csv or .csv.gz files in this folder or below (expected candle files such as BTCUSDT/1m-2025-03-01_2025-03-15.csv.gz)`);
    } else {
      if (!st.isFile()) throw new DataValidationError(`${p}: ${kindOf(st)}, not a regular file; refusing to read it (expected a .csv or .csv.gz file)`);
      if (!DATA_FILE_RE.test(p)) throw new DataValidationError(`${p}: not a data file (expected a .csv or .csv.gz file)`);
      found.add(p);
    }
  }
  return [...found].sort();
}

// Folders nested deeper than this are not searched: a bound that also stops symlink cycles.
const MAX_DEPTH = 32;

function walk(dir: string, out: Set<string>, depth = 0): void {
  if (depth > MAX_DEPTH) throw new DataValidationError(`${dir}: folders nested more than ${MAX_DEPTH} deep (a symlink cycle?)`);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new DataValidationError(`${dir}: cannot read this folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && statOrNull(full)?.isDirectory())) walk(full, out, depth + 1);
    else if (DATA_FILE_RE.test(entry.name)) {
      const st = entry.isFile() ? undefined : statOrNull(full);
      if (st && !st.isFile()) throw new DataValidationError(`${full}: ${kindOf(st)}, not a regular file; refusing to read it (expected a .csv or .csv.gz file)`);
      out.add(full);
    }
  }
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p);
  } catch (err) {
    if (isNotFound(err)) return null;
    throw new DataValidationError(`${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
