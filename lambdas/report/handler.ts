/**
 * Report Lambda: the scheduled period reports and the yearly tax file.
 *
 * Events (EventBridge schedules pass a constant input; an operator can invoke the same by hand):
 * - `{"job":"report","period":"daily"|"weekly"|"monthly","date"?:"yyyy-mm-dd"}`: the period
 *   containing `date`, default the last complete one; built from the state table, archived under
 *   `reports/<period>/<first day>.html|.csv|.png|.json`, sent to Telegram (photo + page) and to the
 *   report topic (e-mail with a presigned link). A failed channel does not stop the others.
 * - `{"job":"tax","year"?:2025}`: the FIFO ledger of the year (default: the year before now) under
 *   `tax/<year>/`. It fetches no fills from the exchange: its exchange check relies on the reconcile
 *   job having copied the exchange's fills into the state, and ledger.json says so (exchangeCheck).
 * Anything else is answered with a refusal, never thrown (EventBridge would retry a throw).
 *
 * Environment: STAGE, STATE_TABLE, ARTIFACT_BUCKET, STRATEGY_MODE, RISK_PROFILE, REPORT_TOPIC_ARN
 * (optional), TELEGRAM_SECRET_ID and TELEGRAM_CHAT_ID (optional, both or neither), TELEGRAM_API_URL
 * (tests), REPORT_FONT_FILE (default: the font beside the bundle), LINK_HOURS (12).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { S3PresignedLinks } from '../../services/adapters/s3/presignedLinks.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { SnsReportEmail } from '../../services/adapters/sns/snsReportEmail.js';
import { TelegramReportChannel } from '../../services/adapters/telegram/telegramReportChannel.js';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { CandleArchive, type ObjectStore } from '../../services/ml/archive.js';
import { parseTelegramSecret } from '../../services/ops/secrets.js';
import { REPORT_FONT_FAMILY } from '../../services/reporting/charts.js';
import type { DeliveryChannels } from '../../services/reporting/delivery.js';
import { REPORT_PERIODS, reportWindow } from '../../services/reporting/period.js';
import type { PngRenderer } from '../../services/reporting/render.js';
import { runPeriodReport } from '../../services/reporting/run.js';
import type { StateStore } from '../../services/state/types.js';
import { ArchivePriceSource, runTaxYear } from '../../services/tax/run.js';
import { dynamoClient, secretsClient, snsClient } from '../shared/clients.js';
import { commonEnv, intVar, parseEnv, required } from '../shared/env.js';
import { observability } from '../shared/powertools.js';
import { stateStore } from '../shared/wiring.js';

/** Where the bundle's afterBundling step puts the font (lib/reporting.ts). */
export const LAMBDA_FONT_FILE = '/var/task/Cantarell-Regular.otf';

export const reportEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table'),
  ARTIFACT_BUCKET: required('S3 bucket the reports are archived in'),
  STRATEGY_MODE: z.enum(['standard', 'hf']).default('standard'),
  RISK_PROFILE: z.enum(['conservative', 'moderate', 'aggressive']).default('conservative'),
  REPORT_TOPIC_ARN: z.string().min(1).optional(),
  TELEGRAM_SECRET_ID: z.string().min(1).optional(),
  TELEGRAM_CHAT_ID: z.string().regex(/^-?\d{1,20}$/, 'a Telegram chat id').optional(),
  TELEGRAM_API_URL: z.url().optional(),
  REPORT_FONT_FILE: z.string().min(1).default(LAMBDA_FONT_FILE),
  LINK_HOURS: intVar(12, 1, 168),
};
export const parseReportEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(reportEnv, env, 'report');

export const reportEventSchema = z.discriminatedUnion('job', [
  z.strictObject({ job: z.literal('report'), period: z.enum(REPORT_PERIODS), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() }),
  z.strictObject({ job: z.literal('tax'), year: z.number().int().min(2000).max(2200).optional() }),
]);

export interface ReportHandlerDeps {
  readonly store: StateStore;
  readonly objects: ObjectStore;
  readonly channels: DeliveryChannels;
  readonly config: Config;
  readonly renderer?: PngRenderer;
  readonly now: () => number;
  readonly mode?: string;
}

const obs = observability('report');

export type ReportHandlerResult =
  | { status: 'refused'; reason: string }
  | { status: 'done'; job: 'report'; key: string; trades: number; empty: boolean; deliveries: { channel: string; status: string; detail?: string }[]; png: boolean }
  | { status: 'done'; job: 'tax'; year: number; disposals: number; reconciled: boolean; exchangeChecked: boolean; keys: readonly string[] };

