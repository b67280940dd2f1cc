/**
 * The optimisation worker: one Distributed Map batch of trials (lib/researchRunner.ts), evaluated
 * by the same evaluateBatch a local worker thread runs (services/research/trial.ts), its outcomes
 * written to the run's trial log in the artifact bucket. Returns only a small summary: the Map's
 * results must stay small; the log is the result.
 *
 * Environment: STAGE, ARTIFACT_BUCKET.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { performance } from 'node:perf_hooks';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import type { ObjectStore } from '../../services/ml/archive.js';
import { runWorkerBatch, workerEventSchema, type LoadData } from '../../services/research/cloudRun.js';
import { commonEnv, parseEnv, required } from '../shared/env.js';
import { parseTaskInput } from '../shared/events.js';
import { observability } from '../shared/powertools.js';
import { storeCandleLoader } from '../shared/researchData.js';

export const optimizeWorkerEnv = { ...commonEnv, ARTIFACT_BUCKET: required('S3 bucket of the research runs') };
export const parseOptimizeWorkerEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(optimizeWorkerEnv, env, 'optimize-worker');

export interface WorkerDeps {
  readonly store: ObjectStore;
  readonly loadData: LoadData;
}

const obs = observability('optimize-worker');

export function createWorkerHandler(getDeps: () => WorkerDeps) {
  const lambdaHandler = async (event: unknown, _context?: Context): Promise<{ key: string; trials: number; ok: number }> => {
    // A Step Functions task: a throw is how it fails (the state machine sees it), so bad input is
    // thrown, not answered; as an EventValidationError naming the fields, not zod's raw dump.
    const e = parseTaskInput('optimize-worker', workerEventSchema, event);
    const deps = getDeps();
    const r = await runWorkerBatch(deps.store, e, deps.loadData, () => performance.now());
    obs.logger.info('batch done', { runId: e.BatchInput.runId, key: r.key, trials: r.trials, ok: r.ok });
    return r;
  };
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger));
}

let deps: WorkerDeps | undefined;
export const handler = createWorkerHandler(() => {
  if (!deps) {
    const env = parseOptimizeWorkerEnv(process.env);
    const store = new S3ObjectStore(new S3Client({}), env.ARTIFACT_BUCKET);
    deps = { store, loadData: storeCandleLoader(store, '/tmp/research') };
  }
  return deps;
});
