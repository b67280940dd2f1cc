/**
 * The Telegram console on AWS: the `telegram-webhook` Lambda behind a Function URL, and its secrets.
 *
 * - The Function URL has no IAM auth (Telegram cannot sign requests); every request must carry the
 *   webhook's secret token in `X-Telegram-Bot-Api-Secret-Token` (a generated secret, registered
 *   with Telegram by `npm run telegram:webhook`), checked in constant time before anything else.
 * - The one-time-code secret (base32, generated) for `/resume`: the operator enrols it once in an
 *   authenticator app (read it with `aws secretsmanager get-secret-value`).
 * - Grants, all through grant*: read the state table and write its command log; the idempotency
 *   table (update ids, taps, codes); read and write the kill-switch parameter (its change also
 *   triggers the emergency-stop Lambda); send to the commands, retrain and backtests queues (the
 *   backtest Lambda runs /backtest and answers through the alerts queue); read the bot
 *   token, the two secrets above and the dashboard's link key; for /optimize, list and read the
 *   candle archive, write a run's job.json under research/ and start the research state machine.
 *   No exchange access: what trades is the hot path (or the emergency-stop Lambda), under the
 *   symbols' leases.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { QueueName } from '../services/events/types.js';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, functionUrlGuardAcknowledgements, kmsGrantAcknowledgements, nagRef } from './nag.js';
import type { QueuePair } from './queues.js';
import { ScalperFunction } from './scalperFunction.js';
import { CANDLES_PREFIX } from './artifactBucket.js';
import { RESEARCH_PREFIX } from './researchRunner.js';

export interface TelegramWebhookProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  readonly idempotencyTable: dynamodb.ITable;
  readonly queues: Readonly<Record<QueueName, QueuePair>>;
  readonly killSwitch: ssm.IStringParameter;
  readonly botToken: secretsmanager.ISecret;
  readonly dashboardLinkKey: secretsmanager.ISecret;
  /** The stack's data key: the function's log group is encrypted with it. */
  readonly logKey: kms.IKey;
  /** The dashboard's Function URL, for `/dashboard` links. */
  readonly dashboardUrl: string;
  /** The research runner and its bucket: /optimize starts a run over the candle archive. */
  readonly research?: { readonly stateMachine: sfn.IStateMachine; readonly bucket: s3.IBucket };
}

export class TelegramWebhook extends Construct {
  readonly fn: ScalperFunction;
  readonly url: lambda.FunctionUrl;
  readonly webhookSecret: secretsmanager.Secret;
  readonly totpSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: TelegramWebhookProps) {
    super(scope, id);
    const { config } = props;
    // Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and - in the secret token.
    this.webhookSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
      description: `Telegram webhook secret token (mexc-scalper ${config.stage}); npm run telegram:webhook registers it with Telegram.`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Base32 (A-Z, 2-7) of 32 characters: 160 bits, the size RFC 4226 recommends.
    this.totpSecret = new secretsmanager.Secret(this, 'TotpSecret', {
      description: `Base32 TOTP secret for /resume (mexc-scalper ${config.stage}); enrol it in an authenticator app.`,
      generateSecretString: { passwordLength: 32, excludePunctuation: true, excludeLowercase: true, excludeCharacters: '0189', includeSpace: false },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.fn = new ScalperFunction(this, 'TelegramWebhook', {
      job: 'telegram-webhook',
      description: 'Telegram console: commands by webhook (kill switch, status, jobs)',
      memorySize: 256,
      timeout: Duration.seconds(15),
      logRetentionDays: config.logRetentionDays,
      logKey: props.logKey,
      environment: {
        STAGE: config.stage,
        POWERTOOLS_SERVICE_NAME: 'telegram-webhook',
        POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        STATE_TABLE: props.table.tableName,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        KILL_SWITCH_PARAM: props.killSwitch.parameterName,
        COMMANDS_QUEUE_URL: props.queues.commands.queue.queueUrl,
        RETRAIN_QUEUE_URL: props.queues.retrain.queue.queueUrl,
        BACKTESTS_QUEUE_URL: props.queues.backtests.queue.queueUrl,
        TELEGRAM_SECRET_ID: props.botToken.secretArn,
        WEBHOOK_SECRET_ID: this.webhookSecret.secretArn,
        TOTP_SECRET_ID: this.totpSecret.secretArn,
        DASHBOARD_LINK_SECRET_ID: props.dashboardLinkKey.secretArn,
        DASHBOARD_URL: props.dashboardUrl,
        TELEGRAM_CHAT_ID: config.telegramChatId,
        TELEGRAM_OPERATORS: config.telegram.operators.join(','),
        TELEGRAM_VIEWERS: config.telegram.viewers.join(','),
        STRATEGY_MODE: config.strategyMode,
        RISK_PROFILE: config.riskProfile,
        ...(config.symbols.length > 0 ? { TRADING_SYMBOLS: config.symbols.join(',') } : {}),
        ...(props.research ? { ARTIFACT_BUCKET: props.research.bucket.bucketName, RESEARCH_STATE_MACHINE_ARN: props.research.stateMachine.stateMachineArn } : {}),
      },
    });
    this.url = this.fn.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    acknowledge(this, functionUrlGuardAcknowledgements("every request must carry the webhook's secret token in X-Telegram-Bot-Api-Secret-Token"));
    const role = this.fn.role;
    props.table.grantReadData(role);
    // The command log: whole-item conditional puts only (services/state/README.md).
    props.table.grant(role, 'dynamodb:PutItem');
    props.idempotencyTable.grantReadWriteData(role);
    props.killSwitch.grantRead(role);
    props.killSwitch.grantWrite(role);
    props.queues.commands.queue.grantSendMessages(role);
    props.queues.retrain.queue.grantSendMessages(role);
    props.queues.backtests.queue.grantSendMessages(role);
    for (const s of [props.botToken, this.webhookSecret, this.totpSecret, props.dashboardLinkKey]) s.grantRead(role);
    if (props.research) {
      props.research.bucket.grantRead(role, `${CANDLES_PREFIX}*`);
      props.research.bucket.grantPut(role, `${RESEARCH_PREFIX}*`);
      props.research.stateMachine.grantStartExecution(role);
      const bucketArn = nagRef(props.research.bucket);
      acknowledge(role, [
        ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
        { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${RESEARCH_PREFIX}*]`, reason: `${REASONS.s3Prefix(RESEARCH_PREFIX)} Put only (grantPut): /optimize writes a run's job.json.` },
        { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: /optimize lists the candle archive's day files to choose the run's data.` },
      ]);
    }
    for (const s of [this.webhookSecret, this.totpSecret]) {
      acknowledge(s, [
        {
          id: 'AwsSolutions-SMG4',
          reason: 'No automatic rotation: the webhook secret must be registered with Telegram and the TOTP secret enrolled in the operators\' authenticator apps after every change, so they are replaced by hand (npm run telegram:webhook re-registers the webhook).',
        },
      ]);
    }
    acknowledge(role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
      // Sending to the commands, retrain and backtests queues, encrypted with the stack's key since the merge with harden.
      ...kmsGrantAcknowledgements(),
    ]);
  }
}
