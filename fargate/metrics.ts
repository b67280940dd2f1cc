/**
 * The hot path's CloudWatch metrics, as CloudWatch embedded metric format (EMF): one JSON line a
 * minute on stdout, which the task's awslogs driver ships and CloudWatch Logs turns into metrics.
 * No SDK call and no request on the hot path; the names, namespace and dimension are the ones the
 * alarms in lib/observability.ts watch (services/observability/metricNames.ts).
 */
import { METRICS, METRIC_NAMESPACE, STAGE_DIMENSION } from '../services/observability/metricNames.js';

/** What the runtime counts. */
export interface RuntimeMetrics {
  heartbeat(): void;
  order(rejected: boolean): void;
  dailyLossPct(pct: number): void;
  /** Writes what was counted since the last flush (and resets the counts). */
  flush(now: number): void;
}

/** Counts nothing (local runs). */
export const NO_METRICS: RuntimeMetrics = { heartbeat: () => undefined, order: () => undefined, dailyLossPct: () => undefined, flush: () => undefined };

/** EMF lines to `write` (stdout in the task). */
export class EmfMetrics implements RuntimeMetrics {
  private beats = 0;
  private orders = 0;
  private errors = 0;
  private lossPct = 0;

  constructor(
    private readonly stage: string,
    private readonly write: (line: string) => void,
    private readonly namespace: string = METRIC_NAMESPACE,
  ) {}

  heartbeat(): void {
    this.beats++;
  }

  order(rejected: boolean): void {
    this.orders++;
    if (rejected) this.errors++;
  }

  dailyLossPct(pct: number): void {
    if (Number.isFinite(pct)) this.lossPct = Math.max(0, pct);
  }

  flush(now: number): void {
    const line = {
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [
          {
            Namespace: this.namespace,
            Dimensions: [[STAGE_DIMENSION]],
            Metrics: [
              { Name: METRICS.heartbeat, Unit: 'Count' },
              { Name: METRICS.orders, Unit: 'Count' },
              { Name: METRICS.orderErrors, Unit: 'Count' },
              { Name: METRICS.dailyLossPct, Unit: 'Percent' },
            ],
          },
        ],
      },
      [STAGE_DIMENSION]: this.stage,
      [METRICS.heartbeat]: this.beats,
      [METRICS.orders]: this.orders,
      [METRICS.orderErrors]: this.errors,
      [METRICS.dailyLossPct]: this.lossPct,
    };
    this.beats = 0;
    this.orders = 0;
    this.errors = 0;
    this.write(JSON.stringify(line));
  }
}
