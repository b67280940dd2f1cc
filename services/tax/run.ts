/**
 * One tax year: the fills from the state table (the year and `historyYears` before it, so lots
 * bought earlier are there), the FIFO ledger, the reconciliation, and the files written to the
 * artifact store under `tax/<year>/`: disposals.csv, cointracking.csv and ledger.json (totals per
 * asset, open lots at the year's end, issues, the reconciliation).
 */
import type { ClosedTrade } from '../analytics/types.js';
import { Dec } from '../core/money.js';
import { DAY_MS, MINUTE_MS } from '../core/timeframes.js';
import type { CandleArchive, ObjectStore } from '../ml/archive.js';
import { yearWindow } from '../reporting/period.js';
import type { FillRecord, StateStore } from '../state/types.js';
import { coinTrackingCsv, disposalsCsv, totalsByAsset } from './export.js';
import { buildFifoLedger, type FifoResult, type PriceSource } from './fifo.js';
import { reconcileFills, type ReconcileReport } from './reconcile.js';

/** Bound on the fills read per UTC day. */
const MAX_FILLS_PER_DAY = 10_000;

/** Fee-asset prices from the candle archive: the close of the `<asset><quote>` 1m candle of the fill's minute. */
export class ArchivePriceSource implements PriceSource {
  constructor(private readonly archive: CandleArchive) {}
  async priceAt(asset: string, quote: string, time: number): Promise<Dec | undefined> {
    const start = time - (time % MINUTE_MS);
    try {
      const c = await this.archive.read(`${asset}${quote}`, start, start + MINUTE_MS);
      return c[0] ? Dec.from(c[0].close) : undefined;
    } catch {
      return undefined;
    }
  }
}

export interface TaxRunDeps {
  readonly store: StateStore;
  readonly prices: PriceSource;
  /** Where the files go (the bucket, or `--out` locally); none: nothing is written. */
  readonly out?: ObjectStore;
  /** The exchange's fills of the year, when available, to reconcile against. */
  readonly exchangeFills?: readonly FillRecord[];
  /** Years of fills before the tax year read for the lots (default 3). */
  readonly historyYears?: number;
}

/**
 * What the exchange side of the reconciliation rests on, as ledger.json states it. Without the
 * exchange's fills given to the run (the Lambda never fetches them: a year of MEXC trade history is
 * per symbol and paged), the check against the exchange is the reconcile job's: every 5 minutes it
 * copies the account's fills from the exchange into the state's fill ledger, once per trade id.
 */
export function exchangeCheckNote(exchangeFills: number | null): string {
  return exchangeFills === null
    ? "not compared with the exchange's fills in this run (none were given): on AWS the exchange check relies on the reconcile job (every 5 minutes) having copied the exchange's fills into the state's fill ledger, which is what this ledger is built from; locally, npm run tax -- --exchange-fills <file.json> compares them"
    : `compared with the ${exchangeFills} exchange fills given to this run`;
}

export interface TaxRunResult {
  readonly year: number;
  readonly ledger: FifoResult;
  readonly reconciliation: ReconcileReport;
  /** exchangeCheckNote of the run. */
  readonly exchangeCheck: string;
  readonly totals: ReturnType<typeof totalsByAsset>;
  readonly truncated: boolean;
  readonly keys: readonly string[];
}

export function taxKeys(year: number) {
  return { disposals: `tax/${year}/disposals.csv`, cointracking: `tax/${year}/cointracking.csv`, ledger: `tax/${year}/ledger.json` };
}

export async function runTaxYear(deps: TaxRunDeps, year: number): Promise<TaxRunResult> {
  const { start, end } = yearWindow(year);
  const history = yearWindow(year - (deps.historyYears ?? 3)).start;
  const fills: FillRecord[] = [];
  const trades: ClosedTrade[] = [];
  let truncated = false;
  for (let d = history; d < end; d += DAY_MS) {
    const f = await deps.store.listFillsBetween(d, d + DAY_MS - 1, MAX_FILLS_PER_DAY);
    if (f.length >= MAX_FILLS_PER_DAY) truncated = true;
    fills.push(...f);
    if (d >= start) trades.push(...(await deps.store.listClosedTrades(new Date(d).toISOString().slice(0, 10), MAX_FILLS_PER_DAY)));
  }
  const ledger = await buildFifoLedger(fills, { from: start, to: end }, deps.prices);
  const yearFills = fills.filter((f) => f.time >= start && f.time < end);
  const reconciliation = reconcileFills(yearFills, trades, deps.exchangeFills);
  const totals = totalsByAsset(ledger);
  const exchangeCheck = exchangeCheckNote(reconciliation.exchangeFills);
  const keys = taxKeys(year);
  if (deps.out) {
    const enc = (s: string) => new TextEncoder().encode(s);
    await deps.out.put(keys.disposals, enc(disposalsCsv(ledger.rows)), 'text/csv; charset=utf-8');
    await deps.out.put(keys.cointracking, enc(coinTrackingCsv(yearFills)), 'text/csv; charset=utf-8');
    const summary = {
      year,
      method: 'FIFO per base asset, fees valued in the quote asset at the fill',
      period: { from: new Date(start).toISOString(), to: new Date(end).toISOString() },
      totals,
      disposals: ledger.rows.length,
      acquisitions: ledger.acquisitions.length,
      openLots: ledger.openLots.map((l) => ({ ...l, quantity: l.quantity.toString(), cost: l.cost.toString(), acquiredAt: new Date(l.acquiredAt).toISOString() })),
      issues: ledger.issues,
      reconciliation,
      exchangeCheck,
      truncated,
    };
    await deps.out.put(keys.ledger, enc(JSON.stringify(summary, null, 2)), 'application/json');
  }
  return { year, ledger, reconciliation, exchangeCheck, totals, truncated, keys: deps.out ? Object.values(keys) : [] };
}
