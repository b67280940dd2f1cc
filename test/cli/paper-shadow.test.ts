/**
 * Shadow start (`npm run paper -- --recommendation <id> --data-dir <dir>`): a supported
 * recommendation's ledger record, put in a local state folder the way `npm run review` writes it,
 * starts paper trading against the simulator with the live config plus its change, and says which
 * keys it changed; a not-supported one is refused (unless --force) and an unknown id too, each with
 * one clear line, before anything connects. The state folder is closed again before trading starts
 * (a second open of the LevelDB folder would fail while the first held it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperCommand } from '../../cli/paper.js';
import { UsageError } from '../../cli/args.js';
import { LOCAL_TABLE, openLocalState } from '../../cli/localState.js';
import { loadCandleFile } from '../../services/adapters/candleFiles.js';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { parseConfig } from '../../services/config/schema.js';
import { ConfigError } from '../../services/core/errors.js';
import { Dec } from '../../services/core/money.js';
import { symbolId } from '../../services/core/types.js';
import { readKey } from '../../services/review/configKeys.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import type { RecommendationRecord } from '../../services/state/types.js';

const S = symbolId('BTCUSDT');
const candles = loadCandleFile('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', { repair: true }).candles;
const LIVE = parseConfig({});
const DAY0 = Date.UTC(2026, 10, 30);

function rec(id: string, verdict: 'supported' | 'not_supported'): RecommendationRecord {
  return {
    id,
    createdAt: DAY0 + 7 * 86_400_000,
    period: 'weekly',
    periodStart: DAY0,
    periodEnd: DAY0 + 7 * 86_400_000,
    reviewer: 'deterministic',
    title: verdict === 'supported' ? 'stricter volume, wider stop' : 'tighter proximity',
    rationale: 'r',
    evidence: ['trades.byExitReason.stop.netPnl'],
    changes:
      verdict === 'supported'
        ? [
            { key: 'entry.volumeMultiplier', from: readKey(LIVE, 'entry.volumeMultiplier')!, to: 2 },
            { key: 'exit.stopBeyondLevelPct', from: readKey(LIVE, 'exit.stopBeyondLevelPct')!, to: 1.2 },
          ]
        : [{ key: 'entry.proximityPct', from: readKey(LIVE, 'entry.proximityPct')!, to: 0.1 }],
    test: { verdict, tester: 'kernel-rolling-oos', rule: 'r', reasons: verdict === 'supported' ? ['all five conditions held'] : ['(2) candidate net -3 does not beat live 1'], figures: {} },
    scores: [],
  };
}

const SUPPORTED = 'rec:weekly:2026-11-30:0';
const UNSUPPORTED = 'rec:weekly:2026-11-30:1';

function capture(): { lines: string[]; out: { log: (s: string) => void; err: (s: string) => void } } {
  const lines: string[] = [];
  return { lines, out: { log: (s) => lines.push(s), err: (s) => lines.push(s) } };
}

describe('npm run paper -- --recommendation (shadow start)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'shadow-'));
  let server: SimServer;
  beforeAll(async () => {
    // The ledger as npm start's folder keeps it: dynalite on disk under <data-dir>/state.
    const local = await startLocalDynamo({ path: join(dataDir, 'state') });
    await createTable(local.client, LOCAL_TABLE);
    const store = createDynamoStore({ client: local.client, tableName: LOCAL_TABLE, clock: Date.now });
    await store.put('recommendation', rec(SUPPORTED, 'supported'), undefined);
    await store.put('recommendation', rec(UNSUPPORTED, 'not_supported'), undefined);
    await local.close();
    const now = Date.now();
    const start = now - (now % 60_000);
    const replay = new CandleReplay([{ symbol: S, candles }], { shiftTo: start - 1200 * 60_000 });
    server = await startSimServer({ markets: [simMarketFromCandles(S, candles)], accounts: [{ apiKey: 'k', apiSecret: 's', deposits: { USDT: Dec.from(1) } }], replay, speed: 60, startAt: start });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts a supported recommendation with its change applied to the live config, and names the keys it changed', async () => {
    const { lines, out } = capture();
    const r = await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', server.restUrl, '--recommendation', SUPPORTED, '--data-dir', dataDir, '--duration', '1', '--warmup', '100'], out);
    expect(readKey(r.config, 'entry.volumeMultiplier')).toBe(2);
    expect(readKey(r.config, 'exit.stopBeyondLevelPct')).toBe(1.2);
    // Everything else is the live config.
    expect(readKey(r.config, 'entry.proximityPct')).toBe(readKey(LIVE, 'entry.proximityPct'));
    expect(lines).toContain(`shadow ${SUPPORTED} ("stricter volume, wider stop"), verdict supported:`);
    expect(lines).toContain(`  changed entry.volumeMultiplier: ${readKey(LIVE, 'entry.volumeMultiplier')} -> 2`);
    expect(lines).toContain(`  changed exit.stopBeyondLevelPct: ${readKey(LIVE, 'exit.stopBeyondLevelPct')} -> 1.2`);
    expect(lines.some((l) => l.startsWith('paper trading BTCUSDT'))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^stopped\./);
    // The state folder was released before trading: it opens again, and the record is unchanged.
    const st = await openLocalState({ dataDir, now: Date.now });
    try {
      expect((await st.store.get('recommendation', SUPPORTED))?.value).toEqual(rec(SUPPORTED, 'supported'));
    } finally {
      await st.close();
    }
  });

  it('refuses a not-supported recommendation with its reasons, and starts it only with --force, labelled', async () => {
    const err = await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', 'http://127.0.0.1:9', '--recommendation', UNSUPPORTED, '--data-dir', dataDir], capture().out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      `--recommendation: ${UNSUPPORTED} ("tighter proximity") is not supported by its test ((2) candidate net -3 does not beat live 1); refusing to start it. --force starts it in paper anyway, labelled as not supported`,
    );
    // With --force it gets as far as the exchange (unreachable here), after printing the label.
    const { lines, out } = capture();
    const forced = await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', 'http://127.0.0.1:9', '--recommendation', UNSUPPORTED, '--data-dir', dataDir, '--force'], out).catch((e: unknown) => e);
    expect((forced as Error).message).toMatch(/cannot reach http:\/\/127\.0\.0\.1:9/);
    expect(lines[0]).toBe(`shadow ${UNSUPPORTED} ("tighter proximity"), verdict NOT SUPPORTED (started with --force):`);
    expect(lines[1]).toBe(`  changed entry.proximityPct: ${readKey(LIVE, 'entry.proximityPct')} -> 0.1`);
  });

  it('refuses an unknown id, a missing state folder, and --force without --recommendation', async () => {
    const unknown = await paperCommand(['--symbols', 'BTCUSDT', '--exchange-url', 'http://127.0.0.1:9', '--recommendation', 'rec:weekly:2026-11-30:7', '--data-dir', dataDir], capture().out).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect((unknown as Error).message).toMatch(/^--recommendation: no recommendation rec:weekly:2026-11-30:7 in the ledger/);
    const noState = await paperCommand(['--symbols', 'BTCUSDT', '--recommendation', SUPPORTED, '--data-dir', join(dataDir, 'nope')], capture().out).catch((e: unknown) => e);
    expect((noState as Error).message).toMatch(/--data-dir: no state under/);
    await expect(paperCommand(['--symbols', 'BTCUSDT', '--force'], capture().out)).rejects.toThrow(UsageError);
  });
});
