/**
 * `npm run windows [-- --data-root ../shared/data/candles]`: backtests the standard and HF modes
 * (default config, conservative profile) on a fixed set of real windows from different years and
 * regimes, and prints a Markdown table of the summaries (net of fees and slippage). Each run's
 * full report goes to out/windows/<window>-<mode>/. Parameters are the brief's defaults, not tuned
 * to these windows.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseFlags, type UsageError } from '../cli/args.js';
import { runAndWrite } from '../cli/backtest.js';
import { parseConfig } from '../services/config/schema.js';

const USAGE = `usage: npm run windows [-- --data-root <folder>]

Backtests the standard and HF modes on six fixed real windows and prints a Markdown table of the
summaries; each run's report goes to out/windows/<window>-<mode>/.

  --data-root  folder holding binance-spot/ and mexc-spot/ candle folders (default ../shared/data/candles)`;

let values: { 'data-root'?: string; help?: boolean };
try {
  ({ values } = parseFlags(process.argv.slice(2), { 'data-root': { type: 'string' }, help: { type: 'boolean', short: 'h' } }));
} catch (e) {
  console.error(`error: ${(e as UsageError).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const root = resolve(values['data-root'] ?? '../shared/data/candles');
const WINDOWS: { name: string; regime: string; files: string[] }[] = [
  { name: 'BTC 2021-03/04', regime: '2021 bull market', files: ['binance-spot/BTCUSDT/1m-2021-03-26_2021-04-30.csv.gz'] },
  { name: 'BTC 2022-06/07', regime: '2022 bear market, after the June crash', files: ['binance-spot/BTCUSDT/1m-2022-06-15_2022-07-19.csv.gz'] },
  { name: 'BTC 2023-08/09', regime: '2023 low volatility', files: ['binance-spot/BTCUSDT/1m-2023-08-26_2023-09-29.csv.gz'] },
  { name: 'ETH 2022-12/01', regime: 'ETH, 2022-23 winter', files: ['binance-spot/ETHUSDT/1m-2022-12-01_2023-01-04.csv.gz'] },
  {
    name: '4 symbols 2024-10/11',
    regime: 'BTC, ETH, SOL, XRP on one balance',
    files: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'].map((s) => `binance-spot/${s}/1m-2024-10-01_2024-11-04.csv.gz`),
  },
  { name: 'MEXC DOGE+PEPE 2026-05/06', regime: 'MEXC data, falling market', files: ['mexc-spot/DOGEUSDT/1m-2026-05-20_2026-06-19.csv.gz', 'mexc-spot/PEPEUSDT/1m-2026-05-20_2026-06-19.csv.gz'] },
];

const rows: string[] = [
  '| window | regime | mode | candles | trades | win rate | net return | max DD | profit factor | fees | buy & hold |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
const fmt = (x: number | null, d = 2, suffix = ''): string => (x === null ? 'n/a' : `${x.toFixed(d)}${suffix}`);
for (const w of WINDOWS) {
  const files = w.files.map((f) => join(root, f));
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    console.error(`skip ${w.name}: missing ${missing.join(', ')}`);
    continue;
  }
  for (const mode of ['standard', 'hf'] as const) {
    const outDir = resolve('out/windows', `${w.name.replace(/[^A-Za-z0-9]+/g, '-')}-${mode}`);
    const { summary: s } = await runAndWrite(
      { data: files, outDir, config: parseConfig({ mode }), only: [], log: false, quiet: true },
      { log: () => undefined, err: () => undefined },
    );
    rows.push(
      `| ${w.name} | ${w.regime} | ${mode} | ${s.candles.toLocaleString('en-US')} | ${s.trades} | ${fmt(s.winRate, 1, '%')} | ${fmt(s.netReturnPct, 2, '%')} | ${fmt(s.maxDrawdownPct, 2, '%')} | ${fmt(s.profitFactor)} | ${fmt(s.fees)} | ${fmt(s.buyAndHoldReturnPct, 2, '%')} |`,
    );
    console.error(`done ${w.name} ${mode}`);
  }
}
const table = rows.join('\n');
mkdirSync('out/windows', { recursive: true });
writeFileSync('out/windows/summary.md', table + '\n');
console.log(table);
