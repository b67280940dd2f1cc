/**
 * The walk-forward optimiser's planner: from the run's spec and the trials logged so far, which
 * trials run next. It holds no state of its own: everything follows from the spec and the log, so
 * a killed run resumes by reading its log, an AWS run plans each round in a fresh Lambda, and the
 * trials (and so the results) are the same whatever the number of workers.
 *
 * Per fold (the final, hold-out fold included), `trialsPerFold` search trials on the training
 * span: the first `startupTrials` from a scrambled Halton sequence, the rest proposed by TPE in
 * batches of `batchSize`, each batch from the trials before it; every fifth of those is a
 * quasi-random point again (EXPLORE_EVERY), so that TPE's greed cannot lock a fold into the
 * corner its first good trial happened to land in. Then each fold's choice (the best
 * neighbourhood score, see selection.ts) and the untuned config are run on the fold's test span;
 * last, the final fold's choice and the untuned config on the hold-out, once.
 *
 * Trial numbers: fold f's search trial k is f x trialsPerFold + k; after all search trials come,
 * per walk-forward fold, its out-of-sample run and its untuned run, then the two hold-out runs.
 */
import { seededRandom } from '../ml/random.js';
import type { Fold, FoldPlan } from './folds.js';
import { HaltonSequence } from './search/halton.js';
import { proposeTpe, type Point } from './search/tpe.js';
import { paretoRanks } from './search/pareto.js';
import { SearchSpace, sameValue, type ParamValues, type SpaceInput } from './space.js';
import { objectiveValue, type ObjectiveName } from './objectives.js';
import type { StrategyRef } from './strategies.js';
import type { TrialOutcome, TrialPhase, TrialTask } from './trial.js';
import { selectFold } from './selection.js';

export interface RunSpec {
  readonly v: 1;
  readonly runId: string;
  readonly strategy: StrategyRef;
  /** The space file as given (validated again wherever the spec is read). */
  readonly space: SpaceInput;
  /** The user's config overrides under the space. */
  readonly baseConfig: Record<string, unknown>;
  readonly objectives: readonly ObjectiveName[];
  readonly minTrades: number;
  readonly trialsPerFold: number;
  readonly startupTrials: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Neighbours averaged into a trial's neighbourhood score. */
  readonly neighbours: number;
  /** CSCV blocks (even). */
  readonly pboBlocks: number;
  readonly plan: FoldPlan;
  /** How the folds were asked for, for the report: scheme, days. */
  readonly foldSettings: { readonly scheme: string; readonly trainDays: number; readonly testDays: number; readonly embargoDays: number; readonly holdoutDays: number; readonly warmupDays: number };
  /** What the data was (file names or object keys), for the report. */
  readonly data: readonly string[];
}

/** Every this many model-guided trials, one is quasi-random instead (exploration). */
const EXPLORE_EVERY = 5;

/** Proposals per trial before giving up on finding a valid, new point. */
const MAX_ATTEMPTS = 10;

/** A deterministic 32-bit mix of integers (seeds per fold, trial and attempt). */
export function mixSeed(...xs: number[]): number {
  let h = 0x811c9dc5;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

export interface NextStep {
  /** Trials to run on workers. */
  readonly tasks: TrialTask[];
  /** Outcomes the planner decided itself (invalid points, repeats of earlier trials): log them too. */
  readonly decided: TrialOutcome[];
}

const sameValues = (a: ParamValues, b: ParamValues): boolean => {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => sameValue(a[k], b[k]));
};

export class WalkForwardPlanner {
  readonly space: SearchSpace;
  readonly folds: readonly Fold[];

  constructor(readonly spec: RunSpec) {
    this.space = SearchSpace.parse(spec.space, spec.baseConfig);
    this.folds = spec.plan.final ? [...spec.plan.folds, spec.plan.final] : [...spec.plan.folds];
  }

  /** First trial number after the search trials. */
  get evalBase(): number {
    return this.folds.length * this.spec.trialsPerFold;
  }

  /** Trial number of a fold's out-of-sample run (base: the untuned config's). */
  evalTrial(fold: Fold, base: boolean): number {
    const wf = this.spec.plan.folds.length;
    const slot = fold.final ? 2 * wf : 2 * fold.index;
    return this.evalBase + slot + (base ? 1 : 0);
  }

