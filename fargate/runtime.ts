/**
 * The hot-path runtime: wires a venue (paper: PaperVenue over public MEXC data; live: MEXC with
 * keys), SafeExchange, the TradingSession, the state store (DynamoDB; dynalite locally), the kill
 * switch (SSM; a file locally), the event queues (SQS; in process locally) and the status server,
 * and runs the timers around them: kill-switch watch, leases, heartbeat, status lines.
 *
 * Clocks: the session decides on the market clock (the newest event time seen, as in paper
 * trading, so a replay at 600x behaves like the market it replays); leases, heartbeats, timers and
 * the shutdown bound run on the wall clock, because other processes and the operator share it.
 *
 * Crash-only: every order is journaled before it is sent (services/recovery/journal.ts) and every
 * start reconciles the journal with the exchange before trading (services/recovery/recover.ts), so
 * a process killed at any moment resumes its positions, and never sends a client order id twice.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CcxtMexcVenue } from '../services/adapters/mexc/ccxtMexcVenue.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoStore, createTable } from '../services/adapters/dynamo/dynamoStore.js';
import { startLocalDynamo, type LocalDynamo } from '../services/adapters/dynamo/localDynamo.js';
import { FileKillSwitchSource, killSwitchFilePath } from '../services/adapters/file/fileKillSwitch.js';
import { parseConfig, type Config } from '../services/config/schema.js';
import type { Strategy, StrategyFactory } from '../services/strategy/port.js';
import { describeKillSwitchChange, KillSwitch, type KillSwitchSource, type KillSwitchState } from '../services/control/killSwitch.js';
import { ConfigError, DomainError } from '../services/core/errors.js';
import { Dec } from '../services/core/money.js';
import { MINUTE_MS } from '../services/core/timeframes.js';
import { symbolId, type Candle, type SymbolId } from '../services/core/types.js';
import { tradeClosedEvent, type EventPublisher, type EventQueue } from '../services/events/types.js';
import { MemoryEventQueues } from '../services/events/memoryQueue.js';
import { NetworkError, TimeoutError } from '../services/execution/exchangeErrors.js';
import type { ExecutorEvent } from '../services/execution/executor.js';
import { SafeExchange, safeExchangeOptionsFromConfig } from '../services/execution/safeExchange.js';
import { buildStatus, healthOf, type RuntimeStatus, type StatusInputs } from '../services/live/status.js';
import { TradingSession } from '../services/live/tradingSession.js';
import { describeTotals, TradeLog } from '../services/live/tradeLog.js';
import { moneyDecimals } from '../services/live/display.js';
import { ChartFeed } from '../services/console/chartFeed.js';
import { lockDataDir, type DataDirLock } from './dataDirLock.js';
import { CommandConsumer } from './operatorCommands.js';
import { PaperVenue } from '../services/paper/paperVenue.js';
import { Portfolio } from '../services/portfolio/portfolio.js';
import { LeaseHeldError, utcDayOf, type DailyStatsRecord, type StateStore } from '../services/state/types.js';
import type { ClosedTrade } from '../services/analytics/types.js';
import type { StreamHandle, VenueClient, VenueEvent } from '../services/venue/types.js';
import { startStatusServer, StatusPortInUseError, type DashboardRoutes, type StatusServer } from './statusServer.js';
import { NO_METRICS, fanOut, type RuntimeMetrics } from './metrics.js';
import { PrometheusMetrics } from './promMetrics.js';
import { deferredSignalRoutes, wireSignals, type SignalWiring } from './signalWiring.js';
import type { SignalInbox } from '../services/signals/inbox.js';
import { parseClientOrderId } from '../services/model/clientOrderId.js';
import { LocalFolderStore } from '../services/adapters/s3/localFolderStore.js';
import { CandleArchive, type ObjectStore } from '../services/ml/archive.js';
import { LiveMlFilter } from '../services/ml/liveFilter.js';
import { loadBundle, MODEL_LOADERS, type ModelBundle } from '../services/ml/modelBundle.js';
import { ModelWatcher } from '../services/ml/modelWatcher.js';
import { ModelRegistry } from '../services/ml/registry.js';
import { initTf } from '../services/ml/tf.js';
import { resolve as resolvePath } from 'node:path';
import type { RuntimeConfig } from './runtimeConfig.js';
import { loadClosedHistory, tradingSubscriptions, withStartupRetries } from './startup.js';
import { PositionJournal } from '../services/recovery/journal.js';
import { JournaledExchange } from '../services/recovery/journaledExchange.js';
import { describeRecovery, recoverOnStart, type RecoveryReport } from '../services/recovery/recover.js';
import { makeAlert } from '../services/ops/alerts.js';
import { checkSymbolAfterLapse } from '../services/recovery/symbolCheck.js';
import { ExchangeHealth } from '../services/live/exchangeHealth.js';
import type { AlertSeverity } from '../services/events/types.js';
import { flattenExchange, flattenSymbol, type FlattenResult } from '../services/ops/flatten.js';
import { fileURLToPath } from 'node:url';
import { RuntimeOpsLog } from './opsLog.js';
import { REPORT_FONT_FAMILY } from '../services/reporting/charts.js';
import type { PngRenderer } from '../services/reporting/render.js';
import { ResourceWatch, type ResourceProbe } from '../services/observability/resourceWatch.js';
import { ProcessProbe } from '../services/adapters/resources/processProbe.js';
import { ResourceGuard } from './resourceGuard.js';
import { PriceCheck, PriceReferenceError, type PriceCheckEvent } from '../services/live/priceCheck.js';
import { CcxtPriceReference } from '../services/adapters/priceReference/ccxtPriceReference.js';
import type { PriceReference } from '../services/live/priceCheck.js';

/** Where the runtime writes its lines. */
export interface RuntimeOutput {
  log(line: string): void;
  err(line: string): void;
}

/** Refused to start (live without the switch or keys, nothing tradable, ...). */
export class RuntimeStartError extends DomainError {
  override readonly name: string = 'RuntimeStartError';
}

export interface RuntimeDeps {
  readonly out: RuntimeOutput;
  /** Strategy, risk and execution config; default: parseConfig with the runtime's mode and profile. */
  readonly strategy?: Config;
  /** Makes the trading strategy from that config (`--strategy`); default: the S/R strategy. */
  readonly strategyFactory?: StrategyFactory;
  /** API keys, for live mode only (from the environment or Secrets Manager; never logged). */
  readonly credentials?: { readonly apiKey: string; readonly secret: string };
  /** Live trading also needs this explicit switch (`--live`). */
  readonly liveSwitch?: boolean;
  /** The lease and heartbeat owner; default `runtime-<pid>-<random>`. */
  readonly owner?: string;
  /** Default: the file under dataDir. */
  readonly killSwitchSource?: KillSwitchSource;
  /** Default: in-process queues. */
  readonly events?: EventPublisher;
  /** Wall clock (default Date.now). */
  readonly wallClock?: () => number;
  /** A local DynamoDB started by the caller (tests), used instead of starting one; not closed by the runtime. */
  readonly dynamo?: LocalDynamo;
  /** CloudWatch metrics (EMF in the task); default none. */
  readonly metrics?: RuntimeMetrics;
  /** Where the model registry's files are (S3 in the task); default the folder `<dataDir>/artifacts`. */
  readonly modelObjects?: { readonly store: ObjectStore; readonly uriPrefix: string };
  /**
   * The operator-command queue the runtime consumes (SQS `commands` in the task). Default: the
   * `commands` queue of the in-process queues, when `events` is the default.
   */
  readonly commands?: EventQueue;
  /** The dashboard's routes on the status server (fargate/console.ts); default none. */
  readonly dashboard?: (rt: Runtime) => DashboardRoutes;
  /** The shared secret of `POST /signals` (env SIGNALS_SECRET or a file; never logged). Without it the webhook refuses every request. */
  readonly signalSecret?: string;
  /** Lets callers other than loopback use the exchange endpoints, with `Authorization: Bearer <token>`. */
  readonly operatorToken?: string;
  /** The signals queue (SQS in the task, SIGNALS_QUEUE_URL). */
  readonly signalInbox?: SignalInbox;
  /** The second price source; default from config.priceReference (none when off). */
  readonly priceReference?: PriceReference;
  /** The task's resources (the cgroup on Fargate, fargate/main.ts); default this process's figures. */
  readonly resourceProbe?: ResourceProbe;
}

type Phase = 'starting' | 'running' | 'stopping' | 'stopped';

/** Closed candles held per symbol for the archive while it cannot be written (about a week of 1m). */
const MAX_ARCHIVE_BUFFER = 10_000;
/** How often every tracked open order is compared with the venue (SafeExchange.sweepOpen). */
const OPEN_ORDER_SWEEP_MS = 30_000;
/** The private streams whose (re)connect may follow missed order updates or fills. */
const PRIVATE_ORDER_STREAMS: ReadonlySet<string> = new Set(['orders', 'fills']);

/** The PNG renderer for the local day-end report (resvg with the bundled font), or none when it cannot load. */
async function localRenderer(out: RuntimeOutput): Promise<{ renderer?: PngRenderer }> {
  try {
    // Loaded only here: the task never writes reports, and its image does not carry the font.
    const { ResvgPngRenderer } = await import('../services/adapters/resvg/pngRenderer.js');
    return { renderer: new ResvgPngRenderer(fileURLToPath(new URL('../assets/fonts/Cantarell-Regular.otf', import.meta.url)), REPORT_FONT_FAMILY) };
  } catch (e) {
    out.err(`daily reports without a chart image: ${e instanceof Error ? e.message : String(e)}`);
    return {};
  }
}

