/**
 * Backtest Lambda: the console's /backtest jobs on AWS. The Telegram webhook queues a
 * `backtest_request` on the backtests queue (SQS batch with partial failures; the event source
 * mapping must enable ReportBatchItemFailures); this job runs the kernel backtest of the traded
 * symbols over the candle archive's last days in the artifact bucket (`candles/`), with the
 * stage's strategy mode and risk profile (the config the hot path trades with: parseConfig of
 * STRATEGY_MODE and RISK_PROFILE), writes the same files as `npm run backtest`
 * (services/research/backtestReport.ts) under `backtests/<jobId>/`, and answers through the alerts queue,
 * which the alert dispatcher sends to the chat. Figures are net of fees and slippage.
 *
 * Once per job, however often SQS delivers the request:
 * - `backtests/<jobId>/answer.json` is written after the answer is published: a request whose
 *   answer exists is acknowledged and not answered again;
 * - `summary.json` is written last of the report files: a request whose summary exists but whose
 *   answer does not (the function stopped between the two) is answered from it, not run again;
 * - a run claims `backtest:<jobId>` in the idempotency table for BACKTEST_LOCK_SECONDS (longer than
 *   the function's timeout, shorter than the queue's visibility timeout), so a duplicate delivered
 *   while a run is under way waits (a batch failure: SQS delivers it again later) instead of
 *   running beside it.
 *
 * Outcomes: done (answered with the figures); too short (fewer than BACKTEST_MIN_DAYS archived days
 * of the traded symbols: answered plainly, nothing ran); a failure the data or config explains
 * (DataValidationError, ConfigError: answered, not retried); any other failure is retried by SQS
 * and answered on the last receive (MAX_RECEIVES, the queue's maxReceiveCount) before the message
 * goes to the dead-letter queue. Malformed records fail alone.
 *
 * Environment: STAGE, ARTIFACT_BUCKET, IDEMPOTENCY_TABLE, ALERTS_QUEUE_URL, TRADING_SYMBOLS
 * (comma-separated; all archived symbols when empty), STRATEGY_MODE, RISK_PROFILE,
 * BACKTEST_DEFAULT_DAYS (30), BACKTEST_MIN_DAYS (3), BACKTEST_LOCK_SECONDS (660), MAX_RECEIVES (5),
 * SCRATCH_DIR (/tmp/backtest).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import middy from '@middy/core';
import type { Context, SQSBatchResponse } from 'aws-lambda';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoOnceStore } from '../../services/adapters/dynamo/dynamoOnceStore.js';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import { buildBacktestReport, DEFAULT_RESEARCH, REPORT_CONTENT_TYPES, type BacktestReportFiles, type ResearchOptions } from '../../services/research/backtestReport.js';
import { backtestDataText, backtestDoneText, backtestFailedText, backtestTooShortText, type BacktestAnswerSummary } from '../../services/console/backtestJob.js';
import { pickArchiveDays } from '../../services/console/optimizeJob.js';
import type { OnceStore } from '../../services/console/ports.js';
import { MODES, PROFILES, parseConfig, type Config } from '../../services/config/schema.js';
import { ConfigError, DataValidationError } from '../../services/core/errors.js';
import { parseEventBody, type AlertEvent, type BacktestRequestEvent } from '../../services/events/types.js';
import type { ObjectStore } from '../../services/ml/archive.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { dynamoClient, sqsClient } from '../shared/clients.js';
import { commonEnv, intVar, listVar, parseEnv, required } from '../shared/env.js';
import { eventShape, hasRecords, sqsBatch } from '../shared/events.js';
import { observability } from '../shared/powertools.js';
import { downloadKeys } from '../shared/researchData.js';
import { alertPublisher } from '../shared/wiring.js';

export const backtestEnv = {
  ...commonEnv,
  ARTIFACT_BUCKET: required('S3 bucket of the candle archive (candles/) and the reports (backtests/)'),
  IDEMPOTENCY_TABLE: required('DynamoDB table: one run per job at a time'),
  ALERTS_QUEUE_URL: required("SQS alerts queue: the job's answer goes to the chat through it"),
  TRADING_SYMBOLS: listVar.pipe(z.array(z.string().regex(/^[A-Z0-9]{2,20}$/, 'expected upper-case symbols such as BTCUSDT'))),
  STRATEGY_MODE: z.enum(MODES).default('standard'),
  RISK_PROFILE: z.enum(PROFILES).default('conservative'),
  BACKTEST_DEFAULT_DAYS: intVar(30, 1, 90),
  BACKTEST_MIN_DAYS: intVar(3, 1, 90),
  BACKTEST_LOCK_SECONDS: intVar(660, 60, 43_200),
  MAX_RECEIVES: intVar(5, 1, 1000),
  SCRATCH_DIR: z.string().min(1).default('/tmp/backtest'),
};
export const parseBacktestEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(backtestEnv, env, 'backtest');

/** What a run uses besides the request. */
export interface BacktestSettings {
  /** The traded symbols (all archived symbols when empty). */
  readonly symbols: readonly string[];
  readonly config: Config;
  /** The config as given, kept in summary.json (npm run montecarlo rebuilds the run from it). */
  readonly configInput: Record<string, unknown>;
  readonly defaultDays: number;
  readonly minDays: number;
  /** How long a run holds its job's claim. */
  readonly lockMs: number;
  /** The queue's maxReceiveCount: the receive after which a failing request is answered. */
  readonly maxReceives: number;
  /** Where the candle files are downloaded (a folder per job, removed after). */
  readonly scratch: string;
  /** Baselines and Monte Carlo; default DEFAULT_RESEARCH (as npm run backtest). */
  readonly research?: ResearchOptions;
}

