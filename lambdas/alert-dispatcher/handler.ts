/**
 * Alert-dispatcher Lambda (SQS alerts queue, batch with partial failures): each record is an
 * AlertEvent; it is formatted for a phone and sent to SNS and Telegram once per dedup window
 * (services/ops/alertDispatch.ts, with Powertools idempotency on DynamoDB as the ledger). A record
 * that is malformed or cannot be delivered fails alone (`batchItemFailures`), so SQS retries it and
 * the dead-letter queue catches it after maxReceiveCount. The event source mapping must enable
 * ReportBatchItemFailures.
 *
 * Environment: see lambdas/README.md.
 */
import middy from '@middy/core';
import type { Context, SQSEvent, SQSRecord, SQSBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { processAlertRecord, type AlertChannel, type DeliveryLedger } from '../../services/ops/alertDispatch.js';
import { MalformedAlertRecordError } from '../../services/ops/errors.js';
import { parseTelegramSecret } from '../../services/ops/secrets.js';
import { SnsAlertChannel } from '../../services/adapters/sns/snsAlertChannel.js';
import { TelegramChannel } from '../../services/adapters/telegram/telegramChannel.js';
import { SecretsManagerSecretSource } from '../../services/adapters/secrets/secretsManagerSecrets.js';
import { commonEnv, intVar, parseEnv, required } from '../shared/env.js';
import { dynamoClient, secretsClient, snsClient } from '../shared/clients.js';
import { observability } from '../shared/powertools.js';
import { eventShape, sqsBatch } from '../shared/events.js';
import { PowertoolsDeliveryLedger, persistenceLayer } from '../shared/idempotency.js';

export const alertDispatcherEnv = {
  ...commonEnv,
  ALERT_TOPIC_ARN: required('SNS topic ARN for alerts'),
  TELEGRAM_SECRET_ID: required('Secrets Manager id of the Telegram bot token'),
  TELEGRAM_CHAT_ID: required('Telegram chat id to send alerts to'),
  STATE_TABLE: required('DynamoDB table for the idempotency records (unless IDEMPOTENCY_TABLE is set)'),
  IDEMPOTENCY_TABLE: z.string().min(1).optional(),
  ALERT_DEDUP_WINDOW_SECONDS: intVar(900, 1, 86_400),
  TELEGRAM_API_URL: z.url().optional(),
};
export type AlertDispatcherEnv = ReturnType<typeof parseAlertDispatcherEnv>;
export const parseAlertDispatcherEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(alertDispatcherEnv, env, 'alert-dispatcher');

export interface AlertDispatcherDeps {
  readonly stage: string;
  readonly channels: readonly AlertChannel[];
  readonly ledger: DeliveryLedger & { registerContext?(context: Context): void };
}

const obs = observability('alert-dispatcher');

export function createAlertDispatcherHandler(getDeps: () => Promise<AlertDispatcherDeps>) {
  const processor = new BatchProcessor(EventType.SQS);

  async function lambdaHandler(event: unknown, context: Context): Promise<SQSBatchResponse> {
    // Bad input is counted and dropped (lambdas/shared/events.ts): a record without a message id
    // cannot be named in the answer, and an empty failure entry would fail the whole batch.
    const batch = sqsBatch(event);
    if (batch.notSqs) {
      obs.logger.warn('not an SQS batch: ignored', { event: eventShape(event) });
      obs.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
      return { batchItemFailures: [] };
    }
    if (batch.dropped > 0) {
      obs.logger.warn('records without a message id dropped', { dropped: batch.dropped });
      obs.metrics.addMetric('AlertsMalformed', MetricUnit.Count, batch.dropped);
    }
    if (batch.records.length === 0) return { batchItemFailures: [] };
    const deps = await getDeps();
    deps.ledger.registerContext?.(context);
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      try {
        const r = await processAlertRecord(record.body, deps.channels, deps.ledger, deps.stage);
        const sent = Object.values(r.channels).filter((c) => c === 'sent').length;
        obs.metrics.addMetric('AlertsSent', MetricUnit.Count, sent);
        if (sent === 0) obs.metrics.addMetric('AlertsDeduplicated', MetricUnit.Count, 1);
        obs.logger.info('alert dispatched', { messageId: record.messageId, alertId: r.alertId, channels: r.channels });
      } catch (e) {
        obs.metrics.addMetric(e instanceof MalformedAlertRecordError ? 'AlertsMalformed' : 'AlertsFailed', MetricUnit.Count, 1);
        obs.logger.warn('alert record failed', { messageId: record.messageId, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
        throw e;
      }
    };
    // One record after another: alerts reach the phone in queue order, and duplicates within a batch
    // meet a finished ledger entry. A batch where every record failed is reported record by record
    // too (not thrown), so SQS's receive counts and the DLQ work the same way in both cases.
    const sqs: SQSEvent = { Records: batch.records };
    return processPartialResponse(sqs, recordHandler, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
  }

  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics)).use(captureLambdaHandler(obs.tracer));
}

let defaults: Promise<AlertDispatcherDeps> | undefined;

function defaultDeps(): Promise<AlertDispatcherDeps> {
  defaults ??= Promise.resolve().then(() => {
    const env = parseAlertDispatcherEnv(process.env);
    const secrets = new SecretsManagerSecretSource(secretsClient());
    const telegram = new TelegramChannel({
      token: async () => parseTelegramSecret(env.TELEGRAM_SECRET_ID, await secrets.getSecret(env.TELEGRAM_SECRET_ID)),
      chatId: env.TELEGRAM_CHAT_ID,
      fetch: (url, init) => fetch(url, init),
      ...(env.TELEGRAM_API_URL ? { baseUrl: env.TELEGRAM_API_URL } : {}),
    });
    return {
      stage: env.STAGE,
      channels: [new SnsAlertChannel(snsClient(), env.ALERT_TOPIC_ARN), telegram],
      ledger: new PowertoolsDeliveryLedger(persistenceLayer(env.IDEMPOTENCY_TABLE ?? env.STATE_TABLE, dynamoClient()), env.ALERT_DEDUP_WINDOW_SECONDS),
    };
  }).catch((e: unknown) => {
    defaults = undefined;
    throw e;
  });
  return defaults;
}

export const handler = createAlertDispatcherHandler(defaultDeps);
