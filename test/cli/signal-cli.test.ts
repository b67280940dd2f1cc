/** `npm run signal`: lines from a file or stdin to POST /signals with the secret, over loopback. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signalCommand } from '../../cli/signal.js';
import { UsageError } from '../../cli/args.js';

let server: Server;
let url: string;
const got: { secret: string | undefined; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ secret: req.headers['x-signal-secret'] as string | undefined, body });
      const refused = body.includes('"short"');
      res.writeHead(refused ? 422 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(refused ? { ok: false, reason: 'SHORT_NOT_SUPPORTED' } : { ok: true, status: 'accepted' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('npm run signal', () => {
  it('sends each line from stdin with the secret, skipping blanks and comments; counts the refused', async () => {
    got.length = 0;
    const out: string[] = [];
    const stdin = Readable.from(['{"symbol":"BTCUSDT","side":"buy","id":"1"}\n', '\n# a comment\n', '{"symbol":"BTCUSDT","side":"short","id":"2"}\n']);
    const refused = await signalCommand(['--url', url], { log: (l) => out.push(l), err: (l) => out.push(l), env: { SIGNALS_SECRET: 'sekrit-0123456789' }, stdin });
    expect(refused).toBe(1);
    expect(got.map((g) => [g.secret, JSON.parse(g.body) as { id: string }])).toEqual([
      ['sekrit-0123456789', { symbol: 'BTCUSDT', side: 'buy', id: '1' }],
      ['sekrit-0123456789', { symbol: 'BTCUSDT', side: 'short', id: '2' }],
    ]);
    expect(out[0]).toMatch(/^line 1: HTTP 200 /);
    expect(out[1]).toMatch(/^line 4: HTTP 422 .*SHORT_NOT_SUPPORTED/);
    expect(out.join('\n')).not.toContain('sekrit');
  });

  it('reads a file, and refuses to run without the secret', async () => {
    got.length = 0;
    const dir = await mkdtemp(join(tmpdir(), 'sig-'));
    const file = join(dir, 's.jsonl');
    await writeFile(file, '{"symbol":"ETH/USDT","side":"sell","id":"f1"}\n');
    const io = { log: () => undefined, err: () => undefined, stdin: Readable.from([]) };
    expect(await signalCommand(['--file', file, '--url', url], { ...io, env: { SIGNALS_SECRET: 'x'.repeat(16) } })).toBe(0);
    expect(got).toHaveLength(1);
    await expect(signalCommand(['--file', file], { ...io, env: {} })).rejects.toBeInstanceOf(UsageError);
    await rm(dir, { recursive: true, force: true });
  });
});
