/**
 * The resource watch on fixture cgroup files (a Fargate-like cgroup v2 folder and a cgroup v1 one,
 * test/fixtures/cgroup) with an injected clock: the figures worked out by hand from the files, the
 * high/ok changes with their hysteresis, and the EMF line the metrics write.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmfMetrics } from '../../fargate/metrics.js';
import { CgroupProbe, type StatFs } from '../../services/adapters/resources/cgroupProbe.js';
import { ProcessProbe } from '../../services/adapters/resources/processProbe.js';
import { ResourceWatch, describeReading } from '../../services/observability/resourceWatch.js';

const FIX = 'test/fixtures/cgroup';
const GIB = 2 ** 30;
/** A 20 GiB volume with `freeGiB` available. */
const volume = (freeGiB: number): StatFs => () => Promise.resolve({ bsize: 4096, blocks: (20 * GIB) / 4096, bavail: (freeGiB * GIB) / 4096 });

describe('CgroupProbe on fixture files', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cgroup-'));
    await cp(join(FIX, 'v2'), root, { recursive: true });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('reads cgroup v2: memory less the inactive file cache against memory.max, the cpu quota in cores, statfs of the data volume', async () => {
    const probe = new CgroupProbe({ root, dataPath: '/data', fallbackCores: 8, fallbackMemoryBytes: 64 * GIB, statfs: volume(5) });
    const s = await probe.read();
    // memory.current 2147483648 - inactive_file 268435456 = 1879048192; memory.max 4294967296.
    expect(s.memory).toEqual({ usedBytes: 1_879_048_192, limitBytes: 4_294_967_296 });
    // cpu.max "200000 100000" = 2 cores; cpu.stat usage_usec 1200000000.
    expect(s.cpu).toEqual({ usageMicros: 1_200_000_000, limitCores: 2 });
    // 20 GiB, 5 GiB available: 15 GiB in use.
    expect(s.disk).toEqual({ usedBytes: 15 * GIB, totalBytes: 20 * GIB });
    expect(s.problems).toBeUndefined();
  });

  it('falls back to the given limits when the cgroup sets none (memory.max "max", cpu.max "max")', async () => {
    await writeFile(join(root, 'memory.max'), 'max\n');
    await writeFile(join(root, 'cpu.max'), 'max 100000\n');
    const s = await new CgroupProbe({ root, dataPath: '/data', fallbackCores: 0.5, fallbackMemoryBytes: 8 * GIB, statfs: volume(5) }).read();
    expect(s.memory?.limitBytes).toBe(8 * GIB);
    expect(s.cpu?.limitCores).toBe(0.5);
  });

  it('reads cgroup v1 names (cpuacct in ns, a quota of -1 and the huge v1 limit mean none)', async () => {
    const s = await new CgroupProbe({ root: join(FIX, 'v1'), dataPath: '/data', fallbackCores: 4, fallbackMemoryBytes: 2 * GIB, statfs: volume(10) }).read();
    // usage_in_bytes 1073741824 - total_inactive_file 134217728 = 939524096 of the 2 GiB fallback.
    expect(s.memory).toEqual({ usedBytes: 939_524_096, limitBytes: 2 * GIB });
    // cpuacct.usage 5000000000 ns = 5000000 µs; cfs_quota_us -1: the 4 fallback cores.
    expect(s.cpu).toEqual({ usageMicros: 5_000_000, limitCores: 4 });
  });

  it('names what it cannot read and leaves it out, without throwing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cgroup-empty-'));
    try {
      const s = await new CgroupProbe({ root: empty, dataPath: '/nope', fallbackCores: 1, fallbackMemoryBytes: GIB, statfs: () => Promise.reject(new Error('ENOENT')) }).read();
      expect(s.cpu).toBeUndefined();
      expect(s.memory).toBeUndefined();
      expect(s.disk).toBeUndefined();
      expect(s.problems).toEqual([`memory: no readable memory.current under ${empty}`, `cpu: no readable cpu.stat usage_usec under ${empty}`, 'disk: statfs /nope failed (ENOENT)']);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('ResourceWatch: percentages, lines and hysteresis (injected clock)', () => {
  let root: string;
  let now: number;
  let free: number;
  const setCpu = (usec: number) => writeFile(join(root, 'cpu.stat'), `usage_usec ${usec}\nuser_usec ${usec}\nsystem_usec 0\n`);
  /** memory.current such that the used memory (less the fixture's 256 MiB inactive_file) is `used`. */
  const setMemory = (used: number) => writeFile(join(root, 'memory.current'), `${used + 268_435_456}\n`);
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cgroup-'));
    await cp(join(FIX, 'v2'), root, { recursive: true });
    now = 1_000_000;
    free = 10;
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('CPU is a rate over the wall time and the quota; memory and disk cross their lines and come back under them less 5 points', async () => {
    const probe = new CgroupProbe({ root, dataPath: '/data', fallbackCores: 1, fallbackMemoryBytes: GIB, statfs: (p) => volume(free)(p) });
    const watch = new ResourceWatch(probe, { now: () => now });
    const first = await watch.sample();
    // No earlier sample: no CPU rate yet. Memory 1879048192 / 4294967296 = 43.75 %; disk 10 of 20 GiB = 50 %.
    expect([first.reading.cpuPct, first.reading.memoryPct, first.reading.diskPct]).toEqual([undefined, 43.75, 50]);
    expect(first.changes).toEqual([]);

    // 15 s later, 25.5 s more CPU time on 2 cores: 25.5 / (15 x 2) = 85 %, exactly the line: high.
    now += 15_000;
    await setCpu(1_200_000_000 + 25_500_000);
    await setMemory(3_900_000_000); // 3.9e9 / 4294967296 = 90.80 %: high, memory pressure
    free = 1; // 19 of 20 GiB = 95 %: high
    const second = await watch.sample();
    expect([second.reading.cpuPct, second.reading.memoryPct, second.reading.diskPct]).toEqual([85, 90.8, 95]);
    expect(second.changes.map((c) => [c.kind, c.to, c.pct, c.thresholdPct])).toEqual([
      ['cpu', 'high', 85, 85],
      ['memory', 'high', 90.8, 90],
      ['disk', 'high', 95, 95],
    ]);
    expect(watch.memoryPressure).toBe(true);
    expect(describeReading(second.reading)).toBe('cpu 85 % of 2 core(s), memory 90.8 % of 4096 MiB, disk 95 % of 20.0 GiB');

    // Under the lines but within 5 points of them: still high, no change (no flapping alerts).
    now += 15_000;
    await setCpu(1_225_500_000 + 24_000_000); // 24 / 30 = 80 %
    await setMemory(3_800_000_000); // 88.48 %
    free = 1.5; // 92.5 %
    const third = await watch.sample();
    expect([third.reading.cpuPct, third.reading.memoryPct, third.reading.diskPct]).toEqual([80, 88.48, 92.5]);
    expect(third.changes).toEqual([]);
    expect(watch.memoryPressure).toBe(true);

    // More than 5 points under: ok again.
    now += 15_000;
    await setCpu(1_249_500_000 + 12_000_000); // 40 %
    await setMemory(3_600_000_000); // 83.82 %
    free = 3; // 85 %
    const fourth = await watch.sample();
    expect(fourth.changes.map((c) => [c.kind, c.to, c.pct])).toEqual([
      ['cpu', 'ok', 40],
      ['memory', 'ok', 83.82],
      ['disk', 'ok', 85],
    ]);
    expect(watch.memoryPressure).toBe(false);
  });

  it('a CPU counter that went backwards (a new cgroup) gives no rate instead of a negative one', async () => {
    const watch = new ResourceWatch(new CgroupProbe({ root, dataPath: '/d', fallbackCores: 1, fallbackMemoryBytes: GIB, statfs: volume(10) }), { now: () => now });
    await watch.sample();
    now += 15_000;
    await setCpu(1000);
    expect((await watch.sample()).reading.cpuPct).toBeUndefined();
    now += 15_000;
    await setCpu(1000 + 3_000_000); // 3 s of 30: 10 %
    expect((await watch.sample()).reading.cpuPct).toBe(10);
  });

  it('takes other lines when given', async () => {
    const watch = new ResourceWatch(new CgroupProbe({ root, dataPath: '/d', fallbackCores: 1, fallbackMemoryBytes: GIB, statfs: volume(10) }), { now: () => now, thresholds: { memory: 40 } });
    expect((await watch.sample()).changes.map((c) => c.kind)).toEqual(['memory']);
  });
});

describe('ProcessProbe (local runs)', () => {
  it('reports this process: CPU time, its resident set against the memory it may use, the data folder', async () => {
    const s = await new ProcessProbe(tmpdir()).read();
    expect(s.cpu!.usageMicros).toBeGreaterThan(0);
    expect(s.cpu!.limitCores).toBeGreaterThanOrEqual(1);
    expect(s.memory!.usedBytes).toBeGreaterThan(0);
    expect(s.memory!.usedBytes).toBeLessThan(s.memory!.limitBytes);
    expect(s.disk!.totalBytes).toBeGreaterThan(s.disk!.usedBytes);
  });
});

describe('EMF: the resource metrics', () => {
  it('writes the minute’s highest figure per resource, and none for a resource no sample measured', () => {
    const lines: string[] = [];
    const m = new EmfMetrics('dev', (l) => lines.push(l));
    m.resources({ memoryPct: 40, diskPct: 10 });
    m.resources({ memoryPct: 91.5, cpuPct: 20 });
    m.resources({ memoryPct: 60 });
    m.flush(1000);
    m.flush(2000);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] } });
    expect(a).toMatchObject({ CpuPct: 20, MemoryPct: 91.5, DiskPct: 10, Stage: 'dev' });
    expect(a!._aws.CloudWatchMetrics[0]!.Metrics).toEqual(expect.arrayContaining([{ Name: 'CpuPct', Unit: 'Percent' }, { Name: 'MemoryPct', Unit: 'Percent' }, { Name: 'DiskPct', Unit: 'Percent' }]));
    // The next minute measured nothing: no resource metric is declared or written.
    expect(b).not.toHaveProperty('MemoryPct');
    expect(JSON.stringify(b!._aws)).not.toContain('MemoryPct');
  });
});