/** The hot-path process; see the file comment. Build with `Runtime.start`. */
export class Runtime {
  readonly owner: string;
  readonly config: RuntimeConfig;
  readonly strategy: Config;
  /** The plug-in strategy, when one was given (made at construction, so bad parameters fail at start). */
  private readonly tradingStrategy: Strategy | undefined;
  readonly killSwitch: KillSwitch;
  readonly events: EventPublisher;
  session!: TradingSession;
  safe!: SafeExchange;
  venue!: VenueClient;
  portfolio!: Portfolio;
  store!: StateStore;
  journal!: PositionJournal;
  exchange!: JournaledExchange;
  /** Uptime, halts, kill-switch changes and order anomalies for the reports; the day-end report locally. */
  opsLog!: RuntimeOpsLog;
  /** What the start-up reconciliation found and did. */
  recovery: RecoveryReport | undefined;
  /** The ML entry filter and its model watcher (mlFilter 'filter' only). */
  mlFilter: LiveMlFilter | undefined;
  modelWatcher: ModelWatcher<ModelBundle> | undefined;
  statusServer: StatusServer | undefined;
  /** External signals, the exchange endpoints and /metrics (fargate/signalWiring.ts). */
  signals: SignalWiring | undefined;
  /** The Prometheus side of the metrics (GET /metrics). */
  readonly prom = new PrometheusMetrics();
  private lastHeartbeatAt: number | undefined;
  /** Symbols this runtime holds the lease of and trades. */
  readonly trading = new Set<SymbolId>();
  /** Expiry (wall clock) of each lease this runtime holds, as the store last confirmed it. */
  private readonly leaseUntil = new Map<SymbolId, number>();
  /** Symbols refused at start (another owner's lease) or dropped later (lease lost). */
  readonly refused = new Map<SymbolId, string>();
  /**
   * Symbols this process no longer manages for a reason a person must see: another actor holds the
   * lease, or the check before re-taking a lapsed lease found a disagreement. /health fails while any.
   */
  readonly leaseTrouble = new Map<SymbolId, string>();
  /** Symbols whose lease lapsed with nobody holding it: re-taken after checkSymbolAfterLapse. */
  private readonly lapsed = new Set<SymbolId>();
  /** Every symbol this process set out to trade: /status lists their open positions whatever the lease. */
  private readonly configured: SymbolId[] = [];
  /** Latched once EMERGENCY_STOP was seen: nothing is traded again until a restart. */
  halted = false;
  /** Resolves when the emergency procedure has finished (undefined before one started). */
  emergency: Promise<void> | undefined;
  private emergencyRunning = false;
  /** Why the emergency flatten must run once more after the one under way (flattenAgain). */
  private emergencyAgain: string | undefined;
  killState: KillSwitchState | undefined;
  /** Counters for tests and the status line. */
  readonly stats = { heartbeats: 0, tradesPersisted: 0, tradeEventsPublished: 0, retrainRequests: 0, leaseRenewals: 0, persistErrors: 0 };
  readonly startedAt: number;
  /** Charts for the dashboard: candles, levels, markers, the equity curve (services/console/chartFeed.ts). */
  chart!: ChartFeed;
  /** The session's closed trades: totals for the stop summary, the last 20 for /status. */
  readonly tradeLog = new TradeLog();
  /** Equity once the start-up reconciliation is done: the session's PnL is measured from it. */
  sessionStartEquity: Dec | undefined;
  /** Listeners of kill-switch changes and command results (the local Telegram bot). */
  readonly notices = new Set<(line: string) => void>();

  private phase: Phase = 'starting';
  private lock: DataDirLock | undefined;
  private commandConsumer: CommandConsumer | undefined;
  private marketNow: number;
  private readonly out: RuntimeOutput;
  private readonly wall: () => number;
  private readonly metrics: RuntimeMetrics;
  private dynamo: LocalDynamo | undefined;
  private dynamoClient: DynamoDBClient | undefined;
  private publicData: CcxtMexcVenue | undefined;
  private priceReference: PriceReference | undefined;
  private handle: StreamHandle | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  /** Writes not yet finished (persisting trades, heartbeats, renewals), awaited on shutdown. */
  private readonly inflight = new Set<Promise<unknown>>();
  private stopping: Promise<void> | undefined;
  /** Halts new entries while the exchange's API or a stream has been failing for 5 minutes. */
  readonly exchangeHealth = new ExchangeHealth();
  /** The unknown kill-switch value last alerted on (reset by a valid one). */
  private unknownSwitchValue: string | undefined;
  /**
   * Wall time of the last event per stream (`kline:SYM:1m`, `trades:SYM`, `book:SYM`): the health
   * check's input. The paper venue stamps events with the market clock, which runs ahead at replay
   * speed and stands still when the feed dies, so the runtime keeps its own wall-clock stamps.
   */
  private readonly lastSeen: Record<string, number> = {};
  /** The last MEXC price per symbol (a trade, or the bid a long's stop watches): what a stop decision was made at. */
  private readonly lastPrice = new Map<SymbolId, number>();
  /** Closed 1m candles waiting for the archive, per symbol (bounded by MAX_ARCHIVE_BUFFER). */
  private readonly archiveBuffer = new Map<SymbolId, Candle[]>();
  private archive: CandleArchive | undefined;
  private objectsCache: { readonly store: ObjectStore; readonly uriPrefix: string } | undefined;
  private readonly stoppedDeferred: { promise: Promise<void>; resolve: () => void };
  /** CPU, memory and disk against the task's limits; sheds optional work at memory pressure (resourceGuard.ts). */
  resources: ResourceGuard | undefined;
  /** MEXC's price against a second venue's before entries and on stops (services/live/priceCheck.ts). */
  priceCheck: PriceCheck | undefined;

  private constructor(config: RuntimeConfig, private readonly deps: RuntimeDeps) {
    this.config = config;
    this.out = deps.out;
    this.wall = deps.wallClock ?? Date.now;
    this.metrics = fanOut(deps.metrics ?? NO_METRICS, this.prom);
    this.startedAt = this.wall();
    this.marketNow = this.startedAt;
    this.owner = deps.owner ?? `runtime-${process.pid}-${randomUUID().slice(0, 8)}`;
    // A strategy config given whole (npm start --config) still takes the runtime's signals mode
    // (--signals, SIGNALS_MODE) over its own signals section: those keys were validated above.
    this.strategy = deps.strategy
      ? config.signals
        ? { ...deps.strategy, signals: { ...deps.strategy.signals, ...(config.signals as Partial<Config['signals']>) } }
        : deps.strategy
      : parseConfig({ ...(config.strategyMode ? { mode: config.strategyMode } : {}), ...(config.profile ? { risk: { profile: config.profile } } : {}), ...(config.signals ? { signals: config.signals } : {}) });
    this.tradingStrategy = deps.strategyFactory?.(this.strategy);
    this.killSwitch = new KillSwitch(deps.killSwitchSource ?? new FileKillSwitchSource(killSwitchFilePath(config.dataDir)), {
      now: this.wall,
      minReadIntervalMs: config.killSwitchPollMs,
      onProblem: (p) => {
        this.out.err(`kill switch: ${p.kind}${'detail' in p ? `: ${p.detail}` : ''}${'treatedAs' in p ? ` (treated as ${p.treatedAs})` : ''}`);
        // Read every few seconds: one alert per distinct unknown value, not one per read.
        if (p.kind === 'invalid_value' && p.value !== this.unknownSwitchValue) {
          this.unknownSwitchValue = p.value;
          this.alert('critical', 'kill-switch-unknown', 'Kill switch holds an unknown value', `${p.detail}. The hot path treats it as ${p.treatedAs} (no new entries). Set it to exactly RUNNING, PAUSED or EMERGENCY_STOP.`);
        }
      },
    });
    this.events = deps.events ?? new MemoryEventQueues({ now: this.wall });
    this.chart = new ChartFeed(this.strategy);
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((r) => (resolve = r));
    this.stoppedDeferred = { promise, resolve };
  }

  /** The market clock (see the file comment). */
  now(): number {
    return this.marketNow;
  }

  /** Resolves once `stop` has finished. */
  get stopped(): Promise<void> {
    return this.stoppedDeferred.promise;
  }

  get paused(): boolean {
    return this.killState !== 'RUNNING' && this.killState !== undefined;
  }

  /**
   * Starts everything in order: refuses live without the switch and keys; opens the state store;
   * loads markets; takes the leases; warms up; streams; starts the timers and the status server.
   * On failure, whatever was started is closed again before the error is thrown.
   */
  static async start(config: RuntimeConfig, deps: RuntimeDeps): Promise<Runtime> {
    if (config.mode === 'live') {
      if (deps.liveSwitch !== true) throw new RuntimeStartError('live trading needs the explicit --live switch; without it only paper trading runs');
      if (!deps.credentials?.apiKey || !deps.credentials.secret) throw new RuntimeStartError('live trading needs MEXC_API_KEY and MEXC_API_SECRET in the environment; refusing to start');
    }
    const rt = new Runtime(config, deps);
    try {
      await rt.boot();
    } catch (e) {
      // Leases taken before the failure are given back at once rather than left to expire.
      await rt.releaseLeases().catch(() => undefined);
      await rt.close().catch(() => undefined);
      throw e;
    }
    return rt;
  }

  private log(line: string): void {
    this.out.log(line);
  }

