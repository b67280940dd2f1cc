/**
 * /optimize as a job: the archive's day files picked per symbol (by hand: the last N days of
 * each), the local runner (`npm run optimize` in a child process over the bundled sample when the
 * archive is short) answering later with the job id, what ran and the verdict, and one job at a
 * time; on AWS, the job written with who waits for it, the state machine started, and the report
 * step (or the failure catch) answering through the alerts queue.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localOptimizeRunner } from '../../fargate/console.js';
import { createControlHandler } from '../../lambdas/optimize-control/handler.js';
import { localContext } from '../../lambdas/shared/powertools.js';
import { LocalFolderStore } from '../../services/adapters/s3/localFolderStore.js';
import { CONSOLE_OPTIMIZE, consoleOptimizeJob, pickArchiveDays, startCloudOptimize } from '../../services/console/optimizeJob.js';
import type { AlertEvent } from '../../services/events/types.js';
import { readCloudJob, startOptimizationRun } from '../../services/research/cloudRun.js';
import srSpace from '../../spaces/sr.json' with { type: 'json' };
import { playResearchMachine } from '../helpers/researchMachine.js';
import { consoleHarness, OPERATOR } from './fixtures.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('pickArchiveDays', () => {
  it('takes the most recent days of each symbol, restricted to the given symbols, and says the span', () => {
    const keys = ['candles/DOGEUSDT/2026-06-01.csv', 'candles/DOGEUSDT/2026-06-03.csv', 'candles/DOGEUSDT/2026-06-02.csv', 'candles/PEPEUSDT/2026-06-03.csv', 'candles/BTCUSDT/2026-06-03.csv', 'candles/README.md'];
    const p = pickArchiveDays(keys, ['DOGEUSDT', 'PEPEUSDT'], 2);
    expect(p.keys).toEqual(['candles/DOGEUSDT/2026-06-02.csv', 'candles/DOGEUSDT/2026-06-03.csv', 'candles/PEPEUSDT/2026-06-03.csv']);
    expect(p).toMatchObject({ symbols: ['DOGEUSDT', 'PEPEUSDT'], days: 2, first: '2026-06-02', last: '2026-06-03' });
    expect(pickArchiveDays([], []).days).toBe(0);
  });

  it('the job is the default space with the stated objective and trials', () => {
    expect(consoleOptimizeJob({ parameters: {} })).toMatchObject({ spaceSource: 'spaces/sr.json', objective: CONSOLE_OPTIMIZE.objective, trials: CONSOLE_OPTIMIZE.trials });
  });
});

describe('the local /optimize runner', () => {
  it('runs npm run optimize over the sample when the archive is short and answers with the job id, what ran and the verdict', async () => {
    const root = mkdtempSync(join(tmpdir(), 'optimize-job-'));
    dirs.push(root);
    // An archive of two days: too short, so the sample (a small real slice here) is used.
    mkdirSync(join(root, 'data', 'artifacts', 'candles', 'DOGEUSDT'), { recursive: true });
    for (const d of ['2026-06-01', '2026-06-02']) writeFileSync(join(root, 'data', 'artifacts', 'candles', 'DOGEUSDT', `${d}.csv`), 'open_time,open,high,low,close,volume\n');
    mkdirSync(join(root, 'sample', 'BTCUSDT'), { recursive: true });
    copyFileSync('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', join(root, 'sample', 'BTCUSDT', '1m-2021-04-18_2021-04-21-slice.csv.gz'));
    // Short folds and few trials so the job runs in seconds.
    const small = ['--trials', '3', '--startup', '2', '--batch', '1', '--train', '0.5', '--test', '0.3', '--embargo', '0.05', '--holdout', '0.3', '--warmup', '0.25', '--min-trades', '1', '--workers', '1'];
    const run = localOptimizeRunner(join(root, 'data'), { sampleDir: join(root, 'sample'), extraArgs: small });
    let resolve!: (s: string) => void;
    const answered = new Promise<string>((r) => (resolve = r));
    const now = await run('optimize-j1', (html) => Promise.resolve(resolve(html)));
    expect(now).toContain('Optimisation queued as job optimize-j1');
    expect(now).toContain('space spaces/sr.json, objective sharpe');
    expect(now).toContain('the candle archive has 2 day(s), fewer than the 22');
    expect(await run('optimize-j2', () => Promise.resolve())).toContain('running already (job optimize-j1)');
    const done = await answered;
    expect(done).toMatch(/^Job optimize-j1 done: walk-forward optimisation of sr \(/);
    expect(done).toContain('Verdict: ');
    const report = join(root, 'data', 'jobs', 'optimize-j1', 'report.html');
    expect(done).toContain(`Report: ${report}`);
    expect(existsSync(report)).toBe(true);
  }, 120_000);
});

describe('/optimize on AWS', () => {
  const day = (i: number): string => new Date(Date.UTC(2026, 4, 1) + i * 86_400_000).toISOString().slice(0, 10);

  it('writes the job (default space, the archive\'s last 30 days of the traded symbols, who waits) and starts one execution', async () => {
    const root = mkdtempSync(join(tmpdir(), 'optimize-aws-'));
    dirs.push(root);
    const store = new LocalFolderStore(root);
    for (let i = 0; i < 35; i++) await store.put(`candles/DOGEUSDT/${day(i)}.csv`, new Uint8Array());
    await store.put(`candles/BTCUSDT/${day(34)}.csv`, new Uint8Array());
    const started: { name: string; input: { runPrefix: string } }[] = [];
    const answer = await startCloudOptimize({ store, space: srSpace, symbols: ['DOGEUSDT', 'PEPEUSDT'], startExecution: (name, input) => (started.push({ name, input }), Promise.resolve(`arn:x:${name}`)) }, 'optimize-a-1');
    expect(started).toHaveLength(1);
    expect(answer).toContain('Optimisation queued as job optimize-a-1');
    expect(answer).toContain(`the candle archive's last 30 days (${day(5)} to ${day(34)}, DOGEUSDT)`);
    const job = await readCloudJob(store, started[0]!.input.runPrefix);
    expect(job?.data).toEqual(Array.from({ length: 30 }, (_, i) => `candles/DOGEUSDT/${day(i + 5)}.csv`));
    expect(job?.symbols).toEqual(['DOGEUSDT']);
    expect(job?.job).toMatchObject({ space: srSpace, objective: 'sharpe', trials: 30 });
    expect(job?.notify?.jobId).toBe('optimize-a-1');
    // The same update again (the execution name is taken): nothing new starts.
    expect(await startCloudOptimize({ store, space: srSpace, symbols: ['DOGEUSDT'], startExecution: () => Promise.resolve(null) }, 'optimize-a-1')).toContain('started already');
  });

  it('refuses, starting nothing, when the archive is shorter than the folds need', async () => {
    const store = new LocalFolderStore(mkdtempSync(join(tmpdir(), 'optimize-aws-')));
    dirs.push(store.root);
    for (let i = 0; i < 21; i++) await store.put(`candles/DOGEUSDT/${day(i)}.csv`, new Uint8Array());
    let starts = 0;
    const answer = await startCloudOptimize({ store, space: srSpace, symbols: [], startExecution: () => Promise.resolve(`arn:${++starts}`) }, 'optimize-a-2');
    expect(starts).toBe(0);
    expect(answer).toContain('needs at least 22 days of archived candles');
    expect(answer).toContain('it has 21');
  });

  it('the report step answers the waiting job through the alerts queue; a failure is answered too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'optimize-aws-'));
    dirs.push(root);
    const store = new LocalFolderStore(join(root, 'bucket'));
    const key = 'research/data/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz';
    mkdirSync(join(root, 'bucket', 'research', 'data', 'BTCUSDT'), { recursive: true });
    copyFileSync('test/fixtures/candles/BTCUSDT/1m-2021-04-18_2021-04-21-slice.csv.gz', join(root, 'bucket', key));
    const job = { ...consoleOptimizeJob(srSpace), trials: 3, startup: 2, batch: 1, trainDays: 0.5, testDays: 0.3, embargoDays: 0.05, holdoutDays: 0.3, warmupDays: 0.25, minTrades: 1 };
    const run = await startOptimizationRun({ store, startExecution: (n) => Promise.resolve(`arn:${n}`) }, { job, data: [key], notify: { jobId: 'optimize-a-3', ran: 'the test slice' } });
    const alerts: AlertEvent[] = [];
    const machine = await playResearchMachine(store, run.runPrefix, join(root, 'tmp'), (e) => Promise.resolve(void alerts.push(e)));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ type: 'alert', severity: 'info', id: 'optimize:job:optimize-a-3', title: 'optimize job optimize-a-3 finished' });
    expect(alerts[0]!.detail).toContain('Job optimize-a-3 done: walk-forward optimisation of sr (the test slice).');
    expect(alerts[0]!.detail).toContain(`Verdict: ${machine.verdict}`);
    expect(alerts[0]!.detail).toContain(`${run.runPrefix}report.html`);

    const control = createControlHandler(() => ({ store, loadData: () => Promise.resolve([]), now: () => 0, alert: (e) => Promise.resolve(void alerts.push(e)) }));
    expect(await control({ action: 'failed', runPrefix: run.runPrefix, error: { Error: 'States.TaskFailed', Cause: 'worker timed out' } }, localContext('t', 'r'))).toEqual({ answered: true });
    expect(alerts[1]).toMatchObject({ severity: 'warning', title: 'optimize job optimize-a-3 failed' });
    expect(alerts[1]!.detail).toContain('States.TaskFailed: worker timed out');
  }, 60_000);
});

describe('where no runner is wired', () => {
  it('/optimize and /backtest say plainly that nothing was queued and what to run instead', async () => {
    const h = consoleHarness();
    const text = async (t: string): Promise<string> => (await h.service.onMessage(1, OPERATOR, { id: OPERATOR, username: 'op' }, t))!.messages[0]!.html;
    const o = await text('/optimize');
    expect(o).toContain('Nothing was queued');
    expect(o).toContain('npm run optimize -- --data');
    const b = await text('/backtest');
    expect(b).toContain('Nothing was queued');
    expect(b).toContain('/optimize runs the research state machine');
    expect(b).toContain('npm run backtest -- --data candles/');
  });
});
