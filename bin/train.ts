/** Entry point of `npm run train`; see cli/train.ts. */
import { trainCommand, TRAIN_USAGE } from '../cli/train.js';
import { runMain } from '../cli/main.js';

await runMain(() => trainCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), TRAIN_USAGE);
