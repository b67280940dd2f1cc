/**
 * The state store on DynamoDB: `DynamoTable` implements the engine's ItemTable with the low-level
 * client (GetItem, PutItem and DeleteItem with condition expressions, Query), so the semantics
 * (versions, event ids, leases, quarantine) are the engine's (`services/state/memoryStore.ts`) and
 * the key design is the one in `services/state/README.md`.
 *
 * Only single-item operations are used: no transactions and no reliance on TTL, so the same code
 * runs on dynalite locally. Reads of the base table are strongly consistent (the versioned
 * read-then-conditional-write needs the latest version); index queries are eventually consistent
 * (DynamoDB offers nothing else on a GSI), which the callers tolerate: an item that just left an
 * index may still be listed once, and is re-read by key before any write.
 *
 * Throttling (ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded),
 * 5xx replies and network errors are retried with capped exponential backoff, at most
 * `maxAttempts` attempts per call, then StateUnavailableError. Create the client with
 * `maxAttempts: 1` so these are the only retries and the bound is the one written here.
 */
import { randomInt } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type CreateTableCommandInput,
  type DeleteItemCommandOutput,
  type DescribeTableCommandOutput,
  type GetItemCommandOutput,
  type PutItemCommandOutput,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { backoffDelayMs } from '../../execution/backoff.js';
import { DataValidationError } from '../../core/errors.js';
import { StateUnavailableError } from '../../state/errors.js';
import type { IndexName } from '../../state/keys.js';
import type { ItemTable, RawItem, SortRange, WriteCondition } from '../../state/port.js';
import { TableStateStore, type StateStoreOptions } from '../../state/store.js';

/** The commands this adapter sends. */
export type DynamoCommand = GetItemCommand | PutItemCommand | DeleteItemCommand | QueryCommand | CreateTableCommand | DescribeTableCommand;

/** The part of a DynamoDBClient the adapter needs (a real client satisfies it; tests wrap one). */
export interface DynamoSender {
  send(command: DynamoCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** A DynamoDB call that did not answer within the table's callTimeoutMs (retried as transient). */
export class DynamoCallTimeoutError extends Error {
  override readonly name = 'DynamoCallTimeoutError';
}

/** Name of the TTL attribute (epoch seconds) for the cloud's TTL setting; the code never relies on it. */
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * The table's definition: key schema, the two GSIs (projection ALL), on-demand billing. The CDK
 * construct reuses it so the cloud table and the local one cannot drift.
 */
export function tableDefinition(tableName: string): CreateTableCommandInput & { TableName: string } {
  const s = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
  const gsi = (name: IndexName) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: `${name}PK`, KeyType: 'HASH' as const },
      { AttributeName: `${name}SK`, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [s('PK'), s('SK'), s('GSI1PK'), s('GSI1SK'), s('GSI2PK'), s('GSI2SK')],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi('GSI1'), gsi('GSI2')],
  };
}

/** Bound on the polls while a new table becomes ACTIVE. */
const CREATE_TABLE_POLLS = 100;

/**
 * Creates the table when it does not exist (local use: dynalite, tests) and waits until it is
 * ACTIVE. An existing table is left as it is.
 */
