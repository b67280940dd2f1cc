/** Entry point of `npm run lookahead`; see cli/lookahead.ts. */
import { lookaheadCommand, LOOKAHEAD_USAGE } from '../cli/lookahead.js';
import { runMain } from '../cli/main.js';

await runMain(() => lookaheadCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), LOOKAHEAD_USAGE);
