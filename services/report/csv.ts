/** trades.csv: one row per closed trade with exact decimals, its plan and its path. */

import type { ClosedTrade, TradePlan } from '../analytics/types.js';

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
  // The plan and the path (empty for a trade recorded without them). Excursions are in percent of
  // the entry price and in R (per unit: the entry's distance to its initial stop).
  'stop',
  'final_stop',
  'targets',
  'initial_risk',
  'r_multiple',
  'high_price',
  'low_price',
  'mfe_pct',
  'mae_pct',
  'mfe_r',
  'mae_r',
  'entry_fees',
  'exit_fees',
  'entry_reference',
  'entry_slippage',
  'exit_slippage',
  'duration_min',
] as const;

/** The plan columns of one trade (see TradePlan); empty strings without a plan. */
function planFields(t: ClosedTrade): string[] {
  // Minutes to 4 decimals (6 ms): finer would only print float noise.
  const duration = Number.isFinite(t.exitTime - t.entryTime) ? String(Math.round((t.exitTime - t.entryTime) / 6) / 10_000) : '';
  const p: TradePlan | undefined = t.plan;
  if (!p) return [...Array<string>(16).fill(''), duration];
  const entry = t.entryPrice.toNumber();
  const perUnitRisk = entry - p.stop.toNumber();
  // A long's favourable excursion is up, its adverse one down; never negative (0: price never went there).
  const mfe = Math.max(0, p.highPrice - entry);
  const mae = Math.max(0, entry - p.lowPrice);
  const num = (x: number): string => (Number.isFinite(x) ? String(x) : '');
  const inR = (x: number): string => (perUnitRisk > 0 ? num(x / perUnitRisk) : '');
  return [
    p.stop.toString(),
    p.finalStop.toString(),
    p.targets.map((x) => x.toString()).join(' '),
    p.initialRisk.toString(),
    p.rMultiple === null ? '' : String(p.rMultiple),
    num(p.highPrice),
    num(p.lowPrice),
    entry > 0 ? num((mfe / entry) * 100) : '',
    entry > 0 ? num((mae / entry) * 100) : '',
    inR(mfe),
    inR(mae),
    p.entryFees.toString(),
    p.exitFees.toString(),
    String(p.entryReference),
    p.entrySlippage.toString(),
    p.exitSlippage.toString(),
    duration,
  ];
}

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
      ...planFields(t),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}
