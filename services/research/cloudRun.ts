/**
 * A walk-forward run in an object store (the artifact bucket), in the rounds Step Functions
 * drives: plan (the same planner as a local run, over the trial log read back from the store),
 * evaluate (a Distributed Map over Lambda workers, each a batch of trials, the same evaluateBatch
 * as a local worker thread), repeat until the planner says done, then report.
 *
 * Keys under the run's prefix `research/<runId>/`:
 *   job.json                the job (OptimizeJob), the data keys and symbols: what was asked for
 *   spec.json               the RunSpec, built by the first plan from the job and the data's range
 *   batches/<round>.json    a JSON array of TrialTask: the Distributed Map's items for the round
 *   trials/t<first>-<last>.jsonl   the outcomes of one worker batch (the trial log, in parts)
 *   trials/d<round>.jsonl   outcomes the planner decided itself (invalid points, repeats)
 *   report.json, report.html
 * Every write is deterministic for its key, so a retried Lambda overwrites with the same content.
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { ObjectStore } from '../ml/archive.js';
import type { SymbolSeries } from '../backtest/engine.js';
import { analyseRun, type OptimizeReport } from './analysis.js';
import { TrialFailedError } from './runner.js';
import { optimizeReportHtml } from './report/optimizeHtml.js';
import { buildRunSpec, dataRange, digest, optimizeJobSchema } from './runSpec.js';
import { evaluateBatch, type Clock, type TrialOutcome, type TrialTask } from './trial.js';
import { parseTrialLog, trialLine } from './trialLog.js';
import { WalkForwardPlanner, type RunSpec } from './walkForward.js';

export const RESEARCH_PREFIX = 'research/';

/** What a cloud run is asked for: the job, where its candles are in the store, which symbols. */
export const cloudJobSchema = z.strictObject({
  job: optimizeJobSchema,
  /** Candle files in the store (uploaded under the run, or the candle archive's day files). */
  data: z.array(z.string().min(1)).min(1),
  symbols: z.array(z.string()).default([]),
  /**
   * Who waits for the result: a console job (Telegram /optimize). The report step answers it
   * through the alerts queue; `ran` says what the job ran, in the answer.
   */
  notify: z.strictObject({ jobId: z.string().min(1).max(100), ran: z.string().max(1000) }).optional(),
});
export type CloudJob = z.input<typeof cloudJobSchema>;

/** Loads candle files from the store into series (the adapter downloads and parses them). */
export type LoadData = (keys: readonly string[], symbols: readonly string[]) => Promise<readonly SymbolSeries[]>;

const enc = new TextEncoder();
const dec = new TextDecoder();

async function getJson(store: ObjectStore, key: string): Promise<unknown> {
  const b = await store.get(key);
  if (!b) return null;
  return JSON.parse(dec.decode(b)) as unknown;
}
const putJson = (store: ObjectStore, key: string, value: unknown): Promise<void> => store.put(key, enc.encode(JSON.stringify(value)), 'application/json');

/** The run id of a cloud job: a digest of the job and its data keys. */
export function cloudRunId(job: CloudJob): string {
  return digest(JSON.stringify(cloudJobSchema.parse(job)));
}

