/**
 * `npm start`: paper trading on a local embedded setup (fargate/main.ts): public MEXC data when it
 * can be reached, otherwise the simulator in process replaying the bundled sample, with the state in
 * data/local/state, the kill switch in data/local/kill-switch.json and /health, /status on port 8787.
 * `npm start -- --help` lists the flags. The backtest of the sample is `npm run backtest -- --data data/sample --out out/start`.
 */
import { runMain } from '../cli/main.js';
import { runtimeMain, START_USAGE } from '../fargate/main.js';

// The AWS SDK warns on every start that its releases after January 2027 need Node 22. Locally it only
// talks to the embedded dynalite, and the lockfile pins releases that run on Node 20 (the README's
// requirement; Lambda runs Node 22): the warning is noise here. Set the variable to 'false' to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

console.log('mexc-sr-scalper: the hot-path runtime, paper trading (simulated fills) unless --live. Ctrl-C stops gracefully.');
await runMain(() => runtimeMain(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), START_USAGE);
