/**
 * Review Lambda: the AI performance review after each scheduled report
 * (services/review/run.ts): the facts pack with the live-versus-replay divergence, Bedrock's review
 * (the model of the period from REVIEW_CONFIG) or the deterministic reviewer's, every
 * recommendation tested out of sample, the ledger updated and scored, everything stored under
 * `reviews/<period>/<day>/` and sent like a report. Tokens and cost are logged per run.
 *
 * Event: `{"period":"daily"|"weekly"|"monthly","date"?:"yyyy-mm-dd"}` (the schedules' constant
 * input). Anything else is refused with a result, never thrown.
 *
 * Environment: STAGE, STATE_TABLE, ARTIFACT_BUCKET, STRATEGY_MODE, RISK_PROFILE, SYMBOLS (default:
 * every archived symbol), REVIEW_CONFIG (JSON, services/review/config.ts; default the built-in
 * models and prices), BEDROCK (on | off, default on), REPORT_TOPIC_ARN, TELEGRAM_SECRET_ID and
 * TELEGRAM_CHAT_ID (optional), TELEGRAM_API_URL (tests), LINK_HOURS (12).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BedrockReviewer } from '../../services/adapters/bedrock/bedrockReviewer.js';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { S3PresignedLinks } from '../../services/adapters/s3/presignedLinks.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { SnsReportEmail } from '../../services/adapters/sns/snsReportEmail.js';
import { TelegramReportChannel } from '../../services/adapters/telegram/telegramReportChannel.js';
import { parseConfig } from '../../services/config/schema.js';
import { ConfigError } from '../../services/core/errors.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { parseTelegramSecret } from '../../services/ops/secrets.js';
import { REPORT_PERIODS, reportWindow } from '../../services/reporting/period.js';
import { parseReviewConfig } from '../../services/review/config.js';
import { runReview, type ReviewRunDeps } from '../../services/review/run.js';
import { KernelRollingOosTester } from '../../services/review/tester.js';
import { dynamoClient, secretsClient, snsClient } from '../shared/clients.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { observability } from '../shared/powertools.js';
import { stateStore } from '../shared/wiring.js';

export const reviewEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table'),
  ARTIFACT_BUCKET: required('S3 bucket of the candle archive and the reviews'),
  STRATEGY_MODE: z.enum(['standard', 'hf']).default('standard'),
  RISK_PROFILE: z.enum(['conservative', 'moderate', 'aggressive']).default('conservative'),
  SYMBOLS: listVar.pipe(z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected upper-case symbols such as BTCUSDT'))),
  REVIEW_CONFIG: z.string().max(20_000).optional(),
  BEDROCK: z.enum(['on', 'off']).default('on'),
  REPORT_TOPIC_ARN: z.string().min(1).optional(),
  TELEGRAM_SECRET_ID: z.string().min(1).optional(),
  TELEGRAM_CHAT_ID: z.string().regex(/^-?\d{1,20}$/, 'a Telegram chat id').optional(),
  TELEGRAM_API_URL: z.url().optional(),
  LINK_HOURS: intVar(12, 1, 168),
};
export const parseReviewEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(reviewEnv, env, 'review');

export const reviewEventSchema = z.strictObject({ period: z.enum(REPORT_PERIODS), date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional() });

const obs = observability('review');

export type ReviewHandlerResult =
  | { status: 'refused'; reason: string }
  | { status: 'done'; key: string; reviewer: string; recommendations: { id: string; verdict: string }[]; costUsd: number; deliveries: { channel: string; status: string }[] };

export function createReviewHandler(getDeps: () => Promise<Omit<ReviewRunDeps, 'log'>>) {
  async function lambdaHandler(event: unknown, _context: Context): Promise<ReviewHandlerResult> {
    const parsed = reviewEventSchema.safeParse(event);
    if (!parsed.success) {
      obs.logger.warn('review: unknown event refused');
      return { status: 'refused', reason: 'expected {"period":"daily|weekly|monthly","date"?:"yyyy-mm-dd"}' };
    }
    const deps = await getDeps();
    const window = reportWindow(parsed.data.period, parsed.data.date, deps.now());
    const r = await runReview({ ...deps, log: (line, data) => obs.logger.info(line, data ?? {}) }, window);
    const u = r.outcome.usage;
    // Tokens and cost per run, as metrics too (the monthly bill can be watched).
    obs.metrics.addMetric('ReviewInputTokens', MetricUnit.Count, u?.inputTokens ?? 0);
    obs.metrics.addMetric('ReviewOutputTokens', MetricUnit.Count, u?.outputTokens ?? 0);
    obs.metrics.addMetric(r.outcome.reviewer === 'bedrock' ? 'ReviewsByBedrock' : 'ReviewsByRules', MetricUnit.Count, 1);
    obs.logger.info('review delivered', { period: window.period, key: window.key, reviewer: r.outcome.reviewer, notes: r.outcome.notes, costUsd: u?.costUsd ?? 0, deliveries: r.deliveries });
    return {
      status: 'done',
      key: window.key,
      reviewer: r.outcome.reviewer,
      recommendations: r.recommendations.map((x) => ({ id: x.id, verdict: x.test.verdict })),
      costUsd: u?.costUsd ?? 0,
      deliveries: r.deliveries.map((d) => ({ channel: d.channel, status: d.status })),
    };
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics));
}

export interface ReviewClients {
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly secrets: SecretsManagerClient;
  readonly dynamo: DynamoDBClient;
  readonly bedrock: Pick<BedrockRuntimeClient, 'send'>;
}

/** The handler's dependencies from its environment and clients (tests pass their own clients). */
export async function buildReviewDeps(env: ReturnType<typeof parseReviewEnv>, c: ReviewClients, now: () => number = () => Date.now(), wait: (ms: number) => Promise<void> = (ms) => sleep(ms)): Promise<Omit<ReviewRunDeps, 'log'>> {
  let rawConfig: unknown = {};
  if (env.REVIEW_CONFIG) {
    try {
      rawConfig = JSON.parse(env.REVIEW_CONFIG);
    } catch (e) {
      throw new ConfigError(`review: REVIEW_CONFIG is not JSON (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
  }
  const settings = parseReviewConfig(rawConfig, 'REVIEW_CONFIG');
  const objects = new S3ObjectStore(c.s3, env.ARTIFACT_BUCKET);
  const archive = new CandleArchive(objects);
  const symbols = env.SYMBOLS.length ? env.SYMBOLS : await archive.symbols();
  const secrets = new SecretsManagerSecretSource(c.secrets);
  const tgId = env.TELEGRAM_SECRET_ID;
  return {
    store: stateStore(c.dynamo, env.STATE_TABLE, obs.logger),
    archive,
    live: parseConfig({ mode: env.STRATEGY_MODE, risk: { profile: env.RISK_PROFILE } }),
    settings,
    ...(env.BEDROCK === 'on' ? { reviewer: new BedrockReviewer({ client: c.bedrock, models: settings.models, sleep: wait, log: (line, data) => obs.logger.info(line, data ?? {}) }) } : {}),
    // The research engine's walk-forward tester plugs in here (same RecommendationTester port).
    tester: new KernelRollingOosTester({ archive, symbols, settings: settings.tester }),
    symbols,
    now,
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

let defaults: Promise<Omit<ReviewRunDeps, 'log'>> | undefined;
let s3: S3Client | undefined;
let bedrock: BedrockRuntimeClient | undefined;

function defaultDeps(): Promise<Omit<ReviewRunDeps, 'log'>> {
  defaults ??= Promise.resolve()
    .then(() => {
      s3 ??= new S3Client({});
      // The SDK's own retries off: the reviewer's bounded retries are the only ones.
      bedrock ??= new BedrockRuntimeClient({ maxAttempts: 1 });
      return buildReviewDeps(parseReviewEnv(process.env), { s3, sns: snsClient(), secrets: secretsClient(), dynamo: dynamoClient(), bedrock });
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createReviewHandler(defaultDeps);
