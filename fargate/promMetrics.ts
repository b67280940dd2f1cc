/**
 * The hot path's metrics in the Prometheus text format, for `GET /metrics` on the local status
 * server, with prom-client (a registry of its own, not the library's global one, so two runtimes
 * in one process, as in tests, do not mix). The names are the CloudWatch ones
 * (services/observability/metricNames.ts) and the CloudWatch dimensions are the labels, so a
 * dashboard or a query reads the same either way. Counters count from the start of the process
 * (Prometheus computes rates itself); gauges are set on every scrape and flush.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { DETAIL_METRICS, DIMENSIONS, METRICS } from '../services/observability/metricNames.js';
import { LabelBound, type MetricGauges, type OrderLabels, type RuntimeMetrics } from './metrics.js';

export class PrometheusMetrics implements RuntimeMetrics {
  readonly registry = new Registry();
  private readonly heartbeats: Counter;
  private readonly orders: Counter<string>;
  private readonly orderErrors: Counter;
  private readonly dailyLoss: Gauge;
  private readonly signals: Counter<string>;
  private readonly refusals: Counter<string>;
  private readonly feedLag: Gauge<string>;
  private readonly heartbeatAge: Gauge;
  private readonly equity: Gauge;
  private readonly dailyPnl: Gauge;
  private readonly resourcePct: Record<'cpuPct' | 'memoryPct' | 'diskPct', Gauge>;
  private readonly bounds = { source: new LabelBound(), reason: new LabelBound(), stream: new LabelBound() };

  constructor() {
    const registers = [this.registry];
    this.heartbeats = new Counter({ name: METRICS.heartbeat, help: 'Heartbeats written to the state table.', registers });
    this.orders = new Counter({ name: DETAIL_METRICS.ordersByStatus, help: "Orders sent to the exchange, by the venue's answer.", labelNames: [DIMENSIONS.exchange, DIMENSIONS.status, DIMENSIONS.type], registers });
    this.orderErrors = new Counter({ name: METRICS.orderErrors, help: 'Orders the exchange rejected or that failed to send.', registers });
    this.dailyLoss = new Gauge({ name: METRICS.dailyLossPct, help: "The day's loss in percent of the UTC day-start equity (0 when up).", registers });
    this.signals = new Counter({ name: DETAIL_METRICS.signals, help: 'External signals by source and outcome (accepted, dry_run or the refusal code).', labelNames: [DIMENSIONS.source, DIMENSIONS.outcome], registers });
    this.refusals = new Counter({ name: DETAIL_METRICS.riskRefusals, help: 'Entries the risk engine or the executor refused, by reason code.', labelNames: [DIMENSIONS.reason], registers });
    this.feedLag = new Gauge({ name: DETAIL_METRICS.feedLagSeconds, help: 'Seconds since the last event of each stream.', labelNames: [DIMENSIONS.stream], registers });
    this.heartbeatAge = new Gauge({ name: DETAIL_METRICS.heartbeatAgeSeconds, help: 'Seconds since the last heartbeat was written.', registers });
    this.equity = new Gauge({ name: DETAIL_METRICS.equity, help: 'Equity in the quote asset, marked to market.', registers });
    this.dailyPnl = new Gauge({ name: DETAIL_METRICS.dailyPnl, help: 'Equity now minus equity at the UTC day start.', registers });
    this.resourcePct = {
      cpuPct: new Gauge({ name: METRICS.cpuPct, help: "CPU use in percent of the task's vCPUs (this process's locally).", registers }),
      memoryPct: new Gauge({ name: METRICS.memoryPct, help: "Memory in use in percent of the task's hard limit (this process's locally).", registers }),
      diskPct: new Gauge({ name: METRICS.diskPct, help: 'Use of the data volume in percent.', registers }),
    };
  }

  heartbeat(): void {
    this.heartbeats.inc();
  }

  order(rejected: boolean, labels?: OrderLabels): void {
    this.orders.inc({ [DIMENSIONS.exchange]: labels?.exchange ?? 'unknown', [DIMENSIONS.status]: labels?.status ?? (rejected ? 'rejected' : 'unknown'), [DIMENSIONS.type]: labels?.type ?? 'unknown' });
    if (rejected) this.orderErrors.inc();
  }

  dailyLossPct(pct: number): void {
    if (Number.isFinite(pct)) this.dailyLoss.set(Math.max(0, pct));
  }

  signal(source: string, outcome: string): void {
    this.signals.inc({ [DIMENSIONS.source]: this.bounds.source.of(source), [DIMENSIONS.outcome]: outcome });
  }

  riskRefusal(reason: string): void {
    this.refusals.inc({ [DIMENSIONS.reason]: this.bounds.reason.of(reason) });
  }

  gauges(g: MetricGauges): void {
    for (const [stream, s] of Object.entries(g.feedLagSeconds ?? {})) if (Number.isFinite(s)) this.feedLag.set({ [DIMENSIONS.stream]: this.bounds.stream.of(stream) }, s);
    if (g.heartbeatAgeSeconds !== undefined && Number.isFinite(g.heartbeatAgeSeconds)) this.heartbeatAge.set(g.heartbeatAgeSeconds);
    if (g.equity !== undefined && Number.isFinite(g.equity)) this.equity.set(g.equity);
    if (g.dailyPnl !== undefined && Number.isFinite(g.dailyPnl)) this.dailyPnl.set(g.dailyPnl);
  }

  resources(r: { readonly cpuPct?: number; readonly memoryPct?: number; readonly diskPct?: number }): void {
    for (const k of ['cpuPct', 'memoryPct', 'diskPct'] as const) {
      const v = r[k];
      if (v !== undefined && Number.isFinite(v)) this.resourcePct[k].set(v);
    }
  }

  flush(): void {
    // Prometheus pulls: nothing to write.
  }

  /** The text exposition (what `GET /metrics` answers). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
