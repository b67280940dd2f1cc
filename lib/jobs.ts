/**
 * The Lambdas (one folder each under lambdas/) and what triggers them:
 *
 * | job | trigger | trades | grants |
 * |---|---|---|---|
 * | reconcile | EventBridge, every 5 minutes | yes (reserved concurrency 1) | state r/w, MEXC secret, kill switch, send events/alerts |
 * | risk-sweep | EventBridge, every minute | yes (reserved concurrency 1) | state r/w, MEXC secret, kill switch, send alerts |
 * | emergency-stop | the kill-switch parameter changing (EventBridge, aws.ssm), and on demand | yes (reserved concurrency 1) | state r/w, MEXC secret, kill switch, send alerts, idempotency table |
 * | alert-dispatcher | the alerts queue (partial batch failures) | no | Telegram token, publish to the alarm topic, idempotency table |
 * | retrain | EventBridge hourly, and the retrain queue (partial batch failures) | no | state r/w (model pointer), bucket models/ r/w and candles/ read |
 * | backtest | the backtests queue (Telegram /backtest; partial batch failures, one job per invocation, two at once at most) | no | bucket candles/ read, backtests/ read and put, send alerts, PutItem on the idempotency table (one run per job) |
 *
 * The trading jobs take the symbol's lease in DynamoDB before acting on the exchange
 * (ARCHITECTURE.md); reserved concurrency 1 keeps each to one copy at a time as well.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { QueueName } from '../services/events/types.js';
import { BACKTESTS_PREFIX, CANDLES_PREFIX, MODELS_PREFIX } from './artifactBucket.js';
import { MAX_RECEIVE_COUNT } from './queues.js';
import type { StageConfig } from './config.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, kmsGrantAcknowledgements, nagRef } from './nag.js';
import type { QueuePair } from './queues.js';

/**
 * The backtest job's timeout: a 30-day backtest of four symbols with its baselines and Monte Carlo
 * (the same report as npm run backtest) takes about 25 s on one core (172,314 candles, 470 MB at
 * most), so 10 minutes leaves room for a 90-day run on a slower core. The queue's visibility
 * timeout is six times this (lib/queues.ts); the job's claim lasts a minute longer than it.
 */
export const BACKTEST_TIMEOUT = Duration.minutes(10);
import { ScalperFunction } from './scalperFunction.js';

/** The jobs, by the name of their folder under lambdas/. */
export const JOB_NAMES = ['reconcile', 'risk-sweep', 'emergency-stop', 'alert-dispatcher', 'retrain', 'backtest'] as const;
export type JobName = (typeof JOB_NAMES)[number];

/** The .wasm files of @tensorflow/tfjs-backend-wasm, copied beside the retrain bundle. */
export const TFJS_WASM_DIR = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';

export interface JobsProps {
  readonly config: StageConfig;
  readonly table: dynamodb.ITable;
  readonly idempotencyTable: dynamodb.ITable;
  readonly queues: Readonly<Record<QueueName, QueuePair>>;
  readonly killSwitch: ssm.IStringParameter;
  readonly bucket: s3.IBucket;
  readonly alarmTopic: sns.ITopic;
  /** JSON `{"apiKey", "apiSecret"}` (lib/secrets.ts). */
  readonly mexcCredentials: secretsmanager.ISecret;
  readonly telegramBotToken: secretsmanager.ISecret;
  /** The KMS key of the log groups (lib/dataKey.ts). */
  readonly logKey: kms.IKey;
}

/** Where Lambda unpacks the bundle (and so the .wasm files copied beside it). */
const LAMBDA_TASK_ROOT = '/var/task';

export class Jobs extends Construct {
  readonly functions: Readonly<Record<JobName, ScalperFunction>>;