  private async boot(): Promise<void> {
    const cfg = this.config;
    // One process per local data folder (its embedded database opens once), checked first.
    if (cfg.stateStorage === 'disk') {
      this.lock = lockDataDir(cfg.dataDir, this.wall());
      if (this.lock.replacedPid !== undefined) this.log(`data folder ${cfg.dataDir}: replaced the lock of pid ${this.lock.replacedPid}, which no longer runs`);
    }
    // The status port before anything slow (state, markets, warm-up): a port in use fails in a
    // second, with the flag to change it. Until running, /health and /status answer 503 "starting".
    try {
      this.statusServer = await startStatusServer({
        host: cfg.statusHost,
        port: cfg.statusPort,
        // Served once the session is up (fargate/signalWiring.ts); 503 "starting" before.
        routes: deferredSignalRoutes(() => this.signals?.routes),
        status: () => (this.phase === 'running' || this.phase === 'stopping' ? this.status() : undefined),
        health: () => (this.phase === 'running' || this.phase === 'stopping' ? healthOf(this.statusInputs()) : undefined),
        ...(this.deps.dashboard ? { dashboard: this.deps.dashboard(this) } : {}),
      });
    } catch (e) {
      if (e instanceof StatusPortInUseError) throw new RuntimeStartError(`${e.message}; choose another with --status-port <n> (or STATUS_PORT; 0 = any free port)`, { cause: e });
      throw e;
    }
    this.log(`status server ${this.statusServer.url} (GET /health, /status, /metrics, /exchange/*; POST /signals; the dashboard at /)`);
    // State.
    let client: DynamoDBClient;
    if (this.deps.dynamo) client = this.deps.dynamo.client;
    else if (cfg.stateStorage === 'dynamodb') {
      // AWS (the task role's credentials, the region from the environment), or a given endpoint.
      client = new DynamoDBClient(
        cfg.stateEndpoint ? { endpoint: cfg.stateEndpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 } : { maxAttempts: 1 },
      );
      this.dynamoClient = client;
    } else {
      this.dynamo = await startLocalDynamo(cfg.stateStorage === 'disk' ? { path: join(cfg.dataDir, 'state') } : {});
      client = this.dynamo.client;
      const st = this.dynamo.state;
      if (st) this.log(st.fresh ? `state: new local store in ${join(cfg.dataDir, 'state')}` : `state: ${st.entries} entries checked in ${join(cfg.dataDir, 'state')}, backed up to ${st.backup ?? '-'}`);
    }
    if (cfg.stateStorage !== 'dynamodb' || cfg.createTable) await createTable(client, cfg.tableName);
    this.store = createDynamoStore({
      client,
      tableName: cfg.tableName,
      clock: this.wall,
      onQuarantine: (r) => this.out.err(`state: quarantined an item: ${JSON.stringify(r).slice(0, 300)}`),
    });
    this.opsLog = new RuntimeOpsLog({
      store: this.store,
      owner: this.owner,
      mode: cfg.mode,
      config: this.strategy,
      wall: this.wall,
      market: () => this.marketNow,
      log: (l) => this.log(`${this.iso()} ${l}`),
      err: (l) => this.out.err(`${this.iso()} ${l}`),
      // Locally the runtime writes the daily report at each UTC day's end; in the task the report Lambda does.
      ...(this.deps.modelObjects ? {} : { reports: { store: this.objects().store, root: join(cfg.dataDir, 'artifacts'), ...(await localRenderer(this.out)) } }),
    });
    this.killState = await this.killSwitch.current();
    this.killSwitch.onChange((c) => {
      const line = `kill switch ${describeKillSwitchChange(c)}`;
      this.log(`${this.iso()} KILL  ${line}`);
      this.notify(line);
      this.track(this.opsLog.killSwitch(c.from, c.to, c.cause));
      if (c.cause === 'source' || c.cause === 'write') this.unknownSwitchValue = undefined;
    });
    if (this.killState !== 'RUNNING') this.log(`${this.iso()} KILL  kill switch is ${this.killState} at start`);

    // Venue.
    const restUrl = cfg.exchangeUrl;
    const wsUrl = cfg.wsUrl ?? (restUrl ? `${restUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/ws` : undefined);
    const source = restUrl ?? 'MEXC (api.mexc.com)';
    const quote = this.strategy.backtest.quoteAsset;
    const mexc = new CcxtMexcVenue({
      ...(restUrl ? { restUrl } : {}),
      ...(wsUrl ? { wsUrl } : {}),
      ...(cfg.mode === 'live' && this.deps.credentials ? { apiKey: this.deps.credentials.apiKey, secret: this.deps.credentials.secret } : {}),
      onWarning: (m) => this.out.err(`warning: ${m}`),
    });
    this.publicData = mexc;
    this.venue = cfg.mode === 'paper' ? new PaperVenue({
            publicData: mexc,
            costs: this.strategy.backtest,
            deposits: { [quote]: Dec.from(cfg.balance) },
            now: () => this.marketNow,
            idleAdvance: {
              wall: this.wall,
              everyMs: 100,
              every: (fn, ms) => {
                const t = setInterval(fn, ms);
                t.unref();
                return () => clearInterval(t);
              },
            },
          }) : mexc;
    try {
      await this.withRetries('loading the markets', () => this.venue.loadMarkets(), true);
    } catch (e) {
      if (e instanceof NetworkError || e instanceof TimeoutError) throw new RuntimeStartError(`cannot reach ${source} for market data (${e.name}: ${e.message})`, { cause: e });
      throw e;
    }
    const wanted: SymbolId[] = [];
    for (const name of cfg.symbols) {
      const s = symbolId(name);
      let m;
      try {
        m = this.venue.market(s);
      } catch {
        throw new ConfigError(`symbols: ${s} is not listed by ${source}`);
      }
      if (!m.tradable) throw new ConfigError(`symbols: ${s} cannot be traded through the API: ${m.notTradableReason ?? 'not tradable'}`);
      wanted.push(s);
    }
    this.configured.push(...wanted);

    // The market clock starts at the venue's newest candle (a replay can run ahead of the wall clock).
    try {
      const latest = await this.withRetries('reading the market clock', () => this.venue.fetchKlines(wanted[0] as SymbolId, '1m', undefined, 1));
      const last = latest[latest.length - 1];
      if (last && last.openTime > this.marketNow) this.marketNow = last.openTime;
    } catch (e) {
      this.out.err(`warning: the venue's clock could not be read (${e instanceof Error ? e.name : String(e)}); using the local clock`);
    }

    // Leases: one per symbol before trading it; another owner's live lease keeps us off it. A lease
    // left by a killed process is waited for until it expires (bounded by leaseWaitMs).
    const waitUntil = this.wall() + (cfg.leaseWaitMs ?? cfg.leaseTtlMs + 5000);
    for (const s of wanted) {
      for (;;) {
        try {
          const lease = await this.store.acquireLease(s, this.owner, cfg.leaseTtlMs, this.wall());
          this.leaseUntil.set(s, lease.expiresAt);
          this.trading.add(s);
          this.log(`${this.iso()} LEASE ${s} acquired by ${this.owner} for ${cfg.leaseTtlMs / 1000} s`);
          break;
        } catch (e) {
          if (!(e instanceof LeaseHeldError)) throw e;
          if (e.expiresAt < waitUntil && this.phase === 'starting') {
            const ms = Math.max(200, Math.min(e.expiresAt - this.wall() + 100, waitUntil - this.wall()));
            this.log(`${this.iso()} LEASE ${s} held by ${e.holder ?? 'another owner'} until ${new Date(e.expiresAt).toISOString()}; waiting ${(ms / 1000).toFixed(1)} s for it to expire`);
            await sleep(ms);
            continue;
          }
          this.refused.set(s, `lease held by ${e.holder ?? 'another owner'} until ${new Date(e.expiresAt).toISOString()}`);
          this.log(`${this.iso()} LEASE ${s} refused: held by ${e.holder ?? 'another owner'} until ${new Date(e.expiresAt).toISOString()}; not trading it`);
          break;
        }
      }
    }
    // Renewed from now on, not only once running: a start-up longer than the lease (retries, a
    // long recovery) must not lose it.
    this.timers.push(setInterval(() => this.track(this.renewLeases()), Math.max(1000, Math.floor(cfg.leaseTtlMs / 3))));
    if (this.trading.size === 0) throw new RuntimeStartError(`no symbol to trade: every lease is held by another owner (${[...this.refused.entries()].map(([s, w]) => `${s}: ${w}`).join('; ')})`);

    // Exchange layer and session.
    this.safe = new SafeExchange(
      this.venue,
      {
        now: this.wall,
        sleep: (ms) => sleep(ms),
        random: Math.random,
        onEvent: (e) => {
          if (e.type === 'retry' || e.type === 'circuit_open') this.exchangeHealth.restFailed(this.wall(), e.type === 'retry' ? e.error : `circuit open on ${e.endpoint}`);
          const logged = this.opsLog.exchangeEvent(e);
          if (logged) this.track(logged);
          if (e.type !== 'duplicate_fill') this.log(`${this.iso()} EXCH  ${JSON.stringify(e, (_k, val: unknown) => (val instanceof Dec ? val.toString() : val))}`);
        },
      },
      safeExchangeOptionsFromConfig(this.strategy.execution),
    );
    // Paper: the configured balance. Live: the venue's free quote balance (holdings the state does
    // not know of are not adopted here: reconciliation on start is still to come, issue 4).
    let cash = Dec.from(cfg.balance);
    if (cfg.mode === 'live') {
      const balances = await this.withRetries('loading the balances', () => this.venue.fetchBalances());
      cash = balances.find((b) => b.asset === quote)?.free ?? Dec.ZERO;
      this.log(`${this.iso()} live balance: ${cash.toString()} ${quote} free`);
    }
    this.portfolio = new Portfolio(quote, cash);
    this.journal = new PositionJournal({
      store: this.store,
      now: () => this.marketNow,
      mode: cfg.mode,
      onProblem: (what, e) => this.out.err(`${this.iso()} JOURNAL ${what} failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`),
    });
    this.exchange = new JournaledExchange(this.safe, this.journal, {
      onProblem: (line) => this.out.err(`${this.iso()} JOURNAL ${line}`),
      now: () => this.marketNow,
      onAck: (ack) => {
        // Live, an ack is the exchange's API answering. Paper, it is the in-process engine's: the
        // exchange's API (public data, 24h tickers) may still be failing, so it proves nothing.
        if (cfg.mode === 'live') this.exchangeHealth.restOk();
        this.metrics.order(ack.status === 'rejected', { exchange: this.venue.name, status: ack.status, type: this.orderTypeOf(ack.clientOrderId) });
      },
      mayTrade: (s) => this.leaseProblem(s),
    });
    if (cfg.mlFilter === 'filter' || this.strategy.signals.mlScoring) await this.startMlFilter();
    const ml = this.mlFilter;
    const pc = this.startPriceCheck();
    this.session = new TradingSession({
      config: this.strategy,
      ...(this.tradingStrategy ? { strategy: this.tradingStrategy } : {}),
      exchange: this.exchange,
      portfolio: this.portfolio,
      now: () => this.marketNow,
      log: (l) => this.log(l),
      // PAUSED refuses new entries only: exits, time stops and stop moves go on.
      // Then the exchange's health (an API or stream failing for 5 minutes), then the second price
      // source (a MEXC price the other venue does not show refuses it), then the ML filter; external
      // signals are scored by their own policy (services/signals), not by the entry filter.
      entryGate: (intent) =>
        this.paused
          ? `kill switch ${this.killState ?? 'PAUSED'}: no new entries`
          : (this.exchangeHealth.problem(this.wall()) ?? pc?.gate(intent) ?? (cfg.mlFilter === 'filter' && intent.origin !== 'external' ? ml?.gate(intent) : undefined)),
      ...(ml || pc
        ? {
            beforeDecide: async (symbol: SymbolId, candle: Candle) => {
              // A fresh reference price for the decision about to be made (none needed with a position open: no entry).
              if (pc && !this.session.executor.position(symbol)) await pc.refresh(symbol, candle.close);
              if (ml) await ml.observe(symbol, candle);
            },
          }
        : {}),
    });
    this.session.executor.on((e) => this.onExecutorEvent(e));
    this.signals = this.wireSignals();
    const symbols = [...this.trading];
    if (cfg.archiveCandles) this.archive = new CandleArchive(this.objects().store);
    for (const s of symbols) await this.warmUp(s);
    await this.refreshVolumes();

    // Crash-only start: the journal against the exchange, before anything is traded.
    this.recovery = await recoverOnStart(
      symbols,
      { mode: cfg.mode, unknownOrders: cfg.unknownOrders, fillLookbackMs: cfg.fillLookbackHours * 3_600_000 },
      { store: this.store, safe: this.safe, executor: this.session.executor, journal: this.journal, portfolio: this.portfolio, quoteAsset: quote, now: () => this.marketNow, wall: this.wall, log: (l) => this.log(`${this.iso()} ${l}`) },
    );
    this.log(`${this.iso()} ${describeRecovery(this.recovery)}`);
    this.track(this.opsLog.recovery(this.recovery, describeRecovery(this.recovery)));
    if (this.recovery.problems.length > 0 || this.recovery.balanceMismatches.length > 0) {
      // Something the restart could not put right: a person must look (positions may be unmanaged).
      const detail = [...this.recovery.problems, ...this.recovery.balanceMismatches.map((m) => `${m.symbol}: the exchange holds ${m.venue}, open positions account for ${m.positions}`)].join('; ');
      await this.events
        .publish(makeAlert('runtime', `recovery:${this.owner}`, this.wall(), 'critical', 'Restart reconciliation needs attention', detail))
        .catch((e: unknown) => this.out.err(`alert not sent: ${e instanceof Error ? e.message : String(e)}`));
    }

    const subs = tradingSubscriptions(symbols);
    this.handle = await this.venue.stream(subs, (e) => this.onVenueEvent(e));

    this.sessionStartEquity = this.portfolio.equity();
    this.commandConsumer = this.startCommands();
    this.log(`${this.iso()} signals: POST /signals ${this.strategy.signals.enabled ? (this.strategy.signals.dryRun ? 'on, dry run' : 'ON, routing to the executor') : 'off'}; /metrics, /exchange/* on the status server`);
    this.signals.start();

    const every = (ms: number, fn: () => void): void => {
      this.timers.push(setInterval(fn, ms));
    };
    every(cfg.killSwitchPollMs, () => void this.pollKillSwitch());
    every(cfg.heartbeatMs, () => this.track(this.heartbeat()));
    every(cfg.statusEverySec * 1000, () => this.log(this.statusLine()));
    every(60_000, () => this.flushMetrics());
    if (this.archive) {
      every(cfg.archiveFlushMinutes * 60_000, () => this.track(this.flushArchive()));
      this.track(this.flushArchive());
    }
    every(15_000, () => this.track(this.safe.checkStuck(this.wall()).catch((e: unknown) => this.out.err(`stuck-order check failed: ${String(e)}`))));
    // Fills the private stream missed (down, silent, or not yet subscribed while recovery placed
    // orders): swept now, on every private (re)connect (onVenueEvent) and every half minute.
    this.sweepOpenOrders('start');
    every(OPEN_ORDER_SWEEP_MS, () => this.sweepOpenOrders('periodic'));
    every(5 * 60_000, () => this.track(this.refreshVolumes()));
    every(15_000, () => this.checkExchangeHealth());
    if (this.commandConsumer) every(2000, () => this.track(this.commandConsumer!.poll()));
    this.startResourceWatch(every);
    this.phase = 'running';
    this.track(this.heartbeat());
    this.log(
      `${this.iso()} running ${cfg.mode} on ${source}: ${symbols.join(', ')} (owner ${this.owner}, shutdown ${cfg.onShutdown}, ` +
        `kill switch ${this.killState}, data ${cfg.dataDir}). One line per decision and trade, a status line every ${cfg.statusEverySec} s.`,
    );
    if (this.killState === 'EMERGENCY_STOP') this.startEmergency();
  }

