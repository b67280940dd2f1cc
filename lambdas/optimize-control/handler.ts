/**
 * The optimisation state machine's control step (lib/researchRunner.ts): `plan` runs one round of
 * the walk-forward planner over the run's trial log in the artifact bucket and writes the next
 * batch of trials as the Distributed Map's items; `report` writes report.json and report.html.
 * The same planner and analysis as `npm run optimize` on one machine (services/research).
 *
 * Environment: STAGE, ARTIFACT_BUCKET.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { z } from 'zod';
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../services/adapters/s3/s3ObjectStore.js';
import type { ObjectStore } from '../../services/ml/archive.js';
import { planRound, reportRun, RESEARCH_PREFIX, type LoadData, type PlanResult } from '../../services/research/cloudRun.js';
import { commonEnv, parseEnv, required } from '../shared/env.js';
import { parseTaskInput } from '../shared/events.js';
import { observability } from '../shared/powertools.js';
import { storeCandleLoader } from '../shared/researchData.js';

export const optimizeControlEnv = { ...commonEnv, ARTIFACT_BUCKET: required('S3 bucket of the research runs') };
export const parseOptimizeControlEnv = (env: Readonly<Record<string, string | undefined>>) => parseEnv(optimizeControlEnv, env, 'optimize-control');

const eventSchema = z.strictObject({
  action: z.enum(['plan', 'report']),
  runPrefix: z.string().regex(/^research\/[0-9a-f]{12}\/$/, `expected ${RESEARCH_PREFIX}<run id>/`),
});

export interface ControlDeps {
  readonly store: ObjectStore;
  readonly loadData: LoadData;
  readonly now: () => number;
}

const obs = observability('optimize-control');

/** The handler over its dependencies (tests pass a local folder store). */
export function createControlHandler(getDeps: () => ControlDeps) {
  const lambdaHandler = async (event: unknown, _context?: Context): Promise<PlanResult | { runId: string; verdict: string; reportKey: string }> => {
    // A Step Functions task: a throw is how it fails (the state machine sees it), so bad input is
    // thrown, not answered; as an EventValidationError naming the fields, not zod's raw dump.
    const e = parseTaskInput('optimize-control', eventSchema, event);
    const deps = getDeps();
    if (e.action === 'plan') {
      const r = await planRound(deps.store, e.runPrefix, deps.loadData);
      obs.logger.info('planned', { runId: r.runId, round: r.round, tasks: r.tasks, logged: r.logged, total: r.total, done: r.done });
      return r;
    }
    const r = await reportRun(deps.store, e.runPrefix, deps.loadData, deps.now());
    obs.logger.info('reported', { runId: r.runId, verdict: r.verdict });
    return r;
  };
  return middy(lambdaHandler).use(injectLambdaContext(obs.logger));
}

let deps: ControlDeps | undefined;
export const handler = createControlHandler(() => {
  if (!deps) {
    const env = parseOptimizeControlEnv(process.env);
    const store = new S3ObjectStore(new S3Client({}), env.ARTIFACT_BUCKET);
    deps = { store, loadData: storeCandleLoader(store, '/tmp/research'), now: () => Date.now() };
  }
  return deps;
});
