/**
 * The S3 implementation of the object-store port (services/ml/archive.ts): the candle archive,
 * models and reports live in one bucket under key prefixes. The client is created once per process
 * by the caller and passed in.
 */
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../../ml/archive.js';

/** Most keys one `list` returns: a bound, so a wrong prefix cannot page through a whole bucket. */
const MAX_LIST_KEYS = 200_000;

export class S3ObjectStore implements ObjectStore {
  /** `prefix` (e.g. "data/") is put in front of every key; keys given and returned are without it. */
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix = '',
  ) {}

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      if (!r.Body) return new Uint8Array(0);
      return await r.Body.transformToByteArray();
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return null;
      throw err;
    }
  }

  async put(key: string, body: Uint8Array, contentType = 'application/octet-stream'): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body, ContentType: contentType }));
  }

  async list(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of r.Contents ?? []) if (o.Key !== undefined) out.push(o.Key.slice(this.prefix.length));
      if (out.length > MAX_LIST_KEYS) throw new RangeError(`S3 list of ${this.bucket}/${this.prefix}${prefix} exceeds ${MAX_LIST_KEYS} keys`);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }
}
