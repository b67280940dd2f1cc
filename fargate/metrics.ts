/**
 * The hot path's metrics. On AWS: CloudWatch embedded metric format (EMF), JSON lines on stdout
 * that the task's awslogs driver ships and CloudWatch Logs turns into metrics: no SDK call and no
 * request on the hot path. Locally: the same names in the Prometheus text format on `GET /metrics`
 * (fargate/promMetrics.ts). Names and dimensions: services/observability/metricNames.ts; the
 * alarms in lib/observability.ts watch the main line's.
 *
 * EMF: one main line a minute (Heartbeat, Orders, OrderErrors, DailyLossPct with the Stage
 * dimension, as the alarms read them), then one line per label combination counted that minute
 * (Orders by Exchange/Status/Type, Signals by Source/Outcome, RiskRefusals by Reason), one per
 * symbol's 1m kline feed lag, and one with the gauges (HeartbeatAgeSeconds, Equity, DailyPnl).
 * Each dimension combination is a custom metric CloudWatch bills (0.30 $ a month), so the detail
 * lines can be turned off (`detail: false`, env METRICS_DETAIL=off); the main line always goes.
 */
import { DETAIL_METRICS, DIMENSIONS, METRICS, METRIC_NAMESPACE, STAGE_DIMENSION } from '../services/observability/metricNames.js';

/** What an order's answer says, for the orders breakdown. */
export interface OrderLabels {
  readonly exchange: string;
  readonly status: string;
  readonly type: string;
}

/** The gauges, read when metrics are flushed or scraped. */
export interface MetricGauges {
  /** Per stream, seconds since its last event. */
  readonly feedLagSeconds?: Readonly<Record<string, number>>;
  readonly heartbeatAgeSeconds?: number;
  readonly equity?: number;
  readonly dailyPnl?: number;
}

/** What the runtime counts. */
export interface RuntimeMetrics {
  heartbeat(): void;
  order(rejected: boolean, labels?: OrderLabels): void;
  dailyLossPct(pct: number): void;
  signal(source: string, outcome: string): void;
  riskRefusal(reason: string): void;
  gauges(g: MetricGauges): void;
  /** The task's resource use as percent of its limits (resourceWatch.ts); the minute's highest goes out. */
  resources(r: { readonly cpuPct?: number; readonly memoryPct?: number; readonly diskPct?: number }): void;
  /** Writes what was counted since the last flush (and resets the counts). */
  flush(now: number): void;
}

const nothing = (): void => undefined;
/** Counts nothing. */
export const NO_METRICS: RuntimeMetrics = { heartbeat: nothing, order: nothing, dailyLossPct: nothing, signal: nothing, riskRefusal: nothing, gauges: nothing, resources: nothing, flush: nothing };

/** Every call to each of `all` (the EMF lines and the Prometheus registry side by side). */
export function fanOut(...all: RuntimeMetrics[]): RuntimeMetrics {
  return {
    heartbeat: () => all.forEach((m) => m.heartbeat()),
    order: (rejected, labels) => all.forEach((m) => m.order(rejected, labels)),
    dailyLossPct: (pct) => all.forEach((m) => m.dailyLossPct(pct)),
    signal: (source, outcome) => all.forEach((m) => m.signal(source, outcome)),
    riskRefusal: (reason) => all.forEach((m) => m.riskRefusal(reason)),
    gauges: (g) => all.forEach((m) => m.gauges(g)),
    resources: (r) => all.forEach((m) => m.resources(r)),
    flush: (now) => all.forEach((m) => m.flush(now)),
  };
}

/**
 * Distinct values a label may take (sources, streams, reasons): beyond, a value counts as `other`,
 * so a sender inventing source tags cannot grow the metrics without end.
 */
export const MAX_LABEL_VALUES = 50;

/** Keeps the first MAX_LABEL_VALUES values of a label; later new ones become `other`. */
export class LabelBound {
  private readonly seen = new Set<string>();
  of(value: string): string {
    const v = value.slice(0, 64) || 'unknown';
    if (this.seen.has(v)) return v;
    if (this.seen.size >= MAX_LABEL_VALUES) return 'other';
    this.seen.add(v);
    return v;
  }
}