/** Writes job.json under a new run prefix; returns the prefix (the state machine's input). */
export async function writeCloudJob(store: ObjectStore, job: CloudJob): Promise<{ runId: string; runPrefix: string }> {
  const parsed = cloudJobSchema.safeParse(job);
  if (!parsed.success) throw new ConfigError(`invalid optimisation job: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(job)'}: ${i.message}`).join('; ')}`, { cause: parsed.error });
  const runId = cloudRunId(parsed.data);
  const runPrefix = `${RESEARCH_PREFIX}${runId}/`;
  await putJson(store, `${runPrefix}job.json`, parsed.data);
  return { runId, runPrefix };
}

/** Everything a run has: its job, spec and trial log. */
async function readRun(store: ObjectStore, runPrefix: string, loadData: LoadData): Promise<{ job: z.output<typeof cloudJobSchema>; spec: RunSpec; log: Map<number, TrialOutcome> }> {
  const raw = await getJson(store, `${runPrefix}job.json`);
  if (raw === null) throw new ConfigError(`${runPrefix}job.json: no such object (start the run with startOptimizationRun)`);
  const job = cloudJobSchema.parse(raw);
  let spec = (await getJson(store, `${runPrefix}spec.json`)) as RunSpec | null;
  if (!spec) {
    const series = await loadData(job.data, job.symbols);
    spec = { ...buildRunSpec(job.job, dataRange(series), job.data.map((k) => k.split('/').pop() ?? k)) };
    await putJson(store, `${runPrefix}spec.json`, spec);
  }
  const log = new Map<number, TrialOutcome>();
  for (const key of await store.list(`${runPrefix}trials/`)) {
    const b = await store.get(key);
    if (!b) continue;
    // Failed trials (logged by an older worker) run again.
    for (const [k, o] of parseTrialLog(dec.decode(b), spec.runId).outcomes) if (o.status !== 'error') log.set(k, o);
  }
  return { job, spec, log };
}

export interface PlanResult {
  readonly done: boolean;
  readonly runId: string;
  readonly round: number;
  /** The Distributed Map's item file for this round (absent when done). */
  readonly itemsKey?: string;
  readonly tasks: number;
  readonly logged: number;
  readonly total: number;
  /** The workers' shared input. */
  readonly batchInput: { readonly runPrefix: string; readonly runId: string; readonly data: readonly string[]; readonly symbols: readonly string[] };
}

/** One planning round: decided outcomes logged, the next tasks written as the round's items. */
export async function planRound(store: ObjectStore, runPrefix: string, loadData: LoadData): Promise<PlanResult> {
  const { job, spec, log } = await readRun(store, runPrefix, loadData);
  const planner = new WalkForwardPlanner(spec);
  const round = (await store.list(`${runPrefix}batches/`)).length;
  const batchInput = { runPrefix, runId: spec.runId, data: job.data, symbols: job.symbols };
  const decided: TrialOutcome[] = [];
  // The planner may decide a whole step itself (e.g. every hold-out choice flat): ask again.
  for (let guard = 0; guard < 1000; guard++) {
    const step = planner.next(log);
    if (!step) break;
    for (const o of step.decided) {
      log.set(o.trial, o);
      decided.push(o);
    }
    if (step.tasks.length > 0) {
      if (decided.length) await store.put(`${runPrefix}trials/d${String(round).padStart(4, '0')}.jsonl`, enc.encode(decided.map(trialLine).join('')), 'application/x-ndjson');
      const itemsKey = `${runPrefix}batches/${String(round).padStart(4, '0')}.json`;
      await putJson(store, itemsKey, step.tasks);
      return { done: false, runId: spec.runId, round, itemsKey, tasks: step.tasks.length, logged: log.size, total: planner.totalTrials, batchInput };
    }
    if (step.decided.length === 0) throw new ConfigError(`${runPrefix}: the planner returned an empty step before the run was complete`);
  }
  if (decided.length) await store.put(`${runPrefix}trials/d${String(round).padStart(4, '0')}.jsonl`, enc.encode(decided.map(trialLine).join('')), 'application/x-ndjson');
  return { done: true, runId: spec.runId, round, tasks: 0, logged: log.size, total: planner.totalTrials, batchInput };
}

/** The event a Distributed Map gives a worker: its batch of items and the shared input. */
export const workerEventSchema = z.object({
  Items: z.array(z.unknown()).min(1),
  BatchInput: z.object({ runPrefix: z.string().min(1), runId: z.string().min(1), data: z.array(z.string()).min(1), symbols: z.array(z.string()) }),
});
export type WorkerEvent = z.infer<typeof workerEventSchema>;

/** Evaluates a worker's batch and writes its part of the trial log; returns a small summary (map results must stay small). */
export async function runWorkerBatch(store: ObjectStore, event: WorkerEvent, loadData: LoadData, clock: Clock): Promise<{ key: string; trials: number; ok: number }> {
  const tasks = event.Items as TrialTask[];
  const b = event.BatchInput;
  for (const t of tasks) if (t.runId !== b.runId) throw new ConfigError(`worker: a task of run ${String(t.runId)} in a batch of run ${b.runId}`);
  const series = await loadData(b.data, b.symbols);
  const all = evaluateBatch({ runId: b.runId, data: b.data, symbols: b.symbols, tasks }, series, clock);
  // A failed trial is not logged (a rerun plans it again) and fails the batch, so the execution
  // stops with its error instead of reporting a verdict over the trials that worked.
  const outcomes = all.filter((o) => o.status !== 'error');
  const trials = tasks.map((t) => t.trial);
  const key = `${b.runPrefix}trials/t${String(Math.min(...trials)).padStart(6, '0')}-${String(Math.max(...trials)).padStart(6, '0')}.jsonl`;
  await store.put(key, enc.encode(outcomes.map(trialLine).join('')), 'application/x-ndjson');
  const failed = all.find((o) => o.status === 'error');
  if (failed) throw new TrialFailedError(failed);
  return { key, trials: outcomes.length, ok: outcomes.filter((o) => o.status === 'ok').length };
}

/** What the report step wrote; `report` and `notify` stay in the Lambda (the state keeps the rest). */
export interface ReportRunResult {
  readonly runId: string;
  readonly verdict: string;
  readonly reportKey: string;
  readonly report: OptimizeReport;
  readonly notify?: { readonly jobId: string; readonly ran: string };
}

/** The final round: the analysis and the page, written beside the log. */
export async function reportRun(store: ObjectStore, runPrefix: string, loadData: LoadData, now: number): Promise<ReportRunResult> {
  const { job, spec, log } = await readRun(store, runPrefix, loadData);
  const report: OptimizeReport = analyseRun(new WalkForwardPlanner(spec), log);
  await putJson(store, `${runPrefix}report.json`, report);
  await store.put(`${runPrefix}report.html`, enc.encode(optimizeReportHtml(report, { command: `npm run optimize -- --on aws (run ${spec.runId})`, generatedAt: now })), 'text/html');
  return { runId: spec.runId, verdict: report.verdict.sentence, reportKey: `${runPrefix}report.json`, report, ...(job.notify ? { notify: job.notify } : {}) };
}

/** The job of a run, for a step that only has its prefix (the failure answer). */
export async function readCloudJob(store: ObjectStore, runPrefix: string): Promise<z.output<typeof cloudJobSchema> | undefined> {
  const raw = await getJson(store, `${runPrefix}job.json`);
  const parsed = cloudJobSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}

/** Starts a run from a job description (the Telegram bot's /optimize, `npm run optimize -- --on aws`). */
export async function startOptimizationRun(
  deps: { readonly store: ObjectStore; readonly startExecution: (name: string, input: { runPrefix: string }) => Promise<string> },
  job: CloudJob,
  attempt = 0,
): Promise<{ runId: string; runPrefix: string; executionArn: string }> {
  const { runId, runPrefix } = await writeCloudJob(deps.store, job);
  // One execution name per attempt: Step Functions refuses a name used in the last 90 days, and
  // a rerun of the same job continues from its trial log.
  const executionArn = await deps.startExecution(`${runId}-${attempt}`, { runPrefix });
  return { runId, runPrefix, executionArn };
}
