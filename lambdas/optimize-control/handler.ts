/**
 * The optimisation state machine's control step (lib/researchRunner.ts): `plan` runs one round of
 * the walk-forward planner over the run's trial log in the artifact bucket and writes the next
 * batch of trials as the Distributed Map's items; `report` writes report.json and report.html;
 * `failed` (the state machine's catch) only answers. The same planner and analysis as
 * `npm run optimize` on one machine (services/research). A run started by a console job
 * (Telegram /optimize: job.json's `notify`) is answered through the alerts queue, which the
 * alert dispatcher sends to the chat, as /ml_retrain is answered by the retrain job.
 *
 * Environment: STAGE, ARTIFACT_BUCKET, ALERTS_QUEUE_URL (optional: without it nothing is answered).
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import type { ObjectStore } from '../../services/ml/archive.js';
import { optimizeDoneText } from '../../services/console/optimizeJob.js';
import type { AlertEvent } from '../../services/events/types.js';
import { planRound, readCloudJob, reportRun, RESEARCH_PREFIX, type LoadData, type PlanResult } from '../../services/research/cloudRun.js';
import { sqsClient } from '../shared/clients.js';
import { commonEnv, parseEnv, required } from '../shared/env.js';
import { parseTaskInput } from '../shared/events.js';
import { observability } from '../shared/powertools.js';
import { storeCandleLoader } from '../shared/researchData.js';
import { alertPublisher } from '../shared/wiring.js';

export const optimizeControlEnv = { ...commonEnv, ARTIFACT_BUCKET: required('S3 bucket of the research runs'), ALERTS_QUEUE_URL: z.string().min(1).optional() };
export const parseOptimizeControlEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(optimizeControlEnv, env, 'optimize-control');

const eventSchema = z.strictObject({
  action: z.enum(['plan', 'report', 'failed']),
  runPrefix: z.string().regex(/^research\/[0-9a-f]{12}\/$/, `expected ${RESEARCH_PREFIX}<run id>/`),
  /** The caught error (action failed): Step Functions' Error and Cause. */
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export interface ControlDeps {
  readonly store: ObjectStore;
  readonly loadData: LoadData;
  readonly now: () => number;
  /** Publishes an answer to a console job (the alerts queue). A failing publish is logged, never fails the step. */
  readonly alert?: (event: AlertEvent) => Promise<void>;
}

const obs = observability('optimize-control');

/** The handler over its dependencies (tests pass a local folder store). */
export function createControlHandler(getDeps: () => ControlDeps) {
  const answer = async (deps: ControlDeps, event: AlertEvent): Promise<void> => {
    try {
      await deps.alert?.(event);
    } catch (err) {
      obs.logger.warn('job answer not sent', { alertId: event.id, error: err instanceof Error ? err.message : String(err) });
    }
  };
  const lambdaHandler = async (event: unknown, _context?: Context): Promise<PlanResult | { runId: string; verdict: string; reportKey: string } | { answered: boolean }> => {
    // A Step Functions task: a throw is how it fails (the state machine sees it), so bad input is
    // thrown, not answered; as an EventValidationError naming the fields, not zod's raw dump.
    const e = parseTaskInput('optimize-control', eventSchema, event);
    const deps = getDeps();
    if (e.action === 'plan') {
      const r = await planRound(deps.store, e.runPrefix, deps.loadData);
      obs.logger.info('planned', { runId: r.runId, round: r.round, tasks: r.tasks, logged: r.logged, total: r.total, done: r.done });
      return r;
    }
    if (e.action === 'failed') {
      const job = await readCloudJob(deps.store, e.runPrefix);
      obs.logger.error('run failed', { runPrefix: e.runPrefix, error: e.error?.Error, jobId: job?.notify?.jobId });
      if (!job?.notify) return { answered: false };
      const why = `${e.error?.Error ?? 'error'}${e.error?.Cause ? `: ${e.error.Cause.slice(0, 500)}` : ''}`;
      await answer(deps, { type: 'alert', id: `optimize:job:${job.notify.jobId}:failed`.slice(0, 128), time: deps.now(), severity: 'warning', title: `optimize job ${job.notify.jobId} failed`.slice(0, 200), detail: `The run ${e.runPrefix} stopped (${why}). /optimize again resumes nothing: it starts a new run; npm run optimize -- --on aws resumes this one from its trial log.`.slice(0, 4000) });
      return { answered: deps.alert !== undefined };
    }
    const r = await reportRun(deps.store, e.runPrefix, deps.loadData, deps.now());
    obs.logger.info('reported', { runId: r.runId, verdict: r.verdict, jobId: r.notify?.jobId });
    if (r.notify) {
      const text = optimizeDoneText(r.notify.jobId, r.report, r.notify.ran, `${e.runPrefix}report.html in the artifact bucket`, false);
      await answer(deps, { type: 'alert', id: `optimize:job:${r.notify.jobId}`.slice(0, 128), time: deps.now(), severity: 'info', title: `optimize job ${r.notify.jobId} finished`.slice(0, 200), detail: text.slice(0, 4000) });
    }
    // The state keeps only what is small: the report itself is in the bucket.
    return { runId: r.runId, verdict: r.verdict, reportKey: r.reportKey };
  };
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger));
}

let deps: ControlDeps | undefined;
export const handler = createControlHandler(() => {
  if (!deps) {
    const env = parseOptimizeControlEnv(process.env);
    const store = new S3ObjectStore(new S3Client({}), env.ARTIFACT_BUCKET);
    const alerts = env.ALERTS_QUEUE_URL !== undefined ? alertPublisher(sqsClient(), env.ALERTS_QUEUE_URL) : undefined;
    deps = { store, loadData: storeCandleLoader(store, '/tmp/research'), now: () => Date.now(), ...(alerts ? { alert: (a: AlertEvent) => alerts.publish(a) } : {}) };
  }
  return deps;
});
