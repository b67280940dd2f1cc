/**
 * Which search trial a fold takes out of sample: the best neighbourhood score of the first
 * objective (search/neighbourhood.ts), so a plateau beats a peak; with several objectives, only
 * trials on the Pareto front of the raw objectives are eligible. Trials below the minimum trade
 * count are never chosen.
 */
import type { Fold } from './folds.js';
import { neighbourhoodScores } from './search/neighbourhood.js';
import { paretoRanks } from './search/pareto.js';
import type { ParamValues } from './space.js';
import type { TrialOutcome } from './trial.js';
import type { WalkForwardPlanner } from './walkForward.js';

export interface FoldChoice {
  readonly trial: number;
  readonly values: ParamValues;
  /** The chosen trial's objectives (raw, in sample). */
  readonly objectives: readonly number[];
  /** Its neighbourhood score (first objective). */
  readonly score: number;
  /** The trial with the best raw first objective, for comparison (a sharp peak, often). */
  readonly rawBest: { readonly trial: number; readonly objective: number };
  /** Trial numbers of the Pareto front (several objectives), else empty. */
  readonly front: readonly number[];
}

/** The fold's choice, or null when no trial met the minimum trade count. */
export function selectFold(planner: WalkForwardPlanner, fold: Fold, log: ReadonlyMap<number, TrialOutcome>): FoldChoice | null {
  const trials = planner.searchOutcomes(fold, log).filter((o) => o.status === 'ok' && o.duplicateOf === undefined);
  const vecs = trials.map((o) => planner.objectiveVector(o));
  const points = trials.map((o) => planner.space.encode(o.values));
  const scores = neighbourhoodScores(
    planner.space.dims,
    points,
    vecs.map((v) => (v ? (v[0] as number) : null)),
    planner.spec.neighbours,
  );
  const eligible = trials.map((_, i) => i).filter((i) => vecs[i] !== null);
  if (eligible.length === 0) return null;
  let front: number[] = [];
  let pool = eligible;
  if (planner.spec.objectives.length > 1) {
    const ranks = paretoRanks(eligible.map((i) => vecs[i] as number[]));
    pool = eligible.filter((_, j) => ranks[j] === 0);
    front = pool.map((i) => (trials[i] as TrialOutcome).trial);
  }
  let best = pool[0] as number;
  for (const i of pool) {
    const s = scores[i] as number;
    const b = scores[best] as number;
    const raw = (vecs[i] as number[])[0] as number;
    const rawB = (vecs[best] as number[])[0] as number;
    if (s > b || (s === b && raw > rawB)) best = i;
  }
  let peak = eligible[0] as number;
  for (const i of eligible) if (((vecs[i] as number[])[0] as number) > ((vecs[peak] as number[])[0] as number)) peak = i;
  const chosen = trials[best] as TrialOutcome;
  return {
    trial: chosen.trial,
    values: chosen.values,
    objectives: vecs[best] as number[],
    score: scores[best] as number,
    rawBest: { trial: (trials[peak] as TrialOutcome).trial, objective: (vecs[peak] as number[])[0] as number },
    front,
  };
}
