/**
 * External signals on AWS: a Function URL in front of the signal-webhook Lambda
 * (lambdas/signal-webhook/handler.ts), the signals queue it puts authenticated signals on, and
 * the hot path's right to consume that queue. The hot path decides on each signal through its
 * kernel (services/signals), exactly as locally; the Lambda never trades a signal itself.
 *
 * - Function URL, auth type NONE: a charting tool's alert cannot sign an AWS request, so the
 *   shared secret in the body or a header is the authentication (checked in constant time before
 *   anything else is read). The `/exchange/*` endpoints on the same URL need the operator token.
 *   Both are Secrets Manager secrets generated here (the operator reads them with get-secret-value
 *   and can replace them with put-secret-value); reserved concurrency bounds what a flood can cost.
 * - Signals queue: encrypted with the stack's key, TLS only, a dead-letter queue after 5 receives (an
 *   alarm on it), one day of retention (a signal older than signals.maxAgeSeconds is refused anyway).
 * - IAM only through grant* calls: the Lambda may send to the queue, read its two secrets and the
 *   MEXC key, and write the state table (audit records, the lease of a real test order); the task
 *   role may consume the queue.
 */
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, functionUrlGuardAcknowledgements, guardRule, kmsGrantAcknowledgements, nagRef } from './nag.js';
import { ScalperFunction } from './scalperFunction.js';

export interface SignalWebhookProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  /** JSON `{"apiKey", "apiSecret"}` (lib/secrets.ts): the exchange endpoints read MEXC with it. */
  readonly mexcCredentials: secretsmanager.ISecret;
  /** The hot path's task: it consumes the signals queue. */
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly alarmTopic: sns.ITopic;
  /** The stack's data key (lib/dataKey.ts): the queues and the function's log group are encrypted with it. */
  readonly key: kms.IKey;
}

export class SignalWebhook extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly webhookSecret: secretsmanager.Secret;
  readonly operatorToken: secretsmanager.Secret;
  readonly function: ScalperFunction;
  readonly url: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: SignalWebhookProps) {
    super(scope, id);
    const { config } = props;

    this.deadLetterQueue = new sqs.Queue(this, 'SignalsDlq', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.deadLetterQueue, [
      guardRule('sqs_dlq_check', 'This is itself the dead-letter queue of the signals queue: a signal lands here after 5 deliveries the hot path did not decide, and the SignalsDeadLetters alarm pages on the first. A DLQ behind a DLQ would only move it out of sight.'),
    ]);
    this.queue = new sqs.Queue(this, 'Signals', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.key,
      enforceSSL: true,
      // The hot path decides a signal within its poll (1 s) and acks it; 30 s covers a slow decision.
      visibilityTimeout: Duration.seconds(30),
      retentionPeriod: Duration.days(1),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    const secret = (cid: string, what: string) => {
      const s = new secretsmanager.Secret(this, cid, {
        description: `${what} (mexc-scalper ${config.stage}). Generated; read it with get-secret-value, replace it with put-secret-value.`,
        generateSecretString: { passwordLength: 40, excludePunctuation: true },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(s, [
        {
          id: 'AwsSolutions-SMG4',
          reason: 'No automatic rotation: the value is also stored outside AWS (in the charting tool\'s alert, with the operator), which a rotation Lambda cannot update. The operator replaces it by hand with put-secret-value and updates the alert.',
        },
      ]);
      return s;
    };
    this.webhookSecret = secret('WebhookSecret', 'Shared secret of POST /signals');
    this.operatorToken = secret('OperatorToken', 'Bearer token of the /exchange/* endpoints');

    this.function = new ScalperFunction(this, 'Webhook', {
      job: 'signal-webhook',
      description: 'Authenticates external signals and queues them for the hot path; serves the exchange endpoints',
      memorySize: 256,
      timeout: Duration.seconds(15),
      logRetentionDays: config.logRetentionDays,
      logKey: props.key,
      // A flood of requests cannot scale past this (the secret check is the first thing done).
      reservedConcurrentExecutions: 2,
      environment: {
        STAGE: config.stage,
        POWERTOOLS_SERVICE_NAME: 'signal-webhook',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        SIGNALS_QUEUE_URL: this.queue.queueUrl,
        SIGNALS_SECRET_ID: this.webhookSecret.secretArn,
        OPERATOR_TOKEN_SECRET_ID: this.operatorToken.secretArn,
        STATE_TABLE: props.table.tableName,
        MEXC_SECRET_ID: props.mexcCredentials.secretArn,
        TRADING_MODE: config.tradingMode,
        RISK_PROFILE: config.riskProfile,
      },
    });
    this.url = this.function.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    acknowledge(this, functionUrlGuardAcknowledgements('every request must carry the shared secret (POST /signals) or the operator token (/exchange/*)'));

    const role = this.function.role;
    this.queue.grantSendMessages(role);
    this.webhookSecret.grantRead(role);
    this.operatorToken.grantRead(role);
    props.mexcCredentials.grantRead(role);
    props.table.grantReadWriteData(role);
    acknowledge(role, [{ id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes }, ...kmsGrantAcknowledgements()]);

    // The hot path: consumes the queue; decides in the mode the stage says.
    this.queue.grantConsumeMessages(props.taskDefinition.taskRole);
    const container = props.taskDefinition.defaultContainer;
    container?.addEnvironment('SIGNALS_QUEUE_URL', this.queue.queueUrl);
    container?.addEnvironment('SIGNALS_MODE', config.signals);

    const alarm = new cloudwatch.Alarm(this, 'SignalsDeadLetters', {
      alarmDescription: `Signals reached the dead-letter queue (${config.stage}): the hot path did not decide them in 5 deliveries.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = new cloudwatch.Alarm(this, 'WebhookErrors', {
      alarmDescription: `The signal webhook Lambda failed (${config.stage}): signals may not reach the hot path.`,
      metric: this.function.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const action = new actions.SnsAction(props.alarmTopic);
    for (const a of [alarm, errors]) {
      a.addAlarmAction(action);
      a.addOkAction(action);
    }

    new CfnOutput(this, 'SignalWebhookUrl', { value: this.url.url, description: 'POST <url>signals with the webhook secret; /exchange/* with the operator token' });
    new CfnOutput(this, 'SignalWebhookSecretArn', { value: this.webhookSecret.secretArn });
    new CfnOutput(this, 'OperatorTokenSecretArn', { value: this.operatorToken.secretArn });
  }
}
