/** Entry point of `npm run paper`; see cli/paper.ts. */
import { paperCommand, PAPER_USAGE } from '../cli/paper.js';
import { runMain } from '../cli/main.js';

await runMain(() => paperCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), PAPER_USAGE);
