/**
 * Dashboard and alarms. Every alarm notifies the alarm topic (e-mail) on ALARM and on OK.
 *
 * | alarm | metric | fires when |
 * |---|---|---|
 * | HeartbeatMissing | MexcScalper Heartbeat (Sum, 1 min) | under 1 for 3 minutes; missing data counts as breaching, because a dead runtime publishes nothing |
 * | OrderErrorRate | 100 x OrderErrors / Orders (5 min) | above 5 % |
 * | DailyLossNearLimit | MexcScalper DailyLossPct (Max, 5 min) | at or above 80 % of the stage's daily loss limit |
 * | <queue>DlqNotEmpty | AWS/SQS ApproximateNumberOfMessagesVisible of each DLQ (Max, 5 min) | 1 or more |
 * | <job>Errors | AWS/Lambda Errors of each function (Sum, 5 min) | 1 or more |
 * | NoRunningTask | AWS/ECS CPUUtilization SampleCount of the service (1 min) | under 1 for 3 minutes, missing counted as breaching |
 * | TaskCpuHigh | MexcScalper CpuPct (Max, 5 min) | at or above 85 % of the task's vCPUs for 10 minutes (two periods: a burst at a restart's warm-up is no page) |
 * | TaskMemoryHigh | MexcScalper MemoryPct (Max, 1 min) | at or above 90 % of the container's hard limit (the runtime sheds optional work there; at 100 % the container is killed) |
 * | TaskDiskHigh | MexcScalper DiskPct (Max, 5 min) | at or above 95 % of the data volume |
 *
 * No running task: the service's CPUUtilization is published once a minute per running task, so its
 * SampleCount is the number of tasks reporting, and no task means no data. This is free, while
 * ECS/ContainerInsights RunningTaskCount needs Container Insights (paid per metric and log event).
 *
 * The task's resources are the runtime's own figures against its cgroup limits
 * (fargate/resourceGuard.ts), at the same lines it alerts at (RESOURCE_THRESHOLDS): the service's
 * AWS/ECS CPU and memory utilisation are relative to the task's reservation and know no disk.
 * Missing data is not breaching: the heartbeat alarm is the one for a silent task.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { StageConfig } from './config.js';
import type { JobName } from './jobs.js';
import { METRICS, METRIC_NAMESPACE, RESOURCE_THRESHOLDS, STAGE_DIMENSION } from './metrics.js';
import type { QueuePair } from './queues.js';
import type { ScalperFunction } from './scalperFunction.js';
import type { QueueName } from '../services/events/types.js';

/** Order error rate (percent of orders) above which the alarm fires. */
export const ORDER_ERROR_RATE_THRESHOLD_PCT = 5;
/** Fraction of the daily loss limit at which the alarm fires. */
export const DAILY_LOSS_ALARM_FRACTION = 0.8;

export interface ObservabilityProps {
  readonly config: StageConfig;
  readonly topic: sns.ITopic;
  readonly service: ecs.FargateService;
  readonly queues: readonly (QueuePair & { name: QueueName })[];
  readonly functions: readonly { name: JobName | 'telegram-webhook' | 'dashboard' | 'report' | 'review'; fn: ScalperFunction }[];
}

