/**
 * Delivery of a finished report (or review, or tax file) to its channels: archived in the artifact
 * store first (S3 or a local folder), then a link to the archived page (presigned on S3), then
 * Telegram (a photo with its caption, and the document) and the e-mail summary (SNS), the last two
 * side by side. A channel that fails is recorded with why and does not stop the others; an absent
 * channel is skipped and said so. Never throws.
 */
import type { ObjectStore } from '../ml/archive.js';

/** A file to archive (and, for the `document`, to send). */
export interface ArtifactFile {
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly contentType: string;
}

/** Telegram: a photo with a caption, then a document. */
export interface PhotoChannel {
  readonly name: string;
  send(message: { readonly caption: string; readonly photo?: { readonly name: string; readonly bytes: Uint8Array }; readonly document: { readonly name: string; readonly bytes: Uint8Array; readonly caption?: string } }): Promise<void>;
}

/** The e-mail list (an SNS topic with e-mail subscriptions). */
export interface EmailChannel {
  readonly name: string;
  send(subject: string, text: string): Promise<void>;
}

/** Turns an archived key into a link someone can open (presigned S3 URL; file path locally). */
export interface LinkSigner {
  link(key: string, expiresSeconds: number): Promise<string>;
}

export interface DeliveryChannels {
  readonly archive?: ObjectStore;
  readonly signer?: LinkSigner;
  readonly telegram?: PhotoChannel;
  readonly email?: EmailChannel;
  /** Validity of the e-mail's link (default 12 h). */
  readonly linkHours?: number;
}

export interface Deliverable {
  readonly files: readonly ArtifactFile[];
  /** The key of the page the e-mail links to and Telegram gets as its document (one of `files`). */
  readonly primaryKey: string;
  readonly caption: string;
  readonly photo?: { readonly name: string; readonly bytes: Uint8Array };
  readonly subject: string;
  /** The e-mail text, given the link (or why there is none). */
  emailText(link: { readonly url?: string; readonly expiresHours?: number; readonly problem?: string }): string;
}

export interface ChannelResult {
  readonly channel: 'archive' | 'link' | 'telegram' | 'email';
  readonly status: 'ok' | 'failed' | 'skipped';
  readonly detail?: string;
}

function why(e: unknown): string {
  return (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 500);
}

/** Delivers `d` to every configured channel (see the file comment). */
export async function deliver(d: Deliverable, ch: DeliveryChannels): Promise<ChannelResult[]> {
  const results: ChannelResult[] = [];
  let archived = false;
  if (ch.archive) {
    try {
      for (const f of d.files) await ch.archive.put(f.key, f.bytes, f.contentType);
      archived = true;
      results.push({ channel: 'archive', status: 'ok', detail: d.files.map((f) => f.key).join(', ') });
    } catch (e) {
      results.push({ channel: 'archive', status: 'failed', detail: why(e) });
    }
  } else results.push({ channel: 'archive', status: 'skipped', detail: 'no artifact store configured' });

  const hours = ch.linkHours ?? 12;
  let link: { url?: string; expiresHours?: number; problem?: string } = { problem: archived ? 'no link signer configured' : 'the report could not be archived' };
  if (archived && ch.signer) {
    try {
      link = { url: await ch.signer.link(d.primaryKey, hours * 3600), expiresHours: hours };
      results.push({ channel: 'link', status: 'ok' });
    } catch (e) {
      link = { problem: 'the link could not be made' };
      results.push({ channel: 'link', status: 'failed', detail: why(e) });
    }
  }

  const primary = d.files.find((f) => f.key === d.primaryKey);
  const sends: Promise<ChannelResult>[] = [];
  const tg = ch.telegram;
  if (tg && primary) {
    sends.push(
      tg
        .send({ caption: d.caption, ...(d.photo ? { photo: d.photo } : {}), document: { name: primary.key.split('/').join('-'), bytes: primary.bytes } })
        .then((): ChannelResult => ({ channel: 'telegram', status: 'ok' }))
        .catch((e: unknown): ChannelResult => ({ channel: 'telegram', status: 'failed', detail: why(e) })),
    );
  } else sends.push(Promise.resolve({ channel: 'telegram', status: 'skipped', detail: 'no Telegram chat configured' }));
  const em = ch.email;
  if (em) {
    sends.push(
      em
        .send(d.subject, d.emailText(link))
        .then((): ChannelResult => ({ channel: 'email', status: 'ok' }))
        .catch((e: unknown): ChannelResult => ({ channel: 'email', status: 'failed', detail: why(e) })),
    );
  } else sends.push(Promise.resolve({ channel: 'email', status: 'skipped', detail: 'no e-mail topic configured' }));
  results.push(...(await Promise.all(sends)));
  return results;
}
