/**
 * A minimal, allocation-light CSV line reader shared by the candle and tick parsers.
 *
 * Market-data files are plain numeric CSV (no quoting, no embedded commas), so a hand-rolled scan
 * with `indexOf` is both simpler and several times faster than a general CSV library: field
 * boundaries go into a reused Int32Array and a field becomes a string only when it is read.
 * Lines may end in `\n` or `\r\n` (the exchange dumps use CRLF); blank lines are skipped.
 */

/** Most columns a line may have; a header wider than this is rejected by the callers. */
export const MAX_COLUMNS = 64;

/** Reads a CSV text line by line. `next()` moves to the next non-blank line. */
export class CsvLineReader {
  /** 1-based physical line number of the current line (blank lines count), for error messages. */
  line = 0;
  /** Number of fields on the current line (may exceed MAX_COLUMNS; only the first are stored). */
  count = 0;
  private pos = 0;
  private lineStart = 0;
  private lineEnd = 0;
  private readonly starts = new Int32Array(MAX_COLUMNS);
  private readonly ends = new Int32Array(MAX_COLUMNS);

  /**
   * `firstLine` numbers the text's first line (a chunk of a longer input continues the count);
   * `atStart` says the text is the start of the input, where a byte-order mark may stand.
   */
  constructor(
    private readonly text: string,
    firstLine = 1,
    atStart = true,
  ) {
    this.line = firstLine - 1;
    // A UTF-8 byte-order mark would otherwise become part of the first header name.
    if (atStart && text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  /** Advances to the next non-blank line; false at the end of the text. */
  next(): boolean {
    const text = this.text;
    const len = text.length;
    while (this.pos < len) {
      let end = text.indexOf('\n', this.pos);
      if (end === -1) end = len;
      const start = this.pos;
      let lineEnd = end;
      if (lineEnd > start && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
      this.pos = end + 1;
      this.line++;
      if (lineEnd === start || isBlank(text, start, lineEnd)) continue;
      this.lineStart = start;
      this.lineEnd = lineEnd;
      this.split();
      return true;
    }
    return false;
  }

  /** The raw text of field `i` (trimmed of surrounding spaces), or '' if the line has fewer fields. */
  field(i: number): string {
    if (i >= this.count || i >= MAX_COLUMNS) return '';
    let a = this.starts[i]!;
    let b = this.ends[i]!;
    const text = this.text;
    while (a < b && text.charCodeAt(a) === 32) a++;
    while (b > a && text.charCodeAt(b - 1) === 32) b--;
    return text.slice(a, b);
  }

  /** Field `i` as a strict finite number, NaN when it is empty, not a decimal number, NaN or ±Infinity. */
  num(i: number): number {
    if (i >= this.count || i >= MAX_COLUMNS) return NaN;
    const v = fastDecimal(this.text, this.starts[i]!, this.ends[i]!);
    return v === undefined ? strictNumber(this.field(i)) : v;
  }

  /** Field `i` as epoch ms (see parseTimestamp), NaN when it is not a timestamp. */
  time(i: number): number {
    if (i >= this.count || i >= MAX_COLUMNS) return NaN;
    const v = fastDecimal(this.text, this.starts[i]!, this.ends[i]!);
    return v === undefined ? parseTimestamp(this.field(i)) : epochMsFromNumber(v);
  }

  /** The whole current line, for error messages (cut to 120 characters). */
  lineText(): string {
    const s = this.text.slice(this.lineStart, this.lineEnd);
    return s.length > 120 ? s.slice(0, 117) + '...' : s;
  }

  private split(): void {
    const text = this.text;
    let a = this.lineStart;
    let n = 0;
    for (;;) {
      let comma = text.indexOf(',', a);
      if (comma === -1 || comma > this.lineEnd) comma = this.lineEnd;
      if (n < MAX_COLUMNS) {
        this.starts[n] = a;
        this.ends[n] = comma;
      }
      n++;
      if (comma >= this.lineEnd) break;
      a = comma + 1;
    }
    this.count = n;
  }
}

// Exact powers of ten: every one up to 1e22 is representable as a double.
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * Parses a plain decimal (`-123.456`: optional sign, at most 15 digits, no exponent) straight from
 * the text, without creating a substring; undefined when the field has any other form, and the
 * caller falls back to `Number`. Exact: an integer below 2^53 divided by an exact power of ten
 * (<= 1e22) is one correctly rounded IEEE operation, so the result equals `Number(s)` (the
 * classic fast path of decimal-to-binary conversion). This is most of the parser's speed.
 */
function fastDecimal(text: string, a: number, b: number): number | undefined {
  let i = a;
  let neg = false;
  const c0 = text.charCodeAt(i);
  if (c0 === 45 || c0 === 43) {
    neg = c0 === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let frac = -1; // digits after the point, -1 while no point was seen
  for (; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      mant = mant * 10 + (c - 48);
      digits++;
      if (frac >= 0) frac++;
    } else if (c === 46 && frac < 0) {
      frac = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > 15) return undefined;
  const v = frac > 0 ? mant / POW10[frac]! : mant;
  return neg ? -v : v;
}

function isBlank(text: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Parses a decimal number strictly: NaN for '', whitespace, 'NaN', 'Infinity', hex/binary/octal
 * literals and anything `Number` would reject; NaN also for values that overflow to ±Infinity.
 * (`Number('')` is 0 and `Number('0x10')` is 16, which is why `Number` alone is not enough.)
 */
export function strictNumber(s: string): number {
  if (s.length === 0) return NaN;
  const c0 = s.charCodeAt(0);
  // Allowed first characters: digit, '.', '-', '+'. This rejects 'NaN', 'Infinity', ' 1'.
  if (!((c0 >= 48 && c0 <= 57) || c0 === 46 || c0 === 45 || c0 === 43)) return NaN;
  if (c0 === 48 && s.length > 1) {
    const c1 = s.charCodeAt(1) | 0x20; // lower-case
    if (c1 === 0x78 || c1 === 0x62 || c1 === 0x6f) return NaN; // 0x.., 0b.., 0o..
  }
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date-time as UTC epoch milliseconds, NaN if it is not one.
 * A string without a zone designator is taken as UTC (never as the machine's local time, which
 * would make results depend on where the code runs). Fractions beyond milliseconds are truncated.
 */
export function parseIsoUtc(s: string): number {
  const m = ISO_RE.exec(s);
  if (!m) return NaN;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] ? Number(m[4]) : 0;
  const mi = m[5] ? Number(m[5]) : 0;
  const sec = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) return NaN;
  let t = Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  // Date.UTC rolls 2021-02-30 over to March 2nd; reject such dates instead.
  if (new Date(t).getUTCDate() !== d) return NaN;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (zh > 23 || zm > 59) return NaN;
    // 10:00+02:00 is 08:00Z: subtract the offset.
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

/**
 * Parses a timestamp field as UTC epoch milliseconds, NaN if it is not a timestamp.
 *
 * Numbers are told apart by magnitude: below 1e11 they are epoch seconds (1e11 s is the year 5138,
 * while 1e11 ms is March 1973, before any market data), below 1e14 milliseconds, below 1e17
 * microseconds (Binance's public spot dumps switched to microseconds in 2025). Fractional results
 * are rounded to the millisecond. Anything else must be ISO-8601 (see parseIsoUtc).
 */
export function parseTimestamp(s: string): number {
  const v = strictNumber(s);
  return Number.isNaN(v) ? parseIsoUtc(s) : epochMsFromNumber(v);
}

/** Epoch seconds, milliseconds or microseconds (by magnitude, see parseTimestamp) to epoch ms. */
function epochMsFromNumber(v: number): number {
  if (v < 0) return NaN;
  if (v < 1e11) return Math.round(v * 1000);
  if (v < 1e14) return Math.round(v);
  if (v < 1e17) return Math.round(v / 1000);
  return NaN;
}

/** A column a parser needs: its canonical name and the header names accepted for it. */
export interface ColumnSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  /** Optional columns may be absent from a header; their index is then -1. */
  readonly optional?: boolean;
}

/**
 * Maps header names to column indexes (case-insensitive, surrounding quotes and spaces ignored).
 * Returns the first missing required column's spec instead of indexes when one is absent.
 */
export function resolveHeader(reader: CsvLineReader, specs: readonly ColumnSpec[]): { indexes: number[] } | { missing: ColumnSpec } {
  const names: string[] = [];
  for (let i = 0; i < Math.min(reader.count, MAX_COLUMNS); i++) names.push(reader.field(i).replace(/^"|"$/g, '').trim().toLowerCase());
  const indexes: number[] = [];
  for (const spec of specs) {
    let idx = -1;
    for (const alias of spec.aliases) {
      idx = names.indexOf(alias);
      if (idx !== -1) break;
    }
    if (idx === -1 && !spec.optional) return { missing: spec };
    indexes.push(idx);
  }
  return { indexes };
}

/** Formats epoch ms as ISO-8601 UTC for messages, or the raw number if it is out of range. */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** Lines in `text`, blank ones included (a chunk's count continues the next chunk's numbering). */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  // A last line without its newline (only at the end of the input) is a line too.
  return text.length > 0 && text.charCodeAt(text.length - 1) !== 10 ? n + 1 : n;
}