export interface BacktestHandlerDeps {
  readonly store: ObjectStore;
  /** Claims of running jobs (the idempotency table). */
  readonly lock: OnceStore;
  /** Publishes the job's answer (the alerts queue). */
  readonly alert: (event: AlertEvent) => Promise<void>;
  readonly now: () => number;
  readonly settings: BacktestSettings;
}

/** What happened to one request. `busy`: another delivery of the job holds its claim (retried later). */
export type BacktestOutcome = 'done' | 'answered_from_summary' | 'answered_before' | 'too_short' | 'failed' | 'busy';

/** The keys of a job's files. */
export const backtestKeys = (jobId: string) => {
  const prefix = `backtests/${jobId}/`;
  return { prefix, job: `${prefix}job.json`, summary: `${prefix}summary.json`, answer: `${prefix}answer.json`, report: `${prefix}report.html` };
};

const obs = observability('backtest');
const UTF8 = new TextEncoder();
const json = (v: unknown): Uint8Array => UTF8.encode(JSON.stringify(v, null, 2) + '\n');

/** The job's answer as an alert: one id per job, so the dispatcher sends a repeat at most once per window. */
function answerAlert(jobId: string, now: number, severity: AlertEvent['severity'], title: string, detail: string): AlertEvent {
  return { type: 'alert', id: `backtest:job:${jobId}`.slice(0, 128), time: now, severity, title: `backtest job ${jobId} ${title}`.slice(0, 200), detail: detail.slice(0, 4000) };
}

async function answer(deps: BacktestHandlerDeps, jobId: string, outcome: BacktestOutcome, alert: AlertEvent): Promise<void> {
  // Published before the marker: a stop between the two answers again (the dispatcher's window
  // holds the repeat back), while the other order could leave a job never answered.
  await deps.alert(alert);
  await deps.store.put(backtestKeys(jobId).answer, json({ jobId, outcome, at: deps.now(), title: alert.title }), 'application/json');
}

