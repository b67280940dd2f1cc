/**
 * The Powertools idempotency table: where the Lambdas that may receive an event twice (SQS and
 * EventBridge deliver at least once) record what they already handled (the alert dispatcher's
 * delivery ledger, the emergency stop's event ids).
 *
 * Its keys are the ones lambdas/shared/idempotency.ts configures the persistence layer with: `PK`
 * (hash), `SK` (range), expiry in `expiresAt` (the TTL attribute). That code can also share the state
 * table (its default when IDEMPOTENCY_TABLE is unset); a table of its own is used here because it
 * lets the alert dispatcher de-duplicate without any access to the trading state, and keeps
 * Powertools' own UpdateItem writes and reliance on TTL out of the table whose rules are whole-item
 * conditional writes of validated records.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

/** Key and TTL attributes (lambdas/shared/idempotency.ts: keyAttr, sortKeyAttr, expiryAttr). */
export const IDEMPOTENCY_KEYS = { partitionKey: 'PK', sortKey: 'SK', ttl: 'expiresAt' } as const;

export class IdempotencyTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: IDEMPOTENCY_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: IDEMPOTENCY_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: IDEMPOTENCY_KEYS.ttl,
      // Records expire within hours; recovery costs next to nothing (a few KB) and keeps the rule uniform.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
