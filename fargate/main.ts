/**
 * The runtime's process entry: flags and environment, the offline fallback (the simulator in
 * process on the bundled sample when MEXC's public API cannot be reached), signals, exit.
 *
 * `npm start` (bin/start.ts) calls `runtimeMain` with the command line. SIGINT or SIGTERM (Ctrl-C,
 * ECS stopping the task) runs the runtime's graceful shutdown; the process then exits 0. A second
 * signal does not cut it short; a third forces an immediate exit and says so (cli/signals.ts).
 */
import { loadConfig, UsageError, parseFlags } from '../cli/args.js';
import { loadStrategy } from '../cli/strategy.js';
import { loadSeries } from '../cli/loadSeries.js';
import { startSimServer, type SimServer } from '../services/adapters/mexcSim/server.js';
import { ConfigError } from '../services/core/errors.js';
import { Dec } from '../services/core/money.js';
import { CandleReplay, simMarketFromCandles } from '../services/sim/replay.js';
import { installShutdownSignals } from '../cli/signals.js';
import { installRejectionGuard } from './rejectionGuard.js';
import { Runtime, type RuntimeOutput } from './runtime.js';
import { parseRuntimeConfig, type RuntimeConfigInput } from './runtimeConfig.js';
import { cloudWiring, signalsModeConfig } from './cloud.js';
import { readFile } from 'node:fs/promises';
import { EmfMetrics } from './metrics.js';
import { localDashboard, localTelegramEnv, startLocalTelegram, startSnapshots } from './console.js';
import { availableParallelism, totalmem } from 'node:os';
import { CgroupProbe } from '../services/adapters/resources/cgroupProbe.js';

export const START_USAGE = `usage: npm start -- [--exchange-url <url>] [--data-dir <dir>] [--status-port <n>] [--symbols A,B]
         [--speed <x>] [--balance <USDT>] [--mode standard|hf] [--profile conservative|moderate|aggressive] [--config <file.json>]
         [--on-shutdown flat|leave] [--status-every <seconds>] [--duration <seconds>] [--live]
         [--state-endpoint <url>] [--owner <id>] [--lease-ttl <s>] [--unknown-orders cancel|adopt]
         [--strategy sr|breakout|<module.ts>]
         [--signals off|dry-run|on] [--status-host <address>]
         [--ml-filter off|filter] [--price-reference off|<ccxt id>|<url>]

Paper trading on a local embedded setup (state in <data-dir>/state, kill switch <data-dir>/kill-switch.json,
npm run pause|resume|stop). Public MEXC data when it can be reached; otherwise the simulator in process
replaying the bundled sample (data/sample).

  --exchange-url   a MEXC-compatible REST base (env MEXC_EXCHANGE_URL), e.g. the simulator of npm run sim
  --data-dir       state and kill-switch folder (default data/local)
  --status-port    port of /health and /status on 127.0.0.1 (env STATUS_PORT, default 8787; 0 = any free port)
  --symbols        pairs to trade (default: the sample's DOGEUSDT,PEPEUSDT)
  --speed          replay speed of the offline simulator (default 600: ten minutes of data a second)
  --balance        paper USDT balance (default 10000)
  --config         JSON file of strategy, risk and execution settings, as for the backtest (README: Configuration);
                   --mode and --profile override it
  --on-shutdown    flat: close open positions on Ctrl-C (paper default); leave: keep them
  --status-every   seconds between status lines (default 30)
  --duration       stop by itself after this many seconds
  --live           real orders on MEXC: needs MEXC_API_KEY and MEXC_API_SECRET in the environment
                   (in the task: TRADING_MODE=live, set by the stage config, is the same switch)
  --state-endpoint a DynamoDB endpoint for the state (env STATE_ENDPOINT; e.g. a dynalite); STATE_TABLE names the table
  --owner          lease and heartbeat owner (env RUNTIME_OWNER; default runtime-<pid>-<random>)
  --lease-ttl      seconds a symbol's lease lasts without renewal (default 60)
  --unknown-orders cancel|adopt: orders open on the exchange that the state does not know, found at start (default cancel)
  --strategy       a built-in strategy (sr, the default; breakout) or the path of a strategy module
                   (services/strategy/README.md)
  --ml-filter      off|filter (env ML_FILTER; default off): entries need the promoted model's confidence >= 0.70
  --signals        off|dry-run|on (env SIGNALS_MODE; default off): external signals on POST /signals and the
                   signals queue; dry-run decides and audits without sending. The webhook needs a secret:
                   env SIGNALS_SECRET, or SIGNALS_SECRET_FILE naming a file that holds it
  --status-host    interface of the status server (default 127.0.0.1: this machine only); beyond loopback the
                   /exchange/* endpoints need env OPERATOR_TOKEN as a bearer token
  --price-reference off|<ccxt exchange id>|<url> (env PRICE_REFERENCE; default off, kraken in the task): entries are
                   refused while MEXC's price is more than 1 % from this venue's public price (exits never wait for it)

  The dashboard is served at the status server's / (http://127.0.0.1:8787/ by default).
  Telegram by long polling when TELEGRAM_BOT_TOKEN is set: TELEGRAM_OPERATORS and TELEGRAM_VIEWERS
  (comma-separated user ids), TELEGRAM_CHAT_ID (the group it answers in besides private chats),
  TELEGRAM_TOTP_SECRET (base32; without it /resume is refused).

  env MEXC_PING_URL: the URL probed to tell whether MEXC can be reached (default ${'https://api.mexc.com/api/v3/ping'})
  In the Fargate task (set by the CDK stack): TRADING_MODE, TRADING_SYMBOLS, STRATEGY_MODE, RISK_PROFILE,
  STATE_TABLE (DynamoDB), KILL_SWITCH_PARAM (SSM), EVENTS_/ALERTS_/RETRAIN_QUEUE_URL (SQS),
  METRICS_NAMESPACE and STAGE (CloudWatch metrics as EMF lines on stdout), RUNTIME_OWNER, SIGNALS_QUEUE_URL and
  SIGNALS_MODE (external signals, lib/signalWebhook.ts), TASK_CPU_CORES (the task's vCPUs, when its cgroup sets
  no CPU quota; the resource watch reads the cgroup in an ECS task).`;

