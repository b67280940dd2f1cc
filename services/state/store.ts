/**
 * The state store's engine (`TableStateStore`), shared by every backing table: the in-memory one
 * (memoryStore.ts) and DynamoDB (services/adapters/dynamo/).
 *
 * The engine holds all the semantics: key design, validation at the boundary, versioned
 * conditional writes, idempotency by event id, leases, quarantine. A table only stores items and
 * checks single-item conditions, so the in-memory store and the DynamoDB store behave the same by
 * construction (and the contract suite checks it).
 *
 * Everything here is bounded: conflict retries (`maxConflictRetries`), remembered event ids per
 * item (APPLIED_EVENTS_MAX), list sizes (MAX_LIST_LIMIT) and query spans (MAX_QUERY_DAYS).
 */
import { DataValidationError, InvalidStateError } from '../core/errors.js';
import {
  APPLIED_EVENTS_MAX,
  auditOfDayPk,
  DAYS_PK,
  DEFAULT_LIST_LIMIT,
  ENTITY_SCHEMAS,
  LeaseHeldError,
  MAX_LIST_LIMIT,
  MAX_QUERY_DAYS,
  OPEN_ORDERS_PK,
  OPEN_POSITIONS_PK,
  QUARANTINE_PK,
  QuarantinedItemError,
  RECOMMENDATIONS_PK,
  SINGLETON_ID,
  VersionConflictError,
  commandsOfDayPk,
  PUBLISHED_PK,
  fillsOfDayPk,
  idOf,
  itemKeys,
  opsOfDayPk,
  orderFillsPk,
  primaryKey,
  tradesOfDayPk,
  uptimeId,
  uptimeOfDayPk,
  utcDayOf,
  withBeat,
  type ApplyResult,
  type AuditRecord,
  type ClosedTradeRecord,
  type CommandLogRecord,
  type PublicationRecord,
  type DailyStatsRecord,
  type EntityKind,
  type EntityMap,
  type FillRecord,
  type HeartbeatRecord,
  type IndexName,
  type ItemTable,
  type LeaseRecord,
  type ModelPointerRecord,
  type MutableKind,
  type OpsEventRecord,
  type OrderRecord,
  type PositionRecord,
  type QuarantineReport,
  type QuarantinedItem,
  type RawItem,
  type RecommendationRecord,
  type SortRange,
  type StatusSnapshotRecord,
  type StateStore,
  type UptimeRecord,
  type Versioned,
  type WriteCondition,
} from './types.js';
import type { OrderState } from '../execution/orderStateMachine.js';

/** Options of a state store. */
export interface StateStoreOptions {
  /** The time for quarantine records (epoch ms). The core has no clock of its own. */
  readonly clock: () => number;
  /** Told about every quarantined item (alerting). Its exceptions are swallowed: a read never throws because of it. */
  readonly onQuarantine?: (report: QuarantineReport) => void;
  /** Re-reads after a lost conditional write inside applyEvent, leases, heartbeats and the model pointer (default 5). */
  readonly maxConflictRetries?: number;
}

/** A decoded item: the record, its version and the event ids it remembers. */
interface Decoded<T> {
  readonly value: T;
  readonly version: number;
  readonly appliedEvents: readonly string[];
}

/** Characters of a quarantined item's JSON kept in its copy. */
const QUARANTINE_RAW_MAX = 300_000;

/** The largest value the engine accepts as a time or a TTL (year 2286, as time13 keys assume). */
const MAX_TIME = 9_999_999_999_999;

function checkLimit(limit: number | undefined): number {
  const l = limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isSafeInteger(l) || l < 1 || l > MAX_LIST_LIMIT) throw new DataValidationError(`limit must be an integer in 1..${MAX_LIST_LIMIT}, got ${l}`);
  return l;
}

function checkTime(name: string, t: number): void {
  if (!Number.isSafeInteger(t) || t < 0 || t > MAX_TIME) throw new DataValidationError(`${name} must be an epoch-ms integer, got ${t}`);
}

