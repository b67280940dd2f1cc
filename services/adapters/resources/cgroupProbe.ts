/**
 * The task's resources from its cgroup (the Fargate task's container): cgroup v2 files under
 * `/sys/fs/cgroup` (memory.max, memory.current, memory.stat, cpu.max, cpu.stat), with the cgroup v1
 * names as a fallback (memory/memory.limit_in_bytes, cpuacct/cpuacct.usage, ...), and statfs of the
 * data volume for the disk.
 *
 * - Memory in use is memory.current less the inactive file cache (memory.stat `inactive_file`): the
 *   kernel reclaims that cache before it kills anything, and it is what `docker stats` and ECS leave
 *   out too, so a task that merely read big files does not look out of memory.
 * - An unlimited figure (`max`, v1's huge limit, quota -1) falls back to the given limits (the task's
 *   vCPUs from the stack, TASK_CPU_CORES; the machine's memory).
 * - A file that cannot be read leaves its figure out and is named in `problems`; nothing throws.
 */
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResourceProbe, ResourceSample } from '../../observability/resourceWatch.js';

/** statfs as the probe needs it (injectable: tests give fixture figures). */
export type StatFs = (path: string) => Promise<{ readonly bsize: number; readonly blocks: number; readonly bavail: number }>;

export interface CgroupProbeOptions {
  /** The cgroup folder (default /sys/fs/cgroup); tests point it at fixture files. */
  readonly root?: string;
  /** The data volume whose disk use is watched. */
  readonly dataPath: string;
  /** Cores when the cgroup sets no CPU quota. */
  readonly fallbackCores: number;
  /** Bytes when the cgroup sets no memory limit. */
  readonly fallbackMemoryBytes: number;
  readonly statfs?: StatFs;
}

/** A v1 memory limit at or above this is "no limit" (the kernel reports 2^63 rounded to a page). */
const V1_UNLIMITED = 2 ** 60;

/** Reads the task's cgroup; see the file comment. */
export class CgroupProbe implements ResourceProbe {
  readonly name: string;
  private readonly root: string;
  private readonly statfs: StatFs;

  constructor(private readonly opts: CgroupProbeOptions) {
    this.root = opts.root ?? '/sys/fs/cgroup';
    this.statfs = opts.statfs ?? ((p) => statfs(p));
    this.name = `cgroup ${this.root}`;
  }

  async read(): Promise<ResourceSample> {
    const problems: string[] = [];
    // One after the other: a handful of tiny reads every 15 s, and the problems come in a fixed order.
    const memory = await this.memory(problems);
    const cpu = await this.cpu(problems);
    const disk = await diskOf(this.statfs, this.opts.dataPath, problems);
    return { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}), ...(disk ? { disk } : {}), ...(problems.length ? { problems } : {}) };
  }

  private async file(rel: string): Promise<string | undefined> {
    try {
      return (await readFile(join(this.root, rel), 'utf8')).trim();
    } catch {
      return undefined;
    }
  }

  private async memory(problems: string[]): Promise<ResourceSample['memory']> {
    let current = await this.file('memory.current');
    let max = await this.file('memory.max');
    let stat = await this.file('memory.stat');
    let inactiveKey = 'inactive_file';
    let unlimited = (v: number): boolean => !Number.isFinite(v);
    if (current === undefined) {
      // cgroup v1.
      current = await this.file('memory/memory.usage_in_bytes');
      max = await this.file('memory/memory.limit_in_bytes');
      stat = await this.file('memory/memory.stat');
      inactiveKey = 'total_inactive_file';
      unlimited = (v) => !Number.isFinite(v) || v >= V1_UNLIMITED;
    }
    const used = current === undefined ? NaN : Number(current);
    if (!Number.isFinite(used)) {
      problems.push(`memory: no readable memory.current under ${this.root}`);
      return undefined;
    }
    const limit = max === undefined || max === 'max' ? Infinity : Number(max);
    const inactive = statValue(stat, inactiveKey) ?? 0;
    return { usedBytes: Math.max(0, used - inactive), limitBytes: unlimited(limit) ? this.opts.fallbackMemoryBytes : limit };
  }

  private async cpu(problems: string[]): Promise<ResourceSample['cpu']> {
    const stat = await this.file('cpu.stat');
    let usageMicros = statValue(stat, 'usage_usec');
    let cores: number | undefined;
    if (usageMicros !== undefined) {
      const [quota, period] = (await this.file('cpu.max'))?.split(/\s+/) ?? [];
      if (quota !== undefined && quota !== 'max' && Number(period) > 0) cores = Number(quota) / Number(period);
    } else {
      // cgroup v1: cpuacct.usage is in nanoseconds.
      const ns = await this.file('cpuacct/cpuacct.usage');
      usageMicros = ns !== undefined && Number.isFinite(Number(ns)) ? Number(ns) / 1000 : undefined;
      const quota = Number(await this.file('cpu/cpu.cfs_quota_us'));
      const period = Number(await this.file('cpu/cpu.cfs_period_us'));
      if (quota > 0 && period > 0) cores = quota / period;
    }
    if (usageMicros === undefined) {
      problems.push(`cpu: no readable cpu.stat usage_usec under ${this.root}`);
      return undefined;
    }
    return { usageMicros, limitCores: cores !== undefined && Number.isFinite(cores) && cores > 0 ? cores : this.opts.fallbackCores };
  }
}

/** A `key value` line of a cgroup stat file, as a number. */
function statValue(text: string | undefined, key: string): number | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key) {
      const n = Number(v);
      return Number.isFinite(n) ? n : undefined;
    }
  }
  return undefined;
}

/** The volume holding `path`: bytes in use (what is not available to this process) and its size. */
export async function diskOf(fs: StatFs, path: string, problems: string[]): Promise<ResourceSample['disk']> {
  try {
    const s = await fs(path);
    const total = s.blocks * s.bsize;
    if (!(total > 0)) throw new Error(`no size (${s.blocks} blocks of ${s.bsize} bytes)`);
    return { usedBytes: total - s.bavail * s.bsize, totalBytes: total };
  } catch (e) {
    problems.push(`disk: statfs ${path} failed (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}
