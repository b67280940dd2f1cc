/** Entry point of `npm run backtest`; see cli/backtest.ts. */
import { backtestCommand, BACKTEST_USAGE } from '../cli/backtest.js';
import { runMain } from '../cli/main.js';

await runMain(() => backtestCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), BACKTEST_USAGE);