  /**
   * Why an order on `symbol` must not be sent now, or undefined. The lease must be ours and valid
   * for a margin beyond now (a sixth of its ttl, at most 5 s): a process that stalled past its
   * lease's end (a long GC, a frozen host) must not trade a symbol another actor may have taken.
   */
  private leaseProblem(symbol: SymbolId): string | undefined {
    const until = this.leaseUntil.get(symbol);
    if (until === undefined) return `no lease on ${symbol}`;
    const margin = Math.min(5000, Math.floor(this.config.leaseTtlMs / 6));
    const now = this.wall();
    if (now > until - margin) return `the lease on ${symbol} ends at ${new Date(until).toISOString()}, too close to now (${new Date(now).toISOString()})`;
    return undefined;
  }

  /** The signal intake, exchange endpoints and /metrics routes (fargate/signalWiring.ts). */
  private wireSignals(): SignalWiring {
    return wireSignals({
      strategy: this.strategy,
      mode: this.config.mode,
      dataDir: this.config.dataDir,
      kernel: this.session.kernel,
      venue: this.venue,
      store: this.store,
      trading: this.trading,
      killState: () => (this.halted ? 'EMERGENCY_STOP' : this.killState),
      refreshKillSwitch: async () => {
        if (this.phase === 'running') this.killState = await this.killSwitch.current();
      },
      ml: this.mlFilter,
      metrics: this.metrics,
      prom: this.prom,
      updateGauges: () => this.updateGauges(),
      marketNow: () => this.marketNow,
      wall: this.wall,
      log: (l) => this.log(l),
      err: (l) => this.out.err(l),
      ...(this.deps.signalSecret ? { secret: this.deps.signalSecret } : {}),
      ...(this.deps.operatorToken ? { operatorToken: this.deps.operatorToken } : {}),
      ...(this.deps.signalInbox ? { inbox: this.deps.signalInbox } : {}),
      ...(this.config.mode === 'live' ? { placeOrder: (req) => this.safe.venue.createOrder(req) } : {}),
    });
  }

  /** The order type of one of the executor's client ids, for the orders metric. */
  private orderTypeOf(clientOrderId: string): string {
    const role = parseClientOrderId(clientOrderId)?.role;
    return role === 'entry' ? this.strategy.entry.orderType : role === 'target' ? 'limit' : role === 'exit' ? 'market' : 'other';
  }

  /** The gauges: feed lag per stream, heartbeat age, equity, the day's PnL. */
  private updateGauges(): void {
    if (this.phase !== 'running' && this.phase !== 'stopping') return;
    try {
      const st = this.status();
      const feedLagSeconds: Record<string, number> = {};
      for (const [k, ms] of Object.entries(st.feedLagMs)) if (ms !== null) feedLagSeconds[k] = ms / 1000;
      this.metrics.gauges({
        feedLagSeconds,
        ...(this.lastHeartbeatAt !== undefined ? { heartbeatAgeSeconds: (this.wall() - this.lastHeartbeatAt) / 1000 } : {}),
        equity: Number(st.equity),
        ...(st.todayPnl !== null ? { dailyPnl: Number(st.todayPnl) } : {}),
      });
    } catch {
      // Before the session is up there is nothing to measure.
    }
  }

