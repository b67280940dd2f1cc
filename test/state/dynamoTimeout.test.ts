/**
 * A DynamoDB call that never answers must not hold its caller for ever (the SDK sets no request
 * timeout): each call is aborted after callTimeoutMs and retried as transient, then reported as
 * StateUnavailableError; a call that answers in time is not affected.
 */
import { describe, expect, it } from 'vitest';
import { DynamoTable, type DynamoSender } from '../../services/adapters/dynamo/dynamoStore.js';
import { StateUnavailableError } from '../../services/state/types.js';

describe('DynamoTable call timeout', () => {
  it('aborts a call that never answers, retries it within the bound, then gives up with StateUnavailableError', async () => {
    const signals: AbortSignal[] = [];
    const hanging: DynamoSender = {
      send: (_cmd, options) => {
        if (options?.abortSignal) signals.push(options.abortSignal);
        return new Promise(() => undefined);
      },
    };
    const table = new DynamoTable({ client: hanging, tableName: 't', maxAttempts: 3, callTimeoutMs: 30, sleep: () => Promise.resolve() });
    const err = await table.get('PK', 'SK').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateUnavailableError);
    expect((err as StateUnavailableError).attempts).toBe(3);
    expect((err as Error).message).toMatch(/no answer within 30 ms/);
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('a call that answers in time goes through (and its signal is not aborted)', async () => {
    let signal: AbortSignal | undefined;
    const quick: DynamoSender = {
      send: (_cmd, options) => {
        signal = options?.abortSignal;
        return Promise.resolve({ Item: { PK: { S: 'PK' }, SK: { S: 'SK' }, kind: { S: 'x' } } });
      },
    };
    const table = new DynamoTable({ client: quick, tableName: 't', callTimeoutMs: 1000 });
    expect(await table.get('PK', 'SK')).toEqual({ PK: 'PK', SK: 'SK', kind: 'x' });
    expect(signal?.aborted).toBe(false);
  });
});
