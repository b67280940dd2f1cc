/**
 * Links to archived reports: presigned S3 GET URLs (SigV4, query-string signed), and file paths for
 * the local folder store. A presigned URL made with temporary credentials (a Lambda role's) stops
 * working when those credentials expire, whatever its own expiry says: the e-mail states the
 * intended validity, and the object itself stays in the bucket.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { resolve } from 'node:path';
import type { LinkSigner } from '../../reporting/delivery.js';

/** SigV4 presigned URLs last at most 7 days. */
const MAX_EXPIRY_SECONDS = 7 * 86_400;

export class S3PresignedLinks implements LinkSigner {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  link(key: string, expiresSeconds: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: Math.min(Math.max(60, Math.floor(expiresSeconds)), MAX_EXPIRY_SECONDS) });
  }
}

/** `file://` links into a local folder store (npm start, npm run report). */
export class FileLinks implements LinkSigner {
  constructor(private readonly root: string) {}
  link(key: string): Promise<string> {
    return Promise.resolve(`file://${resolve(this.root, key)}`);
  }
}
