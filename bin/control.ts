/** Entry point of `npm run pause`, `npm run resume` and `npm run stop`; see cli/control.ts. */
import { controlCommand, CONTROL_USAGE } from '../cli/control.js';
import { runMain } from '../cli/main.js';
import { KillSwitchError } from '../services/control/killSwitch.js';

await runMain(async () => {
  try {
    await controlCommand(process.argv.slice(2), { log: (s) => console.log(s), err: (s) => console.error(s) });
  } catch (e) {
    // runMain prints unknown errors with their stack; a file that cannot be written is an
    // operator's problem (permissions, a bad --data-dir), so one line says it.
    if (e instanceof KillSwitchError) {
      console.error(`error: ${e.message}`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}, CONTROL_USAGE);
