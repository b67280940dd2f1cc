/**
 * The stack of one stage: it only composes the constructs (one per concern) and wires them.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import type { Construct } from 'constructs';
import { AlarmTopic } from './alarmTopic.js';
import { ArtifactBuckets } from './artifactBucket.js';
import type { StageConfig } from './config.js';
import { DataKey } from './dataKey.js';
import { HotPathService } from './hotPathService.js';
import { IdempotencyTable } from './idempotencyTable.js';
import { Jobs } from './jobs.js';
import { KillSwitch } from './killSwitch.js';
import { PublicNetwork } from './network.js';
import { ResearchRunner } from './researchRunner.js';
import { Observability } from './observability.js';
import { Reporting } from './reporting.js';
import { AiReview } from './aiReview.js';
import { REPO_ROOT } from './paths.js';
import { EventQueues } from './queues.js';
import { SignalWebhook } from './signalWebhook.js';
import { TradingSecrets } from './secrets.js';
import { StateTable } from './stateTable.js';
import { TelegramWebhook } from './telegramWebhook.js';
import { WebDashboard } from './webDashboard.js';

/** Dockerfile of the hot path, relative to the repository root (the build context). */
export const DOCKERFILE = 'fargate/Dockerfile';

export interface ScalperStackProps extends StackProps {
  readonly config: StageConfig;
  /**
   * The hot path's image. Default: built from the repository root with fargate/Dockerfile for
   * linux/arm64 (`cdk synth` only stages the build context; `cdk deploy` builds and pushes it).
   * Tests pass `ContainerImage.fromRegistry(...)`, and `-c image=<uri>` does the same from the CLI.
   */
  readonly image?: ecs.ContainerImage;
}

/** The image built from the repository with fargate/Dockerfile (ARM64). */
export function hotPathImageFromAsset(): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(REPO_ROOT, { file: DOCKERFILE, platform: Platform.LINUX_ARM64 });
}

export class ScalperStack extends Stack {
  readonly dataKey: DataKey;
  readonly stateTable: StateTable;
  readonly idempotencyTable: IdempotencyTable;
  readonly secrets: TradingSecrets;
  readonly queues: EventQueues;
  readonly killSwitch: KillSwitch;
  readonly buckets: ArtifactBuckets;
  readonly network: PublicNetwork;
  readonly alarmTopic: AlarmTopic;
  readonly hotPath: HotPathService;
  readonly jobs: Jobs;
  readonly observability: Observability;
  readonly webDashboard: WebDashboard;
  readonly telegramWebhook: TelegramWebhook;
  readonly signals: SignalWebhook;
  readonly research: ResearchRunner;
  readonly reporting: Reporting;
  readonly review: AiReview;

