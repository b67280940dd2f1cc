/**
 * `npm run backfill -- --from <files or folders ...> --out <data folder> [--symbols A,B] [--quiet]`
 *
 * Fills the candle archive (services/ml/archive.ts) in a local folder from candle files such as
 * ../shared/data (gzip CSV): every closed 1m candle goes to `<out>/candles/<SYMBOL>/<YYYY-MM-DD>.csv`.
 * Idempotent: running it twice writes nothing the second time. The same archive code writes to S3
 * in the cloud (services/adapters/s3/s3ObjectStore.ts).
 */
import { resolve } from 'node:path';
import { LocalFolderStore } from '../services/adapters/s3/localFolderStore.js';
import { backfillFromVenue, CandleArchive, type ArchiveWriteResult } from '../services/ml/archive.js';
import { symbolId } from '../services/core/types.js';
import { createProgress } from '../services/report/index.js';
import { UsageError, parseFlags } from './args.js';
import { loadSeries } from './loadSeries.js';

export const BACKFILL_USAGE = `usage: npm run backfill -- --from <file or folder ...> --out <data folder> [--symbols A,B] [--quiet]
       npm run backfill -- --venue mexc --symbols A,B --since YYYY-MM-DD [--until YYYY-MM-DD] --out <data folder>

  --from     candle files (.csv or .csv.gz, open_time,open,high,low,close,volume) or folders of them;
             the symbol comes from the file or folder name (e.g. .../BTCUSDT/1m-2025-03.csv.gz)
  --out      the archive folder; day files go to <out>/candles/<SYMBOL>/<YYYY-MM-DD>.csv
  --symbols  only these symbols (required with --venue)
  --venue    mexc: fetch 1m klines from MEXC's public REST API instead of files (network)
  --rest-url a MEXC-compatible REST server instead of MEXC (e.g. the simulator)
  --since    first UTC day to fetch (with --venue); --until: day after the last (default: now)
  --quiet    no progress lines`;

/** Totals of a backfill, per symbol. */
export type BackfillResult = Record<string, ArchiveWriteResult>;

/** Parses argv and fills the archive; `now` decides which candles are closed. */
export async function backfillCommand(argv: readonly string[], out: { log: (s: string) => void; err: (s: string) => void }, now: () => number = () => Date.now()): Promise<BackfillResult> {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        from: { type: 'string', multiple: true },
        out: { type: 'string' },
        symbols: { type: 'string' },
        venue: { type: 'string' },
        'rest-url': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.log(BACKFILL_USAGE);
    throw new UsageError('');
  }
  const from = [...(v.from ?? []), ...parsed.positionals];
  if (!v.out) throw new UsageError('--out is required: the archive folder');
  const only = (v.symbols ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  if (v.venue !== undefined) return venueBackfill(v, only, resolve(v.out), out, now);
  if (from.length === 0) throw new UsageError('--from is required: one or more candle files or folders (or --venue mexc)');
  const loaded = loadSeries(from, only);
  const archive = new CandleArchive(new LocalFolderStore(resolve(v.out)));
  const result: BackfillResult = {};
  for (const s of loaded.series) {
    const progress = v.quiet ? null : createProgress({ total: 0, label: `backfill ${s.symbol}`, unit: 'days', rateUnit: 'days/s', write: (l) => out.err(l), now: () => Date.now(), intervalMs: 1000 });
    const r = await archive.write(s.symbol, s.candles, now(), (_day, done) => progress?.update(done));
    progress?.done();
    result[s.symbol] = r;
    out.log(`${s.symbol}: ${s.candles.length} candles -> ${r.daysWritten} day file(s) written, ${r.daysUnchanged} unchanged, ${r.candlesAdded} candles added, ${r.conflicts} conflicts kept as stored, ${r.skippedOpen} not yet closed`);
  }
  return result;
}

function dayStart(flag: string, s: string): number {
  const t = /^\d{4}-\d{2}-\d{2}$/.test(s) ? Date.parse(`${s}T00:00:00Z`) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`--${flag} must be a UTC day YYYY-MM-DD, got "${s}"`);
  return t;
}

/** `--venue mexc`: pages through the venue's 1m klines into the archive. */
async function venueBackfill(
  v: { venue?: string; since?: string; until?: string; 'rest-url'?: string; quiet?: boolean },
  only: readonly string[],
  outDir: string,
  out: { log: (s: string) => void; err: (s: string) => void },
  now: () => number,
): Promise<BackfillResult> {
  if (v.venue !== 'mexc') throw new UsageError(`--venue must be mexc, got "${v.venue}"`);
  if (only.length === 0) throw new UsageError('--symbols is required with --venue');
  if (v.since === undefined) throw new UsageError('--since is required with --venue');
  const fromT = dayStart('since', v.since);
  const toT = v.until !== undefined ? dayStart('until', v.until) : undefined;
  // Loaded here, not at the top: a file backfill must not need ccxt.
  const { CcxtMexcVenue } = await import('../services/adapters/mexc/ccxtMexcVenue.js');
  const venue = new CcxtMexcVenue(v['rest-url'] !== undefined ? { restUrl: v['rest-url'], enableRateLimit: false } : {});
  const archive = new CandleArchive(new LocalFolderStore(outDir));
  const result: BackfillResult = {};
  try {
    await venue.loadMarkets();
    for (const raw of only) {
      const symbol = symbolId(raw);
      const r = await backfillFromVenue(archive, venue, symbol, {
        from: fromT,
        ...(toT !== undefined ? { to: toT } : {}),
        now: now(),
        onPage: v.quiet ? undefined : (n, last) => out.err(`backfill ${symbol}  ${n} candles  up to ${new Date(last).toISOString().slice(0, 16)}`),
      });
      result[symbol] = r;
      out.log(`${symbol}: ${r.pages} request(s) -> ${r.daysWritten} day file(s) written, ${r.daysUnchanged} unchanged, ${r.candlesAdded} candles added, ${r.conflicts} conflicts kept as stored`);
    }
  } finally {
    await venue.close();
  }
  return result;
}