  constructor(scope: Construct, id: string, props: JobsProps) {
    super(scope, id);
    const { config, queues } = props;
    // The variables each handler's env schema declares (lambdas/<job>/handler.ts, `<job>Env`).
    const symbols: Record<string, string> = config.symbols.length > 0 ? { TRADING_SYMBOLS: config.symbols.join(',') } : {};
    const trading: Record<string, string> = {
      STATE_TABLE: props.table.tableName,
      KILL_SWITCH_PARAM: props.killSwitch.parameterName,
      ALERTS_QUEUE_URL: queues.alerts.queue.queueUrl,
      // The secret's ARN, not its value: the function reads it at run time (and caches it).
      MEXC_SECRET_ID: props.mexcCredentials.secretArn,
      ...symbols,
    };
    const fn = (job: JobName, rest: Omit<ConstructorParameters<typeof ScalperFunction>[2], 'job' | 'logRetentionDays' | 'logKey'>) =>
      new ScalperFunction(this, pascal(job), {
        job,
        logRetentionDays: config.logRetentionDays,
        logKey: props.logKey,
        ...rest,
        environment: { STAGE: config.stage, POWERTOOLS_SERVICE_NAME: job, POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE, ...rest.environment },
      });

    const reconcile = fn('reconcile', {
      description: 'Reconciles orders, fills and positions with MEXC every 5 minutes',
      memorySize: 512,
      timeout: Duration.minutes(2),
      reservedConcurrentExecutions: 1,
      environment: { ...trading, EVENTS_QUEUE_URL: queues.events.queue.queueUrl },
    });
    const riskSweep = fn('risk-sweep', {
      description: 'Closes positions past their time stop or risk limits every minute',
      memorySize: 512,
      // Shorter than the schedule: one sweep ends before the next starts.
      timeout: Duration.seconds(50),
      reservedConcurrentExecutions: 1,
      environment: { ...trading, STRATEGY_MODE: config.strategyMode, RISK_PROFILE: config.riskProfile },
    });
    const emergencyStop = fn('emergency-stop', {
      description: 'Flattens every position when the kill switch changes to EMERGENCY_STOP (or on demand)',
      memorySize: 512,
      timeout: Duration.minutes(5),
      reservedConcurrentExecutions: 1,
      environment: { ...trading, IDEMPOTENCY_TABLE: props.idempotencyTable.tableName },
    });
    const alertDispatcher = fn('alert-dispatcher', {
      description: 'Sends alerts from the alerts queue to Telegram and the alarm topic',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: {
        TELEGRAM_SECRET_ID: props.telegramBotToken.secretArn,
        TELEGRAM_CHAT_ID: config.telegramChatId,
        ALERT_TOPIC_ARN: props.alarmTopic.topicArn,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        // The handler's schema requires it, but only as the fallback idempotency table: with
        // IDEMPOTENCY_TABLE set it is never used, and the dispatcher has no grant on it.
        STATE_TABLE: props.table.tableName,
      },
    });
    const retrain = fn('retrain', {
      description: 'Retrains the signal filter hourly and on request; promotes a better model',
      memorySize: 3008,
      timeout: Duration.minutes(15),
      ephemeralStorageMiB: 2048,
      environment: {
        STATE_TABLE: props.table.tableName,
        ARTIFACT_BUCKET: props.bucket.bucketName,
        STRATEGY_MODE: config.strategyMode,
        ...(config.symbols.length > 0 ? { SYMBOLS: config.symbols.join(',') } : {}),
        TFJS_WASM_DIR: LAMBDA_TASK_ROOT,
      },
      afterBundling: (inputDir, outputDir) => [`cp "${inputDir}/${TFJS_WASM_DIR}"/*.wasm "${outputDir}/"`],
    });
    const backtest = fn('backtest', {
      description: 'Telegram /backtest: the kernel backtest of the traded symbols over the candle archive, answered in the chat',
      // More than 1,769 MB (one full vCPU: a backtest is single-threaded) for a 90-day run's candles.
      memorySize: 3008,
      timeout: BACKTEST_TIMEOUT,
      environment: {
        ARTIFACT_BUCKET: props.bucket.bucketName,
        IDEMPOTENCY_TABLE: props.idempotencyTable.tableName,
        ALERTS_QUEUE_URL: queues.alerts.queue.queueUrl,
        STRATEGY_MODE: config.strategyMode,
        RISK_PROFILE: config.riskProfile,
        BACKTEST_LOCK_SECONDS: String(BACKTEST_TIMEOUT.toSeconds() + 60),
        MAX_RECEIVES: String(MAX_RECEIVE_COUNT),
        ...symbols,
      },
    });
    this.functions = { reconcile, 'risk-sweep': riskSweep, 'emergency-stop': emergencyStop, 'alert-dispatcher': alertDispatcher, retrain, backtest };

    // Triggers.
    const schedule = (id: string, every: Duration, target: ScalperFunction) =>
      new events.Rule(this, id, {
        description: `Runs ${target.node.id} every ${every.toHumanString()}`,
        schedule: events.Schedule.rate(every),
        targets: [new targets.LambdaFunction(target.function, { retryAttempts: 2, maxEventAge: every })],
      });
    schedule('ReconcileSchedule', Duration.minutes(5), reconcile);
    schedule('RiskSweepSchedule', Duration.minutes(1), riskSweep);
    schedule('RetrainSchedule', Duration.hours(1), retrain);
    new events.Rule(this, 'KillSwitchChanged', {
      description: 'Runs emergency-stop when the kill-switch parameter changes',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: ['Parameter Store Change'],
        detail: { name: [props.killSwitch.parameterName] },
      },
      targets: [new targets.LambdaFunction(emergencyStop.function, { retryAttempts: 4, maxEventAge: Duration.minutes(15) })],
    });
    alertDispatcher.function.addEventSource(new eventSources.SqsEventSource(queues.alerts.queue, { batchSize: 10, maxBatchingWindow: Duration.seconds(5), reportBatchItemFailures: true }));
    retrain.function.addEventSource(new eventSources.SqsEventSource(queues.retrain.queue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));
    backtest.function.addEventSource(new eventSources.SqsEventSource(queues.backtests.queue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));

