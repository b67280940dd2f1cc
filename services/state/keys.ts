/**
 * The single-table key design (documented in services/state/README.md, implemented here in one
 * place): the primary key and index entries of every record.
 */
import { DomainError } from '../core/errors.js';
import type { OpsEventRecord, RecommendationRecord, UptimeRecord } from './reportRecords.js';
import { TERMINAL_ORDER_STATES, type AuditRecord, type ClosedTradeRecord, type CommandLogRecord, type DailyStatsRecord, type EntityKind, type EntityMap, type FillRecord, type HeartbeatRecord, type LeaseRecord, type OrderRecord, type PositionRecord, type PublicationRecord } from './records.js';

/** The id of the single risk-state item and of the model pointer. */
export const SINGLETON_ID = 'main';

/** Key attributes of an item (see README.md). GSI attributes are absent when the item is not in that index. */
export interface ItemKeys {
  readonly PK: string;
  readonly SK: string;
  readonly GSI1PK?: string;
  readonly GSI1SK?: string;
  readonly GSI2PK?: string;
  readonly GSI2SK?: string;
}

/** Names of the secondary indexes (see README.md for why each exists). */
export type IndexName = 'GSI1' | 'GSI2';

/** The UTC day (yyyy-mm-dd) of an epoch-ms time. */
export function utcDayOf(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** Epoch ms zero-padded to 13 digits, so string order is time order (until the year 2286). */
function time13(t: number): string {
  return String(t).padStart(13, '0');
}

/** The id under which `get(kind, id)` finds a record. */
export function idOf<K extends EntityKind>(kind: K, value: EntityMap[K]): string {
  const v: EntityMap[EntityKind] = value;
  switch (kind) {
    case 'position':
      return (v as PositionRecord).id;
    case 'order':
      return (v as OrderRecord).clientOrderId;
    case 'fill':
      return `${(v as FillRecord).symbol}#${(v as FillRecord).tradeId}`;
    case 'trade':
      return (v as ClosedTradeRecord).id;
    case 'day':
      return (v as DailyStatsRecord).day;
    case 'lease':
      return (v as LeaseRecord).symbol;
    case 'heartbeat':
      return (v as HeartbeatRecord).owner;
    case 'command':
      return (v as CommandLogRecord).id;
    case 'risk':
    case 'model':
    case 'snapshot':
      return SINGLETON_ID;
    case 'audit': {
      const a = v as AuditRecord;
      return `${utcDayOf(a.time)}#${time13(a.time)}#${a.traceId}#${String(a.seq).padStart(4, '0')}`;
    }
    case 'ops':
      return (v as OpsEventRecord).id;
    case 'uptime':
      return uptimeId((v as UptimeRecord).day, (v as UptimeRecord).owner);
    case 'recommendation':
      return (v as RecommendationRecord).id;
    case 'publication':
      return `${(v as PublicationRecord).kind}#${(v as PublicationRecord).period}`;
  }
  throw new DomainError(`unknown entity kind ${String(kind)}`);
}

/** Primary key of the item holding `kind`/`id`. */
export function primaryKey(kind: EntityKind, id: string): { PK: string; SK: string } {
  switch (kind) {
    case 'position':
      return { PK: `POS#${id}`, SK: 'POS' };
    case 'order':
      return { PK: `ORDER#${id}`, SK: 'ORDER' };
    case 'fill':
      return { PK: `FILL#${id}`, SK: 'FILL' };
    case 'trade':
      return { PK: `TRADE#${id}`, SK: 'TRADE' };
    case 'day':
      return { PK: `DAY#${id}`, SK: 'DAY' };
    case 'risk':
      return { PK: 'RISK', SK: id };
    case 'lease':
      return { PK: `LEASE#${id}`, SK: 'LEASE' };
    case 'heartbeat':
      return { PK: `HEARTBEAT#${id}`, SK: 'HEARTBEAT' };
    case 'model':
      return { PK: 'MODEL', SK: id };
    case 'snapshot':
      return { PK: 'SNAPSHOT', SK: id };
    case 'command':
      return { PK: `CMD#${id}`, SK: 'CMD' };
    case 'audit':
      // id = <yyyy-mm-dd>#<time13>#<traceId>#<seq>: one partition per UTC day, sorted by time.
      return { PK: auditOfDayPk(id.slice(0, 10)), SK: id.slice(11) };
    case 'ops':
      return { PK: `OPS#${id}`, SK: 'OPS' };
    case 'uptime':
      return { PK: `UPTIME#${id}`, SK: 'UPTIME' };
    case 'recommendation':
      return { PK: `REC#${id}`, SK: 'REC' };
    case 'publication':
      // One partition of at most six items (two kinds, three periods): the dashboard reads it whole.
      return { PK: PUBLISHED_PK, SK: id };
  }
}

/** The id of one owner's uptime item of a UTC day. */
export function uptimeId(day: string, owner: string): string {
  return `${day}#${owner}`;
}

/** Partition of the latest report and review of each period. */
export const PUBLISHED_PK = 'PUBLISHED';
/** GSI partition of positions that are not closed. */
export const OPEN_POSITIONS_PK = 'OPEN#POS';
/** GSI partition of orders that are not terminal. */
export const OPEN_ORDERS_PK = 'OPEN#ORDER';
/** GSI partition of the daily stats items. */
export const DAYS_PK = 'DAYS';
/** GSI1 partition of one order's fills. */
export const orderFillsPk = (clientOrderId: string): string => `ORDERFILLS#${clientOrderId}`;
/** GSI2 partition of the fills of one UTC day. */
export const fillsOfDayPk = (day: string): string => `FILLS#${day}`;
/** GSI2 partition of the closed trades of one UTC day (by exit time). */
export const tradesOfDayPk = (day: string): string => `TRADES#${day}`;
/** GSI2 partition of the console's command log of one UTC day. */
export const commandsOfDayPk = (day: string): string => `COMMANDS#${day}`;
/** Partition of the signal audit events of one UTC day (base table, sorted by time). */
export const auditOfDayPk = (day: string): string => `AUDIT#${day}`;
/** GSI2 partition of the operations log of one UTC day. */
export const opsOfDayPk = (day: string): string => `OPS#${day}`;
/** GSI2 partition of the uptime items of one UTC day. */
export const uptimeOfDayPk = (day: string): string => `UPTIME#${day}`;
/** GSI2 partition of the recommendation ledger. */
export const RECOMMENDATIONS_PK = 'RECS';
/** Partition of quarantined items. */
export const QUARANTINE_PK = 'QUARANTINE';

/** All key attributes of a record: its primary key and its index entries. */
export function itemKeys<K extends EntityKind>(kind: K, value: EntityMap[K]): ItemKeys {
  const pk = primaryKey(kind, idOf(kind, value));
  const v: EntityMap[EntityKind] = value;
  switch (kind) {
    case 'position': {
      const p = v as PositionRecord;
      // Sparse: a closed position leaves the index, so "open positions" never grows with history.
      return p.state === 'closed' ? pk : { ...pk, GSI1PK: OPEN_POSITIONS_PK, GSI1SK: `${p.symbol}#${p.id}` };
    }
    case 'order': {
      const o = v as OrderRecord;
      return TERMINAL_ORDER_STATES.has(o.state) ? pk : { ...pk, GSI1PK: OPEN_ORDERS_PK, GSI1SK: `${o.state}#${o.clientOrderId}` };
    }
    case 'fill': {
      const f = v as FillRecord;
      return {
        ...pk,
        GSI1PK: orderFillsPk(f.clientOrderId),
        GSI1SK: `${time13(f.time)}#${f.tradeId}`,
        GSI2PK: fillsOfDayPk(utcDayOf(f.time)),
        GSI2SK: `${time13(f.time)}#${f.symbol}#${f.tradeId}`,
      };
    }
    case 'trade': {
      const t = v as ClosedTradeRecord;
      return { ...pk, GSI2PK: tradesOfDayPk(utcDayOf(t.exitTime)), GSI2SK: `${time13(t.exitTime)}#${t.id}` };
    }
    case 'day':
      return { ...pk, GSI2PK: DAYS_PK, GSI2SK: (v as DailyStatsRecord).day };
    case 'command': {
      const c = v as CommandLogRecord;
      return { ...pk, GSI2PK: commandsOfDayPk(utcDayOf(c.at)), GSI2SK: `${time13(c.at)}#${c.id}` };
    }
    case 'ops': {
      const e = v as OpsEventRecord;
      return { ...pk, GSI2PK: opsOfDayPk(utcDayOf(e.at)), GSI2SK: `${time13(e.at)}#${e.id}` };
    }
    case 'uptime': {
      const u = v as UptimeRecord;
      return { ...pk, GSI2PK: uptimeOfDayPk(u.day), GSI2SK: u.owner };
    }
    case 'recommendation': {
      const r = v as RecommendationRecord;
      return { ...pk, GSI2PK: RECOMMENDATIONS_PK, GSI2SK: `${time13(r.createdAt)}#${r.id}` };
    }
    default:
      return pk;
  }
}
