/**
 * The state table: the runtime's single-table design (services/state/README.md), built from the
 * same `tableDefinition` the local dynalite table is created from, so the key schema and the two
 * GSIs cannot drift between local and cloud. On-demand billing, point-in-time recovery, encrypted
 * with the AWS-managed key, retained when the stack is deleted (positions, orders and fills are the
 * books), and `expiresAt` as the TTL attribute (housekeeping only: the code never relies on TTL).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { TTL_ATTRIBUTE, tableDefinition } from '../services/adapters/dynamo/dynamoStore.js';

const ATTRIBUTE_TYPES: Readonly<Record<string, dynamodb.AttributeType>> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

/** A key attribute of the shared definition as a CDK attribute. */
function attribute(definition: ReturnType<typeof tableDefinition>, name: string | undefined): dynamodb.Attribute {
  const def = definition.AttributeDefinitions?.find((a) => a.AttributeName === name);
  const type = def?.AttributeType === undefined ? undefined : ATTRIBUTE_TYPES[def.AttributeType];
  if (name === undefined || type === undefined) throw new Error(`tableDefinition has no typed attribute ${String(name)}`);
  return { name, type };
}

function keyOf(definition: ReturnType<typeof tableDefinition>, schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined, keyType: 'HASH' | 'RANGE'): dynamodb.Attribute {
  return attribute(definition, schema?.find((k) => k.KeyType === keyType)?.AttributeName);
}

/** The state table (see the file comment). */
export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // The name is only a placeholder for the shared definition: CloudFormation names the table, so
    // a replaced (retained) table never blocks a redeploy.
    const def = tableDefinition('state');
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: keyOf(def, def.KeySchema, 'HASH'),
      sortKey: keyOf(def, def.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const gsi of def.GlobalSecondaryIndexes ?? []) {
      if (gsi.IndexName === undefined || gsi.Projection?.ProjectionType !== 'ALL') throw new Error('every GSI of tableDefinition is expected to project ALL');
      this.table.addGlobalSecondaryIndex({
        indexName: gsi.IndexName,
        partitionKey: keyOf(def, gsi.KeySchema, 'HASH'),
        sortKey: keyOf(def, gsi.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }
}