/** Runs (or answers) one request; throws for a failure worth retrying. */
export async function runBacktestJob(deps: BacktestHandlerDeps, request: BacktestRequestEvent): Promise<BacktestOutcome> {
  const { jobId } = request;
  const keys = backtestKeys(jobId);
  const where = `${keys.report} in the artifact bucket`;
  if (await deps.store.get(keys.answer)) return 'answered_before';
  const done = await deps.store.get(keys.summary);
  if (done) {
    const job = await deps.store.get(keys.job);
    const summary = JSON.parse(new TextDecoder().decode(done)) as BacktestAnswerSummary;
    const ran = job ? (JSON.parse(new TextDecoder().decode(job)) as { ran?: string }).ran : undefined;
    await answer(deps, jobId, 'answered_from_summary', answerAlert(jobId, deps.now(), 'info', 'finished', backtestDoneText(jobId, summary, ran ?? summary.symbols.join(', '), where, false)));
    return 'answered_from_summary';
  }
  const s = deps.settings;
  if (!(await deps.lock.claim(`backtest:${jobId}`, s.lockMs))) return 'busy';
  const pick = pickArchiveDays(await deps.store.list('candles/'), s.symbols, request.days ?? s.defaultDays);
  if (pick.days < s.minDays) {
    await answer(deps, jobId, 'too_short', answerAlert(jobId, deps.now(), 'info', 'did not run', backtestTooShortText(jobId, pick, s.symbols, s.minDays, false)));
    return 'too_short';
  }
  const ran = backtestDataText(pick);
  await deps.store.put(keys.job, json({ jobId, time: request.time, requestedBy: request.requestedBy, days: request.days ?? s.defaultDays, ran, data: pick.keys, mode: s.config.mode, profile: s.config.risk.profile }), 'application/json');
  const scratch = join(s.scratch, jobId);
  try {
    let files: BacktestReportFiles;
    let summary: BacktestAnswerSummary;
    try {
      // Fresh files for every run: the archive's last day grows as candles close.
      await rm(scratch, { recursive: true, force: true });
      const paths = await downloadKeys(deps.store, pick.keys, scratch);
      const loaded = loadSeries(paths, s.symbols);
      const t0 = deps.now();
      const report = await buildBacktestReport({
        series: loaded.series,
        quality: loaded.quality,
        dataLabels: pick.keys,
        only: s.symbols,
        config: s.config,
        configInput: s.configInput,
        research: s.research ?? DEFAULT_RESEARCH,
        err: (line) => obs.logger.info(line),
        quiet: true,
        now: deps.now,
      });
      obs.logger.info('backtest run', { jobId, candles: report.result.candles, trades: report.result.trades.length, ms: deps.now() - t0 });
      files = report.files;
      summary = report.summary;
    } catch (err) {
      if (!(err instanceof DataValidationError || err instanceof ConfigError)) throw err;
      // The same data and config would fail the same way again: answered, not retried.
      await answer(deps, jobId, 'failed', answerAlert(jobId, deps.now(), 'warning', 'failed', backtestFailedText(jobId, `${err.name}: ${err.message}`, false)));
      return 'failed';
    }
    // summary.json last: its presence says the report is complete.
    for (const name of ['trades.csv', 'equity.svg', 'report.html', 'summary.json'] as const) await deps.store.put(`${keys.prefix}${name}`, UTF8.encode(files[name]), REPORT_CONTENT_TYPES[name]);
    await answer(deps, jobId, 'done', answerAlert(jobId, deps.now(), 'info', 'finished', backtestDoneText(jobId, summary, ran, where, false)));
    return 'done';
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The handler over its dependencies (tests pass a local folder store). */
export function createBacktestHandler(getDeps: () => Promise<BacktestHandlerDeps>) {
  async function lambdaHandler(event: unknown, _context: Context): Promise<SQSBatchResponse | { status: string; reason: string }> {
    if (!hasRecords(event)) {
      // Junk (null, a number, a schedule) neither runs nor throws (lambdas/shared/events.ts).
      obs.logger.warn('not an SQS batch: ignored', { event: eventShape(event) });
      obs.metrics.addMetric('EventsRejected', MetricUnit.Count, 1);
      return { status: 'rejected', reason: `unknown event (${eventShape(event)})` };
    }
    const failures: { itemIdentifier: string }[] = [];
    const batch = sqsBatch(event);
    if (batch.dropped > 0) {
      obs.logger.warn('records without a message id dropped', { dropped: batch.dropped });
      obs.metrics.addMetric('BacktestRequestsMalformed', MetricUnit.Count, batch.dropped);
    }
    if (batch.records.length === 0) return { batchItemFailures: failures };
    const deps = await getDeps();
    for (const r of batch.records) {
      const parsed = parseEventBody(typeof r.body === 'string' ? r.body : '');
      if (!parsed.ok || parsed.event.type !== 'backtest_request') {
        obs.logger.warn('malformed backtest record', { messageId: r.messageId, detail: parsed.ok ? `unexpected event type ${parsed.event.type}` : parsed.detail });
        obs.metrics.addMetric('BacktestRequestsMalformed', MetricUnit.Count, 1);
        failures.push({ itemIdentifier: r.messageId });
        continue;
      }
      const request = parsed.event;
      const receives = Number((r.attributes as { ApproximateReceiveCount?: unknown } | undefined)?.ApproximateReceiveCount ?? 1);
      try {
        const outcome = await runBacktestJob(deps, request);
        obs.logger.info('backtest request', { jobId: request.jobId, requestedBy: request.requestedBy, outcome });
        obs.metrics.addMetric(`Backtest_${outcome}`, MetricUnit.Count, 1);
        if (outcome === 'busy') failures.push({ itemIdentifier: r.messageId });
      } catch (err) {
        const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        obs.logger.error('backtest failed', { jobId: request.jobId, receives, error: why });
        obs.metrics.addMetric('BacktestFailed', MetricUnit.Count, 1);
        if (Number.isFinite(receives) && receives >= deps.settings.maxReceives) {
          // The last delivery before the dead-letter queue: the operator hears of it.
          try {
            await answer(deps, request.jobId, 'failed', answerAlert(request.jobId, deps.now(), 'warning', 'failed', backtestFailedText(request.jobId, `${why} (after ${receives} attempts; the request is in the dead-letter queue)`, false)));
          } catch (e) {
            obs.logger.warn('job answer not sent', { jobId: request.jobId, error: e instanceof Error ? e.message : String(e) });
          }
        }
        failures.push({ itemIdentifier: r.messageId });
      }
    }
    return { batchItemFailures: failures };
  }
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger)).use(logMetrics(obs.metrics));
}

