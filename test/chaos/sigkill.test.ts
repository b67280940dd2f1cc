/**
 * The crash-only chaos test: the runtime trades live (real ccxt) against the MEXC simulator, which
 * replays the bundled real sample (DOGEUSDT and PEPEUSDT, May–June 2026) at 300x, with its state in
 * a dynalite of this process. It is killed with SIGKILL at random moments (during start-up and
 * recovery as well as while trading), at least 20 times, and restarted each time. A last run is
 * then left to recover and trade, its /status read, and stopped gracefully.
 *
 * At the end, from the exchange's own records (the simulator's order log, open orders and
 * balances) and the state table:
 * - no client order id was ever sent twice as a new order;
 * - every order the exchange received is known to the state, every order still open on it belongs
 *   to an open position in the state, and every holding is an open position's;
 * - every open position in the state was managed by the last run (its /status lists it);
 * - the balances the state's fill ledger adds up to equal the exchange's, to the last decimal
 *   (the simulator charges fees exactly; nothing may be missing or counted twice).
 *
 * Bounded: about 4–5 minutes (a start takes about 13 s here, most of it loading the process); the kill moments come from node:crypto (printed, not fixed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomIntFrom, seededRandom } from '../helpers/prng.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeries } from '../../cli/loadSeries.js';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import type { StateStore } from '../../services/state/types.js';

const KILLS = 22;
const SPEED = 300;
const TABLE = 'chaos-state';
const KEY = 'chaos-key';
const SECRET = 'chaos-secret';
const DEPOSIT = Dec.from(10_000);
const SYMBOLS = ['DOGEUSDT', 'PEPEUSDT'] as const;

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

describe('SIGKILL chaos: the runtime against the simulator, killed and restarted', () => {
  let server: SimServer;
  let dynamo: LocalDynamo;
  let store: StateStore;
  let dir: string;
  const transcript: string[] = [];

  beforeAll(async () => {
    const loaded = loadSeries(['data/sample'], [...SYMBOLS]);
    const series = loaded.series.map((s) => ({ symbol: s.symbol, candles: s.candles }));
    const now = Date.now();
    const firstOpen = now - (now % 60_000);
    server = await startSimServer({
      markets: series.map((s) => simMarketFromCandles(s.symbol, s.candles)),
      accounts: [{ apiKey: KEY, apiSecret: SECRET, deposits: { USDT: DEPOSIT } }],
      replay: new CandleReplay(series, { shiftTo: firstOpen - 1000 * 60_000 }),
      speed: SPEED,
      startAt: firstOpen,
    });
    dynamo = await startLocalDynamo();
    await createTable(dynamo.client, TABLE);
    store = createDynamoStore({ client: dynamo.client, tableName: TABLE, clock: Date.now });
    dir = await mkdtemp(join(tmpdir(), 'chaos-'));
  });

  afterAll(async () => {
    await server?.close();
    await dynamo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function launch(): Run {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bin/start.ts',
        '--live',
        '--exchange-url',
        server.restUrl,
        '--state-endpoint',
        dynamo.endpoint,
        '--owner',
        'chaos-runtime',
        '--data-dir',
        dir,
        '--status-port',
        '0',
        '--symbols',
        SYMBOLS.join(','),
        '--lease-ttl',
        '5',
        '--status-every',
        '5',
      ],
      {
        env: { ...process.env, MEXC_API_KEY: KEY, MEXC_API_SECRET: SECRET, STATE_TABLE: TABLE, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const lines: string[] = [];
    const take = (chunk: Buffer): void => {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, lines, exited };
  }

  async function waitFor(run: Run, what: RegExp, ms: number): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const hit = run.lines.find((l) => what.test(l));
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${String(what)}; last lines:\n${run.lines.slice(-30).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it(`survives ${KILLS} SIGKILLs without a duplicate order, an unknown order or position, or a balance drift`, { timeout: 600_000 }, async () => {
    // Seeded, so a failing run can be replayed: CHAOS_SEED=<the printed seed> npx vitest run test/chaos.
    const seed = Number(process.env.CHAOS_SEED ?? 20_261_206);
    const rnd = seededRandom(seed);
    console.log(`chaos: seed ${seed} (set CHAOS_SEED to replay the same kill times)`);
    const kills: { afterMs: number; running: boolean; orders: number }[] = [];
    for (let i = 0; i < KILLS; i++) {
      const run = launch();
      // Some kills land during start-up and recovery, most while trading.
      const afterMs = randomIntFrom(rnd, 1000, 18_000);
      await new Promise((r) => setTimeout(r, afterMs));
      run.child.kill('SIGKILL');
      await run.exited;
      const running = run.lines.some((l) => / running live /.test(l));
      kills.push({ afterMs, running, orders: run.lines.filter((l) => / ORDER | EXIT | OPEN /.test(l)).length });
      transcript.push(`--- run ${i + 1}: SIGKILL after ${afterMs} ms (${running ? 'trading' : 'starting'})`, ...run.lines);
    }

    // The last run: recovers, trades a little, shows its positions, stops gracefully.
    const last = launch();
    let status: { positions: { id: string; symbol: string }[] };
    try {
      const line = await waitFor(last, /status server (http:\/\/127\.0\.0\.1:\d+)/, 90_000);
      await waitFor(last, / running live /, 90_000);
      await new Promise((r) => setTimeout(r, 3000));
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? '';
      status = (await (await fetch(`${url}/status`)).json()) as typeof status;
      last.child.kill('SIGTERM');
      expect(await last.exited).toBe(0);
    } finally {
      transcript.push('--- last run', ...last.lines);
      await writeFile(join(tmpdir(), 'chaos-transcript.log'), transcript.join('\n'));
    }

    const log = server.orderLog().filter((e) => e.account === KEY);
    const summary = {
      kills: kills.length,
      killedWhileTrading: kills.filter((k) => k.running).length,
      ordersSent: log.length,
      recoveries: transcript.filter((l) => /recovery in \d+ ms/.test(l)).length,
      exitsForDownTime: transcript.filter((l) => /RECOVER /.test(l)).length,
    };
    console.log(`chaos: ${JSON.stringify(summary)} (transcript: ${join(tmpdir(), 'chaos-transcript.log')})`);
    expect(kills.length).toBeGreaterThanOrEqual(20);
    expect(summary.killedWhileTrading).toBeGreaterThan(0);
    // The test means something only if orders were sent across the kills.
    expect(log.length).toBeGreaterThan(0);

    // 1. No client order id was sent twice as a new order (a second send would be logged, rejected with 30011).
    const seen = new Map<string, number>();
    for (const e of log) seen.set(e.clientOrderId, (seen.get(e.clientOrderId) ?? 0) + 1);
    const twice = [...seen.entries()].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);

    // 2. Every order the exchange received is known to the state.
    for (const e of log) {
      const rec = await store.get('order', e.clientOrderId);
      expect(rec, `order ${e.clientOrderId} is in the state`).toBeDefined();
    }

    // 3. Every order still open on the exchange belongs to an open position; every holding is an open position's.
    const open = (await store.listOpenPositions()).map((p) => p.value).filter((p) => p.extras?.mode === 'live');
    const openIds = new Set(open.map((p) => p.id));
    for (const s of SYMBOLS) {
      for (const o of server.engine.openOrders(KEY, s as SymbolId)) {
        const rec = await store.get('order', o.clientOrderId);
        expect(rec?.value.positionId !== undefined && openIds.has(rec.value.positionId), `open order ${o.clientOrderId} belongs to an open position`).toBe(true);
      }
    }
    const balances = server.engine.balances(KEY);
    const total = (asset: string): Dec => {
      const b = balances.find((x) => x.asset === asset);
      return b ? b.free.add(b.locked) : Dec.ZERO;
    };
    for (const s of SYMBOLS) {
      const base = s.replace(/USDT$/, '');
      const held = total(base);
      const pos = open.find((p) => p.symbol === s);
      const remaining = pos ? pos.entryQuantity.sub(pos.exitQuantity) : Dec.ZERO;
      const market = server.engine.markets().find((m) => m.symbol === s);
      const step = market ? Dec.from(market.stepSize.toString()) : Dec.ZERO;
      // A sale leaves at most dust below the venue's minimum order behind; fees here are in USDT.
      const price = Dec.from(server.engine.bookTop(s as SymbolId)?.bid ?? 0);
      const dust = held.sub(remaining).abs().mul(price).lt(Dec.from(5));
      expect(dust || held.sub(remaining).abs().lte(step), `${s}: exchange holds ${held.toString()}, the state's open position ${remaining.toString()}`).toBe(true);
    }

    // 4. Every open position in the state was managed by the last run.
    expect(new Set(status.positions.map((p) => p.id))).toEqual(openIds);

    // 5. The state's fill ledger adds up to the exchange's balances.
    const fills = await store.listFillsBetween(Date.now() - 2 * 24 * 3_600_000, server.stats().marketTime + 60_000, 10_000);
    const ledger = new Map<string, Dec>([['USDT', DEPOSIT]]);
    const add = (asset: string, d: Dec): void => void ledger.set(asset, (ledger.get(asset) ?? Dec.ZERO).add(d));
    for (const f of fills) {
      const base = f.symbol.replace(/USDT$/, '');
      const notional = f.price.mul(f.quantity);
      if (f.side === 'buy') {
        add('USDT', notional.neg());
        add(base, f.quantity);
      } else {
        add('USDT', notional);
        add(base, f.quantity.neg());
      }
      add(f.feeAsset, f.fee.neg());
    }
    const engineTrades = SYMBOLS.reduce((n, s) => n + server.engine.myTrades(KEY, s as SymbolId, 0, 100_000).length, 0);
    expect(fills.length).toBe(engineTrades);
    for (const asset of ['USDT', ...SYMBOLS.map((s) => s.replace(/USDT$/, ''))]) {
      expect((ledger.get(asset) ?? Dec.ZERO).toString(), `${asset}: the ledger against the exchange`).toBe(total(asset).toString());
    }
  });
});