  /** Bounded start-up retries (see startup.ts). */
  private withRetries<T>(what: string, fn: () => Promise<T>, unreachableIsFinal = false): Promise<T> {
    return withStartupRetries(what, fn, (l) => this.out.err(l), unreachableIsFinal);
  }

  /** The artifact store (models and the candle archive): S3 in the task, `<dataDir>/artifacts` locally. */
  private objects(): { readonly store: ObjectStore; readonly uriPrefix: string } {
    this.objectsCache ??= this.deps.modelObjects ?? { store: new LocalFolderStore(join(this.config.dataDir, 'artifacts')), uriPrefix: `file://${resolvePath(this.config.dataDir, 'artifacts')}/` };
    return this.objectsCache;
  }

  /** Queues closed 1m candles for the archive (oldest dropped past the bound). */
  private toArchive(symbol: SymbolId, candles: readonly Candle[]): void {
    if (!this.archive) return;
    let list = this.archiveBuffer.get(symbol);
    if (!list) this.archiveBuffer.set(symbol, (list = []));
    list.push(...candles);
    if (list.length > MAX_ARCHIVE_BUFFER) list.splice(0, list.length - MAX_ARCHIVE_BUFFER);
  }

  /** The price check over the configured reference, or undefined when it is off (said at start). */
  private startPriceCheck(): PriceCheck | undefined {
    const source = this.config.priceReference;
    const opts = this.strategy.execution.priceCheck;
    if (source === 'off' && !this.deps.priceReference) {
      this.log(`${this.iso()} PRICE second price source off: entries rely on MEXC's price alone (set priceReference, e.g. --price-reference kraken)`);
      return undefined;
    }
    let reference: PriceReference;
    try {
      reference = this.deps.priceReference ?? new CcxtPriceReference({ source, timeoutMs: opts.timeoutMs });
    } catch (e) {
      if (e instanceof PriceReferenceError) throw new ConfigError(`runtime config priceReference: ${e.message}`, { cause: e });
      throw e;
    }
    this.priceReference = reference;
    const check = new PriceCheck(opts, { reference, now: () => this.marketNow, onEvent: (e) => this.onPriceCheck(e) });
    this.priceCheck = check;
    this.log(
      `${this.iso()} PRICE second price source ${reference.name}: entries refused beyond ${opts.maxDeviationPct} % from it; ` +
        `a stale (${opts.maxAgeMs / 1000} s) or unavailable reference ${opts.whenUnavailable === 'refuse' ? 'refuses entries' : 'lets entries through'}; exits never wait for it`,
    );
    return check;
  }

  /** Logs and alerts the price check's findings (a standing change per symbol, an unconfirmed stop). */
  private onPriceCheck(e: PriceCheckEvent): void {
    if (e.kind === 'stop_unconfirmed') {
      this.log(`${this.iso()} PRICE ${e.symbol} STOP UNCONFIRMED: ${e.detail}`);
      this.alert('critical', `price-stop:${e.symbol}`, `Stop on ${e.symbol} at a price the reference does not show`, e.detail);
      return;
    }
    this.log(`${this.iso()} PRICE ${e.symbol} ${e.from ?? '-'} -> ${e.to}: ${e.detail}`);
    if (e.to === 'ok') {
      if (e.from !== undefined) this.alert('info', `price-${e.symbol}-ok`, `${e.symbol}: MEXC's price agrees with the reference again`, `${e.detail}. Entries on ${e.symbol} are allowed again.`);
      return;
    }
    const refuses = e.to === 'deviating' || this.strategy.execution.priceCheck.whenUnavailable === 'refuse';
    this.alert(
      e.to === 'deviating' ? 'critical' : 'warning',
      `price-${e.symbol}-${e.to}`,
      e.to === 'deviating' ? `${e.symbol}: MEXC's price deviates from the reference` : `${e.symbol}: reference price unavailable`,
      `${e.detail}. ${refuses ? `New entries on ${e.symbol} are refused` : `Entries on ${e.symbol} go on unchecked (whenUnavailable allow)`}; exits are never held back.`,
    );
  }

  /** Samples the task's resources every resourceEveryMs (see resourceGuard.ts). */
  private startResourceWatch(every: (ms: number, fn: () => void) => void): void {
    const watch = new ResourceWatch(this.deps.resourceProbe ?? new ProcessProbe(this.config.dataDir), { now: this.wall });
    this.resources = new ResourceGuard(watch, {
      log: (l) => this.log(`${this.iso()} ${l}`),
      err: (l) => this.out.err(`${this.iso()} ${l}`),
      alert: (sev, key, title, detail) => this.alert(sev, key, title, detail),
      metrics: this.metrics,
    });
    const t = watch.thresholds;
    this.log(`resources: ${watch.source}, alert at cpu ${t.cpu} %, memory ${t.memory} % (optional work shed), disk ${t.disk} % of the task's limits`);
    every(this.config.resourceEveryMs, () => this.track(this.resources!.check()));
    this.track(this.resources.check());
  }

  /**
   * Writes the queued candles to the archive; what fails stays queued for the next flush. Skipped
   * at memory pressure (optional work), except at shutdown (`force`), the last chance to write them.
   */
  private async flushArchive(force = false): Promise<void> {
    const archive = this.archive;
    if (!archive) return;
    if (!force && this.resources?.shedding) {
      const queued = [...this.archiveBuffer.values()].reduce((n, l) => n + l.length, 0);
      this.log(`${this.iso()} SHED  archive write skipped at memory pressure: ${queued} candle(s) stay queued (at most ${MAX_ARCHIVE_BUFFER} per symbol)`);
      return;
    }
    for (const [symbol, list] of this.archiveBuffer) {
      if (list.length === 0) continue;
      const batch = list.splice(0, list.length);
      try {
        await archive.write(symbol, batch, this.marketNow);
      } catch (e) {
        list.unshift(...batch);
        if (list.length > MAX_ARCHIVE_BUFFER) list.splice(0, list.length - MAX_ARCHIVE_BUFFER);
        this.out.err(`${this.iso()} ARCHIVE ${symbol}: ${batch.length} candle(s) not written (${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}); kept for the next flush`);
      }
    }
  }

  /**
   * The ML filter: the registry (S3 in the task, `<dataDir>/artifacts` locally) and the model its
   * pointer names, read again every modelPollMs; a newly promoted model serves from the next
   * decision on, without a restart. Until a model loads, the filter refuses entries.
   */
  private async startMlFilter(): Promise<void> {
    const cfg = this.config;
    await initTf();
    const objects = this.objects();
    const registry = new ModelRegistry({ objects: objects.store, pointer: this.store, uriPrefix: objects.uriPrefix, loaders: MODEL_LOADERS });
    const watcher = new ModelWatcher<ModelBundle>({
      pointer: () => registry.current(),
      load: (uri) => loadBundle(registry, uri),
      intervalMs: cfg.modelPollMs,
      onAlert: (a) => this.out.err(`${this.iso()} MODEL ${a.title}: ${a.detail} (${a.version})`),
      onSwap: (version, previous) => this.log(`${this.iso()} MODEL serving ${version}${previous ? ` (was ${previous})` : ''}`),
      timers: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    });
    this.modelWatcher = watcher;
    const first = await watcher.start();
    this.mlFilter = new LiveMlFilter({ mode: 'filter', threshold: cfg.mlThreshold, use: (f) => watcher.use(f) });
    this.log(`${this.iso()} MODEL ML filter on (threshold ${cfg.mlThreshold}): ${watcher.version ? `serving ${watcher.version}` : `no model yet (${first}); entries are refused until one is promoted`}`);
  }

  /** Paged 1m history (MEXC serves at most 500 klines a request), as paper trading does. */
  private async warmUp(s: SymbolId): Promise<void> {
    const closed = await loadClosedHistory(this.venue, s, this.config.warmupMinutes, this.marketNow, (l) => this.out.err(l));
    this.session.warmUp(s, closed);
    for (const c of closed) this.chart.candle(s, c);
    for (const c of closed) this.mlFilter?.warm(s, c);
    this.toArchive(s, closed);
    this.log(`warm-up ${s}: ${closed.length} closed 1m candles`);
  }

  private async refreshVolumes(): Promise<void> {
    try {
      for (const t of await this.venue.fetchTickers24h([...this.trading])) this.session.setQuoteVolume24h(t.symbol, t.quoteVolume);
      this.exchangeHealth.restOk();
    } catch (e) {
      this.exchangeHealth.restFailed(this.wall(), e instanceof Error ? e.name : String(e));
      this.out.err(`warning: 24h tickers unavailable (${e instanceof Error ? e.name : String(e)}); the volume rule is skipped until they are`);
    }
  }

