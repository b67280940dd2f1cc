/**
 * The runtime's resource watch: samples the task's CPU, memory and disk (ResourceWatch over a probe:
 * the cgroup on Fargate, the process locally), hands the figures to the metrics (EMF), alerts when a
 * resource crosses its line and when it is back, and says whether optional work must be shed.
 *
 * Shedding: at memory pressure the runtime stops doing what it can do later or get back elsewhere
 * (the candle archive's writes: the candles stay queued, bounded, and `npm run backfill` recovers
 * any the bound drops), so the memory left goes to trading: the feed, the decisions, the orders and
 * the journal are never shed. Each start and end of shedding is one log line and one alert.
 */
import type { AlertSeverity } from '../services/events/types.js';
import { describeReading, type ResourceChange, type ResourceKind, type ResourceWatch } from '../services/observability/resourceWatch.js';
import type { RuntimeMetrics } from './metrics.js';

export interface ResourceGuardDeps {
  readonly log: (line: string) => void;
  readonly err: (line: string) => void;
  readonly alert: (severity: AlertSeverity, key: string, title: string, detail: string) => void;
  readonly metrics: RuntimeMetrics;
}

const WHAT: Record<ResourceKind, string> = { cpu: 'CPU', memory: 'Memory', disk: 'Disk' };
/** What crossing each line means for the task, for the alert. */
const CONSEQUENCE: Record<ResourceKind, string> = {
  cpu: 'Decisions and order handling may lag the market; the task size (cpu) may be too small for the symbols traded.',
  memory: 'The container is killed at its hard limit (a restart reconciles, but stops do not run while it is down). Optional work is shed: candle archive writes are paused; trading goes on.',
  disk: 'Writes to the data volume (state backups, scratch files) will fail when it is full.',
};

export class ResourceGuard {
  /** True while memory is under pressure: optional work is skipped. */
  shedding = false;
  /** Samples taken, and samples that failed. */
  readonly counts = { samples: 0, failures: 0 };
  private lastProblems = '';

  constructor(
    readonly watch: ResourceWatch,
    private readonly deps: ResourceGuardDeps,
  ) {}

  /** One sample: metrics, alerts on changes, shedding on or off. Never throws. */
  async check(): Promise<void> {
    let result;
    try {
      result = await this.watch.sample();
    } catch (e) {
      this.counts.failures++;
      // Once per distinct failure: the watch runs every 15 s.
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      if (why !== this.lastProblems) this.deps.err(`resources: sample failed (${why}); trying again next time`);
      this.lastProblems = why;
      return;
    }
    this.counts.samples++;
    const { reading, changes } = result;
    const problems = (reading.sample.problems ?? []).join('; ');
    if (problems !== this.lastProblems && problems !== '') this.deps.err(`resources: ${problems} (those figures are not watched)`);
    this.lastProblems = problems;
    this.deps.metrics.resources(reading);
    for (const c of changes) this.onChange(c, describeReading(reading));
    if (this.watch.memoryPressure !== this.shedding) {
      this.shedding = this.watch.memoryPressure;
      this.deps.log(
        this.shedding
          ? `SHED  memory at ${reading.memoryPct ?? '?'} % of its limit: optional work shed (candle archive writes paused, candles kept queued); trading goes on`
          : `SHED  memory back to ${reading.memoryPct ?? '?'} %: optional work resumes (candle archive writes)`,
      );
    }
  }

  private onChange(c: ResourceChange, figures: string): void {
    const name = WHAT[c.kind];
    if (c.to === 'high') {
      this.deps.log(`RES   ${name} at ${c.pct} % of the task's limit (line ${c.thresholdPct} %): ${figures}`);
      this.deps.alert(c.kind === 'cpu' ? 'warning' : 'critical', `resource-${c.kind}-high`, `${name} at ${c.pct} % of the task's limit`, `${name} use reached ${c.pct} % (line ${c.thresholdPct} %). ${CONSEQUENCE[c.kind]} Now: ${figures}.`);
    } else {
      this.deps.log(`RES   ${name} back to ${c.pct} % of the task's limit: ${figures}`);
      this.deps.alert('info', `resource-${c.kind}-ok`, `${name} back to ${c.pct} % of the task's limit`, `${name} use fell under ${c.thresholdPct} % less the hysteresis. Now: ${figures}.`);
    }
  }
}
