/**
 * The optimisation state machine (lib/researchRunner.ts) played locally: plan, then the
 * Distributed Map (the round's item file cut into BATCH_TRIALS-item batches with the plan's shared
 * BatchInput, each given to the worker handler), back to plan until done, then report. The real
 * control and worker handlers run over an object store (a local folder in tests).
 */
import { join } from 'node:path';
import { createControlHandler } from '../../lambdas/optimize-control/handler.js';
import { createWorkerHandler } from '../../lambdas/optimize-worker/handler.js';
import { storeCandleLoader } from '../../lambdas/shared/researchData.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BATCH_TRIALS } from '../../lib/researchRunner.js';
import type { AlertEvent } from '../../services/events/types.js';
import type { ObjectStore } from '../../services/ml/archive.js';
import type { PlanResult } from '../../services/research/cloudRun.js';
import type { TrialTask } from '../../services/research/trial.js';

export interface MachineRun {
  readonly rounds: number;
  readonly invocations: number;
  readonly batchSizes: number[];
  readonly verdict: string;
}

export async function playResearchMachine(store: ObjectStore, runPrefix: string, scratch: string, alert?: (e: AlertEvent) => Promise<void>): Promise<MachineRun> {
  const control = createControlHandler(() => ({ store, loadData: storeCandleLoader(store, join(scratch, 'control')), now: () => 0, ...(alert ? { alert } : {}) }));
  const worker = createWorkerHandler(() => ({ store, loadData: storeCandleLoader(store, join(scratch, 'worker')) }));
  const ctx = localContext('research', 'local');
  let rounds = 0;
  let invocations = 0;
  const batchSizes: number[] = [];
  for (let guard = 0; guard < 1000; guard++) {
    const plan = (await control({ action: 'plan', runPrefix }, ctx)) as PlanResult;
    if (plan.done) {
      const r = (await control({ action: 'report', runPrefix }, ctx)) as { verdict: string };
      return { rounds, invocations, batchSizes, verdict: r.verdict };
    }
    rounds++;
    const body = await store.get(plan.itemsKey as string);
    const items = JSON.parse(new TextDecoder().decode(body ?? new Uint8Array())) as TrialTask[];
    if (items.length !== plan.tasks) throw new Error(`round ${plan.round}: ${items.length} items for ${plan.tasks} tasks`);
    for (let i = 0; i < items.length; i += BATCH_TRIALS) {
      const batch = items.slice(i, i + BATCH_TRIALS);
      await worker({ Items: batch, BatchInput: plan.batchInput }, ctx);
      batchSizes.push(batch.length);
      invocations++;
    }
  }
  throw new Error('the state machine did not finish in 1000 rounds');
}
