/**
 * `npm run bench` step 5 (also `node --import tsx bench/optimize.ts [--data <file>] [--out <file>]`):
 * the optimiser's throughput in trials per second, on one and on two worker threads, each trial a
 * full kernel backtest of one 50,000-candle window (the real BTCUSDT 2024-10-01 file when
 * present) with a point of the default S/R space, through the same worker and batch format as
 * `npm run optimize`; and the walk-forward run itself on that window (default folds, 24 trials
 * per fold to bound the time), whose trials are the 10-day training spans. Writes
 * bench/results/optimize.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WorkerPool } from '../services/adapters/workers/pool.js';
import { loadSeries } from '../cli/loadSeries.js';
import { optimizeCommand } from '../cli/optimize.js';
import { SearchSpace } from '../services/research/space.js';
import { HaltonSequence } from '../services/research/search/halton.js';
import { dataRange } from '../services/research/runSpec.js';
import type { TrialBatch, TrialOutcome, TrialTask } from '../services/research/trial.js';

const { values } = parseArgs({ options: { data: { type: 'string' }, out: { type: 'string' }, trials: { type: 'string' } } });
const REAL = '../shared/data/candles/binance-spot/BTCUSDT/1m-2024-10-01_2024-11-04.csv.gz';
const ALT = '../../shared/data/candles/binance-spot/BTCUSDT/1m-2024-10-01_2024-11-04.csv.gz';
const file = resolve(values.data ?? (existsSync(REAL) ? REAL : existsSync(ALT) ? ALT : 'data/sample/DOGEUSDT'));
const n = Number(values.trials ?? 16);
const { series } = loadSeries([file]);
const candles = series.reduce((k, s) => k + s.candles.length, 0);
const range = dataRange(series);
const spaceJson = JSON.parse(readFileSync('spaces/sr.json', 'utf8')) as unknown;
const space = SearchSpace.parse(spaceJson);
const halton = new HaltonSequence(space.dims.length, 1);
const tasks: TrialTask[] = [];
for (let i = 0; tasks.length < n; i++) {
  const values = space.decode(space.fromUnit(halton.point(i)));
  if (!space.config(values).ok) continue;
  tasks.push({ runId: 'bench', trial: tasks.length, fold: 0, phase: 'search', values, config: space.rawConfig(values), strategy: { name: 'sr' }, span: range, warmupMs: 0 });
}

async function pooled(workers: number): Promise<Record<string, number>> {
  const pool = new WorkerPool<TrialBatch, TrialOutcome[]>(new URL('../cli/optimizeWorker.ts', import.meta.url), { size: workers });
  const base = { runId: 'bench', data: [file], symbols: [] };
  // Warm-up: every worker loads the data and compiles the kernel once (not timed).
  await Promise.all(Array.from({ length: workers }, (_, k) => pool.run({ ...base, tasks: [tasks[k % tasks.length] as TrialTask] })));
  const t0 = performance.now();
  const out = await Promise.all(tasks.map((t) => pool.run({ ...base, tasks: [t] })));
  const wall = (performance.now() - t0) / 1000;
  await pool.close();
  const ok = out.flat().filter((o) => o.status === 'ok').length;
  return { workers, trials: tasks.length, ok, wallSeconds: Math.round(wall * 100) / 100, trialsPerSecond: Math.round((tasks.length / wall) * 100) / 100, candlesPerSecond: Math.round((tasks.length * candles) / wall) };
}

process.stderr.write(`bench optimize: ${n} trials of ${candles.toLocaleString('en-US')} candles each, 1 then 2 workers ...\n`);
const one = await pooled(1);
const two = await pooled(2);

process.stderr.write('bench optimize: the walk-forward run on the window (24 trials per fold) ...\n');
const dir = mkdtempSync(join(tmpdir(), 'bench-optimize-'));
const t0 = performance.now();
const run = await optimizeCommand(['--data', file, '--space', 'spaces/sr.json', '--objective', 'sharpe', '--trials', '24', '--workers', '2', '--quiet', '--out', join(dir, 'run')], { log: () => undefined, err: () => undefined });
const wfWall = (performance.now() - t0) / 1000;
rmSync(dir, { recursive: true, force: true });
const wf = run ? { folds: run.report.folds.length, trials: run.report.trials.total, evaluated: run.report.trials.evaluated, wallSeconds: Math.round(wfWall * 10) / 10, trialsPerSecond: Math.round((run.report.trials.total / wfWall) * 100) / 100 } : null;

const report = {
  benchmark: 'optimiser trials per second: full kernel backtests of one 50,000-candle window per trial, through the optimiser worker threads',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
  data: `${file} (${candles.toLocaleString('en-US')} candles)`,
  oneWorker: one,
  twoWorkers: two,
  speedup: Math.round(((two.trialsPerSecond as number) / (one.trialsPerSecond as number)) * 100) / 100,
  walkForward: wf,
  note: 'the machine is shared: the load average is recorded; the walk-forward trials are 10-day training spans (about 14,400 candles) plus the out-of-sample and hold-out runs',
};
const outFile = resolve(values.out ?? 'bench/results/optimize.json');
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