  /** Every trial the run will have, when complete. */
  get totalTrials(): number {
    return this.evalBase + 2 * this.spec.plan.folds.length + (this.spec.plan.final ? 2 : 0);
  }

  /** The search outcomes of a fold, by k. */
  searchOutcomes(fold: Fold, log: ReadonlyMap<number, TrialOutcome>): TrialOutcome[] {
    const out: TrialOutcome[] = [];
    for (let k = 0; k < this.spec.trialsPerFold; k++) {
      const o = log.get(fold.index * this.spec.trialsPerFold + k);
      if (o) out.push(o);
    }
    return out;
  }

  /**
   * What to do next given the outcomes so far (by trial number); null when the run is complete.
   * An empty step (no tasks, nothing decided) means: wait for the trials in flight.
   */
  next(log: ReadonlyMap<number, TrialOutcome>): NextStep | null {
    const step: NextStep = { tasks: [], decided: [] };
    let searching = false;
    for (const fold of this.folds) if (this.planSearch(fold, log, step)) searching = true;
    if (searching) return step;
    const wantOos: [Fold, boolean][] = this.spec.plan.folds.flatMap((f): [Fold, boolean][] => [
      [f, false],
      [f, true],
    ]);
    let pendingOos = false;
    for (const [fold, base] of wantOos) {
      if (log.has(this.evalTrial(fold, base))) continue;
      pendingOos = true;
      const t = this.evalTask(fold, base, log);
      if ('task' in t) step.tasks.push(t.task);
      else step.decided.push(t.outcome);
    }
    if (pendingOos) return step;
    const final = this.spec.plan.final;
    if (!final) return null;
    let pendingHoldout = false;
    for (const base of [false, true]) {
      if (log.has(this.evalTrial(final, base))) continue;
      pendingHoldout = true;
      const t = this.evalTask(final, base, log);
      if ('task' in t) step.tasks.push(t.task);
      else step.decided.push(t.outcome);
    }
    return pendingHoldout ? step : null;
  }

  private task(trial: number, fold: Fold, phase: TrialPhase, values: ParamValues, span: Fold['train']): TrialTask {
    return {
      runId: this.spec.runId,
      trial,
      fold: fold.index,
      phase,
      values,
      config: this.space.rawConfig(values),
      strategy: this.spec.strategy,
      span,
      warmupMs: this.spec.plan.warmupMs,
    };
  }

  /** The out-of-sample (or hold-out) run of a fold's choice, or of the untuned config. */
  private evalTask(fold: Fold, base: boolean, log: ReadonlyMap<number, TrialOutcome>): { task: TrialTask } | { outcome: TrialOutcome } {
    const phase: TrialPhase = fold.final ? (base ? 'base-holdout' : 'holdout') : base ? 'base-oos' : 'oos';
    const trial = this.evalTrial(fold, base);
    if (base) return { task: this.task(trial, fold, phase, {}, fold.test) };
    const chosen = selectFold(this, fold, log);
    if (!chosen) {
      // Nothing in sample met the minimum trade count: the procedure would not trade this span.
      return { outcome: { v: 1, runId: this.spec.runId, trial, fold: fold.index, phase, values: {}, status: 'invalid', reason: 'no trial met the minimum trade count in sample: the procedure stays flat', metrics: null, returns: [], elapsedMs: 0 } };
    }
    return { task: this.task(trial, fold, phase, chosen.values, fold.test) };
  }

  /** Objective vector of an outcome (null when any objective is undefined). */
  objectiveVector(o: TrialOutcome): number[] | null {
    if (o.status !== 'ok' || !o.metrics) return null;
    const v: number[] = [];
    for (const name of this.spec.objectives) {
      const x = objectiveValue(name, o.metrics, this.spec.minTrades);
      if (x === null) return null;
      v.push(x);
    }
    return v;
  }

