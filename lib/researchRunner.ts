/**
 * The walk-forward optimiser past one machine (issue 12, item 9): a Step Functions state machine
 * that runs the same rounds as `npm run optimize`, with a Distributed Map over Lambda workers.
 *
 *   Plan (optimize-control, action plan) -> Done? -- yes --> Report (optimize-control, action report)
 *     ^                                      | no
 *     +----- Evaluate (Distributed Map) <----+   items: research/<run>/batches/<round>.json,
 *                                                 ItemBatcher: BATCH_TRIALS trials per worker,
 *                                                 each worker = optimize-worker (one batch)
 *
 * The state is only `{ runPrefix, plan }`: everything else (the job, the spec, the trial log,
 * the report) lives in the artifact bucket under research/ (services/research/cloudRun.ts), so
 * a failed execution is resumed by starting another on the same prefix. Workers retry on failure:
 * trials are deterministic and their outputs overwrite the same keys.
 *
 * IAM from grant* only: both functions read and write research/ and read the candle archive; the
 * state machine invokes them (LambdaInvoke's grants) and reads the round's item file (the grant
 * the Distributed Map's S3 reader adds: s3:GetObject on the bucket's objects, since the key comes
 * from the state), and describes and stops its own map runs (the Distributed Map policy).
 */
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { CANDLES_PREFIX } from './artifactBucket.js';
import type { StageConfig } from './config.js';
import { REASONS, acknowledge, kmsGrantAcknowledgements, nagRef } from './nag.js';
import { ScalperFunction } from './scalperFunction.js';

/** The key prefix of research runs in the artifact bucket (services/research/cloudRun.ts). */
export const RESEARCH_PREFIX = 'research/';
/** Trials per worker invocation: a few minutes of backtests at most. */
export const BATCH_TRIALS = 8;
/** Workers at once (the account's Lambda concurrency is shared with the trading jobs). */
export const MAX_WORKERS = 40;

export interface ResearchRunnerProps {
  readonly config: StageConfig;
  /** The artifact bucket (KMS-encrypted with its key: the grants below include the key's use). */
  readonly bucket: s3.IBucket;
  /** The KMS key of the log groups (lib/dataKey.ts). */
  readonly logKey: kms.IKey;
  /** The alerts queue: the control step answers console jobs (Telegram /optimize) there. */
  readonly alerts?: sqs.IQueue;
}

