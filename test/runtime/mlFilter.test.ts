/**
 * The ML entry filter in the runtime: the model the registry's pointer names serves the session's
 * entry gate (predictions made on each live closed candle, after the features were warmed up on
 * the warm-up history), and a newly promoted model replaces it without a restart.
 *
 * The two models are logistic baselines with zero weights and a bias of +5 / -5, so their answer
 * is known by hand: pUp = sigmoid(5) = 0.9933 (a long entry passes the 0.70 threshold) and
 * sigmoid(-5) = 0.0067 (refused).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../fargate/runtime.js';
import { parseRuntimeConfig } from '../../fargate/runtimeConfig.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { createDynamoStore } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { MemoryEventQueues } from '../../services/events/memoryQueue.js';
import { BASELINE_KIND, type BaselineMeta } from '../../services/ml/baseline.js';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../services/ml/features.js';
import { MODEL_LOADERS, withScaler } from '../../services/ml/modelBundle.js';
import { ModelRegistry } from '../../services/ml/registry.js';
import { FeatureScaler } from '../../services/ml/scaler.js';
import type { ModelArtifact } from '../../services/ml/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import type { EnterIntent } from '../../services/model/intents.js';

const BTC = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;

function constantModel(bias: number): ModelArtifact {
  const meta: BaselineMeta = { kind: BASELINE_KIND, version: 1, steps: 1, featureCount: FEATURE_COUNT, weights: new Array<number>(FEATURE_COUNT).fill(0), bias, targetDistance: 1, stopDistance: 1, info: null };
  const scaler = FeatureScaler.fromJSON({ kind: 'standard-clipped', version: 1, featureNames: FEATURE_NAMES, mean: new Array<number>(FEATURE_COUNT).fill(0), std: new Array<number>(FEATURE_COUNT).fill(1), clip: 5 });
  return withScaler({ kind: BASELINE_KIND, files: { 'meta.json': new TextEncoder().encode(JSON.stringify(meta)) } }, scaler);
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the ML entry filter in the runtime', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let dir: string;
  let rt: Runtime | undefined;
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
    dir = await mkdtemp(join(tmpdir(), 'mlfilter-'));
  });
  afterAll(async () => {
    await rt?.stop('test done');
    await server.close();
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gates entries by the promoted model and swaps to a newly promoted one without a restart', { timeout: 180_000 }, async () => {
    const table = 'mlfilter-test';
    await createTable(dynamo.client, table);
    const store = createDynamoStore({ client: dynamo.client, tableName: table, clock: Date.now });
    const registry = new ModelRegistry({ objects: new LocalFolderStore(join(dir, 'artifacts')), pointer: store, uriPrefix: `file://${resolve(dir, 'artifacts')}/`, loaders: MODEL_LOADERS });
    await registry.promote(await registry.save(constantModel(5), 'v-allow', Date.now()), Date.now());

    const lines: string[] = [];
    const config = parseRuntimeConfig({
      symbols: ['BTCUSDT'],
      exchangeUrl: server.restUrl,
      dataDir: dir,
      stateStorage: 'memory',
      tableName: table,
      statusPort: 0,
      warmupMinutes: 1000,
      mlFilter: 'filter',
      modelPollMs: 1000,
    });
    rt = await Runtime.start(config, { out: { log: (l) => lines.push(l), err: (l) => lines.push(l) }, owner: 'ml-owner', dynamo, events: new MemoryEventQueues({ now: Date.now }) });
    expect(rt.modelWatcher?.version).toBe('v-allow');
    const filter = rt.mlFilter!;

    // A live closed candle: the filter predicts at its close, and the gate reads that prediction.
    const closeCandle = async (k: number): Promise<number> => {
      const c = candles[(999 + k) % candles.length]!;
      const openTime = startMinute + k * 60_000;
      const before = filter.stats.predictions;
      server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: { ...c, openTime }, closed: true, time: openTime + 60_000 });
      // MEXC's kline stream has no "closed" flag: a candle is final once the next one starts.
      const next = candles[(1000 + k) % candles.length]!;
      server.pushMarketData({ type: 'kline', symbol: BTC, interval: '1m', candle: { ...next, openTime: openTime + 60_000 }, closed: false, time: openTime + 61_000 });
      await until('a prediction', () => filter.stats.predictions > before, 20_000);
      return openTime + 60_000;
    };
    const entry = (time: number): EnterIntent => ({
      kind: 'enter', id: `ML${time}`, symbol: BTC, direction: 'long', time, price: 1, stop: 0.99,
      targets: [], level: { price: 1, touches: 3, sources: [] }, oppositeLevel: null, reasons: [], expiresAt: time + 3_600_000,
    });

    const t1 = await closeCandle(1);
    expect(filter.gate(entry(t1))).toBeUndefined();
    // No prediction at another time: refused (the gate never uses a stale prediction).
    expect(filter.gate(entry(t1 - 60_000))).toMatch(/no prediction/);

    await registry.promote(await registry.save(constantModel(-5), 'v-refuse', Date.now()), Date.now());
    await until('the new model to serve', () => rt!.modelWatcher?.version === 'v-refuse', 30_000);
    const t2 = await closeCandle(2);
    expect(filter.gate(entry(t2))).toMatch(/long confidence 0\.007 < 0\.70 \(model v-refuse\)/);
    expect(lines.some((l) => /MODEL serving v-refuse \(was v-allow\)/.test(l))).toBe(true);
  });
});
