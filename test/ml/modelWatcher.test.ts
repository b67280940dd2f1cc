/**
 * Hot reload with the local store: the watcher loads the promoted model, swaps to a newly promoted
 * one without a restart and disposes the old one (only after decisions in flight on it finish);
 * a version that fails to load leaves the old model serving and alerts once; polling uses the
 * injected timers at a bounded interval.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { loadBundle, MODEL_LOADERS, withScaler, type ModelBundle } from '../../services/ml/modelBundle.js';
import { ModelInputError } from '../../services/ml/modelErrors.js';
import { MAX_POLL_MS, MIN_POLL_MS, ModelWatcher, type ModelWatcherAlert } from '../../services/ml/modelWatcher.js';
import { ModelRegistry, type StoredModel } from '../../services/ml/registry.js';
import { FeatureScaler } from '../../services/ml/scaler.js';
import { initTf } from '../../services/ml/tf.js';
import { createTransformer } from '../../services/ml/transformer.js';
import type { SequenceBatch } from '../../services/ml/types.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';

const F = 6;
const STEPS = 4;
let root: string;
let registry: ModelRegistry;
const stored: Record<string, StoredModel> = {};
const batch: SequenceBatch = { count: 1, steps: STEPS, featureCount: F, x: new Float32Array(STEPS * F).map((_, i) => Math.sin(i)), times: new Float64Array(1) };
const names = Array.from({ length: F }, (_, i) => `f${i}`);
const scaler = FeatureScaler.fit(new Float64Array(3 * F).map((_, i) => i % 7), names, [0, 1, 2]);

const noTimers = { setTimeout: () => 0, clearTimeout: () => undefined };

async function store(version: string, seed: number): Promise<void> {
  const m = createTransformer({ steps: STEPS, featureCount: F, layers: 1, seed, mcDropout: false });
  stored[version] = await registry.save(withScaler(await m.save(), scaler), version, 1);
  m.dispose();
}

beforeAll(async () => {
  await initTf();
  root = mkdtempSync(join(tmpdir(), 'ml-watch-'));
  const { store: state } = createMemoryStore({ clock: () => 0 });
  registry = new ModelRegistry({ objects: new LocalFolderStore(root), pointer: state, uriPrefix: `file://${root}/`, loaders: MODEL_LOADERS });
  await store('v1', 1);
  await store('v2', 2);
  await store('v3', 3);
  // v3's weights are damaged after it was stored (wrong size for its manifest).
  writeFileSync(join(root, 'models/transformer/v3/weights.bin'), Buffer.alloc(8));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ModelWatcher', () => {
  it('swaps to promoted models, disposes the old one, and keeps serving when a new one fails to load', async () => {
    const alerts: ModelWatcherAlert[] = [];
    const swaps: string[] = [];
    const w = new ModelWatcher<ModelBundle>({
      pointer: () => registry.current(),
      load: (uri) => loadBundle(registry, uri),
      accept: (b) => (b.model.featureCount === F ? undefined : 'wrong width'),
      onAlert: (a) => alerts.push(a),
      onSwap: (v) => swaps.push(v),
      timers: noTimers,
    });
    expect(await w.poll()).toBe('no-pointer');
    expect(w.model).toBeUndefined();
    expect(await w.use(() => 'ran')).toBeUndefined();

    await registry.promote(stored.v1!, 10);
    expect(await w.poll()).toBe('swapped');
    expect(w.version).toBe('v1');
    const v1 = w.model!;
    const p1 = await v1.model.predict(batch);
    expect(await w.poll()).toBe('unchanged');

    await registry.promote(stored.v2!, 20);
    expect(await w.poll()).toBe('swapped');
    expect(w.version).toBe('v2');
    // The old model was disposed, the new one answers (a different model: different weights).
    await expect(v1.model.predict(batch)).rejects.toThrow(ModelInputError);
    const p2 = await w.use((b) => b.model.predict(batch));
    expect(p2![0]!.pUp).not.toBe(p1[0]!.pUp);

    // v3 is promoted (the store checks only its manifest exists) but cannot be loaded: v2 keeps serving.
    const objects = new LocalFolderStore(root);
    const pointerOnly = createMemoryStore({ clock: () => 0 }).store;
    const liar = new ModelRegistry({ objects, pointer: pointerOnly, uriPrefix: `file://${root}/`, loaders: MODEL_LOADERS });
    await pointerOnly.promoteModel('v3', stored.v3!.uri, 30);
    const w2 = new ModelWatcher<ModelBundle>({ pointer: () => liar.current(), load: (uri) => loadBundle(registry, uri), onAlert: (a) => alerts.push(a), timers: noTimers });
    expect(await w2.poll()).toBe('load-failed');
    expect(w2.model).toBeUndefined();

    const healthy = w.model!;
    const failing = new ModelWatcher<ModelBundle>({ pointer: () => liar.current(), load: (uri) => loadBundle(registry, uri), onAlert: (a) => alerts.push(a), timers: noTimers });
    // Serve v2 first, then the pointer moves to the broken v3.
    await pointerOnly.promoteModel('v2', stored.v2!.uri, 31);
    expect(await failing.poll()).toBe('swapped');
    await pointerOnly.promoteModel('v3', stored.v3!.uri, 32);
    alerts.length = 0;
    expect(await failing.poll()).toBe('load-failed');
    expect(await failing.poll()).toBe('load-failed');
    expect(alerts).toHaveLength(1); // once per failing version
    expect(alerts[0]!.title).toMatch(/v3 failed to load/);
    expect(failing.version).toBe('v2');
    expect((await failing.use((b) => b.model.predict(batch)))![0]!.pUp).toBe(p2![0]!.pUp);
    expect(swaps).toEqual(['v1', 'v2']);
    expect(healthy).toBe(w.model);
    for (const x of [w, w2, failing]) x.stop();
  });

  it('rejects a model its accept check refuses and disposes it', async () => {
    const alerts: ModelWatcherAlert[] = [];
    let loaded: ModelBundle | undefined;
    const w = new ModelWatcher<ModelBundle>({
      pointer: () => registry.current(),
      load: async (uri) => (loaded = await loadBundle(registry, uri)),
      accept: () => 'expects 90 features',
      onAlert: (a) => alerts.push(a),
      timers: noTimers,
    });
    expect(await w.poll()).toBe('load-failed');
    expect(alerts[0]!.detail).toMatch(/expects 90 features/);
    await expect(loaded!.model.predict(batch)).rejects.toThrow(/disposed/);
  });

  it('disposes a replaced model only after the decisions using it have finished', async () => {
    const { store: state } = createMemoryStore({ clock: () => 0 });
    await state.promoteModel('v1', stored.v1!.uri, 1);
    const w = new ModelWatcher<ModelBundle>({ pointer: () => state.getModelPointer(), load: (uri) => loadBundle(registry, uri), onAlert: () => undefined, timers: noTimers });
    await w.poll();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inFlight = w.use(async (b) => {
      await gate;
      return b.model.predict(batch); // still usable: the swap happened meanwhile
    });
    await state.promoteModel('v2', stored.v2!.uri, 2);
    expect(await w.poll()).toBe('swapped');
    release();
    const r = await inFlight;
    expect(r![0]!.pUp).toBeGreaterThan(0);
    w.stop();
  });

  it('polls on the injected timers at a bounded interval and stops', async () => {
    const scheduled: { fn: () => void; ms: number }[] = [];
    const cleared: unknown[] = [];
    const timers = { setTimeout: (fn: () => void, ms: number) => scheduled.push({ fn, ms }), clearTimeout: (h: unknown) => cleared.push(h) };
    let reads = 0;
    const w = new ModelWatcher<ModelBundle>({ pointer: () => (reads++, Promise.resolve(undefined)), load: (uri) => loadBundle(registry, uri), onAlert: () => undefined, timers, intervalMs: 10 });
    expect(w.intervalMs).toBe(MIN_POLL_MS);
    expect(new ModelWatcher<ModelBundle>({ pointer: () => Promise.resolve(undefined), load: (uri) => loadBundle(registry, uri), onAlert: () => undefined, timers, intervalMs: 1e9 }).intervalMs).toBe(MAX_POLL_MS);
    await w.start();
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(1);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.ms).toBe(MIN_POLL_MS);
    scheduled[0]!.fn();
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(2);
    expect(scheduled).toHaveLength(2);
    w.stop();
    expect(cleared).toHaveLength(1);
  });

  it('a model that finishes loading after stop() is disposed, not served', async () => {
    const { store: state } = createMemoryStore({ clock: () => 0 });
    await state.promoteModel('v1', stored.v1!.uri, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let loaded: ModelBundle | undefined;
    const w = new ModelWatcher<ModelBundle>({
      pointer: () => state.getModelPointer(),
      load: async (uri) => {
        await gate;
        return (loaded = await loadBundle(registry, uri));
      },
      onAlert: () => undefined,
      timers: noTimers,
    });
    const polling = w.start();
    w.stop();
    release();
    await polling;
    expect(w.model).toBeUndefined();
    await expect(loaded!.model.predict(batch)).rejects.toThrow(/disposed/);
  });

  it('alerts when the pointer cannot be read and keeps serving', async () => {
    const alerts: ModelWatcherAlert[] = [];
    let fail = false;
    const { store: state } = createMemoryStore({ clock: () => 0 });
    await state.promoteModel('v1', stored.v1!.uri, 1);
    const w = new ModelWatcher<ModelBundle>({
      pointer: () => (fail ? Promise.reject(new Error('throttled')) : state.getModelPointer()),
      load: (uri) => loadBundle(registry, uri),
      onAlert: (a) => alerts.push(a),
      timers: noTimers,
    });
    await w.poll();
    fail = true;
    expect(await w.poll()).toBe('pointer-failed');
    expect(await w.poll()).toBe('pointer-failed');
    expect(alerts).toHaveLength(1);
    expect(w.version).toBe('v1');
    w.stop();
  });
});
