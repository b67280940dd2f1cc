import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoTable, createDynamoStore, createTable, isTransientDynamoError, tableDefinition, type DynamoCommand, type DynamoSender } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { StateUnavailableError, type QuarantineReport } from '../../services/state/types.js';
import { stateStoreContract, fill, position } from './contract.js';

let local: LocalDynamo;
let tables = 0;
/** A fresh table per test, so tests never see each other's items. */
async function freshTable(): Promise<string> {
  const name = `state-test-${++tables}`;
  await createTable(local.client, name);
  return name;
}

beforeAll(async () => {
  local = await startLocalDynamo();
});
afterAll(async () => {
  await local.close();
});

/** Hand-marshalled, so the planted item goes through the low-level client only. */
function attrs(item: Record<string, string | number>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) out[k] = typeof v === 'number' ? { N: String(v) } : { S: v };
  return out;
}

stateStoreContract('dynamodb (dynalite in memory)', async () => {
  const tableName = await freshTable();
  return {
    table: new DynamoTable({ client: local.client, tableName }),
    plant: async (item) => {
      await local.client.send(new PutItemCommand({ TableName: tableName, Item: attrs(item) }));
    },
    exists: async (pk, sk) => (await local.client.send(new GetItemCommand({ TableName: tableName, Key: { PK: { S: pk }, SK: { S: sk } }, ConsistentRead: true }))).Item !== undefined,
    close: () => Promise.resolve(),
  };
});

const throttled = () => Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });

/** Wraps the real client: the first `failures` sends (or all, with Infinity) fail with `error()`. */
function flaky(failures: number, error: () => Error = throttled): DynamoSender & { sends: number } {
  const c = {
    sends: 0,
    send(command: DynamoCommand): Promise<unknown> {
      c.sends++;
      if (c.sends <= failures) return Promise.reject(error());
      return local.client.send(command as PutItemCommand);
    },
  };
  return c;
}

