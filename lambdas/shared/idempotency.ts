/**
 * Powertools idempotency on DynamoDB, and the alert dispatcher's DeliveryLedger on top of it.
 *
 * Table: IDEMPOTENCY_TABLE, default the state table (STATE_TABLE). Records are written with
 * `PK = idempotency#<function name>` and `SK = <hashed key>` (keyAttr PK, sortKeyAttr SK), and
 * their expiry in `expiresAt` (epoch seconds), which is the state table's TTL attribute, so DynamoDB
 * removes them once expired. The state store never reads that partition. (Powertools writes these
 * items with UpdateItem/conditional PutItem of its own; the state store's "whole-item conditional
 * writes only" rule is about the store's records.)
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DeliveryLedger } from '../../services/ops/alertDispatch.js';

/** A persistence layer on the table (see the file comment). */
export function persistenceLayer(tableName: string, client: DynamoDBClient): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client, keyAttr: 'PK', sortKeyAttr: 'SK', expiryAttr: 'expiresAt' });
}

/**
 * DeliveryLedger on Powertools idempotency: `once(key, send)` runs `send` through an idempotent
 * function keyed by `key` alone, with a window of `windowSeconds`. The call carries a fresh nonce
 * (not part of the key); a duplicate gets the first call's stored result, whose nonce differs, and
 * that is how a duplicate is told from a send. A key being delivered by another invocation throws
 * IdempotencyAlreadyInProgressError, so the record is retried later; a failed send deletes the
 * record, so the retry sends.
 */
export class PowertoolsDeliveryLedger implements DeliveryLedger {
  private readonly config: IdempotencyConfig;
  private readonly idempotentSend: (data: { key: string; nonce: string }, send: () => Promise<void>) => Promise<{ nonce: string }>;

  constructor(persistence: DynamoDBPersistenceLayer, windowSeconds: number) {
    this.config = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: windowSeconds, throwOnNoIdempotencyKey: true });
    this.idempotentSend = makeIdempotent(
      async (data: { key: string; nonce: string }, send: () => Promise<void>): Promise<{ nonce: string }> => {
        await send();
        return { nonce: data.nonce };
      },
      { persistenceStore: persistence, config: this.config, dataIndexArgument: 0 },
    );
  }

  /** Lets in-progress records expire with the invocation (call once per invocation). */
  registerContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async once(key: string, send: () => Promise<void>): Promise<'sent' | 'duplicate'> {
    const nonce = randomUUID();
    const r = await this.idempotentSend({ key, nonce }, send);
    return r.nonce === nonce ? 'sent' : 'duplicate';
  }
}
