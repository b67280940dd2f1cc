/**
 * The hot path: one ECS Fargate task (ARM64) running fargate/main.ts: market data, strategy, risk,
 * executor, heartbeat, kill-switch watch. See fargate/README.md.
 *
 * Exactly one task trades: desiredCount 1 and a deployment that stops the old task before starting
 * the new one (minimum healthy 0 %, maximum 100 %), so a deploy never runs two at once. The
 * DynamoDB lease per symbol (services/state) is the second guard: if ECS ever did start two (a task
 * that hangs while stopping), the second cannot take a symbol the first still holds.
 *
 * Secrets reach the container as ECS secrets (resolved by the ECS agent at start with the execution
 * role), never as plain environment values in the task definition; the task role cannot read them.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { QueueName } from '../services/events/types.js';
import { CANDLES_PREFIX, MODELS_PREFIX } from './artifactBucket.js';
import type { StageConfig } from './config.js';
import { MEXC_API_KEY_FIELD, MEXC_API_SECRET_FIELD } from './secrets.js';
import { METRIC_NAMESPACE } from './metrics.js';
import { REASONS, acknowledge, guardRule, kmsGrantAcknowledgements, nagRef } from './nag.js';
import type { QueuePair } from './queues.js';

/** Port of the runtime's status server (`GET /health`, `GET /status`), on 127.0.0.1 in the task. */
export const STATUS_PORT = 8787;

/** The container's name in the task definition. */
export const CONTAINER_NAME = 'hot-path';

/**
 * The container's user (`node` of the node:22 image, uid/gid 1000; the Dockerfile's USER says the
 * same, and the task definition repeats it so ECS refuses to start it as root whatever the image).
 */
export const CONTAINER_USER = '1000:1000';

/**
 * Writable folders of a container whose root filesystem is read-only: each is an ephemeral
 * task-storage volume (on Fargate, part of the task's 20 GiB), empty at start, gone at stop. `/tmp` is
 * Node's and the libraries' scratch space; `/app/data/local` is the runtime's default data folder,
 * used only by the local fallbacks, never by the task's state (DynamoDB) or artifacts (S3).
 */
export const WRITABLE_PATHS = [
  { volume: 'tmp', path: '/tmp' },
  { volume: 'data-local', path: '/app/data/local' },
] as const;

/** The command ECS runs in the container to check health (node:22-slim has no curl). */
export const HEALTH_CHECK_COMMAND = `node -e "fetch('http://127.0.0.1:${STATUS_PORT}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"`;

export interface HotPathServiceProps {
  readonly config: StageConfig;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly image: ecs.ContainerImage;
  readonly table: dynamodb.ITable;
  readonly queues: Readonly<Record<QueueName, QueuePair>>;
  readonly killSwitch: ssm.IStringParameter;
  readonly bucket: s3.IBucket;
  /** JSON `{"apiKey", "apiSecret"}` (lib/secrets.ts). */
  readonly mexcCredentials: secretsmanager.ISecret;
  /** The KMS key of the log group (lib/dataKey.ts). */
  readonly logKey: kms.IKey;
}

