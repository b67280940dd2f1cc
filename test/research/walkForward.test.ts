/**
 * The walk-forward planner and driver with a synthetic evaluator (no backtests: each trial's
 * figures are a known function of its parameters), so the search, the fold logic, the ordering
 * of out-of-sample and hold-out runs, resume and worker-count independence are checked in
 * milliseconds. The real kernel runs in test/cli/optimize-cli.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { planFolds } from '../../services/research/folds.js';
import { WalkForwardPlanner, type RunSpec } from '../../services/research/walkForward.js';
import { driveWalkForward, type TrialEvaluator } from '../../services/research/runner.js';
import { HOUR_MS, type TrialOutcome, type TrialTask } from '../../services/research/trial.js';
import { analyseRun } from '../../services/research/analysis.js';
import { parseTrialLog, trialLine } from '../../services/research/trialLog.js';
import { DAY_MS } from '../../services/core/timeframes.js';

const T0 = Date.UTC(2024, 0, 1);

function spec(over: Partial<RunSpec> = {}, space: RunSpec['space'] = defaultSpace): RunSpec {
  return {
    v: 1,
    runId: 'test',
    strategy: { name: 'sr' },
    space,
    baseConfig: {},
    objectives: ['net-return'],
    minTrades: 5,
    trialsPerFold: 40,
    startupTrials: 8,
    batchSize: 4,
    seed: 3,
    neighbours: 2,
    pboBlocks: 4,
    plan: planFolds({ start: T0, end: T0 + 20 * DAY_MS, scheme: { kind: 'rolling' }, trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 }),
    foldSettings: { scheme: 'rolling', trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 },
    data: ['synthetic'],
    ...over,
  };
}
const defaultSpace = {
  parameters: {
    'entry.proximityPct': { type: 'float' as const, min: 0.05, max: 0.5 },
    'entry.orderType': { type: 'choice' as const, values: ['market', 'limit'] },
  },
};

/** Synthetic figures: net return peaks at proximity 0.3 with limit orders; 4 trades below proximity 0.1. */
function synthetic(task: TrialTask): TrialOutcome {
  const x = Number(task.values['entry.proximityPct'] ?? 0.2);
  const limit = task.values['entry.orderType'] === 'limit';
  const ret = 2 - 100 * (x - 0.3) ** 2 + (limit ? 0.5 : 0) - (task.phase === 'search' ? 0 : 1.5);
  const hours = Math.round((task.span.end - task.span.start) / HOUR_MS);
  const per = ret / 100 / hours;
  const returns = Array.from({ length: hours }, (_, h) => Math.round((per + 0.0005 * Math.sin(h * 1.7 + x * 40)) * 1e8) / 1e8);
  const days = (task.span.end - task.span.start) / DAY_MS;
  return {
    v: 1,
    runId: task.runId,
    trial: task.trial,
    fold: task.fold,
    phase: task.phase,
    values: task.values,
    status: 'ok',
    metrics: { days, trades: x < 0.1 ? 4 : 20, netReturnPct: ret, maxDrawdownPct: 1, sharpe: ret, sortino: ret, calmar: ret, profitFactor: 1 + ret / 10, winRate: 50, fees: 1 },
    returns,
    elapsedMs: 1,
  };
}

/** An evaluator that finishes trials in a scrambled order (as parallel workers do). */
function scrambled(seed: number): TrialEvaluator & { tasks: TrialTask[] } {
  const tasks: TrialTask[] = [];
  let k = seed;
  return {
    tasks,
    run: (t) => {
      tasks.push(t);
      k = (k * 1103515245 + 12345) % 2147483648;
      const delay = k % 5;
      return new Promise((res) => setTimeout(() => res(synthetic(t)), delay));
    },
  };
}

async function run(s: RunSpec, evaluator: TrialEvaluator, log = new Map<number, TrialOutcome>()): Promise<{ planner: WalkForwardPlanner; log: Map<number, TrialOutcome>; order: TrialOutcome[] }> {
  const planner = new WalkForwardPlanner(s);
  const order: TrialOutcome[] = [];
  await driveWalkForward(planner, log, evaluator, { record: (o) => order.push(o) });
  return { planner, log, order };
}