/** EMF lines to `write` (stdout in the task). */
export class EmfMetrics implements RuntimeMetrics {
  private beats = 0;
  private orders = 0;
  private errors = 0;
  private lossPct = 0;
  /** Counts per metric and label combination since the last flush. */
  private readonly counts = new Map<string, { metric: string; dims: Record<string, string>; n: number }>();
  private latest: MetricGauges = {};
  private readonly bounds = { source: new LabelBound(), reason: new LabelBound(), stream: new LabelBound() };
  /** Highest resource percentages since the last flush; absent until a sample knew them. */
  private res: { cpuPct?: number; memoryPct?: number; diskPct?: number } = {};

  constructor(
    private readonly stage: string,
    private readonly write: (line: string) => void,
    private readonly namespace: string = METRIC_NAMESPACE,
    private readonly detail = true,
  ) {}

  heartbeat(): void {
    this.beats++;
  }

  order(rejected: boolean, labels?: OrderLabels): void {
    this.orders++;
    if (rejected) this.errors++;
    if (labels) this.count(DETAIL_METRICS.ordersByStatus, { [DIMENSIONS.exchange]: labels.exchange, [DIMENSIONS.status]: labels.status, [DIMENSIONS.type]: labels.type });
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

  signal(source: string, outcome: string): void {
    this.count(DETAIL_METRICS.signals, { [DIMENSIONS.source]: this.bounds.source.of(source), [DIMENSIONS.outcome]: outcome });
  }

  riskRefusal(reason: string): void {
    this.count(DETAIL_METRICS.riskRefusals, { [DIMENSIONS.reason]: this.bounds.reason.of(reason) });
  }

  gauges(g: MetricGauges): void {
    this.latest = { ...this.latest, ...g };
  }

  private count(metric: string, dims: Record<string, string>): void {
    const key = `${metric}|${Object.values(dims).join('|')}`;
    const c = this.counts.get(key);
    if (c) c.n++;
    else this.counts.set(key, { metric, dims, n: 1 });
  }

  private line(now: number, dims: Record<string, string>, metrics: Record<string, { value: number; unit: string }>): string {
    return JSON.stringify({
      _aws: {
        Timestamp: now,
        CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [[STAGE_DIMENSION, ...Object.keys(dims)]], Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit })) }],
      },
      [STAGE_DIMENSION]: this.stage,
      ...dims,
      ...Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, m.value])),
    });
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
    if (!this.detail) {
      this.counts.clear();
      return;
    }
    for (const c of this.counts.values()) this.write(this.line(now, c.dims, { [c.metric]: { value: c.n, unit: 'Count' } }));
    this.counts.clear();
    const g = this.latest;
    for (const [stream, s] of Object.entries(g.feedLagSeconds ?? {})) {
      // The 1m klines are the streams the health check requires; trades and books only locally.
      if (stream.startsWith('kline:') && Number.isFinite(s)) this.write(this.line(now, { [DIMENSIONS.stream]: this.bounds.stream.of(stream) }, { [DETAIL_METRICS.feedLagSeconds]: { value: s, unit: 'Seconds' } }));
    }
    const gauges: Record<string, { value: number; unit: string }> = {};
    if (g.heartbeatAgeSeconds !== undefined && Number.isFinite(g.heartbeatAgeSeconds)) gauges[DETAIL_METRICS.heartbeatAgeSeconds] = { value: g.heartbeatAgeSeconds, unit: 'Seconds' };
    if (g.equity !== undefined && Number.isFinite(g.equity)) gauges[DETAIL_METRICS.equity] = { value: g.equity, unit: 'None' };
    if (g.dailyPnl !== undefined && Number.isFinite(g.dailyPnl)) gauges[DETAIL_METRICS.dailyPnl] = { value: g.dailyPnl, unit: 'None' };
    if (Object.keys(gauges).length > 0) this.write(this.line(now, {}, gauges));
  }
}
