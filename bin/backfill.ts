/** Entry point of `npm run backfill`; see cli/backfill.ts. */
import { backfillCommand, BACKFILL_USAGE } from '../cli/backfill.js';
import { runMain } from '../cli/main.js';

await runMain(() => backfillCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), BACKFILL_USAGE);
