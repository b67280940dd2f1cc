/**
 * The registry on the S3 object store (aws-sdk-client-mock, an in-memory bucket): model files go to
 * models/<kind>/<version>/ keys with the manifest last, the pointer records an s3:// URI, and a
 * model reads back from it byte for byte; a missing object is "no model", not a crash.
 */
import { describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { MODEL_LOADERS } from '../../services/ml/modelBundle.js';
import { ModelStoreError } from '../../services/ml/modelErrors.js';
import { ModelRegistry } from '../../services/ml/registry.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';

describe('ModelRegistry on S3', () => {
  it('writes files then the manifest, promotes an s3:// URI and reads the model back', async () => {
    const bucket = new Map<string, Uint8Array>();
    const putOrder: string[] = [];
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).callsFake((input: { Bucket: string; Key: string; Body: Uint8Array }) => {
      expect(input.Bucket).toBe('models-bucket');
      putOrder.push(input.Key);
      bucket.set(input.Key, input.Body);
      return {};
    });
    s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const body = bucket.get(input.Key);
      if (body === undefined) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} });
      return { Body: { transformToByteArray: () => Promise.resolve(body) } };
    });
    const { store } = createMemoryStore({ clock: () => 0 });
    const registry = new ModelRegistry({ objects: new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'models-bucket'), pointer: store, uriPrefix: 's3://models-bucket/', loaders: MODEL_LOADERS });
    const files = { 'model.json': new TextEncoder().encode('{}'), 'weights.bin': new Uint8Array([9, 8, 7]) };
    const stored = await registry.save({ kind: 'transformer', files }, '20261201T140000Z', 5);
    expect(stored.uri).toBe('s3://models-bucket/models/transformer/20261201T140000Z/');
    expect(putOrder).toEqual(['models/transformer/20261201T140000Z/model.json', 'models/transformer/20261201T140000Z/weights.bin', 'models/transformer/20261201T140000Z/manifest.json']);
    const p = await registry.promote(stored, 6);
    expect(p.current.uri).toBe(stored.uri);
    const back = await registry.readArtifact(p.current.uri);
    expect(back.files['weights.bin']).toEqual(new Uint8Array([9, 8, 7]));
    await expect(registry.readArtifact('s3://models-bucket/models/transformer/nope/')).rejects.toThrow(ModelStoreError);
    s3.restore();
  });

  it('wraps store failures in ModelStoreError with the key', async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).rejects(new Error('SlowDown'));
    const { store } = createMemoryStore({ clock: () => 0 });
    const registry = new ModelRegistry({ objects: new S3ObjectStore(new S3Client({ region: 'eu-west-1' }), 'b'), pointer: store, uriPrefix: 's3://b/', loaders: MODEL_LOADERS });
    await expect(registry.readArtifact('s3://b/models/transformer/v1/')).rejects.toThrow(/models\/transformer\/v1\/manifest.json: SlowDown/);
    s3.restore();
  });
});
