/**
 * The retrain job end to end on a real candle fixture (BTCUSDT, 3000 1m candles) in a local-folder
 * archive, with the local model registry and the in-memory state store: the first run (no live
 * model) trains, stores and records its evaluation; a later run shadow-evaluates the candidate
 * against the live model on the held-out span and applies the promotion rule (checked by
 * re-applying the rule to the recorded scores); requests are coalesced (covered -> skipped, too
 * soon -> deferred). Then the Lambda handler: an SQS batch becomes one retrain, with partial
 * failures for malformed records and for deferred or failed runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { AlertEvent } from '../../services/events/types.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { parseConfig } from '../../services/config/schema.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { MODEL_LOADERS, loadBundle } from '../../services/ml/modelBundle.js';
import { decidePromotion, DEFAULT_PROMOTION_RULE, type PromotionDecision } from '../../services/ml/promotion.js';
import { ModelRegistry } from '../../services/ml/registry.js';
import { DEFAULT_RETRAIN_SETTINGS, RetrainDataError, runRetrain, type RetrainResult, type RetrainSettings, type RetrainTrigger } from '../../services/ml/retrain.js';
import { initTf } from '../../services/ml/tf.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import { createRetrainHandler } from '../../lambdas/retrain/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', import.meta.url));
let root: string;
let registry: ModelRegistry;
let archive: CandleArchive;
let now: number;
const HOUR = 3_600_000;

const settings: RetrainSettings = {
  ...DEFAULT_RETRAIN_SETTINGS,
  symbols: ['BTCUSDT'],
  barriers: { mode: 'percent', target: 0.3, stop: 0.2, horizonMinutes: 30 },
  windowDays: 3,
  steps: 8,
  maxTrainSamples: 1500,
  model: { dModel: 16, heads: 2, layers: 1, ffDim: 16, patch: 2, seed: 5 },
  epochs: 2,
  batchSize: 64,
  config: parseConfig({}),
};

beforeAll(async () => {
  await initTf();
  root = mkdtempSync(join(tmpdir(), 'ml-retrain-'));
  const objects = new LocalFolderStore(root);
  archive = new CandleArchive(objects);
  const candles = loadCandleFile(FIXTURE).candles;
  now = candles[candles.length - 1]!.openTime + 60_000;
  await archive.write('BTCUSDT', candles, now);
  const { store } = createMemoryStore({ clock: () => now });
  registry = new ModelRegistry({ objects, pointer: store, uriPrefix: `file://${root}/`, loaders: MODEL_LOADERS });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Evaluation {
  decision: PromotionDecision;
  promoted: boolean;
  live: { version: string } | null;
  data: { trainSamples: number; heldOutSamples: number; heldOut: { from: number; to: number }; validation: { from: number; to: number }; train: { from: number; to: number } };
}

describe('runRetrain', () => {
  let first: RetrainResult;

  it('first run: trains, stores the candidate, promotes it (permissive rule: no live model yet) and records the evaluation', async () => {
    const permissive = { ...settings, rule: { minRelativeImprovement: -10, minSamples: 10, pnlTolerance: Number.POSITIVE_INFINITY } };
    const trigger: RetrainTrigger = { source: 'schedule', reasons: ['test'], requestedAt: now };
    first = await runRetrain({ archive, registry, clock: () => now }, permissive, trigger);
    expect(first.status).toBe('done');
    if (first.status !== 'done') return;
    expect(first.promoted).toBe(true);
    expect(first.epochs.length).toBeGreaterThanOrEqual(1);
    expect((await registry.current())?.current).toMatchObject({ version: first.version, uri: first.uri });
    const ev = (await registry.readJson(first.evaluationKey)) as Evaluation;
    expect(ev.live).toBeNull();
    expect(ev.data.heldOutSamples).toBeGreaterThanOrEqual(200);
    // Parts are in time order with an embargo of at least one horizon between them.
    expect(ev.data.validation.from - ev.data.train.to).toBeGreaterThanOrEqual(30 * 60_000);
    expect(ev.data.heldOut.from - ev.data.validation.to).toBeGreaterThanOrEqual(30 * 60_000);
    expect(existsSync(join(root, 'models/transformer', first.version, 'scaler.json'))).toBe(true);
    const bundle = await loadBundle(registry, first.uri);
    expect(bundle.model.steps).toBe(8);
    bundle.dispose();
  }, 60_000);

  it('coalesces: a request made before the last retrain started is covered; one made after it but too soon is deferred', async () => {
    const deps = { archive, registry, clock: () => now + 10 * 60_000 };
    expect((await runRetrain(deps, settings, { source: 'queue', reasons: ['r'], requestedAt: now - 1 })).status).toBe('skipped');
    expect((await runRetrain(deps, settings, { source: 'queue', reasons: ['r'], requestedAt: now + 5 * 60_000 })).status).toBe('deferred');
    expect((await runRetrain(deps, settings, { source: 'schedule', reasons: ['hourly'], requestedAt: now + 10 * 60_000 })).status).toBe('skipped');
  });

  it('a later run shadow-evaluates candidate and live model and applies the promotion rule to their scores', async () => {
    const later = now + HOUR;
    const r = await runRetrain({ archive, registry, clock: () => later }, { ...settings, model: { ...settings.model, seed: 9 } }, { source: 'queue', reasons: ['drift'], requestedAt: later - 1 });
    expect(r.status).toBe('done');
    if (r.status !== 'done' || first.status !== 'done') return;
    const ev = (await registry.readJson(r.evaluationKey)) as Evaluation;
    expect(ev.live?.version).toBe(first.version);
    const d = ev.decision;
    expect(d.live).toBeDefined();
    expect(d.candidate.samples).toBe(d.live!.samples);
    // The recorded decision is the rule applied to the recorded scores.
    expect(decidePromotion(d.candidate, d.live, d.chanceLogLoss, DEFAULT_PROMOTION_RULE).promote).toBe(d.promote);
    expect(r.promoted).toBe(d.promote);
    const live = (await registry.current())!.current.version;
    expect(live).toBe(d.promote ? r.version : first.version);
  }, 60_000);

  it('fine-tune mode starts from the live model: same scaler, training continues from its weights', async () => {
    const later = now + 2 * HOUR;
    const live = (await registry.current())!.current;
    const r = await runRetrain({ archive, registry, clock: () => later }, { ...settings, mode: 'fine-tune', epochs: 1 }, { source: 'manual', reasons: ['tune'], requestedAt: later });
    expect(r.status).toBe('done');
    if (r.status !== 'done') return;
    const ev = (await registry.readJson(r.evaluationKey)) as { training: { mode: string } };
    expect(ev.training.mode).toBe('fine-tune');
    const [a, b] = await Promise.all([registry.readArtifact(live.uri), registry.readArtifact(r.uri)]);
    expect(new TextDecoder().decode(b.files['scaler.json'])).toBe(new TextDecoder().decode(a.files['scaler.json']));
    // The tuned model counts the live model's epochs plus its own.
    const epochsOf = (f: Uint8Array | undefined) => (JSON.parse(new TextDecoder().decode(f)) as { trainedEpochs: number }).trainedEpochs;
    expect(epochsOf(b.files['model.json'])).toBe(epochsOf(a.files['model.json']) + 1);
  }, 60_000);

  it('fails with RetrainDataError when the window holds no data', async () => {
    const empty = new CandleArchive(new LocalFolderStore(join(root, 'empty')));
    await expect(runRetrain({ archive: empty, registry, clock: () => now + 5 * HOUR }, settings, { source: 'manual', reasons: ['x'], requestedAt: now })).rejects.toThrow(RetrainDataError);
  });
});

describe('retrain handler', () => {
  const record = (id: string, body: unknown): SQSRecord => ({ messageId: id, body: typeof body === 'string' ? body : JSON.stringify(body) }) as SQSRecord;
  const request = (id: string, time: number) => record(id, { type: 'retrain_request', id: `retrain:${id}`, time, reason: `reason ${id}` });
  const sqs = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
  const ctx = localContext('retrain', 'req-1');

  function handlerWith(outcome: (t: RetrainTrigger) => Promise<RetrainResult>) {
    const calls: RetrainTrigger[] = [];
    const h = createRetrainHandler(() => Promise.resolve({ run: (t) => (calls.push(t), outcome(t)) }));
    return { h, calls };
  }
  const done = (): Promise<RetrainResult> => Promise.resolve({ status: 'skipped', reason: 'covered' });

  it('coalesces a batch into one retrain with the latest request time; malformed records fail alone', async () => {
    const { h, calls } = handlerWith(done);
    const res = await h(sqs(request('a', 1000), request('b', 3000), record('bad', '{"type":"retrain_request"}'), request('c', 2000)), ctx);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ source: 'queue', requestedAt: 3000 });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  it('hands the records back when the run is deferred or fails, not when there is too little data', async () => {
    const deferred = handlerWith(() => Promise.resolve({ status: 'deferred', reason: 'too soon' }));
    expect(await deferred.h(sqs(request('a', 1), request('b', 2)), ctx)).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] });
    const failed = handlerWith(() => Promise.reject(new Error('S3 throttled')));
    expect(await failed.h(sqs(request('a', 1)), ctx)).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
    const noData = handlerWith(() => Promise.reject(new RetrainDataError('no candles')));
    expect(await noData.h(sqs(request('a', 1)), ctx)).toEqual({ batchItemFailures: [] });
  });

  it("answers an operator's job (/ml_retrain) once the run is over, not while it is deferred", async () => {
    const alerts: AlertEvent[] = [];
    const job = (id: string, jobId: string) => record(id, { type: 'retrain_request', id: `retrain_request:${jobId}`, time: 5, reason: 'asked by telegram 1', jobId });
    const deferred = createRetrainHandler(() => Promise.resolve({ run: () => Promise.resolve({ status: 'deferred', reason: 'too soon' } as RetrainResult), alert: (e) => (alerts.push(e), Promise.resolve()) }));
    expect(await deferred(sqs(job('a', 'retrain-x1-7')), ctx)).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }] });
    expect(alerts).toEqual([]);
    const skipped = createRetrainHandler(() => Promise.resolve({ run: () => Promise.resolve({ status: 'skipped', reason: 'no new data since the last run' } as RetrainResult), alert: (e) => (alerts.push(e), Promise.resolve()) }));
    expect(await skipped(sqs(job('a', 'retrain-x1-7'), request('b', 1)), ctx)).toEqual({ batchItemFailures: [] });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ id: 'retrain:job:retrain-x1-7', title: 'retrain job retrain-x1-7 finished', detail: 'skipped: no new data since the last run' });
  });

  it('alerts on a promotion and on a failure; a failing alert sink does not change the outcome', async () => {
    const alerts: AlertEvent[] = [];
    const promoted: RetrainResult = {
      status: 'done',
      version: '20261201T140000Z',
      uri: 'file:///m/',
      promoted: true,
      decision: { promote: true, reason: 'better', candidate: { logLoss: 0.6, netPnl: 1, trades: 1, samples: 300 }, chanceLogLoss: 0.69 },
      evaluationKey: 'e',
      epochs: [],
    };
    const ok = createRetrainHandler(() => Promise.resolve({ run: () => Promise.resolve(promoted), alert: (e) => (alerts.push(e), Promise.resolve()) }));
    expect(await ok(sqs(request('a', 1)), ctx)).toEqual({ batchItemFailures: [] });
    expect(alerts[0]).toMatchObject({ severity: 'info', id: 'retrain:promoted:20261201T140000Z', title: expect.stringMatching(/promoted/) as string });
    const bad = createRetrainHandler(() => Promise.resolve({ run: () => Promise.reject(new Error('boom')), alert: (e) => (alerts.push(e), Promise.reject(new Error('sqs down'))) }));
    expect(await bad(sqs(request('b', 1)), ctx)).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
    expect(alerts[1]).toMatchObject({ severity: 'warning', dedupKey: 'retrain-failed', detail: 'Error: boom' });
  });

  it('runs on the schedule with the event time', async () => {
    const { h, calls } = handlerWith(done);
    const res = await h({ time: '2026-12-01T14:00:00Z', source: 'aws.events', 'detail-type': 'Scheduled Event' } as never, ctx);
    expect(calls[0]).toMatchObject({ source: 'schedule', requestedAt: Date.UTC(2026, 11, 1, 14) });
    expect(res).toEqual({ status: 'skipped', reason: 'covered' });
  });
});
