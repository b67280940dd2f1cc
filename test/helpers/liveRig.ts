/**
 * The rig of the crash tests: the runtime as a child process trading live (real ccxt) against the
 * MEXC simulator replaying the bundled sample, its state in a dynalite of this process; and the
 * checks that the exchange's own records and the state agree. Shared by the chaos test
 * (test/chaos/sigkill.test.ts) and the soak (bench/soak/*.ts).
 *
 * The checks, from the simulator's order log, open orders and balances against the state table:
 * 1. no client order id was sent twice as a new order (with `resends: 'refused-only'`, for runs that
 *    inject faults: none was placed twice; a resend under the same id after the order was not found,
 *    which SafeExchange does by design, may reach the exchange and be refused, and is counted);
 * 2. every order the exchange received is known to the state;
 * 3. every order still open on the exchange belongs to an open position of the state, and every
 *    holding is an open position's (within dust below the venue's minimum order);
 * 4. (when given) every open position of the state is managed by the running process (/status);
 * 5. the balances the state's fill ledger adds up to equal the exchange's, to the last decimal, and
 *    the ledger has exactly the exchange's trades.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSeries } from '../../cli/loadSeries.js';
import { createDynamoStore, createTable } from '../../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../../services/adapters/dynamo/localDynamo.js';
import { startSimServer, type SimServer } from '../../services/adapters/mexcSim/server.js';
import { Dec } from '../../services/core/money.js';
import type { SymbolId } from '../../services/core/types.js';
import { CandleReplay, simMarketFromCandles } from '../../services/sim/replay.js';
import type { StateStore } from '../../services/state/types.js';

export const SAMPLE_SYMBOLS = ['DOGEUSDT', 'PEPEUSDT'] as const;

export interface LiveEnvOptions {
  readonly key: string;
  readonly secret: string;
  readonly table: string;
  readonly deposit?: Dec;
  readonly speed?: number;
  readonly symbols?: readonly string[];
  /** Simulator log lines (default: dropped). */
  readonly simLog?: (line: string) => void;
}

export interface LiveEnv {
  readonly server: SimServer;
  readonly dynamo: LocalDynamo;
  readonly store: StateStore;
  /** The runtime's data folder (its kill-switch file lives here). */
  readonly dir: string;
  readonly options: Required<Omit<LiveEnvOptions, 'simLog'>>;
  close(): Promise<void>;
}

