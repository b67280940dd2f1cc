/** Entry point of `npm run signal`; see cli/signal.ts. */
import { runMain } from '../cli/main.js';
import { SIGNAL_USAGE, signalCommand } from '../cli/signal.js';

await runMain(async () => {
  const refused = await signalCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s), env: process.env, stdin: process.stdin });
  if (refused > 0) process.exitCode = 1;
}, SIGNAL_USAGE);
