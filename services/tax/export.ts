/**
 * The tax ledger's files: the disposals CSV (one row per lot a sell took from, exact decimals),
 * the year's summary, and a CoinTracking-style trade CSV (CoinTracking's "Trade" import columns:
 * Type, Buy Amount, Buy Currency, Sell Amount, Sell Currency, Fee, Fee Currency, Exchange,
 * Trade-Group, Comment, Date), one row per fill, so a tax tool can redo the lots itself. Amounts
 * are gross (price x quantity); the fee is in its own columns, in the asset it was charged in.
 */
import { csvField } from '../report/csv.js';
import { Dec } from '../core/money.js';
import { splitSymbol } from '../core/types.js';
import type { FillRecord } from '../state/types.js';
import type { DisposalRow, FifoResult } from './fifo.js';

const iso = (t: number | null): string => (t === null ? '' : new Date(t).toISOString());
const line = (fields: readonly string[]): string => fields.map(csvField).join(',');

export const DISPOSAL_COLUMNS = ['disposal_id', 'symbol', 'asset', 'quote', 'lot_id', 'acquired_at', 'disposed_at', 'quantity', 'proceeds', 'cost_basis', 'fee', 'gain'] as const;

export function disposalsCsv(rows: readonly DisposalRow[]): string {
  const out = [DISPOSAL_COLUMNS.join(',')];
  for (const r of rows) out.push(line([r.id, r.symbol, r.asset, r.quote, r.lotId, iso(r.acquiredAt), iso(r.disposedAt), r.quantity.toString(), r.proceeds.toString(), r.costBasis.toString(), r.fee.toString(), r.gain.toString()]));
  return out.join('\n') + '\n';
}

export const COINTRACKING_COLUMNS = ['Type', 'Buy Amount', 'Buy Currency', 'Sell Amount', 'Sell Currency', 'Fee', 'Fee Currency', 'Exchange', 'Trade-Group', 'Comment', 'Date'] as const;

/** "YYYY-MM-DD HH:MM:SS", UTC. */
const ctDate = (t: number): string => new Date(t).toISOString().slice(0, 19).replace('T', ' ');

export function coinTrackingCsv(fills: readonly FillRecord[], exchange = 'MEXC'): string {
  const out = [COINTRACKING_COLUMNS.map(csvField).join(',')];
  for (const f of [...fills].sort((a, b) => a.time - b.time)) {
    const { base, quote } = splitSymbol(f.symbol);
    const notional = f.price.mul(f.quantity).toString();
    const buy = f.side === 'buy';
    out.push(line(['Trade', buy ? f.quantity.toString() : notional, buy ? base : quote, buy ? notional : f.quantity.toString(), buy ? quote : base, f.fee.toString(), f.feeAsset, exchange, f.symbol, `${f.tradeId} ${f.clientOrderId}`, ctDate(f.time)]));
  }
  return out.join('\n') + '\n';
}

export interface AssetTotals {
  readonly disposals: number;
  readonly quantity: string;
  readonly proceeds: string;
  readonly costBasis: string;
  readonly fees: string;
  readonly gain: string;
}

/** Totals per asset (and `all`, in the quote asset when every row shares one). */
export function totalsByAsset(r: FifoResult): Record<string, AssetTotals> {
  const by = new Map<string, DisposalRow[]>();
  for (const row of r.rows) by.set(row.asset, [...(by.get(row.asset) ?? []), row]);
  const sum = (rows: readonly DisposalRow[], k: 'quantity' | 'proceeds' | 'costBasis' | 'fee' | 'gain'): string => Dec.sum(rows.map((x) => x[k])).toString();
  const t = (rows: readonly DisposalRow[]): AssetTotals => ({ disposals: rows.length, quantity: sum(rows, 'quantity'), proceeds: sum(rows, 'proceeds'), costBasis: sum(rows, 'costBasis'), fees: sum(rows, 'fee'), gain: sum(rows, 'gain') });
  const out: Record<string, AssetTotals> = {};
  for (const [k, rows] of [...by.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) out[k] = t(rows);
  const quotes = new Set(r.rows.map((x) => x.quote));
  if (quotes.size <= 1) out.all = { ...t(r.rows), quantity: '' };
  return out;
}
