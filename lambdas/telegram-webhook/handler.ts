/**
 * Telegram webhook Lambda (behind a Function URL): the console's commands on AWS.
 *
 * Order of work on every request: the secret header, compared in constant time, before anything
 * else of the request is read; then the body (bounded, parsed); then the update is de-duplicated by
 * update_id in the idempotency table and handled within HANDLE_BUDGET_MS, so Telegram has its 200
 * well inside its timeout. Reads come from the state table (the hot path's status snapshot, trades,
 * daily stats); changes go to the kill-switch parameter (which also triggers the emergency-stop
 * Lambda) or the commands, retrain and backtests queues, never to the exchange (the backtest job
 * answers /backtest through the alerts queue); /optimize writes a run's job
 * to the artifact bucket and starts the research state machine, whose report step answers in the
 * chat through the alerts queue. Every command is logged to the state table.
 *
 * Environment: see lambdas/README.md. Secrets (bot token, webhook secret, TOTP secret, dashboard
 * link key) are read once per process from Secrets Manager and never logged.
 */
import { parseConfig } from '../../services/config/schema.js';
import { periodSoFarCaption } from '../../services/reporting/onDemand.js';
import type { APIGatewayProxyResultV2, Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { z } from 'zod';
import { createConsoleBot, handleWebhookRequest, type ConsoleBot } from '../../services/adapters/telegram/consoleBot.js';
import { DynamoOnceStore } from '../../services/adapters/dynamo/dynamoOnceStore.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { SqsEventPublisher } from '../../services/adapters/sqs/sqsEvents.js';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { sfnStarter } from '../../services/adapters/stepfunctions/sfnExecutions.js';
import { ConsoleService, type IgnoredUpdate } from '../../services/console/consoleService.js';
import { startCloudOptimize, type CloudOptimizeDeps } from '../../services/console/optimizeJob.js';
import { backtestQueuedText, CONSOLE_BACKTEST, type BacktestJobRequest } from '../../services/console/backtestJob.js';
import { backtestRequestEvent } from '../../services/events/types.js';
import srSpace from '../../spaces/sr.json' with { type: 'json' };
import type { ConsoleView, StatusView } from '../../services/console/ports.js';
import { deriveKey, signDashboardToken } from '../../services/console/signing.js';
import { base32Decode } from '../../services/console/totp.js';
import { KillSwitch, type KillSwitchSource } from '../../services/control/killSwitch.js';
import type { RuntimeStatus } from '../../services/live/status.js';
import { parseTelegramSecret } from '../../services/ops/secrets.js';
import type { StateStore } from '../../services/state/types.js';
import { commonEnv, listVar, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient, sqsClient, ssmClient } from '../shared/clients.js';
import { CachedSsmKillSwitchSource } from '../shared/killSwitchParam.js';
import { observability } from '../shared/powertools.js';
import { stateStore } from '../shared/wiring.js';

/** Time given to one update; Telegram waits longer, and the function's timeout is 15 s. */
export const HANDLE_BUDGET_MS = 8000;

const idList = listVar.refine((l) => l.every((s) => /^-?\d{1,20}$/.test(s)), 'expected comma-separated Telegram ids');

export const telegramWebhookEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table: status snapshot, trades, daily stats, command log'),
  IDEMPOTENCY_TABLE: required('DynamoDB table for update ids, taps and one-time codes'),
  KILL_SWITCH_PARAM: required('SSM parameter of the kill switch'),
  COMMANDS_QUEUE_URL: required('SQS queue of operator commands for the hot path'),
  RETRAIN_QUEUE_URL: required('SQS retrain queue'),
  TELEGRAM_SECRET_ID: required('Secrets Manager id of the bot token'),
  WEBHOOK_SECRET_ID: required('Secrets Manager id of the webhook secret token'),
  TOTP_SECRET_ID: required('Secrets Manager id of the base32 TOTP secret for /resume'),
  DASHBOARD_LINK_SECRET_ID: required('Secrets Manager id of the dashboard link key'),
  DASHBOARD_URL: z.url().optional(),
  TELEGRAM_CHAT_ID: required('the chat the bot answers in besides private chats'),
  TELEGRAM_OPERATORS: idList,
  TELEGRAM_VIEWERS: idList,
  TRADING_SYMBOLS: listVar,
  TELEGRAM_API_URL: z.url().optional(),
  STRATEGY_MODE: z.enum(['standard', 'hf']).optional(),
  RISK_PROFILE: z.enum(['conservative', 'moderate', 'aggressive']).optional(),
  /** With RESEARCH_STATE_MACHINE_ARN: /optimize starts the research runner over the bucket's candle archive. */
  ARTIFACT_BUCKET: z.string().min(1).optional(),
  RESEARCH_STATE_MACHINE_ARN: z.string().min(1).optional(),
  /** /backtest queues a backtest request here (the backtest Lambda answers through the alerts queue); unset: /backtest says no runner is wired. */
  BACKTESTS_QUEUE_URL: z.string().min(1).optional(),
};
export const parseTelegramWebhookEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(telegramWebhookEnv, env, 'telegram-webhook');
export type TelegramWebhookEnv = ReturnType<typeof parseTelegramWebhookEnv>;