export class Observability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  private readonly action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { config } = props;
    this.action = new actions.SnsAction(props.topic);
    const custom = (metricName: string, statistic: string, period: Duration) =>
      new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName, dimensionsMap: { [STAGE_DIMENSION]: config.stage }, statistic, period });

    const heartbeat = custom(METRICS.heartbeat, cloudwatch.Stats.SUM, Duration.minutes(1));
    this.add('HeartbeatMissing', {
      alarmDescription: `No heartbeat from the hot path (${config.stage}) for 3 minutes: the task is down, hung, or cannot reach CloudWatch.`,
      metric: heartbeat,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    const orders = custom(METRICS.orders, cloudwatch.Stats.SUM, Duration.minutes(5));
    const orderErrors = custom(METRICS.orderErrors, cloudwatch.Stats.SUM, Duration.minutes(5));
    const errorRate = new cloudwatch.MathExpression({
      expression: 'IF(orders > 0, 100 * FILL(errors, 0) / orders, 0)',
      usingMetrics: { orders, errors: orderErrors },
      label: 'Order error rate (%)',
      period: Duration.minutes(5),
    });
    this.add('OrderErrorRate', {
      alarmDescription: `More than ${ORDER_ERROR_RATE_THRESHOLD_PCT} % of orders failed in 5 minutes (${config.stage}).`,
      metric: errorRate,
      threshold: ORDER_ERROR_RATE_THRESHOLD_PCT,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const dailyLoss = custom(METRICS.dailyLossPct, cloudwatch.Stats.MAXIMUM, Duration.minutes(5));
    const lossThreshold = Math.round(config.dailyLossLimitPct * DAILY_LOSS_ALARM_FRACTION * 1e6) / 1e6;
    this.add('DailyLossNearLimit', {
      alarmDescription: `The day's loss reached ${lossThreshold} % of day-start equity, 80 % of the ${config.dailyLossLimitPct} % daily limit (${config.stage}).`,
      metric: dailyLoss,
      threshold: lossThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const q of props.queues) {
      this.add(`${pascal(q.name)}DlqNotEmpty`, {
        alarmDescription: `A message of the ${q.name} queue failed 5 times and is in its dead-letter queue (${config.stage}).`,
        metric: q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    for (const { name, fn } of props.functions) {
      this.add(`${pascal(name)}Errors`, {
        alarmDescription: `The ${name} Lambda failed (${config.stage}).`,
        metric: fn.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const runningTasks = props.service.metricCpuUtilization({ period: Duration.minutes(1), statistic: cloudwatch.Stats.SAMPLE_COUNT, label: 'Running tasks' });
    this.add('NoRunningTask', {
      alarmDescription: `No hot-path task has reported for 3 minutes (${config.stage}): the service is not running.`,
      metric: runningTasks,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    const cpuPct = custom(METRICS.cpuPct, cloudwatch.Stats.MAXIMUM, Duration.minutes(5));
    const memoryPct = custom(METRICS.memoryPct, cloudwatch.Stats.MAXIMUM, Duration.minutes(1));
    const diskPct = custom(METRICS.diskPct, cloudwatch.Stats.MAXIMUM, Duration.minutes(5));
    const resource = (id: string, metric: cloudwatch.Metric, threshold: number, periods: number, what: string): void =>
      this.add(id, {
        alarmDescription: `${what} (${config.stage}).`,
        metric,
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    resource('TaskCpuHigh', cpuPct, RESOURCE_THRESHOLDS.cpuPct, 2, `The hot path used ${RESOURCE_THRESHOLDS.cpuPct} % or more of the task's vCPUs for 10 minutes: decisions may lag the market`);
    resource('TaskMemoryHigh', memoryPct, RESOURCE_THRESHOLDS.memoryPct, 1, `The hot path used ${RESOURCE_THRESHOLDS.memoryPct} % or more of its memory limit: optional work is shed; at 100 % the container is killed`);
    resource('TaskDiskHigh', diskPct, RESOURCE_THRESHOLDS.diskPct, 1, `The hot path's data volume is ${RESOURCE_THRESHOLDS.diskPct} % or more full`);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `mexc-scalper-${config.stage}`,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Heartbeat', left: [heartbeat], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Orders and errors', left: [orders, orderErrors], right: [errorRate], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Daily loss (% of day-start equity)', left: [dailyLoss], leftAnnotations: [{ value: config.dailyLossLimitPct, label: 'limit' }], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Hot path CPU / memory / disk (% of its limits)', left: [cpuPct, memoryPct, diskPct], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Lambda errors', left: props.functions.map(({ fn }) => fn.function.metricErrors({ period: Duration.minutes(5) })), width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queues', left: props.queues.map((q) => q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: `${q.name} DLQ` })), width: 8 }),
    );
  }

  private add(id: string, props: cloudwatch.AlarmProps): void {
    const alarm = new cloudwatch.Alarm(this, id, props);
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
  }
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