export async function createTable(client: DynamoSender, tableName: string, sleep: (ms: number) => Promise<void> = defaultSleep): Promise<void> {
  try {
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
  } catch (err) {
    if (errorName(err) !== 'ResourceInUseException') throw new StateUnavailableError(`cannot create table ${tableName}: ${messageOf(err)}`, 1, { cause: err });
  }
  for (let i = 0; i < CREATE_TABLE_POLLS; i++) {
    const out = (await client.send(new DescribeTableCommand({ TableName: tableName }))) as DescribeTableCommandOutput;
    if (out.Table?.TableStatus === 'ACTIVE') return;
    await sleep(50);
  }
  throw new StateUnavailableError(`table ${tableName} did not become ACTIVE`, CREATE_TABLE_POLLS);
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorName(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'name' in err && typeof err.name === 'string' ? err.name : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const THROTTLING = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable', 'TransactionConflictException']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** Whether a failed call may succeed when sent again: throttling, 5xx, or a transport failure. */
export function isTransientDynamoError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (err instanceof DynamoCallTimeoutError) return true;
  // The SDK's own errors carry literal names (its exception classes set them; they survive bundling).
  const name = errorName(err);
  if (name !== undefined && (THROTTLING.has(name) || name === 'TimeoutError')) return true;
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  if (meta?.httpStatusCode !== undefined && meta.httpStatusCode >= 500) return true;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

// -- marshalling ------------------------------------------------------------------------------

/** A plain value as a DynamoDB attribute value (strings, finite numbers, booleans, null, arrays, objects). */
function marshal(v: unknown): AttributeValue {
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new DataValidationError(`cannot store a non-finite number: ${v}`);
    return { N: String(v) };
  }
  if (typeof v === 'boolean') return { BOOL: v };
  if (v === null) return { NULL: true };
  if (Array.isArray(v)) return { L: v.map(marshal) };
  if (typeof v === 'object') return { M: marshalItem(v as RawItem) };
  throw new DataValidationError(`cannot store a value of type ${typeof v}`);
}

function marshalItem(item: RawItem): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = marshal(v);
  return out;
}

/** An attribute value as a plain value. Any type is accepted: items written by others are validated later. */
function unmarshal(av: AttributeValue): unknown {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.NULL !== undefined) return null;
  if (av.L !== undefined) return av.L.map(unmarshal);
  if (av.M !== undefined) return unmarshalItem(av.M);
  if (av.SS !== undefined) return [...av.SS];
  if (av.NS !== undefined) return av.NS.map(Number);
  if (av.B !== undefined || av.BS !== undefined) return '[binary]';
  return undefined;
}

function unmarshalItem(item: Record<string, AttributeValue>): RawItem {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = unmarshal(v);
  return out;
}

function conditionExpression(c: WriteCondition): { ConditionExpression?: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, AttributeValue> } {
  switch (c.kind) {
    case 'none':
      return {};
    case 'absent':
      return { ConditionExpression: 'attribute_not_exists(PK)' };
    case 'exists':
      return { ConditionExpression: 'attribute_exists(PK)' };
    case 'version':
      // `version` is a reserved word in DynamoDB expressions, hence the placeholder.
      return { ConditionExpression: '#v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': { N: String(c.version) } } };
  }
}

// -- the table -------------------------------------------------------------------------------

export interface DynamoTableOptions {
  readonly client: DynamoSender;
  readonly tableName: string;
  /** Attempts per call, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Backoff after the first failure (default 50 ms), doubling up to maxDelayMs (default 1000 ms). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected for tests; defaults to a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A draw in [0, 1) for jitter; defaults to node:crypto. */
  readonly random?: () => number;
  /**
   * Bound on one call (default 5000 ms). The SDK sets none, and a request that never answers would
   * hold the caller for ever (the hot path's journal waits on it before sending an order).
   */
  readonly callTimeoutMs?: number;
}

/** Bound on the pages one query reads. */
const MAX_QUERY_PAGES = 100;

/** The engine's ItemTable on a DynamoDB table (or dynalite). */
export class DynamoTable implements ItemTable {
  private readonly client: DynamoSender;
  private readonly tableName: string;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly callTimeoutMs: number;

