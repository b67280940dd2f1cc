/**
 * Starting the local bot when Telegram cannot be reached. grammY's own `init` retries a network
 * error for ever, silently; awaited before the runtime's wait, it kept `npm start` from ever
 * honouring `--duration` or a SIGTERM offline (the soak's secrets part hung on it). Here: polling
 * starts in the background, an unreachable API is reported (never with the token), a stop ends the
 * attempts at once, a refused token is said once, the bot starts when the API comes back, and a
 * real `npm start` with a token and a dead Bot API stops by itself on time.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleBot, startPolling } from '../../services/adapters/telegram/consoleBot.js';
import { MemoryOnceStore } from '../../services/console/ports.js';
import { startBotApiStandIn, textUpdate, type BotApiStandIn } from './botApiStandIn.js';
import { consoleHarness, OPERATOR, type ConsoleHarness } from './fixtures.js';

const TOKEN = '123456:POLL-token';
let api: BotApiStandIn;
let h: ConsoleHarness;
let deadPort: number;
const dirs: string[] = [];

beforeAll(async () => {
  api = await startBotApiStandIn(TOKEN);
  h = consoleHarness({});
  // A port nobody listens on: connections are refused (grammY's HttpError, a network failure).
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
});

afterAll(async () => {
  await api?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const botAt = (apiRoot: string, token = TOKEN) => createConsoleBot({ token, apiRoot, service: h.service, once: new MemoryOnceStore(() => h.clock.now) });

describe('starting long polling', () => {
  it('returns at once when the Bot API is unreachable, reports it without the token, and a stop ends the attempts', async () => {
    const problems: string[] = [];
    const polling = startPolling(botAt(`http://127.0.0.1:${deadPort}`), (w, e) => problems.push(`${w}: ${e instanceof Error ? e.message : String(e)}`), { firstRetryMs: 20, maxRetryMs: 40 });
    let settled: boolean | undefined;
    void polling.ready.then((v) => (settled = v));
    const t0 = Date.now();
    while (problems.length === 0 && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 10));
    expect(problems[0]).toMatch(/the Bot API cannot be reached \(attempt 1;/);
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBeUndefined(); // still trying
    // The first failure and every tenth are said, not each one.
    expect(problems.length).toBeLessThanOrEqual(3);
    const s0 = Date.now();
    await polling.stop();
    expect(Date.now() - s0).toBeLessThan(3_000);
    expect(await polling.ready).toBe(false);
    expect(problems.join('\n')).not.toContain('POLL-token');
  });

  it('says once that Telegram refused the token and stays off', async () => {
    const problems: string[] = [];
    const polling = startPolling(botAt(api.apiRoot, '654321:WRONG-token'), (w) => problems.push(w), { firstRetryMs: 20 });
    expect(await polling.ready).toBe(false);
    expect(problems).toEqual(['Telegram refused the bot token (check TELEGRAM_BOT_TOKEN); the bot is off']);
    await polling.stop();
  });

  it('starts polling once the Bot API answers after failing, and answers a command', async () => {
    // A front that fails the first three calls with 502, then passes everything to the stand-in.
    let calls = 0;
    const front: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (++calls <= 3) {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, error_code: 502, description: 'Bad Gateway' }));
          return;
        }
        void fetch(`${api.apiRoot}${req.url ?? ''}`, { method: req.method ?? 'POST', headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, ...(body ? { body } : {}) })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': 'application/json' });
            res.end(await r.text());
          })
          .catch(() => res.destroy());
      });
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const problems: string[] = [];
      const polling = startPolling(botAt(`http://127.0.0.1:${(front.address() as { port: number }).port}`), (w) => problems.push(w), { firstRetryMs: 20, maxRetryMs: 40 });
      expect(await polling.ready).toBe(true);
      expect(problems[0]).toMatch(/cannot be reached \(attempt 1;/);
      const before = api.callsOf('sendMessage').length;
      api.push(textUpdate(OPERATOR, OPERATOR, '/help'));
      await api.waitFor(() => api.callsOf('sendMessage').length > before);
      await polling.stop();
    } finally {
      await new Promise((r) => front.close(r));
    }
  });
});

describe('npm start with a bot token and no Telegram', () => {
  it('trades, says the bot cannot reach Telegram, and stops by itself at --duration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poll-start-'));
    dirs.push(dir);
    const token = '777000:CANARY-start-token';
    const env = { ...process.env, MEXC_PING_URL: 'http://127.0.0.1:9/api/v3/ping', MEXC_EXCHANGE_URL: '', STATUS_PORT: '', MEXC_API_KEY: '', MEXC_API_SECRET: '', TELEGRAM_BOT_TOKEN: token, TELEGRAM_OPERATORS: '4242', TELEGRAM_API_URL: `http://127.0.0.1:${deadPort}` };
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bin/start.ts', '--status-port', '0', '--data-dir', dir, '--symbols', 'DOGEUSDT', '--duration', '4'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const kill = setTimeout(() => proc.kill('SIGKILL'), 90_000);
    const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    clearTimeout(kill);
    expect(out).toMatch(/running paper/);
    expect(out).toMatch(/telegram: the Bot API cannot be reached \(attempt 1;/);
    expect(out).toMatch(/SHUTDOWN stopped in/);
    expect(code).toBe(0);
    expect(out).not.toContain('CANARY-start-token');
  }, 120_000);
});
