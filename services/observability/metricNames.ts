/**
 * The custom CloudWatch metrics the hot path emits and the alarms in lib/observability.ts watch. One
 * module so the runtime publishes exactly the names the alarms read: a typo on either side would
 * leave an alarm watching a metric nobody writes (and the heartbeat alarm would fire for ever).
 *
 * Every metric carries one dimension, `Stage` (`dev`, `prod`), so two stages in one account do not
 * mix. The task role may put metrics only into METRIC_NAMESPACE (an IAM condition).
 */

/** CloudWatch namespace of every custom metric. */
export const METRIC_NAMESPACE = 'MexcScalper';

/** The dimension every custom metric carries; its value is the stage name (env `STAGE`). */
export const STAGE_DIMENSION = 'Stage';

/** Metric names, their unit and what the runtime puts in them. */
export const METRICS = {
  /** 1 on every heartbeat (every 15 s); the alarm fires when none arrived for 3 minutes. Unit Count. */
  heartbeat: 'Heartbeat',
  /** 1 per order sent to the exchange (accepted or not). Unit Count. */
  orders: 'Orders',
  /** 1 per order the exchange rejected or that failed to send. Unit Count. */
  orderErrors: 'OrderErrors',
  /**
   * The day's loss as a percentage of the UTC day-start equity (0 when the day is up), e.g. 1.5
   * for -1.5 %; the risk engine's `dailyLoss.usedPct`. Emitted on each heartbeat. Unit Percent.
   */
  dailyLossPct: 'DailyLossPct',
  /**
   * The task's CPU, memory and data-disk use as a percentage of its limits (the cgroup's quota and
   * memory.max on Fargate; services/observability/resourceWatch.ts): the highest sample of the
   * minute. Unit Percent.
   */
  cpuPct: 'CpuPct',
  memoryPct: 'MemoryPct',
  diskPct: 'DiskPct',
} as const;

/**
 * Where the task's resources count as high: the runtime alerts (and, for memory, sheds optional
 * work) at these, and the alarms in lib/observability.ts fire at the same numbers.
 */
export const RESOURCE_THRESHOLDS = { cpuPct: 85, memoryPct: 90, diskPct: 95 } as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];
