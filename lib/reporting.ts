/**
 * Scheduled reports: the `report` Lambda, its EventBridge schedules, and the report topic (SNS with
 * the operator's e-mail) that reports and reviews mail their summaries to.
 *
 * | schedule (UTC) | event | what |
 * |---|---|---|
 * | daily 08:00 | `{"job":"report","period":"daily"}` | the UTC day before |
 * | Monday 08:00 | `{"job":"report","period":"weekly"}` | the ISO week before |
 * | 1st of the month 08:00 | `{"job":"report","period":"monthly"}` | the month before |
 * | 2 January 08:30 | `{"job":"tax"}` | the FIFO tax ledger of the year before |
 *
 * Grants: the state table read-only (reports are built from it, never written), the bucket's
 * `reports/` and `tax/` prefixes written and read (a presigned link acts with the signer's
 * permissions), `candles/` read (MX prices for the tax ledger), the Telegram token, publishing to
 * the report topic.
 *
 * The function runs on x86_64: the PNG renderer (@resvg/resvg-js) is a native binary, and the
 * bundle gets the one the build machine's `npm ci` installed for linux-x64-gnu, copied beside it
 * with the bundled font (assets/fonts). A build machine without it (macOS, arm64) fails the synth
 * with a message saying how to add it.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CANDLES_PREFIX, REPORTS_PREFIX } from './artifactBucket.js';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, kmsGrantAcknowledgements, nagRef } from './nag.js';
import { ScalperFunction } from './scalperFunction.js';

export const TAX_PREFIX = 'tax/';
/** The resvg binary for the x86_64 Lambda and where npm installs it. */
export const RESVG_BINARY = 'node_modules/@resvg/resvg-js-linux-x64-gnu/resvgjs.linux-x64-gnu.node';
export const REPORT_FONT = 'assets/fonts/Cantarell-Regular.otf';
/** Left out of the bundle: resvg's platform packages and the binary its loader requires beside itself (copied there). */
export const REPORT_EXTERNALS = ['@resvg/resvg-js-*', './resvgjs.*'] as const;

export interface ReportingProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly telegramBotToken: secretsmanager.ISecret;
  /** The stack's data key: the function's log group is encrypted with it. */
  readonly logKey: kms.IKey;
}

export class Reporting extends Construct {
  readonly function: ScalperFunction;
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: ReportingProps) {
    super(scope, id);
    const { config } = props;
    this.topic = new sns.Topic(this, 'Topic', { displayName: `mexc-scalper ${config.stage} reports`, enforceSSL: true });
    this.topic.addSubscription(new subscriptions.EmailSubscription(config.reportEmail ?? config.alarmEmail));

    this.function = new ScalperFunction(this, 'Report', {
      job: 'report',
      description: 'Daily, weekly and monthly reports from the state table, and the yearly FIFO tax file',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      logRetentionDays: config.logRetentionDays,
      logKey: props.logKey,
      architecture: 'x86_64',
      extraExternalModules: [...REPORT_EXTERNALS],
      environment: {
        STAGE: config.stage,
        POWERTOOLS_SERVICE_NAME: 'report',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        STATE_TABLE: props.table.tableName,
        ARTIFACT_BUCKET: props.bucket.bucketName,
        STRATEGY_MODE: config.strategyMode,
        RISK_PROFILE: config.riskProfile,
        REPORT_TOPIC_ARN: this.topic.topicArn,
        TELEGRAM_SECRET_ID: props.telegramBotToken.secretArn,
        TELEGRAM_CHAT_ID: config.telegramChatId,
      },
      afterBundling: (inputDir, outputDir) => [
        `test -f "${inputDir}/${RESVG_BINARY}" || { echo "the report Lambda needs ${RESVG_BINARY} (x86_64 Linux): npm install --no-save --os=linux --cpu=x64 --libc=glibc @resvg/resvg-js-linux-x64-gnu" >&2; exit 1; }`,
        `cp "${inputDir}/${RESVG_BINARY}" "${outputDir}/"`,
        `cp "${inputDir}/${REPORT_FONT}" "${outputDir}/"`,
      ],
    });

    const rule = (rid: string, description: string, schedule: events.Schedule, input: Record<string, unknown>) =>
      new events.Rule(this, rid, {
        description,
        schedule,
        targets: [new targets.LambdaFunction(this.function.function, { event: events.RuleTargetInput.fromObject(input), retryAttempts: 2, maxEventAge: Duration.hours(2) })],
      });
    rule('Daily', 'The daily report of the UTC day before, at 08:00 UTC', events.Schedule.cron({ minute: '0', hour: '8' }), { job: 'report', period: 'daily' });
    rule('Weekly', 'The weekly report of the ISO week before, Mondays 08:00 UTC', events.Schedule.cron({ minute: '0', hour: '8', weekDay: 'MON' }), { job: 'report', period: 'weekly' });
    rule('Monthly', 'The monthly report of the month before, on the 1st at 08:00 UTC', events.Schedule.cron({ minute: '0', hour: '8', day: '1' }), { job: 'report', period: 'monthly' });
    rule('TaxYear', 'The FIFO tax ledger of the year before, 2 January 08:30 UTC', events.Schedule.cron({ minute: '30', hour: '8', day: '2', month: '1' }), { job: 'tax' });

    const role = this.function.role;
    props.table.grantReadData(role);
    props.bucket.grantReadWrite(role, `${REPORTS_PREFIX}*`);
    props.bucket.grantReadWrite(role, `${TAX_PREFIX}*`);
    props.bucket.grantRead(role, `${CANDLES_PREFIX}*`);
    props.telegramBotToken.grantRead(role);
    this.topic.grantPublish(role);
    const bucketArn = nagRef(props.bucket);
    acknowledge(role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
      // The bucket is encrypted with the stack's key: the bucket grants add the key's use.
      ...kmsGrantAcknowledgements(),
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${REPORTS_PREFIX}*]`, reason: REASONS.s3Prefix(REPORTS_PREFIX) },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${TAX_PREFIX}*]`, reason: REASONS.s3Prefix(TAX_PREFIX) },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: the tax ledger values MX fees with the archived MXUSDT candles.` },
    ]);
  }
}