const obs = observability('telegram-webhook');

export interface TelegramWebhookDeps {
  readonly bot: ConsoleBot;
  readonly webhookSecret: string;
}

/** The console's view on AWS: the hot path's snapshot, the state table, the parameter. */
export function snapshotView(store: StateStore, killSwitch: KillSwitch): ConsoleView {
  return {
    status: async (): Promise<StatusView | undefined> => {
      const snap = await store.getStatusSnapshot();
      const doc = snap?.data.status as RuntimeStatus | undefined;
      if (!snap || !doc || !Array.isArray(doc.positions)) return undefined;
      const rec = snap.data.lastReconcile as StatusView['lastReconcile'] | undefined;
      return { doc, at: snap.at, ...(rec && typeof rec.at === 'number' ? { lastReconcile: rec } : {}) };
    },
    killSwitch: () => killSwitch.current(),
    store,
  };
}

/**
 * An update from outside the allowlist: the TelegramIgnored metric (EMF, published with the
 * request's other metrics) and a log line with the sender, so the count outlives the Lambda.
 */
export function recordIgnored(o: Pick<ReturnType<typeof observability>, 'metrics' | 'logger'>, e: IgnoredUpdate): void {
  o.metrics.addMetric('TelegramIgnored', 'Count', 1);
  o.logger.warn('telegram update ignored: not on the allowlist', { userId: e.userId, chatId: e.chatId, kind: e.kind });
}

