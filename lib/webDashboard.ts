/**
 * The web dashboard on AWS: the `dashboard` Lambda behind a Function URL, reading the hot path's
 * status snapshot from the state table, and the key that signs its links.
 *
 * The Function URL has no IAM auth (a phone's browser cannot sign requests); the page is not public
 * for that: the handler serves nothing, on any path, without a valid HMAC-signed link that expires
 * after 15 minutes, which only `/dashboard` in Telegram hands out, to an allowlisted operator. The
 * key is a generated secret the dashboard and the Telegram webhook read. Read-only: the function
 * may read the state table and that secret, nothing else.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, nagRef } from './nag.js';
import { ScalperFunction } from './scalperFunction.js';

/** lightweight-charts' standalone build, copied beside the bundle (the page loads it from the function). */
export const CHARTS_SOURCE = 'node_modules/lightweight-charts/dist/lightweight-charts.standalone.production.js';

export interface WebDashboardProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  /** The stack's data key: the function's log group is encrypted with it. */
  readonly logKey: kms.IKey;
}

export class WebDashboard extends Construct {
  readonly fn: ScalperFunction;
  readonly url: lambda.FunctionUrl;
  /** Signs the links (`/dashboard` in Telegram) and verifies them (this function). */
  readonly linkKey: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: WebDashboardProps) {
    super(scope, id);
    this.linkKey = new secretsmanager.Secret(this, 'LinkKey', {
      description: `Signs the web dashboard's short-lived links (mexc-scalper ${props.config.stage}). Generated; replacing it invalidates every link handed out.`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.fn = new ScalperFunction(this, 'Dashboard', {
      job: 'dashboard',
      description: 'The web dashboard, read-only, opened by a signed link from Telegram',
      memorySize: 256,
      timeout: Duration.seconds(10),
      logRetentionDays: props.config.logRetentionDays,
      logKey: props.logKey,
      environment: {
        STAGE: props.config.stage,
        POWERTOOLS_SERVICE_NAME: 'dashboard',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        STATE_TABLE: props.table.tableName,
        DASHBOARD_LINK_SECRET_ID: this.linkKey.secretArn,
      },
      afterBundling: (inputDir, outputDir) => [`cp "${inputDir}/${CHARTS_SOURCE}" "${outputDir}/"`],
    });
    this.url = this.fn.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    props.table.grantReadData(this.fn.role);
    this.linkKey.grantRead(this.fn.role);
    acknowledge(this.linkKey, [
      {
        id: 'AwsSolutions-SMG4',
        reason: 'No automatic rotation: a rotation would only cut off the links handed out in the last 15 minutes, and nothing else depends on the key. The operator replaces it by hand if it leaks.',
      },
    ]);
    acknowledge(this.fn.role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
    ]);
  }
}
