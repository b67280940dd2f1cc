/**
 * The stack's one customer-managed KMS key (about $1 a month, rotated yearly): it encrypts the log
 * groups (task and Lambdas), the artifact bucket and the queues, as AWS Control Tower's proactive
 * controls ask (CT.CLOUDWATCH.PR.5, CT.S3.PR.10). One key rather than one per service keeps the cost
 * at one key; each principal still gets only what its grant* call adds (kms:Decrypt for a reader,
 * GenerateDataKey/Encrypt for a writer), so sharing the key shares no access to the data.
 *
 * CloudWatch Logs encrypts with the key itself (not with the writer's role), so the key policy lets
 * the regional Logs service use it, limited by the encryption context to this account's log groups.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: { stage: string }) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `mexc-scalper ${props.stage}: log groups, artifact bucket and queues`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      // Retained: deleting the key would make every retained log, object and message unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
      }),
    );
    // Grants only for AWS services acting for a principal (CT.KMS.PR.3): nothing here needs a grant of
    // its own, and a grant is how a key's use could be handed on outside the key policy.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'GrantsOnlyForAwsServices',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
      }),
    );
  }
}
