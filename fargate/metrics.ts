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
  /** The task's resource use as percent of its limits (resourceWatch.ts); the minute's highest goes out. */
  resources(r: { readonly cpuPct?: number; readonly memoryPct?: number; readonly diskPct?: number }): void;
  /** Writes what was counted since the last flush (and resets the counts). */
  flush(now: number): void;
}

/** Counts nothing (local runs). */
export const NO_METRICS: RuntimeMetrics = { heartbeat: () => undefined, order: () => undefined, dailyLossPct: () => undefined, resources: () => undefined, flush: () => undefined };

/** EMF lines to `write` (stdout in the task). */
export class EmfMetrics implements RuntimeMetrics {
  private beats = 0;
  private orders = 0;
  private errors = 0;
  private lossPct = 0;
  /** Highest resource percentages since the last flush; absent until a sample knew them. */
  private res: { cpuPct?: number; memoryPct?: number; diskPct?: number } = {};

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

  resources(r: { readonly cpuPct?: number; readonly memoryPct?: number; readonly diskPct?: number }): void {
    for (const k of ['cpuPct', 'memoryPct', 'diskPct'] as const) {
      const v = r[k];
      if (v !== undefined && Number.isFinite(v)) this.res[k] = Math.max(this.res[k] ?? 0, v);
    }
  }

  flush(now: number): void {
    // Only the resources a sample measured this minute: a declared metric without a value is an invalid EMF line.
    const res = (['cpuPct', 'memoryPct', 'diskPct'] as const).filter((k) => this.res[k] !== undefined);
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
              ...res.map((k) => ({ Name: METRICS[k], Unit: 'Percent' })),
            ],
          },
        ],
      },
      [STAGE_DIMENSION]: this.stage,
      [METRICS.heartbeat]: this.beats,
      [METRICS.orders]: this.orders,
      [METRICS.orderErrors]: this.errors,
      [METRICS.dailyLossPct]: this.lossPct,
      ...Object.fromEntries(res.map((k) => [METRICS[k], this.res[k]])),
    };
    this.res = {};
    this.beats = 0;
    this.orders = 0;
    this.errors = 0;
    this.write(JSON.stringify(line));
  }
}
