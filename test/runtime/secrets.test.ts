/**
 * Secrets, the quick version of the soak's part (bench/soak/secrets.ts): the runtime trades live
 * against the simulator with canary credentials while orders meet injected faults; a start with a
 * wrong secret is refused; the Telegram channel talks to a stand-in that quotes the token-bearing
 * URL back in its errors. No log line, error, state item or file the runtime wrote contains a
 * canary, in clear or encoded.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runtime } from '../../fargate/runtime.js';
import { parseRuntimeConfig } from '../../fargate/runtimeConfig.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { TelegramChannel } from '../../services/adapters/telegram/telegramChannel.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import type { EnterIntent } from '../../services/model/intents.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import { canary, dirTexts, findSecrets, hostileTelegram, tableText } from '../helpers/secretScan.js';

const BTC = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const KEY = canary('apikey');
const SECRET = canary('secret');
const TOKEN = canary('bottoken');
const WRONG = canary('wrongsecret');
const TABLE = 'secrets-test';

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('no canary secret in any log, error, state item or file', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let dir: string;
  const simLines: string[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const startMinute = now - (now % 60_000);
    server = await startSimServer({
      markets: [simMarketFromCandles(BTC, candles)],
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: Dec.from(10_000) } }],
      replay: new CandleReplay([{ symbol: BTC, candles }], { shiftTo: startMinute - 1000 * 60_000 }),
      startAt: startMinute,
      log: (l) => simLines.push(l),
    });
    dynamo = await startLocalDynamo();
    await createTable(dynamo.client, TABLE);
    dir = await mkdtemp(join(tmpdir(), 'secrets-'));
  });
  afterAll(async () => {
    await server?.close();
    await dynamo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('live trading under faults, a wrong secret, a hostile Telegram: nothing leaks', async () => {
    const lines: string[] = [];
    const out = { log: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    const config = parseRuntimeConfig({ mode: 'live', symbols: ['BTCUSDT'], exchangeUrl: server.restUrl, dataDir: dir, stateStorage: 'dynamodb', stateEndpoint: dynamo.endpoint, tableName: TABLE, statusPort: 0, warmupMinutes: 60, leaseTtlMs: 5000 });
    const rt = await Runtime.start(config, { out, liveSwitch: true, credentials: { apiKey: KEY, secret: SECRET }, owner: 'secrets-owner' });
    const errors: string[] = [];
    try {
      // The entry's create answers 5xx after placing (an unknown outcome, looked up); the target's create is rejected.
      server.faults.once({ on: 'createOrder', fault: '5xx-after-placing' });
      server.faults.once({ on: 'createOrder', fault: 'reject' });
      const last = candles[999]!.close;
      server.pushMarketData({ type: 'book', symbol: BTC, book: { time: rt.now() + 1000, bid: last - 1, bidSize: 50, ask: last, askSize: 50 } });
      await until('the book', () => rt.session.counters.books > 0);
      const intent: EnterIntent = { kind: 'enter', id: 'SEC1', symbol: BTC, direction: 'long', time: rt.now(), price: last, stop: last * 0.99, targets: [{ label: 'primary', price: last * 1.02, fraction: 1 }], level: { price: last, touches: 3, sources: ['test'] }, oppositeLevel: null, reasons: ['test'], expiresAt: rt.now() + 3_600_000 };
      await rt.session.executor.handle([intent], rt.now());
      await until('the orders and the faults they met', () => server.faults.pending().length === 0 && server.orderLog().length >= 1, 20_000);
      await rt.session.idle();
    } finally {
      await rt.stop('test');
    }
    expect(server.faults.injected()).toMatchObject({ '5xx-after-placing': 1, reject: 1 });

    // A wrong secret: the exchange refuses every signed call; the error says so without the secret.
    const wrong = await Runtime.start(parseRuntimeConfig({ ...config, dataDir: join(dir, 'wrong'), statusPort: 0 }), { out, liveSwitch: true, credentials: { apiKey: KEY, secret: WRONG }, owner: 'secrets-wrong' }).then(
      (r) => r.stop('unexpected start'),
      (e: unknown) => void errors.push(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}\n${String((e as { cause?: unknown }).cause)}` : String(e)),
    );
    void wrong;
    expect(errors).toHaveLength(1);

    const tg = await hostileTelegram();
    try {
      const channel = new TelegramChannel({ token: () => Promise.resolve(TOKEN), chatId: '-1001', fetch: (u, i) => fetch(u, i), baseUrl: tg.url, timeoutMs: 2000 });
      for (let i = 0; i < 8; i++) {
        await channel.send({ text: `alert ${i}` } as never, {} as never).catch((e: unknown) => errors.push(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}\n${JSON.stringify(e)}` : String(e)));
      }
      expect(tg.requests).toBe(8);
    } finally {
      await tg.close();
    }
    // Six of the eight sends failed (401 quoting the path, 502, reset), each with an error.
    expect(errors.length).toBe(1 + 6);

    const texts = new Map<string, string>([
      ['runtime output', lines.join('\n')],
      ['errors', errors.join('\n')],
      ['simulator log', simLines.join('\n')],
      ['state table', await tableText(dynamo.client, TABLE)],
      ...(await dirTexts(dir)),
    ]);
    expect(texts.get('state table')!.length).toBeGreaterThan(100);
    expect(findSecrets(texts, [KEY, SECRET, TOKEN, WRONG])).toEqual([]);
  }, 60_000);

  it('the search itself finds a canary in clear and encoded (it can fail)', () => {
    expect(findSecrets(new Map([['a', `x ${SECRET} y`], ['b', encodeURIComponent(`${KEY}`)], ['c', 'nothing']]), [KEY, SECRET])).toHaveLength(2);
  });
});
