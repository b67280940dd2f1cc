/**
 * What a report reads from the state table for one period, and nothing else: the closed trades
 * (by exit day), their positions (the signal price the entry was decided at), the daily stats, the
 * fills, the operations log and the uptime spans. Reports are built from these records, never from
 * a process's memory, so the Lambda, `npm run report` and the runtime's day-end report agree.
 */
import type { ClosedTrade } from '../analytics/types.js';
import { DAY_MS } from '../core/timeframes.js';
import type { DailyStatsRecord, FillRecord, OpsEventRecord, PositionRecord, StateStore, UptimeRecord } from '../state/types.js';
import { dayOf, type PeriodWindow } from './period.js';

/** Bound on the records of one kind read per UTC day. */
export const MAX_RECORDS_PER_DAY = 10_000;

export interface ReportDataset {
  readonly window: PeriodWindow;
  /** Trades that exited in the period, by exit time. */
  readonly trades: readonly ClosedTrade[];
  /** The position record of each trade (same id), when the state still holds it. */
  readonly positions: ReadonlyMap<string, PositionRecord>;
  readonly days: readonly DailyStatsRecord[];
  readonly fills: readonly FillRecord[];
  readonly ops: readonly OpsEventRecord[];
  /** Uptime items of the period's days and of the day before (a span that crosses midnight). */
  readonly uptime: readonly UptimeRecord[];
  /** True when a list came back at its bound (the report says so: figures may be incomplete). */
  readonly truncated: boolean;
}

/** Reads a period's records. */
export async function loadReportData(store: StateStore, window: PeriodWindow): Promise<ReportDataset> {
  let truncated = false;
  const note = <T>(list: T[]): T[] => {
    if (list.length >= MAX_RECORDS_PER_DAY) truncated = true;
    return list;
  };
  const trades: ClosedTrade[] = [];
  const ops: OpsEventRecord[] = [];
  const uptime: UptimeRecord[] = [];
  const fills: FillRecord[] = [];
  for (const day of window.days) {
    trades.push(...note(await store.listClosedTrades(day, MAX_RECORDS_PER_DAY)));
    ops.push(...note(await store.listOpsEvents(day, MAX_RECORDS_PER_DAY)));
    const start = Date.parse(`${day}T00:00:00Z`);
    fills.push(...note(await store.listFillsBetween(start, start + DAY_MS - 1, MAX_RECORDS_PER_DAY)));
  }
  for (const day of [dayOf(window.start - DAY_MS), ...window.days]) uptime.push(...(await store.listUptime(day, 1000)));
  const positions = new Map<string, PositionRecord>();
  for (const t of trades) {
    const p = await store.get('position', t.id);
    if (p) positions.set(t.id, p.value);
  }
  const days = (await store.listDailyStats(window.days[0]!, window.days[window.days.length - 1]!, 400)).map((v) => v.value);
  trades.sort((a, b) => a.exitTime - b.exitTime);
  return { window, trades, positions, days, fills, ops, uptime, truncated };
}
