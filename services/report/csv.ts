/** trades.csv: one row per closed trade with exact decimals. */

import type { ClosedTrade } from '../analytics/types.js';

/** The columns of trades.csv, in order. */
export const TRADE_CSV_COLUMNS = [
  'id',
  'symbol',
  'direction',
  'entry_time',
  'exit_time',
  'entry_price',
  'exit_price',
  'quantity',
  'fees',
  'gross_pnl',
  'net_pnl',
  'return_pct',
  'exit_reason',
  'exits',
] as const;

/**
 * One CSV field per RFC 4180: quoted (with inner quotes doubled) when it holds a comma, a quote,
 * CR or LF, or has leading/trailing spaces that some readers would trim; otherwise as is.
 */
export function csvField(value: string): string {
  if (/[",\r\n]/.test(value) || value !== value.trim()) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/**
 * trades.csv text: a header and one row per trade in the given order, CRLF line ends (RFC 4180)
 * including after the last row. Money columns are exact (`Dec.toString()`), times ISO-8601 UTC.
 */
export function tradesToCsv(trades: readonly ClosedTrade[]): string {
  const lines: string[] = [TRADE_CSV_COLUMNS.join(',')];
  for (const t of trades) {
    const row = [
      t.id,
      t.symbol,
      t.direction,
      iso(t.entryTime),
      iso(t.exitTime),
      t.entryPrice.toString(),
      t.exitPrice.toString(),
      t.quantity.toString(),
      t.fees.toString(),
      t.grossPnl.toString(),
      t.netPnl.toString(),
      String(t.returnPct),
      t.exitReason,
      String(t.exits),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
