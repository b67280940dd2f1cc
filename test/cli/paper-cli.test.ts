/**
 * `npm run paper`: flag errors name the flag; an unreachable exchange gives one clear message with
 * the way out (the simulator); and a short run against the simulator over loopback warms up from
 * REST klines (paged: more than MEXC's 500 a request), streams, and prints status lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperCommand } from '../../cli/paper.js';
import { UsageError } from '../../cli/args.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { ConfigError } from '../../services/core/errors.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';

const S = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;

function capture(): { lines: string[]; out: { log: (s: string) => void; err: (s: string) => void } } {
  const lines: string[] = [];
  return { lines, out: { log: (s) => lines.push(s), err: (s) => lines.push(s) } };
}

describe('npm run paper', () => {
  let server: SimServer;
  beforeAll(async () => {
    const now = Date.now();
    const start = now - (now % 60_000);
    // 1,200 minutes of history before now, then the replay runs at 60x.
    const replay = new CandleReplay([{ symbol: S, candles }], { shiftTo: start - 1200 * 60_000 });
    server = await startSimServer({ markets: [simMarketFromCandles(S, candles)], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }], replay, speed: 60, startAt: start });
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a missing --symbols and a bad --balance, naming the flag', async () => {
    await expect(paperCommand([], capture().out)).rejects.toThrow(/--symbols is required/);
    await expect(paperCommand(['--symbols', 'BTCUSDT', '--balance', '0'], capture().out)).rejects.toThrow(UsageError);
    await expect(paperCommand(['--symbols', 'BTCUSDT', '--balance', '0'], capture().out)).rejects.toThrow(/--balance must be a positive number/);
  });

  it('takes --strategy: an unknown one or bad parameters stop it before it connects', async () => {
    await expect(paperCommand(['--symbols', 'BTCUSDT', '--strategy', 'nosuch', '--exchange-url', 'http://127.0.0.1:9'], capture().out)).rejects.toThrow(/unknown strategy "nosuch" \(built-in: sr, breakout/);
  });

  it('explains how to run without internet when the exchange cannot be reached', async () => {
    const err = await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', 'http://127.0.0.1:9'], capture().out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect((err as Error).message).toMatch(/npm run sim/);
  });

  it('refuses a symbol the exchange does not list', async () => {
    const err = await paperCommand(['--symbols', 'ETHUSDT', '--exchange-url', server.restUrl], capture().out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/ETHUSDT is not listed/);
  });

  it('warms up 1,000 minutes through paged klines, streams the replay and reports status', async () => {
    const { lines, out } = capture();
    await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', server.restUrl, '--duration', '3', '--status-every', '1'], out);
    expect(lines).toContain('warm-up BTCUSDT: 1000 closed 1m candles');
    const status = lines.filter((l) => l.startsWith('status '));
    expect(status.length).toBeGreaterThanOrEqual(2);
    // At 60x, three seconds bring about three new closed candles; at least one must have been seen.
    const candlesSeen = Number(/candles (\d+)/.exec(status[status.length - 1] ?? '')?.[1]);
    expect(candlesSeen).toBeGreaterThanOrEqual(1);
    expect(lines.some((l) => /malformed 0/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^stopped\./);
  });
});
