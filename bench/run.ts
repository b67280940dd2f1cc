/**
 * `npm run bench [-- --data-root <folder>] [--out <file>]`: five benchmarks, one after the other
 * (backtest, feed, hot path, ML model, optimiser), each writing its JSON under bench/results/.
 * 1. The backtest (this file, scenarios in bench/scenario.ts): throughput and memory of the full
 * kernel (candles, indicators, levels, strategy, risk, executor, matching engine) on real
 * 50,000-candle files, for one symbol and for four at once, in both modes; a bare loop (parse +
 * the indicators the strategy reads) for the ratio; N independent backtests over 1 and 2 worker
 * threads. Writes JSON to bench/results/backtest.json (or --out) and prints it.
 *
 * The data root defaults to ../shared/data/candles/binance-spot (the team's real data); without it
 * the bundled sample is used and the JSON says so. Target: >= 400,000 candles/s per core warm (the
 * backtest is single-threaded, so its rate per CPU second is a per-core rate); 2 workers >= 1.8x 1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseFlags, type UsageError } from '../cli/args.js';

const USAGE = `usage: npm run bench [-- --data-root <folder>] [--out <file>]

Five benchmarks, one after the other, each writing JSON under bench/results/: the backtest
(backtest.json), the MEXC feed (feed.json), the hot path (hotpath.json), the ML model (ml.json)
and the optimiser (optimize.json).

  --data-root  folder of <SYMBOL>/1m-*.csv.gz candle files (default ../shared/data/candles/binance-spot;
               the bundled sample when it is missing)
  --out        where the backtest benchmark's JSON goes (default bench/results/backtest.json)`;

let values: { 'data-root'?: string; out?: string; help?: boolean };
try {
  ({ values } = parseFlags(process.argv.slice(2), { 'data-root': { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }));
} catch (e) {
  console.error(`error: ${(e as UsageError).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const root = resolve(values['data-root'] ?? '../shared/data/candles/binance-spot');
const WINDOW = '1m-2024-10-01_2024-11-04.csv.gz';
const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];
let one: string[];
let four: string[];
let dataNote: string;
if (SYMBOLS.every((s) => existsSync(join(root, s, WINDOW)))) {
  one = [join(root, 'BTCUSDT', WINDOW)];
  four = SYMBOLS.map((s) => join(root, s, WINDOW));
  dataNote = `real Binance spot 1m candles, ${WINDOW}, 50,000 per symbol`;
} else {
  one = ['data/sample/DOGEUSDT'];
  four = ['data/sample/DOGEUSDT', 'data/sample/PEPEUSDT'];
  dataNote = `${root} not found: bundled sample used (DOGEUSDT 43,148 and PEPEUSDT 43,009 candles)`;
}

function scenario(name: string, args: string[]): Record<string, unknown> {
  process.stderr.write(`bench ${name} ...\n`);
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/scenario.ts', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = out.trim().split('\n').pop() ?? '{}';
  return { name, ...(JSON.parse(line) as Record<string, unknown>) };
}

const RUNS = '10';
const kernelOne = scenario('kernel, one symbol, standard', ['kernel', 'standard', RUNS, ...one]);
const bare = scenario('bare loop: parse + the indicators the strategy reads', ['bare', '8', one[0] as string]);
const results = [
  kernelOne,
  scenario('kernel, one symbol, hf', ['kernel', 'hf', RUNS, ...one]),
  scenario('kernel, four symbols on one balance, standard', ['kernel', 'standard', '6', ...four]),
  scenario('kernel, four symbols on one balance, hf', ['kernel', 'hf', '6', ...four]),
  bare,
];
const par1 = scenario('16 independent backtests, 1 worker thread', ['parallel', '1', '16', one[0] as string]);
const par2 = scenario('16 independent backtests, 2 worker threads', ['parallel', '2', '16', one[0] as string]);
const median = (r: Record<string, unknown>, k: string): number => ((r[k] as { median: number } | undefined)?.median ?? 0);
const kernelRate = median(kernelOne, 'candlesPerCpuSecond');
const report = {
  benchmark: 'backtest throughput through the full kernel (candles, indicators, levels, strategy, risk engine, executor, matching engine)',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
  data: dataNote,
  targetCandlesPerSecondPerCore: 400_000,
  aimCandlesPerSecondPerCore: 1_000_000,
  kernelMedianWarmPerCore: kernelRate,
  targetMet: kernelRate >= 400_000,
  ratioKernelToBareLoopWithParse: Math.round((kernelRate / median(bare, 'parseAndIndicatorsPerCpuSecond')) * 1000) / 1000,
  ratioKernelToIndicatorsOnly: Math.round((kernelRate / median(bare, 'indicatorsOnlyPerCpuSecond')) * 1000) / 1000,
  parallel: { oneWorker: par1, twoWorkers: par2, speedup: Math.round(((par2.candlesPerWallSecond as number) / (par1.candlesPerWallSecond as number)) * 100) / 100, target: 1.8 },
  results,
};
const outFile = resolve(values.out ?? 'bench/results/backtest.json');
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify(report, null, 2) + '\n');
console.log(JSON.stringify(report, null, 2));
console.error(`written to ${outFile}`);

// 2. The MEXC feed (bench/feed.ts): frames per core and frame-to-order latency, bench/results/feed.json.
execFileSync(process.execPath, ['--import', 'tsx', 'bench/feed.ts'], { stdio: 'inherit' });

// 3. The hot path (bench/hotpath.ts): memory with 15 symbols on 4 timeframes, closed candle to order
//    request, bench/results/hotpath.json.
execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/hotpath.ts'], { stdio: 'inherit' });

// 4. The ML model (bench/ml.ts): inference latency with Monte Carlo dropout, training time per
//    epoch, bench/results/ml.json.
execFileSync(process.execPath, ['--import', 'tsx', 'bench/ml.ts'], { stdio: 'inherit' });

// 5. The optimiser (bench/optimize.ts): trials per second on one and two worker threads for a
//    50,000-candle window, and a walk-forward run on it, bench/results/optimize.json.
execFileSync(process.execPath, ['--import', 'tsx', 'bench/optimize.ts'], { stdio: 'inherit' });
