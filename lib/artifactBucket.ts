/**
 * The artifact bucket: trained models (`models/`), the candle archive (`candles/`) and reports
 * (`reports/`). Encrypted with the stack's KMS key (lib/dataKey.ts; an S3 bucket key keeps the KMS
 * requests to about one per object batch), all public access blocked, TLS only, versioned (a bad
 * model upload or a deleted archive can be recovered), retained. Its server access logs, and the
 * VPC's rejected-traffic flow logs, go to a separate log bucket.
 *
 * The log bucket is under the same key: S3 server access logging and VPC flow-log delivery write to
 * an SSE-KMS bucket only if the key policy lets their service principals use the key (added below,
 * limited to this account as the source). It is versioned and logs its own access under
 * `log-bucket-access/` (AWS Control Tower CT.S3.PR.2 and CT.S3.PR.5); writing its own log records
 * adds a trickle of objects, bounded by the same one-year expiry.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge, guardRule } from './nag.js';

/** Key prefixes in the artifact bucket. */
export const MODELS_PREFIX = 'models/';
export const CANDLES_PREFIX = 'candles/';
export const REPORTS_PREFIX = 'reports/';
/** Telegram /backtest jobs' reports (lambdas/backtest): backtests/<jobId>/. */
export const BACKTESTS_PREFIX = 'backtests/';

export class ArtifactBuckets extends Construct {
  /** Models, candle archive, reports. */
  readonly bucket: s3.Bucket;
  /** Server access logs of `bucket` (prefix `artifact-access/`) and VPC flow logs. */
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: { key: kms.IKey }) {
    super(scope, id);
    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      // No destination bucket: the log bucket's own access logs go to itself, under this prefix.
      serverAccessLogsPrefix: 'log-bucket-access/',
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    // The two services that write into the log bucket encrypt with the key as themselves: CDK adds
    // the statement for S3 server access logging (logging.s3.amazonaws.com); this is the flow logs'.
    const stack = Stack.of(this);
    props.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'FlowLogDeliveryToTheLogBucket',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'artifact-access/',
      // Old versions are kept for recovery, not for ever: retraining overwrites models hourly.
      lifecycleRules: [{ id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    });
    for (const b of [this.bucket, this.logBucket]) {
      acknowledge(b, [
        guardRule('s3_bucket_object_lock_enabled_check', 'No S3 Object Lock: models are replaced hourly and the archive is rewritten, which a WORM retention would forbid; versioning (30 days of old versions) already recovers a bad upload or a deletion. Object Lock itself is free, the cost is that nothing could be removed until the retention ends.'),
        guardRule('s3_event_notifications_enabled_check', 'No consumer reacts to bucket events: the retrain job runs on its schedule and the retrain queue, not on uploads. A notification with no consumer would only add an EventBridge rule or queue to pay for and watch.'),
      ]);
    }
  }
}