    // Grants.
    for (const job of [reconcile, riskSweep, emergencyStop]) {
      props.table.grantReadWriteData(job.role);
      props.mexcCredentials.grantRead(job.role);
      props.killSwitch.grantRead(job.role);
      queues.alerts.queue.grantSendMessages(job.role);
      acknowledge(job.role, [{ id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes }, ...kmsGrantAcknowledgements()]);
    }
    queues.events.queue.grantSendMessages(reconcile.role);
    props.idempotencyTable.grantReadWriteData(emergencyStop.role);

    props.telegramBotToken.grantRead(alertDispatcher.role);
    props.alarmTopic.grantPublish(alertDispatcher.role);
    props.idempotencyTable.grantReadWriteData(alertDispatcher.role);

    props.table.grantReadWriteData(retrain.role);
    props.bucket.grantReadWrite(retrain.role, `${MODELS_PREFIX}*`);
    props.bucket.grantRead(retrain.role, `${CANDLES_PREFIX}*`);
    const bucketArn = nagRef(props.bucket);
    acknowledge(retrain.role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${MODELS_PREFIX}*]`, reason: REASONS.s3Prefix(MODELS_PREFIX) },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: retraining reads the candle archive the hot path writes.` },
      ...kmsGrantAcknowledgements(),
    ]);

    // The backtest job reads the candle archive, reads and writes its own job folders, answers
    // through the alerts queue and claims its job with one conditional PutItem: nothing else.
    props.bucket.grantRead(backtest.role, `${CANDLES_PREFIX}*`);
    props.bucket.grantRead(backtest.role, `${BACKTESTS_PREFIX}*`);
    props.bucket.grantPut(backtest.role, `${BACKTESTS_PREFIX}*`);
    queues.alerts.queue.grantSendMessages(backtest.role);
    props.idempotencyTable.grant(backtest.role, 'dynamodb:PutItem');
    acknowledge(backtest.role, [
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${BACKTESTS_PREFIX}*]`, reason: `${REASONS.s3Prefix(BACKTESTS_PREFIX)} Read and put only (grantRead, grantPut): each job's report files and its answer marker.` },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: the backtest reads the candle archive the hot path writes.` },
      ...kmsGrantAcknowledgements(),
    ]);
  }

  /** Every function, in JOB_NAMES order. */
  all(): readonly { name: JobName; fn: ScalperFunction }[] {
    return JOB_NAMES.map((name) => ({ name, fn: this.functions[name] }));
  }
}

function pascal(job: string): string {
  return job
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