  /**
   * The gate in front of the session. Private events (orders, fills, balances) always pass: a fill
   * must be booked whatever the state. Market data passes only for symbols whose lease we hold and
   * while not halted. While PAUSED everything still flows: the session's entry gate refuses new
   * entries, and open positions keep their stops, targets, time stops and break exits.
   */
  private onVenueEvent(e: VenueEvent): void {
    const t = e.type === 'trade' ? e.trade.time : e.type === 'book' ? e.book.time : e.type === 'kline' ? (e.closed ? e.candle.openTime + MINUTE_MS : e.candle.openTime) : 0;
    if (t > this.marketNow) this.marketNow = t;
    if (e.type === 'stream_status') {
      this.exchangeHealth.stream(e.stream, e.status, this.wall());
      if (e.status === 'connected' && PRIVATE_ORDER_STREAMS.has(e.stream) && this.phase === 'running') this.sweepOpenOrders(`${e.stream} stream connected`);
    }
    if (e.type === 'trade') this.lastPrice.set(e.symbol, e.trade.price);
    else if (e.type === 'book') this.lastPrice.set(e.symbol, e.book.bid);
    if (e.type === 'kline' || e.type === 'trade' || e.type === 'book') {
      this.lastSeen[e.type === 'kline' ? `kline:${e.symbol}:${e.interval}` : e.type === 'trade' ? `trades:${e.symbol}` : `book:${e.symbol}`] = this.wall();
      if (this.halted || this.phase !== 'running' || !this.trading.has(e.symbol)) return;
      if (e.type === 'kline' && e.closed && e.interval === '1m') {
        this.toArchive(e.symbol, [e.candle]);
        this.chart.candle(e.symbol, e.candle);
        this.chart.sampleEquity(e.candle.openTime + MINUTE_MS, this.portfolio.equityNumber());
      }
    }
    this.session.push(e);
  }

  private async pollKillSwitch(): Promise<void> {
    if (this.phase !== 'running') return;
    this.killState = await this.killSwitch.current();
    if (this.killState === 'EMERGENCY_STOP' && !this.halted) this.startEmergency();
  }

  private startEmergency(): void {
    this.halted = true;
    const logged = this.opsLog.halt({ halted: false }, true);
    if (logged) this.track(logged);
    this.log(`${this.iso()} HALT  EMERGENCY_STOP: halt latched (until a restart); cancelling every open order and closing every position`);
    this.emergency = this.flattenUntilDone('emergency stop');
    this.track(this.emergency);
  }

  /**
   * Under the emergency halt, something new to flatten: a position that opened after the flatten
   * looked (an entry in flight at the switch, its fill arriving later) or a symbol whose lease is
   * ours again (it lapsed while the process was frozen, so the flatten skipped it). The soak's race
   * part ended a round with a position open under EMERGENCY_STOP that way. Runs the flatten again,
   * after the one under way if there is one.
   */
  private flattenAgain(why: string): void {
    if (!this.halted || this.phase === 'stopped') return;
    if (this.emergencyRunning) {
      this.emergencyAgain ??= why;
      return;
    }
    this.emergency = this.flattenUntilDone(why);
    this.track(this.emergency);
  }

  /** The emergency flatten, then again while flattenAgain asked for it meanwhile (at most 10 passes). */
  private async flattenUntilDone(why: string): Promise<void> {
    this.emergencyRunning = true;
    try {
      let reason: string | undefined = why;
      for (let pass = 0; reason !== undefined && pass < 10; pass++) {
        this.emergencyAgain = undefined;
        await this.emergencyFlatten(reason);
        reason = this.emergencyAgain;
      }
    } finally {
      this.emergencyRunning = false;
    }
  }

