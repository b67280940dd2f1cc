/**
 * A stand-in of the Telegram Bot API on loopback for the report and review deliveries: it answers
 * `POST /bot<token>/<method>` like Telegram (`{"ok":true,"result":...}`), records each call with the
 * form fields of its multipart body (files by name and size), and can be told to fail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BotCall {
  readonly token: string;
  readonly method: string;
  readonly fields: Record<string, string>;
  readonly files: { readonly field: string; readonly filename: string; readonly bytes: number }[];
}

export interface BotApiStandIn {
  readonly apiRoot: string;
  readonly calls: BotCall[];
  /** Answer every call with this HTTP status and a Telegram error (undefined: succeed). */
  failWith: number | undefined;
  close(): Promise<void>;
}

function parseMultipart(body: Buffer, contentType: string): Pick<BotCall, 'fields' | 'files'> {
  const fields: Record<string, string> = {};
  const files: BotCall['files'] = [];
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) {
    try {
      for (const [k, v] of Object.entries(JSON.parse(body.toString('utf8')) as Record<string, unknown>)) fields[k] = String(v);
    } catch {
      // not JSON either: no fields
    }
    return { fields, files };
  }
  const text = body.toString('latin1');
  for (const part of text.split(`--${boundary}`)) {
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = part.slice(0, sep);
    const content = part.slice(sep + 4).replace(/\r\n$/, '');
    const name = /name="([^"]+)"/.exec(head)?.[1];
    if (!name) continue;
    const filename = /filename=(?:"([^"]*)"|([^;\r\n]+))/.exec(head)?.slice(1).find((x) => x !== undefined);
    if (filename !== undefined) files.push({ field: name, filename, bytes: Buffer.byteLength(content, 'latin1') });
    else fields[name] = Buffer.from(content, 'latin1').toString('utf8');
  }
  return { fields, files };
}

export async function startBotApiStandIn(): Promise<BotApiStandIn> {
  const calls: BotCall[] = [];
  const state: { failWith: number | undefined } = { failWith: undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? '');
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      calls.push({ token: m[1]!, method: m[2]!, ...parseMultipart(Buffer.concat(chunks), req.headers['content-type'] ?? '') });
      res.setHeader('content-type', 'application/json');
      if (state.failWith !== undefined) {
        res.writeHead(state.failWith).end(JSON.stringify({ ok: false, error_code: state.failWith, description: 'Internal Server Error: stand-in told to fail' }));
        return;
      }
      res.writeHead(200).end(JSON.stringify({ ok: true, result: { message_id: calls.length, date: 0, chat: { id: 1, type: 'private' } } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    calls,
    get failWith() {
      return state.failWith;
    },
    set failWith(v) {
      state.failWith = v;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
