/** Entry point of `npm run review`; see cli/review.ts. */
import { reviewCommand, REVIEW_USAGE } from '../cli/review.js';
import { runMain } from '../cli/main.js';

await runMain(() => reviewCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), REVIEW_USAGE);
