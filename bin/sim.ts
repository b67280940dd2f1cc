/** Entry point of `npm run sim`: the MEXC spot simulator; see cli/sim.ts. */
import { runMain } from '../cli/main.js';
import { simCommand, SIM_USAGE } from '../cli/sim.js';

await runMain(() => simCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), SIM_USAGE);