/** The simulator on the sample (1000 minutes of history, then the replay at `speed`), a dynalite, a table, a data folder. */
export async function startLiveEnv(o: LiveEnvOptions): Promise<LiveEnv> {
  const symbols = o.symbols ?? SAMPLE_SYMBOLS;
  const deposit = o.deposit ?? Dec.from(10_000);
  const speed = o.speed ?? 300;
  const loaded = loadSeries(['data/sample'], [...symbols]);
  const series = loaded.series.map((s) => ({ symbol: s.symbol, candles: s.candles }));
  const now = Date.now();
  const firstOpen = now - (now % 60_000);
  const server = await startSimServer({
    markets: series.map((s) => simMarketFromCandles(s.symbol, s.candles)),
    accounts: [{ apiKey: o.key, apiSecret: o.secret, deposits: { USDT: deposit } }],
    replay: new CandleReplay(series, { shiftTo: firstOpen - 1000 * 60_000 }),
    speed,
    startAt: firstOpen,
    ...(o.simLog ? { log: o.simLog } : {}),
  });
  const dynamo = await startLocalDynamo();
  await createTable(dynamo.client, o.table);
  const store = createDynamoStore({ client: dynamo.client, tableName: o.table, clock: Date.now });
  const dir = await mkdtemp(join(tmpdir(), 'live-rig-'));
  return {
    server,
    dynamo,
    store,
    dir,
    options: { key: o.key, secret: o.secret, table: o.table, deposit, speed, symbols },
    async close() {
      await server.close();
      await dynamo.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RuntimeProcess {
  readonly child: ChildProcess;
  /** Every output line (stdout and stderr), in arrival order. */
  readonly lines: string[];
  readonly exited: Promise<number | null>;
}

export interface LaunchOptions {
  readonly owner: string;
  /** Seconds a lease lasts without renewal (default 5: a killed runtime's lease is free again soon). */
  readonly leaseTtlSec?: number;
  /** A bundle of bin/start.ts (bundleRuntime) to run with plain node; default bin/start.ts through tsx. */
  readonly bundle?: string;
  readonly extraArgs?: readonly string[];
  readonly extraEnv?: Readonly<Record<string, string>>;
}

/** Starts `npm start -- --live` against the rig's simulator and dynalite. */
export function launchRuntime(env: LiveEnv, o: LaunchOptions): RuntimeProcess {
  const args = [
    ...(o.bundle ? [o.bundle] : ['--import', 'tsx', 'bin/start.ts']),
    '--live',
    '--exchange-url',
    env.server.restUrl,
    '--state-endpoint',
    env.dynamo.endpoint,
    '--owner',
    o.owner,
    '--data-dir',
    env.dir,
    '--status-port',
    '0',
    '--symbols',
    env.options.symbols.join(','),
    '--lease-ttl',
    String(o.leaseTtlSec ?? 5),
    '--status-every',
    '5',
    ...(o.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, MEXC_API_KEY: env.options.key, MEXC_API_SECRET: env.options.secret, STATE_TABLE: env.options.table, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...o.extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const take = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) lines.push(l);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (partial.trim()) lines.push(partial);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

/**
 * The first line matching `what`, polled every 50 ms for at most `ms`; throws with the last lines.
 * A process that has exited without printing it fails at once (after a second for output still in
 * its pipes) rather than at the end of `ms`, with its exit code and last line first.
 */
export async function waitForLine(run: RuntimeProcess, what: RegExp, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let exitedAt: number | undefined;
  for (;;) {
    const hit = run.lines.find((l) => what.test(l));
    if (hit) return hit;
    const last = run.lines.slice(-30).join('\n');
    if (exitedAt === undefined && (run.child.exitCode !== null || run.child.signalCode !== null)) exitedAt = Date.now();
    if (exitedAt !== undefined && Date.now() - exitedAt > 1000) {
      throw new Error(`the process exited (${run.child.exitCode ?? run.child.signalCode}) before printing ${String(what)}: ${run.lines.at(-1) ?? '(no output)'}; last lines:\n${last}`);
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${String(what)}; last lines:\n${last}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The /status of a running process (its status server's URL from its log). */
export async function fetchStatus(run: RuntimeProcess): Promise<{ positions: { id: string; symbol: string }[] }> {
  const line = await waitForLine(run, /status server (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? '';
  return (await (await fetch(`${url}/status`)).json()) as { positions: { id: string; symbol: string }[] };
}

/** Bundles bin/start.ts with esbuild as the image does (fargate/Dockerfile): starts in a fraction of tsx's time. */
export async function bundleRuntime(outFile: string): Promise<string> {
  const { build } = await import('esbuild');
  await build({ entryPoints: ['bin/start.ts'], bundle: true, platform: 'node', target: 'node20', format: 'esm', packages: 'external', sourcemap: true, outfile: outFile, logLevel: 'error' });
  return outFile;
}

export interface LedgerFigures {
  readonly ordersSent: number;
  /** Attempts under a client id beyond its first that the exchange refused (its codes). */
  readonly refusedRepeats: number;
  readonly openPositions: number;
  readonly fills: number;
  readonly exchangeTrades: number;
}

/** The checks of the file comment; `managed` is the open positions the running process lists (check 4). Problems are returned, not thrown. */
export async function checkLedger(env: LiveEnv, managed?: readonly string[], opts: { resends?: 'never' | 'refused-only' } = {}): Promise<{ problems: string[]; figures: LedgerFigures }> {
  const { server, store } = env;
  const { key, symbols, deposit } = env.options;
  const problems: string[] = [];
  const log = server.orderLog().filter((e) => e.account === key);
  // 1.
  const seen = new Map<string, { placed: number; refused: string[] }>();
  for (const e of log) {
    const s = seen.get(e.clientOrderId) ?? { placed: 0, refused: [] };
    if (e.outcome === 'placed') s.placed++;
    else s.refused.push(String(e.code ?? '?'));
    seen.set(e.clientOrderId, s);
  }
  let refusedRepeats = 0;
  for (const [id, s] of seen) {
    const n = s.placed + s.refused.length;
    if (n > 1) refusedRepeats += Math.min(s.refused.length, n - 1);
    const outcomes = `placed ${s.placed}, refused ${s.refused.length}${s.refused.length ? ` (${s.refused.join(', ')})` : ''}`;
    if (opts.resends === 'refused-only' ? s.placed > 1 : n > 1) problems.push(`client order id ${id} sent ${n} times: ${outcomes}`);
  }
  // 2.
  for (const id of seen.keys()) if (!(await store.get('order', id))) problems.push(`order ${id} reached the exchange but is not in the state`);
  // 3.
  const open = (await store.listOpenPositions()).map((p) => p.value).filter((p) => p.extras?.mode === 'live');
  const openIds = new Set(open.map((p) => p.id));
  const balances = server.engine.balances(key);
  const total = (asset: string): Dec => {
    const b = balances.find((x) => x.asset === asset);
    return b ? b.free.add(b.locked) : Dec.ZERO;
  };
  for (const s of symbols) {
    for (const o of server.engine.openOrders(key, s as SymbolId)) {
      const rec = await store.get('order', o.clientOrderId);
      if (!(rec?.value.positionId !== undefined && openIds.has(rec.value.positionId))) problems.push(`open order ${o.clientOrderId} on ${s} belongs to no open position`);
    }
    const base = s.replace(/USDT$/, '');
    const held = total(base);
    const pos = open.find((p) => p.symbol === s);
    const remaining = pos ? pos.entryQuantity.sub(pos.exitQuantity) : Dec.ZERO;
    const market = server.engine.markets().find((m) => m.symbol === s);
    const step = market ? Dec.from(market.stepSize.toString()) : Dec.ZERO;
    // A sale leaves at most dust below the venue's minimum order behind; fees here are in USDT.
    const price = Dec.from(server.engine.bookTop(s as SymbolId)?.bid ?? 0);
    const dust = held.sub(remaining).abs().mul(price).lt(Dec.from(5));
    if (!(dust || held.sub(remaining).abs().lte(step))) problems.push(`${s}: the exchange holds ${held.toString()}, the state's open position ${remaining.toString()}`);
  }
  // 4.
  if (managed) {
    const listed = new Set(managed);
    for (const id of openIds) if (!listed.has(id)) problems.push(`open position ${id} is not managed by the running process`);
    for (const id of listed) if (!openIds.has(id)) problems.push(`the running process lists ${id}, which the state does not hold open`);
  }
  // 5.
  const fills = await store.listFillsBetween(Date.now() - 2 * 24 * 3_600_000, server.stats().marketTime + 60_000, 10_000);
  const ledger = new Map<string, Dec>([['USDT', deposit]]);
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
  if (fills.length === 10_000) problems.push('the fill ledger read stopped at its 10,000 bound: the check needs a longer read');
  const exchangeTrades = symbols.reduce((n, s) => n + server.engine.myTrades(key, s as SymbolId, 0, 100_000).length, 0);
  if (fills.length !== exchangeTrades) problems.push(`the state's ledger has ${fills.length} fills, the exchange ${exchangeTrades} trades`);
  for (const asset of ['USDT', ...symbols.map((s) => s.replace(/USDT$/, ''))]) {
    const mine = (ledger.get(asset) ?? Dec.ZERO).toString();
    const theirs = total(asset).toString();
    if (mine !== theirs) problems.push(`${asset}: the ledger says ${mine}, the exchange ${theirs}`);
  }
  return { problems, figures: { ordersSent: log.length, refusedRepeats, openPositions: open.length, fills: fills.length, exchangeTrades } };
}

/**
 * checkLedger until it passes or `ms` is spent (every 500 ms): for a check made while the
 * runtime trades, when a fill can be on its way from the exchange to the state for a moment.
 */
export async function checkLedgerSettled(env: LiveEnv, ms: number, managed?: () => Promise<readonly string[] | undefined>, opts: { resends?: 'never' | 'refused-only' } = {}): Promise<{ problems: string[]; figures: LedgerFigures; settledMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const r = await checkLedger(env, managed ? await managed() : undefined, opts);
    if (r.problems.length === 0 || Date.now() - t0 >= ms) return { ...r, settledMs: Date.now() - t0 };
    await new Promise((res) => setTimeout(res, 500));
  }
}