  /** Plans the fold's next search batch into `step`; false when the fold's search is complete. */
  private planSearch(fold: Fold, log: ReadonlyMap<number, TrialOutcome>, step: NextStep): boolean {
    const { trialsPerFold: n, startupTrials, batchSize } = this.spec;
    const first = fold.index * n;
    let k0 = 0;
    while (k0 < n && log.has(first + k0)) k0++;
    if (k0 === n) return false;
    // The batch the first missing trial belongs to: the quasi-random start is one batch.
    const start = k0 < startupTrials ? 0 : startupTrials + Math.floor((k0 - startupTrials) / batchSize) * batchSize;
    const end = k0 < startupTrials ? startupTrials : Math.min(n, start + batchSize);
    const model = k0 < startupTrials ? null : this.modelInputs(fold, log, start);
    const proposed: { k: number; values: ParamValues }[] = [];
    for (let k = start; k < end; k++) {
      if (log.has(first + k)) {
        proposed.push({ k, values: (log.get(first + k) as TrialOutcome).values });
        continue;
      }
      let values: ParamValues = {};
      let reason: string | null = null;
      let dupOf: number | null = null;
      let pendingDup = false;
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        values = this.space.decode(this.propose(fold, k, attempt, model));
        const c = this.space.config(values);
        reason = c.ok ? null : c.reason;
        if (reason) continue;
        dupOf = null;
        pendingDup = false;
        for (let j = 0; j < k; j++) {
          const done = log.get(first + j);
          const earlier = done?.values ?? proposed.find((p) => p.k === j)?.values;
          if (earlier && sameValues(earlier, values)) {
            if (done) dupOf = first + j;
            else pendingDup = true;
            break;
          }
        }
        if (dupOf === null && !pendingDup) break;
      }
      proposed.push({ k, values });
      const trial = first + k;
      if (reason) {
        step.decided.push({ v: 1, runId: this.spec.runId, trial, fold: fold.index, phase: 'search', values, status: 'invalid', reason, metrics: null, returns: [], elapsedMs: 0 });
      } else if (dupOf !== null) {
        const o = log.get(dupOf) as TrialOutcome;
        step.decided.push({ ...o, trial, duplicateOf: dupOf, elapsedMs: 0 });
      } else if (!pendingDup) {
        step.tasks.push(this.task(trial, fold, 'search', values, fold.train));
      }
      // A repeat of a trial still in flight waits for it: the next step copies its outcome.
    }
    return true;
  }

  /** The trials before `before` (of this fold) as TPE sees them: points best first. */
  private modelInputs(fold: Fold, log: ReadonlyMap<number, TrialOutcome>, before: number): Point[] {
    const first = fold.index * this.spec.trialsPerFold;
    const scored: { point: Point; vec: number[]; k: number }[] = [];
    const unscored: Point[] = [];
    for (let k = 0; k < before; k++) {
      const o = log.get(first + k);
      if (!o || o.duplicateOf !== undefined) continue;
      const point = this.space.encode(o.values);
      const vec = this.objectiveVector(o);
      if (vec) scored.push({ point, vec, k });
      else unscored.push(point);
    }
    if (this.spec.objectives.length > 1) {
      const ranks = paretoRanks(scored.map((s) => s.vec));
      const order = scored.map((s, i) => ({ s, r: ranks[i] as number })).sort((a, b) => a.r - b.r || (b.s.vec[0] as number) - (a.s.vec[0] as number) || a.s.k - b.s.k);
      return [...order.map((x) => x.s.point), ...unscored];
    }
    scored.sort((a, b) => (b.vec[0] as number) - (a.vec[0] as number) || a.k - b.k);
    return [...scored.map((s) => s.point), ...unscored];
  }

  /** The point of search trial k of a fold (attempt > 0: a retry after an invalid or repeated point). */
  private propose(fold: Fold, k: number, attempt: number, model: Point[] | null): Point {
    const { trialsPerFold: n, seed, startupTrials } = this.spec;
    const explore = k >= startupTrials && (k - startupTrials) % EXPLORE_EVERY === EXPLORE_EVERY - 1;
    if (model === null || model.length < 2 || explore) {
      const halton = new HaltonSequence(this.space.dims.length, mixSeed(seed, fold.index));
      return this.space.fromUnit(halton.point(k + attempt * n));
    }
    return proposeTpe(this.space.dims, model, seededRandom(mixSeed(seed, fold.index, k, attempt)));
  }
}
