/**
 * `npm start`: paper trading on a local embedded setup (fargate/main.ts): public MEXC data when it
 * can be reached, otherwise the simulator in process replaying the bundled sample, with the state in
 * data/local/state, the kill switch in data/local/kill-switch.json and /health, /status on port 8787.
 * `npm start -- --help` lists the flags. The backtest of the sample is `npm run backtest -- --data data/sample --out out/start`.
 */
import { runMain } from '../cli/main.js';
import { runtimeMain, START_USAGE } from '../fargate/main.js';

console.log('mexc-sr-scalper: the hot-path runtime, paper trading (simulated fills) unless --live. Ctrl-C stops gracefully.');
await runMain(() => runtimeMain(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), START_USAGE);
