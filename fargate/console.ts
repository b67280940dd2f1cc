/**
 * The operator console around a running runtime:
 *
 * - the dashboard routes of the status server (`localDashboard`): the page, its script and chart
 *   library, the data document and its stream, and the pause/resume buttons (the kill switch);
 * - the status snapshot (`startSnapshots`): the dashboard document written to the state table every
 *   `everySec`, for the Lambdas (Telegram webhook, dashboard) that cannot reach the task;
 * - Telegram by long polling (`startLocalTelegram`) when TELEGRAM_BOT_TOKEN is set: the same
 *   commands as the webhook Lambda, over the runtime's own kill switch, queues and state.
 */
import { periodSoFarCaption } from '../services/reporting/onDemand.js';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { redactSecrets } from '../services/adapters/mexc/restClient.js';
import { createConsoleBot, startPolling } from '../services/adapters/telegram/consoleBot.js';
import { buildDashboardData, type DashboardData } from '../services/console/dashboardData.js';
import { APP_PATH, CHARTS_FILE, CHARTS_PATH, DASHBOARD_APP_JS, dashboardHtml } from '../services/console/dashboardPage.js';
import { esc } from '../services/console/format.js';
import { ConsoleService, type AccessConfig } from '../services/console/consoleService.js';
import { MemoryOnceStore, type ConsoleControl, type ConsoleView, type Notify, type StatusView } from '../services/console/ports.js';
import { backtestDataText, backtestDoneText, backtestFailedText, backtestQueuedText, backtestTooShortText, CONSOLE_BACKTEST, type BacktestAnswerSummary } from '../services/console/backtestJob.js';
import { CONSOLE_OPTIMIZE, optimizeDoneText, optimizeRanText, pickArchiveDays } from '../services/console/optimizeJob.js';
import type { OptimizeReport } from '../services/research/analysis.js';
import { deriveKey } from '../services/console/signing.js';
import { base32Decode } from '../services/console/totp.js';
import { ConfigError } from '../services/core/errors.js';
import { DAY_MS } from '../services/core/timeframes.js';
import { moneyDecimals } from '../services/live/display.js';
import { utcDayOf, type DailyStatsRecord, type PublicationRecord } from '../services/state/types.js';
import type { DashboardRoutes } from './statusServer.js';
import type { Runtime, RuntimeOutput } from './runtime.js';

/** Daily stats are read at most this often for the page (the store is the hot path's too). */
const DAYS_CACHE_MS = 10_000;
/** Candles per symbol in the stored snapshot (its size is paid on every write). */
const SNAPSHOT_CANDLES = 60;
/** Equity points in the stored snapshot. */
const SNAPSHOT_EQUITY_POINTS = 240;

let chartsJs: string | undefined;
/** lightweight-charts' standalone build, read once from node_modules. */
export function chartsLibrary(): string {
  chartsJs ??= readFileSync(join(dirname(createRequire(import.meta.url).resolve('lightweight-charts/package.json')), CHARTS_FILE), 'utf8');
  return chartsJs;
}

/** The dashboard document of a running runtime (undefined while it starts). */
export class DashboardSource {
  private days: { at: number; list: DailyStatsRecord[]; published: PublicationRecord[] } | undefined;

  constructor(
    private readonly rt: Runtime,
    private readonly wall: () => number,
  ) {}

  async data(opts: { controls: boolean; candles?: number; equityPoints?: number }): Promise<DashboardData | undefined> {
    const rt = this.rt;
    let status;
    try {
      status = rt.status();
    } catch {
      return undefined; // the session does not exist yet
    }
    const now = this.wall();
    if (!this.days || now - this.days.at > DAYS_CACHE_MS) {
      const market = status.risk.asOf ?? now;
      try {
        this.days = { at: now, list: (await rt.store.listDailyStats(utcDayOf(market - 8 * DAY_MS), utcDayOf(market), 16)).map((v) => v.value), published: await rt.store.listPublications() };
      } catch {
        this.days = { at: now, list: this.days?.list ?? [], published: this.days?.published ?? [] };
      }
    }
    return buildDashboardData({
      now,
      status,
      charts: rt.chart.charts([...rt.trading], opts.candles),
      equity: rt.chart.equityCurve(opts.equityPoints),
      days: this.days.list,
      quoteDp: moneyDecimals(status.quoteAsset),
      controls: opts.controls,
      publications: this.days.published,
    });
  }
}

