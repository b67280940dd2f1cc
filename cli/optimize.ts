/**
 * `npm run optimize -- --data <files or folders> --space <space.json> --objective <name[,name]>
 *   [--trials N] [--folds rolling|anchored:<k>] [--train <days>] [--test <days>] [--holdout <days>]
 *   [--seed S] [--workers W] [--strategy <name or module>] --out <dir>` (and `--on aws`, see cli/optimizeAws.ts).
 *
 * Walk-forward optimisation over the search space; every trial is appended to <out>/trials.jsonl
 * as it completes, so the same command after a kill resumes where the run stopped. Writes
 * run.json (the spec), report.json and report.html.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigError } from '../services/core/errors.js';
import { BUILTIN_STRATEGIES } from '../services/strategy/builtin.js';
import type { SymbolSeries } from '../services/backtest/engine.js';
import { WorkerPool } from '../services/adapters/workers/pool.js';
import { analyseRun, type OptimizeReport } from '../services/research/analysis.js';
import { optimizeReportHtml } from '../services/research/report/optimizeHtml.js';
import { driveWalkForward, type TrialEvaluator } from '../services/research/runner.js';
import { evaluateTrial, type TrialBatch, type TrialOutcome } from '../services/research/trial.js';
import { parseTrialLog, trialLine } from '../services/research/trialLog.js';
import { WalkForwardPlanner, type RunSpec } from '../services/research/walkForward.js';
import { loadConfigInput, parseFlags, UsageError } from './args.js';
import { loadSeries } from './loadSeries.js';
import { DEFAULT_STRATEGY, ensureStrategies, researchStrategyRef } from './strategy.js';
import { buildRunSpec, dataRange, numberFlag, readJsonFile, type OptimizeJob } from './optimizeSpec.js';

export const OPTIMIZE_USAGE = `usage: npm run optimize -- --data <files or folders> --space <space.json> --objective <name[,name...]> --out <dir>
         [--trials N] [--folds rolling|anchored:<k>] [--train <days>] [--test <days>] [--embargo <days>]
         [--holdout <days>] [--warmup <days>] [--seed S] [--workers W] [--min-trades N] [--startup N]
         [--batch N] [--neighbours N] [--pbo-blocks N] [--config <file>] [--mode standard|hf]
         [--profile conservative|moderate|aggressive] [--symbols A,B] [--strategy <name or module>] [--quiet]
         [--on local|aws] [--bucket <name>] [--state-machine <arn>] [--no-wait]

  --space      search space (JSON; spaces/sr.json and spaces/breakout.json are the built-in strategies' defaults, see spaces/README.md)
  --strategy   sr, breakout or the path of a plug-in module (default: the space's "strategy"); every worker thread loads the module
  --objective  net-return, sharpe, sortino, calmar or profit-factor; several (comma-separated) give a Pareto front
  --trials     search trials per fold (default 100): the first --startup quasi-random, the rest TPE
  --folds      rolling (default) or anchored:<k>; --train 10, --test 5, --embargo 1, --holdout 5, --warmup 1 days
  --min-trades a span with fewer trades has no objective value (default 10)
               (a space's "defaults" may set --train, --test, --embargo, --holdout, --warmup and --min-trades for its strategy; a flag wins)
  --workers    worker threads (default: every core); the trials do not depend on it
  --on aws     run on AWS Step Functions (Distributed Map over Lambda workers): see README, Research; needs
               --bucket (the stack output ArtifactBucketName, or OPTIMIZE_BUCKET) and --state-machine (the
               output ResearchStateMachineArn, or OPTIMIZE_STATE_MACHINE_ARN); --no-wait returns once it started
  --out        folder for run.json, trials.jsonl, report.json, report.html; the same command resumes a killed run`;

/** The command's flags (every one of them is in OPTIMIZE_USAGE: a test checks it). */
export const OPTIMIZE_FLAGS = {
  data: { type: 'string', multiple: true },
  space: { type: 'string' },
  objective: { type: 'string' },
  trials: { type: 'string' },
  startup: { type: 'string' },
  batch: { type: 'string' },
  folds: { type: 'string' },
  train: { type: 'string' },
  test: { type: 'string' },
  embargo: { type: 'string' },
  holdout: { type: 'string' },
  warmup: { type: 'string' },
  seed: { type: 'string' },
  workers: { type: 'string' },
  'min-trades': { type: 'string' },
  neighbours: { type: 'string' },
  'pbo-blocks': { type: 'string' },
  strategy: { type: 'string' },
  config: { type: 'string' },
  mode: { type: 'string' },
  profile: { type: 'string' },
  symbols: { type: 'string' },
  out: { type: 'string' },
  on: { type: 'string' },
  'state-machine': { type: 'string' },
  bucket: { type: 'string' },
  'no-wait': { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export interface OptimizeIo {
  log: (s: string) => void;
  err: (s: string) => void;
}

export interface ParsedOptimize {
  readonly job: OptimizeJob;
  readonly data: string[];
  readonly symbols: string[];
  readonly outDir: string;
  readonly workers: number;
  readonly on: 'local' | 'aws';
  readonly quiet: boolean;
  readonly aws: { readonly stateMachineArn?: string; readonly bucket?: string; readonly wait: boolean };
}

/** Parses the command line; UsageError for bad flags, ConfigError for bad files. */
export function parseOptimizeArgs(argv: readonly string[], io: OptimizeIo): ParsedOptimize {
  const parsed = parseFlags(argv, OPTIMIZE_FLAGS, true);
  const v = parsed.values;
  if (v.help) {
    io.log(OPTIMIZE_USAGE);
    throw new UsageError('');
  }
  const data = [...(v.data ?? []), ...parsed.positionals];
  if (data.length === 0) throw new UsageError('--data is required: one or more candle files or folders');
  if (!v.space) throw new UsageError('--space is required: a search space file (e.g. spaces/sr.json)');
  if (!v.objective) throw new UsageError('--objective is required: net-return, sharpe, sortino, calmar or profit-factor (comma-separated for several)');
  if (!v.out) throw new UsageError('--out is required: the folder for the trial log and the report');
  const on = v.on ?? 'local';
  if (on !== 'local' && on !== 'aws') throw new UsageError(`--on: expected local or aws, got "${on}"`);
  const workers = numberFlag('--workers', v.workers) ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new UsageError(`--workers: expected an integer 1..256, got ${workers}`);
  const intFlag = (name: string, s: string | undefined): number | undefined => numberFlag(name, s);
  const job: OptimizeJob = {
    space: readJsonFile(v.space, '--space'),
    spaceSource: v.space,
    objective: v.objective,
    baseConfig: loadConfigInput(v.config, { mode: v.mode, profile: v.profile }),
    ...defined({
      trials: intFlag('--trials', v.trials),
      startup: intFlag('--startup', v.startup),
      batch: intFlag('--batch', v.batch),
      folds: v.folds,
      trainDays: numberFlag('--train', v.train),
      testDays: numberFlag('--test', v.test),
      embargoDays: numberFlag('--embargo', v.embargo),
      holdoutDays: numberFlag('--holdout', v.holdout),
      warmupDays: numberFlag('--warmup', v.warmup),
      seed: intFlag('--seed', v.seed),
      minTrades: intFlag('--min-trades', v['min-trades']),
      neighbours: intFlag('--neighbours', v.neighbours),
      pboBlocks: intFlag('--pbo-blocks', v['pbo-blocks']),
      strategy: v.strategy,
    }),
  };
  const symbols = (v.symbols ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  return {
    job,
    data,
    symbols,
    outDir: resolve(v.out),
    workers,
    on,
    quiet: v.quiet,
    aws: { ...defined({ stateMachineArn: v['state-machine'], bucket: v.bucket }), wait: !v['no-wait'] },
  };
}

function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** The run's files in its --out folder. */
export function runFiles(outDir: string): { spec: string; log: string; report: string; html: string } {
  return { spec: join(outDir, 'run.json'), log: join(outDir, 'trials.jsonl'), report: join(outDir, 'report.json'), html: join(outDir, 'report.html') };
}

/** Checks --out: empty, or holding this very run (resume); anything else is refused. */
export function openRunFolder(outDir: string, spec: RunSpec): { resumed: Map<number, TrialOutcome>; dropped: number } {
  const f = runFiles(outDir);
  mkdirSync(outDir, { recursive: true });
  if (!existsSync(f.spec)) {
    writeFileSync(f.spec, JSON.stringify(spec, null, 2) + '\n');
    writeFileSync(f.log, '');
    return { resumed: new Map(), dropped: 0 };
  }
  const prev = readJsonFile(f.spec, '--out') as { runId?: unknown };
  if (prev.runId !== spec.runId)
    throw new ConfigError(`--out: ${outDir} holds another run (${String(prev.runId)}; this command is run ${spec.runId}): the settings, space or data differ. Use a new --out folder.`);
  const { outcomes, dropped } = existsSync(f.log) ? parseTrialLog(readFileSync(f.log, 'utf8'), spec.runId) : { outcomes: new Map<number, TrialOutcome>(), dropped: 0 };
  return { resumed: outcomes, dropped };
}

/** Evaluates trials in worker threads (W >= 2) or in this thread (W = 1): the same function either way. */
export function localEvaluator(series: readonly SymbolSeries[], batchBase: Omit<TrialBatch, 'tasks'>, workers: number): TrialEvaluator & { close(): Promise<void> } {
  if (workers <= 1) {
    return {
      run: async (task) => {
        await ensureStrategies([task.strategy]);
        return evaluateTrial(task, series, () => performance.now());
      },
      close: () => Promise.resolve(),
    };
  }
  const pool = new WorkerPool<TrialBatch, TrialOutcome[]>(new URL('./optimizeWorker.ts', import.meta.url), { size: workers });
  return {
    run: async (task) => {
      const out = await pool.run({ ...batchBase, tasks: [task] });
      return out[0] as TrialOutcome;
    },
    close: () => pool.close(),
  };
}

export interface OptimizeRun {
  readonly spec: RunSpec;
  readonly report: OptimizeReport;
  readonly outDir: string;
}

/** The whole command: parse, plan, run (or resume) locally, analyse and write the report. */
export async function optimizeCommand(argv: readonly string[], io: OptimizeIo): Promise<OptimizeRun | undefined> {
  const a = parseOptimizeArgs(argv, io);
  if (a.on === 'aws') {
    if (a.job.strategy !== undefined && !BUILTIN_STRATEGIES[a.job.strategy])
      throw new UsageError(`--on aws runs the built-in strategies only (${Object.keys(BUILTIN_STRATEGIES).join(', ')}): the Lambda workers cannot load ${a.job.strategy}; run it locally`);
    const { runOnAws } = await import('./optimizeAws.js');
    await runOnAws(a, io);
    return undefined;
  }
  // A plug-in (--strategy <module>, or a space whose strategy is one) is loaded here, so a bad
  // module fails before any trial, and its path goes into the spec for the worker threads.
  const spaceStrategy = (a.job.space as { strategy?: unknown } | null)?.strategy;
  const ref = await researchStrategyRef(a.job.strategy ?? (typeof spaceStrategy === 'string' ? spaceStrategy : DEFAULT_STRATEGY));
  const job: OptimizeJob = { ...a.job, strategy: ref.name, ...(ref.module ? { strategyModule: ref.module } : {}) };
  const loaded = loadSeries(a.data, a.symbols);
  const labels = loaded.files.map((f) => basename(f));
  const spec = buildRunSpec(job, dataRange(loaded.series), labels);
  const planner = new WalkForwardPlanner(spec);
  const { resumed, dropped } = openRunFolder(a.outDir, spec);
  const files = runFiles(a.outDir);
  io.err(
    `run ${spec.runId}: ${planner.folds.length - (spec.plan.final ? 1 : 0)} fold(s)${spec.plan.final ? ' + hold-out' : ''}, ${spec.trialsPerFold} trials each, ${planner.totalTrials} in all, on ${a.workers} worker(s)` +
      (resumed.size ? `; resuming with ${resumed.size} logged${dropped ? ` (${dropped} torn line(s) dropped)` : ''}` : ''),
  );
  const evaluator = localEvaluator(loaded.series, { runId: spec.runId, data: a.data, symbols: a.symbols }, a.workers);
  try {
    await driveWalkForward(planner, resumed, evaluator, {
      record: (o) => appendFileSync(files.log, trialLine(o)),
      ...(a.quiet ? {} : { progress: (l: string) => io.err(l), now: () => performance.now() }),
    });
  } finally {
    await evaluator.close();
  }
  const report = analyseRun(planner, resumed);
  writeFileSync(files.report, JSON.stringify(report) + '\n');
  writeFileSync(files.html, optimizeReportHtml(report, { command: `npm run optimize -- ${argv.join(' ')}`, generatedAt: Date.now() }));
  io.log(formatOptimizeSummary(report, a.outDir));
  return { spec, report, outDir: a.outDir };
}

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`);
const num = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? 'n/a' : x.toFixed(d));

/** The block printed at the end of a run. */
export function formatOptimizeSummary(r: OptimizeReport, outDir: string): string {
  const s = r.stitched;
  return [
    '',
    `Walk-forward ${r.strategy}, objective ${r.objectives.join('+')}: ${r.folds.length} fold(s)${r.holdout ? ' and the hold-out fold' : ''}, ${r.trials.distinct} distinct search trials in all`,
    `  out of sample  ${pct(s.outOfSampleReturnPct)} over ${s.days.toFixed(1)} days in ${s.outOfSampleTrades} trades (untuned ${pct(s.untunedReturnPct)}; in sample ${pct(s.inSampleReturnPct)})`,
    `  WFE ${num(r.walkForwardEfficiency)}  PBO ${num(r.pbo.pbo)}  median deflated Sharpe ${num(r.medianDeflatedSharpe, 3)}  OOS P(Sharpe>0) ${num(s.probabilisticSharpe, 3)}`,
    `  hold-out       ${r.holdout ? `${pct(r.holdout.outOfSample?.netReturnPct)} (untuned ${pct(r.holdout.untuned?.netReturnPct)})` : 'none'}`,
    `  verdict        ${r.verdict.sentence}`,
    `  written to     ${outDir}/{run.json, trials.jsonl, report.json, report.html}`,
  ].join('\n');
}
