/**
 * Retrain Lambda: runs services/ml/retrain.ts on the hourly EventBridge schedule and on retrain
 * requests from the retrain queue (SQS batch with partial failures; the event source mapping must
 * enable ReportBatchItemFailures).
 *
 * A batch of requests is coalesced into ONE retrain (the latest request time counts). Outcomes:
 * - done / skipped (covered by a retrain that started after the request): every valid record is
 *   acknowledged;
 * - deferred (a retrain started less than the minimum interval ago) or an infrastructure failure:
 *   the valid records are returned as failures, so SQS delivers them again after the visibility
 *   timeout (and a burst becomes one later retrain);
 * - too little data (RetrainDataError): acknowledged and logged (retrying cannot help);
 * - malformed records fail alone (the dead-letter queue catches them after maxReceiveCount).
 *
 * Environment: STAGE, STATE_TABLE, ARTIFACT_BUCKET, MODELS_PREFIX/CANDLES_PREFIX (informational:
 * keys carry them), SYMBOLS (comma-separated, default BTCUSDT), STRATEGY_MODE (standard | hf),
 * RETRAIN_WINDOW_DAYS, RETRAIN_EPOCHS, RETRAIN_BUDGET_SECONDS, RETRAIN_MODE (retrain | fine-tune),
 * TFJS_WASM_DIR (folder of the tfjs .wasm files; default: beside the bundle), ALERTS_QUEUE_URL
 * (promotions and failures are published as alerts when set).
 */
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { parseConfig, type Config } from '../../services/config/schema.js';
import { parseEventBody, type AlertEvent } from '../../services/events/types.js';
import { CandleArchive } from '../../services/ml/archive.js';
import { barriersFromConfig } from '../../services/ml/labels.js';
import { MODEL_LOADERS } from '../../services/ml/modelBundle.js';
import { ModelRegistry } from '../../services/ml/registry.js';
import { DEFAULT_RETRAIN_SETTINGS, RetrainDataError, runRetrain, type RetrainResult, type RetrainSettings, type RetrainTrigger } from '../../services/ml/retrain.js';
import { initTf } from '../../services/ml/tf.js';
import { dynamoClient, sqsClient } from '../shared/clients.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { observability } from '../shared/powertools.js';
import { eventShape, hasRecords, isScheduledEvent, sqsBatch } from '../shared/events.js';
import { alertPublisher, stateStore } from '../shared/wiring.js';

export const retrainEnv = {
  ...commonEnv,
  STATE_TABLE: required('DynamoDB state table (model pointer)'),
  ARTIFACT_BUCKET: required('S3 bucket of models and the candle archive'),
  SYMBOLS: listVar.pipe(z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected upper-case symbols such as BTCUSDT'))),
  STRATEGY_MODE: z.enum(['standard', 'hf']).default('standard'),
  RETRAIN_WINDOW_DAYS: intVar(14, 2, 90),
  RETRAIN_EPOCHS: intVar(12, 1, 100),
  RETRAIN_BUDGET_SECONDS: intVar(480, 30, 780),
  RETRAIN_MODE: z.enum(['retrain', 'fine-tune']).default('retrain'),
  TFJS_WASM_DIR: z.string().min(1).optional(),
  ALERTS_QUEUE_URL: z.string().min(1).optional(),
};
export const parseRetrainEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(retrainEnv, env, 'retrain');

/** What the handler needs: one retrain run for a trigger, and where alerts go. */
export interface RetrainHandlerDeps {
  readonly run: (trigger: RetrainTrigger) => Promise<RetrainResult>;
  /** Publishes an alert (promotion: info; failure: warning). A failing publish is logged, never fails the run. */
  readonly alert?: (event: AlertEvent) => Promise<void>;
}

const obs = observability('retrain');


/** The handler over its dependencies (tests pass their own). */
export function createRetrainHandler(getDeps: () => Promise<RetrainHandlerDeps>) {
  async function lambdaHandler(event: unknown, _context: Context): Promise<SQSBatchResponse | { status: string; reason?: string }> {
    if (!hasRecords(event) && !isScheduledEvent(event)) {
      // Junk (null, a number, an unknown object) neither trains nor throws (lambdas/shared/events.ts).
      obs.logger.warn('neither a schedule nor an SQS batch: ignored', { event: eventShape(event) });
      obs.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
      return { status: 'rejected', reason: `unknown event (${eventShape(event)})` };
    }
    const deps = await getDeps();
    if (isScheduledEvent(event)) {
      const time = Date.parse(event.time ?? '');
      const result = await runLogged(deps, { source: 'schedule', reasons: ['hourly schedule'], requestedAt: Number.isFinite(time) ? time : Date.now() });
      return { status: result.status, ...('reason' in result ? { reason: result.reason } : {}) };
    }
    const failures: { itemIdentifier: string }[] = [];
    const valid: { id: string; time: number; reason: string; jobId?: string }[] = [];
    const batch = sqsBatch(event);
    if (batch.dropped > 0) {
      obs.logger.warn('records without a message id dropped', { dropped: batch.dropped });
      obs.metrics.addMetric('RetrainRequestsMalformed', MetricUnit.Count, batch.dropped);
    }
    for (const r of batch.records) {
      const parsed = parseEventBody(r.body);
      if (!parsed.ok || parsed.event.type !== 'retrain_request') {
        obs.logger.warn('malformed retrain record', { messageId: r.messageId, detail: parsed.ok ? `unexpected event type ${parsed.event.type}` : parsed.detail });
        obs.metrics.addMetric('RetrainRequestsMalformed', MetricUnit.Count, 1);
        failures.push({ itemIdentifier: r.messageId });
        continue;
      }
      valid.push({ id: r.messageId, time: parsed.event.time, reason: parsed.event.reason, ...(parsed.event.jobId ? { jobId: parsed.event.jobId } : {}) });
    }
    if (valid.length === 0) return { batchItemFailures: failures };
    const trigger: RetrainTrigger = { source: 'queue', reasons: [...new Set(valid.map((v) => v.reason))].slice(0, 20), requestedAt: Math.max(...valid.map((v) => v.time)) };
    let retry = false;
    // Operators' jobs (Telegram /ml_retrain) are answered once the run is over (not when deferred:
    // the records come back and are answered then), through the alerts queue to the chat.
    const jobs = [...new Set(valid.flatMap((v) => (v.jobId ? [v.jobId] : [])))];
    try {
      const result = await runLogged(deps, trigger);
      retry = result.status === 'deferred';
      if (!retry && jobs.length > 0) {
        const detail = result.status === 'done' ? `model ${result.version} ${result.promoted ? 'promoted' : 'kept out'}: ${result.decision.reason}` : `${result.status}${'reason' in result ? `: ${String(result.reason)}` : ''}`;
        await sendAlert(deps, { type: 'alert', id: `retrain:job:${jobs[0]!}`.slice(0, 128), time: Date.now(), severity: 'info', title: `retrain job ${jobs.join(', ')} finished`.slice(0, 200), detail: detail.slice(0, 4000) });
      }
    } catch (err) {
      retry = !(err instanceof RetrainDataError);
      if (!retry && jobs.length > 0) {
        await sendAlert(deps, { type: 'alert', id: `retrain:job:${jobs[0]!}`.slice(0, 128), time: Date.now(), severity: 'warning', title: `retrain job ${jobs.join(', ')} did not run`.slice(0, 200), detail: (err instanceof Error ? err.message : String(err)).slice(0, 4000) });
      }
    }
    if (retry) for (const v of valid) failures.push({ itemIdentifier: v.id });
    return { batchItemFailures: failures };
  }

  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics));
}

