/**
 * External signals, the exchange endpoints and `/metrics` in the runtime: everything the runtime
 * needs is built here, so fargate/runtime.ts only calls `wireSignals` and registers its routes.
 *
 * - The router (services/signals/router.ts) on the session's kernel, the intake in front of it
 *   (which reads the kill switch again before each decision), the audit log with its sinks (a
 *   JSON-lines file per UTC day under `<dataDir>/audit`, stdout, which is the log group on AWS,
 *   and the state table's `audit` records);
 * - routes on the status server: `POST /signals` (the shared secret), the `/exchange/*`
 *   endpoints (loopback callers, or others with the operator token), `GET /metrics`;
 * - the signals queue (SIGNALS_QUEUE_URL on AWS), polled every second while running.
 */
import { join } from 'node:path';
import type { Config } from '../services/config/schema.js';
import type { KillSwitchState } from '../services/control/killSwitch.js';
import { isLoopbackAddress } from '../services/core/net.js';
import type { SymbolId } from '../services/core/types.js';
import { FileAuditSink } from '../services/adapters/file/auditFile.js';
import { ExchangeEndpoints } from '../services/live/exchangeEndpoints.js';
import type { TradingKernel } from '../services/kernel/kernel.js';
import type { LiveMlFilter } from '../services/ml/liveFilter.js';
import { effectiveConfidence } from '../services/ml/types.js';
import { AuditLog, auditLine, type AuditSink } from '../services/signals/audit.js';
import { pollSignalInbox, type SignalInbox } from '../services/signals/inbox.js';
import { SignalIntake } from '../services/signals/intake.js';
import { SIGNAL_PROFILES } from '../services/signals/policy.js';
import { SignalRouter } from '../services/signals/router.js';
import { handleSignalWebhook, header, secretMatches } from '../services/signals/webhook.js';
import type { StateStore } from '../services/state/types.js';
import type { VenueClient, VenueOrder, VenueOrderRequest } from '../services/venue/types.js';
import type { RuntimeMetrics } from './metrics.js';
import type { PrometheusMetrics } from './promMetrics.js';
import type { HttpRoute, RouteAnswer, RouteRequest } from './statusServer.js';

export interface SignalWiringOptions {
  readonly strategy: Config;
  readonly mode: 'paper' | 'live';
  readonly dataDir: string;
  readonly kernel: TradingKernel;
  readonly venue: VenueClient;
  readonly store: StateStore;
  /** The symbols this runtime trades now (its leases). */
  readonly trading: ReadonlySet<SymbolId>;
  /** The kill switch as last read, and a fresh read (awaited before each signal). */
  readonly killState: () => KillSwitchState | undefined;
  readonly refreshKillSwitch: () => Promise<void>;
  readonly ml: LiveMlFilter | undefined;
  readonly metrics: RuntimeMetrics;
  readonly prom: PrometheusMetrics;
  /** Sets the gauges before a scrape. */
  readonly updateGauges: () => void;
  readonly marketNow: () => number;
  readonly wall: () => number;
  readonly log: (line: string) => void;
  readonly err: (line: string) => void;
  /** The webhook's shared secret (never logged). */
  readonly secret?: string;
  /** Lets callers other than loopback use the exchange endpoints (with `Authorization: Bearer <token>`). */
  readonly operatorToken?: string;
  /** The signals queue (SQS on AWS). */
  readonly inbox?: SignalInbox;
  /** Sends a real test order (live mode only). */
  readonly placeOrder?: (req: VenueOrderRequest) => Promise<VenueOrder>;
}

export interface SignalWiring {
  readonly router: SignalRouter;
  readonly intake: SignalIntake;
  readonly audit: AuditLog;
  readonly endpoints: ExchangeEndpoints;
  readonly routes: readonly HttpRoute[];
  /** Webhook requests refused for their secret (counted; nothing of them is logged). */
  readonly stats: { unauthorized: number };
  /** Starts polling the queue (once running). */
  start(): void;
  /** Stops the poller and waits for the audit writes. */
  stop(): Promise<void>;
}

/** The routes wireSignals registers, by method and path (the status server starts before them). */
const ROUTES: readonly Pick<HttpRoute, 'method' | 'path'>[] = [
  { method: 'POST', path: '/signals' },
  { method: 'GET', path: '/exchange/' },
  { method: 'POST', path: '/exchange/' },
  { method: 'GET', path: '/metrics' },
];

/**
 * The signal routes for a status server started before the session exists: each delegates to the
 * wired route once `current()` has it, and answers 503 `starting` until then.
 */
