/**
 * The candle archive: closed 1m candles stored per symbol and UTC day under
 * `candles/<SYMBOL>/<YYYY-MM-DD>.csv` (header `open_time,open,high,low,close,volume`), in an object
 * store behind the `ObjectStore` port (S3 in the cloud, a local folder on one machine; both in
 * services/adapters/s3/). Training reads it back; the retrain job and `npm run backfill` fill it.
 *
 * Writes are idempotent: a day file is the union of what is stored and what is written, one
 * candle per open time, sorted; when a candle is already stored the stored copy is kept (and a
 * differing new copy is counted as a conflict), and a day whose content would not change is not
 * written again. Only CLOSED candles are archived: a candle whose close time is after `now` is
 * still forming and is skipped.
 */
import { parseCandleCsv } from '../candles/candleCsv.js';
import { DataValidationError } from '../core/errors.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { Candle, SymbolId } from '../core/types.js';

/** An object store: S3 or a local folder. Keys are `/`-separated relative paths. */
export interface ObjectStore {
  /** The object's bytes, or null when there is no such key. */
  get(key: string): Promise<Uint8Array | null>;
  /** Creates or replaces the object. */
  put(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  /** Keys starting with `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
}

const HEADER = 'open_time,open,high,low,close,volume';
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const SYMBOL_RE = /^[A-Z0-9]{2,20}$/;

/** "YYYY-MM-DD" of the UTC day containing epoch ms `t`. */
export function utcDay(t: number): string {
  return new Date(t - (((t % DAY_MS) + DAY_MS) % DAY_MS)).toISOString().slice(0, 10);
}

/** The archive key of a symbol's day. */
export function archiveKey(symbol: string, day: string): string {
  if (!SYMBOL_RE.test(symbol)) throw new RangeError(`archive: invalid symbol "${symbol}" (expected upper-case letters and digits)`);
  if (!DAY_RE.test(day)) throw new RangeError(`archive: invalid day "${day}" (expected YYYY-MM-DD)`);
  return `candles/${symbol}/${day}.csv`;
}

/** Candles as archive CSV; numbers in JavaScript's shortest round-trip form, so parsing gives them back exactly. */
export function candlesToCsv(candles: readonly Candle[]): string {
  const lines = [HEADER];
  for (const c of candles) lines.push(`${c.openTime},${c.open},${c.high},${c.low},${c.close},${c.volume}`);
  return lines.join('\n') + '\n';
}

/** What one archive write did. */
export interface ArchiveWriteResult {
  /** Day files created or changed. */
  readonly daysWritten: number;
  /** Day files whose content already held every candle given. */
  readonly daysUnchanged: number;
  /** Candles new to the archive. */
  readonly candlesAdded: number;
  /** Candles already stored with different values (the stored copy is kept). */
  readonly conflicts: number;
  /** Candles not yet closed at `now`, not written. */
  readonly skippedOpen: number;
}

/** An archive is read back by strict parsers: a candle they would reject is refused at the door. */
function checkCandle(symbol: string, c: Candle): void {
  const ok =
    Number.isInteger(c.openTime) && c.openTime >= 0 && c.openTime % MINUTE_MS === 0 && c.low > 0 && c.high >= c.low && c.open >= c.low && c.open <= c.high && c.close >= c.low && c.close <= c.high && c.volume >= 0 && Number.isFinite(c.high) && Number.isFinite(c.volume);
  if (!ok) throw new DataValidationError(`archive ${symbol}: invalid candle ${JSON.stringify(c)} (expected a 1m candle on the minute grid with 0 < low <= open, close <= high and volume >= 0)`);
}

function sameCandle(a: Candle, b: Candle): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume;
}

/** The candle archive over an object store. */
export class CandleArchive {
  constructor(private readonly store: ObjectStore) {}

  /** The stored candles of a symbol's day (empty when the day is not archived). */
  async readDay(symbol: string, day: string): Promise<Candle[]> {
    const key = archiveKey(symbol, day);
    const bytes = await this.store.get(key);
    if (!bytes) return [];
    return parseCandleCsv(new TextDecoder().decode(bytes), { source: key, intervalMs: MINUTE_MS }).candles;
  }

