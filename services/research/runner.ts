/**
 * Drives a walk-forward run to the end: asks the planner for the next trials, has them evaluated
 * (worker threads, in process, or anything else behind TrialEvaluator), records every outcome as
 * soon as it arrives (so a kill loses only the trials in flight), and reports progress. Steps are
 * synchronous batches: the planner is asked again only when every trial of a step is back, which
 * is what makes the trials independent of the number of workers.
 */
import { DomainError } from '../core/errors.js';
import { formatEta } from '../report/progress.js';
import type { TrialOutcome, TrialTask } from './trial.js';
import type { WalkForwardPlanner } from './walkForward.js';

export interface TrialEvaluator {
  run(task: TrialTask): Promise<TrialOutcome>;
}

export interface RunHooks {
  /** Records one outcome (the trial log); called once per trial, in completion order. */
  readonly record: (o: TrialOutcome) => void;
  /** Progress lines (stderr in the CLI). */
  readonly progress?: (line: string) => void;
  /** The clock for trials per second and the ETA (ms); without it no progress is written. */
  readonly now?: () => number;
  /** Least time between two progress lines (default 2000 ms). */
  readonly intervalMs?: number;
}

/** Thrown when the planner has nothing to run and nothing decided although the run is not complete (a bug). */
export class PlannerStalledError extends Error {
  override readonly name: string = 'PlannerStalledError';
}

/**
 * A trial failed (status 'error': the backtest threw, the strategy could not be built or loaded,
 * the span had no candles). The run stops: a verdict over a run with failed trials would be a
 * verdict over whatever happened to work. The failed outcome is not logged, so the same command
 * runs it again once the cause is fixed.
 */
export class TrialFailedError extends DomainError {
  override readonly name: string = 'TrialFailedError';
  constructor(readonly outcome: TrialOutcome) {
    super(`trial ${outcome.trial} (fold ${outcome.fold}, ${outcome.phase}) failed, so the run stops: ${outcome.reason ?? 'no reason given'}`);
  }
}

/** Runs every remaining trial; `log` (trial number -> outcome, e.g. read back from a trial log) is filled in place. */
export async function driveWalkForward(planner: WalkForwardPlanner, log: Map<number, TrialOutcome>, evaluator: TrialEvaluator, hooks: RunHooks): Promise<void> {
  // Failed trials of an earlier attempt (a log written before runs stopped on them) run again.
  for (const [n, o] of log) if (o.status === 'error') log.delete(n);
  const total = planner.totalTrials;
  const now = hooks.now;
  const t0 = now?.() ?? 0;
  const resumedAt = log.size;
  let lastLine = t0;
  let evaluatedHere = 0;
  const tick = (force: boolean): void => {
    if (!now || !hooks.progress) return;
    const t = now();
    if (!force && t - lastLine < (hooks.intervalMs ?? 2000)) return;
    lastLine = t;
    const done = log.size;
    const rate = t > t0 ? ((done - resumedAt) / (t - t0)) * 1000 : 0;
    const eta = rate > 0 ? formatEta((total - done) / rate) : '?';
    hooks.progress(`optimize  ${((done / total) * 100).toFixed(1)}%  ${done}/${total} trials  ${rate.toFixed(2)} trials/s  ${force ? `done in ${formatEta((t - t0) / 1000)}` : `eta ${eta}`}${evaluatedHere ? '' : resumedAt ? '  (resumed)' : ''}`);
  };
  const record = (o: TrialOutcome): void => {
    log.set(o.trial, o);
    hooks.record(o);
  };
  for (;;) {
    const step = planner.next(log);
    if (!step) break;
    if (step.tasks.length === 0 && step.decided.length === 0) throw new PlannerStalledError('the planner returned an empty step before the run was complete');
    for (const o of step.decided) record(o);
    await Promise.all(
      step.tasks.map((t) =>
        evaluator.run(t).then((o) => {
          if (o.status === 'error') throw new TrialFailedError(o);
          evaluatedHere++;
          record(o);
          tick(false);
        }),
      ),
    );
  }
  tick(true);
}
