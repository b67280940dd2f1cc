/**
 * `npm run sim -- --data <file or folder ...> [--port <n>] [--speed <x>] [--faults <profile>]
 *   [--api-key <key> --api-secret-file <file>] [--symbols A,B] [--balance <USDT>]`
 *
 * Runs the MEXC spot simulator: real 1m candles replayed from now at the given speed through the
 * matching engine, behind MEXC's REST and WebSocket protocol on loopback, with one funded account
 * and optional fault injection. Runs until Ctrl-C.
 */
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { simCcxtUrls, startSimServer, type AdminAccess, type SimServer } from '../services/adapters/mexcSim/server.js';
import { ConfigError } from '../services/core/errors.js';
import { Dec } from '../services/core/money.js';
import { parseFaultProfile, type FaultProfile } from '../services/sim/faults.js';
import { CandleReplay, simMarketFromCandles, type ReplaySeries } from '../services/sim/replay.js';
import { DAY_MS } from '../services/core/timeframes.js';
import { loadConfig, UsageError, parseFlags } from './args.js';
import { SimMatchingEngine, engineOptionsFromConfig } from '../services/sim/matchingEngine.js';
import type { Config } from '../services/config/schema.js';
import { loadSeries } from './loadSeries.js';
import { installShutdownSignals } from './signals.js';

/** Credentials of the demo account when none are given. Not secret: the simulator holds no money. */
export const DEMO_API_KEY = 'mexc-sim-demo-key';
export const DEMO_API_SECRET = 'mexc-sim-demo-secret';

const STATUS_EVERY_MS = 10_000;
/** A secret file is a few dozen bytes; anything much larger is not one (and is not read whole). */
const MAX_SECRET_FILE_BYTES = 4_096;

/** Environment variables the simulator's credentials may come from (the process list shows flags, not these). */
export const SIM_API_KEY_ENV = 'MEXC_SIM_API_KEY';
export const SIM_API_SECRET_ENV = 'MEXC_SIM_API_SECRET';

export const SIM_USAGE = `usage: npm run sim -- --data <file or folder ...> [--port <n>] [--speed <x>]
         [--faults <profile>] [--api-key <key> --api-secret-file <file>]
         [--symbols BTCUSDT,ETHUSDT] [--balance <USDT>] [--host <ip>] [--admin-allow <ip,...|any>] [--config <file.json>]

  --data        1m candle files (.csv or .csv.gz) or folders of them; the symbol comes from the
                file or folder name, as for the backtest, or explicitly: DOGEUSDT=my-candles.csv
  --port        port to listen on; default 0 (a free port, printed at start)
  --host        interface to listen on; default 127.0.0.1
  --speed       replay speed: 1 = real time, 60 = one minute of data per second (default 60)
  --faults      fault profile: none (default), flaky, chaos, rate-limit-storm, disconnects,
                silent-stream, duplicates, server-errors, or a JSON object such as
                '{"extends":"flaky","rateLimit":{"probability":0.2}}'; switch it while running
                with POST /sim/faults
  --fault-seed  seed of the fault generator, to repeat a faulty run (default 1)
  --api-key, --api-secret-file
                credentials of the simulated account: the key, and a file holding the secret
                (or the environment: MEXC_SIM_API_KEY, MEXC_SIM_API_SECRET); default the demo key
                and secret, printed. --api-secret <secret> works too, but every user of the
                machine can read it in the process list
  --symbols     only these symbols from the data
  --balance     USDT deposited in the account (default 10000)
  --history     minutes of the data replayed at once at start, so clients can load history
                (default 1000, what npm run paper warms up with); the live replay starts after them

  --admin-allow remote addresses that may call the admin API besides loopback callers, comma
                separated, or "any" (default: loopback only)
  --config      JSON config file: its cost model (backtest section: fees, slippage, impact,
                latency, participation) fills the orders, as in backtests and paper trading

  Admin: GET /sim/faults, POST /sim/faults (profile name, JSON, or {"once":{...}}),
         GET /sim/orders (order log), GET /sim/stats, POST /sim/disconnect`;