  /**
   * Archives the closed 1m candles of `symbol` (any order, any span): grouped by UTC day of their
   * open time and merged into the stored day files. `now` (epoch ms) decides which are closed.
   */
  async write(symbol: string, candles: readonly Candle[], now: number, onDay?: (day: string, done: number, total: number) => void): Promise<ArchiveWriteResult> {
    const byDay = new Map<string, Candle[]>();
    let skippedOpen = 0;
    for (const c of candles) {
      checkCandle(symbol, c);
      if (c.openTime + MINUTE_MS > now) {
        skippedOpen++;
        continue;
      }
      const d = utcDay(c.openTime);
      let list = byDay.get(d);
      if (!list) byDay.set(d, (list = []));
      list.push(c);
    }
    let daysWritten = 0;
    let daysUnchanged = 0;
    let candlesAdded = 0;
    let conflicts = 0;
    const days = [...byDay.keys()].sort();
    let done = 0;
    for (const day of days) {
      const stored = await this.readDay(symbol, day);
      const merged = new Map<number, Candle>();
      for (const c of stored) merged.set(c.openTime, c);
      let added = 0;
      for (const c of byDay.get(day)!) {
        const have = merged.get(c.openTime);
        if (have) {
          if (!sameCandle(have, c)) conflicts++;
          continue;
        }
        merged.set(c.openTime, c);
        added++;
      }
      if (added === 0) daysUnchanged++;
      else {
        const sorted = [...merged.values()].sort((a, b) => a.openTime - b.openTime);
        await this.store.put(archiveKey(symbol, day), new TextEncoder().encode(candlesToCsv(sorted)), 'text/csv');
        daysWritten++;
        candlesAdded += added;
      }
      onDay?.(day, ++done, days.length);
    }
    return { daysWritten, daysUnchanged, candlesAdded, conflicts, skippedOpen };
  }

  /** Archived days of a symbol, sorted. */
  async days(symbol: string): Promise<string[]> {
    const prefix = `candles/${symbol}/`;
    return (await this.store.list(prefix))
      .map((k) => k.slice(prefix.length))
      .filter((n) => /^\d{4}-\d{2}-\d{2}\.csv$/.test(n))
      .map((n) => n.slice(0, 10))
      .sort();
  }

  /** Symbols with at least one archived day. */
  async symbols(): Promise<string[]> {
    const set = new Set<string>();
    for (const k of await this.store.list('candles/')) {
      const m = /^candles\/([A-Z0-9]{2,20})\/\d{4}-\d{2}-\d{2}\.csv$/.exec(k);
      if (m) set.add(m[1]!);
    }
    return [...set].sort();
  }

  /** The archived candles of `symbol` with open time in [from, to), sorted. */
  async read(symbol: string, from: number, to: number): Promise<Candle[]> {
    const first = utcDay(from);
    const last = utcDay(to - 1);
    const out: Candle[] = [];
    for (const day of await this.days(symbol)) {
      if (day < first || day > last) continue;
      for (const c of await this.readDay(symbol, day)) if (c.openTime >= from && c.openTime < to) out.push(c);
    }
    return out;
  }
}

/** The one venue call a klines backfill needs (VenueClient.fetchKlines, services/venue/types.ts). */
export interface KlineSource {
  fetchKlines(symbol: SymbolId, interval: '1m', since?: number, limit?: number): Promise<Candle[]>;
}

/** Options of backfillFromVenue. */
export interface VenueBackfillOptions {
  /** Open time of the first candle wanted (epoch ms, inclusive). */
  readonly from: number;
  /** Open time bound (exclusive); default `now`. */
  readonly to?: number;
  /** Epoch ms: only candles closed by then are archived. */
  readonly now: number;
  /** Candles per request (MEXC serves at most 1000). */
  readonly pageSize?: number;
  /** Most requests, a bound against a venue that keeps answering with the same page. */
  readonly maxPages?: number;
  readonly onPage?: (fetched: number, lastOpenTime: number) => void;
}

/**
 * Fills the archive with 1m klines from the venue, page by page from `from`, writing each page as it
 * arrives (a crash loses at most one page, and a rerun skips what is stored). Stops at `to`, when
 * the venue has nothing newer, or after `maxPages` requests.
 */
export async function backfillFromVenue(archive: CandleArchive, venue: KlineSource, symbol: SymbolId, o: VenueBackfillOptions): Promise<ArchiveWriteResult & { pages: number }> {
  const to = Math.min(o.to ?? o.now, o.now);
  const pageSize = o.pageSize ?? 1000;
  const maxPages = o.maxPages ?? 100_000;
  let since = o.from;
  let pages = 0;
  const total = { daysWritten: 0, daysUnchanged: 0, candlesAdded: 0, conflicts: 0, skippedOpen: 0 };
  let fetched = 0;
  while (since < to && pages < maxPages) {
    const page = await venue.fetchKlines(symbol, '1m', since, pageSize);
    pages++;
    const wanted = page.filter((c) => c.openTime >= since && c.openTime < to);
    if (wanted.length === 0) break;
    const r = await archive.write(symbol, wanted, o.now);
    total.daysWritten += r.daysWritten;
    total.daysUnchanged += r.daysUnchanged;
    total.candlesAdded += r.candlesAdded;
    total.conflicts += r.conflicts;
    total.skippedOpen += r.skippedOpen;
    fetched += wanted.length;
    const last = wanted[wanted.length - 1]!.openTime;
    o.onPage?.(fetched, last);
    if (last + MINUTE_MS <= since) break; // no progress
    since = last + MINUTE_MS;
  }
  return { ...total, pages };
}
