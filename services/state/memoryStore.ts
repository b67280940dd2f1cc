/**
 * The in-memory table (`MemoryTable`) behind the state store's engine (store.ts), for backtests
 * and fast tests: the same semantics as DynamoDB by construction (the contract suite checks it).
 */
import { DataValidationError } from '../core/errors.js';
import type { IndexName } from './keys.js';
import type { ItemTable, RawItem, SortRange, WriteCondition } from './port.js';
import { TableStateStore, type StateStoreOptions } from './store.js';

// ---------------------------------------------------------------------------------------------
// In-memory table
// ---------------------------------------------------------------------------------------------

function holds(item: RawItem | undefined, c: WriteCondition): boolean {
  switch (c.kind) {
    case 'none':
      return true;
    case 'absent':
      return item === undefined;
    case 'exists':
      return item !== undefined;
    case 'version':
      return item !== undefined && item.version === c.version;
  }
}

function inRange(sk: string, range: SortRange | undefined): boolean {
  if (range === undefined) return true;
  if ('beginsWith' in range) return sk.startsWith(range.beginsWith);
  return sk >= range.between[0] && sk <= range.between[1];
}

/**
 * An ItemTable in a Map, with DynamoDB's semantics for what the engine uses: whole-item puts,
 * single-item conditions, sparse indexes, sort-key order. Items are deep-copied in and out, so no
 * caller can change a stored item without a write. Queries scan every item: fine for backtests and
 * tests, where lists are rare and small.
 */
export class MemoryTable implements ItemTable {
  private readonly items = new Map<string, RawItem>();

  private static key(pk: string, sk: string): string {
    return `${pk}\u0000${sk}`;
  }

  get(pk: string, sk: string): Promise<RawItem | undefined> {
    const item = this.items.get(MemoryTable.key(pk, sk));
    return Promise.resolve(item === undefined ? undefined : structuredClone(item));
  }

  put(item: RawItem, condition: WriteCondition): Promise<boolean> {
    const { PK, SK } = item;
    if (typeof PK !== 'string' || typeof SK !== 'string' || PK.length === 0 || SK.length === 0) {
      return Promise.reject(new DataValidationError('MemoryTable.put: PK and SK must be non-empty strings'));
    }
    const key = MemoryTable.key(PK, SK);
    if (!holds(this.items.get(key), condition)) return Promise.resolve(false);
    this.items.set(key, structuredClone(item));
    return Promise.resolve(true);
  }

  delete(pk: string, sk: string, condition: WriteCondition): Promise<boolean> {
    const key = MemoryTable.key(pk, sk);
    if (!holds(this.items.get(key), condition)) return Promise.resolve(false);
    this.items.delete(key);
    return Promise.resolve(true);
  }

  query(index: IndexName | undefined, pk: string, range: SortRange | undefined, limit: number): Promise<RawItem[]> {
    const pkAttr = index === undefined ? 'PK' : `${index}PK`;
    const skAttr = index === undefined ? 'SK' : `${index}SK`;
    const hits: [string, RawItem][] = [];
    for (const item of this.items.values()) {
      const sk = item[skAttr];
      if (item[pkAttr] === pk && typeof sk === 'string' && inRange(sk, range)) hits.push([sk, item]);
    }
    hits.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return Promise.resolve(hits.slice(0, limit).map(([, item]) => structuredClone(item)));
  }

  /** Number of stored items (tests). */
  get size(): number {
    return this.items.size;
  }
}

/** An in-memory StateStore (backtests, unit tests). `table` is exposed for tests that plant raw items. */
export function createMemoryStore(options: StateStoreOptions): { store: TableStateStore; table: MemoryTable } {
  const table = new MemoryTable();
  return { store: new TableStateStore(table, options), table };
}
