/**
 * The artifact bucket: trained models (`models/`), the candle archive (`candles/`) and reports
 * (`reports/`). Encrypted (SSE-S3), all public access blocked, TLS only, versioned (a bad model
 * upload or a deleted archive can be recovered), retained. Its server access logs, and the VPC's
 * rejected-traffic flow logs, go to a separate log bucket.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Key prefixes in the artifact bucket. */
export const MODELS_PREFIX = 'models/';
export const CANDLES_PREFIX = 'candles/';
export const REPORTS_PREFIX = 'reports/';

export class ArtifactBuckets extends Construct {
  /** Models, candle archive, reports. */
  readonly bucket: s3.Bucket;
  /** Server access logs of `bucket` (prefix `artifact-access/`) and VPC flow logs. */
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(365) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
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
  }
}
