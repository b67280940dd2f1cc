/** Entry point of `npm run tax`; see cli/tax.ts. */
import { taxCommand, TAX_USAGE } from '../cli/tax.js';
import { runMain } from '../cli/main.js';

await runMain(() => taxCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), TAX_USAGE);