export interface SimCommandOptions {
  /** Resolves when the simulator should stop (tests); SIGINT/SIGTERM stop it too. */
  readonly stop?: Promise<void>;
  /** Called once the server listens (tests read the URLs from it). */
  readonly onStarted?: (server: SimServer) => void;
  /** Wall clock; default Date.now. */
  readonly now?: () => number;
}

/** The parsed command line. */
export interface SimArgs {
  data: string[];
  port: number;
  host: string;
  speed: number;
  faults: FaultProfile;
  faultSeed: number;
  apiKey: string;
  apiSecret: string;
  secretGiven: boolean;
  /** Warnings for stderr (a secret passed as a flag). Never contain the secret. */
  warnings: string[];
  symbols: string[];
  balance: Dec;
  /** Minutes of data replayed at once at start (history for clients). */
  history: number;
  /** Who may call /sim/*. */
  adminAccess: AdminAccess;
  /** The cost model (fees, slippage, impact, latency, participation): the config's `backtest` section. */
  costs: Config['backtest'];
}

/**
 * Parses argv (without node and script) and the credentials from the environment; throws
 * UsageError naming the bad flag or variable (never showing a secret).
 */
export function parseSimArgs(argv: readonly string[], log: (s: string) => void, env: Readonly<Record<string, string | undefined>> = process.env): SimArgs {
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        data: { type: 'string', multiple: true },
        port: { type: 'string' },
        host: { type: 'string' },
        speed: { type: 'string' },
        faults: { type: 'string' },
        'fault-seed': { type: 'string' },
        'api-key': { type: 'string' },
        'api-secret': { type: 'string' },
        'api-secret-file': { type: 'string' },
        symbols: { type: 'string' },
        balance: { type: 'string' },
        history: { type: 'string' },
        'admin-allow': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      true,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    log(SIM_USAGE);
    throw new UsageError('');
  }
  const port = v.port === undefined ? 0 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port must be an integer from 0 to 65535, got "${v.port}"`);
  const speed = v.speed === undefined ? 60 : Number(v.speed);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 1_000_000) throw new UsageError(`--speed must be a positive number (1 = real time, 60 = a minute per second), got "${v.speed}"`);
  let faults: FaultProfile;
  try {
    faults = parseFaultProfile(v.faults ?? 'none');
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`--faults: ${e.message}`);
    throw e;
  }
  const faultSeed = v['fault-seed'] === undefined ? 1 : Number(v['fault-seed']);
  if (!Number.isInteger(faultSeed)) throw new UsageError(`--fault-seed must be an integer, got "${v['fault-seed']}"`);
  const creds = resolveCredentials(v['api-key'], v['api-secret'], v['api-secret-file'], env);
  let balance: Dec;
  try {
    balance = Dec.from(v.balance ?? '10000');
  } catch {
    throw new UsageError(`--balance must be a number of USDT, got "${v.balance}"`);
  }
  if (balance.isNegative()) throw new UsageError(`--balance must not be negative, got "${v.balance}"`);
  const history = v.history === undefined ? 1000 : Number(v.history);
  if (!Number.isInteger(history) || history < 0 || history > 100_000) throw new UsageError(`--history must be a whole number of minutes from 0 to 100000, got "${v.history}"`);
  const data = [...(v.data ?? []), ...parsed.positionals];
  if (data.length === 0) throw new UsageError('--data is required: one or more candle files or folders');
  const symbols = (v.symbols ?? '')
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  return {
    data,
    port,
    host: v.host ?? '127.0.0.1',
    speed,
    faults,
    faultSeed,
    apiKey: creds?.apiKey ?? DEMO_API_KEY,
    apiSecret: creds?.apiSecret ?? DEMO_API_SECRET,
    secretGiven: creds !== undefined,
    warnings: creds?.warnings ?? [],
    adminAccess: adminAccessOf(v['admin-allow']),
    costs: loadConfig(v.config, {}).backtest,
    symbols,
    balance,
    history,
  };
}

/**
 * The account's credentials from the flags, a secret file or the environment; undefined for the
 * demo account. A key needs a secret and a secret a key. The secret as a flag is accepted with a
 * warning: the process list shows every process's arguments to every user of the machine.
 */
function resolveCredentials(
  keyFlag: string | undefined,
  secretFlag: string | undefined,
  secretFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): { apiKey: string; apiSecret: string; warnings: string[] } | undefined {
  const warnings: string[] = [];
  if (secretFlag !== undefined && secretFile !== undefined) throw new UsageError('--api-secret and --api-secret-file: give one of them');
  let secret: string | undefined;
  let secretFrom: string;
  if (secretFlag !== undefined) {
    if (secretFlag === '') throw new UsageError('--api-secret must not be empty');
    secret = secretFlag;
    secretFrom = '--api-secret';
    warnings.push(
      `warning: --api-secret is visible to every user of this machine in the process list (ps); use --api-secret-file <file> or the ${SIM_API_SECRET_ENV} environment variable`,
    );
  } else if (secretFile !== undefined) {
    secret = readSecretFile(secretFile);
    secretFrom = '--api-secret-file';
  } else {
    secret = env[SIM_API_SECRET_ENV] === '' ? undefined : env[SIM_API_SECRET_ENV];
    secretFrom = SIM_API_SECRET_ENV;
  }
  const envKey = env[SIM_API_KEY_ENV];
  const apiKey = keyFlag ?? (envKey === '' ? undefined : envKey);
  const keyFrom = keyFlag !== undefined ? '--api-key' : SIM_API_KEY_ENV;
  if (apiKey === undefined && secret === undefined) return undefined;
  if (apiKey === undefined) throw new UsageError(secretFrom === '--api-secret' ? '--api-secret needs --api-key too' : `${secretFrom} needs --api-key (or ${SIM_API_KEY_ENV}) too`);
  if (secret === undefined) throw new UsageError(keyFrom === '--api-key' ? '--api-key needs --api-secret too' : `${keyFrom} needs --api-secret-file (or ${SIM_API_SECRET_ENV}) too`);
  if (apiKey.trim() === '') throw new UsageError(`${keyFrom} must not be empty`);
  return { apiKey, apiSecret: secret, warnings };
}

/** `--admin-allow`: "any", or a comma-separated list of IP addresses; default loopback only. */
function adminAccessOf(flag: string | undefined): AdminAccess {
  if (flag === undefined) return 'loopback';
  if (flag.trim().toLowerCase() === 'any') return 'any';
  const allow = flag
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = allow.find((a) => isIP(a) === 0);
  if (allow.length === 0 || bad !== undefined) throw new UsageError(`--admin-allow must be "any" or IP addresses separated by commas, got "${bad ?? flag}"`);
  return { allow };
}

/** The secret in a file: its content without the trailing line break. The message never shows the content. */
function readSecretFile(path: string): string {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`--api-secret-file ${path}: not a regular file`);
    if (st.size > MAX_SECRET_FILE_BYTES) throw new UsageError(`--api-secret-file ${path}: ${st.size} bytes, expected a secret of at most ${MAX_SECRET_FILE_BYTES} bytes`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--api-secret-file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError(`--api-secret-file ${path}: the file is empty`);
  return secret;
}

/** Runs the simulator until stopped (Ctrl-C, or `opts.stop`). */
export async function simCommand(argv: readonly string[], out: { log: (s: string) => void; err: (s: string) => void }, opts: SimCommandOptions = {}): Promise<void> {
  const a = parseSimArgs(argv, out.log);
  for (const w of a.warnings) out.err(w);
  const now = opts.now ?? Date.now;
  const loaded = loadSeries(a.data, a.symbols);
  const notes: string[] = [];
  const series = alignSeries(loaded.series.map((s) => ({ symbol: s.symbol, candles: s.candles })), (n) => notes.push(n));
  const start = now();
  const firstOpen = start - (start % 60_000);
  // The data is shifted so that its first `history` minutes lie in the past: they are replayed at
  // once (REST klines serve them), and the live replay begins now.
  const replay = new CandleReplay(series, { shiftTo: firstOpen - a.history * 60_000 });
  const server = await startSimServer({
    host: a.host,
    port: a.port,
    // The one cost model: the same fees, slippage, impact, latency and participation as the backtest.
    markets: series.map((s) => simMarketFromCandles(s.symbol, s.candles, { makerFeePct: a.costs.makerFeePct, takerFeePct: a.costs.takerFeePct, minNotional: Dec.from(a.costs.marketMinNotional) })),
    engine: new SimMatchingEngine(engineOptionsFromConfig(a.costs)),
    accounts: [{ apiKey: a.apiKey, apiSecret: a.apiSecret, deposits: { USDT: a.balance } }],
    replay,
    speed: a.speed,
    faults: a.faults,
    faultSeed: a.faultSeed,
    now,
    startAt: firstOpen,
    adminAccess: a.adminAccess,
  });
  opts.onStarted?.(server);
  const totalMs = Math.max(...series.map((s) => (s.candles.length ? s.candles[s.candles.length - 1]!.openTime - s.candles[0]!.openTime + 60_000 : 0)));
  out.log('mexc-sim: MEXC spot simulator');
  out.log(`  REST       ${server.restUrl}`);
  out.log(`  WebSocket  ${server.wsUrl}`);
  for (const s of loaded.series) {
    const first = s.candles[0];
    const last = s.candles[s.candles.length - 1];
    out.log(`  symbol     ${s.symbol}: ${s.candles.length} candles${first && last ? ` from ${iso(first.openTime)} to ${iso(last.openTime)}` : ''}`);
  }
  for (const n of notes) out.log(n);
  out.log(`  replay     ${a.speed}x from ${iso(firstOpen)}, with the first ${a.history} minutes of the data as history before it`);
  out.log(`  faults     ${a.faults.name}`);
  out.log(`  API key    ${a.apiKey}`);
  // A secret the user typed is theirs: never echo it back. The demo secret is public by design.
  out.log(`  API secret ${a.secretGiven ? '(as given, not shown)' : `${a.apiSecret} (demo default)`}`);
  out.log(`  balance    ${a.balance.toString()} USDT`);
  out.log(`  ccxt       new ccxt.mexc({ apiKey, secret, urls: ${JSON.stringify(simCcxtUrls(server))} }); ccxt.pro: await loadHttpProxyAgent() first`);
  out.log('Ctrl-C to stop.');

  let finishedReported = false;
  const status = setInterval(() => {
    const s = server.stats();
    const pct = totalMs > 0 ? Math.min(100, ((s.marketTime - (firstOpen - a.history * 60_000)) / totalMs) * 100) : 100;
    out.log(
      `[sim] market ${iso(s.marketTime)} (${pct.toFixed(1)}%) | orders ${s.ordersPlaced} placed, ${s.ordersRejected} rejected | connections ${s.connections}, subscriptions ${s.subscriptions} | requests ${s.requests} | faults ${server.faults.profile.name}`,
    );
    if (s.replayDone && !finishedReported) {
      finishedReported = true;
      out.log('[sim] replay finished: the server keeps running on the last market state');
    }
  }, STATUS_EVERY_MS);

  // As npm start: a second signal while it closes does not cut the close short (cli/signals.ts).
  let signalsFinished: () => void = () => undefined;
  await new Promise<void>((resolve) => {
    signalsFinished = installShutdownSignals({ onShutdown: () => resolve(), forceExit: (code) => process.exit(code), log: (l) => out.err(l) });
    void opts.stop?.then(resolve);
  });
  clearInterval(status);
  await server.close();
  out.log('mexc-sim stopped.');
  signalsFinished();
}

/**
 * The replay shifts every series by the same amount, which keeps symbols recorded together in
 * step. A series that starts more than a day after the earliest one (another period, e.g. 2021
 * BTC next to 2026 PEPE) would only begin after that long, so it is moved to start with the others.
 */
function alignSeries(series: ReplaySeries[], log: (s: string) => void): ReplaySeries[] {
  const starts = series.filter((s) => s.candles.length > 0).map((s) => s.candles[0]!.openTime);
  if (starts.length === 0) return series;
  const earliest = Math.min(...starts);
  return series.map((s) => {
    const first = s.candles[0];
    if (!first || first.openTime - earliest <= DAY_MS) return s;
    const shift = first.openTime - earliest;
    log(`  note       ${s.symbol} starts ${(shift / DAY_MS).toFixed(1)} days after the earliest series: replayed from the start as well`);
    return { ...s, candles: s.candles.map((c) => ({ ...c, openTime: c.openTime - shift })) };
  });
}

function iso(t: number): string {
  return Number.isFinite(t) ? new Date(t).toISOString().replace('.000Z', 'Z') : '-';
}