describe('DynamoDB store: retries', () => {
  it('retries throttling with backoff and succeeds on the third attempt', async () => {
    const tableName = await freshTable();
    const sleeps: number[] = [];
    const client = flaky(2);
    const store = createDynamoStore({ client, tableName, clock: () => 0, sleep: (ms) => (sleeps.push(ms), Promise.resolve()), random: () => 0 });
    const w = await store.put('position', position('p1'), undefined);
    expect(w.version).toBe(1);
    // base 50 ms doubling, no jitter: 50 then 100.
    expect(sleeps).toEqual([50, 100]);
    expect(client.sends).toBe(3);
    expect((await store.get('position', 'p1'))?.version).toBe(1);
  });

  it('gives up after maxAttempts with StateUnavailableError keeping the cause', async () => {
    const tableName = await freshTable();
    const sleeps: number[] = [];
    const client = flaky(Infinity);
    const store = createDynamoStore({ client, tableName, clock: () => 0, maxAttempts: 4, sleep: (ms) => (sleeps.push(ms), Promise.resolve()), random: () => 0 });
    const err = await store.get('position', 'p1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateUnavailableError);
    expect((err as StateUnavailableError).attempts).toBe(4);
    expect((err as StateUnavailableError).cause).toMatchObject({ name: 'ThrottlingException' });
    expect(client.sends).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it('does not retry an error that cannot pass on a second try', async () => {
    const tableName = await freshTable();
    const sleeps: number[] = [];
    const client = flaky(1, () => Object.assign(new Error('bad key'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    const store = createDynamoStore({ client, tableName, clock: () => 0, sleep: (ms) => (sleeps.push(ms), Promise.resolve()) });
    await expect(store.putFillOnce(fill('t1', 'o1', 0))).rejects.toMatchObject({ name: 'StateUnavailableError', attempts: 1 });
    expect(sleeps).toEqual([]);
  });

  it('classifies throttling, 5xx and network errors as transient', () => {
    expect(isTransientDynamoError(Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' }))).toBe(true);
    expect(isTransientDynamoError(Object.assign(new Error('x'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }))).toBe(true);
    expect(isTransientDynamoError(Object.assign(new Error('x'), { name: 'Unknown', $metadata: { httpStatusCode: 503 } }))).toBe(true);
    expect(isTransientDynamoError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransientDynamoError(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isTransientDynamoError(Object.assign(new Error('x'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }))).toBe(false);
  });
});

describe('DynamoDB store: table and local engine', () => {
  it('defines the key schema and the two GSIs in one place', () => {
    const def = tableDefinition('t');
    expect(def.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(def.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName)])).toEqual([
      ['GSI1', ['GSI1PK', 'GSI1SK']],
      ['GSI2', ['GSI2PK', 'GSI2SK']],
    ]);
  });

  it('createTable leaves an existing table alone', async () => {
    const tableName = await freshTable();
    const store = createDynamoStore({ client: local.client, tableName, clock: () => 0 });
    await store.put('position', position('p1'), undefined);
    await createTable(local.client, tableName);
    expect((await store.get('position', 'p1'))?.version).toBe(1);
  });

  it('writes a lease with the TTL attribute in epoch seconds, rounded up', async () => {
    const tableName = await freshTable();
    const store = createDynamoStore({ client: local.client, tableName, clock: () => 0 });
    await store.acquireLease('DOGEUSDT', 'a', 1500, 1_700_000_000_000);
    const raw = await local.client.send(new GetItemCommand({ TableName: tableName, Key: { PK: { S: 'LEASE#DOGEUSDT' }, SK: { S: 'LEASE' } }, ConsistentRead: true }));
    expect(raw.Item?.expiresAt).toEqual({ N: '1700000002' });
    expect(raw.Item?.version).toEqual({ N: '1' });
  });

  it('quarantines an item of the wrong attribute types written with the low-level client', async () => {
    const tableName = await freshTable();
    const reports: QuarantineReport[] = [];
    const store = createDynamoStore({ client: local.client, tableName, clock: () => 42, onQuarantine: (r) => reports.push(r) });
    // data as a map instead of a JSON string.
    await local.client.send(new PutItemCommand({ TableName: tableName, Item: { PK: { S: 'ORDER#o1' }, SK: { S: 'ORDER' }, version: { N: '1' }, data: { M: { state: { S: 'open' } } }, GSI1PK: { S: 'OPEN#ORDER' }, GSI1SK: { S: 'submitted#o1' } } }));
    expect(await store.listOpenOrders()).toEqual([]);
    expect(await store.get('order', 'o1')).toBeUndefined();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ pk: 'ORDER#o1', kind: 'order', at: 42, stored: true });
    expect((await store.listQuarantined())[0]?.pk).toBe('ORDER#o1');
  });

  it('on disk: what was written is there after a restart on the same path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'state-disk-'));
    try {
      const first = await startLocalDynamo({ path: dir });
      await createTable(first.client, 'state');
      const s1 = createDynamoStore({ client: first.client, tableName: 'state', clock: () => 0 });
      await s1.put('position', position('p1'), undefined);
      await s1.applyEvent('position', 'p1', 'e1', (cur) => cur && { ...cur, stopPrice: cur.stopPrice.add(position('x').stopPrice) });
      await first.close();

      const second = await startLocalDynamo({ path: dir });
      try {
        await createTable(second.client, 'state'); // exists already: left alone
        const s2 = createDynamoStore({ client: second.client, tableName: 'state', clock: () => 0 });
        const back = await s2.get('position', 'p1');
        expect(back?.version).toBe(2);
        expect(back?.value.stopPrice.toString()).toBe('0.2448');
        // The event id survived too: replaying it changes nothing.
        expect((await s2.applyEvent('position', 'p1', 'e1', (cur) => cur && { ...cur, stopPrice: cur.stopPrice.add(position('x').stopPrice) })).applied).toBe(false);
        expect((await s2.listOpenPositions()).map((p) => p.value.id)).toEqual(['p1']);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