async function runLogged(deps: RetrainHandlerDeps, trigger: RetrainTrigger): Promise<RetrainResult> {
  try {
    const result = await deps.run(trigger);
    if (result.status === 'done' && result.promoted) {
      await sendAlert(deps, {
        type: 'alert',
        id: `retrain:promoted:${result.version}`,
        time: Date.now(),
        severity: 'info',
        title: `model ${result.version} promoted`,
        detail: result.decision.reason,
      });
    }
    obs.logger.info('retrain finished', { trigger, result: result.status === 'done' ? { status: result.status, version: result.version, promoted: result.promoted, reason: result.decision.reason } : result });
    obs.metrics.addMetric(result.status === 'done' ? (result.promoted ? 'ModelPromoted' : 'ModelKept') : `Retrain_${result.status}`, MetricUnit.Count, 1);
    return result;
  } catch (err) {
    const data = err instanceof RetrainDataError;
    obs.logger.error(data ? 'retrain skipped: not enough data' : 'retrain failed', { trigger, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    obs.metrics.addMetric(data ? 'RetrainNoData' : 'RetrainFailed', MetricUnit.Count, 1);
    const at = Date.now();
    await sendAlert(deps, {
      type: 'alert',
      id: `retrain:failed:${at}`,
      time: at,
      severity: 'warning',
      title: data ? 'retrain skipped: not enough data' : 'retrain failed',
      detail: (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 4000),
      dedupKey: data ? 'retrain-no-data' : 'retrain-failed',
    });
    throw err;
  }
}

async function sendAlert(deps: RetrainHandlerDeps, event: AlertEvent): Promise<void> {
  try {
    await deps.alert?.(event);
  } catch (err) {
    obs.logger.warn('alert not sent', { alertId: event.id, error: err instanceof Error ? err.message : String(err) });
  }
}

let defaults: Promise<RetrainHandlerDeps> | undefined;
let s3: S3Client | undefined;

function defaultDeps(): Promise<RetrainHandlerDeps> {
  defaults ??= (async () => {
    const env = parseRetrainEnv(process.env);
    await initTf(env.TFJS_WASM_DIR !== undefined ? { wasmDir: env.TFJS_WASM_DIR } : {});
    s3 ??= new S3Client({});
    const objects = new S3ObjectStore(s3, env.ARTIFACT_BUCKET);
    const registry = new ModelRegistry({ objects, pointer: stateStore(dynamoClient(), env.STATE_TABLE, obs.logger), uriPrefix: `s3://${env.ARTIFACT_BUCKET}/`, loaders: MODEL_LOADERS });
    const config: Config = parseConfig({ mode: env.STRATEGY_MODE });
    const settings: RetrainSettings = {
      ...DEFAULT_RETRAIN_SETTINGS,
      symbols: env.SYMBOLS.length > 0 ? env.SYMBOLS : ['BTCUSDT'],
      barriers: barriersFromConfig(config),
      config,
      windowDays: env.RETRAIN_WINDOW_DAYS,
      epochs: env.RETRAIN_EPOCHS,
      trainBudgetMs: env.RETRAIN_BUDGET_SECONDS * 1000,
      mode: env.RETRAIN_MODE,
    };
    const deps = { archive: new CandleArchive(objects), registry, clock: () => Date.now(), log: (line: string) => obs.logger.info(line) };
    const alerts = env.ALERTS_QUEUE_URL !== undefined ? alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL) : undefined;
    return {
      run: (trigger: RetrainTrigger) => runRetrain(deps, settings, trigger),
      ...(alerts !== undefined ? { alert: (e: AlertEvent) => alerts.publish(e) } : {}),
    };
  })().catch((e: unknown) => {
    defaults = undefined;
    throw e;
  });
  return defaults;
}

export const handler = createRetrainHandler(defaultDeps);