/** The settings from the environment (the deployment's mode, profile and symbols). */
export function backtestSettings(env: ReturnType<typeof parseBacktestEnv>): BacktestSettings {
  const configInput = { mode: env.STRATEGY_MODE, risk: { profile: env.RISK_PROFILE } };
  return {
    symbols: env.TRADING_SYMBOLS,
    config: parseConfig(configInput),
    configInput,
    defaultDays: env.BACKTEST_DEFAULT_DAYS,
    minDays: env.BACKTEST_MIN_DAYS,
    lockMs: env.BACKTEST_LOCK_SECONDS * 1000,
    maxReceives: env.MAX_RECEIVES,
    scratch: env.SCRATCH_DIR,
  };
}

let defaults: Promise<BacktestHandlerDeps> | undefined;

function defaultDeps(): Promise<BacktestHandlerDeps> {
  defaults ??= Promise.resolve()
    .then(() => {
      const env = parseBacktestEnv(process.env);
      const alerts = alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL);
      return {
        store: new S3ObjectStore(new S3Client({}), env.ARTIFACT_BUCKET),
        lock: new DynamoOnceStore(dynamoClient(), env.IDEMPOTENCY_TABLE, () => Date.now(), 'backtest'),
        alert: (e: AlertEvent) => alerts.publish(e),
        now: () => Date.now(),
        settings: backtestSettings(env),
      };
    })
    .catch((e: unknown) => {
      defaults = undefined;
      throw e;
    });
  return defaults;
}

export const handler = createBacktestHandler(defaultDeps);
