/**
 * The AI performance reviews: the `review` Lambda and its schedules, 20 minutes after each report
 * (daily 08:20, Monday 08:20, the 1st 08:20 UTC), with the period as the event.
 *
 * Grants: the state table read and written (the recommendation ledger), `candles/` read (the
 * replay and the out-of-sample tests), `reviews/` written and read (prompt, response, facts,
 * tests, page; presigned link), the Telegram token, the report topic; and `bedrock:InvokeModel`
 * only on the configured models: each period's inference profile in the stack's region and its
 * foundation model in the regions the profile routes to. Nothing else of Bedrock. With
 * `review.bedrock: false` no Bedrock permission is granted and the deterministic reviewer runs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { CANDLES_PREFIX } from './artifactBucket.js';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, kmsGrantAcknowledgements, nagRef } from './nag.js';
import { ScalperFunction } from './scalperFunction.js';

export const REVIEWS_PREFIX = 'reviews/';

export interface AiReviewProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly telegramBotToken: secretsmanager.ISecret;
  readonly topic: sns.ITopic;
  /** The stack's data key: the function's log group is encrypted with it. */
  readonly logKey: kms.IKey;
}

/** The ARNs bedrock:InvokeModel is granted on for the stage's models (see the file comment). */
export function bedrockModelArns(stack: Stack, config: StageConfig): string[] {
  const arns = new Set<string>();
  for (const m of Object.values(config.review.models)) {
    if (m.invokeId !== m.modelId) arns.add(stack.formatArn({ service: 'bedrock', resource: 'inference-profile', resourceName: m.invokeId }));
    for (const region of config.review.modelRegions) arns.add(`arn:${stack.partition}:bedrock:${region}::foundation-model/${m.modelId}`);
  }
  return [...arns].sort();
}

export class AiReview extends Construct {
  readonly function: ScalperFunction;

  constructor(scope: Construct, id: string, props: AiReviewProps) {
    super(scope, id);
    const { config } = props;
    this.function = new ScalperFunction(this, 'Review', {
      job: 'review',
      description: 'AI performance reviews after each report: facts pack, Bedrock or rules, every recommendation tested out of sample',
      // The out-of-sample tests are kernel backtests: CPU, which Lambda gives in proportion to memory.
      memorySize: 2048,
      timeout: Duration.minutes(15),
      logRetentionDays: config.logRetentionDays,
      logKey: props.logKey,
      environment: {
        STAGE: config.stage,
        POWERTOOLS_SERVICE_NAME: 'review',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        STATE_TABLE: props.table.tableName,
        ARTIFACT_BUCKET: props.bucket.bucketName,
        STRATEGY_MODE: config.strategyMode,
        RISK_PROFILE: config.riskProfile,
        ...(config.symbols.length > 0 ? { SYMBOLS: config.symbols.join(',') } : {}),
        BEDROCK: config.review.bedrock ? 'on' : 'off',
        REVIEW_CONFIG: JSON.stringify({ models: config.review.models }),
        REPORT_TOPIC_ARN: props.topic.topicArn,
        TELEGRAM_SECRET_ID: props.telegramBotToken.secretArn,
        TELEGRAM_CHAT_ID: config.telegramChatId,
      },
    });
    const rule = (rid: string, description: string, schedule: events.Schedule, period: string) =>
      new events.Rule(this, rid, {
        description,
        schedule,
        targets: [new targets.LambdaFunction(this.function.function, { event: events.RuleTargetInput.fromObject({ period }), retryAttempts: 1, maxEventAge: Duration.hours(2) })],
      });
    rule('Daily', 'The daily review of the UTC day before, 08:20 UTC (after the report)', events.Schedule.cron({ minute: '20', hour: '8' }), 'daily');
    rule('Weekly', 'The weekly review of the ISO week before, Mondays 08:20 UTC', events.Schedule.cron({ minute: '20', hour: '8', weekDay: 'MON' }), 'weekly');
    rule('Monthly', 'The monthly review of the month before, the 1st at 08:20 UTC', events.Schedule.cron({ minute: '20', hour: '8', day: '1' }), 'monthly');

    const role = this.function.role;
    props.table.grantReadWriteData(role);
    props.bucket.grantRead(role, `${CANDLES_PREFIX}*`);
    props.bucket.grantReadWrite(role, `${REVIEWS_PREFIX}*`);
    props.telegramBotToken.grantRead(role);
    props.topic.grantPublish(role);
    if (config.review.bedrock) iam.Grant.addToPrincipal({ grantee: role, actions: ['bedrock:InvokeModel'], resourceArns: bedrockModelArns(Stack.of(this), config) });
    const bucketArn = nagRef(props.bucket);
    acknowledge(role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
      // The bucket is encrypted with the stack's key: the bucket grants add the key's use.
      ...kmsGrantAcknowledgements(),
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${REVIEWS_PREFIX}*]`, reason: REASONS.s3Prefix(REVIEWS_PREFIX) },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: the review replays the archived candles.` },
    ]);
  }
}
