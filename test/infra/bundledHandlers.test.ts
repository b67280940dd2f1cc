/**
 * Error identity inside real Lambda bundles. One esbuild build, with exactly the options the CDK's
 * NodejsFunction gets (lib/lambdaBundling.ts, which lib/scalperFunction.ts spreads), of three
 * entries: the emergency-stop and risk-sweep handlers, and an entry re-exporting every exported
 * error class of the repository (found by scanning the sources, so a new class is checked too).
 *
 * 1. Every error class, constructed inside the minified bundle, has `name` equal to its class name
 *    (and so does the unbundled module). Minification renames the classes themselves (checked: most
 *    constructors' own `.name` differ from the class name in the bundle), which is why a name taken
 *    from `new.target.name` read "o" in production.
 * 2. The emergency stop and the risk sweep, loaded from the bundle and wired by the bundle's own
 *    production wiring (`emergencyStopDeps` / `riskSweepDeps`: the ccxt venue, the guard and
 *    SafeExchange all inside the bundle) against the MEXC simulator over loopback: a resting order
 *    fills between the job's listing and its cancel (the simulator fills it the moment the cancel
 *    request arrives), the venue answers -2011 "unknown order", and the job counts the order as
 *    ended, not as a failed cancel, and goes on to sell what is held. Before the fix the bundle's
 *    OrderNotFoundError was named "o" and the flatten matched on the name, so it reported a failed
 *    cancel and the symbol NOT flat.
 *
 * The state store, kill switch and alert publisher are the test's in-memory ports (unbundled): no
 * error of theirs is on the path under test.
 */
import { createRequire } from 'node:module';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPORT_EXTERNALS } from '../../lib/reporting.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LAMBDA_BUNDLING, lambdaEsbuildOptions } from '../../lib/lambdaBundling.js';
import { repoPath } from '../../lib/paths.js';
import type { SimServer } from '../../services/adapters/mexcSim/server.js';
import type { CcxtMexcVenue } from '../../services/adapters/mexc/ccxtMexcVenue.js';
import { Dec } from '../../services/core/money.js';
import { createMemoryStore } from '../../services/state/memoryStore.js';
import type { StateStore } from '../../services/state/types.js';
import type { SecretSource } from '../../services/ops/secrets.js';
import type * as EmergencyStopModule from '../../lambdas/emergency-stop/handler.js';
import type * as RiskSweepModule from '../../lambdas/risk-sweep/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BTC, MemoryKillSwitch, RecordingPublisher, SIM_KEY, SIM_SECRET, position, setBook, simVenue, startSim } from '../ops/helpers.js';

vi.hoisted(() => {
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'SILENT';
});

const SOURCE_DIRS = ['services', 'lambdas', 'fargate', 'cli', 'lib', 'bin'];
const ERROR_CLASS_RE = /^export (abstract )?class (\w+Error) extends \w+/gm;

/** Constructor arguments of the classes whose constructor takes more than a message. */
const ARGS: Record<string, unknown[]> = {
  CircuitOpenError: ['createOrder', 0],
  SimRejectError: [30005, 'm'],
  AlertDeliveryError: ['m', ['telegram']],
  ChannelSendError: ['m', 'telegram', false],
  EventPublishError: ['m', { attempts: 1 }],
  KillSwitchReadError: ['m', { retryable: false }],
};

interface ErrorClass {
  readonly file: string;
  readonly name: string;
  readonly key: string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const full = path.join(dir, e);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (e.endsWith('.ts') && !e.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** Every exported, concrete error class of the sources. */
function errorClasses(): ErrorClass[] {
  const out: ErrorClass[] = [];
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(repoPath(dir))) {
      for (const m of readFileSync(file, 'utf8').matchAll(ERROR_CLASS_RE)) {
        if (m[1] !== undefined) continue; // abstract: never constructed
        out.push({ file, name: m[2]!, key: `e${out.length}_${m[2]!}` });
      }
    }
  }
  return out;
}

const classes = errorClasses();
let outdir: string;
let errorsBundle: Record<string, new (...args: unknown[]) => Error>;
const unbundled = new Map<string, Record<string, new (...args: unknown[]) => Error>>();
let es: typeof EmergencyStopModule;
let rs: typeof RiskSweepModule;

