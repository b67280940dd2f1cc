/**
 * The runtime's resource watch end to end (paper, simulator, dynalite in memory): a probe whose
 * figures the test sets stands in for the cgroup. At memory pressure the runtime says so, alerts,
 * and sheds the candle archive's writes (the candles stay queued) while the feed and the session
 * go on; back under the line it alerts again and the queued candles are written.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../fargate/runtime.js';
import { parseRuntimeConfig } from '../../fargate/runtimeConfig.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { MemoryEventQueues } from '../../services/events/memoryQueue.js';
import type { AlertEvent } from '../../services/events/types.js';
import { CandleArchive } from '../../services/ml/archive.js';
import type { ResourceProbe, ResourceSample } from '../../services/observability/resourceWatch.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';

const BTC = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The figures the test sets: memory in MB of a 1000 MB limit, a quiet CPU, a half-full disk. */
class SetProbe implements ResourceProbe {
  readonly name = 'test probe';
  memoryMb = 500;
  private cpu = 0;
  read(): Promise<ResourceSample> {
    this.cpu += 1000;
    return Promise.resolve({ cpu: { usageMicros: this.cpu, limitCores: 1 }, memory: { usedBytes: this.memoryMb * 1e6, limitBytes: 1000e6 }, disk: { usedBytes: 50, totalBytes: 100 } });
  }
}

describe('runtime resource watch: memory pressure sheds the archive writes, not trading', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let dir: string;
  let startMinute: number;

  beforeAll(async () => {
    const now = Date.now();
    startMinute = now - (now % 60_000);
    server = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }],
      replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: startMinute - 1000 * 60_000 }),
      startAt: startMinute,
    });
    dynamo = await startLocalDynamo();
    dir = await mkdtemp(join(tmpdir(), 'runtime-res-'));
  });
  afterAll(async () => {
    await server?.close();
    await dynamo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('at 95 % memory: one SHED line, a critical alert, archive writes skipped while candles flow; at 50 %: resumed, an info alert, the queued candles written', async () => {
    const probe = new SetProbe();
    const lines: string[] = [];
    const events = new MemoryEventQueues({ now: Date.now });
    const config = parseRuntimeConfig({
      symbols: ['BTCUSDT'],
      exchangeUrl: server.restUrl,
      dataDir: dir,
      stateStorage: 'memory',
      tableName: 'resources-test',
      statusPort: 0,
      warmupMinutes: 100,
      resourceEveryMs: 100,
      // Every 60 ms, so the test sees writes (and skipped writes) quickly.
      archiveFlushMinutes: 0.001,
    });
    const rt = await Runtime.start(config, { out: { log: (l) => lines.push(l), err: (l) => lines.push(l) }, owner: 'res-owner', dynamo, events, resourceProbe: probe });
    const archive = new CandleArchive(new LocalFolderStore(join(dir, 'artifacts')));
    const stored = async (): Promise<number> => (await archive.read('BTCUSDT', 0, rt.now() + 3_600_000)).length;
    const alerts = async (): Promise<AlertEvent[]> => {
      const got = await events.queue('alerts').receive(10, 60_000);
      return got.map((m) => m.event).filter((e): e is AlertEvent => e.type === 'alert');
    };
    try {
      expect(lines).toContain('resources: test probe, alert at cpu 85 %, memory 90 % (optional work shed), disk 95 % of the task\'s limits');
      await until('the warm-up candles archived', async () => (await stored()) >= 100);
      const before = await stored();
      expect(rt.resources?.shedding).toBe(false);

      probe.memoryMb = 950;
      await until('shedding', () => rt.resources?.shedding === true);
      expect(lines.filter((l) => / SHED {2}memory at 95 %/.test(l))).toHaveLength(1);
      const high = await alerts();
      expect(high.map((a) => [a.severity, a.title])).toEqual([['critical', "Memory at 95 % of the task's limit"]]);
      expect(high[0]!.detail).toContain('candle archive writes are paused; trading goes on');

      // New minutes close while shedding: the session gets them, the archive write is skipped.
      const candlesBefore = rt.session.counters.candlesClosed;
      server.advanceReplayTo(startMinute + 5 * 60_000);
      await until('the new candles to reach the session', () => rt.session.counters.candlesClosed >= candlesBefore + 4);
      await until('a skipped archive write', () => lines.some((l) => / SHED {2}archive write skipped at memory pressure: [1-9]\d* candle\(s\) stay queued/.test(l)));
      expect(await stored()).toBe(before);

      probe.memoryMb = 500;
      await until('shedding lifted', () => rt.resources?.shedding === false);
      expect(lines.some((l) => / SHED {2}memory back to 50 %: optional work resumes/.test(l))).toBe(true);
      await until('the queued candles written', async () => (await stored()) >= before + 4);
      expect((await alerts()).map((a) => [a.severity, a.title])).toEqual([['info', "Memory back to 50 % of the task's limit"]]);
    } finally {
      await rt.stop('test');
    }
  }, 30_000);
});