const UTC_DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
function checkDay(name: string, day: string): void {
  if (!UTC_DAY_RE.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new DataValidationError(`${name} must be a UTC day as yyyy-mm-dd, got "${day}"`);
}

function issuesOf(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}

const time13 = (t: number): string => String(t).padStart(13, '0');

/** The StateStore over any ItemTable. See the file comment and services/state/README.md. */
export class TableStateStore implements StateStore {
  private readonly maxConflictRetries: number;

  constructor(
    private readonly table: ItemTable,
    private readonly options: StateStoreOptions,
  ) {
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    if (!Number.isSafeInteger(this.maxConflictRetries) || this.maxConflictRetries < 0 || this.maxConflictRetries > 100) {
      throw new DataValidationError(`maxConflictRetries must be an integer in 0..100, got ${this.maxConflictRetries}`);
    }
  }

  // -- encoding ---------------------------------------------------------------------------------

  /** Validates a record for writing; returns it normalised (as it will read back) and its JSON. */
  private encode<K extends EntityKind>(kind: K, value: EntityMap[K]): { value: EntityMap[K]; json: string } {
    // Dec has toJSON, so this turns every Dec into its decimal string: the stored form.
    const json = JSON.stringify(value);
    const parsed = ENTITY_SCHEMAS[kind].safeParse(JSON.parse(json));
    if (!parsed.success) throw new DataValidationError(`invalid ${kind} record: ${issuesOf(parsed.error)}`, { cause: parsed.error });
    return { value: parsed.data, json: JSON.stringify(parsed.data) };
  }

  private toItem<K extends EntityKind>(kind: K, json: string, value: EntityMap[K], version: number, appliedEvents: readonly string[]): RawItem {
    const item: Record<string, unknown> = { ...itemKeys(kind, value), kind, version, data: json, appliedEvents: [...appliedEvents] };
    if (kind === 'lease') {
      // DynamoDB's TTL attribute (epoch seconds), rounded up so TTL never removes a live lease.
      // Only housekeeping: expiry is decided by reading `expiresAt` in the record.
      item.expiresAt = Math.ceil((value as LeaseRecord).expiresAt / 1000);
    }
    return item;
  }

  /** Validates an item read back; quarantines it (and returns undefined) when it does not fit. */
  private async decode<K extends EntityKind>(kind: K, raw: RawItem): Promise<Decoded<EntityMap[K]> | undefined> {
    const why = this.validate(kind, raw);
    if (typeof why === 'string') {
      await this.quarantine(kind, raw, why);
      return undefined;
    }
    return why;
  }

  private validate<K extends EntityKind>(kind: K, raw: RawItem): Decoded<EntityMap[K]> | string {
    const { version, data, appliedEvents } = raw;
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) return `version: expected an integer >= 1, got ${JSON.stringify(version)}`;
    if (typeof data !== 'string') return 'data: expected a JSON string';
    const events = appliedEvents ?? [];
    if (!Array.isArray(events) || events.length > APPLIED_EVENTS_MAX || !events.every((e) => typeof e === 'string')) {
      return `appliedEvents: expected at most ${APPLIED_EVENTS_MAX} strings`;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch (err) {
      return `data: not JSON (${err instanceof Error ? err.message : String(err)})`;
    }
    const parsed = ENTITY_SCHEMAS[kind].safeParse(json);
    if (!parsed.success) return `data: ${issuesOf(parsed.error)}`;
    // A record stored under someone else's key would be read as the wrong entity.
    const key = primaryKey(kind, idOf(kind, parsed.data));
    if (key.PK !== raw.PK || key.SK !== raw.SK) return `key: the record belongs under ${key.PK}/${key.SK}`;
    return { value: parsed.data, version, appliedEvents: events };
  }

  /**
   * Copies a malformed item to the quarantine partition, removes it from its place (only if it is
   * still the same item) and reports it. Never throws: the caller's read simply skips the item.
   */
  private async quarantine(kind: EntityKind, raw: RawItem, reason: string): Promise<void> {
    const pk = typeof raw.PK === 'string' ? raw.PK : '?';
    const sk = typeof raw.SK === 'string' ? raw.SK : '?';
    const at = this.options.clock();
    const error = new QuarantinedItemError(`quarantined ${kind} item ${pk}/${sk}: ${reason}`);
    let stored = false;
    let removed = false;
    try {
      const version = raw.version;
      const copy: RawItem = {
        PK: QUARANTINE_PK,
        // Keyed by the original key and version: a second reader of the same bad item overwrites
        // the same copy instead of adding another.
        SK: `${pk}#${sk}#${typeof version === 'number' || typeof version === 'string' ? String(version) : '-'}`,
        kind: 'quarantine',
        qKind: kind,
        qPK: pk,
        qSK: sk,
        reason: reason.slice(0, 4000),
        at,
        // Bounded so the copy stays under DynamoDB's 400 KB item limit whatever the original held.
        raw: JSON.stringify(raw).slice(0, QUARANTINE_RAW_MAX),
      };
      await this.table.put(copy, { kind: 'none' });
      stored = true;
      const cond: WriteCondition = typeof version === 'number' && Number.isSafeInteger(version) ? { kind: 'version', version } : { kind: 'exists' };
      // Only the reader whose delete wins reports, so concurrent readers alert once.
      removed = await this.table.delete(pk, sk, cond);
    } catch {
      // The table is unreachable: leave the item where it is (it is skipped on every read) and
      // still report, since an operator must know.
    }
    if (!stored || removed) this.report({ pk, sk, kind, reason, at, stored, error });
  }

  private report(r: QuarantineReport): void {
    try {
      this.options.onQuarantine?.(r);
    } catch {
      // Alerting must not break the trading loop.
    }
  }

  // -- versioned primitives -------------------------------------------------------------------

  private async read<K extends EntityKind>(kind: K, id: string): Promise<Decoded<EntityMap[K]> | undefined> {
    const { PK, SK } = primaryKey(kind, id);
    const raw = await this.table.get(PK, SK);
    return raw === undefined ? undefined : this.decode(kind, raw);
  }

  /** Conditional write of `value` over `expectedVersion` (undefined: must not exist). */
  private async write<K extends EntityKind>(kind: K, value: EntityMap[K], expectedVersion: number | undefined, appliedEvents: readonly string[]): Promise<Versioned<EntityMap[K]>> {
    const enc = this.encode(kind, value);
    const version = (expectedVersion ?? 0) + 1;
    const cond: WriteCondition = expectedVersion === undefined ? { kind: 'absent' } : { kind: 'version', version: expectedVersion };
    const ok = await this.table.put(this.toItem(kind, enc.json, enc.value, version, appliedEvents), cond);
    const id = idOf(kind, enc.value);
    if (!ok) {
      throw new VersionConflictError(
        `${kind} ${id}: ${expectedVersion === undefined ? 'already exists' : `is no longer at version ${expectedVersion}`}`,
        `${kind}#${id}`,
        expectedVersion,
      );
    }
    return { value: enc.value, version };
  }

  /**
   * Read, decide, conditional write; a lost write re-reads and decides again, at most
   * maxConflictRetries times. `decide` returns the next record, or undefined for "leave it".
   */
  private async cas<K extends EntityKind>(kind: K, id: string, decide: (cur: Decoded<EntityMap[K]> | undefined) => EntityMap[K] | undefined): Promise<Versioned<EntityMap[K]> | undefined> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read(kind, id);
      const next = decide(cur);
      if (next === undefined) return cur;
      try {
        return await this.write(kind, next, cur?.version, cur?.appliedEvents ?? []);
      } catch (err) {
        if (!(err instanceof VersionConflictError) || attempt >= this.maxConflictRetries) throw err;
      }
    }
  }

  private checkId(kind: EntityKind, id: string, value: EntityMap[EntityKind]): void {
    const actual = idOf(kind, value as never);
    if (actual !== id) throw new InvalidStateError(`${kind} ${id}: the update returned a record with id ${actual}`);
  }

  // -- StateStore -------------------------------------------------------------------------------

  async get<K extends MutableKind>(kind: K, id: string): Promise<Versioned<EntityMap[K]> | undefined> {
    const d = await this.read(kind, id);
    return d && { value: d.value, version: d.version };
  }

  async put<K extends MutableKind>(kind: K, value: EntityMap[K], expectedVersion: number | undefined): Promise<Versioned<EntityMap[K]>> {
    if (expectedVersion !== undefined && (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1)) {
      throw new DataValidationError(`expectedVersion must be an integer >= 1 or undefined, got ${expectedVersion}`);
    }
    // Carry the remembered event ids over, so a plain put does not make old events replayable.
    let events: readonly string[] = [];
    if (expectedVersion !== undefined) {
      const cur = await this.read(kind, idOf(kind, value));
      if (cur === undefined || cur.version !== expectedVersion) {
        throw new VersionConflictError(`${kind} ${idOf(kind, value)}: is no longer at version ${expectedVersion}`, `${kind}#${idOf(kind, value)}`, expectedVersion);
      }
      events = cur.appliedEvents;
    }
    return this.write(kind, value, expectedVersion, events);
  }

  async applyEvent<K extends MutableKind>(
    kind: K,
    id: string,
    eventId: string,
    update: (current: EntityMap[K] | undefined) => EntityMap[K] | undefined,
  ): Promise<ApplyResult<EntityMap[K]>> {
    if (eventId.length === 0 || eventId.length > 256) throw new DataValidationError(`eventId must have 1..256 characters, got ${eventId.length}`);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read(kind, id);
      const current = cur && { value: cur.value, version: cur.version };
      if (cur?.appliedEvents.includes(eventId)) return { applied: false, current };
      const next = update(cur?.value);
      if (next === undefined || next === cur?.value) return { applied: false, current };
      this.checkId(kind, id, next);
      const events = [...(cur?.appliedEvents ?? []), eventId].slice(-APPLIED_EVENTS_MAX);
      try {
        return { applied: true, current: await this.write(kind, next, cur?.version, events) };
      } catch (err) {
        if (!(err instanceof VersionConflictError) || attempt >= this.maxConflictRetries) throw err;
      }
    }
  }

  async putFillOnce(fill: FillRecord): Promise<boolean> {
    return this.putOnce('fill', fill);
  }

  async putClosedTradeOnce(trade: ClosedTradeRecord): Promise<boolean> {
    return this.putOnce('trade', trade);
  }

  async putAuditOnce(event: AuditRecord): Promise<boolean> {
    return this.putOnce('audit', event);
  }

  async listAudit(day: string, limit?: number): Promise<AuditRecord[]> {
    checkDay('day', day);
    const items = await this.list('audit', undefined, auditOfDayPk(day), undefined, checkLimit(limit));
    return items.map((d) => d.value);
  }

  private async putOnce<K extends 'fill' | 'trade' | 'audit' | 'command' | 'ops'>(kind: K, value: EntityMap[K]): Promise<boolean> {
    const enc = this.encode(kind, value);
    const item = this.toItem(kind, enc.json, enc.value, 1, []);
    if (await this.table.put(item, { kind: 'absent' })) return true;
    // Something is there. If it is a malformed item, reading it quarantines it and frees the key:
    // the record is stored after all rather than lost behind garbage.
    if ((await this.read(kind, idOf(kind, enc.value))) !== undefined) return false;
    return this.table.put(item, { kind: 'absent' });
  }

  private async list<K extends EntityKind>(kind: K, index: IndexName | undefined, pk: string, range: SortRange | undefined, limit: number): Promise<Decoded<EntityMap[K]>[]> {
    const raws = await this.table.query(index, pk, range, limit);
    const out: Decoded<EntityMap[K]>[] = [];
    for (const raw of raws) {
      const d = await this.decode(kind, raw);
      if (d !== undefined) out.push(d);
    }
    return out;
  }

  async listOpenPositions(limit?: number): Promise<Versioned<PositionRecord>[]> {
    const items = await this.list('position', 'GSI1', OPEN_POSITIONS_PK, undefined, checkLimit(limit));
    return items.map((d) => ({ value: d.value, version: d.version }));
  }

  async listOpenOrders(states?: readonly OrderState[], limit?: number): Promise<Versioned<OrderRecord>[]> {
    const max = checkLimit(limit);
    const out: Versioned<OrderRecord>[] = [];
    const ranges: (SortRange | undefined)[] = states === undefined ? [undefined] : [...new Set(states)].map((s) => ({ beginsWith: `${s}#` }));
    for (const range of ranges) {
      if (out.length >= max) break;
      const items = await this.list('order', 'GSI1', OPEN_ORDERS_PK, range, max - out.length);
      for (const d of items) out.push({ value: d.value, version: d.version });
    }
    return out;
  }

  async listFillsOfOrder(clientOrderId: string, limit?: number): Promise<FillRecord[]> {
    const items = await this.list('fill', 'GSI1', orderFillsPk(clientOrderId), undefined, checkLimit(limit));
    return items.map((d) => d.value);
  }

  async listFillsBetween(since: number, until: number, limit?: number): Promise<FillRecord[]> {
    const max = checkLimit(limit);
    checkTime('since', since);
    checkTime('until', until);
    if (until < since) return [];
    const DAY = 86_400_000;
    const firstDay = Math.floor(since / DAY);
    const lastDay = Math.floor(until / DAY);
    if (lastDay - firstDay + 1 > MAX_QUERY_DAYS) throw new DataValidationError(`listFillsBetween spans ${lastDay - firstDay + 1} days, more than ${MAX_QUERY_DAYS}`);
    const out: FillRecord[] = [];
    for (let d = firstDay; d <= lastDay && out.length < max; d++) {
      // '\uffff' sorts after any trade id, so the bound includes every fill at `until`.
      const range: SortRange = { between: [time13(since), `${time13(until)}#\uffff`] };
      const items = await this.list('fill', 'GSI2', fillsOfDayPk(utcDayOf(d * DAY)), range, max - out.length);
      for (const i of items) out.push(i.value);
    }
    return out;
  }

  async listClosedTrades(day: string, limit?: number): Promise<ClosedTradeRecord[]> {
    checkDay('day', day);
    const items = await this.list('trade', 'GSI2', tradesOfDayPk(day), undefined, checkLimit(limit));
    return items.map((d) => d.value);
  }

  async listDailyStats(fromDay: string, toDay: string, limit?: number): Promise<Versioned<DailyStatsRecord>[]> {
    checkDay('fromDay', fromDay);
    checkDay('toDay', toDay);
    if (toDay < fromDay) return [];
    const items = await this.list('day', 'GSI2', DAYS_PK, { between: [fromDay, toDay] }, checkLimit(limit));
    return items.map((d) => ({ value: d.value, version: d.version }));
  }

  // -- leases -----------------------------------------------------------------------------------

  private checkLeaseArgs(symbol: string, owner: string, ttlMs: number, now: number): void {
    if (symbol.length === 0 || owner.length === 0) throw new DataValidationError('lease: symbol and owner must not be empty');
    checkTime('now', now);
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || now + ttlMs > MAX_TIME) throw new DataValidationError(`lease: ttlMs must be a positive integer, got ${ttlMs}`);
  }

  async acquireLease(symbol: string, owner: string, ttlMs: number, now: number): Promise<LeaseRecord> {
    this.checkLeaseArgs(symbol, owner, ttlMs, now);
    const res = await this.cas('lease', symbol, (cur) => {
      const live = cur !== undefined && cur.value.expiresAt > now;
      if (live && cur.value.owner !== owner) {
        throw new LeaseHeldError(`lease on ${symbol} is held by ${cur.value.owner} until ${cur.value.expiresAt}`, symbol, cur.value.owner, cur.value.expiresAt);
      }
      const acquiredAt = live ? cur.value.acquiredAt : now;
      return { symbol, owner, acquiredAt, renewedAt: now, expiresAt: now + ttlMs };
    });
    return (res as Versioned<LeaseRecord>).value;
  }

  async renewLease(symbol: string, owner: string, ttlMs: number, now: number): Promise<LeaseRecord> {
    this.checkLeaseArgs(symbol, owner, ttlMs, now);
    const res = await this.cas('lease', symbol, (cur) => {
      // An expired lease is not renewed: someone else may have traded the symbol meanwhile, so the
      // owner must acquire again (and reconcile) rather than carry on as if nothing happened.
      if (cur === undefined || cur.value.owner !== owner || cur.value.expiresAt <= now) {
        const holder = cur !== undefined && cur.value.expiresAt > now ? cur.value.owner : undefined;
        throw new LeaseHeldError(
          `lease on ${symbol} is not held by ${owner}${cur === undefined ? ' (no lease)' : ` (${cur.value.owner}'s, expires ${cur.value.expiresAt})`}`,
          symbol,
          holder,
          cur?.value.expiresAt ?? 0,
        );
      }
      return { ...cur.value, renewedAt: now, expiresAt: now + ttlMs };
    });
    return (res as Versioned<LeaseRecord>).value;
  }

  async releaseLease(symbol: string, owner: string): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.read('lease', symbol);
      if (cur === undefined || cur.value.owner !== owner) return false;
      const { PK, SK } = primaryKey('lease', symbol);
      if (await this.table.delete(PK, SK, { kind: 'version', version: cur.version })) return true;
      if (attempt >= this.maxConflictRetries) throw new VersionConflictError(`lease ${symbol}: release kept losing to other writers`, `lease#${symbol}`, cur.version);
    }
  }

  async getLease(symbol: string): Promise<LeaseRecord | undefined> {
    return (await this.read('lease', symbol))?.value;
  }

  // -- heartbeat and model pointer ----------------------------------------------------------------

  async putHeartbeat(heartbeat: HeartbeatRecord): Promise<void> {
    await this.cas('heartbeat', heartbeat.owner, () => heartbeat);
  }

  async getHeartbeat(owner: string): Promise<HeartbeatRecord | undefined> {
    return (await this.read('heartbeat', owner))?.value;
  }

  async putStatusSnapshot(snapshot: StatusSnapshotRecord): Promise<void> {
    await this.cas('snapshot', SINGLETON_ID, () => snapshot);
  }

  async getStatusSnapshot(): Promise<StatusSnapshotRecord | undefined> {
    return (await this.read('snapshot', SINGLETON_ID))?.value;
  }

  async putPublication(record: PublicationRecord): Promise<void> {
    await this.cas('publication', `${record.kind}#${record.period}`, () => record);
  }

  async listPublications(): Promise<PublicationRecord[]> {
    const items = await this.list('publication', undefined, PUBLISHED_PK, undefined, 10);
    return items.map((d) => d.value).sort((a, b) => b.at - a.at);
  }

  async putCommandLogOnce(entry: CommandLogRecord): Promise<boolean> {
    return this.putOnce('command', entry);
  }

  async listCommandLog(day: string, limit?: number): Promise<CommandLogRecord[]> {
    checkDay('day', day);
    const items = await this.list('command', 'GSI2', commandsOfDayPk(day), undefined, checkLimit(limit));
    return items.map((d) => d.value);
  }

  async getModelPointer(): Promise<ModelPointerRecord | undefined> {
    return (await this.read('model', SINGLETON_ID))?.value;
  }

  async promoteModel(version: string, uri: string, now: number): Promise<ModelPointerRecord> {
    checkTime('now', now);
    const res = await this.cas('model', SINGLETON_ID, (cur): ModelPointerRecord | undefined => {
      if (cur?.value.current.version === version) return undefined;
      return { current: { version, uri, promotedAt: now }, ...(cur !== undefined ? { previous: cur.value.current } : {}) };
    });
    return (res as Versioned<ModelPointerRecord>).value;
  }

  async rollbackModel(now: number): Promise<ModelPointerRecord> {
    checkTime('now', now);
    const res = await this.cas('model', SINGLETON_ID, (cur): ModelPointerRecord => {
      const previous = cur?.value.previous;
      if (previous === undefined) throw new InvalidStateError('rollbackModel: there is no previous model to roll back to');
      return { current: { ...previous, promotedAt: now } };
    });
    return (res as Versioned<ModelPointerRecord>).value;
  }

  // -- reports: operations log, uptime, recommendation ledger ---------------------------------

  async putOpsEventOnce(event: OpsEventRecord): Promise<boolean> {
    return this.putOnce('ops', event);
  }

  async listOpsEvents(day: string, limit?: number): Promise<OpsEventRecord[]> {
    checkDay('day', day);
    return (await this.list('ops', 'GSI2', opsOfDayPk(day), undefined, checkLimit(limit))).map((d) => d.value);
  }

  async recordUptime(beat: { owner: string; mode: string; at: number; maxGapMs: number }): Promise<UptimeRecord> {
    checkTime('at', beat.at);
    const day = utcDayOf(beat.at);
    const res = await this.cas('uptime', uptimeId(day, beat.owner), (cur) => withBeat(cur?.value, { ...beat, day }));
    return (res as Versioned<UptimeRecord>).value;
  }

  async listUptime(day: string, limit?: number): Promise<UptimeRecord[]> {
    checkDay('day', day);
    return (await this.list('uptime', 'GSI2', uptimeOfDayPk(day), undefined, checkLimit(limit))).map((d) => d.value);
  }

  async listRecommendations(since: number, limit?: number): Promise<Versioned<RecommendationRecord>[]> {
    checkTime('since', since);
    const items = await this.list('recommendation', 'GSI2', RECOMMENDATIONS_PK, { between: [time13(since), '9999999999999#\uffff'] }, checkLimit(limit));
    return items.map((d) => ({ value: d.value, version: d.version }));
  }

  async listQuarantined(limit?: number): Promise<QuarantinedItem[]> {
    const raws = await this.table.query(undefined, QUARANTINE_PK, undefined, Math.min(checkLimit(limit ?? 100), MAX_LIST_LIMIT));
    const out: QuarantinedItem[] = [];
    for (const r of raws) {
      const { qPK, qSK, qKind, reason, at, raw } = r;
      if (typeof qPK === 'string' && typeof qSK === 'string' && typeof qKind === 'string' && typeof reason === 'string' && typeof at === 'number' && typeof raw === 'string') {
        out.push({ pk: qPK, sk: qSK, kind: qKind, reason, at, raw });
      }
    }
    return out;
  }
}