/** Builds the bot and its service from the environment's clients and secrets. */
export async function buildWebhookDeps(
  env: TelegramWebhookEnv,
  clients: {
    store: StateStore;
    once: DynamoOnceStore;
    killSwitch: KillSwitchSource;
    publisher: SqsEventPublisher;
    secret: (id: string) => Promise<string>;
    /** The artifact bucket and the research state machine (when both are configured). */
    optimize?: Pick<CloudOptimizeDeps, 'store' | 'startExecution'>;
  },
): Promise<TelegramWebhookDeps> {
  const [token, webhookSecret, totp, linkSecret] = await Promise.all([
    clients.secret(env.TELEGRAM_SECRET_ID).then((t) => parseTelegramSecret(env.TELEGRAM_SECRET_ID, t)),
    clients.secret(env.WEBHOOK_SECRET_ID),
    clients.secret(env.TOTP_SECRET_ID),
    clients.secret(env.DASHBOARD_LINK_SECRET_ID),
  ]);
  const now = (): number => Date.now();
  const killSwitch = new KillSwitch(clients.killSwitch, { now, minReadIntervalMs: 0 });
  const chatId = Number(env.TELEGRAM_CHAT_ID);
  const linkKey = deriveKey(linkSecret, 'dashboard-link');
  // The risk limits /report measures against: the stage's profile, as the report Lambda reads it.
  const reportConfig = parseConfig({ ...(env.STRATEGY_MODE ? { mode: env.STRATEGY_MODE } : {}), ...(env.RISK_PROFILE ? { risk: { profile: env.RISK_PROFILE } } : {}) });
  // The service's notices go out through the bot built after it.
  const holder: { bot?: ConsoleBot } = {};
  const service = new ConsoleService({
    access: { operators: env.TELEGRAM_OPERATORS.map(Number), viewers: env.TELEGRAM_VIEWERS.map(Number), chatId },
    view: snapshotView(clients.store, killSwitch),
    control: {
      setKillSwitch: (state, reason) => killSwitch.set(state, reason),
      sendCommand: (c) => clients.publisher.publish(c),
      requestRetrain: (r) => clients.publisher.publish(r),
      ...(env.BACKTESTS_QUEUE_URL
        ? {
            runBacktest: async (job: BacktestJobRequest) => {
              await clients.publisher.publish(backtestRequestEvent(job));
              return backtestQueuedText(job.jobId, job.days ?? CONSOLE_BACKTEST.days, 'run by the backtest job on AWS with this stage\'s strategy mode and risk profile');
            },
          }
        : {}),
      ...(clients.optimize ? { startOptimize: (jobId: string) => startCloudOptimize({ ...clients.optimize!, space: srSpace, symbols: env.TRADING_SYMBOLS }, jobId) } : {}),
      logCommand: async (e) => void (await clients.store.putCommandLogOnce(e)),
      periodReport: (period, at) => periodSoFarCaption(clients.store, reportConfig, period, at),
      ...(env.DASHBOARD_URL ? { dashboardLink: (userId: number) => `${env.DASHBOARD_URL!.replace(/\/$/, '')}/?t=${signDashboardToken(linkKey, userId, now())}` } : {}),
    },
    once: clients.once,
    // The confirmation key comes from the webhook secret: only this function and Telegram hold it.
    confirmKey: deriveKey(webhookSecret, 'confirm'),
    totpKey: base32Decode(totp),
    now,
    notify: (html) => holder.bot?.send(chatId, html) ?? Promise.resolve(),
    symbols: env.TRADING_SYMBOLS,
    onIgnored: (e) => recordIgnored(obs, e),
  });
  const bot = createConsoleBot({
    token,
    ...(env.TELEGRAM_API_URL ? { apiRoot: env.TELEGRAM_API_URL } : {}),
    service,
    once: clients.once,
    onProblem: (what, e) => obs.logger.error('telegram call failed', { what, error: e instanceof Error ? e.name : String(e) }),
  });
  holder.bot = bot;
  return { bot, webhookSecret };
}

/** The handler over its dependencies (tests pass their own). */
export function createTelegramWebhookHandler(getDeps: () => Promise<TelegramWebhookDeps>) {
  return async (event: LambdaFunctionURLEvent, _context?: Context): Promise<APIGatewayProxyResultV2> => {
    const deps = await getDeps();
    const r = await handleWebhookRequest(deps.bot, { headers: event.headers ?? {}, body: event.body, isBase64Encoded: event.isBase64Encoded }, deps.webhookSecret, HANDLE_BUDGET_MS, (what, e) =>
      obs.logger.error('update not handled', { what, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }),
    );
    if (r.statusCode === 401) obs.metrics.addMetric('TelegramUnauthorized', 'Count', 1);
    obs.metrics.publishStoredMetrics();
    return { statusCode: r.statusCode, headers: { 'content-type': 'text/plain' }, body: r.body };
  };
}

let defaults: Promise<TelegramWebhookDeps> | undefined;

function defaultDeps(): Promise<TelegramWebhookDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      const env = parseTelegramWebhookEnv(process.env);
      const secrets = new SecretsManagerSecretSource(secretsClient());
      return buildWebhookDeps(env, {
        store: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger),
        once: new DynamoOnceStore(dynamoClient(), env.IDEMPOTENCY_TABLE, () => Date.now()),
        killSwitch: new CachedSsmKillSwitchSource(ssmClient(), env.KILL_SWITCH_PARAM, { fresh: true }),
        publisher: new SqsEventPublisher({ client: sqsClient(), queueUrls: { commands: env.COMMANDS_QUEUE_URL, retrain: env.RETRAIN_QUEUE_URL, ...(env.BACKTESTS_QUEUE_URL ? { backtests: env.BACKTESTS_QUEUE_URL } : {}) } }),
        secret: (id) => secrets.getSecret(id),
        ...(env.ARTIFACT_BUCKET && env.RESEARCH_STATE_MACHINE_ARN ? { optimize: { store: new S3ObjectStore(new S3Client({}), env.ARTIFACT_BUCKET), startExecution: sfnStarter(new SFNClient({}), env.RESEARCH_STATE_MACHINE_ARN) } } : {}),
      });
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createTelegramWebhookHandler(defaultDeps);