  constructor(scope: Construct, id: string, props: ScalperStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.dataKey = new DataKey(this, 'DataKey', { stage: config.stage });
    this.stateTable = new StateTable(this, 'State');
    this.idempotencyTable = new IdempotencyTable(this, 'Idempotency');
    this.secrets = new TradingSecrets(this, 'Secrets', { stage: config.stage });
    this.queues = new EventQueues(this, 'Queues', { key: this.dataKey.key });
    this.killSwitch = new KillSwitch(this, 'KillSwitch', { parameterName: config.killSwitchParameterName });
    this.buckets = new ArtifactBuckets(this, 'Artifacts', { key: this.dataKey.key });
    this.network = new PublicNetwork(this, 'Network', { flowLogBucket: this.buckets.logBucket });
    this.alarmTopic = new AlarmTopic(this, 'Alarms', { email: config.alarmEmail, stage: config.stage });

    this.hotPath = new HotPathService(this, 'HotPath', {
      config,
      vpc: this.network.vpc,
      securityGroup: this.network.taskSecurityGroup,
      image: props.image ?? hotPathImageFromAsset(),
      table: this.stateTable.table,
      queues: this.queues.queues,
      killSwitch: this.killSwitch.parameter,
      bucket: this.buckets.bucket,
      mexcCredentials: this.secrets.mexcCredentials,
      logKey: this.dataKey.key,
    });

    this.jobs = new Jobs(this, 'Jobs', {
      config,
      table: this.stateTable.table,
      idempotencyTable: this.idempotencyTable.table,
      queues: this.queues.queues,
      killSwitch: this.killSwitch.parameter,
      bucket: this.buckets.bucket,
      alarmTopic: this.alarmTopic.topic,
      mexcCredentials: this.secrets.mexcCredentials,
      telegramBotToken: this.secrets.telegramBotToken,
      logKey: this.dataKey.key,
    });

    // The research runner (walk-forward optimisation): `npm run optimize -- --on aws` and /optimize
    // start it; a console job's answer goes to the alerts queue.
    this.research = new ResearchRunner(this, 'Research', { config, bucket: this.buckets.bucket, logKey: this.dataKey.key, alerts: this.queues.queues.alerts.queue });

    // The operator console: the web dashboard and the Telegram webhook (each a Function URL).
    this.webDashboard = new WebDashboard(this, 'WebDashboard', { config, table: this.stateTable.table, logKey: this.dataKey.key });
    this.telegramWebhook = new TelegramWebhook(this, 'TelegramWebhook', {
      config,
      logKey: this.dataKey.key,
      table: this.stateTable.table,
      idempotencyTable: this.idempotencyTable.table,
      queues: this.queues.queues,
      killSwitch: this.killSwitch.parameter,
      botToken: this.secrets.telegramBotToken,
      dashboardLinkKey: this.webDashboard.linkKey,
      dashboardUrl: this.webDashboard.url.url,
      research: { stateMachine: this.research.stateMachine, bucket: this.buckets.bucket },
    });

    this.signals = new SignalWebhook(this, 'Signals', {
      config,
      table: this.stateTable.table,
      mexcCredentials: this.secrets.mexcCredentials,
      taskDefinition: this.hotPath.taskDefinition,
      alarmTopic: this.alarmTopic.topic,
      key: this.dataKey.key,
    });

    const reportDeps = { config, table: this.stateTable.table, bucket: this.buckets.bucket, telegramBotToken: this.secrets.telegramBotToken, logKey: this.dataKey.key };
    this.reporting = new Reporting(this, 'Reporting', reportDeps);
    this.review = new AiReview(this, 'Review', { ...reportDeps, topic: this.reporting.topic });

    this.observability = new Observability(this, 'Observability', {
      config,
      topic: this.alarmTopic.topic,
      service: this.hotPath.service,
      queues: this.queues.all(),
      functions: [
        ...this.jobs.all(),
        { name: 'telegram-webhook', fn: this.telegramWebhook.fn },
        { name: 'dashboard', fn: this.webDashboard.fn },
        { name: 'report', fn: this.reporting.function },
        { name: 'review', fn: this.review.function },
      ],
    });

    // What the operator needs after a deploy.
    new CfnOutput(this, 'StateTableName', { value: this.stateTable.table.tableName });
    new CfnOutput(this, 'KillSwitchParameter', { value: this.killSwitch.parameter.parameterName });
    new CfnOutput(this, 'ArtifactBucketName', { value: this.buckets.bucket.bucketName });
    new CfnOutput(this, 'MexcCredentialsSecretArn', { value: this.secrets.mexcCredentials.secretArn });
    new CfnOutput(this, 'TelegramBotTokenSecretArn', { value: this.secrets.telegramBotToken.secretArn });
    new CfnOutput(this, 'EmergencyStopFunctionName', { value: this.jobs.functions['emergency-stop'].function.functionName });
    new CfnOutput(this, 'TelegramWebhookUrl', { value: this.telegramWebhook.url.url, description: 'npm run telegram:webhook -- --url <this URL> --token-secret-id <TelegramBotTokenSecretArn> --webhook-secret-id <TelegramWebhookSecretArn> registers it with Telegram' });
    new CfnOutput(this, 'TelegramWebhookSecretArn', { value: this.telegramWebhook.webhookSecret.secretArn });
    new CfnOutput(this, 'TelegramTotpSecretArn', { value: this.telegramWebhook.totpSecret.secretArn, description: 'enrol this base32 secret in an authenticator app for /resume' });
    new CfnOutput(this, 'DashboardUrl', { value: this.webDashboard.url.url, description: 'opens only with a signed link from /dashboard in Telegram' });
    new CfnOutput(this, 'ClusterName', { value: this.hotPath.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.hotPath.service.serviceName });
    new CfnOutput(this, 'ResearchStateMachineArn', { value: this.research.stateMachine.stateMachineArn });
  }
}
