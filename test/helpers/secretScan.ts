/**
 * Finding secrets where they must never be: canary values (random, recognisable) searched for in
 * log lines, errors, state items and files, literally and in the forms a leak takes on the way
 * (URL-encoded in a request line, base64 in a header or a dump). A hostile Telegram stand-in quotes
 * the request path (which holds the bot token) back in its errors, as a proxy or a bug might.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** A fresh canary: `<label>-canary-<24 hex>`. */
export function canary(label: string): string {
  return `${label}-canary-${randomBytes(12).toString('hex')}`;
}

/** The forms of each secret searched for. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64'), secret.slice(-16)])];
}

/** Where each secret was found in `texts` (source name → text): `secret@source`. */
export function findSecrets(texts: ReadonlyMap<string, string>, secrets: readonly string[]): string[] {
  const hits: string[] = [];
  for (const s of secrets) {
    for (const [source, text] of texts) {
      for (const f of forms(s)) {
        if (text.includes(f)) {
          hits.push(`${s.slice(0, s.indexOf('-canary-') + 7)}… in ${source}${f === s ? '' : ' (encoded)'}`);
          break;
        }
      }
    }
  }
  return hits;
}

/** Every item of a DynamoDB table, as one text. */
export async function tableText(client: DynamoDBClient, table: string): Promise<string> {
  const parts: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await client.send(new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start as never } : {}) }));
    for (const it of r.Items ?? []) parts.push(JSON.stringify(it));
    start = r.LastEvaluatedKey;
  } while (start);
  return parts.join('\n');
}

/** Every file under `dir` (binary files included, read as latin1 so no byte is lost): path → text. */
export async function dirTexts(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && (await stat(p)).size < 64 << 20) out.set(p, await readFile(p, 'latin1'));
    }
  };
  await walk(dir);
  return out;
}

/**
 * A Telegram Bot API stand-in that fails every other sendMessage and quotes the request path
 * (`/bot<token>/sendMessage`) in its `description`, and answers garbage to some.
 */
export async function hostileTelegram(): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  let n = 0;
  const server: Server = createServer((req, res) => {
    n++;
    req.resume();
    req.on('end', () => {
      const mode = n % 4;
      if (mode === 0) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, result: { message_id: n } }));
      } else if (mode === 1) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: false, error_code: 401, description: `Unauthorized: bad token in ${req.url ?? ''}` }));
      } else if (mode === 2) {
        res.writeHead(502, { 'content-type': 'text/html' }).end(`<html>bad gateway for ${req.url ?? ''}</html>`);
      } else {
        // A reset in the middle: fetch's error may quote the URL.
        res.socket?.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return n;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
