/** Entry point of `npm run montecarlo`; see cli/montecarlo.ts. */
import { montecarloCommand, MONTECARLO_USAGE } from '../cli/montecarlo.js';
import { runMain } from '../cli/main.js';

await runMain(() => montecarloCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), MONTECARLO_USAGE);
