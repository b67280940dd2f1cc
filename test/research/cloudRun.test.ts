/**
 * The AWS run, locally: the optimisation's rounds driven the way the state machine drives them
 * (lib/researchRunner.ts: plan -> Distributed Map -> plan ... -> report), with the real control and
 * worker handlers over a local folder standing in for the bucket, and the worker batches cut from
 * the round's item file exactly as the Map's ItemBatcher does (BATCH_TRIALS items, the shared
 * BatchInput). It must reach the very report a local run of the same job reaches: the worker is
 * the same code as a local worker thread. startOptimizationRun is what the Telegram bot calls.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { createControlHandler } from '../../lambdas/optimize-control/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { BATCH_TRIALS } from '../../lib/researchRunner.js';
import { runWorkerBatch, startOptimizationRun } from '../../services/research/cloudRun.js';
import { parseTrialLog } from '../../services/research/trialLog.js';
import { playResearchMachine } from '../helpers/researchMachine.js';
import { buildRunSpec, dataRange, type OptimizeJob } from '../../services/research/runSpec.js';
import { WalkForwardPlanner } from '../../services/research/walkForward.js';
import { driveWalkForward, TrialFailedError } from '../../services/research/runner.js';
import { analyseRun, type OptimizeReport } from '../../services/research/analysis.js';
import { evaluateTrial, type TrialOutcome, type TrialTask } from '../../services/research/trial.js';
import { loadSeries } from '../../cli/loadSeries.js';
import { ConfigError } from '../../services/core/errors.js';
import { runOnAws, type AwsDeps } from '../../cli/optimizeAws.js';
import { parseOptimizeArgs } from '../../cli/optimize.js';

const FILE = 'test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const job: OptimizeJob = {
  space: { parameters: { 'entry.proximityPct': { type: 'float', min: 0.1, max: 0.4, step: 0.1 }, 'exit.timeStopMinutes': { type: 'int', min: 60, max: 240, step: 60 } } },
  objective: 'net-return',
  trials: 4,
  startup: 3,
  batch: 1,
  trainDays: 0.5,
  testDays: 0.3,
  embargoDays: 0.05,
  holdoutDays: 0.3,
  warmupDays: 0.25,
  minTrades: 1,
};

describe('the optimisation on AWS, run locally', () => {
  it('starts from a job description, loops plan and Distributed Map batches, and reports what a local run reports', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cloud-run-'));
    dirs.push(root);
    const store = new LocalFolderStore(join(root, 'bucket'));
    // The data, uploaded to the bucket as the CLI does (the key keeps the symbol folder).
    const key = 'research/data/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
    mkdirSync(join(root, 'bucket', 'research', 'data', 'BTCUSDT'), { recursive: true });
    copyFileSync(FILE, join(root, 'bucket', key));

    const started: { name: string; input: { runPrefix: string } }[] = [];
    const run = await startOptimizationRun({ store, startExecution: (name, input) => (started.push({ name, input }), Promise.resolve(`arn:aws:states:::execution:x:${name}`)) }, { job, data: [key] });
    expect(started).toEqual([{ name: `${run.runId}-0`, input: { runPrefix: `research/${run.runId}/` } }]);

    const machine = await playResearchMachine(store, run.runPrefix, join(root, 'tmp'));
    expect(machine.rounds).toBeGreaterThan(2);
    expect(machine.invocations).toBeGreaterThan(machine.rounds);
    expect(machine.batchSizes.every((n) => n >= 1 && n <= BATCH_TRIALS)).toBe(true);
    const cloud = JSON.parse(readFileSync(join(root, 'bucket', run.runPrefix, 'report.json'), 'utf8')) as OptimizeReport;
    expect(cloud.verdict.sentence).toBe(machine.verdict);
    expect(readFileSync(join(root, 'bucket', run.runPrefix, 'report.html'), 'utf8')).toContain('Walk-forward optimisation');

    // The same job on one machine, in process.
    const { series } = loadSeries([FILE]);
    const spec = buildRunSpec(job, dataRange(series), ['1m-2021-04-18_2021-04-21-slice.csv.gz']);
    expect(spec.runId).toBe(cloud.runId);
    const planner = new WalkForwardPlanner(spec);
    const log = new Map<number, TrialOutcome>();
    await driveWalkForward(planner, log, { run: (t) => Promise.resolve(evaluateTrial(t, series)) }, { record: () => undefined });
    const local = analyseRun(planner, log);
    const strip = (r: OptimizeReport): string => JSON.stringify({ ...r, trials: { ...r.trials, elapsedMs: 0 } });
    expect(strip(cloud)).toBe(strip(local));
  }, 60_000);

  it('refuses a malformed job and an event for another prefix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cloud-run-'));
    dirs.push(root);
    const store = new LocalFolderStore(root);
    await expect(startOptimizationRun({ store, startExecution: () => Promise.resolve('x') }, { job, data: [] })).rejects.toThrow(ConfigError);
    const control = createControlHandler(() => ({ store, loadData: () => Promise.resolve([]), now: () => 0 }));
    await expect(control({ action: 'plan', runPrefix: '../etc/' }, localContext('t', 'r'))).rejects.toThrow(/runPrefix/);
    await expect(control({ action: 'plan', runPrefix: 'research/0123456789ab/' }, localContext('t', 'r'))).rejects.toThrow(/job\.json: no such object/);
  });
});

describe('a failed trial on AWS', () => {
  it('fails the worker batch with the trial\'s error and logs only the trials that worked, so the execution stops and a rerun plans it again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cloud-fail-'));
    dirs.push(root);
    const store = new LocalFolderStore(root);
    const series = loadSeries([FILE], []).series;
    const first = series[0]?.candles[0]?.openTime as number;
    const task = (trial: number, start: number): TrialTask => ({
      runId: 'r1', trial, fold: 0, phase: 'search', values: {}, config: {}, strategy: { name: 'sr' }, span: { start, end: start + 6 * 3_600_000 }, warmupMs: 0,
    });
    // Trial 1's span is a year before the data: no candles, a failure (not an invalid point).
    const event = { Items: [task(0, first + 3_600_000), task(1, first - 365 * 86_400_000)], BatchInput: { runPrefix: 'research/r1/', runId: 'r1', data: ['x'], symbols: [] } };
    const failed = await runWorkerBatch(store, event, () => Promise.resolve(series), () => 0).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(TrialFailedError);
    expect((failed as Error).message).toBe('trial 1 (fold 0, search) failed, so the run stops: no candles in the span');
    const keys = await store.list('research/r1/trials/');
    expect(keys).toHaveLength(1);
    const logged = parseTrialLog(new TextDecoder().decode((await store.get(keys[0] as string))), 'r1').outcomes;
    expect([...logged.keys()]).toEqual([0]);
    expect(logged.get(0)?.status).toBe('ok');
  });
});

describe('npm run optimize -- --on aws', () => {
  it('uploads the data once, starts an execution (the next name when one is taken), follows it and downloads the report', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cloud-cli-'));
    dirs.push(root);
    const store = new LocalFolderStore(join(root, 'bucket'));
    writeFileSync(join(root, 'space.json'), JSON.stringify(job.space));
    const names: string[] = [];
    const taken = new Set<string>();
    let polls = 0;
    const deps: AwsDeps = {
      store,
      start: (name, input) => {
        names.push(name);
        if (taken.has(name)) return Promise.resolve(null);
        taken.add(name);
        expect((input as { runPrefix: string }).runPrefix).toMatch(/^research\/[0-9a-f]{12}\/$/);
        return Promise.resolve(`arn:aws:states:us-east-1:123456789012:execution:sm:${name}`);
      },
      // The first poll finds it running; meanwhile the machine plays to the end.
      status: async (executionArn) => {
        polls++;
        if (polls === 1) {
          const prefix = `research/${executionArn.split(':').pop()!.split('-')[0]!}/`;
          await playResearchMachine(store, prefix, join(root, `tmp-${polls}`));
          return { status: 'RUNNING' };
        }
        return { status: 'SUCCEEDED' };
      },
      sleep: () => Promise.resolve(),
      pollMs: 0,
    };
    const argv = ['--on', 'aws', '--bucket', 'b', '--state-machine', 'arn:sm', '--data', FILE, '--space', join(root, 'space.json'), '--objective', 'net-return',
      '--trials', '4', '--startup', '3', '--batch', '1', '--train', '0.5', '--test', '0.3', '--embargo', '0.05', '--holdout', '0.3', '--warmup', '0.25', '--min-trades', '1', '--out', join(root, 'out'), '--quiet'];
    const logs: string[] = [];
    const io = { log: (s: string) => logs.push(s), err: () => undefined };
    const report = await runOnAws(parseOptimizeArgs(argv, io), io, deps);
    expect(report?.verdict.sentence.length).toBeGreaterThan(10);
    expect(JSON.parse(readFileSync(join(root, 'out', 'report.json'), 'utf8'))).toEqual(report);
    expect(logs.join('\n')).toContain('verdict');
    const uploaded = await store.list('research/data/');
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]).toMatch(/^research\/data\/[0-9a-f]{12}\/BTCUSDT\/1m-2021-04-18_2021-04-21-slice\.csv\.gz$/);
    // Again: the data is not uploaded twice, the used name is skipped, and the run resumes from its log.
    polls = 0;
    await runOnAws(parseOptimizeArgs(argv, io), io, deps);
    expect(await store.list('research/data/')).toEqual(uploaded);
    expect(names.map((n) => n.split('-')[1])).toEqual(['0', '0', '1']);
  }, 60_000);
});
