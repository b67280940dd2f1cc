/**
 * `npm start`: for now, a backtest of the bundled real sample (data/sample: DOGEUSDT from MEXC and
 * BTCUSDT from Binance) through the full strategy, risk engine and executor, with a readable
 * summary and the report in out/start/. Paper trading replaces this when the hot path lands.
 * Extra flags are passed to the backtest (e.g. `npm start -- --mode hf --log`).
 */
import { backtestCommand, BACKTEST_USAGE } from '../cli/backtest.js';
import { runMain } from '../cli/main.js';

const extra = process.argv.slice(2);
const args = ['--data', 'data/sample', '--out', 'out/start', ...extra];
console.log('mexc-sr-scalper: backtest of the bundled real sample (data/sample), net of fees and slippage.');
console.log('Paper trading on live data arrives with the hot-path runtime; see README.\n');
await runMain(() => backtestCommand(args, { log: (s) => console.log(s), err: (s) => console.error(s) }), BACKTEST_USAGE);