const sorted = (log: Map<number, TrialOutcome>): TrialOutcome[] => [...log.values()].sort((a, b) => a.trial - b.trial).map((o) => ({ ...o, elapsedMs: 0 }));

describe('walk-forward planner', () => {
  it('plans rolling folds with an embargo, a warm-up and a final fold on the hold-out', () => {
    const p = spec().plan;
    // 20 days: warm-up 1, then train 6 + embargo 1 + test 3, sliding by 3, until the hold-out (last 3 days).
    expect(p.folds.map((f) => [(f.train.start - T0) / DAY_MS, (f.train.end - T0) / DAY_MS, (f.test.start - T0) / DAY_MS, (f.test.end - T0) / DAY_MS])).toEqual([
      [1, 7, 8, 11],
      [4, 10, 11, 14],
      [7, 13, 14, 17],
    ]);
    expect(p.final && [(p.final.train.start - T0) / DAY_MS, (p.final.train.end - T0) / DAY_MS, (p.final.test.start - T0) / DAY_MS]).toEqual([10, 16, 17]);
    const anchored = planFolds({ start: T0, end: T0 + 20 * DAY_MS, scheme: { kind: 'anchored', folds: 2 }, trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 });
    expect(anchored.folds.map((f) => [(f.train.start - T0) / DAY_MS, (f.train.end - T0) / DAY_MS, (f.test.end - T0) / DAY_MS])).toEqual([
      [1, 7, 11],
      [1, 10, 14],
    ]);
    expect(() => planFolds({ start: T0, end: T0 + 5 * DAY_MS, scheme: { kind: 'rolling' }, trainDays: 6, testDays: 3, embargoDays: 1, holdoutDays: 3, warmupDays: 1 })).toThrow(/do not fit/);
  });

  it('runs every search trial first, then each fold out of sample with its choice, then the hold-out once', async () => {
    const ev = scrambled(1);
    const { planner, log, order } = await run(spec(), ev);
    expect(log.size).toBe(planner.totalTrials);
    expect(planner.totalTrials).toBe(4 * 40 + 3 * 2 + 2);
    const phases = order.map((o) => o.phase);
    const lastSearch = phases.lastIndexOf('search');
    const firstOos = phases.indexOf('oos');
    expect(lastSearch).toBeLessThan(firstOos);
    expect(phases.slice(-2).sort()).toEqual(['base-holdout', 'holdout']);
    // The out-of-sample run of each fold uses the fold's choice, on the fold's test span.
    const r = analyseRun(planner, log);
    for (const f of planner.spec.plan.folds) {
      const t = ev.tasks.find((x) => x.phase === 'oos' && x.fold === f.index);
      expect(t?.span).toEqual(f.test);
      expect(t?.values).toEqual(r.folds[f.index]?.choice?.values);
    }
    // The search found the synthetic optimum (proximity 0.3, limit) in every fold.
    for (const f of r.folds) {
      expect(f.choice?.values['entry.orderType']).toBe('limit');
      expect(Math.abs(Number(f.choice?.values['entry.proximityPct']) - 0.3)).toBeLessThan(0.05);
    }
  });

  it('gives the same trials whatever the completion order, and resumes a killed run to the same end', async () => {
    const a = await run(spec(), scrambled(1));
    const b = await run(spec(), scrambled(99));
    expect(sorted(b.log)).toEqual(sorted(a.log));
    // A kill after 40 recorded outcomes, with the last line torn: read the log back and resume.
    const text = a.order.slice(0, 40).map(trialLine).join('') + trialLine(a.order[40] as TrialOutcome).slice(0, 25);
    const back = parseTrialLog(text, 'test');
    expect(back.dropped).toBe(1);
    expect(back.outcomes.size).toBe(40);
    const ev = scrambled(5);
    const c = await run(spec(), ev, back.outcomes);
    expect(ev.tasks.length).toBeLessThanOrEqual(a.log.size - 40);
    expect(sorted(c.log)).toEqual(sorted(a.log));
    expect(JSON.stringify(analyseRun(c.planner, c.log).verdict)).toBe(JSON.stringify(analyseRun(a.planner, a.log).verdict));
  });

  it('searches an array-valued key (entry.regimes): repeats found by content, also after a resume from the JSON log', async () => {
    const space = {
      parameters: {
        'entry.regimes': { type: 'choice' as const, values: [[], ['ranging'], ['ranging', 'quiet']] },
        'entry.orderType': { type: 'choice' as const, values: ['market', 'limit'] },
      },
    };
    // Six distinct points only: the other 34 trials per fold are repeats, logged without running.
    const ev = scrambled(2);
    const a = await run(spec({ trialsPerFold: 40 }, space), ev);
    const search = [...a.log.values()].filter((o) => o.phase === 'search');
    const ran = ev.tasks.filter((t) => t.phase === 'search');
    const folds = a.planner.folds.length;
    expect(ran.length).toBeLessThanOrEqual(6 * folds);
    expect(search.filter((o) => o.duplicateOf !== undefined).length).toBe(search.length - ran.length);
    for (const t of ran) expect(Array.isArray(t.config.entry && (t.config.entry as { regimes?: unknown }).regimes)).toBe(true);
    // Resume from half the log read back from JSON (new arrays, equal by content): nothing already run runs again.
    const back = parseTrialLog(a.order.slice(0, Math.floor(a.order.length / 2)).map(trialLine).join(''), 'test');
    const ranBefore = [...back.outcomes.values()].filter((o) => o.duplicateOf === undefined && o.status === 'ok').length;
    expect(ranBefore).toBeGreaterThan(0);
    const ev2 = scrambled(7);
    const c = await run(spec({ trialsPerFold: 40 }, space), ev2, back.outcomes);
    expect(sorted(c.log)).toEqual(sorted(a.log));
    expect(ev2.tasks.length).toBe(ev.tasks.length - ranBefore);
    const report = analyseRun(c.planner, c.log);
    expect(report.stability['entry.regimes']?.values.every((v) => Array.isArray(v))).toBe(true);
  });

  it('logs invalid points and repeats without running them', async () => {
    const tiny = {
      parameters: {
        'exit.primaryTargetMinPct': { type: 'float' as const, min: 1, max: 3, step: 1 },
        'entry.orderType': { type: 'choice' as const, values: ['market', 'limit'] },
      },
      constraints: ['exit.primaryTargetMinPct <= 2'],
    };
    const ev = scrambled(2);
    const { log } = await run(spec({ trialsPerFold: 12, startupTrials: 4 }, tiny), ev);
    const search = [...log.values()].filter((o) => o.phase === 'search');
    // 3 x 2 grid, one third off-limits: every fold's 12 trials cover at most 4 valid points.
    const invalid = search.filter((o) => o.status === 'invalid');
    const repeats = search.filter((o) => o.duplicateOf !== undefined);
    expect(invalid.length + repeats.length).toBeGreaterThan(0);
    for (const o of invalid) expect(o.reason).toMatch(/constraint|exit\.primaryTargetMinPct/);
    const ran = ev.tasks.filter((t) => t.phase === 'search');
    expect(ran.every((t) => Number(t.values['exit.primaryTargetMinPct']) <= 2)).toBe(true);
    for (const fold of [0, 1, 2, 3]) {
      const keys = ran.filter((t) => t.fold === fold).map((t) => JSON.stringify(t.values));
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it('stays flat out of sample when no trial meets the minimum trade count', async () => {
    const { planner, log } = await run(spec({ minTrades: 1000, trialsPerFold: 6, startupTrials: 4 }), scrambled(3));
    const r = analyseRun(planner, log);
    expect(r.folds.every((f) => f.choice === null)).toBe(true);
    expect(r.stitched.outOfSampleReturnPct).toBe(0);
    expect(r.verdict.survives).toBe(false);
    expect(r.verdict.sentence).toMatch(/^Nothing survives out of sample: no parameter set reached 1000 trades/);
  });

  it('computes WFE from the folds it reports', async () => {
    const { planner, log } = await run(spec(), scrambled(4));
    const r = analyseRun(planner, log);
    const f = r.folds[0]!;
    const is = f.inSample!;
    const oos = f.outOfSample!;
    expect(f.wfe).toBeCloseTo(oos.netReturnPct / oos.days / (is.netReturnPct / is.days), 9);
    // Synthetic OOS returns are 1.5 points below in sample: (2.5 - 1.5) / 3 days over 2.5 / 6 days = 0.8.
    expect(f.wfe).toBeCloseTo(0.8, 1);
  });
});
