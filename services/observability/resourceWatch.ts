/**
 * The task's resources against its limits: CPU, memory and disk as a percentage of what the task
 * may use, read through a port (`ResourceProbe`: the cgroup files on Fargate, the process's own
 * figures locally; services/adapters/resources) and turned into readings and state changes.
 *
 * - CPU is a rate: the cumulative CPU time the probe reports, differenced between two samples and
 *   divided by the wall time between them and the cores the task may use. The first sample has no
 *   CPU figure. A sample every 15 s averages out scheduling spikes, so one sample over the line is
 *   already sustained load.
 * - A resource becomes `high` on the first sample at or above its threshold and `ok` again only
 *   below the threshold minus `hysteresisPct` (5 points), so a value hovering at the line does not
 *   page on every sample.
 * - Memory `high` is the memory-pressure signal: the runtime sheds optional work (candle archive
 *   writes) before trading is at risk of an out-of-memory kill.
 *
 * Pure: the clock is injected; the probe is the only I/O.
 */
import { RESOURCE_THRESHOLDS } from './metricNames.js';

/** What a probe read; a figure the probe could not read is absent. */
export interface ResourceSample {
  /** CPU time the task has used since it started (user + system), µs, and the cores it may use. */
  readonly cpu?: { readonly usageMicros: number; readonly limitCores: number };
  /** Memory in use (without reclaimable page cache) and the hard limit, bytes. */
  readonly memory?: { readonly usedBytes: number; readonly limitBytes: number };
  /** The data volume: bytes in use and its size. */
  readonly disk?: { readonly usedBytes: number; readonly totalBytes: number };
  /** Figures the probe could not read, and why (a missing file, a permission). */
  readonly problems?: readonly string[];
}

/** The port: reads the task's current resource use. Never throws for a missing figure (it is left out). */
export interface ResourceProbe {
  /** Where the figures come from, for the log (`cgroup v2 /sys/fs/cgroup`, `process`). */
  readonly name: string;
  read(): Promise<ResourceSample>;
}

export type ResourceKind = 'cpu' | 'memory' | 'disk';
export const RESOURCE_KINDS: readonly ResourceKind[] = ['cpu', 'memory', 'disk'];

/** Percent of the limit per resource (absent when not known this sample). */
export interface ResourceReading {
  readonly at: number;
  readonly cpuPct?: number;
  readonly memoryPct?: number;
  readonly diskPct?: number;
  /** Raw figures, for the log line. */
  readonly sample: ResourceSample;
}

/** A resource crossed its line (`high`) or came back under it less the hysteresis (`ok`). */
export interface ResourceChange {
  readonly kind: ResourceKind;
  readonly to: 'high' | 'ok';
  readonly pct: number;
  readonly thresholdPct: number;
  readonly at: number;
}

export interface ResourceWatchOptions {
  readonly now: () => number;
  /** Percent of the limit at which a resource is high (default RESOURCE_THRESHOLDS: 85 / 90 / 95). */
  readonly thresholds?: Partial<Record<ResourceKind, number>>;
  /** Points under the threshold a high resource must fall to be ok again (default 5). */
  readonly hysteresisPct?: number;
}

const PCT_KEY: Record<ResourceKind, 'cpuPct' | 'memoryPct' | 'diskPct'> = { cpu: 'cpuPct', memory: 'memoryPct', disk: 'diskPct' };

/** Rounds a percentage to two decimals (metrics and log lines; the decision uses the same value). */
function pct(used: number, limit: number): number | undefined {
  if (!(Number.isFinite(used) && Number.isFinite(limit)) || limit <= 0 || used < 0) return undefined;
  return Math.round((used / limit) * 10_000) / 100;
}

/** Samples a probe and keeps the high/ok state of each resource; see the file comment. */
export class ResourceWatch {
  readonly thresholds: Readonly<Record<ResourceKind, number>>;
  private readonly hysteresis: number;
  private readonly state: Record<ResourceKind, 'high' | 'ok'> = { cpu: 'ok', memory: 'ok', disk: 'ok' };
  private lastCpu: { usageMicros: number; at: number } | undefined;
  private last: ResourceReading | undefined;

  constructor(
    private readonly probe: ResourceProbe,
    private readonly opts: ResourceWatchOptions,
  ) {
    this.thresholds = { cpu: opts.thresholds?.cpu ?? RESOURCE_THRESHOLDS.cpuPct, memory: opts.thresholds?.memory ?? RESOURCE_THRESHOLDS.memoryPct, disk: opts.thresholds?.disk ?? RESOURCE_THRESHOLDS.diskPct };
    this.hysteresis = opts.hysteresisPct ?? 5;
  }

  get source(): string {
    return this.probe.name;
  }

  /** Whether memory is at or above its line (and not yet back under it less the hysteresis). */
  get memoryPressure(): boolean {
    return this.state.memory === 'high';
  }

  isHigh(kind: ResourceKind): boolean {
    return this.state[kind] === 'high';
  }

  /** The last reading, if any. */
  get latest(): ResourceReading | undefined {
    return this.last;
  }

  /** Reads the probe once; returns the reading and the state changes it caused. Throws what the probe throws. */
  async sample(): Promise<{ reading: ResourceReading; changes: ResourceChange[] }> {
    const s = await this.probe.read();
    const at = this.opts.now();
    let cpuPct: number | undefined;
    if (s.cpu) {
      const prev = this.lastCpu;
      // A counter that went backwards (a new cgroup, a restarted container) starts over.
      if (prev && at > prev.at && s.cpu.usageMicros >= prev.usageMicros) cpuPct = pct(s.cpu.usageMicros - prev.usageMicros, (at - prev.at) * 1000 * s.cpu.limitCores);
      this.lastCpu = { usageMicros: s.cpu.usageMicros, at };
    }
    const memoryPct = s.memory ? pct(s.memory.usedBytes, s.memory.limitBytes) : undefined;
    const diskPct = s.disk ? pct(s.disk.usedBytes, s.disk.totalBytes) : undefined;
    const reading: ResourceReading = { at, sample: s, ...(cpuPct !== undefined ? { cpuPct } : {}), ...(memoryPct !== undefined ? { memoryPct } : {}), ...(diskPct !== undefined ? { diskPct } : {}) };
    const changes: ResourceChange[] = [];
    for (const kind of RESOURCE_KINDS) {
      const v = reading[PCT_KEY[kind]];
      if (v === undefined) continue;
      const line = this.thresholds[kind];
      if (this.state[kind] === 'ok' && v >= line) this.state[kind] = 'high';
      else if (this.state[kind] === 'high' && v < line - this.hysteresis) this.state[kind] = 'ok';
      else continue;
      changes.push({ kind, to: this.state[kind], pct: v, thresholdPct: line, at });
    }
    this.last = reading;
    return { reading, changes };
  }
}

/** One readable line of a reading: `cpu 12.5 % of 2 cores, memory 61.2 % of 4096 MiB, disk 3.1 % of 20 GiB`. */
export function describeReading(r: ResourceReading): string {
  const s = r.sample;
  const parts: string[] = [];
  if (s.cpu) parts.push(`cpu ${r.cpuPct !== undefined ? `${r.cpuPct} %` : '-'} of ${s.cpu.limitCores} core(s)`);
  if (s.memory) parts.push(`memory ${r.memoryPct ?? '-'} % of ${Math.round(s.memory.limitBytes / 2 ** 20)} MiB`);
  if (s.disk) parts.push(`disk ${r.diskPct ?? '-'} % of ${(s.disk.totalBytes / 2 ** 30).toFixed(1)} GiB`);
  return parts.join(', ') || 'no figures';
}