  /**
   * Cancels every open order and closes every position: first through the executor (its exit
   * cancels the targets and sells at market, and books the trade), then, after a bounded wait, the
   * one flatten procedure the emergency-stop Lambda runs too (services/ops/flatten.ts): per symbol,
   * its open orders cancelled and what the portfolio still holds sold by the emergency close, with a
   * tag per position. Venue calls go through SafeExchange's guard (breakers, rate limit, retries).
   */
  private async emergencyFlatten(why: string): Promise<void> {
    const t0 = this.wall();
    const ex = this.session.executor;
    // After the orders in flight are settled: an entry sent just before the switch is a position by then.
    await this.session.idle();
    const symbols = [...this.trading];
    const positions = symbols.flatMap((s) => {
      const p = ex.position(s);
      return p ? [p] : [];
    });
    for (const p of positions) {
      try {
        await ex.exit(p.id, 'halt', why, this.marketNow);
      } catch (e) {
        this.out.err(`${this.iso()} HALT  exit of ${p.symbol} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    await this.waitFor(() => positions.every((p) => !ex.position(p.symbol)), 3000);
    const deps = { venue: this.safe.venue, exchange: flattenExchange(this.safe) };
    const results: FlattenResult[] = [];
    for (const s of symbols) {
      const pid = positions.find((p) => p.symbol === s)?.id ?? s;
      // Capped by what the portfolio holds: the account may hold the asset for other reasons.
      const fl = await flattenSymbol(deps, s, `ES-${pid}`, this.portfolio.holding(s));
      for (const f of fl.cancelFailures) this.out.err(`${this.iso()} HALT  cancel ${f.clientOrderId} failed: ${f.reason}`);
      for (const p of fl.problems) this.out.err(`${this.iso()} HALT  ${s}: ${p}`);
      results.push(fl);
    }
    const ms = this.wall() - t0;
    const closedByExecutor = positions.filter((p) => !ex.position(p.symbol)).length;
    const cancelled = results.reduce((n, r) => n + r.cancelled.length, 0);
    const closes = results.flatMap((r) => (r.close ? [r.close] : []));
    this.log(
      `${this.iso()} HALT  ${why} done in ${ms} ms: ${positions.length} position(s), ${closedByExecutor} closed by the executor, ` +
        `${cancelled} open order(s) cancelled, ${closes.length} emergency close(s)` +
        closes.map((r) => ` [${r.symbol} sold ${r.sold.toString()} remainder ${r.remainder.toString()}${r.closed ? ' closed' : ' NOT closed'}${r.aborted ? ` aborted: ${r.aborted}` : ''}]`).join('') +
        (results.every((r) => r.flat) ? '' : ` NOT flat: ${results.filter((r) => !r.flat).map((r) => r.symbol).join(', ')}`),
    );
  }

  /** Polls `cond` every 20 ms for at most `ms` (wall clock); true when it held. */
  private async waitFor(cond: () => boolean, ms: number): Promise<boolean> {
    const until = this.wall() + ms;
    while (!cond()) {
      if (this.wall() >= until) return false;
      await sleep(20);
    }
    return true;
  }

  /** Journals what the executor does (see services/recovery/journal.ts) and persists closed trades. */
  private onExecutorEvent(e: ExecutorEvent): void {
    const ex = this.session.executor;
    this.toChart(e);
    switch (e.type) {
      case 'entry_submitted':
        this.journal.noteIntent(e.intent);
        break;
      case 'position_opened':
      case 'stop_moved':
      case 'exit_started':
      case 'fill_booked': {
        if (e.type === 'position_opened' && this.halted) this.flattenAgain(`emergency stop: ${e.symbol} opened after the halt (an entry in flight)`);
        // A stop decision: compared with the reference afterwards, alert only (the exit is already out).
        if (e.type === 'exit_started' && (e.reason === 'stop' || e.reason === 'breakeven') && this.priceCheck) {
          const price = this.lastPrice.get(e.symbol);
          if (price !== undefined) this.track(this.priceCheck.checkStop(e.symbol, price));
        }
        const snap = ex.snapshot(e.positionId);
        if (snap) this.journal.saveSnapshot(snap);
        break;
      }
      case 'exit_reconciled': {
        // Once per position (the executor asks the venue once): the state disagreed with the account.
        const title = e.pnlKnown ? `${e.symbol}: position found sold outside the runtime` : `${e.symbol}: position gone from the account, PnL unknown`;
        this.alert('critical', `exit-reconciled:${e.positionId}`, title, `${e.detail}. Position ${e.positionId}.`);
        const snap = ex.snapshot(e.positionId);
        if (snap) this.journal.saveSnapshot(snap);
        break;
      }
      case 'entry_expired':
        this.track(this.journal.closePosition(e.positionId, e.time, 'entry not filled in time'));
        break;
      case 'entry_rejected':
        this.metrics.riskRefusal(e.reason);
        // Only an entry the exchange layer refused can have a journal record (risk, size and
        // one-position refusals come before the journal); and never a position that is alive.
        if (e.reason === 'EXCHANGE_REJECTED' && ex.position(e.intent.symbol)?.id !== e.intent.id) {
          this.track(this.journal.closePosition(e.intent.id, e.time, `entry rejected: ${e.reason}`));
        }
        break;
      case 'position_closed': {
        const t = e.trade;
        const exitQuantity = t.exitPrice.isZero() ? Dec.ZERO : t.quantity;
        this.track(
          this.journal.closePosition(t.id, e.time, t.exitReason, {
            entryQuantity: t.quantity,
            entryCost: t.entryPrice.mul(t.quantity),
            exitQuantity,
            exitProceeds: t.exitPrice.mul(exitQuantity),
            fees: t.fees,
          }),
        );
        this.tradeLog.add(t);
        this.track(this.persistTrade(t, e.time));
        break;
      }
    }
  }

  /** Entries, stop moves and exits as chart markers. */
  private toChart(e: ExecutorEvent): void {
    switch (e.type) {
      case 'position_opened':
        this.chart.marker(e.symbol, { time: e.time, kind: 'entry', price: e.price.toNumber(), text: `entry ${e.quantity.toString()}` });
        break;
      case 'stop_moved':
        this.chart.marker(e.symbol, { time: e.time, kind: 'stop', price: e.stop, text: `stop ${e.stop}` });
        break;
      case 'position_closed':
        this.chart.marker(symbolId(e.trade.symbol), { time: e.trade.exitTime, kind: 'exit', price: e.trade.exitPrice.toNumber(), text: `${e.reason} ${e.trade.netPnl.toFixed(2)}` });
        break;
      default:
        break;
    }
  }

  /** Sends a line to the notice listeners (the local bot); a throwing listener is ignored. */
  notify(line: string): void {
    for (const l of this.notices) {
      try {
        l(line);
      } catch {
        /* the listener reports its own failures */
      }
    }
  }

  /** The operator-command consumer: the given queue, or the in-process one; none when neither exists. */
  private startCommands(): CommandConsumer | undefined {
    const queue = this.deps.commands ?? (this.events instanceof MemoryEventQueues ? this.events.queue('commands') : undefined);
    if (!queue) return undefined;
    return new CommandConsumer({
      queue,
      forceExit: (symbol, by) => this.forceExit(symbol, by),
      now: this.wall,
      log: (l) => this.log(`${this.iso()} CMD   ${l}`),
      err: (l) => this.out.err(`${this.iso()} CMD   ${l}`),
      answer: async (id, title, detail) => {
        this.notify(`${title}: ${detail}`);
        await this.events.publish(makeAlert('runtime', `command:${id}`, this.wall(), 'info', title, detail)).catch((e: unknown) => this.out.err(`command answer not sent: ${e instanceof Error ? e.message : String(e)}`));
      },
    });
  }

  /**
   * An operator's force exit: the symbol's position is closed at market through the executor, as a
   * halt exit (targets cancelled, the trade booked). Only this process trades the symbol (it holds
   * the lease), which is why the command comes here rather than to a Lambda. Returns what happened.
   */
  async forceExit(symbol: string, requestedBy: string): Promise<string> {
    const s = symbol as SymbolId;
    if (this.halted) return `${symbol}: the emergency stop is closing every position already`;
    if (!this.trading.has(s)) return `${symbol}: not traded by this process (${this.refused.get(s) ?? 'not configured'})`;
    const p = this.session.executor.position(s);
    if (!p) return `${symbol}: no open position`;
    if (p.state === 'closing') return `${symbol}: position ${p.id} is already closing`;
    await this.session.idle();
    await this.session.executor.exit(p.id, 'halt', `force exit by ${requestedBy}`, this.marketNow);
    const after = this.session.executor.position(s);
    return after ? `${symbol}: exit of position ${p.id} started (${after.state})` : `${symbol}: position ${p.id} closed`;
  }

  /**
   * Persists a closed trade: stored once (putClosedTradeOnce), its trade_closed event published
   * (at-least-once: a repeat carries the same event id), a retrain request after a loss, and the day's stats updated through
   * applyEvent with the trade id as the event id, so calling this twice for one trade counts it once.
   * Never throws: a failure is logged and counted.
   */
  async persistTrade(trade: ClosedTrade, time: number): Promise<void> {
    try {
      const fresh = await this.store.putClosedTradeOnce(trade);
      await this.events.publish(tradeClosedEvent(trade, time));
      const equity = this.portfolio.equity();
      const day = utcDayOf(trade.exitTime);
      await this.store.applyEvent('day', day, `trade:${trade.id}`, (cur): DailyStatsRecord => {
        const start = cur?.startEquity ?? equity.sub(trade.netPnl);
        return {
          day,
          startEquity: start,
          endEquity: equity,
          realizedPnl: (cur?.realizedPnl ?? Dec.ZERO).add(trade.netPnl),
          fees: (cur?.fees ?? Dec.ZERO).add(trade.fees),
          trades: (cur?.trades ?? 0) + 1,
          wins: (cur?.wins ?? 0) + (trade.netPnl.isPositive() ? 1 : 0),
          losses: (cur?.losses ?? 0) + (trade.netPnl.isPositive() ? 0 : 1),
          updatedAt: this.wall(),
        };
      });
      // A losing trade asks for a retrain (the retrain job coalesces requests and decides whether
      // new data justifies one). Same id on a repeat, so a retry asks once.
      if (!trade.netPnl.isPositive()) {
        await this.events.publish({ type: 'retrain_request', id: `retrain_request:${trade.id}`, time, reason: `losing trade ${trade.id} (${trade.exitReason})`, symbol: trade.symbol });
        this.stats.retrainRequests++;
      }
      // Counted once every write is done, so a reader of the counters sees the whole record.
      if (fresh) this.stats.tradesPersisted++;
      this.stats.tradeEventsPublished++;
      this.log(`${this.iso()} SAVED trade ${trade.id} ${trade.symbol} net ${trade.netPnl.toFixed(2)}${fresh ? '' : ' (already stored)'}`);
    } catch (e) {
      this.stats.persistErrors++;
      this.out.err(`${this.iso()} ERROR persisting trade ${trade.id}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
  }

  private async heartbeat(detail?: string): Promise<void> {
    try {
      const open = [...this.trading].filter((s) => this.session.executor.position(s)).length;
      await this.store.putHeartbeat({ owner: this.owner, at: this.wall(), mode: this.config.mode, openPositions: open, ...(detail ? { detail } : {}) });
      this.stats.heartbeats++;
      this.lastHeartbeatAt = this.wall();
      this.metrics.heartbeat();
      await this.opsLog.beat();
      if (this.session && this.phase === 'running') {
        const halt = this.opsLog.halt(this.session.risk.haltState());
        if (halt) this.track(halt);
        // The in-flight writes are taken before the report starts, so it never waits on itself.
        const inflight = [...this.inflight];
        const report = this.opsLog.dayEnd(() => Promise.allSettled(inflight));
        if (report) this.track(report);
      }
      this.log(`${this.iso()} BEAT  ${this.owner} ${this.config.mode}, open ${open}, kill switch ${this.killState ?? '-'}${this.halted ? ', HALTED' : ''}${detail ? `, ${detail}` : ''}`);
    } catch (e) {
      this.out.err(`heartbeat failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * Renews every lease. A renewal refused because another actor holds the lease now: the symbol is
   * dropped, /health fails and a critical alert goes out (its open position stays in /status). A
   * renewal refused because the lease lapsed with nobody holding it (the process was frozen past
   * it): the symbol stops being fed and is taken again once checkSymbolAfterLapse finds the state
   * and the exchange as this process left them; tried again at every renewal until it is.
   */
  private async renewLeases(): Promise<void> {
    for (const s of [...this.trading]) {
      try {
        const lease = await this.store.renewLease(s, this.owner, this.config.leaseTtlMs, this.wall());
        this.leaseUntil.set(s, lease.expiresAt);
        this.stats.leaseRenewals++;
      } catch (e) {
        if (e instanceof LeaseHeldError) {
          this.trading.delete(s);
          this.leaseUntil.delete(s);
          if (e.holder !== undefined) this.leaseLostTo(s, e.holder);
          else {
            this.lapsed.add(s);
            this.refused.set(s, 'lease lapsed (holder none): checking the state and the exchange before taking it again');
            this.log(`${this.iso()} LEASE ${s} LAPSED (holder none; expired ${new Date(e.expiresAt).toISOString()}): not feeding it until it is re-taken`);
          }
        } else {
          this.out.err(`lease renewal of ${s} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
    for (const s of [...this.lapsed]) await this.retakeLease(s);
  }

  private leaseLostTo(s: SymbolId, holder: string): void {
    this.lapsed.delete(s);
    this.refused.set(s, `lease lost (holder ${holder})`);
    const p = this.session?.executor.position(s);
    const what = `the lease on ${s} is held by ${holder}: this process no longer manages ${s}${p ? ` nor its open position ${p.id}` : ''}`;
    this.leaseTrouble.set(s, what);
    this.log(`${this.iso()} LEASE ${s} LOST (holder ${holder}): no longer feeding it`);
    this.alert('critical', `lease-lost:${s}`, `Lease on ${s} lost to ${holder}`, `${what}. /health fails until a restart reconciles it.`);
  }

  private async retakeLease(s: SymbolId): Promise<void> {
    let expiresAt: number;
    try {
      expiresAt = (await this.store.acquireLease(s, this.owner, this.config.leaseTtlMs, this.wall())).expiresAt;
    } catch (e) {
      if (e instanceof LeaseHeldError) this.leaseLostTo(s, e.holder ?? 'another owner');
      else this.out.err(`re-taking the lease of ${s} failed: ${e instanceof Error ? e.message : String(e)}; trying again at the next renewal`);
      return;
    }
    const check = await checkSymbolAfterLapse(s, { store: this.store, venue: this.venue, executor: this.session.executor, portfolio: this.portfolio, mode: this.config.mode });
    this.lapsed.delete(s);
    if (!check.ok) {
      // Given back: the restart's reconciliation (or a person) decides, not this process.
      await this.store.releaseLease(s, this.owner).catch(() => false);
      const what = `the lease on ${s} lapsed and the check before taking it again found: ${check.problems.join('; ')}`;
      this.refused.set(s, 'lease lapsed; the state or the exchange changed meanwhile');
      this.leaseTrouble.set(s, what);
      this.log(`${this.iso()} LEASE ${s} NOT re-taken: ${check.problems.join('; ')}`);
      this.alert('critical', `lease-check:${s}`, `${s} left alone after a lease lapse`, `${what}. /health fails until a restart reconciles it.`);
      return;
    }
    this.leaseUntil.set(s, expiresAt);
    this.refused.delete(s);
    this.trading.add(s);
    this.log(`${this.iso()} LEASE ${s} re-taken by ${this.owner} after the check (state and exchange as left)`);
    // Under the emergency halt the flatten skipped this symbol while its lease was lapsed.
    if (this.halted) this.flattenAgain(`emergency stop: ${s} is ours again after its lease lapsed`);
    this.alert('warning', `lease-retaken:${s}`, `Lease on ${s} lapsed and was re-taken`, `The process stalled past its ${this.config.leaseTtlMs / 1000} s lease on ${s} (frozen host, VM pause or GC); nobody took it, the state and the exchange were as left, so trading resumed.`);
  }

  /** Runs SafeExchange's open-order sweep and says what it found that the stream had missed. */
  private sweepOpenOrders(why: string): void {
    this.track(
      this.safe.sweepOpen().then((r) => {
        if (r.delivered > 0) this.log(`${this.iso()} EXCH  open-order sweep (${why}): ${r.delivered} fill(s) the stream had missed, delivered (${r.reconciled} of ${r.checked} open order(s) reconciled)`);
        for (const f of r.failed) this.out.err(`open-order sweep (${why}): ${f}`);
      }),
    );
  }

  /** Alerts when the exchange-health halt starts or lifts. */
  checkExchangeHealth(): void {
    const c = this.exchangeHealth.update(this.wall());
    if (!c) return;
    if (c.kind === 'halted') {
      this.log(`${this.iso()} HALT  entries: ${c.reason}`);
      this.alert('critical', 'exchange-health', 'Exchange failing: new entries halted', `${c.reason}. Open positions keep their stops and exits.`);
    } else {
      this.log(`${this.iso()} HALT  entries resumed: the exchange works again`);
      this.alert('info', 'exchange-health', 'Exchange recovered: entries resumed', `Was: ${c.after}`);
    }
  }

  /** Publishes an alert (never throws: a failed alert is logged). */
  private alert(severity: AlertSeverity, key: string, title: string, detail: string): void {
    this.track(this.events.publish(makeAlert('runtime', key, this.wall(), severity, title, detail)).catch((e: unknown) => this.out.err(`alert not sent: ${e instanceof Error ? e.message : String(e)}`)));
  }

  private track<T>(p: Promise<T>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
  }

  /** One EMF line: the minute's heartbeats and orders, and the day's loss against its limit. */
  private flushMetrics(): void {
    try {
      this.metrics.dailyLossPct(this.session.risk.status(this.session.executor.account()).dailyLoss.usedPct);
    } catch {
      // The risk engine has no day yet: nothing to report.
    }
    this.updateGauges();
    this.metrics.flush(this.wall());
  }

  private statusInputs(): StatusInputs {
    const feed = { ...(this.handle?.stats() ?? { frames: 0, malformed: 0, duplicates: 0, reconnects: 0, connections: 0 }), lastEventAt: { ...this.lastSeen } };
    const required: Record<string, number> = {};
    for (const s of this.trading) required[`kline:${s}:1m`] = 5 * MINUTE_MS;
    return {
      mode: this.config.mode,
      venue: this.venue.name,
      killSwitch: this.halted ? 'EMERGENCY_STOP (halted)' : (this.killState ?? 'unknown'),
      startedAt: this.startedAt,
      now: this.wall(),
      // Every configured symbol: an open position stays listed even while its lease is lost.
      symbols: this.configured,
      session: this.session,
      problems: [...this.leaseTrouble.values()],
      equity: this.portfolio.equity(),
      feed,
      requiredStreams: required,
      startupGraceMs: 2 * MINUTE_MS,
      emergencyStop: this.halted,
      paused: this.paused,
      quoteAsset: this.portfolio.quoteAsset,
      market: (s) => {
        try {
          return this.venue.market(s);
        } catch {
          return undefined;
        }
      },
      lastPrice: (s) => this.portfolio.lastPrice(s),
      recentTrades: this.tradeLog.recent(),
      sessionTotals: this.tradeLog.totals(),
      ...(this.sessionStartEquity ? { sessionStartEquity: this.sessionStartEquity } : {}),
    };
  }

  /** The `/status` document. */
  status(): RuntimeStatus {
    return buildStatus(this.statusInputs());
  }

  /** One readable status line. */
  statusLine(): string {
    const st = this.handle?.stats();
    const c = this.session.counters;
    const open = [...this.trading].filter((s) => this.session.executor.position(s)).length;
    return (
      `status ${new Date(this.marketNow).toISOString().slice(0, 19)} equity ${this.portfolio.equity().toFixed(2)} ${this.portfolio.quoteAsset}, open ${open}, ` +
      `closed trades ${c.positionsClosed}, candles ${c.candlesClosed}, kill switch ${this.halted ? 'HALTED' : (this.killState ?? '-')}, ` +
      `frames ${st?.frames ?? 0}, reconnects ${st?.reconnects ?? 0}, heartbeats ${this.stats.heartbeats}`
    );
  }

  private iso(): string {
    return new Date(this.marketNow).toISOString().slice(0, 19).replace('T', ' ');
  }

  /**
   * Graceful shutdown: no new entries, timers stopped, in-flight work awaited, positions flattened
   * or left (per `onShutdown`), a final heartbeat, leases released, connections closed; bounded by
   * `shutdownTimeoutMs` (what the bound cut short is logged). Safe to call more than once.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const t0 = this.wall();
    const wasRunning = this.phase === 'running';
    this.phase = 'stopping';
    this.log(`${this.iso()} SHUTDOWN ${reason}: no new entries; shutting down (policy ${this.config.onShutdown}, bound ${this.config.shutdownTimeoutMs / 1000} s)`);
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    const steps: string[] = [];
    const bounded = async (name: string, ms: number, fn: () => Promise<unknown>): Promise<void> => {
      const left = this.config.shutdownTimeoutMs - (this.wall() - t0);
      const budget = Math.max(0, Math.min(ms, left));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), budget)));
      try {
        const r = await Promise.race([fn().then(() => 'ok' as const), timeout]);
        if (r === 'timeout') {
          steps.push(name);
          this.out.err(`${this.iso()} SHUTDOWN ${name} cut short after ${budget} ms (shutdown bound)`);
        }
      } catch (e) {
        this.out.err(`${this.iso()} SHUTDOWN ${name} failed: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        clearTimeout(timer);
      }
    };
    if (wasRunning) {
      await bounded('waiting for the signals', 3000, () => this.signals?.stop() ?? Promise.resolve());
      await bounded('waiting for the session', 5000, () => this.session.idle());
      await bounded('waiting for in-flight writes', 5000, () => Promise.allSettled([...this.inflight]));
      const open = [...this.trading].filter((s) => this.session.executor.position(s));
      if (this.config.onShutdown === 'flat' && !this.halted) {
        if (open.length > 0) await bounded('closing open positions', 10_000, () => this.emergencyFlatten('shutdown (flat)'));
      } else if (open.length > 0) {
        this.log(
          `${this.iso()} SHUTDOWN leaving ${open.length} open position(s) (${open.join(', ')}): MEXC spot has no stop orders, so the executor's stops do not protect them while the process is down`,
        );
      }
      await bounded('waiting for in-flight writes', 3000, () => Promise.allSettled([...this.inflight, this.journal.flush()]));
      await bounded('archiving candles', 3000, () => this.flushArchive(true));
      await bounded('the daily report being written', 5000, () => this.opsLog.idle());
      await bounded('final heartbeat', 2000, () => this.heartbeat(`stopped: ${reason}`));
      await bounded('releasing the leases', 2000, () => this.releaseLeases());
      // After the flattening above, so trades closed by the shutdown are in it.
      this.log(`${this.iso()} SHUTDOWN ${describeTotals(this.tradeLog.totals(), this.portfolio.quoteAsset, moneyDecimals(this.portfolio.quoteAsset))}`);
      if (this.sessionStartEquity) {
        const change = this.portfolio.equity().sub(this.sessionStartEquity);
        const dp = moneyDecimals(this.portfolio.quoteAsset);
        this.log(`${this.iso()} SHUTDOWN equity ${this.sessionStartEquity.toFixed(dp)} -> ${this.portfolio.equity().toFixed(dp)} ${this.portfolio.quoteAsset} (${change.isNegative() ? '' : '+'}${change.toFixed(dp)})`);
      }
    }
    await bounded('closing connections', 3000, () => this.close());
    this.phase = 'stopped';
    this.log(`${this.iso()} SHUTDOWN stopped in ${this.wall() - t0} ms${steps.length ? `; cut short: ${steps.join(', ')}` : ''}`);
    this.stoppedDeferred.resolve();
  }

  /** Gives back every lease this runtime holds. */
  private async releaseLeases(): Promise<void> {
    if (!this.store) return;
    for (const s of this.trading) if (await this.store.releaseLease(s, this.owner)) this.log(`${this.iso()} LEASE ${s} released`);
  }

  /** Closes every connection this runtime opened (idempotent). */
  private async close(): Promise<void> {
    this.modelWatcher?.stop();
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
    const s = this.statusServer;
    this.statusServer = undefined;
    await s?.close().catch(() => undefined);
    if (this.venue && this.venue !== this.publicData) await this.venue.close().catch(() => undefined);
    await this.publicData?.close().catch(() => undefined);
    // Closed only when the runtime made it (a reference given by the caller is the caller's).
    if (!this.deps.priceReference) await this.priceReference?.close().catch(() => undefined);
    const d = this.dynamo;
    this.dynamo = undefined;
    await d?.close().catch(() => undefined);
    this.dynamoClient?.destroy();
    this.dynamoClient = undefined;
    // Last: the data folder is free only once its database is closed.
    this.lock?.release();
    this.lock = undefined;
  }
}
