/**
 * The model registry on the local-folder object store and the in-memory state store: files land
 * under models/<kind>/<version>/ with a manifest written last; a version is immutable; promote and
 * rollback move the pointer (current + previous); an incomplete or damaged folder is refused and
 * never promoted; a Transformer with its scaler round-trips through the store into a bundle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { InvalidStateError } from '../../services/core/errors.js';
import { FEATURE_NAMES } from '../../services/ml/features.js';
import { bundleFromArtifact, loadBundle, MODEL_LOADERS, SCALER_FILE, withScaler } from '../../services/ml/modelBundle.js';
import { ModelStoreError } from '../../services/ml/modelErrors.js';
import { ModelRegistry, modelKey, versionAt } from '../../services/ml/registry.js';
import { FeatureScaler } from '../../services/ml/scaler.js';
import { initTf } from '../../services/ml/tf.js';
import { createTransformer } from '../../services/ml/transformer.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { ModelArtifact, SequenceBatch } from '../../services/ml/types.js';

let root: string;
let registry: ModelRegistry;
const T0 = Date.UTC(2026, 11, 1, 14, 0, 0);

const artifact = (tag: string): ModelArtifact => ({ kind: 'transformer', files: { 'model.json': new TextEncoder().encode(`{"tag":"${tag}"}`), 'weights.bin': new Uint8Array([1, 2, 3, 4]) } });

beforeAll(async () => {
  await initTf();
  root = mkdtempSync(join(tmpdir(), 'ml-registry-'));
  const { store } = createMemoryStore({ clock: () => T0 });
  registry = new ModelRegistry({ objects: new LocalFolderStore(root), pointer: store, uriPrefix: `file://${root}/`, loaders: MODEL_LOADERS });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('ModelRegistry', () => {
  it('names versions by time and folders by kind and version', () => {
    expect(versionAt(T0)).toBe('20261201T140000Z');
    expect(versionAt(T0, 'a1')).toBe('20261201T140000Z-a1');
    expect(modelKey('transformer', 'v1')).toBe('models/transformer/v1/');
    expect(() => modelKey('transformer', '../x')).toThrow(ModelStoreError);
  });

  it('stores every file and a manifest under models/<kind>/<version>/ and reads them back', async () => {
    const stored = await registry.save(artifact('a'), 'v1', T0);
    expect(stored.uri).toBe(`file://${root}/models/transformer/v1/`);
    expect(readFileSync(join(root, 'models/transformer/v1/weights.bin'))).toEqual(Buffer.from([1, 2, 3, 4]));
    const manifest = JSON.parse(readFileSync(join(root, 'models/transformer/v1/manifest.json'), 'utf8')) as { files: { name: string; bytes: number }[] };
    expect(manifest.files).toEqual([
      { name: 'model.json', bytes: 11 }, // {"tag":"a"}
      { name: 'weights.bin', bytes: 4 },
    ]);
    const back = await registry.readArtifact(stored.uri);
    expect(back.kind).toBe('transformer');
    expect(new TextDecoder().decode(back.files['model.json'])).toBe('{"tag":"a"}');
    await expect(registry.save(artifact('b'), 'v1', T0)).rejects.toThrow(/immutable/);
  });

  it('promotes and rolls back through the pointer, keeping the previous version', async () => {
    expect(await registry.current()).toBeUndefined();
    await expect(registry.rollback(T0)).rejects.toThrow(InvalidStateError);
    const v1 = { kind: 'transformer', version: 'v1', uri: registry.uriOf('transformer', 'v1') };
    const v2 = await registry.save(artifact('c'), 'v2', T0);
    let p = await registry.promote(v1, T0 + 1);
    expect(p.current).toEqual({ version: 'v1', uri: v1.uri, promotedAt: T0 + 1 });
    expect(p.previous).toBeUndefined();
    p = await registry.promote(v2, T0 + 2);
    expect(p.current.version).toBe('v2');
    expect(p.previous?.version).toBe('v1');
    p = await registry.rollback(T0 + 3);
    expect(p.current).toEqual({ version: 'v1', uri: v1.uri, promotedAt: T0 + 3 });
    expect((await registry.current())?.current.version).toBe('v1');
  });

  it('refuses incomplete or damaged folders, and never promotes them', async () => {
    const v3 = await registry.save(artifact('d'), 'v3', T0);
    unlinkSync(join(root, 'models/transformer/v3/weights.bin'));
    await expect(registry.readArtifact(v3.uri)).rejects.toThrow(/missing weights.bin/);
    await expect(registry.promote(v3, T0 + 4)).rejects.toThrow(ModelStoreError);
    // A folder without its manifest (an upload that crashed) is not a model.
    const v4 = await registry.save(artifact('e'), 'v4', T0);
    unlinkSync(join(root, 'models/transformer/v4/manifest.json'));
    await expect(registry.promote(v4, T0 + 5)).rejects.toThrow(/no complete model/);
    expect((await registry.current())?.current.version).toBe('v1');
    expect(() => registry.keyOf('s3://other-bucket/models/transformer/v1/')).toThrow(ModelStoreError);
    expect(() => registry.keyOf(`file://${root}/models/transformer/`)).toThrow(ModelStoreError);
  });

  it('round-trips a Transformer with its scaler into a bundle with the same predictions', async () => {
    const F = FEATURE_NAMES.length;
    const rows = 50;
    const values = new Float64Array(rows * F);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i * 0.37) * (1 + (i % F));
    const scaler = FeatureScaler.fit(values, FEATURE_NAMES, Int32Array.from({ length: rows }, (_, i) => i));
    const model = createTransformer({ steps: 4, featureCount: F, layers: 1, seed: 3 });
    const stored = await registry.save(withScaler(await model.save(), scaler), 'bundle1', T0);
    expect(existsSync(join(root, 'models/transformer/bundle1', SCALER_FILE))).toBe(true);
    const bundle = await loadBundle(registry, stored.uri);
    expect(bundle.scaler.toJSON()).toEqual(scaler.toJSON());
    const x = new Float32Array(2 * 4 * F).map((_, i) => Math.cos(i));
    const batch: SequenceBatch = { count: 2, steps: 4, featureCount: F, x, times: new Float64Array(2) };
    expect(await bundle.model.predict(batch)).toEqual(await model.predict(batch));
    // A model whose scaler does not match its input width is refused.
    const narrow = createTransformer({ steps: 4, featureCount: 5, layers: 1 });
    await expect(bundleFromArtifact(withScaler(await narrow.save(), scaler))).rejects.toThrow(/features/);
    for (const m of [model, narrow, bundle]) m.dispose();
  });
});
