/** Entry point of `npm run report`; see cli/report.ts. */
import { reportCommand, REPORT_USAGE } from '../cli/report.js';
import { runMain } from '../cli/main.js';

await runMain(() => reportCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) }), REPORT_USAGE);