/** The status server's dashboard routes for a local runtime. */
export function localDashboard(rt: Runtime, wall: () => number = Date.now): DashboardRoutes {
  const source = new DashboardSource(rt, wall);
  const page = dashboardHtml({ mode: 'local' });
  return {
    page: () => page,
    asset: (path) => (path === APP_PATH ? { type: 'text/javascript; charset=utf-8', body: DASHBOARD_APP_JS } : path === CHARTS_PATH ? { type: 'text/javascript; charset=utf-8', body: chartsLibrary() } : undefined),
    data: () => source.data({ controls: true }),
    pushEveryMs: 2000,
    setKillSwitch: async (state) => {
      await rt.killSwitch.set(state, 'dashboard (127.0.0.1)');
      return `kill switch set to ${state}`;
    },
  };
}

/**
 * Writes the dashboard document to the state table every `everySec` (the Lambdas' view of the
 * task). A failed write is reported and retried at the next tick; nothing is queued.
 */
export function startSnapshots(rt: Runtime, everySec: number, out: RuntimeOutput, wall: () => number = Date.now): { stop: () => void } {
  const source = new DashboardSource(rt, wall);
  let busy = false;
  const tick = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    try {
      const data = await source.data({ controls: false, candles: SNAPSHOT_CANDLES, equityPoints: SNAPSHOT_EQUITY_POINTS });
      if (!data) return;
      const recovery = rt.recovery ? { lastReconcile: { at: rt.startedAt, summary: `at start: ${rt.recovery.problems.length} problem(s)` } } : {};
      await rt.store.putStatusSnapshot({ owner: rt.owner, at: wall(), data: JSON.parse(JSON.stringify({ ...data, ...recovery })) as Record<string, unknown> });
    } catch (e) {
      out.err(`status snapshot not written: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    } finally {
      busy = false;
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), everySec * 1000);
  return { stop: () => clearInterval(timer) };
}

/** The Telegram settings from the environment (local mode); undefined without a token. */
export interface LocalTelegramEnv {
  readonly token: string;
  readonly access: AccessConfig;
  readonly totpSecret?: string;
  readonly apiRoot?: string;
}

function ids(raw: string | undefined, name: string): number[] {
  return (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      if (!/^-?\d{1,20}$/.test(s)) throw new ConfigError(`environment: ${name} must be comma-separated Telegram ids, got "${s}"`);
      return Number(s);
    });
}

/** Reads TELEGRAM_BOT_TOKEN, TELEGRAM_OPERATORS, TELEGRAM_VIEWERS, TELEGRAM_CHAT_ID, TELEGRAM_TOTP_SECRET, TELEGRAM_API_URL. */
export function localTelegramEnv(env: NodeJS.ProcessEnv): LocalTelegramEnv | undefined {
  const token = env.TELEGRAM_BOT_TOKEN || undefined;
  if (!token) return undefined;
  const chat = ids(env.TELEGRAM_CHAT_ID, 'TELEGRAM_CHAT_ID')[0];
  const access: AccessConfig = { operators: ids(env.TELEGRAM_OPERATORS, 'TELEGRAM_OPERATORS'), viewers: ids(env.TELEGRAM_VIEWERS, 'TELEGRAM_VIEWERS'), ...(chat !== undefined ? { chatId: chat } : {}) };
  if (access.operators.length + access.viewers.length === 0) throw new ConfigError('environment: TELEGRAM_BOT_TOKEN is set but TELEGRAM_OPERATORS and TELEGRAM_VIEWERS are empty: nobody could use the bot');
  return { token, access, ...(env.TELEGRAM_TOTP_SECRET ? { totpSecret: env.TELEGRAM_TOTP_SECRET } : {}), ...(env.TELEGRAM_API_URL ? { apiRoot: env.TELEGRAM_API_URL } : {}) };
}

/** The console's view of a local runtime. */
export function localView(rt: Runtime, wall: () => number): ConsoleView {
  return {
    status: (): Promise<StatusView | undefined> => {
      try {
        return Promise.resolve({ doc: rt.status(), at: wall(), ...(rt.recovery ? { lastReconcile: { at: rt.startedAt, summary: `at start, ${rt.recovery.problems.length} problem(s)` } } : {}) });
      } catch {
        return Promise.resolve(undefined);
      }
    },
    killSwitch: () => rt.killSwitch.current(),
    store: rt.store,
  };
}

/** Options of the local /backtest runner: what the runtime trades, with which mode and profile. */
export interface LocalBacktestOptions {
  /** The traded symbols (all archived symbols when empty). */
  readonly symbols?: readonly string[];
  readonly mode?: string;
  readonly profile?: string;
  /** Longest run before the child is killed (default 10 minutes). */
  readonly timeoutMs?: number;
}

/**
 * The local backtest job: `npm run backtest` over the runtime's candle archive (the traded
 * symbols' last days, services/console/backtestJob.ts), in a child process (the hot path's event
 * loop is not slowed), one at a time, bounded to 10 minutes. It answers with the same texts as
 * the backtest Lambda on AWS.
 */
export function localBacktestRunner(dataDir: string, opts: LocalBacktestOptions = {}): NonNullable<ConsoleControl['runBacktest']> {
  let running: string | undefined;
  return (job, notify: Notify) => {
    const { jobId } = job;
    if (running) return Promise.resolve(esc(`A backtest is running already (job ${running}); one at a time.`));
    const candles = join(dataDir, 'artifacts', 'candles');
    if (!existsSync(candles)) return Promise.resolve(esc(`No candle archive under ${candles} yet: the runtime writes it as candles close. Nothing was queued.`));
    const symbols = opts.symbols ?? [];
    const pick = pickArchiveDays(filesUnder(candles), symbols, job.days ?? CONSOLE_BACKTEST.days);
    if (pick.days < CONSOLE_BACKTEST.minDays) return Promise.resolve(backtestTooShortText(jobId, pick, symbols));
    const ran = backtestDataText(pick);
    const out = join(dataDir, 'jobs', jobId);
    running = jobId;
    const args = ['--import', 'tsx', 'bin/backtest.ts', ...pick.keys.flatMap((k) => ['--data', k]), '--out', out, '--quiet', ...(opts.mode ? ['--mode', opts.mode] : []), ...(opts.profile ? ['--profile', opts.profile] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 10 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running = undefined;
      let text: string;
      try {
        const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as BacktestAnswerSummary;
        text = backtestDoneText(jobId, s, ran, join(out, 'report.html'));
      } catch {
        text = backtestFailedText(jobId, `exit ${code ?? 'killed'}: ${err.trim().split('\n').pop() ?? ''}`);
      }
      void notify(text);
    });
    return Promise.resolve(backtestQueuedText(jobId, pick.days, `${ran}, in a child process`));
  };
}

/** Options of the local /optimize runner (tests give a small data set and short folds). */
export interface LocalOptimizeOptions {
  /** The fallback data when the archive is too short (default data/sample). */
  readonly sampleDir?: string;
  /** Flags added after the defaults (a later flag wins); said in the answer. */
  readonly extraArgs?: readonly string[];
  /** Longest run before the child is killed (default 30 minutes). */
  readonly timeoutMs?: number;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f));
}

/**
 * The local /optimize job: `npm run optimize` with the console's defaults (services/console/
 * optimizeJob.ts) over the runtime's candle archive (its last 30 days) or, when the archive has
 * fewer days than the folds need, the bundled sample; in a child process, one at a time. The
 * answer says what ran and comes with the verdict and the report's path.
 */
export function localOptimizeRunner(dataDir: string, opts: LocalOptimizeOptions = {}): NonNullable<ConsoleControl['startOptimize']> {
  let running: string | undefined;
  return (jobId: string, notify: Notify) => {
    if (running) return Promise.resolve(`An optimisation is running already (job ${running}); one at a time.`);
    const archive = pickArchiveDays(filesUnder(join(dataDir, 'artifacts', 'candles')), []);
    const sample = opts.sampleDir ?? CONSOLE_OPTIMIZE.sampleDir;
    const useArchive = archive.days >= CONSOLE_OPTIMIZE.minDays;
    const data = useArchive ? [...archive.keys] : [sample];
    const what = useArchive
      ? `the candle archive's last ${archive.days} days (${archive.first} to ${archive.last}, ${archive.symbols.join(', ')})`
      : `the bundled sample ${sample} (the candle archive has ${archive.days} day(s), fewer than the ${CONSOLE_OPTIMIZE.minDays} the folds need)`;
    const ran = optimizeRanText(what) + (opts.extraArgs?.length ? `; with ${opts.extraArgs.join(' ')}` : '');
    const out = join(dataDir, 'jobs', jobId);
    running = jobId;
    const args = ['--import', 'tsx', 'bin/optimize.ts', ...data.flatMap((d) => ['--data', d]), '--space', CONSOLE_OPTIMIZE.spaceFile, '--objective', CONSOLE_OPTIMIZE.objective, '--trials', String(CONSOLE_OPTIMIZE.trials), '--out', out, '--quiet', ...(opts.extraArgs ?? [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30 * 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      running = undefined;
      let text: string;
      try {
        const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as OptimizeReport;
        text = optimizeDoneText(jobId, report, ran, join(out, 'report.html'));
      } catch {
        text = esc(`Job ${jobId} failed (exit ${code ?? 'killed'}): ${err.trim().split('\n').pop() ?? 'no output'}`);
      }
      void notify(text);
    });
    return Promise.resolve(esc(`Optimisation queued as job ${jobId}: ${ran}. The answer comes here when it is done (minutes).`));
  };
}

/** Starts the bot by long polling in the background (see startPolling): returns at once. */
export function startLocalTelegram(rt: Runtime, tg: LocalTelegramEnv, out: RuntimeOutput, wall: () => number = Date.now): { ready: Promise<boolean>; stop: () => Promise<void> } {
  const chatId = tg.access.chatId ?? tg.access.operators[0] ?? tg.access.viewers[0]!;
  // Locally there is no webhook secret: the confirmation key is derived from the bot token, which
  // only this process and Telegram know.
  const confirmKey = deriveKey(tg.token, 'confirm');
  let send: (chat: number, html: string) => Promise<void> = () => Promise.resolve();
  const notify: Notify = (html) => send(chatId, html).catch((e: unknown) => out.err(`telegram: a notice was not sent (${e instanceof Error ? e.name : String(e)})`));
  const service = new ConsoleService({
    access: tg.access,
    view: localView(rt, wall),
    control: {
      setKillSwitch: (state, reason) => rt.killSwitch.set(state, reason),
      sendCommand: (c) => rt.events.publish(c),
      runBacktest: localBacktestRunner(rt.config.dataDir, { symbols: [...rt.trading], mode: rt.strategy.mode, profile: rt.strategy.risk.profile }),
      startOptimize: localOptimizeRunner(rt.config.dataDir),
      logCommand: async (e) => void (await rt.store.putCommandLogOnce(e)),
      periodReport: (period, now) => periodSoFarCaption(rt.store, rt.strategy, period, now),
    },
    once: new MemoryOnceStore(wall),
    confirmKey,
    ...(tg.totpSecret ? { totpKey: base32Decode(tg.totpSecret) } : {}),
    now: wall,
    notify,
    symbols: [...rt.trading],
    onIgnored: (e) => void rt.opsLog.consoleIgnored(e),
  });
  const bot = createConsoleBot({ token: tg.token, ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}), service, once: new MemoryOnceStore(wall), onProblem: (w, e) => out.err(`telegram: ${w}: ${e instanceof Error ? e.name : String(e)}`) });
  send = (chat, html) => bot.send(chat, html);
  const polling = startPolling(bot, (w, e) => out.err(`telegram: ${w}: ${e instanceof Error ? `${e.name}: ${redactSecrets(e.message, [tg.token])}` : String(e)}`));
  const onNotice = (line: string): void => void notify(esc(line));
  rt.notices.add(onNotice);
  void polling.ready.then((on) => {
    if (on) out.log(`telegram: the console bot is polling (operators ${tg.access.operators.join(', ') || '-'}, viewers ${tg.access.viewers.join(', ') || '-'}${tg.totpSecret ? '' : '; /resume disabled: no TELEGRAM_TOTP_SECRET'})`);
  });
  return {
    ready: polling.ready,
    stop: async () => {
      rt.notices.delete(onNotice);
      await polling.stop();
    },
  };
}