  constructor(options: DynamoTableOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isSafeInteger(this.maxAttempts) || this.maxAttempts < 1 || this.maxAttempts > 20) {
      throw new DataValidationError(`maxAttempts must be an integer in 1..20, got ${this.maxAttempts}`);
    }
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 1000;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? (() => randomInt(0, 1_000_000) / 1_000_000);
    this.callTimeoutMs = options.callTimeoutMs ?? 5000;
    if (!(Number.isFinite(this.callTimeoutMs) && this.callTimeoutMs > 0)) throw new DataValidationError(`callTimeoutMs must be a positive number, got ${this.callTimeoutMs}`);
  }

  /** One send, aborted after callTimeoutMs (then a DynamoCallTimeoutError). */
  private async sendBounded(command: DynamoCommand): Promise<unknown> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new DynamoCallTimeoutError(`no answer within ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
    });
    try {
      return await Promise.race([this.client.send(command, { abortSignal: controller.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends one command with the bounded retries. A failed condition is returned as `false` (not
   * retried: it is an answer). Anything else that is not transient, or still failing after
   * maxAttempts, becomes StateUnavailableError.
   */
  private async call(op: string, command: DynamoCommand, conditional = false): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.sendBounded(command);
      } catch (err) {
        if (conditional && errorName(err) === 'ConditionalCheckFailedException') return false;
        if (!isTransientDynamoError(err) || attempt >= this.maxAttempts) {
          throw new StateUnavailableError(`DynamoDB ${op} on ${this.tableName} failed after ${attempt} attempt(s): ${messageOf(err)}`, attempt, { cause: err });
        }
        await this.sleep(backoffDelayMs(attempt, { baseMs: this.baseDelayMs, maxMs: this.maxDelayMs, jitter: this.random() }));
      }
    }
  }

  async get(pk: string, sk: string): Promise<RawItem | undefined> {
    const out = (await this.call('GetItem', new GetItemCommand({ TableName: this.tableName, Key: { PK: { S: pk }, SK: { S: sk } }, ConsistentRead: true }))) as GetItemCommandOutput;
    return out.Item === undefined ? undefined : unmarshalItem(out.Item);
  }

  async put(item: RawItem, condition: WriteCondition): Promise<boolean> {
    const cmd = new PutItemCommand({ TableName: this.tableName, Item: marshalItem(item), ...conditionExpression(condition) });
    const out = (await this.call('PutItem', cmd, true)) as PutItemCommandOutput | false;
    return out !== false;
  }

  async delete(pk: string, sk: string, condition: WriteCondition): Promise<boolean> {
    const cmd = new DeleteItemCommand({ TableName: this.tableName, Key: { PK: { S: pk }, SK: { S: sk } }, ...conditionExpression(condition) });
    const out = (await this.call('DeleteItem', cmd, true)) as DeleteItemCommandOutput | false;
    return out !== false;
  }

  async query(index: IndexName | undefined, pk: string, range: SortRange | undefined, limit: number): Promise<RawItem[]> {
    const pkAttr = index === undefined ? 'PK' : `${index}PK`;
    const skAttr = index === undefined ? 'SK' : `${index}SK`;
    const names: Record<string, string> = { '#pk': pkAttr };
    const values: Record<string, AttributeValue> = { ':pk': { S: pk } };
    let expr = '#pk = :pk';
    if (range !== undefined) {
      names['#sk'] = skAttr;
      if ('beginsWith' in range) {
        expr += ' AND begins_with(#sk, :b)';
        values[':b'] = { S: range.beginsWith };
      } else {
        expr += ' AND #sk BETWEEN :lo AND :hi';
        values[':lo'] = { S: range.between[0] };
        values[':hi'] = { S: range.between[1] };
      }
    }
    const out: RawItem[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < MAX_QUERY_PAGES && out.length < limit; page++) {
      const cmd = new QueryCommand({
        TableName: this.tableName,
        ...(index !== undefined ? { IndexName: index } : { ConsistentRead: true }),
        KeyConditionExpression: expr,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        Limit: limit - out.length,
        ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
      });
      const res = (await this.call('Query', cmd)) as QueryCommandOutput;
      for (const item of res.Items ?? []) out.push(unmarshalItem(item));
      start = res.LastEvaluatedKey;
      if (start === undefined) break;
    }
    return out.slice(0, limit);
  }
}

/** Options of a DynamoDB-backed state store. */
export type DynamoStoreOptions = DynamoTableOptions & StateStoreOptions;

/** A StateStore on DynamoDB (or dynalite). The table must exist (createTable, or the CDK stack). */
export function createDynamoStore(options: DynamoStoreOptions): TableStateStore {
  return new TableStateStore(new DynamoTable(options), options);
}
