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

/**
 * The breakdowns and gauges beside the alarmed metrics: the hot path writes them as EMF lines of
 * their own (one per label combination a minute) and serves them locally on `GET /metrics` in the
 * Prometheus text format, under the same names, with the dimensions as labels (DIMENSIONS).
 * `Orders` here is the same name as the alarmed total, with more dimensions: CloudWatch keeps
 * `Orders{Stage}` (the alarm's) and `Orders{Stage,Exchange,Status,Type}` as separate metrics.
 */
export const DETAIL_METRICS = {
  /** Orders by exchange (venue name), status of the venue's answer and type (market, limit). Unit Count. */
  ordersByStatus: 'Orders',
  /** External signals by source tag and outcome (accepted, dry_run, or the refusal's reason code). Unit Count. */
  signals: 'Signals',
  /** Entries the risk engine or the executor refused, by reason code. Unit Count. */
  riskRefusals: 'RiskRefusals',
  /** Seconds since the last event of each required stream (kline:SYM:1m, trades:SYM, book:SYM). Unit Seconds. */
  feedLagSeconds: 'FeedLagSeconds',
  /** Seconds since the last heartbeat written to the state table. Unit Seconds. */
  heartbeatAgeSeconds: 'HeartbeatAgeSeconds',
  /** Equity (quote, marked to market). Unit None. */
  equity: 'Equity',
  /** Equity now minus equity at the UTC day start (quote). Unit None. */
  dailyPnl: 'DailyPnl',
} as const;

/** Dimension (CloudWatch) and label (Prometheus) names of the detail metrics. */
export const DIMENSIONS = {
  exchange: 'Exchange',
  status: 'Status',
  type: 'Type',
  source: 'Source',
  outcome: 'Outcome',
  reason: 'Reason',
  stream: 'Stream',
} as const;