export class HotPathService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HotPathServiceProps) {
    super(scope, id);
    const { config } = props;

    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.DISABLED });
    acknowledge(this.cluster, [
      {
        id: 'AwsSolutions-ECS4',
        reason:
          'Container Insights is off to keep the cost down (its per-task metrics and performance log events would add a few dollars a month for one task). The no-running-task alarm uses the free AWS/ECS CPUUtilization sample count instead, and the runtime publishes its own heartbeat metric.',
      },
      guardRule(
        'ecs_container_insights_enabled_check',
        'Container Insights is off to keep the cost down (about $3 to $4 a month of metrics and performance log events for one task). The runtime publishes its own heartbeat metric with an alarm, and the no-running-task alarm uses the free AWS/ECS CPUUtilization sample count.',
      ),
    ]);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: config.logRetentionDays as logs.RetentionDays, encryptionKey: props.logKey });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: config.task.cpu,
      memoryLimitMiB: config.task.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    for (const w of WRITABLE_PATHS) this.taskDefinition.addVolume({ name: w.volume });

    const container = this.taskDefinition.addContainer('Container', {
      containerName: CONTAINER_NAME,
      image: props.image,
      essential: true,
      user: CONTAINER_USER,
      // Nothing in the image can be changed at run time; the writable folders are the volumes above.
      readonlyRootFilesystem: true,
      // A hard limit equal to the task's memory: the container is killed (and replaced) rather than
      // the task swapping or starving.
      memoryLimitMiB: config.task.memoryMiB,
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: 'hot-path' }),
      // The runtime's graceful shutdown is bounded at 25 s (fargate/README.md); SIGKILL comes after this.
      stopTimeout: Duration.seconds(30),
      healthCheck: {
        command: ['CMD-SHELL', HEALTH_CHECK_COMMAND],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // Warm-up pages 1m klines from MEXC before the status server reports healthy.
        startPeriod: Duration.seconds(180),
      },
      environment: {
        STAGE: config.stage,
        TRADING_MODE: config.tradingMode,
        STRATEGY_MODE: config.strategyMode,
        RISK_PROFILE: config.riskProfile,
        ...(config.symbols.length > 0 ? { TRADING_SYMBOLS: config.symbols.join(',') } : {}),
        STATE_TABLE: props.table.tableName,
        EVENTS_QUEUE_URL: props.queues.events.queue.queueUrl,
        ALERTS_QUEUE_URL: props.queues.alerts.queue.queueUrl,
        RETRAIN_QUEUE_URL: props.queues.retrain.queue.queueUrl,
        // Operator commands (Telegram /forceexit): only the lease holder trades, so the task reads them.
        COMMANDS_QUEUE_URL: props.queues.commands.queue.queueUrl,
        COMMANDS_DLQ_URL: props.queues.commands.deadLetterQueue.queueUrl,
        KILL_SWITCH_PARAM: props.killSwitch.parameterName,
        ARTIFACT_BUCKET: props.bucket.bucketName,
        METRICS_NAMESPACE: METRIC_NAMESPACE,
        STATUS_PORT: String(STATUS_PORT),
        AWS_REGION: Stack.of(this).region,
        TMPDIR: '/tmp',
        // The resource watch's CPU line is a share of the task's vCPUs (1024 units each) when the cgroup sets no quota.
        TASK_CPU_CORES: String(config.task.cpu / 1024),
        PRICE_REFERENCE: config.priceReference,
      },
      secrets: {
        MEXC_API_KEY: ecs.Secret.fromSecretsManager(props.mexcCredentials, MEXC_API_KEY_FIELD),
        MEXC_API_SECRET: ecs.Secret.fromSecretsManager(props.mexcCredentials, MEXC_API_SECRET_FIELD),
      },
    });

    container.addMountPoints(...WRITABLE_PATHS.map((w) => ({ sourceVolume: w.volume, containerPath: w.path, readOnly: false })));

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: 1,
      // Stop the old task before the new one starts: two hot paths must never trade at once. The
      // DynamoDB lease per symbol is the second guard (see the file comment).
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroups: [props.securityGroup],
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      enableExecuteCommand: false,
    });
    acknowledge(this.service, [
      guardRule(
        'ecs_service_assign_public_ip_disabled_check',
        'The task has a public IP on purpose: with no NAT gateway (about $33 a month plus $0.045 per GB) it is how the task reaches MEXC and the AWS APIs; the IPv4 address costs $3.65 a month. Its security group has no inbound rule, so nothing on the internet can open a connection to it.',
      ),
    ]);

    // Task role: least privilege, all through grant* calls.
    const role = this.taskDefinition.taskRole;
    props.table.grantReadWriteData(role);
    for (const q of Object.values(props.queues)) q.queue.grantSendMessages(role);
    props.queues.commands.queue.grantConsumeMessages(role);
    props.queues.commands.deadLetterQueue.grantSendMessages(role);
    props.killSwitch.grantRead(role);
    props.bucket.grantReadWrite(role, `${MODELS_PREFIX}*`);
    props.bucket.grantReadWrite(role, `${CANDLES_PREFIX}*`);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['cloudwatch:PutMetricData'],
      resourceArns: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': METRIC_NAMESPACE } },
    });

    const bucketArn = nagRef(props.bucket);
    acknowledge(role, [
      { id: `AwsSolutions-IAM5[Resource::${nagRef(props.table)}/index/*]`, reason: REASONS.tableIndexes },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: REASONS.putMetricData },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: REASONS.s3GrantActions })),
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${MODELS_PREFIX}*]`, reason: REASONS.s3Prefix(MODELS_PREFIX) },
      { id: `AwsSolutions-IAM5[Resource::${bucketArn}/${CANDLES_PREFIX}*]`, reason: REASONS.s3Prefix(CANDLES_PREFIX) },
      ...kmsGrantAcknowledgements(),
    ]);
    acknowledge(this.taskDefinition, [
      {
        id: 'AwsSolutions-ECS2',
        reason:
          'The plain environment holds only names and settings (stage, table and queue names, parameter name, bucket name, trading mode); the two secrets are injected as ECS secrets from Secrets Manager, not as environment values.',
      },
    ]);
    // Only present when the image comes from an asset (ECR): the registry login has no resource.
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole !== undefined && props.image instanceof ecs.AssetImage) {
      acknowledge(executionRole, [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'ecr:GetAuthorizationToken (added by CDK for pulling the image from the asset repository) does not support resource-level permissions; the pull actions themselves are limited to the asset repository.',
        },
      ]);
    }
  }
}
