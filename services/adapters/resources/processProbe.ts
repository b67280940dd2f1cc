/**
 * The resources of this process, for local runs (no cgroup to read): CPU time from
 * process.cpuUsage against the machine's cores, the resident set against the memory the process may
 * use (the cgroup limit Node finds, else the machine's memory), and statfs of the data folder.
 */
import { statfs } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import type { ResourceProbe, ResourceSample } from '../../observability/resourceWatch.js';
import { diskOf, type StatFs } from './cgroupProbe.js';

export class ProcessProbe implements ResourceProbe {
  readonly name = 'process';
  private readonly statfs: StatFs;

  constructor(
    private readonly dataPath: string,
    fs?: StatFs,
  ) {
    this.statfs = fs ?? ((p) => statfs(p));
  }

  async read(): Promise<ResourceSample> {
    const problems: string[] = [];
    const cpu = process.cpuUsage();
    // constrainedMemory: the cgroup limit Node reads itself; 0 or a huge value when there is none.
    const constrained = process.constrainedMemory?.() ?? 0;
    const limitBytes = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
    const disk = await diskOf(this.statfs, this.dataPath, problems);
    return {
      cpu: { usageMicros: cpu.user + cpu.system, limitCores: availableParallelism() },
      memory: { usedBytes: process.memoryUsage.rss(), limitBytes },
      ...(disk ? { disk } : {}),
      ...(problems.length ? { problems } : {}),
    };
  }
}