/** Where MEXC's public API answers a ping. */
export const MEXC_PING_URL = 'https://api.mexc.com/api/v3/ping';
const SAMPLE_DIR = 'data/sample';
const HISTORY_MINUTES = 1000;

export interface MainOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Resolves to stop (tests); SIGINT and SIGTERM stop too. */
  readonly stop?: Promise<void>;
  /** The URL probed to tell whether MEXC can be reached (tests). */
  readonly pingUrl?: string;
}

function num(flag: string, raw: string | undefined, ok: (n: number) => boolean, expected: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} must be ${expected}, got "${raw}"`);
  return n;
}

/** Whether `url` answers within 5 s; the reason when it does not. */
async function reachable(url: string): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    await res.body?.cancel();
    return res.ok ? { ok: true } : { ok: false, why: `HTTP ${res.status}` };
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, why: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)) };
  }
}

/** Parses the command line and environment, runs the runtime until a signal (or --duration). */
export async function runtimeMain(argv: readonly string[], out: RuntimeOutput, opts: MainOptions = {}): Promise<void> {
  const env = opts.env ?? process.env;
  let parsed;
  try {
    parsed = parseFlags(
      argv,
      {
        'exchange-url': { type: 'string' },
        'data-dir': { type: 'string' },
        'status-port': { type: 'string' },
        symbols: { type: 'string' },
        speed: { type: 'string' },
        balance: { type: 'string' },
        mode: { type: 'string' },
        profile: { type: 'string' },
        config: { type: 'string' },
        'on-shutdown': { type: 'string' },
        'status-every': { type: 'string' },
        duration: { type: 'string' },
        live: { type: 'boolean', default: false },
        'state-endpoint': { type: 'string' },
        owner: { type: 'string' },
        'lease-ttl': { type: 'string' },
        'unknown-orders': { type: 'string' },
        'ml-filter': { type: 'string' },
        strategy: { type: 'string' },
        signals: { type: 'string' },
        'status-host': { type: 'string' },
        'price-reference': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    out.log(START_USAGE);
    throw new UsageError('');
  }
  const statusPort = num('status-port', v['status-port'] ?? (env.STATUS_PORT || undefined), (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'an integer from 0 to 65535');
  const speed = num('speed', v.speed, (n) => n > 0 && n <= 100_000, 'a positive number') ?? 600;
  const balance = num('balance', v.balance, (n) => n > 0, 'a positive number');
  const statusEvery = num('status-every', v['status-every'], (n) => n > 0, 'a positive number of seconds');
  const duration = num('duration', v.duration, (n) => n > 0, 'a positive number of seconds');
  const leaseTtl = num('lease-ttl', v['lease-ttl'], (n) => n >= 3 && n <= 3600, 'a number of seconds from 3 to 3600');
  const unknownOrders = v['unknown-orders'];
  if (unknownOrders !== undefined && unknownOrders !== 'cancel' && unknownOrders !== 'adopt') throw new UsageError(`--unknown-orders must be cancel or adopt, got "${unknownOrders}"`);
  const owner = v.owner ?? (env.RUNTIME_OWNER || undefined);
  const mlFilter = v['ml-filter'];
  if (mlFilter !== undefined && mlFilter !== 'off' && mlFilter !== 'filter') throw new UsageError(`--ml-filter must be off or filter, got "${mlFilter}"`);
  const signalsMode = v.signals;
  if (signalsMode !== undefined && signalsMode !== 'off' && signalsMode !== 'dry-run' && signalsMode !== 'on') throw new UsageError(`--signals must be off, dry-run or on, got "${signalsMode}"`);
  const signalSecret = await readSignalSecret(env);
  const cloud = cloudWiring({ ...env, ...(v['state-endpoint'] ? { STATE_ENDPOINT: v['state-endpoint'] } : {}) });
  const onShutdown = v['on-shutdown'];
  if (onShutdown !== undefined && onShutdown !== 'flat' && onShutdown !== 'leave') throw new UsageError(`--on-shutdown must be flat or leave, got "${onShutdown}"`);
  let exchangeUrl = v['exchange-url'] ?? (env.MEXC_EXCHANGE_URL || undefined);
  // In the task, the stage config's tradingMode (env TRADING_MODE, set at deploy) is the explicit switch.
  const tradingMode = env.TRADING_MODE || undefined;
  if (tradingMode !== undefined && tradingMode !== 'paper' && tradingMode !== 'live') throw new UsageError(`TRADING_MODE must be paper or live, got "${tradingMode}"`);
  const live = v.live === true || tradingMode === 'live';
  const apiKey = env.MEXC_API_KEY;
  const secret = env.MEXC_API_SECRET;
  if (live && (!apiKey || !secret)) {
    // Never echo the secret: say only which variable is missing.
    throw new UsageError(`--live needs ${[!apiKey ? 'MEXC_API_KEY' : '', !secret ? 'MEXC_API_SECRET' : ''].filter(Boolean).join(' and ')} in the environment; refusing to trade live without keys`);
  }
  let symbols = (v.symbols ?? env.TRADING_SYMBOLS ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const plugin = v.strategy !== undefined ? await loadStrategy(v.strategy) : undefined;

  // The strategy config as the backtest reads it (defaults, the file, then --mode/--profile), read
  // before anything starts so a bad file fails at once, naming the field.
  const modeArg = v.mode ?? (env.STRATEGY_MODE || undefined);
  const profileArg = v.profile ?? (env.RISK_PROFILE || undefined);
  const strategy = v.config !== undefined ? loadConfig(v.config, { ...(modeArg ? { mode: modeArg } : {}), ...(profileArg ? { profile: profileArg } : {}) }) : undefined;

  const telegram = localTelegramEnv(env);

  let sim: SimServer | undefined;
  let replayed = false;
  let reason = 'stop requested';
  // Installed before anything starts, kept until the process ends: a Ctrl-C during the warm-up met
  // Node's default action (killed at once, leases held), and a second one must not skip the
  // graceful shutdown (cli/signals.ts). A signal during the start-up stops the runtime as soon as
  // it is up (its leases and journal are then released and flushed the normal way).
  let starting = true;
  let onStopSignal: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => (onStopSignal = resolve));
  const signalsFinished = installShutdownSignals({
    onShutdown: (sig) => {
      reason = sig;
      if (starting) out.err(`${sig} during the start-up: stopping gracefully as soon as it is done`);
      onStopSignal();
    },
    forceExit: (code) => process.exit(code),
    log: (l) => out.err(l),
  });
  const stopRequested = (): boolean => reason !== 'stop requested';
  // A rejection nobody handled: survived when it is the exchange connection's (ccxt rejects futures
  // nobody awaits when a socket closes under it), otherwise a graceful stop with exit code 1.
  // Kept for the process's life (ccxt may reject futures while its sockets close at the end).
  let finished = false;
  installRejectionGuard({
    log: (l) => out.err(l),
    secrets: [apiKey, secret, env.TELEGRAM_BOT_TOKEN, env.SIGNALS_SECRET, env.OPERATOR_TOKEN],
    onFatal: (why) => {
      if (finished) return;
      reason = `unhandled rejection (${why})`;
      process.exitCode = 1;
      onStopSignal();
    },
  });
  try {
    if (exchangeUrl === undefined) {
      const probe = await reachable(opts.pingUrl ?? (env.MEXC_PING_URL || MEXC_PING_URL));
      if (!probe.ok) {
        if (live) throw new ConfigError(`MEXC's public API cannot be reached (${probe.why}); live trading needs it`);
        out.log(`MEXC's public API cannot be reached (${probe.why}): replaying the bundled sample (${SAMPLE_DIR}) through the simulator in process at ${speed}x instead.`);
        const started = await startSampleSim(speed, symbols);
        sim = started.server;
        replayed = true;
        out.log('The replay re-dates the sample to the wall clock, so its candles are not written to the candle archive (retraining reads only real ones).');
        exchangeUrl = sim.restUrl;
        if (symbols.length === 0) symbols = started.symbols;
      }
    }
    if (symbols.length === 0) symbols = ['DOGEUSDT', 'PEPEUSDT'];
    const input: RuntimeConfigInput = {
      mode: live ? 'live' : 'paper',
      symbols,
      ...(exchangeUrl !== undefined ? { exchangeUrl } : {}),
      dataDir: v['data-dir'] ?? 'data/local',
      ...(statusPort !== undefined ? { statusPort } : {}),
      ...(balance !== undefined ? { balance } : {}),
      ...(statusEvery !== undefined ? { statusEverySec: statusEvery } : {}),
      ...(onShutdown !== undefined ? { onShutdown } : {}),
      ...((v.mode ?? env.STRATEGY_MODE) ? { strategyMode: (v.mode ?? env.STRATEGY_MODE) as 'standard' } : {}),
      ...((v.profile ?? env.RISK_PROFILE) ? { profile: (v.profile ?? env.RISK_PROFILE) as 'moderate' } : {}),
      ...(leaseTtl !== undefined ? { leaseTtlMs: Math.round(leaseTtl * 1000) } : {}),
      ...(unknownOrders !== undefined ? { unknownOrders } : {}),
      ...cloud.config,
      ...(mlFilter !== undefined ? { mlFilter } : {}),
      ...((v['price-reference'] ?? (env.PRICE_REFERENCE || undefined)) !== undefined ? { priceReference: v['price-reference'] ?? env.PRICE_REFERENCE } : {}),
      ...(replayed ? { archiveCandles: false } : {}),
      ...(signalsMode !== undefined ? { signals: signalsModeConfig(signalsMode) } : {}),
      ...(v['status-host'] !== undefined ? { statusHost: v['status-host'] } : {}),
    };
    const config = parseRuntimeConfig(input);
    if (stopRequested()) return;

    for (const line of cloud.described) out.log(line);
    if (plugin) out.log(`strategy ${plugin.name} (${plugin.source})`);
    const rt = await Runtime.start(config, {
      out,
      ...(plugin ? { strategyFactory: plugin.factory } : {}),
      liveSwitch: live,
      ...(strategy ? { strategy } : {}),
      ...(live && apiKey && secret ? { credentials: { apiKey, secret } } : {}),
      ...(owner ? { owner } : {}),
      ...(cloud.killSwitchSource ? { killSwitchSource: cloud.killSwitchSource } : {}),
      ...(cloud.events ? { events: cloud.events } : {}),
      ...(cloud.commands ? { commands: cloud.commands } : {}),
      ...(cloud.modelObjects ? { modelObjects: cloud.modelObjects } : {}),
      ...(cloud.signalInbox ? { signalInbox: cloud.signalInbox } : {}),
      ...(signalSecret ? { signalSecret } : {}),
      ...(env.OPERATOR_TOKEN ? { operatorToken: env.OPERATOR_TOKEN } : {}),
      dashboard: (r) => localDashboard(r),
      ...(env.METRICS_NAMESPACE ? { metrics: new EmfMetrics(env.STAGE || 'local', (line) => out.log(line), env.METRICS_NAMESPACE, env.METRICS_DETAIL !== 'off') } : {}),
      // In an ECS task (its metadata endpoint is set): the container's cgroup, the task's vCPUs from the stack.
      ...(env.ECS_CONTAINER_METADATA_URI_V4
        ? { resourceProbe: new CgroupProbe({ dataPath: config.dataDir, fallbackCores: Number(env.TASK_CPU_CORES) || availableParallelism(), fallbackMemoryBytes: totalmem() }) }
        : {}),
    });
    starting = false;
    out.log(`status ${rt.statusServer?.url ?? '-'}/status, the dashboard ${rt.statusServer?.url ?? '-'}/ (Ctrl-C stops gracefully)`);
    // The Lambdas read the task through the state table: its snapshot every 30 s (AWS only, where they run).
    const snapshots = config.stateStorage === 'dynamodb' ? startSnapshots(rt, 30, out) : undefined;
    // The bot reaches Telegram in the background: an unreachable Bot API never holds up trading or a stop.
    let bot: { stop: () => Promise<void> } | undefined;
    try {
      bot = telegram ? startLocalTelegram(rt, telegram, out) : undefined;
    } catch (e) {
      out.err(`telegram: the bot did not start (${e instanceof Error ? e.name : String(e)}); trading goes on without it`);
    }
    await new Promise<void>((resolve) => {
      void stopSignal.then(resolve);
      if (duration !== undefined) {
        setTimeout(() => {
          reason = `--duration ${duration} s`;
          resolve();
        }, duration * 1000).unref();
      }
      void opts.stop?.then(resolve);
      void rt.stopped.then(resolve);
    });
    snapshots?.stop();
    await bot?.stop().catch(() => undefined);
    await rt.stop(reason);
  } finally {
    await sim?.close();
    // The handlers stay for the rest of the process's life: a Ctrl-C while it exits (sockets and
    // workers closing) leaves at once with the run's exit code, not by Node's default action
    // (killed by the signal, exit code null).
    signalsFinished();
    finished = true;
  }
}