beforeAll(async () => {
  // Inside the repository (cdk.out is git-ignored) so the bundles' external @aws-sdk/* resolve to its node_modules.
  mkdirSync(repoPath('cdk.out'), { recursive: true });
  outdir = mkdtempSync(path.join(repoPath('cdk.out'), 'test-bundled-handlers-'));
  const entry = path.join(outdir, 'errors-entry.ts');
  writeFileSync(entry, classes.map((c) => `export { ${c.name} as ${c.key} } from ${JSON.stringify(c.file)};`).join('\n'));
  const options = lambdaEsbuildOptions(
    {
      'emergency-stop': repoPath('lambdas', 'emergency-stop', 'handler.ts'),
      'risk-sweep': repoPath('lambdas', 'risk-sweep', 'handler.ts'),
      errors: entry,
    },
    outdir,
  );
  await build({
    ...options,
    // The error entry reaches the report renderer's native module, external in the report Lambda too (lib/reporting.ts).
    external: [...(options.external ?? []), ...REPORT_EXTERNALS],
    // Only what esbuild prints: the error entry reaches fargate/ code that uses import.meta (not a Lambda's).
    logLevel: 'error',
  });
  // The bundles are CommonJS (as in Lambda, where the asset has no package.json); the repository says "module".
  writeFileSync(path.join(outdir, 'package.json'), '{"type":"commonjs"}');
  const load = createRequire(import.meta.url);
  // The error entry pulls in tfjs (the retrain module's error class): its kernel-registration chatter is not news.
  const quiet = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    errorsBundle = load(path.join(outdir, 'errors.js')) as typeof errorsBundle;
    // The unbundled modules, loaded now so their tfjs copy registers under the same silence.
    for (const file of new Set(classes.map((c) => c.file))) unbundled.set(file, (await import(pathToFileURL(file).href)) as Record<string, new (...args: unknown[]) => Error>);
  } finally {
    quiet.mockRestore();
  }
  es = load(path.join(outdir, 'emergency-stop.js')) as typeof EmergencyStopModule;
  rs = load(path.join(outdir, 'risk-sweep.js')) as typeof RiskSweepModule;
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the bundle is built as the CDK builds it', () => {
  it('uses the shared options: CommonJS, node22, minified, the AWS SDK external', () => {
    expect(LAMBDA_BUNDLING).toMatchObject({ format: 'cjs', target: 'node22', minify: true });
    const opts = lambdaEsbuildOptions({ x: 'x.ts' }, 'out');
    expect(opts).toMatchObject({ bundle: true, platform: 'node', format: 'cjs', target: 'node22', minify: true, external: ['@aws-sdk/*'] });
  });
});

describe('error classes keep their names', () => {
  it('finds the error classes of the repository', () => {
    // A scan that found nothing would make the next test pass vacuously.
    expect(classes.length).toBeGreaterThan(40);
    for (const n of ['OrderNotFoundError', 'CircuitOpenError', 'LeaseHeldError', 'ConfigError', 'EmergencyStopEventError', 'StageConfigError']) {
      expect(classes.map((c) => c.name)).toContain(n);
    }
  });

  it('every exported error class, constructed inside the minified bundle and unbundled, is named by its literal class name', () => {
    const renamed: string[] = [];
    for (const c of classes) {
      const Bundled = errorsBundle[c.key];
      expect(Bundled, c.key).toBeTypeOf('function');
      const e = new Bundled!(...(ARGS[c.name] ?? ['m']));
      expect(e, c.name).toBeInstanceOf(Error);
      expect(e.name, `${c.name} in the bundle`).toBe(c.name);
      if (Bundled!.name !== c.name) renamed.push(c.name);
      const mod = unbundled.get(c.file)!;
      expect(new mod[c.name]!(...(ARGS[c.name] ?? ['m'])).name, `${c.name} unbundled`).toBe(c.name);
    }
    // The minifier did rename the classes: a name taken from the class would be wrong here.
    expect(renamed.length).toBeGreaterThan(classes.length / 2);
    expect(renamed).toContain('OrderNotFoundError');
  });
});

/** The MEXC secret of the simulator's account. */
const secrets: SecretSource = { getSecret: () => Promise.resolve(JSON.stringify({ apiKey: SIM_KEY, apiSecret: SIM_SECRET })) };

/** Fills the resting sell `clientOrderId` the moment the first cancel request reaches the simulator (after the job listed it). */
function fillOnCancel(server: SimServer, clientOrderId: string): { fired: () => boolean } {
  const decide = server.faults.forRequest.bind(server.faults);
  let fired = false;
  vi.spyOn(server.faults, 'forRequest').mockImplementation((kind, p) => {
    if (kind === 'cancelOrder' && !fired) {
      fired = true;
      // A public trade through the sell's limit: the engine fills it as maker (10% participation of 10 BTC).
      server.pushMarketData({ type: 'trade', symbol: BTC, trade: { time: Date.now(), price: 50_600, quantity: 10, buyerMaker: false } });
      expect(server.engine.order(SIM_KEY, BTC, { clientOrderId })?.status).toBe('filled');
    }
    return decide(kind, p);
  });
  return { fired: () => fired };
}

