/** Entry point of `npm run optimize`; see cli/optimize.ts. */
import { optimizeCommand, OPTIMIZE_USAGE } from '../cli/optimize.js';
import { runMain } from '../cli/main.js';

await runMain(() => optimizeCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), OPTIMIZE_USAGE);
