/**
 * OnceStore on the idempotency table (lib/idempotencyTable.ts keys: PK, SK, expiresAt): a claim
 * is one conditional PutItem, which succeeds when the key is absent or its record has expired.
 * DynamoDB's TTL removes records late (up to days) and dynalite never does, so expiry is decided
 * here, by the condition on `expiresAt`, not by TTL. The partition is `console` (the alert
 * dispatcher and the emergency stop use their own), so the keys never meet another job's.
 */
import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { OnceStore } from '../../console/ports.js';

export class DynamoOnceStore implements OnceStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number,
    private readonly partition = 'console',
  ) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const nowSec = Math.floor(this.now() / 1000);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { PK: { S: this.partition }, SK: { S: key.slice(0, 512) }, expiresAt: { N: String(nowSec + Math.ceil(ttlMs / 1000)) } },
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': { N: String(nowSec) } },
        }),
        { abortSignal: AbortSignal.timeout(3000) },
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException || (e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw e;
    }
  }
}