describe('the order-not-found path inside the bundles (simulator over loopback)', () => {
  let server: SimServer;
  let hotPath: CcxtMexcVenue;
  let store: StateStore;
  beforeAll(() => {
    ({ store } = createMemoryStore({ clock: () => Date.now() }));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await hotPath?.close();
    await server?.close();
  });

  it('emergency stop: a resting sell that fills between listing and cancelling counts as ended; the rest is sold and the symbol is flat', async () => {
    server = await startSim({ USDT: '10000', BTC: '0.5' });
    setBook(server, BTC, 50_000, 50_001);
    hotPath = await simVenue(server);
    // What a dead hot path left: a target resting at 50,500 (locks 0.1 BTC).
    await hotPath.createOrder({ clientOrderId: 'deadT1', symbol: BTC, side: 'sell', type: 'limit', quantity: Dec.from('0.1'), price: Dec.from('50500') });
    const hook = fillOnCancel(server, 'deadT1');
    const env = es.parseEmergencyStopEnv({ STAGE: 'test', STATE_TABLE: 'unused', ALERTS_QUEUE_URL: 'http://127.0.0.1:1/alerts', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'mexc', MEXC_REST_URL: server.restUrl, TRADING_SYMBOLS: 'BTCUSDT', LEASE_WAIT_SECONDS: '5' });
    const alerts = new RecordingPublisher();
    const handler = es.createEmergencyStopHandler(() =>
      Promise.resolve(
        es.emergencyStopDeps({ env, store, killSwitch: new MemoryKillSwitch('EMERGENCY_STOP'), alerts, secrets, exchangeOptions: { backoff: { baseMs: 50, maxMs: 200 } }, now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) }),
      ),
    );
    const logBefore = server.orderLog().length;
    const out = (await handler({ action: 'emergency-stop', reason: 'bundle test' }, localContext('emergency-stop', 'bundle-1'))) as { allFlat: boolean; symbols: { symbol: string; outcome: string; cancelled: number; sold: string; detail: string }[] };
    expect(hook.fired()).toBe(true);
    expect(out.symbols).toHaveLength(1);
    // By hand: 0.5 held, 0.1 sold by the target's fill, so 0.4 is sold by one market sell.
    expect(out.symbols[0]).toMatchObject({ symbol: 'BTCUSDT', outcome: 'flattened', cancelled: 1, sold: '0.4' });
    expect(out.symbols[0]!.detail).not.toMatch(/deadT1/);
    expect(out.allFlat).toBe(true);
    expect(server.orderLog().slice(logBefore).map((o) => [o.side, o.type, o.outcome])).toEqual([['sell', 'market', 'placed']]);
    const btc = (await hotPath.fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.free.add(btc.locked).toString() ?? '0').toBe('0');
    vi.restoreAllMocks();
    await hotPath.close();
    await server.close();
  });

  it('risk sweep: an over-age position whose target fills between listing and cancelling is closed, the fill counted as ended', async () => {
    server = await startSim({ USDT: '1000', BTC: '0.3' });
    setBook(server, BTC, 50_000, 50_001);
    hotPath = await simVenue(server);
    const now = Date.now();
    await store.put('position', { ...position('p9', BTC, now - 7 * 3_600_000, '0.3'), orderIds: ['p9E', 'p9T1'] }, undefined);
    await store.putHeartbeat({ owner: 'runtime-live', at: now, mode: 'live', openPositions: 1 });
    await hotPath.createOrder({ clientOrderId: 'p9T1', symbol: BTC, side: 'sell', type: 'limit', quantity: Dec.from('0.1'), price: Dec.from('50500') });
    const hook = fillOnCancel(server, 'p9T1');
    const env = rs.parseRiskSweepEnv({ STAGE: 'test', STATE_TABLE: 'unused', ALERTS_QUEUE_URL: 'q', KILL_SWITCH_PARAM: '/k', MEXC_SECRET_ID: 'mexc', MEXC_REST_URL: server.restUrl, HOT_PATH_OWNERS: 'runtime-live' });
    const ks = new MemoryKillSwitch('RUNNING');
    const handler = rs.createRiskSweepHandler(() =>
      Promise.resolve(rs.riskSweepDeps({ env, store, killSwitch: ks, alerts: new RecordingPublisher(), secrets, exchangeOptions: { backoff: { baseMs: 50, maxMs: 200 } }, now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) })),
    );
    const out = (await handler({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, localContext('risk-sweep', 'bundle-2'))) as { positions: { positionId: string; outcome: string; detail: string }[] };
    expect(hook.fired()).toBe(true);
    // By hand: 0.3 held, 0.1 sold by the target's fill; the sweep sells the 0.2 left (its cap is the position's 0.3).
    expect(out.positions.map((p) => [p.positionId, p.outcome])).toEqual([['p9', 'closed']]);
    expect(out.positions[0]!.detail).toMatch(/^sold 0\.2 for [\d.]+, 1 order\(s\) cancelled$/);
    expect((await store.get('position', 'p9'))?.value.state).toBe('closed');
    expect(ks.writes).toEqual([]);
    const btc = (await hotPath.fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.free.add(btc.locked).toString() ?? '0').toBe('0');
  });
});