export function deferredSignalRoutes(current: () => readonly HttpRoute[] | undefined): HttpRoute[] {
  return ROUTES.map((r) => ({
    ...r,
    handle: (req: RouteRequest) => {
      const route = current()?.find((x) => x.method === r.method && x.path === r.path);
      return route ? route.handle(req) : { status: 503, body: { ok: false, error: 'starting: the runtime is not trading yet' } };
    },
  }));
}

/** Builds the router, the intake, the audit log, the exchange endpoints and their routes (see the file comment). */
export function wireSignals(o: SignalWiringOptions): SignalWiring {
  const sinks: AuditSink[] = [
    new FileAuditSink(join(o.dataDir, 'audit')),
    { name: 'stdout', write: (e) => o.log(auditLine(e)) },
    { name: 'state', write: async (e) => void (await o.store.putAuditOnce(e)) },
  ];
  const audit = new AuditLog(sinks, (line) => o.err(line));
  const ml = o.ml;
  const router = new SignalRouter({
    config: o.strategy,
    kernel: o.kernel,
    audit,
    listed: (s) => {
      try {
        o.venue.market(s);
        return true;
      } catch {
        return false;
      }
    },
    traded: (s) => o.trading.has(s),
    killSwitch: o.killState,
    ...(ml
      ? {
          mlScore: (s: SymbolId) => {
            const l = ml.latest(s);
            return l ? { confidence: effectiveConfidence(l.prediction, 'long'), time: l.time, version: l.version } : null;
          },
        }
      : {}),
    onResult: (r, _channel, source) => o.metrics.signal(source, r.status === 'refused' ? (r.reason ?? 'refused') : r.status),
    log: o.log,
  });
  const intake = new SignalIntake({ router, now: o.marketNow, beforeRoute: o.refreshKillSwitch, log: o.err });
  const stats = { unauthorized: 0 };
  const endpoints = new ExchangeEndpoints({
    venue: o.venue,
    signals: o.strategy.signals,
    profile: SIGNAL_PROFILES[o.strategy.signals.profile ?? o.strategy.risk.profile],
    liveTrading: o.mode === 'live',
    traded: (s) => o.trading.has(s),
    ...(o.placeOrder ? { placeOrder: o.placeOrder } : {}),
    now: o.wall,
  });
  const exchangeRoute = async (req: RouteRequest): Promise<RouteAnswer> => {
    // Loopback callers, or others presenting the operator token: the endpoints show balances and can place an order.
    if (!isLoopbackAddress(req.remoteAddress)) {
      const auth = header(req.headers, 'authorization');
      const token = auth ? /^Bearer\s+(\S+)$/i.exec(auth.trim())?.[1] : undefined;
      if (!secretMatches(o.operatorToken, token)) return { status: 403, body: { ok: false, error: 'the exchange endpoints answer loopback callers, or others with the operator token' } };
    }
    return endpoints.handle(req.method, req.path, req.query);
  };
  const routes: HttpRoute[] = [
    {
      method: 'POST',
      path: '/signals',
      handle: (req) =>
        handleSignalWebhook(
          { headers: req.headers, body: req.body },
          {
            secret: o.secret,
            submit: (s) => intake.submit(s, 'webhook'),
            onUnauthorized: (why) => {
              stats.unauthorized++;
              o.metrics.signal('webhook', 'UNAUTHORIZED');
              o.err(`signals: webhook request from ${req.remoteAddress ?? '?'} refused: ${why}`);
            },
          },
        ),
    },
    { method: 'GET', path: '/exchange/', handle: exchangeRoute },
    { method: 'POST', path: '/exchange/', handle: exchangeRoute },
    {
      method: 'GET',
      path: '/metrics',
      handle: async () => {
        o.updateGauges();
        return { status: 200, body: await o.prom.text(), contentType: o.prom.contentType };
      },
    },
  ];
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<unknown> | undefined;
  let stopped = false;
  // After stop, a long poll that still returns leaves its messages on the queue (not decided, not
  // acked): nothing is traded while the runtime shuts down, and the next task decides them.
  const queueIntake = {
    submit: (body: unknown, channel: 'queue') =>
      stopped ? Promise.resolve({ ok: false, status: 'refused' as const, traceId: '-', reason: 'OVERLOADED', error: 'OVERLOADED: shutting down' }) : intake.submit(body, channel),
  };
  return {
    router,
    intake,
    audit,
    endpoints,
    routes,
    stats,
    start() {
      const inbox = o.inbox;
      if (!inbox || timer) return;
      timer = setInterval(() => {
        if (polling) return; // one poll at a time
        polling = pollSignalInbox(inbox, queueIntake, o.err).finally(() => (polling = undefined));
      }, 1000);
      timer.unref();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await intake.idle();
      await audit.flush();
    },
  };
}