export class ResearchRunner extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly control: ScalperFunction;
  readonly worker: ScalperFunction;

  constructor(scope: Construct, id: string, props: ResearchRunnerProps) {
    super(scope, id);
    const { config, bucket } = props;
    const env = { STAGE: config.stage, ARTIFACT_BUCKET: bucket.bucketName };
    this.control = new ScalperFunction(this, 'Control', {
      job: 'optimize-control',
      description: 'Walk-forward optimisation: plans each round from the trial log, writes the report',
      memorySize: 1769,
      timeout: Duration.minutes(5),
      logRetentionDays: config.logRetentionDays,
      logKey: props.logKey,
      ephemeralStorageMiB: 2048,
      environment: { ...env, POWERTOOLS_SERVICE_NAME: 'optimize-control', ...(props.alerts ? { ALERTS_QUEUE_URL: props.alerts.queueUrl } : {}) },
    });
    props.alerts?.grantSendMessages(this.control.role);
    this.worker = new ScalperFunction(this, 'Worker', {
      job: 'optimize-worker',
      description: 'Walk-forward optimisation: evaluates one batch of trials (full kernel backtests)',
      // 1,769 MB is one full vCPU: a backtest is single-threaded.
      memorySize: 1769,
      timeout: Duration.minutes(10),
      logRetentionDays: config.logRetentionDays,
      logKey: props.logKey,
      ephemeralStorageMiB: 2048,
      environment: { ...env, POWERTOOLS_SERVICE_NAME: 'optimize-worker' },
    });
    for (const fn of [this.control, this.worker]) {
      bucket.grantReadWrite(fn.role, `${RESEARCH_PREFIX}*`);
      bucket.grantRead(fn.role, `${CANDLES_PREFIX}*`);
    }

    const plan = new tasks.LambdaInvoke(this, 'Plan', {
      lambdaFunction: this.control.function,
      payload: sfn.TaskInput.fromObject({ action: 'plan', runPrefix: sfn.JsonPath.stringAt('$.runPrefix') }),
      payloadResponseOnly: true,
      resultPath: '$.plan',
    });
    const report = new tasks.LambdaInvoke(this, 'Report', {
      lambdaFunction: this.control.function,
      payload: sfn.TaskInput.fromObject({ action: 'report', runPrefix: sfn.JsonPath.stringAt('$.runPrefix') }),
      payloadResponseOnly: true,
      resultPath: '$.report',
    });
    const evaluate = new sfn.DistributedMap(this, 'Evaluate', {
      itemReader: new sfn.S3JsonItemReader({ bucket, key: sfn.JsonPath.stringAt('$.plan.itemsKey') }),
      itemBatcher: new sfn.ItemBatcher({
        maxItemsPerBatch: BATCH_TRIALS,
        // Rendered as given (CDK does not turn JsonPath tokens into ".$" keys here): paths by hand.
        batchInput: {
          'runPrefix.$': '$.plan.batchInput.runPrefix',
          'runId.$': '$.plan.batchInput.runId',
          'data.$': '$.plan.batchInput.data',
          'symbols.$': '$.plan.batchInput.symbols',
        },
      }),
      maxConcurrency: MAX_WORKERS,
      // No tolerated failures (the default; CDK leaves the 0 out): a batch that fails after its
      // retries fails the execution, and a new one resumes from the trial log.
      // The trial log in the bucket is the result; the state keeps only the run's prefix and plan.
      resultPath: sfn.JsonPath.DISCARD,
    });
    const work = new tasks.LambdaInvoke(this, 'EvaluateBatch', { lambdaFunction: this.worker.function, payloadResponseOnly: true });
    // A batch whose input the worker refuses (EventValidationError, lambdas/shared/events.ts) would
    // be refused again: not retried. Retriers are tried in order, so this one comes first.
    work.addRetry({ errors: ['EventValidationError'], maxAttempts: 0 });
    work.addRetry({ errors: ['States.TaskFailed', 'States.Timeout'], maxAttempts: 2, interval: Duration.seconds(10), backoffRate: 2 });
    evaluate.itemProcessor(work);

    // A failure anywhere is answered (a console job waits for it), then fails the execution.
    const failed = new tasks.LambdaInvoke(this, 'AnswerFailure', {
      lambdaFunction: this.control.function,
      payload: sfn.TaskInput.fromObject({ action: 'failed', runPrefix: sfn.JsonPath.stringAt('$.runPrefix'), error: sfn.JsonPath.objectAt('$.error') }),
      payloadResponseOnly: true,
      resultPath: sfn.JsonPath.DISCARD,
    });
    const fail = new sfn.Fail(this, 'Failed', { error: 'OptimizationFailed', causePath: '$.error.Cause' });
    failed.addCatch(fail, { resultPath: sfn.JsonPath.DISCARD });
    const onFailure = failed.next(fail);
    for (const step of [plan, report, evaluate]) step.addCatch(onFailure, { resultPath: '$.error' });
    const done = new sfn.Choice(this, 'Done?').when(sfn.Condition.booleanEquals('$.plan.done', true), report.next(new sfn.Succeed(this, 'Reported')));
    const definition = plan.next(done.otherwise(evaluate.next(plan)));

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: config.logRetentionDays as logs.RetentionDays, encryptionKey: props.logKey, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: Duration.hours(24),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      comment: 'Walk-forward optimisation (npm run optimize -- --on aws): plan, Distributed Map of worker batches, report',
    });
    // The item files are encrypted with the bucket's key: the Map's reader must decrypt them.
    bucket.encryptionKey?.grantDecrypt(this.stateMachine);

    const bucketArn = nagRef(bucket);
    const s3Acks = [
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${RESEARCH_PREFIX}*]`, reason: REASONS.s3Prefix(RESEARCH_PREFIX) },
    ];
    for (const fn of [this.control, this.worker])
      acknowledge(fn.role, [...s3Acks, ...kmsGrantAcknowledgements(), { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: `Resource <bucket>/${CANDLES_PREFIX}* is read-only: a run may use the candle archive the hot path writes as its data.` }]);
    // cdk-nag prints an unresolved region or account as its pseudo-parameter (a stage may fix the region only).
    const region = Token.isUnresolved(Stack.of(this).region) ? '<AWS::Region>' : Stack.of(this).region;
    const account = Token.isUnresolved(Stack.of(this).account) ? '<AWS::AccountId>' : Stack.of(this).account;
    const smArn = '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"' + nagRef(this.stateMachine).slice(1, -5) + '"}]}]}';
    acknowledge(this.stateMachine, [
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${bucketArn.replace('.Arn>', '>')}/*]`,
        reason:
          "s3:GetObject on <bucket>/* is the grant of CDK's S3JsonItemReader, which cannot narrow it because the item file's key comes from the state (research/<run>/batches/<round>.json): read-only, objects only, this bucket only (models, candles, reports, research runs; no secrets).",
      },
      ...[`execution:${smArn}:*`, `execution:${smArn}/*:*`].map((r) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:${r}]`,
        reason: "states:DescribeExecution/StopExecution on this state machine's own executions and map runs: the Distributed Map's policy (CDK) to manage its child executions.",
      })),
      {
        id: `AwsSolutions-IAM5[Resource::<${nagRef(this.control.function).slice(1, -5)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on <function>:* comes from grantInvoke (LambdaInvoke): the function and its versions/aliases, this function only.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${nagRef(this.worker.function).slice(1, -5)}.Arn>:*]`,
        reason: 'lambda:InvokeFunction on <function>:* comes from grantInvoke (LambdaInvoke): the function and its versions/aliases, this function only.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Resource "*" is what AWS requires for X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules/Targets) and for Step Functions log delivery (logs:CreateLogDelivery and friends): neither supports resource-level permissions.',
      },
    ]);
  }
}