export function createReportHandler(getDeps: () => Promise<ReportHandlerDeps>) {
  async function lambdaHandler(event: unknown, _context: Context): Promise<ReportHandlerResult> {
    // EventBridge delivers the rule's constant input as the event itself.
    const parsed = reportEventSchema.safeParse(event);
    if (!parsed.success) {
      obs.logger.warn('report: unknown event refused', { detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
      return { status: 'refused', reason: 'expected {"job":"report","period":"daily|weekly|monthly"} or {"job":"tax"}' };
    }
    const deps = await getDeps();
    const e = parsed.data;
    if (e.job === 'tax') {
      const year = e.year ?? new Date(deps.now()).getUTCFullYear() - 1;
      const r = await runTaxYear({ store: deps.store, prices: new ArchivePriceSource(new CandleArchive(deps.objects)), out: deps.objects }, year);
      obs.logger.info('tax year written', { year, disposals: r.ledger.rows.length, issues: r.ledger.issues.length, reconciled: r.reconciliation.ok, exchangeCheck: r.exchangeCheck, keys: r.keys });
      // The job is given no exchange fills: its exchange check is the reconcile job's copy into the state (ledger.json says so).
      return { status: 'done', job: 'tax', year, disposals: r.ledger.rows.length, reconciled: r.reconciliation.ok, exchangeChecked: r.reconciliation.exchangeFills !== null, keys: r.keys };
    }
    const window = reportWindow(e.period, e.date, deps.now());
    const r = await runPeriodReport({ store: deps.store, config: deps.config, now: deps.now, channels: deps.channels, ...(deps.renderer ? { renderer: deps.renderer } : {}), ...(deps.mode ? { mode: deps.mode } : {}) }, window);
    const failed = r.deliveries.filter((d) => d.status === 'failed');
    obs.metrics.addMetric('ReportChannelFailures', MetricUnit.Count, failed.length);
    obs.logger.info('report delivered', { period: window.period, key: window.key, trades: r.figures.trades, deliveries: r.deliveries, pngProblem: r.pngProblem ?? null });
    return { status: 'done', job: 'report', key: window.key, trades: r.figures.trades, empty: r.figures.empty, deliveries: r.deliveries.map((d) => ({ ...d })), png: r.pngProblem === undefined };
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics));
}

/** The clients the handler's adapters use (created once per process; tests pass their own). */
export interface ReportClients {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly secrets: SecretsManagerClient;
  readonly dynamo: DynamoDBClient;
}

/** The handler's dependencies from its environment and clients. */
export async function buildReportDeps(env: ReturnType<typeof parseReportEnv>, c: ReportClients, now: () => number = () => Date.now()): Promise<ReportHandlerDeps> {
  const objects = new S3ObjectStore(c.s3, env.ARTIFACT_BUCKET);
  let renderer: PngRenderer | undefined;
  try {
    const { ResvgPngRenderer } = await import('../../services/adapters/resvg/pngRenderer.js');
    renderer = new ResvgPngRenderer(env.REPORT_FONT_FILE, REPORT_FONT_FAMILY);
  } catch (err) {
    // The report still goes out, without the chart image.
    obs.logger.error('no PNG renderer', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
  const secrets = new SecretsManagerSecretSource(c.secrets);
  const tgId = env.TELEGRAM_SECRET_ID;
  return {
    store: stateStore(c.dynamo, env.STATE_TABLE, obs.logger),
    objects,
    config: parseConfig({ mode: env.STRATEGY_MODE, risk: { profile: env.RISK_PROFILE } }),
    now,
    mode: env.STAGE,
    ...(renderer ? { renderer } : {}),
    channels: {
      archive: objects,
      signer: new S3PresignedLinks(c.s3, env.ARTIFACT_BUCKET),
      linkHours: env.LINK_HOURS,
      ...(env.REPORT_TOPIC_ARN ? { email: new SnsReportEmail(c.sns, env.REPORT_TOPIC_ARN) } : {}),
      ...(tgId && env.TELEGRAM_CHAT_ID
        ? { telegram: new TelegramReportChannel({ token: async () => parseTelegramSecret(tgId, await secrets.getSecret(tgId)), chatId: env.TELEGRAM_CHAT_ID, ...(env.TELEGRAM_API_URL ? { apiRoot: env.TELEGRAM_API_URL } : {}) }) }
        : {}),
    },
  };
}

let defaults: Promise<ReportHandlerDeps> | undefined;
let s3: S3Client | undefined;

function defaultDeps(): Promise<ReportHandlerDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      s3 ??= new S3Client({});
      return buildReportDeps(parseReportEnv(process.env), { s3, sns: snsClient(), secrets: secretsClient(), dynamo: dynamoClient() });
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createReportHandler(defaultDeps);