/**
 * The webhook's secret: SIGNALS_SECRET, or the first line of the file SIGNALS_SECRET_FILE names (a
 * file keeps it out of the process list and the shell history). Never logged.
 */
async function readSignalSecret(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (env.SIGNALS_SECRET) return env.SIGNALS_SECRET;
  const file = env.SIGNALS_SECRET_FILE || undefined;
  if (!file) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`SIGNALS_SECRET_FILE: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const secret = text.split(/\r?\n/)[0]?.trim() ?? '';
  if (secret.length < 16) throw new ConfigError(`SIGNALS_SECRET_FILE: ${file} must hold a secret of at least 16 characters on its first line`);
  return secret;
}

/** The simulator on the bundled sample: 1000 minutes of history, then the replay at `speed`. */
async function startSampleSim(speed: number, only: readonly string[]): Promise<{ server: SimServer; symbols: string[] }> {
  const loaded = loadSeries([SAMPLE_DIR], only);
  const series = loaded.series.map((s) => ({ symbol: s.symbol, candles: s.candles }));
  const now = Date.now();
  const firstOpen = now - (now % 60_000);
  const replay = new CandleReplay(series, { shiftTo: firstOpen - HISTORY_MINUTES * 60_000 });
  const server = await startSimServer({
    markets: series.map((s) => simMarketFromCandles(s.symbol, s.candles)),
    // Paper trading sends no orders to it; the account only makes it a complete exchange.
    accounts: [{ apiKey: 'mexc-sim-demo-key', apiSecret: 'mexc-sim-demo-secret', deposits: { USDT: Dec.from(10_000) } }],
    replay,
    speed,
    startAt: firstOpen,
  });
  return { server, symbols: series.map((s) => s.symbol as string) };
}
